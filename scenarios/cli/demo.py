"""Build the embedded demo town, save it, render it, and run the ready scenarios on it.

Needs no download: the town is generated, deterministically, from a seed.
Writes DIR/town.twin (the twin), DIR/overview.png (the town as an elected official
sees it) and, for each scenario of the library, DIR/<scenario>/ with results,
indicators and pictures.
"""

from __future__ import annotations

from pathlib import Path

from scenarios.cli.options import add_lang, add_out, add_overwrite, add_size

HELP = "build the demo town and run the ready scenarios on it"


def add_arguments(parser) -> None:
    add_out(parser, required=False, help="output directory (default: ./jumeau-demo)")
    parser.add_argument("--seed", type=int, default=2023, help="seed of the generated town (default: 2023)")
    parser.add_argument("--cell-size", type=float, default=1.0, metavar="M", help="cell size in metres (default: 1)")
    parser.add_argument("--no-render", action="store_true", help="skip the pictures")
    add_size(parser)
    add_lang(parser)
    add_overwrite(parser)


def run(args) -> int:
    from importers.demo import build_demo_town
    from twin.io import save
    from twin.progress import status

    out = Path(args.out or "jumeau-demo")
    out.mkdir(parents=True, exist_ok=True)
    status(f"building the demo town (seed {args.seed}, {args.cell_size:g} m cells)")
    town = build_demo_town(seed=args.seed, cell_size=args.cell_size)
    twin_path = out / "town.twin"
    save(town, twin_path, overwrite=True)
    status(f"saved {twin_path}: {town.grid.nrows} x {town.grid.ncols} cells, {len(town.buildings)} buildings, "
           f"{len(town.luminaires)} luminaires")
    if not args.no_render:
        from twin.render import render_twin

        png = render_twin(town, out / "overview.png", size=args.size, view="overview", lang=args.lang)
        status(f"rendered {png}")
    return 0
