"""Draw the pictures of a saved run again, from its files, without recomputing.

The twin is reopened (and checked against the hash recorded in run.json), the
interventions are applied again, and the kind draws the saved results. Pictures go
to RUN/pictures (the report is rewritten) or to --out.
"""

from __future__ import annotations

from scenarios.cli.options import add_lang, add_size

HELP = "draw a saved run's pictures again (no recomputation)"
VIEWS = ("overview", "street", "top", "side_by_side")


def add_arguments(parser) -> None:
    parser.add_argument("run_dir", metavar="RUN", help="a run folder written by 'twin run'")
    parser.add_argument(
        "--view",
        metavar="VIEW",
        help="camera of the pictures, e.g. " + ", ".join(VIEWS) + " (default: the kind's own set)",
    )
    parser.add_argument("--out", "-o", metavar="DIR", help="write the pictures here instead of RUN/pictures")
    parser.add_argument("--twin", metavar="T", help="the twin, when the run was made on one held in memory")
    add_size(parser)
    add_lang(parser)


def run(args) -> int:
    from scenarios.saved import render_run
    from twin.progress import status

    twin = None
    if args.twin:
        from twin.io import open_twin

        twin = open_twin(args.twin)
    paths = render_run(args.run_dir, view=args.view, size=args.size, lang=args.lang, out=args.out, twin=twin)
    for p in paths:
        status(f"wrote {p}")
    return 0
