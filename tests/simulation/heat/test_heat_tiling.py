"""The heat model tile by tile: exact when the halo covers the grid, within the derived sky-view bound otherwise."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from scenarios.kinds.heat import KIND as HEAT
from simulation.heat.model import SKY_VIEW_LAYERS, HeatModel
from simulation.heat.summaries import building_summary
from simulation.heat.tiled import halo_error_bound
from tests.simulation.heat.synthetic import make_street_twin
from twin import Twin
from twin.errors import TwinValueError

KEEP = (12, 15)


def _run(twin, day, **tiling):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return HeatModel(twin, **tiling).run(day, keep_hours=KEEP)


@pytest.fixture(scope="module")
def small(day_2003):
    twin = make_street_twin()  # 80 x 80 cells
    return twin, _run(twin, day_2003)


def test_a_halo_covering_the_grid_gives_the_whole_grid_run(small, day_2003):
    twin, whole = small
    tiled = _run(twin, day_2003, tile_size=30.0, halo=80.0, scheduler="threads")  # 9 tiles, each sees everything
    assert tiled.meta["tiling"]["tiles"] == 9 and tiled.meta["tiling"]["error_bound"]["exact"]
    assert tiled.hottest == whole.hottest
    assert set(tiled.layers) == set(whole.layers)
    for name, (arr, units, _) in whole.layers.items():
        assert tiled.layers[name][1] == units
        np.testing.assert_array_equal(tiled[name], arr, err_msg=name)
    for ts in whole.hourly:
        for q in ("tmrt", "utci"):
            np.testing.assert_array_equal(tiled.hourly[ts][q], whole.hourly[ts][q])
    # the hourly series add up over the tiles: means to float rounding, 95th percentiles to the 0.01 K bins
    s0, s1 = whole.series, tiled.series
    for col in ("tmrt_mean", "utci_mean", "surface_temperature_mean", "air_temperature", "area_utci_above_32"):
        np.testing.assert_allclose(s1[col], s0[col], rtol=1e-5, atol=1e-4, err_msg=col)
    for col in ("tmrt_p95", "utci_p95"):
        np.testing.assert_allclose(s1[col], s0[col], atol=0.0051, err_msg=col)
    # indicators computed from equal layers are equal
    b0, b1 = building_summary(twin, whole.layers), building_summary(twin, tiled.layers)
    i0 = {i.name: i.value for i in HEAT.indicators(twin, whole, b0)}
    i1 = {i.name: i.value for i in HEAT.indicators(twin, tiled, b1)}
    assert i0 == i1 and len(i0) >= 8


def test_a_short_halo_stays_within_the_derived_sky_view_bound(day_2003):
    twin = make_street_twin(n=120)  # street canyons 12 m high across 4 x 4 tiles of 30 m
    whole = _run(twin, day_2003)
    tiled = _run(twin, day_2003, tile_size=30.0, halo=16.0, scheduler="synchronous")
    bound = tiled.meta["tiling"]["error_bound"]
    # dz = 12 m of buildings above flat ground, H = 16 m: sin^2(atan(12/16)) = 144 / 400
    assert bound["dz"] == pytest.approx(12.0) and bound["halo_m"] == 16.0
    assert bound["svf"] == pytest.approx(0.36) and bound["beta"] == pytest.approx(math.degrees(math.atan(0.75)))
    for name in SKY_VIEW_LAYERS:
        d = tiled[name].astype(np.float64) - whole[name]
        limit = bound["svf"] if name in ("svf", "svf_veg") else bound["svf_vertical"]
        assert np.nanmin(d) >= -1e-6, name  # a tile never sees less sky than the whole grid
        assert np.nanmax(d) <= limit, name
        assert np.nanmax(d) > 1e-3, name  # and the halo does cut off some horizons here
    # shadows are exact while the sun stands above beta: the noon map has the same sun hours as the whole run
    diff = np.abs(tiled["tmrt_hottest"] - whole["tmrt_hottest"])
    assert np.nanmax(diff) < 1.0 and np.nanmean(diff) < 0.05  # measured 0.26 K and 0.003 K
    assert tiled.hottest == whole.hottest


def test_the_bound_shrinks_with_the_halo():
    twin = make_street_twin(n=120)
    b = [halo_error_bound(twin, tile_size=30.0, halo=h)["svf"] for h in (10.0, 20.0, 40.0, 80.0)]
    assert b == sorted(b, reverse=True)
    assert b[-1] == pytest.approx(144.0 / (144.0 + 80.0 ** 2))
    assert halo_error_bound(twin, tile_size=30.0, halo=120.0)["exact"]


def test_tiling_options_are_checked(street_twin):
    with pytest.raises(TwinValueError, match="halo and scheduler need tile_size"):
        HeatModel(street_twin, halo=50.0)
    with pytest.raises(TwinValueError, match="invalid halo"):
        HeatModel(street_twin, tile_size=40.0, halo=-1.0)
    m = HeatModel(street_twin, tile_size=40.0)
    assert m.tiling["halo"] == 100.0 and m.tiling["halo_default_applied"]


def test_a_flat_twin_is_refused_but_a_flat_tile_is_not(day_2003):
    flat = Twin.empty(make_street_twin().grid, terrain=170.0)
    with pytest.raises(TwinValueError, match="flat"):
        HeatModel(flat, tile_size=40.0).run(day_2003)
    twin = make_street_twin(n=80)
    # a 40 m tile of open ground beside the street: its padded window of 10 m has no building
    res = _run(twin, day_2003, tile_size=40.0, halo=2.0)
    assert np.isfinite(res["utci_max"][twin.array("building_id") == 0]).all()


def test_a_tile_follows_the_sweep_lines_of_the_whole_grid():
    from simulation.shadows import sky_view_factor

    rng = np.random.default_rng(3)
    surface = np.full((60, 70), 100.0, np.float32)
    surface[12:48, 18:58] += rng.uniform(0.0, 15.0, (36, 40)).astype(np.float32)  # relief only inside the window
    whole = sky_view_factor(surface=surface, cell_size=1.0, n_azimuths=16, directional=True)
    sub = surface[10:50, 15:60]
    aligned = sky_view_factor(surface=sub, cell_size=1.0, n_azimuths=16, directional=True, grid_offset=(10, 15))
    shifted = sky_view_factor(surface=sub, cell_size=1.0, n_azimuths=16, directional=True)
    for name in whole:
        # nothing outside rises above a viewer, so the tile sees exactly the whole grid's horizons...
        np.testing.assert_array_equal(aligned[name], whole[name][10:50, 15:60], err_msg=name)
    # ... which lines laid from the tile's own corner only approximate
    assert np.abs(shifted["svf"] - whole["svf"][10:50, 15:60]).max() > 1e-3
