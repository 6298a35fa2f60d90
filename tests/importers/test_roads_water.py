"""BD TOPO roads (TRONCON_DE_ROUTE) and water surfaces (SURFACE_HYDROGRAPHIQUE / PLAN_D_EAU), read and built.

There is no real road or water sample in ../shared/data: the tests write small BD TOPO files with the real
field names and values (both spellings) and check exact numbers.
"""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from importers.build import build_twin
from importers.roads import lighting_class_for, read_roads, road_surfaces
from importers.water import read_water
from scenarios.cli.main import main
from tests.importers.synth import write_troncons
from twin import Twin, TwinFormatError
from twin.layers import Landcover as LC

X0, Y0 = 842000.0, 6519000.0


def line(*pts):
    return shapely.LineString([(X0 + x, Y0 + y) for x, y in pts])


def seg(i, nature, geom, **kw):
    row = {"cleabs": f"TRONROUT{i:016d}", "nature": nature, "importance": "5", "largeur_de_chaussee": None,
           "nombre_de_voies": None, "position_par_rapport_au_sol": "0", "etat_de_l_objet": "En service",
           "fictif": False, "nom_collaboratif_gauche": None, "nom_collaboratif_droite": None, "geometry": geom}
    row.update(kw)
    return row


def network():
    """14 segments: 8 kept (one a ford), 6 skipped (bridge, tunnel, in construction, fictitious, ferry)."""
    return [
        # kept: width from largeur_de_chaussee, name on the left
        seg(1, "Route à 1 chaussée", line((10, 50), (60, 50)), importance="4", largeur_de_chaussee=6.0,
            nombre_de_voies=2, nom_collaboratif_gauche="Rue de la Gare"),
        # kept: width from nombre_de_voies x 3.5 m, name on the right only
        seg(2, "Route à 2 chaussées", line((60, 50), (60, 90)), importance="2", nombre_de_voies=2,
            nom_collaboratif_droite="Avenue Jean Jaurès"),
        # kept: default width of the nature (no largeur, no lanes), importance NC -> class of the nature
        seg(3, "Route à 1 chaussée", line((60, 50), (95, 50)), importance="NC"),
        seg(4, "Rond-point", line((10, 50), (10, 80)), importance="4", largeur_de_chaussee=7.0),
        seg(5, "Piste cyclable", line((20, 20), (90, 20))),
        seg(6, "Sentier", line((20, 10), (90, 10)), importance="6"),
        seg(7, "Type autoroutier", line((0, 97), (100, 97)), importance="1", nombre_de_voies=3),
        seg(8, "Chemin", line((30, 30), (30, 45)), importance="6", position_par_rapport_au_sol="Gué ou radier"),
        # skipped
        seg(9, "Route à 1 chaussée", line((40, 60), (40, 95)), position_par_rapport_au_sol="1"),
        seg(10, "Route à 1 chaussée", line((45, 60), (45, 95)), position_par_rapport_au_sol="-1"),
        seg(11, "Route à 1 chaussée", line((50, 60), (50, 95)), etat_de_l_objet="En construction"),
        seg(12, "Route à 1 chaussée", line((70, 60), (70, 95)), fictif=True),
        seg(13, "Bac ou liaison maritime", line((75, 60), (75, 95))),
        seg(14, "Route à 1 chaussée", line((80, 60), (80, 95)), etat_de_l_objet="En projet"),
    ]


EXPECTED = {  # external id suffix -> (kind, width, width source, class, class source, name, surface)
    1: ("street", 6.0, "bdtopo:largeur_de_chaussee", "M5", "rule:importance", "Rue de la Gare", LC.ROAD),
    2: ("boulevard", 7.0, "nombre_de_voies*3.5m", "M3", "rule:importance", "Avenue Jean Jaurès", LC.ROAD),
    3: ("street", 5.5, "default:Route à 1 chaussée:5.5m", "M5", "rule:nature", "", LC.ROAD),
    4: ("street", 7.0, "bdtopo:largeur_de_chaussee", "C3", "rule:importance", "", LC.ROAD),
    5: ("path", 2.0, "default:Piste cyclable:2m", "P4", "rule:nature", "", LC.SIDEWALK),
    6: ("path", 1.0, "default:Sentier:1m", "P5", "rule:nature", "", LC.BARE_SOIL),
    7: ("motorway", 10.5, "nombre_de_voies*3.5m", "M2", "rule:importance", "", LC.ROAD),
    8: ("lane", 3.0, "default:Chemin:3m", "P5", "rule:nature", "", LC.BARE_SOIL),
}


