"""twin.tiling: padded windows, clipped tables, dask schedulers, stitching, errors."""

from __future__ import annotations

import functools

import geopandas as gpd
import numpy as np
import pytest
import shapely
from scipy import ndimage

from twin import Grid, Twin
from twin.errors import TwinRuntimeError, TwinValueError
from twin.tiling import map_tiles, tile_cells, tile_of, tile_plan, tile_twin


def _twin(nrows=90, ncols=130, cell=2.0):
    grid = Grid(xmin=1000.0, ymax=5000.0, nrows=nrows, ncols=ncols, cell_size=cell)
    rng = np.random.default_rng(7)
    t = Twin.empty(grid, terrain=rng.normal(100.0, 5.0, grid.shape).astype(np.float32))
    return t


def smooth(sub, *, size):
    """A stencil of radius size // 2 cells: exact tile by tile with a halo of at least that."""
    terrain = sub.array("terrain").astype(np.float64)
    return {"smooth": (ndimage.maximum_filter(terrain, size=size, mode="nearest"), "m", "highest terrain near")}


def counts(sub):
    """How many luminaires and buildings each padded tile carries, as layers (for the clipping test)."""
    shape = sub.grid.shape
    tile = tile_of(sub)
    return {"n_lum": (np.full(shape, len(sub.luminaires), np.int32), "1"),
            "n_bld": (np.full(shape, len(sub.buildings), np.int32), "1"),
            "index": (np.full(shape, sub.meta["tile"]["index"], np.int32), "1"),
            "row0": (np.full(shape, tile.window.row_off, np.int32), "1")}


def test_tile_cells_rounds_the_halo_up():
    g = Grid(xmin=0.0, ymax=100.0, nrows=10, ncols=10, cell_size=2.0)
    assert tile_cells(g, tile_size=500.0, halo=60.0) == (250, 30)
    assert tile_cells(g, tile_size=5.0, halo=61.0) == (2, 31)  # 61 m needs 31 cells of 2 m, not 30
    assert tile_cells(g, tile_size=0.4, halo=0.0) == (1, 0)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), "x"])
def test_invalid_halo_is_refused(bad):
    with pytest.raises(TwinValueError, match="halo"):
        map_tiles(_twin(), functools.partial(smooth, size=3), tile_size=40.0, halo=bad)


def test_invalid_tile_size_and_scheduler_are_refused():
    t = _twin()
    with pytest.raises(TwinValueError, match="tile_size"):
        map_tiles(t, functools.partial(smooth, size=3), tile_size=0.0, halo=2.0)
    with pytest.raises(TwinValueError, match="scheduler"):
        map_tiles(t, functools.partial(smooth, size=3), tile_size=40.0, halo=2.0, scheduler="gpu")


def test_a_stencil_is_exact_with_a_halo_of_its_radius_and_wrong_without():
    t = _twin()
    full = ndimage.maximum_filter(t.array("terrain").astype(np.float64), size=7, mode="nearest")
    ds = map_tiles(t, functools.partial(smooth, size=7), tile_size=50.0, halo=6.0, scheduler="synchronous")  # 3 cells
    assert ds["smooth"].attrs["units"] == "m" and ds["smooth"].attrs["long_name"] == "highest terrain near"
    assert ds.twin.grid == t.grid
    np.testing.assert_array_equal(ds["smooth"].values, full)
    short = map_tiles(t, functools.partial(smooth, size=7), tile_size=50.0, halo=4.0, scheduler="synchronous")
    diff = np.abs(short["smooth"].values - full)
    assert diff.max() > 0.1  # cells near tile edges miss a row of neighbours, some of them the highest
    # ... and only there: rows and columns at least 3 cells from every tile edge are exact
    n, _ = tile_cells(t.grid, tile_size=50.0, halo=0.0)
    r = np.arange(t.grid.nrows) % n
    c = np.arange(t.grid.ncols) % n
    interior = ((r >= 3) & (r < n - 3))[:, None] & ((c >= 3) & (c < n - 3))[None, :]
    assert diff[interior].max() == 0.0


def test_the_same_numbers_whatever_the_scheduler():
    t = _twin(60, 70)
    f = functools.partial(smooth, size=5)
    ref = map_tiles(t, f, tile_size=30.0, halo=4.0, scheduler="synchronous")["smooth"].values
    for scheduler in ("threads", "processes"):
        got = map_tiles(t, f, tile_size=30.0, halo=4.0, scheduler=scheduler, num_workers=2)["smooth"].values
        np.testing.assert_array_equal(got, ref)


