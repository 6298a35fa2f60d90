import geopandas as gpd
import numpy as np
import pytest
import shapely

from importers.build import build_twin, parse_extent
from importers.rasters import resample_to_grid
from tests.importers.synth import write_tif
from twin import Grid, Twin, TwinValueError
from twin.layers import Landcover


def test_ign_tile_terrain_and_surface_match_the_mnt_and_mns(ign_tile):
    twin, rep = build_twin(terrain=ign_tile["dtm"], surface=ign_tile["dsm"])
    g = twin.grid
    # IGN's quarter-metre offset is rounded to the nearest metre: the 50 m tile gives a 50 x 50 grid
    assert g.bounds == (770550.0, 6277550.0, 770600.0, 6277600.0) and g.shape == (50, 50)
    mnt = resample_to_grid(ign_tile["dtm"], g).values
    mns = resample_to_grid(ign_tile["dsm"], g).values
    np.testing.assert_array_equal(twin.array("terrain"), mnt)
    # no buildings given: the surface is terrain + canopy, the canopy the height model (MNS - MNT) above 0.5 m
    surf = twin.array("surface")
    hm = mns - mnt
    high = hm >= 0.5
    assert np.max(np.abs(surf[high] - mns[high])) < 1e-4
    assert np.max(np.abs(surf[~high] - mns[~high])) <= 0.5
    assert any("canopy from a height model without classes" in w for w in rep.warnings)


def test_ign_tile_from_the_point_cloud_alone(ign_tile):
    twin, rep = build_twin(pointcloud=ign_tile["laz"], extent=(770550, 6277550, 770600, 6277600))
    mnt = resample_to_grid(ign_tile["dtm"], twin.grid).values
    d = np.abs(twin.array("terrain") - mnt)
    assert np.median(d) < 0.03 and np.percentile(d, 95) < 0.15
    lc = twin.array("landcover")
    assert (lc == Landcover.TREES).sum() > 100  # the tile is half trees (classes 4-5)
    assert rep.quality["LiDAR building cells outside footprints"] > 400  # no footprints given: a hint
    assert twin.array("canopy_height").max() > 10


def test_bdtopo_lyon_alone_on_a_flat_default_terrain(shared_data):
    twin, rep = build_twin(buildings=shared_data / "bdtopo_lyon1" / "buildings_lyon1.geojson", crs="EPSG:3946")
    b = twin.buildings
    assert len(b) == 2576 - 13  # 13 slivers (< 2 m2 or < 0.5 m wide) dropped
    assert rep.repairs["dropped_slivers"] == 13
    assert (b["height_source"] == "bdtopo:hauteur").all()
    assert any("no terrain source: flat terrain" in w for w in rep.warnings)
    terrain = twin.array("terrain")
    assert np.ptp(terrain) == 0 and terrain[0, 0] == pytest.approx(np.median(b["ground_z"]), abs=0.01)
    # building_id and building_height agree with the table, cell by cell
    bid, bh = twin.array("building_id"), twin.array("building_height")
    lookup = dict(zip(b["id"], b["height"]))
    cells = bid > 0
    assert np.allclose(bh[cells], np.vectorize(lookup.get)(bid[cells]))
    assert (twin.array("landcover")[cells] == Landcover.BUILDING).all()
    np.testing.assert_allclose(twin.array("surface"), terrain + bh, rtol=0, atol=1e-4)
    # every building that covers a cell centre appears in the layer
    assert len(np.unique(bid[cells])) > 0.97 * len(b)


def test_fusion_citygml_first_then_bdtopo_with_attributes_merged(shared_data):
    d = shared_data / "citygml"
    twin, rep = build_twin(
        buildings=shared_data / "bdtopo_lyon1" / "buildings_lyon1.geojson",
        citygml=[d / "ogc_v3" / "Opera-Lyon_CityGML3.0_LOD2_with_xAL3_FreeText.gml",
                 d / "lyon_lod2" / "LYON_1ER_BATI_2015_small_house.gml"],
        crs="EPSG:3946", source_crs="EPSG:3946",
    )
    b = twin.buildings
    assert rep.buildings["merged"] == 2  # the opera and the house are in BD TOPO too
    assert len(b) == 2576 - 13 - 2 + 2
    opera = b[b["external_id"] == "OPERA_LYON_45"].iloc[0]
    assert opera["height_source"] == "citygml:lod2-geometry"
    assert opera["use"] == "office" and opera["use_source"] == "bdtopo:usage_1"  # from BD TOPO
    assert opera["footprint_source"].startswith("citygml")
    # LoD2 roofs give each cell its own height: the opera's glass vault rises well above its eaves
    cells = twin.array("building_id") == opera["id"]
    bh = twin.array("building_height")[cells]
    assert bh.max() > opera["height"] + 10 and abs(bh.max() - opera["roof_height"]) < 1.0
    s = twin.table("building_surfaces")
    assert set(s["building_id"]) <= set(b["id"]) and (s["building_id"] == opera["id"]).sum() > 2000


