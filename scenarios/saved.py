"""Saved runs: read a run folder back, re-render it without recomputing, compare several.

>>> run = open_run("out/thunderstorm")          # doctest: +SKIP
>>> run.indicators[0]["scenario"]               # doctest: +SKIP
>>> render_run("out/thunderstorm", view="street", lang="fr")   # doctest: +SKIP
>>> table = compare_runs(["out/a", "out/b"], out="out/a_vs_b")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.kinds.base import KindResult
from scenarios.results import load_result, twin_hash, write_json
from twin.core import Twin, layer_dataarray
from twin.errors import TwinFileNotFoundError, TwinFormatError, TwinValueError
from twin.io import atomic_dir, atomic_output, read_raster, write_raster

__all__ = ["SavedRun", "open_run", "render_run", "compare_runs", "comparison_markdown"]


@dataclass
class SavedRun:
    """A run folder written by :func:`scenarios.runner.run_scenario`.

    Attributes
    ----------
    path : Path
    record : dict
        ``run.json``.
    indicators : list of dict
        ``indicators.json``.
    """

    path: Path
    record: dict
    indicators: list[dict]
    _results: dict = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.record.get("name", self.path.name)

    @property
    def kind(self) -> str:
        return self.record.get("kind", "")

    def result(self, part: str = "scenario") -> KindResult:
        """The saved :class:`KindResult` of ``"baseline"`` or ``"scenario"`` (read once)."""
        if part not in ("baseline", "scenario"):
            raise TwinValueError(f"invalid part {part!r} (baseline or scenario)")
        if part not in self._results:
            self._results[part] = load_result(self.path / part)[0]
        return self._results[part]

    def layer_files(self, part: str = "scenario") -> dict[str, Path]:
        """Result GeoTIFFs of a part (``baseline``, ``scenario`` or ``difference``) by layer name."""
        d = self.path / part
        return {f.stem: f for f in sorted(d.glob("*.tif"))} if d.is_dir() else {}

    def twin(self, twin: Twin | None = None) -> Twin:
        """The baseline twin the run was made on, reopened and checked against the recorded hash.

        Raises
        ------
        TwinValueError
            If the twin cannot be found again (an in-memory twin: pass it) or has changed since.
        """
        info = self.record.get("twin", {})
        if twin is None:
            src = info.get("source")
            if src == "path" and info.get("path"):
                from twin.io import open_twin

                twin = open_twin(info["path"])
            elif src == "demo":
                from importers.demo import build_demo_town

                twin = build_demo_town()
            else:
                raise TwinValueError(f"{self.path}: the run was made on a twin held in memory; give it (--twin PATH)")
        if info.get("hash") and twin_hash(twin) != info["hash"]:
            raise TwinValueError(
                f"{self.path}: the twin {info.get('path') or info.get('source')} has changed since "
                f"the run (its hash differs); run the scenario again"
            )
        return twin

    def scenario(self):
        """The scenario, parsed again from the text saved in ``run.json``."""
        from scenarios.scenario import parse_scenario

        sc = self.record.get("scenario", {})
        path = Path(sc["path"]) if sc.get("path") else None
        text = sc.get("text") or ""
        if not text:
            raise TwinFormatError(f"{self.path / 'run.json'}: holds no scenario text")
        source = str(path) if path else f"{self.path}/run.json"
        return parse_scenario(text, source=source, base_dir=path.parent if path else self.path, path=path)

    def run_result(self, twin: Twin | None = None):
        """A :class:`~scenarios.runner.RunResult` rebuilt from the files (interventions re-applied, no simulation)."""
        from scenarios.runner import RunResult, compare_indicators, difference_layers

        scenario = self.scenario()
        base = self.twin(twin)
        scen_twin = scenario.kind_object.apply_interventions(base, scenario.config)
        if self.record.get("scenario_twin_hash") and twin_hash(scen_twin) != self.record["scenario_twin_hash"]:
            raise TwinValueError(
                f"{self.path}: re-applying the interventions gives another twin than the run's "
                f"(a file they read has changed?); run the scenario again"
            )
        baseline, result = self.result("baseline"), self.result("scenario")
        return RunResult(
            scenario=scenario,
            twin=base,
            scenario_twin=scen_twin,
            baseline=baseline,
            result=result,
            indicators=compare_indicators(baseline, result),
            differences=difference_layers(baseline, result),
            timings=dict(self.record.get("timings", {})),
            record=self.record,
            out_dir=self.path,
            pictures=[self.path / p for p in self.record.get("pictures", [])],
        )


def open_run(path) -> SavedRun:
    """Open a run folder.

    Raises
    ------
    TwinFileNotFoundError
        If ``path`` is not a run folder.
    TwinFormatError
        If its ``run.json`` or ``indicators.json`` is damaged.
    """
    path = Path(path)
    rpath = path / "run.json"
    if not rpath.is_file():
        if not path.exists():
            raise TwinFileNotFoundError(f"{path}: no such run folder")
        raise TwinFileNotFoundError(f"{path}: not a run folder (no run.json)")
    try:
        record = json.loads(rpath.read_text(encoding="utf-8"))
        indicators = json.loads((path / "indicators.json").read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise TwinFileNotFoundError(f"{path}: incomplete run folder ({Path(err.filename).name} missing)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TwinFormatError(f"{path}: damaged run record ({err})") from None
    if not isinstance(record, dict) or record.get("format") != "jumeau-run":
        raise TwinFormatError(f"{rpath}: not a jumeau run record")
    return SavedRun(path=path, record=record, indicators=indicators)


def render_run(
    path,
    *,
    view: str | None = None,
    size: tuple[int, int] = (1600, 1000),
    lang: str = "en",
    out=None,
    twin: Twin | None = None,
    report: bool = True,
) -> list[Path]:
    """Draw a saved run's pictures again from its files (no simulation).

    Pictures go to ``RUN/pictures`` (replacing those of the same name, and updating
    ``run.json`` and ``report.html``) or to ``out``.
    """
    from scenarios.report import write_report
    from scenarios.runner import render_pictures

    saved = open_run(path)
    run = saved.run_result(twin)
    target = Path(out) if out is not None else saved.path / "pictures"
    target.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".render.", dir=target))
    try:
        made = render_pictures(run, tmp, lang=lang, size=size, view=view)
        final = []
        for p in made:
            dest = target / p.relative_to(tmp)
            dest.parent.mkdir(parents=True, exist_ok=True)
            p.replace(dest)
            final.append(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if out is None:
        rel = [str(p.relative_to(saved.path)) for p in final]
        saved.record["pictures"] = list(dict.fromkeys(list(saved.record.get("pictures", [])) + rel))
        write_json(saved.path / "run.json", saved.record)
        if report:
            write_report(saved.path, lang=lang)
    return final


# -- comparison ---------------------------------------------------------------------------------------------------
def _unique_names(runs: list[SavedRun]) -> list[str]:
    names, seen = [], {}
    for r in runs:
        base = r.path.resolve().name
        n = seen.get(base, 0)
        seen[base] = n + 1
        names.append(base if n == 0 else f"{base}_{n + 1}")
    return names


def compare_runs(paths, *, out=None, lang: str = "en", overwrite: bool = False, maps: bool = True) -> pd.DataFrame:
    """The indicator table of several runs, and (with ``out``) files and difference maps.

    Rows are indicators (in order of first appearance); columns the label, the unit,
    ``today`` (the baseline, when every run has the same one; else one ``<run> (today)``
    column per run) and each run's scenario value.

    With ``out``: ``comparison.csv``, ``comparison.json``, ``comparison.md``, and for every
    other run against the first, ``<B>_vs_<A>/<layer>.tif`` (``B - A`` of the scenario
    layers present in both, same grid) with a quick-look PNG.

    Raises
    ------
    TwinValueError
        With fewer than two runs.
    """
    paths = list(paths)
    if len(paths) < 2:
        raise TwinValueError("compare needs at least two runs")
    runs = [open_run(p) for p in paths]
    names = _unique_names(runs)
    order: list[str] = []
    info: dict[str, dict] = {}
    for r in runs:
        for i in r.indicators:
            if i["name"] not in info:
                order.append(i["name"])
                info[i["name"]] = i
    rows = []
    same_baseline = True
    for name in order:
        vals = [next((i for i in r.indicators if i["name"] == name), None) for r in runs]
        bases = {None if v is None else v.get("baseline") for v in vals} - {None}
        if len(bases) > 1 and not np.allclose(list(bases), min(bases), rtol=1e-12, atol=0):
            same_baseline = False
        rows.append((name, vals))
    records = []
    for name, vals in rows:
        ref = info[name]
        rec = {
            "name": name,
            "label": (ref.get("label") or {}).get(lang) or (ref.get("label") or {}).get("en", name),
            "unit": ref.get("unit", ""),
        }
        if same_baseline:
            rec["today"] = next(
                (v.get("baseline") for v in vals if v is not None and v.get("baseline") is not None), None
            )
        else:
            for n, v in zip(names, vals):
                rec[f"{n} (today)"] = None if v is None else v.get("baseline")
        for n, v in zip(names, vals):
            rec[n] = None if v is None else v.get("scenario")
        rec["better"] = ref.get("better", "")
        records.append(rec)
    table = pd.DataFrame(records).set_index("name")
    if out is not None:
        _write_comparison(table, runs, names, Path(out), lang=lang, overwrite=overwrite, maps=maps)
    return table


def comparison_markdown(table: pd.DataFrame) -> str:
    """The comparison table as Markdown (numbers with four significant digits)."""
    cols = [c for c in table.columns if c not in ("better",)]
    head = "| indicator | " + " | ".join(str(c) for c in cols) + " |"
    sep = "|---|" + "|".join("---" if c in ("label", "unit") else "---:" for c in cols) + "|"
    lines = [head, sep]
    for name, row in table.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if isinstance(v, (float, int, np.floating, np.integer)) and not isinstance(v, bool):
                cells.append("–" if pd.isna(v) else f"{v:.4g}")
            else:
                cells.append("" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _write_comparison(
    table: pd.DataFrame, runs: list[SavedRun], names: list[str], out: Path, *, lang: str, overwrite: bool, maps: bool
) -> None:
    from scenarios.maps import difference_map

    with atomic_dir(out, overwrite=overwrite) as tmp:
        with atomic_output(tmp / "comparison.csv") as f:
            table.to_csv(f)
        write_json(
            tmp / "comparison.json",
            {
                "runs": [
                    {"name": n, "path": str(r.path.resolve()), "scenario": r.name, "kind": r.kind}
                    for n, r in zip(names, runs)
                ],
                "indicators": table.reset_index().to_dict(orient="records"),
            },
        )
        (tmp / "comparison.md").write_text(comparison_markdown(table), encoding="utf-8")
        a, name_a = runs[0], names[0]
        files_a = a.layer_files("scenario")
        for b, name_b in zip(runs[1:], names[1:]):
            files_b = b.layer_files("scenario")
            for layer in sorted(set(files_a) & set(files_b)):
                va, ga, ia = read_raster(files_a[layer])
                vb, gb, ib = read_raster(files_b[layer])
                if ga != gb or va.dtype.kind != "f" or vb.dtype.kind != "f" or ia["units"] != ib["units"]:
                    continue
                d = tmp / f"{name_b}_vs_{name_a}"
                d.mkdir(exist_ok=True)
                diff = (vb.astype(np.float64) - va.astype(np.float64)).astype(np.float32)
                long_name = f"{ia['description'] or layer}: {name_b} - {name_a}"
                write_raster(
                    d / f"{layer}.tif",
                    diff,
                    ga,
                    units=ia["units"],
                    description=long_name,
                    cog=True,
                    tags={"layer": layer, "run_a": name_a, "run_b": name_b},
                )
                if maps:
                    da = layer_dataarray(ga, layer, diff, units=ia["units"], long_name=long_name)
                    difference_map(
                        da,
                        None,
                        d / f"{layer}.png",
                        lang=lang,
                        title=f"{name_b} − {name_a}",
                        subtitle=long_name,
                        grid=ga,
                    )