def check_table(src):
    r = src.roads
    assert src.counts["read"] == 14 and src.counts["kept"] == 8 == len(r)
    assert src.counts["not_at_ground"] == 2 and src.counts["fords"] == 1
    assert src.counts["not_in_service"] == 2 and src.counts["fictitious"] == 1 and src.counts["ferries"] == 1
    got = {int(e[-2:]): (k, float(w), ws, c, cs, n, s) for e, k, w, ws, c, cs, n, s in
           zip(r["external_id"], r["kind"], r["width"], r["width_source"], r["lighting_class"],
               r["lighting_class_source"], r["name"], r["surface"])}
    assert got == EXPECTED
    assert (r["sidewalk_width"] == 0).all()
    assert set(r.geometry.geom_type) == {"LineString"} and not r.geometry.has_z.any()


def test_troncons_geopackage_lowercase_fields(tmp_path):
    src = read_roads(write_troncons(tmp_path / "bdtopo.gpkg", network()))
    assert src.crs == "EPSG:2154"
    check_table(src)


def test_troncons_shapefile_uppercase_fields_give_the_same_table(tmp_path):
    shp = write_troncons(tmp_path / "TRONCON_DE_ROUTE.shp", network(), upper=True)
    raw = gpd.read_file(shp)
    assert {"ID", "NATURE", "LARGEUR", "NB_VOIES", "POS_SOL", "ETAT", "FICTIF", "NOM_COLL_G"} <= set(raw.columns)
    check_table(read_roads(shp))


def test_troncons_geojson_in_wgs84_with_multilines(tmp_path):
    rows = network()[:3]
    # a MultiLineString whose parts join is merged; one whose parts do not is split into two rows
    rows.append(seg(20, "Route à 1 chaussée", shapely.MultiLineString([[(X0, Y0), (X0 + 5, Y0)], [(X0 + 5, Y0), (X0 + 9, Y0)]])))
    rows.append(seg(21, "Route à 1 chaussée", shapely.MultiLineString([[(X0, Y0 + 3), (X0 + 5, Y0 + 3)],
                                                                    [(X0 + 7, Y0 + 3), (X0 + 9, Y0 + 3)]])))
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:2154").to_crs("EPSG:4326")
    path = tmp_path / "troncons.geojson"
    gdf.to_file(path, driver="GeoJSON")
    src = read_roads(path)
    assert src.crs == "EPSG:4326"
    assert src.counts["multipart_split"] == 1 and len(src.roads) == 6
    back = src.roads.to_crs("EPSG:2154")
    lengths = dict(zip(back["external_id"].str[-2:], back.geometry.length.round(3)))
    assert lengths["20"] == 9.0 and lengths["01"] == 50.0
    assert sorted(back.loc[back["external_id"].str.endswith("21")].geometry.length.round(3)) == [2.0, 5.0]


def test_lighting_class_rule():
    assert [lighting_class_for("Route à 1 chaussée", str(i))[0] for i in range(1, 7)] == ["M2", "M3", "M4", "M5", "P3", "P4"]
    assert [lighting_class_for("Rond-point", i)[0] for i in (1, 2, 3, 4, 5, 6)] == ["C0", "C1", "C2", "C3", "C4", "C5"]
    assert lighting_class_for("Route a 2 chaussees", 3.0) == ("M4", "rule:importance")  # folded, numeric importance
    assert lighting_class_for("Sentier", "1") == ("P5", "rule:nature")  # non-motorised: the nature decides
    assert lighting_class_for("Bretelle", None) == ("M4", "rule:nature")


def test_road_surface_of_a_straight_road_is_length_times_width(tmp_path):
    # 50 m x 6 m on cell lines: exactly 300 cells; 50 m x 5 m off the cell lines: 5 rows of cell centres
    rows = [seg(1, "Route à 1 chaussée", line((10, 50), (60, 50)), largeur_de_chaussee=6.0),
            seg(2, "Route à 1 chaussée", line((10, 20.3), (60, 20.3)), largeur_de_chaussee=5.0)]
    path = write_troncons(tmp_path / "r.gpkg", rows)
    surf = road_surfaces(read_roads(path).roads)
    np.testing.assert_allclose(surf.area, [300.0, 250.0], rtol=1e-12)
    tw, rep = build_twin(roads=path, extent=(X0, Y0, X0 + 100, Y0 + 100))
    lc = tw.array("landcover")
    assert (lc == LC.ROAD).sum() == 550 == rep.roads["cells"]
    rows_on = np.flatnonzero((lc == LC.ROAD).any(axis=1))
    # road 1 covers y 47..53 -> rows 47..52 from the top (ymax = Y0 + 100); road 2 y 17.8..22.8 -> centres 18.5..22.5
    assert rows_on.tolist() == list(range(47, 53)) + list(range(77, 82))
    assert (lc == LC.ROAD).sum(axis=1)[47] == 50


