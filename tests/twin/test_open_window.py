"""Opening a window of a saved twin (windowed GeoTIFF reads, bbox GeoPackage reads) and map_tiles on a path."""

from __future__ import annotations

import functools
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely

from twin import Grid, Twin
from twin.errors import TwinFormatError, TwinValueError
from twin.grid import Window
from twin.io import open_window
from twin.tables import clip_to_grid
from twin.tiling import map_tiles, open_tile, tile_plan, tile_twin

X0, Y1 = 842000.0, 6519300.0  # north-west corner; 1 m cells, 300 rows x 280 columns (GeoTIFF blocks of 256)


def _town() -> Twin:
    grid = Grid(xmin=X0, ymax=Y1, nrows=300, ncols=280, cell_size=1.0)
    rng = np.random.default_rng(11)
    t = Twin.empty(grid, terrain=rng.normal(150.0, 3.0, grid.shape).astype(np.float32), name="fenêtre")
    t.set_layer("svf", rng.random(grid.shape).astype(np.float32), units="1", long_name="sky-view factor")
    t.set_layer("landcover", rng.integers(0, 12, grid.shape).astype(np.uint8))
    # luminaires on a 10 m lattice at cell centres (x = X0 + 5.5 + 10 i, y = Y1 - 5.5 - 10 j): 28 x 30 = 840,
    # and two on the line x = X0 + 100 (a window's west edge: in; or its east edge: out)
    xs, ys = np.meshgrid(X0 + 5.5 + 10 * np.arange(28), Y1 - 5.5 - 10 * np.arange(30))
    pts = [shapely.Point(x, y) for x, y in zip(xs.ravel(), ys.ravel())]
    pts += [shapely.Point(X0 + 100.0, Y1 - 50.25), shapely.Point(X0 + 100.0, Y1 - 150.25)]
    n = len(pts)
    t.set_table("luminaires", gpd.GeoDataFrame(
        {"id": np.arange(1, n + 1), "mounting_height": 8.0, "photometry": "builtin:road-led", "power": 40.0,
         "flux": 6000.0, "cabinet": [f"C{k % 7}" for k in range(n)]}, geometry=pts, crs=grid.crs))
    # buildings: 20 m squares every 40 m (7 x 7 = 49 from x = X0 + 10, y = Y1 - 30)
    boxes = [shapely.box(X0 + 10 + 40 * i, Y1 - 30 - 40 * j, X0 + 30 + 40 * i, Y1 - 10 - 40 * j)
             for j in range(7) for i in range(7)]
    t.set_table("buildings", gpd.GeoDataFrame(
        {"id": np.arange(1, 50), "height": np.linspace(4.0, 20.0, 49)}, geometry=boxes, crs=grid.crs))
    # one east-west road across the whole town at y = Y1 - 95 and one north-south at x = X0 + 205
    t.set_table("roads", gpd.GeoDataFrame(
        {"id": [1, 2], "name": ["rue Longue", "rue Haute"], "kind": ["residential", "residential"], "width": [8.0, 6.0]},
        geometry=[shapely.LineString([(X0, Y1 - 95), (X0 + 280, Y1 - 95)]),
                  shapely.LineString([(X0 + 205, Y1), (X0 + 205, Y1 - 300)])], crs=grid.crs))
    t.add_provenance("test", source="unit test")
    return t


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    t = _town()
    path = tmp_path_factory.mktemp("win") / "town.twin"
    t.save(path)
    return path, Twin.open(path)


def _same_tables(got: Twin, expected: dict):
    assert list(got.tables) == list(expected)
    for name, table in expected.items():
        pd.testing.assert_frame_equal(pd.DataFrame(got.tables[name]), pd.DataFrame(table))


def _same_layers(got: Twin, ref: Twin):
    assert got.grid == ref.grid
    assert list(got.layers.data_vars) == list(ref.layers.data_vars)
    for name in ref.layers.data_vars:
        assert got[name].dtype == ref[name].dtype and got[name].attrs == ref[name].attrs
        np.testing.assert_array_equal(got.array(name), ref.array(name))
    assert got.layers["x"].equals(ref.layers["x"]) and got.layers["y"].equals(ref.layers["y"])
    assert got.layers["spatial_ref"].attrs == ref.layers["spatial_ref"].attrs


