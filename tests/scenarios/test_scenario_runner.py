"""The runner end to end with the test kind "slope": files, numbers, baseline safety, cache, atomicity."""

from __future__ import annotations

import json

import numpy as np
import pyogrio
import pytest
import rasterio

from scenarios.results import load_result, twin_hash
from scenarios.runner import run_scenario
from scenarios.scenario import load_scenario
from tests.scenarios.helpers import SLOPE_TOML
from tests.scenarios.slope_kind import slope_horn
from twin.errors import TwinExistsError, TwinRuntimeError, TwinValueError
from twin.io import open_twin


@pytest.fixture(scope="module")
def shared_run(tmp_path_factory):
    """One run shared by the tests that only read it: (run folder, saved twin, scenario file)."""
    from scenarios.kinds import REGISTRY
    from tests.scenarios.helpers import SLOPE_MODULE, make_hill_twin

    tmp = tmp_path_factory.mktemp("shared")
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(REGISTRY, "slope", SLOPE_MODULE)
        mp.setenv("JUMEAU_CACHE_DIR", str(tmp / "cache"))
        make_hill_twin().save(tmp / "hill.twin")
        (tmp / "raise.toml").write_text(SLOPE_TOML, encoding="utf-8")
        run_scenario(tmp / "raise.toml", out_dir=tmp / "run", size=(320, 200))
    return tmp / "run", tmp / "hill.twin", tmp / "raise.toml"


@pytest.fixture
def run_dir(shared_run):
    return shared_run[0]


@pytest.fixture
def own_run_dir(tmp_path, slope_file):
    out = tmp_path / "run"
    run_scenario(slope_file, out_dir=out, render=False)
    return out


def test_every_file_is_written(run_dir):
    expected = {
        "run.json",
        "indicators.json",
        "indicators.csv",
        "buildings.gpkg",
        "report.html",
        "baseline/slope.tif",
        "baseline/steep.tif",
        "baseline/result.json",
        "baseline/buildings.csv",
        "baseline/frames/frames.tif",
        "scenario/slope.tif",
        "scenario/steep.tif",
        "scenario/result.json",
        "scenario/buildings.csv",
        "scenario/frames/frames.tif",
        "difference/slope.tif",
        "pictures/slope_top.png",
        "pictures/difference_slope.png",
    }
    found = {str(p.relative_to(run_dir)) for p in run_dir.rglob("*") if p.is_file()}
    assert found == expected
    # no temporary leftovers beside the run
    assert [p.name for p in run_dir.parent.iterdir() if p.name.startswith(".")] == []


def test_geotiffs_are_cogs_with_crs_units_and_description(run_dir):
    for part in ("baseline", "scenario", "difference"):
        with rasterio.open(run_dir / part / "slope.tif") as src:
            assert src.crs.to_epsg() == 2154
            assert src.units == ("degree",)
            assert src.tags(1)["units"] == "degree"
            assert "slope" in src.descriptions[0]
            assert src.tags()["part"] == part and src.tags()["kind"] == "slope"
            assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            assert src.dtypes[0] == "float32"
    with rasterio.open(run_dir / "baseline" / "steep.tif") as src:
        assert src.dtypes[0] == "uint8" and src.units == ("1",)


def test_numbers_match_the_rasters_and_the_physics(run_dir, shared_run):
    twin = open_twin(shared_run[1])
    with rasterio.open(run_dir / "baseline" / "slope.tif") as src:
        base = src.read(1)
    with rasterio.open(run_dir / "scenario" / "slope.tif") as src:
        scen = src.read(1)
    with rasterio.open(run_dir / "scenario" / "steep.tif") as src:
        steep = src.read(1)
    with rasterio.open(run_dir / "difference" / "slope.tif") as src:
        diff = src.read(1)
    np.testing.assert_array_equal(base, slope_horn(twin.array("terrain"), 2.0))
    np.testing.assert_array_equal(diff, scen - base)
    # a 3 m step over a 2 m cell: Horn gives atan((1+2+1)*3/(8*2)) = 36.9 deg on its edge cells
    assert diff.max() == pytest.approx(np.degrees(np.arctan(12 / 16)), abs=3.0)
    inds = {i["name"]: i for i in json.loads((run_dir / "indicators.json").read_text())}
    assert set(inds) == {"mean_slope", "steep_area", "buildings_on_steep"}
    assert inds["mean_slope"]["scenario"] == pytest.approx(scen.astype(np.float64).mean(), rel=1e-12)
    assert inds["mean_slope"]["baseline"] == pytest.approx(base.astype(np.float64).mean(), rel=1e-12)
    assert inds["steep_area"]["scenario"] == pytest.approx(steep.sum() * 4.0)
    for i in inds.values():
        assert i["difference"] == pytest.approx(i["scenario"] - i["baseline"])
        assert i["value"] == i["scenario"]
        assert set(i) == {"name", "label", "value", "unit", "baseline", "scenario", "difference", "better", "change"}
    assert inds["steep_area"]["change"] == "worse"  # more steep ground, and lower is better
    bld = pyogrio.read_dataframe(run_dir / "buildings.gpkg")
    assert len(bld) == 4 and bld.crs.to_epsg() == 2154
    assert {"baseline_mean_slope", "scenario_mean_slope", "difference_mean_slope", "use"} <= set(bld.columns)
    b1 = twin.array("building_id") == 1
    assert bld.set_index("id").loc[1, "scenario_mean_slope"] == pytest.approx(scen[b1].mean(), rel=1e-6)
    np.testing.assert_allclose(bld["difference_mean_slope"], bld["scenario_mean_slope"] - bld["baseline_mean_slope"])