def test_junctions_are_filled_and_dead_ends_are_not_extended(tmp_path):
    # an L of two 6 m roads meeting at (60, 50): the outer corner is filled by the node disc
    rows = [seg(1, "Route à 1 chaussée", line((10, 50), (60, 50)), largeur_de_chaussee=6.0),
            seg(2, "Route à 1 chaussée", line((60, 50), (60, 90)), largeur_de_chaussee=6.0)]
    src = read_roads(write_troncons(tmp_path / "r.gpkg", rows))
    surf = road_surfaces(src.roads)
    union = shapely.union_all(surf.values)
    # two rectangles 300 + 240 m2, their 3 x 3 overlap counted once, plus the outer quarter disc of radius 3
    np.testing.assert_allclose(union.area, 300 + 240 - 9 + np.pi * 9 / 4, rtol=1e-3)
    assert union.contains(shapely.Point(X0 + 62, Y0 + 48))      # the outer corner of the bend
    assert not union.contains(shapely.Point(X0 + 9, Y0 + 50))   # nothing beyond the dead end at x = 10
    assert not union.contains(shapely.Point(X0 + 60, Y0 + 91))


def test_buildings_and_water_take_precedence_over_roads(tmp_path):
    roads = write_troncons(tmp_path / "r.gpkg", [seg(1, "Route à 1 chaussée", line((10, 50), (60, 50)),
                                                     largeur_de_chaussee=6.0)])
    bld = gpd.GeoDataFrame({"height": [10.0]}, geometry=[shapely.box(X0 + 20, Y0 + 45, X0 + 30, Y0 + 60)], crs="EPSG:2154")
    water = gpd.GeoDataFrame({"cleabs": ["SURF_HYD0000000000000001"], "nature": ["Ecoulement naturel"],
                              "persistance": ["Permanent"], "position_par_rapport_au_sol": ["0"]},
                             geometry=[shapely.box(X0 + 40, Y0 + 0, X0 + 45, Y0 + 100)], crs="EPSG:2154")
    wpath = tmp_path / "eau.gpkg"
    water.to_file(wpath, layer="surface_hydrographique", driver="GPKG")
    tw, rep = build_twin(roads=roads, buildings=bld, water=wpath, extent=(X0, Y0, X0 + 100, Y0 + 100))
    lc = tw.array("landcover")
    assert (lc == LC.BUILDING).sum() == 150
    assert (lc == LC.WATER).sum() == 500
    # 300 road cells less the 10 x 6 under the building and the 5 x 6 in the stream
    assert (lc == LC.ROAD).sum() == 300 - 60 - 30
    assert "water_level" not in tw.layers  # no z, no level
    text = rep.format()
    assert "roads     1 segments" in text and "water     1 surfaces, 0 with a level" in text
    assert not any(m.startswith(("roads:", "water:")) for m in rep.missing)


def test_water_surfaces_levels_and_filters(tmp_path):
    def poly3d(x0, y0, x1, y1, z0, z1=None):
        z1 = z0 if z1 is None else z1  # z0 on the west edge, z1 on the east edge
        return shapely.Polygon([(X0 + x0, Y0 + y0, z0), (X0 + x1, Y0 + y0, z1), (X0 + x1, Y0 + y1, z1),
                                (X0 + x0, Y0 + y1, z0)])

    rows = [
        ("Plan d'eau de gravière", "Permanent", "0", poly3d(10, 10, 30, 30, 150.2)),       # a pond: one level
        ("Ecoulement naturel", "Permanent", "0", poly3d(0, 60, 100, 70, 100.0, 99.0)),    # a reach sloping 1 m
        ("Ecoulement naturel", "Permanent", "0", poly3d(60, 10, 70, 20, -1000.0)),        # no altimetry
        ("Ecoulement naturel", "Intermittent", "0", poly3d(80, 10, 90, 20, 120.0)),       # dry most of the year
        ("Canal", "Permanent", "-1", poly3d(40, 80, 50, 90, 110.0)),                      # covered channel
    ]
    gdf = gpd.GeoDataFrame({"cleabs": [f"SURF_HYD{i:016d}" for i in range(5)], "nature": [r[0] for r in rows],
                            "persistance": [r[1] for r in rows], "position_par_rapport_au_sol": [r[2] for r in rows]},
                           geometry=[r[3] for r in rows], crs="EPSG:2154")
    path = tmp_path / "hydro.gpkg"
    gdf.to_file(path, layer="surface_hydrographique", driver="GPKG")
    src = read_water(path)
    assert src.counts["kept"] == 3 and src.counts["intermittent"] == 1 and src.counts["not_at_ground"] == 1
    assert src.counts["with_level"] == 2
    tw, rep = build_twin(water=path, extent=(X0, Y0, X0 + 100, Y0 + 100))
    lc, wl = tw.array("landcover"), tw.array("water_level")
    assert (lc == LC.WATER).sum() == 400 + 1000 + 100 == rep.water["cells"]
    pond = wl[70:90, 10:30]
    np.testing.assert_allclose(pond, 150.2, atol=1e-4)
    reach = wl[30:40, :]
    # linear from 100 m at x = 0 to 99 m at x = 100: the cell centres at x + 0.5
    np.testing.assert_allclose(reach, np.broadcast_to(100.0 - (np.arange(100) + 0.5) / 100.0, (10, 100)), atol=1e-4)
    assert np.isnan(wl[80:90, 60:70]).all() and (lc[80:90, 60:70] == LC.WATER).all()
    assert np.isfinite(wl).sum() == 400 + 1000
    assert "water_level" in rep.layers


