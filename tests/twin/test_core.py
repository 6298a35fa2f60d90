"""The Twin container, the layer and table glossaries."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from twin import Grid, Twin, TwinValueError
from twin.layers import LAYERS, Landcover
from twin.rasterize import compose_surface, rasterize_buildings, tree_canopy
from twin.tables import conform


def _grid():
    return Grid.from_bounds(1000, 2000, 1040, 2020, cell_size=1.0)


def test_empty_twin_has_the_core_layers_with_glossary_dtypes_and_units():
    t = Twin.empty(_grid(), terrain=150.0)
    for name in ("terrain", "surface", "building_id", "building_height", "canopy_height", "landcover"):
        assert t[name].dtype == LAYERS[name].np_dtype
        assert t[name].attrs["units"] == LAYERS[name].units
        assert t[name].attrs["grid_mapping"] == "spatial_ref"
    assert float(t["terrain"].mean()) == 150.0
    assert t.summary()["bytes_per_cell"] == 21  # 4 float32 + int32 + uint8
    assert t.buildings.empty and "height" in t.buildings.columns


def test_layers_are_checked_against_the_glossary():
    t = Twin.empty(_grid())
    with pytest.raises(TwinValueError, match="shape"):
        t.set_layer("terrain", np.zeros((3, 3)))
    with pytest.raises(TwinValueError, match="contradict the glossary"):
        t.set_layer("terrain", np.zeros(t.grid.shape), units="ft")
    with pytest.raises(TwinValueError, match="give its units"):
        t.set_layer("my_layer", np.zeros(t.grid.shape))
    t.set_layer("my_layer", np.ones(t.grid.shape), units="W m-2")
    assert t["my_layer"].attrs["units"] == "W m-2"
    with pytest.raises(KeyError, match="no layer 'nope'"):
        t["nope"]


def test_copy_is_deep():
    t = Twin.empty(_grid())
    t.set_table("buildings", gpd.GeoDataFrame({"id": [1], "height": [5.0]}, geometry=[shapely.box(1001, 2001, 1005, 2005)], crs="EPSG:2154"))
    c = t.copy()
    c.array("terrain")[:] = 99
    c.tables["buildings"].loc[0, "height"] = 50.0
    c.meta["provenance"].append({"step": "x"})
    assert float(t["terrain"].max()) == 0.0
    assert float(t.buildings.loc[0, "height"]) == 5.0
    assert t.meta["provenance"] == []


def test_shallow_copy_shares_arrays_but_not_the_containers():
    t = Twin.empty(_grid())
    t.set_table("buildings", gpd.GeoDataFrame({"id": [1], "height": [5.0]}, geometry=[shapely.box(1001, 2001, 1005, 2005)], crs="EPSG:2154"))
    c = t.copy(deep=False)
    assert np.shares_memory(c.array("terrain"), t.array("terrain")) and c.buildings is t.buildings
    c.set_layer("svf", np.ones(t.grid.shape, np.float32), units="1")
    c.set_layer("terrain", np.full(t.grid.shape, 7.0))
    c.set_table("trees", gpd.GeoDataFrame({"id": [1], "height": [8.0], "crown_diameter": [4.0]},
                                          geometry=[shapely.Point(1010, 2010)], crs="EPSG:2154"))
    c.add_provenance("x")
    assert "svf" not in t and float(t["terrain"].max()) == 0.0 and "trees" not in t.tables
    assert t.meta["provenance"] == [] and c.grid == t.grid


def test_conform_types_fills_defaults_and_refuses_bad_tables():
    raw = gpd.GeoDataFrame({"id": [1, 2], "height": [5, 6.5], "use": ["school", None]},
                           geometry=[shapely.box(0, 0, 1, 1)] * 2, crs="EPSG:2154")
    b = conform("buildings", raw)
    assert b["id"].dtype == np.int32 and b["height"].dtype == np.float32
    assert list(b["use"]) == ["school", "unknown"]
    assert b["floors"].tolist() == [0, 0] and np.isnan(b["roof_height"]).all()
    with pytest.raises(TwinValueError, match="lacks the required column 'height'"):
        conform("buildings", raw.drop(columns="height"))
    with pytest.raises(TwinValueError, match="duplicate id 1"):
        conform("buildings", raw.assign(id=[1, 1]))
    with pytest.raises(TwinValueError, match="unknown use 'castle'"):
        conform("buildings", raw.assign(use=["castle", "school"]))
    with pytest.raises(TwinValueError, match="ids must be positive"):
        conform("buildings", raw.assign(id=[0, 1]))
    with pytest.raises(TwinValueError, match="2 missing values"):
        conform("buildings", raw.assign(height=[np.nan, np.nan]))
    # a table in another CRS is reprojected to the twin's
    wgs = gpd.GeoDataFrame({"id": [1], "height": [3.0]}, geometry=[shapely.Point(4.85, 45.76).buffer(0.0001)], crs="EPSG:4326")
    t = Twin.empty(Grid.from_bounds(840000, 6510000, 850000, 6525000, cell_size=10))
    t.set_table("buildings", wgs)
    x, y = t.buildings.geometry.iloc[0].centroid.coords[0]
    assert 842000 < x < 845000 and 6518000 < y < 6522000


def test_rasterize_uses_the_cell_centre_rule_and_composes_the_surface():
    grid = Grid.from_bounds(0, 0, 10, 10, cell_size=1.0)
    # x 1.4..4.6 holds the centres 1.5..4.5 (4 columns), y 1.4..3.6 the centres 1.5..3.5 (3 rows)
    b = gpd.GeoDataFrame({"id": [12], "height": [7.5]}, geometry=[shapely.box(1.4, 1.4, 4.6, 3.6)], crs="EPSG:2154")
    ids, h = rasterize_buildings(grid, b)
    assert (ids == 12).sum() == 4 * 3
    assert set(np.unique(h)) == {0.0, 7.5}
    canopy = tree_canopy(grid, [7.5], [7.5], [10.0], [3.0])
    assert canopy.max() == pytest.approx(10.0)  # the trunk cell centre gets the full height
    assert (canopy > 0).sum() == 9  # a 3 m crown covers the 3 x 3 cells whose centres are within 1.5 m
    s = compose_surface(np.full(grid.shape, 100, np.float32), h, canopy)
    assert s.max() == pytest.approx(110.0) and s[8, 2] == pytest.approx(107.5)


def test_landcover_codes_are_stable():
    # these integers are written to files: changing one breaks every saved twin
    assert [int(c) for c in Landcover] == list(range(12))
    assert Landcover.WATER == 7 and Landcover.BUILDING == 1


def test_provenance_time_follows_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    t = Twin.empty(_grid())
    t.add_provenance("import", source="x.gml")
    assert t.meta["provenance"] == [{"step": "import", "time": "2023-11-14T22:13:20+00:00", "source": "x.gml"}]


def test_crop_cuts_layers_and_tables_to_the_extent():
    from shapely.geometry import LineString, Point

    grid = Grid.from_bounds(0, 0, 40, 20, cell_size=1.0)
    t = Twin.empty(grid, terrain=np.arange(grid.size, dtype=np.float32).reshape(grid.shape))
    b = gpd.GeoDataFrame({"id": [1, 2, 3], "height": [6.0, 6.0, 6.0], "use": ["housing"] * 3,
                          "geometry": [shapely.box(2, 2, 6, 6),       # outside the crop
                                       shapely.box(18, 8, 26, 12),    # straddles its west edge
                                       shapely.box(30, 10, 34, 14)]}, crs=grid.crs)
    t.set_table("buildings", b)
    bid, bh = rasterize_buildings(grid, t.buildings)
    t.set_layer("building_id", bid)
    t.set_layer("building_height", bh)
    t.set_table("roads", gpd.GeoDataFrame({"id": [7, 8], "geometry": [LineString([(0, 15), (40, 15)]),
                                                                       LineString([(0, 1), (10, 1)])]}, crs=grid.crs))
    t.set_table("trees", gpd.GeoDataFrame({"id": [1, 2, 3], "height": [8.0] * 3, "crown_diameter": [4.0] * 3,
                                           "geometry": [Point(21, 5), Point(40, 5), Point(20, 5)]}, crs=grid.crs))
    c = t.crop(20.4, 0, 40, 20)            # snapped outward to whole cells: x from 20
    assert c.grid.bounds == (20, 0, 40, 20) and c.grid.shape == (20, 20)
    assert np.array_equal(c.array("terrain"), t.array("terrain")[:, 20:])
    assert sorted(c.buildings["id"]) == [2, 3]
    assert c.buildings.set_index("id").loc[2].geometry.area == 32.0            # kept whole
    assert set(np.unique(c.array("building_id"))) == {0, 2, 3}
    roads = c.roads.set_index("id")
    assert list(roads.index) == [7] and roads.loc[7].geometry.length == pytest.approx(20.0)   # cut at x = 20
    assert sorted(c.trees["id"]) == [1, 3]  # a point on the west edge is in, on the east edge out (Grid.contains)
    assert c.meta["provenance"][-1]["step"] == "crop"
    assert c.meta["provenance"][-1]["extent"] == [20.0, 0.0, 40.0, 20.0]
    c.array("terrain")[0, 0] = -1.0
    assert t.array("terrain")[0, 20] != -1.0 and len(t.buildings) == 3          # the original is untouched
    with pytest.raises(TwinValueError, match="does not overlap"):
        t.crop(100, 100, 200, 200)
    with pytest.raises(TwinValueError, match="empty extent"):
        t.crop(10, 10, 5, 20)