def test_the_layers_are_tiled_geotiffs_read_by_blocks(saved):
    path, _ = saved
    with rasterio.open(path / "layers" / "terrain.tif") as src:
        assert src.block_shapes == [(256, 256)]  # a window reads only the blocks it touches


@pytest.mark.parametrize("window", [Window(100, 100, 100, 100),   # inside, across the block corner (256 is not)
                                    Window(230, 200, 70, 80),     # the south-east corner, across blocks 0 and 1
                                    Window(280, 260, 50, 50),     # partly outside: clipped to 20 x 20
                                    Window(0, 0, 300, 280)])      # the whole grid
def test_a_window_equals_the_full_open_then_the_window(saved, window):
    path, full = saved
    sub = Twin.open(path, window=window)
    w = window.intersection(full.grid.full_window)
    ref = full.window(w)
    _same_layers(sub, ref)
    _same_tables(sub, {name: clip_to_grid(t, sub.grid) for name, t in full.tables.items()})
    assert sub.meta["provenance"][-1]["step"] == "open_window"
    assert sub.meta["provenance"][-1]["window"] == [w.row_off, w.col_off, w.height, w.width]
    assert sub.meta["name"] == "fenêtre"


def test_table_rows_of_a_window(saved):
    path, full = saved
    # x 100..200, y Y1-200..Y1-100: luminaires at x = 105.5..195.5 (10) and y = -105.5..-195.5 (10)
    sub = Twin.open(path, window=Window(100, 100, 100, 100))
    lum = sub.luminaires
    assert len(lum) == 10 * 10 + 1  # plus the one on the west edge (x = 100, y = -150.25); the other is north
    assert ((lum.geometry.x >= X0 + 100) & (lum.geometry.x < X0 + 200)).all()
    # buildings: x in [10 + 40 i, 30 + 40 i] meets [100, 200] for i = 2..4 (90-110, 130-150, 170-190), and
    # y likewise for j = 2..4 (Y1-110..-90 etc.): 3 x 3 = 9, whole (not cut)
    assert len(sub.buildings) == 9
    assert sub.buildings.geometry.area.eq(400.0).all()
    assert list(sub.roads["id"]) == [] and len(sub.roads) == 0  # y = -95 and x = 205 lie outside
    # indexes are the rows' positions in the whole table, as a selection of the opened twin has them
    np.testing.assert_array_equal(sub.buildings.index, full.buildings.index[full.buildings["id"].isin(
        sub.buildings["id"])])
    # the window just east of it has the luminaire of its west edge, and both roads
    east = Twin.open(path, window=Window(0, 100, 300, 100))
    assert len(east.luminaires) == 10 * 30 + 2
    assert sorted(east.roads["id"]) == [1]
    assert east.roads.geometry.length.iloc[0] == 280.0  # lines are kept whole, as tiles carry them


def test_bounds_snap_outward_to_cells(saved):
    path, full = saved
    sub = Twin.open(path, bounds=(X0 + 10.2, Y1 - 60.5, X0 + 49.9, Y1 - 20.0))
    assert sub.grid.bounds == (X0 + 10.0, Y1 - 61.0, X0 + 50.0, Y1 - 20.0)
    assert sub.grid.shape == (41, 40)
    _same_layers(sub, full.window(full.grid.window(X0 + 10.2, Y1 - 60.5, X0 + 49.9, Y1 - 20.0)))
    assert sorted(sub.buildings["id"]) == [1, 2, 8, 9]  # (10..30, 50..70) x (-30..-10, -70..-50)


def test_bad_windows_are_refused(saved):
    path, _ = saved
    with pytest.raises(TwinValueError, match="window or bounds"):
        open_window(path)
    with pytest.raises(TwinValueError, match="window or bounds"):
        open_window(path, Window(0, 0, 5, 5), bounds=(X0, Y1 - 5, X0 + 5, Y1))
    with pytest.raises(TwinValueError, match="does not overlap"):
        Twin.open(path, bounds=(0.0, 0.0, 10.0, 10.0))
    with pytest.raises(TwinValueError, match="empty bounds"):
        Twin.open(path, bounds=(X0 + 10, Y1 - 5, X0 + 10, Y1))


