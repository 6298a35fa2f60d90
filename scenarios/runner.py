"""The scenario runner: baseline and scenario on one twin, results in open formats.

Like pvlib's ``ModelChain``, the runner only orchestrates: the physics lives in the kind
(:class:`~scenarios.kinds.base.Kind`), which parses its sections, applies interventions to a
*copy* of the twin and simulates. The runner adds what every kind needs identically:

1. resolve the twin (``"demo"``, a saved twin, or a :class:`~twin.core.Twin` given by the caller);
2. run the **baseline** (the twin as it is, the scenario's forcing, no intervention), or reuse it
   from the baseline cache, keyed by a hash of twin + kind + forcing + parameters + code;
3. apply the interventions to a copy and run the **scenario**;
4. check that the baseline twin is byte-identical to what it was (a kind that modified it is a
   bug, reported as such rather than a silently wrong comparison);
5. compare the indicators, compute difference layers;
6. write everything into the output directory **atomically** (a temporary directory renamed at
   the end: an error or Ctrl-C leaves no half output): COGs, ``buildings.gpkg``,
   ``indicators.json``/``.csv``, ``run.json`` (scenario text, twin hash, versions, timings,
   models with their references, provenance), pictures and ``report.html``.

Output layout::

    RUN/
      run.json  indicators.json  indicators.csv  buildings.gpkg  report.html
      baseline/<layer>.tif  scenario/<layer>.tif  difference/<layer>.tif
      baseline/result.json  scenario/result.json   (see scenarios.results)
      pictures/*.png
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import xarray as xr

from scenarios.kinds.base import KindResult
from scenarios.results import (
    digest_changes,
    load_result,
    save_result,
    to_json,
    twin_digest,
    twin_hash,
    write_cogs,
    write_json,
)
from scenarios.scenario import Scenario, load_scenario
from twin.core import Twin, layer_dataarray
from twin.errors import TwinExistsError, TwinIOError, TwinRuntimeError, TwinValueError
from twin.io import atomic_dir, atomic_output, now_iso
from twin.progress import status

__all__ = [
    "run_scenario",
    "RunResult",
    "IndicatorChange",
    "compare_indicators",
    "difference_layers",
    "default_cache_dir",
    "baseline_key",
    "versions",
    "RUN_FILE",
    "INDICATORS_FILE",
]

RUN_FILE = "run.json"
INDICATORS_FILE = "indicators.json"
RUN_FORMAT = "jumeau-run"

#: Relative tolerance under which a change of an indicator counts as "unchanged".
_SAME_RTOL = 1e-9


@dataclass(frozen=True)
class IndicatorChange:
    """One headline number, before and after.

    Attributes
    ----------
    name, unit, better : str
    label : dict
        ``{"en": ..., "fr": ...}``.
    baseline, scenario, difference : float or None
        None where one side does not report the indicator.
    """

    name: str
    label: dict
    unit: str
    baseline: float | None
    scenario: float | None
    difference: float | None
    better: str = ""

    @property
    def value(self) -> float | None:
        """The scenario's value."""
        return self.scenario

    @property
    def change(self) -> str:
        """``"better"``, ``"worse"``, ``"unchanged"`` or ``""`` (neutral or unknown)."""
        d = self.difference
        if d is None or not np.isfinite(d):
            return ""
        scale = max(abs(self.baseline or 0.0), abs(self.scenario or 0.0), 1e-300)
        if abs(d) <= _SAME_RTOL * scale:
            return "unchanged"
        if self.better == "lower":
            return "better" if d < 0 else "worse"
        if self.better == "higher":
            return "better" if d > 0 else "worse"
        return ""

    def text(self, lang: str = "en") -> str:
        return self.label.get(lang) or self.label.get("en") or self.name

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "label": dict(self.label),
            "value": self.value,
            "unit": self.unit,
            "baseline": self.baseline,
            "scenario": self.scenario,
            "difference": self.difference,
            "better": self.better,
            "change": self.change,
        }


def _num(v) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if np.isfinite(v) else None


