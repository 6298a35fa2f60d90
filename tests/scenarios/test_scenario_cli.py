"""`twin run`, `twin compare`, `twin render`: exit codes 0/1/2, one-line errors, files, pictures."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from scenarios.cli.main import main
from tests.scenarios.helpers import SLOPE_TOML


def _lines(err: str) -> list[str]:
    return [line for line in err.strip().splitlines() if line]


def _run(capsys, *args):
    code = main(["--quiet", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_run_writes_results_and_exits_0(slope_file, tmp_path, capsys):
    code, _out, err = _run(capsys, "run", str(slope_file), "--out", str(tmp_path / "r"), "--size", "320x200")
    assert code == 0, err
    assert err == ""  # --quiet
    img = Image.open(tmp_path / "r" / "pictures" / "slope_top.png")
    assert img.size == (320, 200)
    px = np.asarray(img.convert("RGB"))
    assert px.std() > 10 and len(np.unique(px.reshape(-1, 3), axis=0)) > 20  # a picture, not a blank canvas


def test_run_bad_scenario_exits_2_with_the_line(tmp_path, saved_hill, slope_kind, capsys):
    p = tmp_path / "bad.toml"
    p.write_text(SLOPE_TOML.replace('threshold = "10 deg"', 'threshold = "10 km"'), encoding="utf-8")
    code, _out, err = _run(capsys, "run", str(p), "--out", str(tmp_path / "r"))
    assert code == 2
    assert _lines(err) == [
        f"twin run: error: {p}:7: invalid forcing.threshold: '10 km' (unit 'km' is not a angle; use deg, degree)"
    ]
    assert not (tmp_path / "r").exists()


def test_run_existing_output_exits_2(slope_file, tmp_path, capsys):
    (tmp_path / "r").mkdir()
    code, _, err = _run(capsys, "run", str(slope_file), "--out", str(tmp_path / "r"))
    assert code == 2 and _lines(err) == [f"twin run: error: {tmp_path / 'r'}: exists (use --overwrite to replace it)"]
    code, _, err = _run(capsys, "run", str(slope_file), "--out", str(tmp_path / "r"), "--overwrite", "--no-render")
    assert code == 0, err


def test_run_missing_file_and_twin_override(tmp_path, slope_file, capsys):
    code, _, err = _run(capsys, "run", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "r"))
    assert code == 2 and _lines(err) == [f"twin run: error: {tmp_path / 'nope.toml'}: no such scenario file"]
    code, _, err = _run(
        capsys, "run", str(slope_file), "--twin", str(tmp_path / "none.twin"), "--out", str(tmp_path / "r")
    )
    assert code == 2 and _lines(err) == [f"twin run: error: {tmp_path / 'none.twin'}: no such twin"]


def test_runtime_failure_exits_1_with_one_error_line(slope_file, slope_kind, tmp_path, capsys, monkeypatch):
    def broken(twin, config):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(slope_kind, "simulate", broken)
    code, _, err = _run(capsys, "run", str(slope_file), "--out", str(tmp_path / "r"))
    assert code == 1
    assert _lines(err) == [
        "Error: internal error: ZeroDivisionError: float division by zero (run with --debug for details)"
    ]
    assert not (tmp_path / "r").exists()


@pytest.fixture
def two_runs(tmp_path, slope_file, capsys):
    a, b = tmp_path / "gentle", tmp_path / "steep"
    assert main(["-q", "run", str(slope_file), "--out", str(a), "--no-render"]) == 0
    p = tmp_path / "steeper.toml"
    p.write_text(SLOPE_TOML.replace('height = "3 m"', 'height = "6 m"'), encoding="utf-8")
    assert main(["-q", "run", str(p), "--out", str(b), "--no-render"]) == 0
    capsys.readouterr()
    return a, b


def test_compare_prints_and_writes(two_runs, tmp_path, capsys):
    a, b = two_runs
    code, out, err = _run(capsys, "compare", str(a), str(b), "--out", str(tmp_path / "cmp"))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "| indicator | label | unit | today | gentle | steep |"
    ia = {i["name"]: i for i in json.loads((a / "indicators.json").read_text())}
    ib = {i["name"]: i for i in json.loads((b / "indicators.json").read_text())}
    row = next(line for line in lines if line.startswith("| steep_area |"))
    assert row == (
        f"| steep_area | Steep ground | m2 | {ia['steep_area']['baseline']:.4g} | "
        f"{ia['steep_area']['scenario']:.4g} | {ib['steep_area']['scenario']:.4g} |"
    )
    cmp = tmp_path / "cmp"
    assert {p.name for p in cmp.iterdir()} == {"comparison.csv", "comparison.json", "comparison.md", "steep_vs_gentle"}
    assert sorted(p.name for p in (cmp / "steep_vs_gentle").iterdir()) == ["slope.png", "slope.tif"]
    import rasterio

    with (
        rasterio.open(cmp / "steep_vs_gentle" / "slope.tif") as d,
        rasterio.open(a / "scenario" / "slope.tif") as sa,
        rasterio.open(b / "scenario" / "slope.tif") as sb,
    ):
        np.testing.assert_array_equal(d.read(1), sb.read(1) - sa.read(1))
        assert d.units == ("degree",) and d.crs.to_epsg() == 2154
    data = json.loads((cmp / "comparison.json").read_text())
    assert [r["name"] for r in data["runs"]] == ["gentle", "steep"]


def test_compare_needs_two_runs(two_runs, tmp_path, capsys):
    code, _, err = _run(capsys, "compare", str(two_runs[0]))
    assert code == 2 and _lines(err) == ["twin compare: error: compare needs at least two runs"]
    code, _, err = _run(capsys, "compare", str(two_runs[0]), str(tmp_path / "nothing"))
    assert code == 2 and _lines(err) == [f"twin compare: error: {tmp_path / 'nothing'}: no such run folder"]


def test_render_from_saved_results(two_runs, capsys, slope_kind, monkeypatch):
    run = two_runs[0]
    # rendering must not simulate: a kind that cannot simulate still renders saved results
    monkeypatch.setattr(slope_kind, "simulate", lambda *a: (_ for _ in ()).throw(AssertionError("simulated")))
    code, _, err = _run(capsys, "render", str(run), "--view", "overview", "--size", "400x300")
    assert code == 0, err
    png = run / "pictures" / "slope_overview.png"
    with Image.open(png) as im:
        assert im.size == (400, 300)
    rec = json.loads((run / "run.json").read_text())
    assert "pictures/slope_overview.png" in rec["pictures"]
    assert "slope_overview" in (run / "report.html").read_text()
    code, _, err = _run(capsys, "render", str(run), "--view", "aerial")
    assert code == 2 and _lines(err) == ["twin render: error: kind 'slope' draws no view 'aerial' (views: one of top, overview); run without --view"]


def test_render_refuses_a_changed_twin(two_runs, saved_hill, capsys):
    from twin.io import open_twin

    t = open_twin(saved_hill)
    t.array("terrain")[3, 3] += 1.0
    t.save(saved_hill, overwrite=True)
    code, _, err = _run(capsys, "render", str(two_runs[0]))
    assert code == 2
    assert _lines(err) == [
        f"twin render: error: {two_runs[0]}: the twin {saved_hill.resolve()} has changed since the "
        f"run (its hash differs); run the scenario again"
    ]


def test_run_accepts_a_ready_scenario_name(tmp_path, saved_hill, slope_kind, monkeypatch, capsys):
    from scenarios import library

    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "raise_west.toml").write_text(
        SLOPE_TOML.replace('twin = "hill.twin"', f'twin = "{saved_hill}"'), encoding="utf-8"
    )
    monkeypatch.setattr(library, "_folder", lambda: folder)
    code, _, err = _run(capsys, "run", "raise_west", "--out", str(tmp_path / "r"), "--no-render")
    assert code == 0, err
    rec = json.loads((tmp_path / "r" / "run.json").read_text())
    assert rec["scenario"]["path"] == str(folder / "raise_west.toml")
    code, _, err = _run(capsys, "run", "raise_wset", "--out", str(tmp_path / "r2"))
    assert code == 2 and _lines(err) == [
        "twin run: error: raise_wset: no such scenario file or ready scenario "
        "(did you mean the ready scenario 'raise_west'?)"
    ]


def test_demo_builds_saves_and_indexes(tmp_path, capsys):
    out = tmp_path / "demo"
    code, _, err = _run(
        capsys,
        "demo",
        "--out",
        str(out),
        "--town-size",
        "300",
        "--cell-size",
        "2",
        "--scenarios",
        "none",
        "--no-render",
    )
    assert code == 0, err
    assert (out / "town.twin" / "twin.json").is_file() and (out / "index.html").is_file()
    assert json.loads((out / "index.json").read_text())["scenarios"] == []
    code, _, err = _run(capsys, "demo", "--out", str(out), "--scenarios", "none", "--no-render")
    assert code == 2 and _lines(err) == [
        f"twin demo: error: {out}: holds a demo already (use --overwrite to replace it)"
    ]
    code, _, err = _run(capsys, "demo", "--out", str(tmp_path / "d2"), "--scenarios", "thunderstrom")
    assert code == 2 and _lines(err)[0].startswith("twin demo: error: no ready scenario 'thunderstrom'")
