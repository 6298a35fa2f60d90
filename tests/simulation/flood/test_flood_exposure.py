"""Exposure: hazard rating and classes, building edge rings, residents, roads, counts."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, box

from simulation.flood.exposure import (
    PERSONS_PER_DWELLING,
    building_edge_cells,
    building_exposure,
    exposure_summary,
    flooded_road_length,
    hazard_class,
    hazard_rating,
    residents_estimate,
)
from twin import Grid, Twin
from twin.errors import TwinValueError
from twin.rasterize import rasterize_buildings


def small_town():
    grid = Grid(xmin=0.0, ymax=40.0, nrows=40, ncols=60, cell_size=1.0)
    tw = Twin.empty(grid)
    b = gpd.GeoDataFrame({
        "id": [1, 2, 3, 4],
        "height": [6.0, 9.0, 12.0, 3.0],
        "floors": [2, 0, 0, 1],
        "use": ["housing", "housing", "school", "care_home"],
        "dwellings": [3, 0, 0, 0],
        "geometry": [box(5, 30, 15, 35), box(20, 30, 30, 36), box(40, 10, 50, 20), box(5, 5, 9, 9)],
    }, crs=grid.crs)
    tw.set_table("buildings", b)
    bid, bh = rasterize_buildings(grid, tw.buildings)
    tw.set_layer("building_id", bid)
    tw.set_layer("building_height", bh)
    roads = gpd.GeoDataFrame({"id": [10, 11], "geometry": [LineString([(0, 25), (60, 25)]),
                                                            LineString([(35, 0), (35, 40)])]}, crs=grid.crs)
    tw.set_table("roads", roads)
    return tw


def test_hazard_rating_fd2320():
    # d (v + 0.5) + DF: 0.2 m at 1 m/s -> 0.3 (DF 0); 0.5 m at 1 m/s -> 0.75 + 1 (urban DF 1); 1 m at 3 m/s -> 3.5 + 1
    hr = hazard_rating([0.2, 0.5, 1.0, 0.0], [1.0, 1.0, 3.0, 5.0])
    np.testing.assert_allclose(hr, [0.3, 1.75, 4.5, 0.0])
    np.testing.assert_allclose(hazard_rating([0.5], [0.0], df_mid=0.0, df_high=0.5), [0.25])
    codes, labels = hazard_class([0.0, 0.5, 0.75, 1.0, 1.25, 1.9, 2.0, 7.0])
    assert codes.tolist() == [-1, 0, 1, 1, 2, 2, 3, 3]
    assert labels[1] == "low" and labels[-1].startswith("extreme")
    assert hazard_class([1.5], lang="fr")[1][0].startswith("important")


def test_edge_ring_is_the_open_cells_around_a_building():
    bid = np.zeros((6, 7), np.int32)
    bid[2:4, 2:5] = 9  # 2 x 3 building
    ids, cells = building_edge_cells(bid)
    assert set(ids) == {9}
    assert len(cells) == 4 * 5 - 6  # the 4 x 5 box around it minus the footprint


def test_building_exposure_reads_the_ring():
    tw = small_town()
    md = np.zeros(tw.grid.shape, np.float32)
    hz = np.zeros(tw.grid.shape, np.float32)
    # building 1 spans rows 5..9, cols 5..14; water 0.3 m against its south wall (row 10)
    md[10, 8] = 0.3
    hz[10, 8] = 1.4
    md[12, 8] = 2.0  # two cells away: not on the ring
    # building 3 (school) spans rows 20..29, cols 40..49: 0.6 m at its east side
    md[25, 50] = 0.6
    hz[25, 50] = 2.5
    at = np.full(tw.grid.shape, np.nan, np.float32)
    at[25, 50] = 900.0
    e = building_exposure(tw, max_depth=md, hazard=hz, arrival_time=at)
    assert e.loc[1, "edge_max_depth"] == pytest.approx(0.3) and e.loc[1, "flooded"] and not e.loc[1, "flooded_deep"]
    assert e.loc[1, "hazard_class"].startswith("significant")
    assert e.loc[3, "flooded_deep"] and e.loc[3, "vulnerable"] and e.loc[3, "first_wet_s"] == 900.0
    assert e.loc[2, "edge_max_depth"] == 0.0 and not e.loc[2, "flooded"]
    assert e.loc[1, "edge_cells"] == 12 * 7 - 50
    s = exposure_summary(e, road_length_m=1234.0)
    assert s["buildings_flooded"] == 2 and s["buildings_flooded_deep"] == 1 and s["vulnerable_sites_flooded"] == 1
    assert s["residents_affected"] == pytest.approx(3 * PERSONS_PER_DWELLING)
    assert s["flooded_road_km"] == pytest.approx(1.234)


def test_residents_rule():
    tw = small_town()
    r = residents_estimate(tw.buildings)
    assert r[1] == pytest.approx(3 * 2.2)  # 3 dwellings
    assert r[2] == pytest.approx(60 * 3 / 50.0)  # 60 m2 x (9 m / 3 m) floors / 50 m2
    assert r[3] == 0.0  # a school has no residents
    assert r[4] == pytest.approx(16 * 1 / 50.0)  # care home


def test_flooded_road_length():
    tw = small_town()
    d = np.zeros(tw.grid.shape)
    d[15, 10:30] = 0.2  # row 15 = y 24..25: the east-west road at y = 25 runs along the top edge of row 15
    d[14, 10:30] = 0.2
    d[:, 35] = 0.05  # the north-south road is wet but below 10 cm
    L = flooded_road_length(tw.roads, d, tw.grid, threshold=0.1)
    assert L[10] == pytest.approx(20.0, abs=0.5)
    assert L[11] == 0.0


def test_coarsen_and_refine_round_trip():
    """Coarse blocks: mean terrain, majority walls and land cover, water where half the block is water."""
    from simulation.flood.resample import coarse_grid, coarsen_for_flood, refine
    from twin.layers import Landcover

    grid = Grid(xmin=1.0, ymax=11.0, nrows=10, ncols=9, cell_size=1.0)  # origin not a multiple of 3
    tw = Twin.empty(grid, terrain=np.arange(90, dtype=np.float32).reshape(10, 9))
    bid = np.zeros((10, 9), np.int32)
    bid[0:2, 0:3] = 4  # 6 of the 9 cells of... the first coarse block holds only 2 x 2 twin cells
    tw.set_layer("building_id", bid)
    lc = np.full((10, 9), int(Landcover.GRASS), np.uint8)
    lc[:, 5:] = int(Landcover.ROAD)
    tw.set_layer("landcover", lc)
    wl = np.full((10, 9), np.nan, np.float32)
    wl[:, 7:] = 5.0
    tw.set_layer("water_level", wl)
    cg, oy, ox = coarse_grid(grid, 3)
    assert (cg.xmin, cg.ymax, cg.cell_size, oy, ox) == (0.0, 12.0, 3.0, 1, 1)
    c = coarsen_for_flood(tw, 3)
    assert c.grid.shape == (4, 4)
    # first block: twin cells rows 0..1, cols 0..1 (the rest is outside): all building, mean terrain
    assert c.array("building_id")[0, 0] == 4
    assert c.array("terrain")[0, 0] == pytest.approx(np.mean([0, 1, 9, 10]))
    assert c.array("landcover")[0, 3] == int(Landcover.ROAD)
    assert np.isfinite(c.array("water_level")[1, 3]) and np.isnan(c.array("water_level")[1, 1])
    back = refine(c.array("terrain"), 3, grid)
    assert back.shape == (10, 9) and back[0, 0] == c.array("terrain")[0, 0] and back[9, 8] == c.array("terrain")[3, 3]


def test_depth_at_points_reads_the_cell_or_the_disc_around_the_point():
    from simulation.flood.exposure import depth_at_points

    grid = Grid(xmin=0.0, ymax=10.0, nrows=10, ncols=10, cell_size=1.0)
    d = np.zeros(grid.shape)
    d[2, 3] = 0.30       # the cell (3..4, 7..8)
    d[2, 5] = np.nan     # NoData is ignored
    d[5, 5] = 0.12
    x = np.array([3.5, 4.5, 4.5, 5.5, 30.0, 3.0])
    y = np.array([7.5, 7.5, 7.5, 7.5, 3.0, 8.0])  # the last one on the north-west corner of cell (2, 3)
    own = depth_at_points(x, y, d, grid)
    assert own[0] == pytest.approx(0.30) and own[1] == 0.0 and np.isnan(own[3]) and np.isnan(own[4])
    assert own[5] == pytest.approx(0.30)  # west and north edges belong to the cell
    # within 1 m: the four 4-neighbours' centres are exactly 1 m away, the diagonals 1.41 m
    near = depth_at_points(x, y, d, grid, radius=1.0)
    assert near[1] == pytest.approx(0.30) and near[3] == 0.0  # (5.5, 7.5): its 4-neighbours are dry
    assert depth_at_points([4.5], [6.5], d, grid, radius=1.0)[0] == 0.0        # (2, 3) is 1.41 m away
    assert depth_at_points([4.5], [6.5], d, grid, radius=1.5)[0] == pytest.approx(0.30)  # NaN (2, 5) ignored
    assert depth_at_points([5.5], [3.5], d, grid, radius=1.5)[0] == pytest.approx(0.12)
    with pytest.raises(TwinValueError, match="radius"):
        depth_at_points(x, y, d, grid, radius=-1.0)
    with pytest.raises(TwinValueError, match="shape"):
        depth_at_points(x, y, d[:5], grid)


def test_flooded_points_flags_rows_by_id_above_the_threshold():
    from shapely.geometry import Point

    from simulation.flood.exposure import flooded_points

    grid = Grid(xmin=0.0, ymax=10.0, nrows=10, ncols=10, cell_size=1.0)
    d = np.zeros(grid.shape)
    d[2, 3] = 0.30
    d[2, 4] = 0.20   # exactly the threshold: not flooded (depth > threshold)
    t = gpd.GeoDataFrame({"id": [11, 12, 13, 14], "geometry": [Point(3.5, 7.5), Point(4.5, 7.5), Point(8.5, 1.5),
                                                                 box(3.2, 7.2, 3.8, 7.8)]}, crs=grid.crs)
    f = flooded_points(t, d, grid, threshold=0.2)
    assert list(f.index) == [11, 12, 13, 14] and f.index.name == "id"
    assert f["flooded"].tolist() == [True, False, False, True]  # a polygon is read at a point inside it
    assert f["depth"].to_numpy() == pytest.approx([0.30, 0.20, 0.0, 0.30])
    assert flooded_points(t, d, grid, threshold=0.1)["flooded"].sum() == 3
    assert flooded_points(t.iloc[:0], d, grid, threshold=0.1).empty
    with pytest.raises(TwinValueError, match="threshold"):
        flooded_points(t, d, grid, threshold=-0.1)
