"""Save/open round trips, atomicity and damaged twins, on real files."""

import json
import os

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely

from twin import Grid, Twin, TwinExistsError, TwinFileNotFoundError, TwinFormatError, TwinIOError, open_twin
from twin.io import read_raster, write_raster
from twin.rasterize import compose_surface, rasterize_buildings


@pytest.fixture
def small_twin():
    grid = Grid.from_bounds(842000, 6519000, 842060, 6519040, cell_size=0.5)
    yy, xx = np.meshgrid(grid.y, grid.x, indexing="ij")
    terrain = (170.0 + 0.01 * (xx - grid.xmin) + 0.002 * (yy - grid.ymin)).astype(np.float32)
    terrain[3, 4] = np.nan  # a nodata cell must survive
    t = Twin.empty(grid, terrain=terrain, name="petit")
    b = gpd.GeoDataFrame(
        {"id": [7, 9], "height": [9.5, 12.25], "floors": [3, 4], "use": ["housing", "school"], "year": [1890, 0],
         "name": ["", "École Jules Ferry"], "height_source": ["test", "test"]},
        geometry=[shapely.box(842005, 6519005, 842015, 6519015),
                  shapely.MultiPolygon([shapely.box(842020, 6519005, 842030, 6519012), shapely.box(842031, 6519005, 842035, 6519010)])],
        crs="EPSG:2154",
    )
    t.set_table("buildings", b)
    ids, bh = rasterize_buildings(grid, t.buildings)
    t.set_layer("building_id", ids)
    t.set_layer("building_height", bh)
    t.set_layer("surface", compose_surface(t.array("terrain"), bh, t.array("canopy_height")))
    t.set_layer("svf", np.full(grid.shape, 0.75, np.float32), units="1", long_name="sky-view factor")
    lum = gpd.GeoDataFrame(
        {"id": [1], "mounting_height": [8.0], "photometry": ["builtin:road-led"], "power": [42.0], "flux": [5200.0],
         "cabinet": ["A01"], "installed": [2021]},
        geometry=[shapely.Point(842010, 6519020)], crs="EPSG:2154",
    )
    t.set_table("luminaires", lum)
    t.set_table("building_surfaces", gpd.GeoDataFrame(
        {"building_id": [7], "surface": ["roof"], "slope": [30.0], "azimuth": [180.0]},
        geometry=[shapely.Polygon([(842005, 6519005, 179), (842015, 6519005, 179), (842015, 6519010, 182), (842005, 6519010, 182)])],
        crs="EPSG:2154"))
    t.add_provenance("test", source="unit test")
    return t


def test_round_trip_is_lossless(tmp_path, small_twin):
    path = tmp_path / "petit.twin"
    small_twin.save(path)
    back = open_twin(path)
    assert back.grid == small_twin.grid
    assert list(back.layers.data_vars) == list(small_twin.layers.data_vars)
    for name, da in small_twin.layers.data_vars.items():
        got = back[name]
        assert got.dtype == da.dtype
        np.testing.assert_array_equal(got.values, da.values)  # NaN compares equal here
        assert got.attrs["units"] == da.attrs["units"]
        assert got.attrs.get("long_name") == da.attrs.get("long_name")
    assert back["svf"].attrs["units"] == "1"
    assert set(back.tables) == {"buildings", "luminaires", "building_surfaces"}
    for name, table in small_twin.tables.items():
        got = back.tables[name]
        assert list(got.columns) == list(table.columns)
        assert (got.dtypes == table.dtypes).all(), name
        assert got.drop(columns="geometry").equals(table.drop(columns="geometry"))
        assert all(a.equals_exact(b, 0) for a, b in zip(got.geometry, table.geometry))
    assert back.buildings.loc[1, "name"] == "École Jules Ferry"
    assert back.buildings.geometry.iloc[1].geom_type == "MultiPolygon"
    assert back.table("building_surfaces").geometry.iloc[0].has_z
    assert back.meta["provenance"][0]["source"] == "unit test"
    assert back.name == "petit"


