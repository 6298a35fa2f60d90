"""Build the embedded demo town, save it, render it, and run the ready scenarios on it.

Needs no download: the town is generated, deterministically, from a seed.
Writes DIR/town.twin (the twin), DIR/overview.png (the town as an elected official
sees it), for each scenario of the library DIR/<scenario>/ with results,
indicators, pictures and report.html, and DIR/index.html linking every report.
Scenarios whose kind is not available in this version are skipped with a message.
"""

from __future__ import annotations

from pathlib import Path

from scenarios.cli.options import add_lang, add_out, add_overwrite, add_size

HELP = "build the demo town and run the ready scenarios on it"


def add_arguments(parser) -> None:
    add_out(parser, required=False, help="output directory (default: ./jumeau-demo)")
    parser.add_argument("--seed", type=int, default=2023, help="seed of the generated town (default: 2023)")
    parser.add_argument("--cell-size", type=float, default=1.0, metavar="M", help="cell size in metres (default: 1)")
    parser.add_argument(
        "--town-size",
        type=float,
        default=1000.0,
        metavar="M",
        help="side of the square town in metres, 250 to 2000 (default: 1000; 300 is quick)",
    )
    parser.add_argument(
        "--scenarios",
        metavar="NAMES",
        help="comma-separated ready scenarios to run (default: all; 'none' to only build the town)",
    )
    parser.add_argument("--no-render", action="store_true", help="skip the pictures")
    add_size(parser)
    add_lang(parser)
    add_overwrite(parser)


def run(args) -> int:
    import time

    from importers.demo import build_demo_town
    from twin.errors import TwinExistsError
    from twin.io import save
    from twin.progress import status

    out = Path(args.out or "jumeau-demo")
    twin_path = out / "town.twin"
    if twin_path.exists() and not args.overwrite:
        raise TwinExistsError(f"{out}: holds a demo already (use --overwrite to replace it)")
    names = _selected(args.scenarios)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    status(f"building the demo town (seed {args.seed}, {args.town_size:g} m, {args.cell_size:g} m cells)")
    town = build_demo_town(seed=args.seed, cell_size=args.cell_size, size=args.town_size)
    save(town, twin_path, overwrite=True)
    build_s = time.perf_counter() - t0
    status(
        f"saved {twin_path}: {town.grid.nrows} x {town.grid.ncols} cells, {len(town.buildings)} buildings, "
        f"{len(town.luminaires)} luminaires"
    )
    overview = None
    if not args.no_render:
        from twin.render import render_twin

        overview = render_twin(town, out / "overview.png", size=args.size, view="overview", lang=args.lang)
        status(f"rendered {overview}")
    entries, failed = run_library(
        town, twin_path, out, names, overwrite=args.overwrite, render=not args.no_render, lang=args.lang, size=args.size
    )
    from scenarios.report import write_index

    index = write_index(
        out, entries, lang=args.lang, overview=overview, town=town, timings={"build_town": round(build_s, 3)}
    )
    status(f"wrote {index}")
    return 1 if failed else 0


def _selected(text: str | None) -> list[str]:
    from scenarios import library

    names = library.list()
    if text is None:
        return names
    if text.strip() == "none":
        return []
    chosen = [n.strip() for n in text.split(",") if n.strip()]
    for n in chosen:
        library.path(n)  # a clear error for a name that is not there
    return chosen


def run_library(
    town, twin_path, out: Path, names, *, overwrite: bool, render: bool, lang: str, size
) -> tuple[list, int]:
    """Run ready scenarios on a town into ``out/<name>``; return the index entries and the number of failures.

    A scenario whose kind is not available is skipped with a message; one that fails is
    reported on one line and the others still run.
    """
    import traceback

    from scenarios import library
    from scenarios.runner import run_scenario
    from scenarios.scenario import KindUnavailableError
    from twin.errors import TwinError
    from twin.progress import progress, status

    entries = []
    failed = 0
    for name in progress(names, "running the ready scenarios"):
        entry = {"name": name, "title": name, "kind": "", "status": "ok", "message": "", "indicators": []}
        try:
            scenario = library.load(name)
            entry.update(title=scenario.name, kind=scenario.kind)
            run = run_scenario(
                scenario,
                twin=town,
                twin_path=twin_path,
                out_dir=out / name,
                overwrite=overwrite,
                render=render,
                lang=lang,
                size=size,
            )
            entry["indicators"] = [i.to_dict() for i in run.indicators]
            entry["timings"] = run.timings
            entry["report"] = f"{name}/report.html" if (out / name / "report.html").exists() else ""
            status(f"{name}: done in {sum(run.timings.values()):.1f} s")
        except KindUnavailableError as err:
            entry.update(status="skipped", message=str(err).split(": ", 1)[-1])
            status(f"{name}: skipped ({entry['message']})")
        except Exception as err:  # one failing scenario must not stop the others
            failed += 1
            entry.update(status="failed", message=f"{type(err).__name__}: {err}")
            status(f"{name}: failed ({entry['message']})")
            if not isinstance(err, TwinError):
                status("".join(traceback.format_exception_only(type(err), err)).strip())
        entries.append(entry)
    return entries, failed