def compare_indicators(baseline: KindResult, scenario: KindResult) -> list[IndicatorChange]:
    """Pair the indicators of two results by name (scenario order first, then baseline-only ones)."""
    base = {i.name: i for i in baseline.indicators}
    scen = {i.name: i for i in scenario.indicators}
    out = []
    for name in list(scen) + [n for n in base if n not in scen]:
        s, b = scen.get(name), base.get(name)
        ref = s or b
        if s is not None and b is not None and s.unit != b.unit:
            raise TwinRuntimeError(
                f"indicator {name!r} has unit {b.unit!r} in the baseline and {s.unit!r} in the scenario"
            )
        sv, bv = _num(s.value) if s else None, _num(b.value) if b else None
        diff = sv - bv if sv is not None and bv is not None else None
        out.append(
            IndicatorChange(
                name=name,
                label=dict(ref.label),
                unit=ref.unit,
                baseline=bv,
                scenario=sv,
                difference=diff,
                better=ref.better,
            )
        )
    return out


def difference_layers(baseline: KindResult, scenario: KindResult) -> dict[str, xr.DataArray]:
    """``scenario - baseline`` for every floating-point layer both results have, with the same units."""
    out = {}
    for name, s in scenario.layers.items():
        b = baseline.layers.get(name)
        if b is None or s.dtype.kind != "f" or b.dtype.kind != "f" or s.shape != b.shape:
            continue
        diff = (np.asarray(s.values, dtype=np.float64) - np.asarray(b.values, dtype=np.float64)).astype(s.dtype)
        attrs = {k: v for k, v in s.attrs.items() if k not in ("long_name",)}
        da = xr.DataArray(diff, dims=s.dims, coords=s.coords, name=name, attrs=attrs)
        da.attrs["long_name"] = f"change in {s.attrs.get('long_name', name)} (scenario - baseline)"
        out[name] = da
    return out


@dataclass
class RunResult:
    """What :func:`run_scenario` returns.

    Attributes
    ----------
    scenario : Scenario
    twin, scenario_twin : Twin
        The baseline twin (unchanged) and the copy with the interventions applied.
    baseline, result : KindResult
    indicators : list of IndicatorChange
    differences : dict of str to DataArray
    timings : dict of str to float
        Seconds per step.
    record : dict
        The content of ``run.json``.
    out_dir : Path or None
    pictures : list of Path
    baseline_reused : bool
        Whether the baseline came from the cache.
    """

    scenario: Scenario
    twin: Twin
    scenario_twin: Twin
    baseline: KindResult
    result: KindResult
    indicators: list[IndicatorChange]
    differences: dict[str, xr.DataArray]
    timings: dict[str, float]
    record: dict
    out_dir: Path | None = None
    pictures: list[Path] = field(default_factory=list)
    baseline_reused: bool = False

    def indicator(self, name: str) -> IndicatorChange:
        for i in self.indicators:
            if i.name == name:
                return i
        raise KeyError(f"no indicator {name!r}; the run has {', '.join(i.name for i in self.indicators)}")

    def indicator_table(self, lang: str = "en") -> pd.DataFrame:
        """The indicators as a DataFrame (one row each: label, unit, baseline, scenario, difference, change)."""
        rows = [
            {
                "name": i.name,
                "label": i.text(lang),
                "unit": i.unit,
                "baseline": i.baseline,
                "scenario": i.scenario,
                "difference": i.difference,
                "change": i.change,
            }
            for i in self.indicators
        ]
        return (
            pd.DataFrame(rows).set_index("name")
            if rows
            else pd.DataFrame(columns=["label", "unit", "baseline", "scenario", "difference", "change"])
        )

    def _repr_html_(self) -> str:  # a notebook shows the table
        return f"<h4>{self.scenario.name}</h4>" + self.indicator_table().to_html(float_format=lambda v: f"{v:.4g}")


# -- versions, caches, keys -------------------------------------------------------------------------------
_DEPENDENCIES = (
    "numpy",
    "scipy",
    "numba",
    "xarray",
    "pandas",
    "rasterio",
    "pyproj",
    "shapely",
    "geopandas",
    "pyogrio",
    "pyvista",
    "vtk",
    "pvlib",
    "matplotlib",
    "pillow",
)