def test_saved_layers_are_plain_geotiffs_that_gis_tools_read(tmp_path, small_twin):
    small_twin.save(tmp_path / "t")
    with rasterio.open(tmp_path / "t" / "layers" / "terrain.tif") as src:
        assert src.crs.to_epsg() == 2154
        assert src.res == (0.5, 0.5)
        assert src.units == ("m",)
        assert (src.bounds.left, src.bounds.top) == (842000.0, 6519040.0)
        assert np.isnan(src.nodata)
    with rasterio.open(tmp_path / "t" / "layers" / "landcover.tif") as src:
        assert src.colormap(1)[7][:3] == (70, 130, 200)  # water is blue in QGIS too
    import pyogrio

    layers = dict(pyogrio.list_layers(tmp_path / "t" / "tables.gpkg"))
    assert set(layers) == {"buildings", "luminaires", "building_surfaces"}


def test_the_dataset_carries_its_crs_for_rioxarray(small_twin):
    rioxarray = pytest.importorskip("rioxarray")
    assert rioxarray  # the accessor registers on import
    da = small_twin["terrain"]
    assert da.rio.crs.to_epsg() == 2154
    assert tuple(da.rio.transform())[:6] == tuple(small_twin.grid.transform)[:6]
    # a selection keeps the CRS (it lives in a coordinate) and the accessor recomputes the grid
    sub = small_twin.layers.isel(x=slice(10, 20), y=slice(4, 8))
    assert sub.twin.grid.bounds == (842005.0, 6519036.0, 842010.0, 6519038.0)


def test_existing_output_needs_overwrite(tmp_path, small_twin):
    path = tmp_path / "t"
    small_twin.save(path)
    with pytest.raises(TwinExistsError, match="--overwrite"):
        small_twin.save(path)
    small_twin.set_layer("terrain", np.zeros(small_twin.grid.shape, np.float32))
    small_twin.save(path, overwrite=True)
    assert float(open_twin(path)["terrain"].max()) == 0.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]  # no temporary left behind


def test_failed_save_leaves_nothing(tmp_path, small_twin):
    bad = small_twin.buildings.copy()
    bad["nested"] = [{"a": 1}, {"b": 2}]  # GeoPackage cannot store dicts
    small_twin.tables["buildings"] = bad
    with pytest.raises(TwinIOError, match="column 'nested' holds dict values"):
        small_twin.save(tmp_path / "t")
    assert list(tmp_path.iterdir()) == []


def test_damaged_or_partial_twins_are_refused(tmp_path, small_twin):
    path = tmp_path / "t"
    small_twin.save(path)
    tif = path / "layers" / "surface.tif"
    data = tif.read_bytes()
    tif.write_bytes(data[: len(data) // 2])
    with pytest.raises(TwinFormatError, match=r"surface\.tif: damaged"):
        open_twin(path)
    tif.unlink()
    with pytest.raises(TwinFileNotFoundError, match=r"surface\.tif: missing"):
        open_twin(path)
    (path / "twin.json").write_text("{ not json")
    with pytest.raises(TwinFormatError, match="damaged manifest"):
        open_twin(path)
    with pytest.raises(TwinFormatError, match="not a twin"):
        open_twin(tmp_path)
    with pytest.raises(TwinFileNotFoundError):
        open_twin(tmp_path / "nowhere")


def test_newer_format_is_refused(tmp_path, small_twin):
    small_twin.save(tmp_path / "t")
    m = json.loads((tmp_path / "t" / "twin.json").read_text())
    m["format_version"] = 99
    (tmp_path / "t" / "twin.json").write_text(json.dumps(m))
    with pytest.raises(TwinFormatError, match="newer"):
        open_twin(tmp_path / "t")


def test_same_twin_same_bytes_under_source_date_epoch(tmp_path, small_twin, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    small_twin.save(tmp_path / "a")
    small_twin.save(tmp_path / "b")
    for f in ["twin.json", "tables.gpkg", "layers/terrain.tif", "layers/landcover.tif"]:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


def test_write_raster_cog_with_units(tmp_path):
    grid = Grid.from_bounds(0, 0, 600, 300, cell_size=1, crs="EPSG:2154")
    values = np.linspace(0, 1, grid.size, dtype=np.float32).reshape(grid.shape)
    p = write_raster(tmp_path / "depth.tif", values, grid, units="m", description="maximum water depth", cog=True)
    arr, g, info = read_raster(p)
    assert g == grid and info["units"] == "m" and info["description"] == "maximum water depth"
    np.testing.assert_array_equal(arr, values)
    with rasterio.open(p) as src:
        assert src.overviews(1)  # cloud-optimised: overviews inside
    assert not [x for x in os.listdir(tmp_path) if x.startswith(".")]