def test_heights_from_lidar_then_floors_then_default(tmp_path):
    x0, y0 = 842000.0, 6519100.0
    terrain = np.full((100, 100), 100.0)
    height = np.zeros((100, 100))
    height[20:40, 20:40] = 12.0  # building A's roof, 12 m above ground
    height[20:40, 60:80] = 0.2   # building B: nothing above ground in the height model
    t = write_tif(tmp_path / "mnt.tif", terrain, x0=x0, y0=y0, res=1.0)
    h = write_tif(tmp_path / "mnh.tif", height, x0=x0, y0=y0, res=1.0)
    fp = gpd.GeoDataFrame(
        {"floors": [0, 4, 0, 0], "light": [False, False, False, True]},
        geometry=[shapely.box(x0 + 21, y0 - 39, x0 + 39, y0 - 21), shapely.box(x0 + 61, y0 - 39, x0 + 79, y0 - 21),
                  shapely.box(x0 + 21, y0 - 89, x0 + 39, y0 - 61), shapely.box(x0 + 61, y0 - 89, x0 + 69, y0 - 81)],
        crs="EPSG:2154",
    )
    twin, rep = build_twin(terrain=t, height=h, buildings=fp)
    b = twin.buildings.sort_values("id")
    assert b["height_source"].tolist() == ["lidar:p90", "floors*3m", "default:6m", "default-light:2.5m"]
    np.testing.assert_allclose(b["height"], [12.0, 12.0, 6.0, 2.5])
    assert any("2 buildings have no height" in w for w in rep.warnings)
    assert (b["ground_z"] == 100.0).all()  # from the terrain under the footprint
    # the canopy is the height model outside buildings: nothing here
    assert twin.array("canopy_height").max() == 0.0


def test_broken_geometries_are_repaired_or_dropped_and_counted(tmp_path):
    x0, y0 = 842000.0, 6519000.0
    geoms = [
        shapely.box(x0, y0, x0 + 10, y0 + 10),
        shapely.box(x0, y0, x0 + 10, y0 + 10),                                          # duplicate
        shapely.Polygon([(x0 + 20, y0), (x0 + 30, y0 + 10), (x0 + 30, y0), (x0 + 20, y0 + 10)]),  # bow-tie
        shapely.box(x0 + 40, y0, x0 + 40.2, y0 + 30),                                   # sliver
        None,                                                                           # no geometry
        shapely.box(x0 + 60, y0, x0 + 70, y0 + 10),
    ]
    gdf = gpd.GeoDataFrame({"ID": [f"BATIMENT{i}" for i in range(6)], "HAUTEUR": [9.0] * 6, "USAGE1": ["Résidentiel"] * 6},
                           geometry=geoms, crs="EPSG:2154")
    f = tmp_path / "broken.geojson"
    gdf.to_file(f, driver="GeoJSON")
    twin, rep = build_twin(buildings=f)
    assert len(twin.buildings) == 3
    assert rep.repairs["dropped_duplicates"] == 1
    assert rep.repairs["repaired"] == 1
    assert rep.repairs["dropped_slivers"] == 1
    assert rep.repairs["dropped_empty"] == 1
    assert twin.buildings.geometry.is_valid.all()


def test_cadastre_footprints_and_parcels(shared_data):
    f = shared_data / "cadastre_91216" / "cadastre-91216-parcelles.json"
    twin, rep = build_twin(cadastre=f, extent="650000,6842000,650500,6842500")
    p = twin.parcels
    assert 0 < len(p) < 4241 and rep.parcels == len(p)
    assert (p["id"].str.len() == 14).all()
    assert twin.grid.shape == (500, 500)
    assert "buildings: none" in " ".join(rep.missing)


def test_bad_builds(tmp_path, ign_tile):
    with pytest.raises(TwinValueError, match="nothing to build from"):
        build_twin()
    with pytest.raises(TwinValueError, match=r"extent .* misses every input \(the inputs cover x 770550..770600"):
        build_twin(terrain=ign_tile["dtm"], extent=(0, 0, 100, 100))
    with pytest.raises(TwinValueError, match="invalid resolution"):
        build_twin(terrain=ign_tile["dtm"], resolution=0)
    with pytest.raises(TwinValueError, match="xmax must exceed xmin"):
        parse_extent("10,0,5,5")
    with pytest.raises(TwinValueError, match="expected four numbers"):
        parse_extent("1,2,3")


def test_built_twin_saves_and_opens(tmp_path, shared_data):
    d = shared_data / "citygml" / "lyon_lod2" / "LYON_1ER_BATI_2015_small_house.gml"
    twin, _rep = build_twin(citygml=d, crs="EPSG:3946", source_crs="EPSG:3946", resolution=0.5)
    out = tmp_path / "house.twin"
    twin.save(out)
    back = Twin.open(out)
    assert len(back.buildings) == 1 and len(back.table("building_surfaces")) == 7
    np.testing.assert_array_equal(back.array("building_height"), twin.array("building_height"))
    bh = twin.array("building_height")
    # per-cell LoD2 roof: from the eaves (8.5 m) to the ridge (10.38 m = measuredHeight)
    assert bh.max() == pytest.approx(10.384, abs=0.05) and bh[bh > 0].min() == pytest.approx(8.5, abs=0.1)
    assert back.meta["provenance"][-1]["step"] == "build"
    g = twin.grid
    assert g.cell_size == 0.5 and isinstance(g, Grid)


def test_an_extent_filters_vector_layers_while_reading(shared_data):
    lyon = shared_data / "bdtopo_lyon1" / "buildings_lyon1.geojson"
    twin, rep = build_twin(buildings=lyon, extent=(1841500, 5175800, 1841700, 5176000), crs="EPSG:3946")
    read = next(s for s in rep.sources if s["kind"] == "bdtopo")
    assert int(read["gave"].split()[0]) < 300  # GDAL's bbox filter: only the buildings near the extent are read
    assert 10 < len(twin.buildings) < 100 and twin.grid.shape == (200, 200)
    with pytest.raises(TwinValueError, match="misses every input .no feature of the vector inputs lies within 200 m"):
        build_twin(buildings=lyon, extent=(0, 0, 100, 100), crs="EPSG:3946")
