"""Every ready scenario runs end to end on the small demo town: files, units, baseline intact, pictures.

One parametrised contract over the library (the kinds' physics is tested by their own tests):
the runner's promises must hold whatever the kind.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import rasterio
from PIL import Image

from scenarios import library
from scenarios.runner import run_scenario
from scenarios.scenario import kind_available, load_scenario

SIZE = (480, 300)


def _kind_of(name: str) -> str:
    m = re.search(r'^kind\s*=\s*"(\w+)"', library.path(name).read_text(encoding="utf-8"), re.M)
    return m.group(1) if m else ""


@pytest.fixture(scope="module")
def small_town(demo_town_small):
    """The 300 m demo town (every feature, seconds per scenario)."""
    return demo_town_small


def _snapshot(twin):
    return (
        {k: twin.layers[k].values.tobytes() for k in twin.layers.data_vars},
        {k: (t.drop(columns=t.geometry.name).to_json(), t.geometry.to_wkb().tolist()) for k, t in twin.tables.items()},
    )


@pytest.mark.render
@pytest.mark.parametrize("name", library.list() or ["(none yet)"])
def test_ready_scenario_end_to_end(name, small_town, tmp_path):
    if name == "(none yet)":
        pytest.skip("no ready scenario has landed yet")
    kind = _kind_of(name)
    if not kind_available(kind):
        pytest.skip(f"kind {kind!r} is not available yet")
    before = _snapshot(small_town)
    run = run_scenario(
        load_scenario(library.path(name)), twin=small_town, out_dir=tmp_path / name, size=SIZE, cache_dir=False
    )
    assert _snapshot(small_town) == before, "the baseline twin was modified"
    out = tmp_path / name
    for f in (
        "run.json",
        "indicators.json",
        "indicators.csv",
        "report.html",
        "baseline/result.json",
        "scenario/result.json",
    ):
        assert (out / f).is_file(), f
    assert run.result.layers or run.result.buildings is not None, "the kind produced nothing to write"
    for part in ("baseline", "scenario", "difference"):
        for tif in (out / part).glob("*.tif"):
            with rasterio.open(tif) as src:
                assert src.crs is not None and src.units[0], tif
                assert (src.height, src.width) == small_town.grid.shape
    inds = json.loads((out / "indicators.json").read_text())
    assert inds, "no indicator"
    for i in inds:
        assert i["label"].get("en") and i["label"].get("fr"), i["name"]
        if i["difference"] is not None:
            assert i["difference"] == pytest.approx(i["scenario"] - i["baseline"])
    if run.result.buildings is not None:
        assert (out / "buildings.gpkg").is_file()
        assert set(run.result.buildings.index) <= set(small_town.buildings["id"])
    assert run.pictures, "no picture"
    for p in run.pictures:
        assert p.is_file(), p
        if p.suffix == ".png":
            img = np.asarray(Image.open(p).convert("RGB"))
            assert img.shape[1::-1] == SIZE or img.shape[1] == 2 * SIZE[0] or img.shape[1] >= SIZE[0], p
            assert img.std() > 5, f"{p} is blank"
        if p.suffix == ".gif" and run.result.frames:
            with Image.open(p) as gif:
                assert gif.n_frames == len(run.result.frames), p
