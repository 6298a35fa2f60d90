"""Luminaire inventory import: CSV (French, ';' and decimal commas), GeoJSON, GeoPackage; clear errors."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from importers.luminaires import import_luminaires, read_luminaires
from twin import Grid, Twin
from twin.errors import TwinFileNotFoundError, TwinFormatError, TwinValueError

GRID = Grid.from_bounds(900, 5900, 1200, 6100, cell_size=1.0)

CSV_FR = """Identifiant;X;Y;Hauteur feu;Photométrie;Puissance;Flux lumineux;Armoire;Année pose;Type;Azimut crosse;TCC
1;1010,5;6000,2;8;builtin:road-led;40;6000;A1;2015;voirie;0;3000
2;1035,5;6000,2;8;builtin:globe-hps;100;9000;A1;01/06/1995;Voirie;;
3;1060,5;6000,2;4,5;optique.ldt;25;3000;A2;;parc;180;2700
"""


@pytest.fixture
def inventory(tmp_path):
    (tmp_path / "optique.ldt").write_text("not read by the importer")
    p = tmp_path / "inventaire.csv"
    p.write_bytes(CSV_FR.encode("latin-1"))
    return p


def test_french_csv(inventory):
    t = read_luminaires(inventory, grid=GRID)
    assert t["id"].tolist() == [1, 2, 3]
    assert t["mounting_height"].tolist() == [8.0, 8.0, 4.5]
    assert t.geometry.x.tolist() == [1010.5, 1035.5, 1060.5]
    assert t["installed"].tolist() == [2015, 1995, 0]
    assert t["kind"].tolist() == ["road", "road", "park"]
    assert t["cabinet"].tolist() == ["A1", "A1", "A2"]
    # the arm azimuth is the orientation (missing: 0)
    assert t["orientation"].tolist() == [0.0, 0.0, 180.0]
    assert t.loc[2, "photometry"].endswith("optique.ldt") and t.loc[0, "photometry"] == "builtin:road-led"
    assert t["cct"].iloc[0] == 3000 and np.isnan(t["cct"].iloc[1])
    assert t.crs.to_epsg() == 2154 and t["flux"].dtype == np.float32


def test_geojson_and_geopackage_round_trip(inventory, tmp_path):
    t = read_luminaires(inventory, grid=GRID)
    t4326 = t.to_crs("EPSG:4326").drop(columns=["photometry"]).assign(photometrie="builtin:road-led")
    t4326["cabinet"] = ["A1", None, "A2"]          # a missing value in the file
    gj = tmp_path / "inv.geojson"
    t4326.to_file(gj, driver="GeoJSON")
    back = read_luminaires(gj, grid=GRID)
    assert np.allclose(back.geometry.x, t.geometry.x, atol=1e-3) and (back["photometry"] == "builtin:road-led").all()
    assert back["cabinet"].tolist() == ["A1", "", "A2"]
    gp = tmp_path / "inv.gpkg"
    t.to_file(gp, layer="points_lumineux", driver="GPKG")
    back = read_luminaires(gp, grid=GRID, layer="points_lumineux")
    assert back["power"].tolist() == [40.0, 100.0, 25.0]
    tw = import_luminaires(Twin.empty(GRID), gp, layer="points_lumineux")
    assert len(tw.luminaires) == 3 and tw.meta["provenance"][-1]["step"] == "import luminaires"


def test_heights_from_altitudes(tmp_path):
    p = tmp_path / "z.csv"
    p.write_text("x,y,z,photometry,power,flux\n1000.5,6000.5,108.0,builtin:road-led,30,3000\n")
    terrain = np.full(GRID.shape, 100.0, np.float32)
    t = read_luminaires(p, grid=GRID, terrain=terrain)
    assert t["mounting_height"].tolist() == [8.0] and t["id"].tolist() == [1]
    p.write_text("x,y,z,photometry,power,flux\n1000.5,6000.5,99.0,builtin:road-led,30,3000\n")
    with pytest.raises(TwinValueError, match=r"z.csv: row 2 \(luminaire 1\): light centre at z = 99.00 m is not above "
                                             r"the ground \(100.00 m\)"):
        read_luminaires(p, grid=GRID, terrain=terrain)


@pytest.mark.parametrize("edit,message", [
    (lambda s: s.replace(";Puissance", ";Watts"), r"missing column 'power' \(or one of: power, puissance"),
    (lambda s: s.replace("builtin:globe-hps", ""), r"row 3 \(luminaire 2\): no photometry"),
    (lambda s: s.replace("optique.ldt", "absent.ldt"), r"row 4 \(luminaire 3\): photometry file 'absent.ldt' not found"),
    (lambda s: s.replace("1035,5", "5035,5"), r"row 3 \(luminaire 2\) at \(5035.5, 6000.2\) lies outside the twin's grid"),
    (lambda s: s.replace(";4,5;", ";-2;"), r"row 4 \(luminaire 3\): mounting height -2 m must be > 0"),
    (lambda s: s.replace(";4,5;", ";0;"), r"row 4 \(luminaire 3\): mounting height 0 m must be > 0"),
    (lambda s: s.replace("\n2;", "\n1;"), r"row 3: duplicate id 1"),
    (lambda s: s.replace(";parc;", ";stade;"), r"row 4 \(luminaire 3\): unknown kind 'stade'"),
    (lambda s: s.replace(";100;", ";cent;"), r"row 3: power 'cent' is not a number"),
    (lambda s: s.replace("X;Y", "E;N"), r"no geometry: give x and y columns"),
])
def test_bad_inventories(inventory, edit, message):
    inventory.write_bytes(edit(CSV_FR).encode("latin-1"))
    with pytest.raises((TwinValueError, TwinFileNotFoundError), match=message):
        read_luminaires(inventory, grid=GRID)


def test_bad_files(tmp_path):
    with pytest.raises(TwinFileNotFoundError, match="luminaire inventory not found"):
        read_luminaires(tmp_path / "none.csv")
    with pytest.raises(TwinFormatError, match="unknown inventory format '.xlsx'"):
        read_luminaires(tmp_path / "inv.xlsx")
    p = tmp_path / "empty.csv"
    p.write_text("x,y,photometry,power,flux\n")
    with pytest.raises(TwinValueError, match="the inventory has no luminaire"):
        read_luminaires(p)
    p = tmp_path / "lines.geojson"
    gpd.GeoDataFrame({"photometry": ["builtin:road-led"], "power": [1.0], "flux": [1.0], "mounting_height": [5.0]},
                     geometry=[shapely.LineString([(1000, 6000), (1001, 6000)])], crs=GRID.crs).to_file(p)
    with pytest.raises(TwinValueError, match="row 1: the geometry is not a point"):
        read_luminaires(p, grid=GRID)