def test_a_partial_read_checks_sizes_not_checksums(tmp_path):
    path = tmp_path / "t.twin"
    _town().save(path)
    manifest = json.loads((path / "twin.json").read_text())
    manifest["files"]["layers/terrain.tif"]["sha256"] = "0" * 64  # as if a byte had changed in place
    (path / "twin.json").write_text(json.dumps(manifest))
    with pytest.raises(TwinFormatError, match="terrain.tif: damaged"):
        Twin.open(path)  # a full open verifies every checksum, as before
    with pytest.raises(TwinFormatError, match="terrain.tif: damaged"):
        open_window(path, Window(0, 0, 10, 10), verify=True)
    assert Twin.open(path, window=Window(0, 0, 10, 10)).grid.shape == (10, 10)  # documented: not hashed
    with pytest.raises(TwinFormatError, match="terrain.tif: damaged"):
        map_tiles(path, relief, tile_size=100.0, halo=0.0, scheduler="synchronous")  # hashed once on the client
    assert map_tiles(path, relief, tile_size=100.0, halo=0.0, scheduler="synchronous", verify=False)["r"].shape == (300, 280)
    # a truncated file changes its size: refused by every read
    with open(path / "layers" / "svf.tif", "r+b") as f:
        f.truncate(1000)
    with pytest.raises(TwinFormatError, match="svf.tif: damaged"):
        Twin.open(path, window=Window(0, 0, 10, 10))


def relief(sub):
    return {"r": (sub.array("terrain") - sub.array("terrain").min(), "m")}


def neighbourhood(sub, *, size):
    """A stencil, a layer of table counts and per-tile sums: everything a tile reads from its sub-twin."""
    from scipy import ndimage

    terrain = sub.array("terrain").astype(np.float64)
    shape = sub.grid.shape
    layers = {"smooth": (ndimage.uniform_filter(terrain, size=size, mode="nearest"), "m"),
              "svf_max": (ndimage.maximum_filter(sub.array("svf"), size=size, mode="nearest"), "1"),
              "n_lum": (np.full(shape, len(sub.luminaires), np.int32), "1"),
              "n_bld": (np.full(shape, len(sub.buildings), np.int32), "1")}
    extra = {"ids": sub.luminaires["id"].tolist(), "heights": sub.buildings["height"].tolist(),
             "x0": float(sub.layers["x"][0]), "meta": sorted(sub.meta), "tile": sub.meta["tile"]}
    return layers, extra


@pytest.mark.parametrize("scheduler", ["synchronous", "processes"])
def test_map_tiles_on_a_path_equals_the_in_memory_run(saved, scheduler):
    path, full = saved
    f = functools.partial(neighbourhood, size=9)
    kw = {"tile_size": 100.0, "halo": 4.0, "extras": True}
    ref, ref_extras = map_tiles(full, f, scheduler="synchronous", **kw)
    got, got_extras = map_tiles(str(path), f, scheduler=scheduler, num_workers=2, **kw)
    assert len(got_extras) == 3 * 3
    assert got.identical(ref)  # values, dtypes, units, coordinates, attributes
    assert got_extras == ref_extras
    # the tiles carry what the whole grid has: 842 luminaires over the cores (halo 4 m: some in two tiles)
    assert sum(len(e["ids"]) for _, e in got_extras) > 842
    assert {i for _, e in got_extras for i in e["ids"]} == set(range(1, 843))


def test_open_tile_is_tile_twin_of_the_opened_twin(saved):
    path, full = saved
    tile = tile_plan(full.grid, tile_size=100.0, halo=30.0)[4]
    a, b = open_tile(path, tile, index=4), tile_twin(full, tile, index=4)
    _same_layers(a, b)
    _same_tables(a, b.tables)
    assert a.meta == b.meta
    assert not np.shares_memory(a.array("terrain"), full.array("terrain"))