def test_uppercase_water_shapefile(tmp_path):
    gdf = gpd.GeoDataFrame({"ID": ["SURF_HYD0000000000000001"], "NATURE": ["Lac"], "PERSISTANC": ["Permanent"],
                            "POS_SOL": [0]}, geometry=[shapely.box(X0, Y0, X0 + 10, Y0 + 10)], crs="EPSG:2154")
    gdf.to_file(tmp_path / "SURFACE_HYDROGRAPHIQUE.shp")
    src = read_water(tmp_path / "SURFACE_HYDROGRAPHIQUE.shp")
    assert src.counts["kept"] == 1 and src.water["external_id"].iloc[0] == "SURF_HYD0000000000000001"
    assert np.isnan(src.water["level"].iloc[0])


def test_bad_road_and_water_files(tmp_path):
    (tmp_path / "empty.gpkg").write_bytes(b"")
    with pytest.raises(TwinFormatError, match=r"empty\.gpkg: empty file"):
        read_roads(tmp_path / "empty.gpkg")
    (tmp_path / "none.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(TwinFormatError, match=r"none\.geojson: no features in the file"):
        read_roads(tmp_path / "none.geojson")
    polys = gpd.GeoDataFrame({"nature": ["Route à 1 chaussée"]}, geometry=[shapely.box(X0, Y0, X0 + 1, Y0 + 1)], crs="EPSG:2154")
    polys.to_file(tmp_path / "polys.geojson", driver="GeoJSON")
    with pytest.raises(TwinFormatError, match=r"polys\.geojson: the geometries are Polygon, not lines"):
        read_roads(tmp_path / "polys.geojson")
    other = gpd.GeoDataFrame({"name": ["x"]}, geometry=[line((0, 0), (1, 1))], crs="EPSG:2154")
    other.to_file(tmp_path / "other.geojson", driver="GeoJSON")
    with pytest.raises(TwinFormatError, match=r"other\.geojson: not a BD TOPO TRONCON_DE_ROUTE layer"):
        read_roads(tmp_path / "other.geojson")
    gpkg = tmp_path / "two.gpkg"
    other.to_file(gpkg, layer="voies", driver="GPKG")
    other.to_file(gpkg, layer="pistes", driver="GPKG")
    with pytest.raises(TwinFormatError, match=r"two\.gpkg: no troncon_de_route layer in the GeoPackage \(layers: voies, pistes\)"):
        read_roads(gpkg)
    with pytest.raises(TwinFormatError, match=r"two\.gpkg: no surface_hydrographique or plan_d_eau layer"):
        read_water(gpkg)
    troncons = write_troncons(tmp_path / "troncons.geojson", network()[:2])
    with pytest.raises(TwinFormatError, match=r"troncons\.geojson: the geometries are LineString, not polygons"):
        read_water(troncons)


def test_cli_build_with_roads_and_water(tmp_path, capsys):
    roads = write_troncons(tmp_path / "TRONCON_DE_ROUTE.shp", network(), upper=True)
    out = tmp_path / "t.twin"
    assert main(["--quiet", "build", "--roads", str(roads), "--extent", f"{X0},{Y0},{X0 + 100},{Y0 + 100}", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "roads     8 segments (widths: " in text and "classes: C3 1, M2 1, M3 1, M5 2, P4 1, P5 2)" in text
    assert "skipped: not at ground 2, not in service 2, fictitious 1, ferries 1" in text
    assert "missing   roads" not in text and "missing   water: none" in text
    tw = Twin.open(out)
    r = tw.roads
    assert len(r) == 8 and r["id"].tolist() == list(range(1, 9))
    assert r.set_index("name").loc["Avenue Jean Jaurès", "lighting_class"] == "M3"
    assert r["width_source"].str.startswith("default").sum() == 4
    # a bad road file: one line naming the file, exit 2, nothing written
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"nature": "x"}, '
                   '"geometry": {"type": "Point", "coordinates": [842000, 6519000]}}]}')
    assert main(["--quiet", "build", "--roads", str(bad), "--crs", "EPSG:2154", "--out", str(tmp_path / "u.twin")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.geojson: the geometries are Point, not lines" in err[0]
    assert not (tmp_path / "u.twin").exists()