def test_run_record(run_dir, shared_run):
    saved_hill, slope_file = shared_run[1], shared_run[2]
    rec = json.loads((run_dir / "run.json").read_text())
    assert rec["name"] == "Raised ground on the west side" and rec["kind"] == "slope"
    assert rec["scenario"]["text"] == SLOPE_TOML
    assert rec["scenario"]["path"] == str(slope_file.resolve())
    assert rec["twin"]["path"] == str(saved_hill.resolve())
    assert rec["twin"]["hash"] == twin_hash(open_twin(saved_hill))
    assert rec["scenario_twin_hash"] != rec["twin"]["hash"]
    assert rec["forcing"] == {"threshold": "10 deg"}
    assert rec["models"] == [{"name": "slope (Horn 1981)", "reference": "doi:10.1109/PROC.1981.11918"}]
    assert rec["assumptions"] == ["method = horn (Horn 1981)"]
    assert {"jumeau", "numpy", "rasterio", "gdal", "python"} <= set(rec["versions"])
    assert {"twin", "baseline", "interventions", "scenario", "write", "render", "report"} <= set(rec["timings"])
    assert rec["provenance"][0]["step"] == "test fixture"
    assert rec["pictures"] == ["pictures/slope_top.png", "pictures/difference_slope.png"]


def _snapshot(twin):
    layers = {k: twin.layers[k].values.tobytes() for k in twin.layers.data_vars}
    attrs = {k: dict(twin.layers[k].attrs) for k in twin.layers.data_vars}
    tables = {
        k: (t.drop(columns=t.geometry.name).to_json(), t.geometry.to_wkb().tolist()) for k, t in twin.tables.items()
    }
    return layers, attrs, tables


def test_baseline_twin_is_never_modified(hill_twin, slope_file, tmp_path):
    before = _snapshot(hill_twin)
    run = run_scenario(slope_file, twin=hill_twin, out_dir=tmp_path / "r", render=False)
    assert _snapshot(hill_twin) == before
    assert run.twin is hill_twin
    # the scenario twin holds the raised ground: 3 m more over the square's 15 x 15 cells
    dz = run.scenario_twin.array("terrain") - hill_twin.array("terrain")
    assert np.count_nonzero(dz) == 225 and dz.max() == pytest.approx(3.0)


def test_a_kind_that_modifies_the_baseline_is_caught(hill_twin, slope_file, slope_kind, monkeypatch):
    def in_place(twin, config):
        twin.array("terrain")[0, 0] += 1.0
        return twin

    monkeypatch.setattr(slope_kind, "apply_interventions", in_place)
    with pytest.raises(
        TwinRuntimeError,
        match=r"kind 'slope' modified the baseline twin \(changed layer:terrain\); "
        r"interventions and caches must go to a copy",
    ):
        run_scenario(slope_file, twin=hill_twin, cache_dir=False)


def test_same_inputs_same_numbers(slope_file, tmp_path):
    a = run_scenario(slope_file, out_dir=tmp_path / "a", render=False, reuse_baseline=False)
    b = run_scenario(slope_file, out_dir=tmp_path / "b", render=False, reuse_baseline=False)
    assert not a.baseline_reused and not b.baseline_reused
    ia, ib = (json.loads((tmp_path / d / "indicators.json").read_text()) for d in "ab")
    assert ia == ib
    for part in ("baseline", "scenario", "difference"):
        for f in sorted((tmp_path / "a" / part).glob("*.tif")):
            with rasterio.open(f) as s1, rasterio.open(tmp_path / "b" / part / f.name) as s2:
                np.testing.assert_array_equal(s1.read(), s2.read())
    ra, rb = (json.loads((tmp_path / d / "run.json").read_text()) for d in "ab")
    assert ra["twin"]["hash"] == rb["twin"]["hash"] and ra["baseline"]["cache_key"] == rb["baseline"]["cache_key"]


def test_baseline_cache_is_reused_and_keyed(slope_file, tmp_path):
    cache = tmp_path / "cache"
    first = run_scenario(slope_file, out_dir=tmp_path / "1", render=False, cache_dir=cache)
    second = run_scenario(slope_file, out_dir=tmp_path / "2", render=False, cache_dir=cache)
    assert not first.baseline_reused and second.baseline_reused
    assert "baseline (cached)" in second.timings and "baseline" not in second.timings
    assert [i.to_dict() for i in first.indicators] == [i.to_dict() for i in second.indicators]
    np.testing.assert_array_equal(first.baseline.layers["slope"].values, second.baseline.layers["slope"].values)
    # another forcing is another baseline
    other = load_scenario(slope_file).updated(forcing={"threshold": "20 deg"})
    third = run_scenario(other, render=False, cache_dir=cache)
    assert not third.baseline_reused
    assert len(list((cache / "baselines").iterdir())) == 2
    # without the cache: recomputed
    assert not run_scenario(slope_file, render=False, cache_dir=cache, reuse_baseline=False).baseline_reused


