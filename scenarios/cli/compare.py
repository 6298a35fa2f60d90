"""Compare the indicators of several runs side by side; with --out, write the table
(CSV, JSON, Markdown) and the difference maps (GeoTIFF and PNG) of the layers the runs share."""

from __future__ import annotations

from scenarios.cli.options import add_lang, add_overwrite

HELP = "compare the indicators and maps of several runs"


def add_arguments(parser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN", help="run folders written by 'twin run' (two or more)")
    parser.add_argument("--out", "-o", metavar="DIR", help="write comparison.csv/.json/.md and difference maps here")
    parser.add_argument("--no-maps", action="store_true", help="skip the PNG maps of the differences")
    add_lang(parser)
    add_overwrite(parser)


def run(args) -> int:
    from scenarios.saved import compare_runs, comparison_markdown
    from twin.errors import TwinValueError
    from twin.progress import status

    if len(args.runs) < 2:
        raise TwinValueError("compare needs at least two runs")
    table = compare_runs(args.runs, out=args.out, lang=args.lang, overwrite=args.overwrite, maps=not args.no_maps)
    print(comparison_markdown(table), end="")
    if args.out:
        status(f"wrote {args.out}")
    return 0