def versions() -> dict[str, str]:
    """Versions of jumeau, Python, GDAL/PROJ and the dependencies that shape results."""
    out = {"jumeau": _version("jumeau"), "python": platform.python_version(), "platform": platform.platform()}
    for name in _DEPENDENCIES:
        out[name] = _version(name)
    with contextlib.suppress(Exception):
        import rasterio

        out["gdal"] = rasterio.__gdal_version__
    with contextlib.suppress(Exception):
        import pyproj

        out["proj"] = pyproj.proj_version_str
    return out


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def default_cache_dir() -> Path:
    """Where baselines are cached: ``$JUMEAU_CACHE_DIR``, else ``$XDG_CACHE_HOME/jumeau``, else ``~/.cache/jumeau``."""
    env = os.environ.get("JUMEAU_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "jumeau"


def _code_hash(kind) -> str:
    """Hash of the code a kind's results depend on: its module (or package) and ``simulation/``.

    Keeps the baseline cache honest while the code changes between releases.
    """
    h = hashlib.sha256()
    mod = sys.modules.get(type(kind).__module__)
    roots = []
    if mod is not None and getattr(mod, "__file__", None):
        f = Path(mod.__file__)
        roots.append(f.parent if f.name == "__init__.py" else f)
    import simulation

    roots.append(Path(simulation.__file__).parent)
    for root in roots:
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for f in files:
            h.update(str(f.name).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def baseline_key(twin_sha: str, scenario: Scenario) -> str:
    """The cache key of a baseline: twin, kind, forcing, parameters, code, jumeau version."""
    kind = scenario.kind_object
    payload = to_json(
        {
            "twin": twin_sha,
            "kind": scenario.kind,
            "forcing": scenario.forcing,
            "parameters": scenario.parameters,
            "code": _code_hash(kind),
            "jumeau": _version("jumeau"),
        }
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


# -- the twin ---------------------------------------------------------------------------------------------------
def _resolve_twin(scenario: Scenario, twin, twin_path=None) -> tuple[Twin, dict]:
    if isinstance(twin, Twin):
        if twin_path is not None:
            return twin, {"source": "path", "path": str(Path(twin_path).resolve()), "name": twin.name}
        return twin, {"source": "memory", "path": None, "name": twin.name}
    target = twin if twin is not None else scenario.twin
    if target is None:
        raise TwinValueError(
            f'{scenario.source}: the scenario names no twin (add twin = "demo" or a path, or pass --twin)'
        )
    if isinstance(target, str) and target == "demo":
        from importers.demo import build_demo_town

        town = build_demo_town()
        return town, {"source": "demo", "path": None, "name": town.name, "builder": "importers.demo.build_demo_town"}
    from twin.io import open_twin

    path = Path(target).expanduser().resolve()
    t = open_twin(path)
    return t, {"source": "path", "path": str(path), "name": t.name}


class _Clock:
    def __init__(self):
        self.timings: dict[str, float] = {}

    @contextlib.contextmanager
    def step(self, name: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - t0, 4)


# -- the run --------------------------------------------------------------------------------------------------------
def run_scenario(
    scenario,
    *,
    twin: Twin | str | Path | None = None,
    twin_path=None,
    out_dir=None,
    reuse_baseline: bool = True,
    overwrite: bool = False,
    render: bool = True,
    report: bool = True,
    lang: str = "en",
    size: tuple[int, int] = (1600, 1000),
    cache_dir=None,
) -> RunResult:
    """Run a scenario's baseline and scenario on a twin and (optionally) write the results.

    Parameters
    ----------
    scenario : Scenario or path
        A parsed scenario, or the path of a scenario file.
    twin : Twin, path or "demo", optional
        Overrides the scenario's ``twin``. A Twin object is never modified.
    twin_path : path, optional
        Where the Twin object given as ``twin`` is saved: recorded in ``run.json`` so that
        ``twin render`` can reopen it (the hash is checked).
    out_dir : path, optional
        Where to write the results (atomically). Without it nothing is written but the cache.
    reuse_baseline : bool
        Reuse a cached baseline computed on the same twin, kind, forcing, parameters and code.
    overwrite : bool
        Replace ``out_dir`` if it exists.
    render, report : bool
        Draw the pictures (``Kind.render``) and write ``report.html``; the scenario's
        ``[outputs] pictures/report = false`` turn them off too.
    lang : "en" or "fr"
    size : (width, height)
        Picture size in pixels.
    cache_dir : path, optional
        Baseline cache (default :func:`default_cache_dir`); ``False`` disables the cache.

    Returns
    -------
    RunResult

    Raises
    ------
    TwinExistsError
        If ``out_dir`` exists and ``overwrite`` is false (checked before any computation).
    TwinValueError
        On a bad scenario or a layer named in ``[outputs] layers`` that the kind does not produce.
    TwinRuntimeError
        If the kind modified the baseline twin, or produced a layer without units.
    """
    clock = _Clock()
    started = now_iso()
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None and out.exists() and not overwrite:
        raise TwinExistsError(f"{out}: exists (use --overwrite to replace it)")
    kind = scenario.kind_object
    with clock.step("twin"):
        base_twin, twin_info = _resolve_twin(scenario, twin, twin_path)
        digest_before = twin_digest(base_twin)
        sha_before = twin_hash(base_twin, digest_before)
    twin_info["hash"] = sha_before
    key = baseline_key(sha_before, scenario)
    cache = None if cache_dir is False else Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cached_dir = cache / "baselines" / key if cache is not None else None

    baseline: KindResult | None = None
    reused = False
    if reuse_baseline and cached_dir is not None and (cached_dir / "result.json").is_file():
        with clock.step("baseline (cached)"):
            try:
                baseline, _ = load_result(cached_dir)
                reused = True
            except TwinIOError as err:  # a damaged cache entry is recomputed, not trusted
                status(f"ignoring a damaged cached baseline ({err})")
                baseline = None
    if baseline is None:
        status(f"{scenario.name}: baseline ({kind.name})")
        with clock.step("baseline"):
            baseline = kind.simulate(_isolated(base_twin), scenario.baseline_config)
    with clock.step("interventions"):
        scen_twin = kind.apply_interventions(_isolated(base_twin), scenario.config)
    status(f"{scenario.name}: scenario ({len(scenario.interventions)} intervention(s))")
    with clock.step("scenario"):
        result = kind.simulate(scen_twin, scenario.config)
    with clock.step("checks"):
        digest_after = twin_digest(base_twin)
        if digest_after != digest_before:
            raise TwinRuntimeError(
                f"kind {kind.name!r} modified the baseline twin ({digest_changes(digest_before, digest_after)}); "
                f"interventions and caches must go to a copy"
            )
        _check_result(kind.name, "baseline", baseline, base_twin)
        _check_result(kind.name, "scenario", result, scen_twin)
        wanted = scenario.outputs.get("layers")
        if wanted is not None:
            missing = [n for n in wanted if n not in result.layers]
            if missing:
                where = scenario.lines.get(("outputs", "layers"))
                loc = f"{scenario.source}:{where}:" if where else f"{scenario.source}:"
                raise TwinValueError(
                    f"{loc} layer {missing[0]!r} in [outputs] layers is not a result of kind "
                    f"{kind.name!r} (it produces {', '.join(result.layers) or 'no layers'})"
                )
        indicators = compare_indicators(baseline, result)
        differences = difference_layers(baseline, result)

    record = {
        "format": RUN_FORMAT,
        "format_version": 1,
        "name": scenario.name,
        "description": scenario.description,
        "kind": scenario.kind,
        "started": started,
        "scenario": {
            "path": str(scenario.path.resolve()) if scenario.path else None,
            "text": scenario.text,
            "data": scenario.data(),
            "slug": scenario.slug,
        },
        "twin": {**twin_info, "summary": _twin_brief(base_twin)},
        "scenario_twin_hash": twin_hash(scen_twin),
        "baseline": {"cache_key": key, "reused": reused},
        "forcing": scenario.forcing,
        "parameters": scenario.parameters,
        "interventions": list(scenario.interventions),
        "models": _models(result.meta) or _models(baseline.meta),
        "assumptions": _assumptions(result.meta, baseline.meta),
        "meta": {"baseline": baseline.meta, "scenario": result.meta},
        "provenance": base_twin.meta.get("provenance", []),
        "indicators": [i.to_dict() for i in indicators],
        "versions": versions(),
        "lang": lang,
    }
    run = RunResult(
        scenario=scenario,
        twin=base_twin,
        scenario_twin=scen_twin,
        baseline=baseline,
        result=result,
        indicators=indicators,
        differences=differences,
        timings=clock.timings,
        record=record,
        out_dir=out,
        baseline_reused=reused,
    )
    if out is not None:
        _write_run(
            run,
            out,
            clock,
            overwrite=overwrite,
            render=render and bool(scenario.outputs.get("pictures", True)),
            report=report and scenario.outputs.get("report", True),
            lang=lang,
            size=size,
        )
    record["timings"] = clock.timings
    if cache is not None and not reused:
        _store_baseline(baseline, base_twin, cached_dir, out if scenario.outputs.get("layers") is None else None)
    return run


def _isolated(twin: Twin) -> Twin:
    """A shallow copy of a twin for a kind to work on: same arrays, its own Dataset, table dict and meta.

    A kind that adds or replaces layers or tables (a cache of sky-view factors, say) does so on
    the copy and never reaches the caller's twin; a kind that writes *into* the shared arrays or
    tables is still caught by the hash check after the run. Costs no array copy.
    """
    return twin.copy(deep=False)


def _check_result(kind: str, part: str, result: KindResult, twin: Twin) -> None:
    """Refuse results without units or off the grid; give every layer the twin's coordinates and CRS."""
    if not isinstance(result, KindResult):
        raise TwinRuntimeError(f"kind {kind!r} returned {type(result).__name__} for the {part}, not a KindResult")
    for name, da in list(result.layers.items()):
        attrs = dict(getattr(da, "attrs", {}))
        if "units" not in attrs:
            raise TwinRuntimeError(f"kind {kind!r}: {part} layer {name!r} has no units")
        if tuple(np.shape(da)) != twin.grid.shape:
            raise TwinRuntimeError(
                f"kind {kind!r}: {part} layer {name!r} has shape {np.shape(da)}, the twin {twin.grid.shape}"
            )
        if not isinstance(da, xr.DataArray):
            units, long_name = attrs.pop("units"), attrs.pop("long_name", name)
            attrs.pop("grid_mapping", None)
            values = np.asarray(getattr(da, "values", da))
            try:
                result.layers[name] = layer_dataarray(
                    twin.grid, name, values, units=units, long_name=long_name, **attrs
                )
            except TwinValueError as err:
                raise TwinRuntimeError(f"kind {kind!r}: {part} layer {name!r}: {err}") from err


def _models(meta: dict) -> list:
    """The models that ran, with their references, from a kind's meta.

    Accepts ``meta["models"]`` (a list of ``{"name", "reference(s)"}`` or a dict name -> reference),
    or ``meta["model"]`` (a name, or a dict with ``model``/``name`` and ``references``) with
    ``meta["references"]``.
    """
    models = meta.get("models")
    if isinstance(models, dict):
        return [{"name": k, **(v if isinstance(v, dict) else {"references": v})} for k, v in models.items()]
    if isinstance(models, list):
        return [m if isinstance(m, dict) else {"name": str(m)} for m in models]
    model = meta.get("model")
    refs = meta.get("references")
    if isinstance(model, dict):
        name = model.get("model") or model.get("name") or ""
        refs = model.get("references") or model.get("reference") or refs
        return [{"name": name, "references": refs or []}]
    if model:
        return [{"name": str(model), "references": refs or []}]
    if refs:
        return [{"name": "", "references": refs}]
    return []


_ASSUMPTION_KEYS = ("assumptions", "defaults", "defaults_applied", "warnings", "notes")


def _assumptions(*metas) -> list:
    """Defaults, assumptions, warnings and notes the kinds recorded in their meta (searched 3 levels deep).

    A kind records every default it applies (no silent physical default): under any of the keys
    ``assumptions``, ``defaults``, ``defaults_applied``, ``warnings`` or ``notes``.
    """
    out: list = []

    def add(prefix: str, val) -> None:
        if isinstance(val, dict):
            items = [f"{prefix}{k} = {v}" for k, v in val.items()]
        elif isinstance(val, (list, tuple)):
            items = [
                prefix + (", ".join(f"{k}: {x}" for k, x in v.items()) if isinstance(v, dict) else str(v)) for v in val
            ]
        elif val:
            items = [f"{prefix}{val}"]
        else:
            items = []
        for it in items:
            if it not in out:
                out.append(it)

    def walk(d: dict, path: str, depth: int) -> None:
        for k, v in d.items():
            if k in _ASSUMPTION_KEYS:
                add(f"{path}: " if path else "", v)
            elif isinstance(v, dict) and depth < 3:
                walk(v, f"{path}.{k}" if path else str(k), depth + 1)

    for meta in metas:
        walk(meta, "", 1)
    return out


def _twin_brief(twin: Twin) -> dict:
    g = twin.grid
    return {
        "crs": g.crs,
        "cell_size": g.cell_size,
        "shape": list(g.shape),
        "bounds": list(g.bounds),
        "buildings": int(len(twin.buildings)),
        "luminaires": int(len(twin.luminaires)),
        "trees": int(len(twin.trees)),
        "layers": list(twin.layers.data_vars),
    }


def _store_baseline(baseline: KindResult, twin: Twin, cached_dir: Path, out: Path | None) -> None:
    """Put the baseline in the cache: a copy of the run's ``baseline/`` when there is one."""
    try:
        cached_dir.parent.mkdir(parents=True, exist_ok=True)
        with atomic_dir(cached_dir, overwrite=True) as tmp:
            if out is not None and (out / "baseline" / "result.json").is_file():
                shutil.rmtree(tmp)
                shutil.copytree(out / "baseline", tmp)
            else:
                save_result(baseline, tmp, twin.grid, tags={"part": "baseline"})
    except OSError as err:  # the cache is an optimisation: failing to fill it is not an error
        status(f"could not cache the baseline in {cached_dir} ({err})")


def _write_run(
    run: RunResult,
    out: Path,
    clock: _Clock,
    *,
    overwrite: bool,
    render: bool,
    report: bool,
    lang: str,
    size: tuple[int, int],
) -> None:
    scenario = run.scenario
    grid = run.twin.grid
    wanted = scenario.outputs.get("layers")
    tags = {"scenario": scenario.name, "kind": scenario.kind}
    with atomic_dir(out, overwrite=overwrite) as tmp:
        with clock.step("write"):
            save_result(run.baseline, tmp / "baseline", grid, tags={**tags, "part": "baseline"}, layers=wanted)
            save_result(run.result, tmp / "scenario", grid, tags={**tags, "part": "scenario"}, layers=wanted)
            (tmp / "difference").mkdir()
            diff_files = {}
            jobs = []
            for name, da in run.differences.items():
                if wanted is not None and name not in wanted:
                    continue
                jobs.append(
                    (
                        tmp / "difference" / f"{name}.tif",
                        da.values,
                        da.attrs["units"],
                        da.attrs["long_name"],
                        {**tags, "part": "difference", "layer": name},
                    )
                )
                diff_files[name] = f"difference/{name}.tif"
            write_cogs(jobs, grid)
            run.record["files"] = {"difference": diff_files}
            bfile = _write_buildings(run, tmp / "buildings.gpkg")
            if bfile:
                run.record["files"]["buildings"] = bfile
            inds = [i.to_dict() for i in run.indicators]
            write_json(tmp / INDICATORS_FILE, inds)
            with atomic_output(tmp / "indicators.csv") as f:
                pd.DataFrame(
                    [
                        {
                            **{k: v for k, v in d.items() if k != "label"},
                            "label_en": d["label"].get("en", ""),
                            "label_fr": d["label"].get("fr", ""),
                        }
                        for d in inds
                    ]
                ).to_csv(f, index=False)
        pictures: list[Path] = []
        if render:
            with clock.step("render"):
                pictures = render_pictures(run, tmp / "pictures", lang=lang, size=size)
        run.record["pictures"] = [str(p.relative_to(tmp)) for p in pictures]
        run.record["timings"] = clock.timings
        run.record["finished"] = now_iso()
        write_json(tmp / RUN_FILE, run.record)
        if report:
            from scenarios.report import write_report

            with clock.step("report"):
                write_report(tmp, lang=lang)
            run.record["timings"] = clock.timings
            write_json(tmp / RUN_FILE, run.record)
    run.pictures = [out / p for p in run.record["pictures"]]


def render_pictures(
    run: RunResult,
    pictures_dir: Path,
    *,
    lang: str = "en",
    size=(1600, 1000),
    view: str | None = None,
) -> list[Path]:
    """Draw a run's pictures into ``pictures_dir``: the kind's own, then a quick-look map per changed layer.

    ``Kind.render`` is called with the scenario twin and result and the keywords of
    :meth:`scenarios.kinds.base.Kind.render`; a ``view`` must be one of the kind's ``views``.
    """
    from scenarios.maps import difference_map

    pictures_dir.mkdir(parents=True, exist_ok=True)
    kind = run.scenario.kind_object
    if view is not None and view not in kind.views:
        offered = f"one of {', '.join(kind.views)}" if kind.views else "none"
        raise TwinValueError(f"kind {kind.name!r} draws no view {view!r} (views: {offered}); run without --view")
    kwargs: dict[str, Any] = {"baseline": run.baseline, "baseline_twin": run.twin, "view": view, "lang": lang,
                              "size": size, "title": run.scenario.name}
    paths = [Path(p) for p in (kind.render(run.scenario_twin, run.result, pictures_dir, **kwargs) or [])]
    if view is None:
        for name in _map_layers(run):
            paths.append(
                difference_map(
                    run.differences[name],
                    run.twin,
                    pictures_dir / f"difference_{name}.png",
                    lang=lang,
                    title=run.scenario.name,
                    size=(min(size[0], 1400), min(size[1], 1000)),
                )
            )
    return paths


#: At most this many plan maps of differences per run (every difference is written as a GeoTIFF anyway).
MAX_DIFFERENCE_MAPS = 3


def _map_layers(run: RunResult) -> list[str]:
    """The difference layers worth a plan map: those that changed, ``[outputs] layers`` first, at most a few."""
    wanted = run.scenario.outputs.get("layers") or []
    order = [n for n in wanted if n in run.differences] + [n for n in run.differences if n not in wanted]
    changed = [n for n in order if bool(np.nanmax(np.abs(run.differences[n].values), initial=0.0) > 0)]
    return changed[:MAX_DIFFERENCE_MAPS]


def _write_buildings(run: RunResult, path: Path) -> str | None:
    """Footprints joined with baseline_/scenario_/difference_ columns; None when the kind has no per-building result."""
    b, s = run.baseline.buildings, run.result.buildings
    if b is None and s is None:
        return None
    base = run.twin.buildings
    keep = [c for c in ("id", "name", "use", "year", "height", "floors", "dwellings") if c in base.columns]
    gdf = base[keep + [base.geometry.name]].copy()
    gdf = gdf.set_index("id", drop=False)
    columns = []
    for prefix, df in (("baseline", b), ("scenario", s)):
        if df is None:
            continue
        df = df.copy()
        df.columns = [f"{prefix}_{c}" for c in df.columns]
        columns.append(df)
    joined = gdf.join(columns) if columns else gdf
    if b is not None and s is not None:
        for c in s.columns:
            if (
                c in b.columns
                and pd.api.types.is_numeric_dtype(s[c])
                and pd.api.types.is_numeric_dtype(b[c])
                and not pd.api.types.is_bool_dtype(s[c])
            ):
                joined[f"difference_{c}"] = joined[f"scenario_{c}"] - joined[f"baseline_{c}"]
    joined = gpd.GeoDataFrame(joined.reset_index(drop=True), geometry=base.geometry.name, crs=base.crs)
    for c in joined.columns:
        if joined[c].dtype == bool:
            joined[c] = joined[c].astype("int8")
    with atomic_output(path) as tmp:
        try:
            pyogrio.write_dataframe(joined, tmp, layer="buildings", driver="GPKG")
        except Exception as err:  # pyogrio raises several unrelated types
            raise TwinIOError(f"{path}: cannot write: {err}") from err
    return path.name
