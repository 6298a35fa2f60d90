"""BD TOPO and Etalab cadastre readers."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from importers._geometry import clean_footprints
from importers.bdtopo import read_bdtopo
from importers.cadastre import read_cadastre
from twin import TwinCRSError, TwinFormatError


@pytest.fixture(scope="module")
def lyon(shared_data):
    return shared_data / "bdtopo_lyon1" / "buildings_lyon1.geojson"


def test_bdtopo_lyon_shapefile_style_fields(lyon):
    src = read_bdtopo(lyon)
    b = src.buildings
    raw = gpd.read_file(lyon)
    assert src.crs == "EPSG:3946"
    assert len(b) == 2576 == len(raw)
    # heights are HAUTEUR, building by building
    np.testing.assert_allclose(b["height"].to_numpy(), raw["HAUTEUR"].to_numpy(), rtol=1e-6)
    assert (b["height_source"] == "bdtopo:hauteur").all()
    assert b["external_id"].tolist() == raw["ID"].tolist()
    # ground altitude from Z_MIN_SOL, else the polygon z (the gutter) minus HAUTEUR
    have = raw["Z_MIN_SOL"].notna().to_numpy()
    np.testing.assert_allclose(b["ground_z"].to_numpy()[have], raw["Z_MIN_SOL"].to_numpy()[have], atol=1e-4)
    assert np.isfinite(b["ground_z"]).all()
    # uses mapped from USAGE1 (plus NATURE for churches and the antique theatre)
    counts = b["use"].value_counts().to_dict()
    assert counts["housing"] == 1495 and counts["religious"] == 12 and counts["culture"] == 1
    # years from DATE_APP, placeholder 1900-01-01 refused
    placeholder = raw["DATE_APP"].astype(str).str.startswith("1900-01-01").to_numpy()
    assert placeholder.sum() > 100 and (b["year"].to_numpy()[placeholder] == 0).all()
    assert (b["year"] == 1850).sum() == 221
    assert b["light"].sum() == 24
    assert b["floors"].max() > 5


def test_bdtopo_geopackage_lowercase_fields_and_missing_altimetry(lyon, tmp_path):
    raw = gpd.read_file(lyon).head(50)
    low = raw.rename(columns={"ID": "cleabs", "NATURE": "nature", "USAGE1": "usage_1", "USAGE2": "usage_2",
                              "LEGER": "construction_legere", "ETAT": "etat_de_l_objet", "NB_LOGTS": "nombre_de_logements",
                              "NB_ETAGES": "nombre_d_etages", "HAUTEUR": "hauteur", "Z_MIN_SOL": "altitude_minimale_sol",
                              "Z_MAX_TOIT": "altitude_maximale_toit", "DATE_APP": "date_d_apparition"})
    low.loc[0, "altitude_minimale_sol"] = -1000.0  # IGN's "no altimetry"
    low.loc[1, "hauteur"] = 0.0                    # no height
    low.loc[2, "etat_de_l_objet"] = "En projet"    # not built
    gpkg = tmp_path / "bdtopo.gpkg"
    low.to_file(gpkg, layer="batiment", driver="GPKG")
    b = read_bdtopo(gpkg).buildings
    assert len(b) == 49
    up = read_bdtopo(lyon).buildings.head(50)
    assert b["external_id"].iloc[0] == up["external_id"].iloc[0]
    assert np.isnan(b["height"].iloc[1]) and b["height_source"].iloc[1] == ""
    # -1000 is missing: the ground comes from the polygon z minus the height
    z_gutter = shapely.get_coordinates(raw.geometry.iloc[0], include_z=True)[:, 2].min()
    assert b["ground_z"].iloc[0] == pytest.approx(z_gutter - raw["HAUTEUR"].iloc[0], abs=1e-3)


def test_bdtopo_refusals(tmp_path, lyon):
    raw = gpd.read_file(lyon).head(5)[["ID", "HAUTEUR", "USAGE1", "geometry"]]
    shp = tmp_path / "bati.shp"
    raw.to_file(shp)
    (tmp_path / "bati.prj").unlink()
    with pytest.raises(TwinCRSError, match=r"bati.shp: the file declares no CRS \(a shapefile needs its .prj\)"):
        read_bdtopo(shp)
    assert read_bdtopo(shp, default_crs="EPSG:3946").crs == "EPSG:3946"
    other = tmp_path / "roads.geojson"
    gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=2154).to_file(other)
    with pytest.raises(TwinFormatError, match="roads.geojson: not a BD TOPO BATIMENT layer"):
        read_bdtopo(other)
    empty = tmp_path / "empty.geojson"
    empty.write_text("")
    with pytest.raises(TwinFormatError, match="empty.geojson: empty file"):
        read_bdtopo(empty)
    broken = tmp_path / "broken.geojson"
    broken.write_text(lyon.read_text()[:5000])
    with pytest.raises(TwinFormatError, match="broken.geojson: not a readable vector file"):
        read_bdtopo(broken)


def test_cadastre_parcels_epinay(shared_data):
    src = read_cadastre(shared_data / "cadastre_91216" / "cadastre-91216-parcelles.json")
    p = src.parcels
    assert src.layer == "parcelles" and p.crs.to_epsg() == 2154
    assert len(p) == 4241
    assert (p["id"].str.len() == 14).all() and p["id"].is_unique
    assert (p["id"].str[:5] == "91216").all() and (p["commune"] == "91216").all()
    assert src.counts["no_contenance"] == 1
    ratio = (p.area / p["contenance"]).dropna()
    # fiscal area vs geometric area in Lambert-93: about 1 % apart, as documented
    assert np.median(np.abs(ratio - 1)) < 0.02
    assert abs(p.area[p["contenance"].notna()].sum() / p["contenance"].sum() - 1) < 0.03


def _bowtie(x, y):
    return shapely.Polygon([(x, y), (x + 10, y + 10), (x + 10, y), (x, y + 10)])


def test_cadastre_buildings_duplicates_and_broken_geometries(tmp_path):
    from pyproj import Transformer

    to_wgs = Transformer.from_crs(2154, 4326, always_xy=True)

    def wgs(poly):
        return shapely.transform(poly, lambda x, y: to_wgs.transform(x, y), interleaved=False)

    x0, y0 = 650000, 6842000
    polys = [
        shapely.box(x0, y0, x0 + 12, y0 + 8),                   # a house
        shapely.box(x0, y0, x0 + 12, y0 + 8),                   # the same house from the next sheet
        shapely.box(x0 + 0.004, y0, x0 + 12.004, y0 + 8),       # and again, 4 mm off
        _bowtie(x0 + 50, y0),                                   # self-intersecting ring
        shapely.box(x0 + 100, y0, x0 + 100.3, y0 + 20),         # a 30 cm sliver
        shapely.box(x0 + 200, y0, x0 + 210, y0 + 10),           # a shed (light)
    ]
    gdf = gpd.GeoDataFrame({"type": ["01", "01", "01", 1, "01", 2], "nom": ["", "", "", "", "", "abri"],
                            "commune": "91216"}, geometry=[wgs(p) for p in polys], crs=4326)
    f = tmp_path / "cadastre-91216-batiments.json"
    gdf.to_file(f, driver="GeoJSON")
    src = read_cadastre(f)
    b = src.buildings.buildings
    assert src.layer == "batiments"
    assert src.counts["dropped_duplicates"] == 2
    assert src.counts["repaired"] == 1
    assert src.counts["dropped_slivers"] == 1
    assert len(b) == 3
    assert b["light"].tolist() == [False, False, True]
    assert b.area.iloc[0] == pytest.approx(96, rel=1e-3)
    # the bow-tie becomes its two triangles (50 m2 each)
    assert b.area.iloc[1] == pytest.approx(50, rel=1e-3)


def test_clean_footprints_keeps_order_and_counts():
    g = gpd.GeoDataFrame({"k": [1, 2, 3, 4]}, geometry=[shapely.box(0, 0, 5, 5), None, shapely.box(0, 0, 5, 5),
                                                        shapely.box(10, 10, 11, 11)], crs=2154)
    out, c = clean_footprints(g)
    assert out["k"].tolist() == [1]
    assert (c.dropped_empty, c.dropped_duplicates, c.dropped_slivers) == (1, 1, 1)