def test_cores_partition_the_grid_and_tables_are_clipped_to_the_padded_window():
    t = _twin(40, 60, cell=1.0)  # x 1000..1060, y 4960..5000
    g = t.grid
    # a luminaire on the line between two tiles (x = 1020 is the west edge of the second tile) and one per cell
    xs, ys = np.meshgrid(g.x[::3], g.y[::3])
    pts = list(zip(xs.ravel(), ys.ravel())) + [(1020.0, 4990.5)]
    lum = gpd.GeoDataFrame({"id": np.arange(1, len(pts) + 1), "mounting_height": 6.0, "photometry": "builtin:road-led",
                            "power": 30.0, "flux": 4000.0},
                           geometry=[shapely.Point(p) for p in pts], crs=g.crs)
    t.set_table("luminaires", lum)
    bld = gpd.GeoDataFrame({"id": [1, 2], "height": [10.0, 12.0]},
                           geometry=[shapely.box(1005, 4965, 1035, 4975), shapely.box(1050, 4990, 1055, 4995)], crs=g.crs)
    t.set_table("buildings", bld)
    ds = map_tiles(t, counts, tile_size=20.0, halo=0.0, scheduler="threads")
    tiles = tile_plan(g, tile_size=20.0, halo=0.0)
    assert len(tiles) == 6
    index = ds["index"].values
    for i, tile in enumerate(tiles):
        assert (index[tile.window.slices] == i).all()
        assert (ds["row0"].values[tile.window.slices] == tile.window.row_off).all()
    # with no halo the point tables partition: each luminaire is in exactly one tile
    n_lum = sum(int(ds["n_lum"].values[tile.window.slices][0, 0]) for tile in tiles)
    assert n_lum == len(lum)
    # building 1 spans x 1005..1035, y 4965..4975: tiles of the middle row (y 4960..4980) and columns 0, 1
    n_bld = np.array([int(ds["n_bld"].values[tile.window.slices][0, 0]) for tile in tiles]).reshape(2, 3)
    np.testing.assert_array_equal(n_bld, [[0, 0, 1], [1, 1, 0]])
    # a halo widens what each tile carries
    wide = map_tiles(t, counts, tile_size=20.0, halo=10.0, scheduler="threads")
    assert int(wide["n_bld"].values[0, 0]) == 1


def test_tile_twin_is_a_padded_view_with_its_tile_recorded():
    t = _twin(40, 60, cell=1.0)
    tile = tile_plan(t.grid, tile_size=20.0, halo=5.0)[4]  # second row, second column
    sub = tile_twin(t, tile, index=4)
    assert sub.grid.shape == tile.padded.shape == (25, 30)  # the last row of tiles has no halo below
    assert sub.grid.xmin == t.grid.xmin + 15.0 and sub.grid.ymax == t.grid.ymax - 15.0
    np.testing.assert_array_equal(sub.array("terrain"), t.array("terrain")[tile.padded.slices])
    assert np.shares_memory(sub.array("terrain"), t.array("terrain"))
    assert tile_of(sub) == tile
    np.testing.assert_array_equal(sub.array("terrain")[tile.inner], t.array("terrain")[tile.window.slices])
    with pytest.raises(TwinValueError, match="not a tile"):
        tile_of(t)


def wrong_shape(sub):
    tile = tile_of(sub)
    bad = tile.window.row_off > 0 and tile.window.col_off == 0  # tile 3 only
    return {"x": (np.zeros(tile.window.shape if bad else sub.grid.shape), "m")}


def no_units(sub):
    return {"x": np.zeros(sub.grid.shape)}


def fails_on_third(sub):
    if sub.meta["tile"]["index"] == 2:
        raise TwinValueError("no open cell")
    return {"x": (np.zeros(sub.grid.shape), "m")}


def crashes(sub):
    return {"x": (np.zeros(sub.grid.shape), "m")} if sub.meta["tile"]["index"] != 1 else 1 / 0


def test_errors_name_the_tile():
    t = _twin(40, 60, cell=1.0)
    with pytest.raises(TwinValueError, match=r"tile 3 \(rows 20-39, cols 0-19\): layer 'x' has shape \(20, 20\), "
                                             r"the padded tile is \(24, 24\)"):
        map_tiles(t, wrong_shape, tile_size=20.0, halo=4.0, scheduler="synchronous")
    with pytest.raises(TwinValueError, match=r"^tile \d+ \(rows .*\): layer 'x' has no units"):
        map_tiles(t, no_units, tile_size=20.0, halo=4.0, scheduler="synchronous")
    with pytest.raises(TwinValueError, match=r"^tile 2 \(rows 0-19, cols 40-59\): no open cell$"):
        map_tiles(t, fails_on_third, tile_size=20.0, halo=4.0, scheduler="threads")
    with pytest.raises(TwinRuntimeError, match="tile 1 .*ZeroDivisionError"):
        map_tiles(t, crashes, tile_size=20.0, halo=4.0, scheduler="synchronous")


def with_extra(sub):
    core = sub.array("terrain")[tile_of(sub).inner]
    return {"terrain": sub.array("terrain")}, {"sum": float(core.astype(np.float64).sum()), "cells": core.size}


def test_extras_come_back_in_tile_order_and_glossary_layers_keep_their_dtype():
    t = _twin(40, 60, cell=1.0)
    ds, extras = map_tiles(t, with_extra, tile_size=25.0, halo=3.0, scheduler="threads", extras=True)
    assert ds["terrain"].dtype == np.float32 and ds["terrain"].attrs["units"] == "m"
    np.testing.assert_array_equal(ds["terrain"].values, t.array("terrain"))
    assert [tile for tile, _ in extras] == tile_plan(t.grid, tile_size=25.0, halo=3.0)
    assert sum(e["cells"] for _, e in extras) == t.grid.size
    np.testing.assert_allclose(sum(e["sum"] for _, e in extras), t.array("terrain").astype(np.float64).sum(),
                               rtol=1e-12)
