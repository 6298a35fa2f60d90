"""Geometry of buildings on hand shapes: facades per orientation, party walls, floors, roofs."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import affinity

from simulation.energy.geometry import building_geometry, footprint_edges, orientation_bins
from twin.errors import TwinValueError

N, NE, E, SE, S, SW, W, NW = range(8)


def _gdf(polys, **cols):
    n = len(polys)
    data = {"id": np.arange(1, n + 1), "height": [6.0] * n, "floors": [2] * n, "use": ["housing"] * n}
    data.update(cols)
    return gpd.GeoDataFrame(data, geometry=polys, crs="EPSG:2154")


def _geom(gdf, **kw):
    kw.setdefault("storey_height", 3.0)
    kw.setdefault("conditioned", True)
    return building_geometry(gdf, **kw)


def test_box_10_by_20_facades_per_orientation():
    g = _geom(_gdf([shapely.box(100, 200, 110, 220)]))
    expected = np.zeros(8)
    expected[[N, S]] = 10 * 6.0
    expected[[E, W]] = 20 * 6.0
    np.testing.assert_allclose(g.facades[0], expected, atol=1e-9)
    t = g.table.iloc[0]
    assert t["footprint_area"] == pytest.approx(200.0)
    assert t["gross_floor_area"] == pytest.approx(400.0)
    assert t["perimeter"] == pytest.approx(60.0)
    assert t["facade_area"] == pytest.approx(360.0)
    assert t["party_area"] == 0.0
    assert t["roof_loss_area"] == pytest.approx(200.0) and t["ground_area"] == pytest.approx(200.0)


def test_orientation_independent_of_ring_direction():
    cw = shapely.Polygon([(0, 0), (0, 20), (10, 20), (10, 0)])   # clockwise input
    g = _geom(_gdf([cw]))
    assert g.facades[0, E] == pytest.approx(120.0) and g.facades[0, N] == pytest.approx(60.0)
    e = footprint_edges([cw])
    assert sorted(np.round(e["azimuth"]).astype(int).tolist()) == [0, 90, 180, 270]


def test_rotated_box_splits_between_bins():
    box = affinity.rotate(shapely.box(0, 0, 10, 20), -22.5, origin="centroid")   # normals turn clockwise
    g = _geom(_gdf([box]))
    # the 10 m north wall now faces 22.5 deg: half to N, half to NE
    # and the 20 m east wall faces 112.5 deg: half to E, half to SE
    np.testing.assert_allclose(g.facades[0], [30.0, 30.0, 60.0, 60.0, 30.0, 30.0, 60.0, 60.0], atol=1e-9)
    k0, k1, w1 = orientation_bins([0.0, 22.5, 350.0], 8)
    assert k0.tolist() == [0, 0, 7] and k1.tolist() == [1, 1, 0]
    np.testing.assert_allclose(w1, [0.0, 0.5, 350 / 45 - 7])


def test_party_wall_between_two_touching_boxes():
    g = _geom(_gdf([shapely.box(0, 0, 10, 20), shapely.box(10, 0, 22, 20)], height=[6.0, 9.0], floors=[2, 3]))
    # shared edge x = 10, 20 m long, adiabatic over the lower height (6 m)
    np.testing.assert_allclose(g.table["party_area"], [120.0, 120.0])
    assert g.facades[0, E] == pytest.approx(0.0)
    assert g.facades[1, W] == pytest.approx(20 * 9.0 - 120.0)   # the taller one is exposed above its neighbour
    np.testing.assert_allclose(g.table["facade_area"], [360 - 120, 64 * 9 - 120])
    assert g.report["buildings_with_party_walls"] == 2


def test_party_wall_partial_overlap_gap_and_corner():
    polys = [shapely.box(0, 0, 10, 20),
             shapely.box(10.2, 5, 20, 15),       # 0.2 m gap (within tolerance), 10 m of shared wall
             shapely.box(40, 0, 50, 10),
             shapely.box(51, 0, 60, 10),         # 1 m gap: not a party wall
             shapely.box(80, 0, 90, 10),
             shapely.box(90, 10, 100, 20)]       # touches at a corner only
    g = _geom(_gdf(polys))
    np.testing.assert_allclose(g.table["party_area"], [60.0, 60.0, 0, 0, 0, 0], atol=1e-9)


def test_overlapping_footprints_share_the_overlap():
    # data error: the boxes overlap by 1 m; each edge inside the other footprint is a shared wall
    g = _geom(_gdf([shapely.box(0, 0, 10, 10), shapely.box(9, 0, 19, 10)]))
    np.testing.assert_allclose(g.table["party_area"], [(10 - 2 * 0.3) * 6.0] * 2)


def test_party_wall_with_unconditioned_annex():
    g = _geom(_gdf([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 14, 6)], height=[6.0, 3.0], floors=[2, 1]),
              conditioned=[True, False])
    assert g.table.loc[1, "party_area"] == 0.0
    assert g.table.loc[1, "party_area_unconditioned"] == pytest.approx(6 * 3.0)
    assert g.unconditioned_facades[0, E] == pytest.approx(18.0)
    assert g.facades[0, E] == pytest.approx(60.0 - 18.0)
    assert g.table.loc[2, "party_area"] == pytest.approx(18.0)   # the annex sees a heated neighbour


def test_courtyard_walls_face_inwards():
    block = shapely.box(0, 0, 30, 30).difference(shapely.box(10, 10, 20, 20))
    g = _geom(_gdf([block], height=[9.0], floors=[3]))
    for k in (N, E, S, W):
        assert g.facades[0, k] == pytest.approx((30 + 10) * 9.0)
    assert g.table.iloc[0]["footprint_area"] == pytest.approx(800.0)


def test_floors_and_height_rules():
    polys = [shapely.box(i * 50, 0, i * 50 + 10, 10) for i in range(6)]
    gdf = _gdf(polys, height=[np.nan, 0.0, 9.0, 6.0, 10.0, 12.0], floors=[3, 0, 0, 10, 1, 1],
               use=["housing", "housing", "housing", "housing", "sports", "housing"])
    g = _geom(gdf)
    t = g.table
    assert t["height"].tolist() == [9.0, 3.0, 9.0, 6.0, 10.0, 12.0]
    assert t["floors"].tolist() == [3, 1, 3, 2, 1, 4]
    assert t["height_source"].iloc[0] == "floors*storey_height"
    assert t["height_source"].iloc[1] == "default:one_storey"
    assert "contradict" in t["floors_source"].iloc[3]
    assert g.report == {**g.report, "no_height": 1, "height_from_floors": 1, "floors_from_height": 1,
                        "floors_contradict_height": 2}   # 10 floors in 6 m, and one 12 m housing storey
    assert t["floors_source"].iloc[4] == "table"        # a 10 m sports hall on one storey is fine


def test_zero_area_and_empty_footprints_are_not_valid():
    polys = [shapely.box(0, 0, 10, 10), shapely.Polygon([(20, 0), (30, 0), (40, 0)]), shapely.Polygon()]
    g = _geom(_gdf(polys))
    assert g.table["valid"].tolist() == [True, False, False]
    assert g.report["zero_area"] == 2
    assert g.table["gross_floor_area"].iloc[1:].tolist() == [0.0, 0.0]


def test_invalid_footprint_is_repaired():
    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    g = _geom(_gdf([bowtie]))
    assert g.report["invalid_geometry_repaired"] == 1
    assert g.table["footprint_area"].iloc[0] == pytest.approx(50.0)


def test_pitched_roof_from_roof_height():
    g = _geom(_gdf([shapely.box(0, 0, 8, 20)], roof_height=[10.0]))
    planes = g.roof_planes
    assert len(planes) == 2
    slope = np.degrees(np.arctan2(4.0, 4.0))    # 4 m rise over half of the 8 m short side
    np.testing.assert_allclose(planes["slope"], slope)
    assert sorted(planes["azimuth"].round(6).tolist()) == [90.0, 270.0]   # long axis north-south
    assert g.table["roof_area"].iloc[0] == pytest.approx(160.0 / np.cos(np.radians(slope)))
    assert g.table["roof_source"].iloc[0] == "roof_height"
    assert g.table["roof_loss_area"].iloc[0] == pytest.approx(160.0)


def test_archetype_roof_when_no_lod2():
    g = _geom(_gdf([shapely.box(0, 0, 20, 10), shapely.box(50, 0, 60, 10)]), roof_type=["pitched", "flat"],
              roof_pitch=[30.0, 0.0])
    p = g.roof_planes
    assert p[p["building"] == 0]["slope"].tolist() == [30.0, 30.0]
    assert sorted(p[p["building"] == 0]["azimuth"].round(6).tolist()) == [0.0, 180.0]
    assert p[p["building"] == 1]["slope"].tolist() == [0.0]
    assert g.table["roof_source"].tolist() == ["archetype:pitched", "archetype:flat"]


def test_lod2_roof_surfaces():
    b = _gdf([shapely.box(0, 0, 10, 8)])
    # two planes of a gable roof, ridge along x at y = 4, eaves at 6 m, ridge at 9 m
    south = shapely.Polygon([(0, 0, 6), (10, 0, 6), (10, 4, 9), (0, 4, 9)])
    north = shapely.Polygon([(0, 4, 9), (10, 4, 9), (10, 8, 6), (0, 8, 6)])
    surf = gpd.GeoDataFrame({"building_id": [1, 1], "surface": ["roof", "roof"], "area": [np.nan, np.nan],
                             "slope": [np.nan, np.nan], "azimuth": [np.nan, np.nan]}, geometry=[south, north],
                            crs="EPSG:2154")
    g = _geom(b, surfaces=surf)
    p = g.roof_planes.sort_values("azimuth")
    np.testing.assert_allclose(p["area"], [50.0, 50.0])               # 10 m x 5 m (3-4-5 slope)
    np.testing.assert_allclose(p["slope"], np.degrees(np.arctan2(3, 4)))
    np.testing.assert_allclose(p["azimuth"], [0.0, 180.0], atol=1e-9)
    np.testing.assert_allclose(p["z"], [7.5, 7.5])
    assert g.table["roof_source"].iloc[0] == "lod2"
    assert g.table["roof_area"].iloc[0] == pytest.approx(100.0)


def test_refuses_geographic_crs_and_bad_parameters():
    gdf = _gdf([shapely.box(4.8, 45.7, 4.81, 45.71)]).set_crs("EPSG:4326", allow_override=True)
    with pytest.raises(TwinValueError, match="geographic"):
        _geom(gdf)
    with pytest.raises(TwinValueError, match="n_orientations"):
        _geom(_gdf([shapely.box(0, 0, 1, 1)]), n_orientations=2)
