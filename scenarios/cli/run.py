"""Run a scenario file: baseline and scenario on the twin, results, pictures and report in DIR.

Writes DIR atomically (nothing is left behind on an error or Ctrl-C): one
Cloud-Optimised GeoTIFF per result layer (baseline/, scenario/, difference/),
buildings.gpkg, indicators.json/.csv, run.json, pictures/ and report.html.
A baseline computed before on the same twin, kind, forcing and parameters is
reused from the cache ($JUMEAU_CACHE_DIR, default ~/.cache/jumeau).
"""

from __future__ import annotations

from scenarios.cli.options import add_lang, add_out, add_overwrite, add_size

HELP = "run a scenario file (baseline and scenario) and write its results"


def add_arguments(parser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO.toml", help="scenario file (or the name of a ready scenario)")
    parser.add_argument("--twin", metavar="T", help='twin to run on: a saved twin or "demo" (overrides the file)')
    add_out(parser)
    add_overwrite(parser)
    add_lang(parser)
    add_size(parser)
    parser.add_argument("--no-render", action="store_true", help="skip the pictures")
    parser.add_argument("--no-cache", action="store_true", help="recompute the baseline even if it is cached")


def resolve_scenario_path(text: str):
    """A scenario file path, or the file of a ready scenario of the library named so."""
    from pathlib import Path

    from scenarios import library

    p = Path(text)
    if p.exists() or p.suffix == ".toml" or "/" in text:
        return p
    names = library.list()
    if text in names:
        return library.path(text)
    import difflib

    from twin.errors import TwinFileNotFoundError

    close = difflib.get_close_matches(text, names, n=1)
    hint = (
        f" (did you mean the ready scenario {close[0]!r}?)"
        if close
        else f" (ready scenarios: {', '.join(names)})"
        if names
        else ""
    )
    raise TwinFileNotFoundError(f"{text}: no such scenario file or ready scenario{hint}")


def run(args) -> int:
    from scenarios.runner import run_scenario
    from scenarios.scenario import load_scenario
    from twin.progress import status

    scenario = load_scenario(resolve_scenario_path(args.scenario))
    result = run_scenario(
        scenario,
        twin=args.twin,
        out_dir=args.out,
        overwrite=args.overwrite,
        render=not args.no_render,
        lang=args.lang,
        size=args.size,
        reuse_baseline=not args.no_cache,
    )
    for ind in result.indicators:
        unit = ind.unit if ind.unit != "1" else ""
        status(f"  {ind.text(args.lang)}: {_fmt(ind.baseline)} -> {_fmt(ind.scenario)} {unit}")
    status(f"wrote {args.out} ({sum(result.timings.values()):.1f} s)")
    return 0


def _fmt(v) -> str:
    return "–" if v is None else f"{v:.4g}"