def test_damaged_cache_entry_is_recomputed(slope_file, tmp_path):
    cache = tmp_path / "cache"
    run_scenario(slope_file, render=False, cache_dir=cache)
    entry = next((cache / "baselines").iterdir())
    (entry / "slope.tif").write_bytes(b"not a tiff")
    again = run_scenario(slope_file, render=False, cache_dir=cache)
    assert not again.baseline_reused
    np.testing.assert_array_equal(load_result(entry)[0].layers["slope"].values, again.baseline.layers["slope"].values)


def test_interrupted_run_leaves_no_half_output(slope_file, slope_kind, tmp_path, monkeypatch):
    def interrupted(twin, result, out_dir, **kw):
        (out_dir / "half.png").write_bytes(b"x")
        raise KeyboardInterrupt

    monkeypatch.setattr(slope_kind, "render", interrupted)
    out = tmp_path / "out" / "run"
    with pytest.raises(KeyboardInterrupt):
        run_scenario(slope_file, out_dir=out)
    assert not out.exists()
    assert list(out.parent.iterdir()) == []


def test_existing_output_needs_overwrite(slope_file, own_run_dir):
    run_dir = own_run_dir
    before = (run_dir / "run.json").read_text()
    with pytest.raises(TwinExistsError, match="exists .use --overwrite to replace it."):
        run_scenario(slope_file, out_dir=run_dir)
    assert (run_dir / "run.json").read_text() == before
    run_scenario(slope_file, out_dir=run_dir, overwrite=True, render=False)
    assert json.loads((run_dir / "run.json").read_text())["pictures"] == []


def test_outputs_select_layers(tmp_path, saved_hill, slope_kind):
    p = tmp_path / "sel.toml"
    p.write_text(SLOPE_TOML + '\n[outputs]\nlayers = ["steep"]\npictures = false\n', encoding="utf-8")
    run_scenario(p, out_dir=tmp_path / "sel")
    assert sorted(f.name for f in (tmp_path / "sel" / "scenario").glob("*.tif")) == ["steep.tif"]
    assert not (tmp_path / "sel" / "pictures").exists()
    p.write_text(SLOPE_TOML + '\n[outputs]\nlayers = ["slop"]\n', encoding="utf-8")
    with pytest.raises(
        TwinValueError,
        match=r"sel.toml:15: layer 'slop' in \[outputs\] layers is not a result of "
        r"kind 'slope' \(it produces slope, steep\)",
    ):
        run_scenario(p, out_dir=tmp_path / "sel2")


def test_results_read_back_identically(run_dir):
    for part in ("baseline", "scenario"):
        res, rec = load_result(run_dir / part)
        assert rec["hash"] == json.loads((run_dir / part / "result.json").read_text())["hash"]
        from scenarios.results import result_hash

        assert result_hash(res) == rec["hash"]  # layers, per-building values and indicators round-trip exactly
        assert [t for t, _ in res.frames] == [0.0, 60.0]
        np.testing.assert_array_equal(res.frames[1][1], res.layers["slope"].values * np.float32(0.5))


def test_run_without_output_folder(slope_file):
    run = run_scenario(slope_file, cache_dir=False)
    assert run.out_dir is None and run.pictures == []
    table = run.indicator_table()
    assert list(table.index) == ["mean_slope", "steep_area", "buildings_on_steep"]
    assert run.indicator("steep_area").change == "worse"
    assert "difference" in run._repr_html_() and "slope" in run.differences


def test_a_kind_that_caches_layers_never_reaches_the_callers_twin(hill_twin, slope_file, slope_kind, monkeypatch):
    original = slope_kind.simulate
    seen = []

    def caching(twin, config):
        twin.set_layer("svf", np.ones(twin.grid.shape, np.float32), units="1")  # a cache left on the twin it got
        seen.append(twin)
        return original(twin, config)

    monkeypatch.setattr(slope_kind, "simulate", caching)
    before = _snapshot(hill_twin)
    run_scenario(slope_file, twin=hill_twin, cache_dir=False)
    assert "svf" not in hill_twin and _snapshot(hill_twin) == before
    assert all(t is not hill_twin for t in seen)


def test_a_kind_that_writes_into_shared_tables_is_caught(hill_twin, slope_file, slope_kind, monkeypatch):
    original = slope_kind.simulate

    def writes(twin, config):
        twin.buildings.loc[0, "height"] = 99.0  # in place, on the table the caller owns
        return original(twin, config)

    monkeypatch.setattr(slope_kind, "simulate", writes)
    with pytest.raises(TwinRuntimeError, match=r"modified the baseline twin \(changed table:buildings\)"):
        run_scenario(slope_file, twin=hill_twin, cache_dir=False)
