import numpy as np
import pytest

from importers import citygml as cg
from importers._common import parse_crs_name
from importers.bdtopo import read_bdtopo
from importers.citygml import read_citygml
from twin import TwinCRSError, TwinFormatError

# file -> (rows, footprint areas [m2], measuredHeight per row, CRS)
OGC = {
    "Building_LOD0-EPSG25832.gml": (1, [50.0], [5.0], "EPSG:25832"),
    "Building_LOD1-EPSG25832.gml": (1, [50.0], [5.0], "EPSG:25832"),
    "Building_LOD2-EPSG25832.gml": (1, [50.0], [5.0], "EPSG:25832"),
    "Building_and_garage_LOD2-EPSG25832.gml": (2, [50.0, 10.0], [6.0, 2.5], "EPSG:25832"),
}


@pytest.mark.parametrize("version", ["ogc_v2", "ogc_v3"])
@pytest.mark.parametrize("name", sorted(OGC))
def test_ogc_samples_v2_and_v3(shared_data, version, name):
    rows, areas, heights, crs = OGC[name]
    m = read_citygml(shared_data / "citygml" / version / name)
    assert m.version == version[-1] + ".0"
    assert m.crs == crs
    b = m.buildings
    assert len(b) == rows and m.counts["buildings"] == 1
    np.testing.assert_allclose(b.area.to_numpy(), areas, rtol=1e-9)
    # measuredHeight (2.0) / con:height (3.0) is the top of the building: roof_height
    np.testing.assert_allclose(b["roof_height"].to_numpy(), heights, rtol=1e-6)
    assert (b["ground_z"] == 112.0).all()
    assert b["year"].iloc[0] == 1985 and b["use"].iloc[0] == "housing"


def test_lod2_geometry_heights_and_semantic_surfaces(shared_data):
    for version in ("ogc_v2", "ogc_v3"):
        m = read_citygml(shared_data / "citygml" / version / "Building_LOD2-EPSG25832.gml")
        b = m.buildings.iloc[0]
        # eaves at 115 m, ridge at 117 m, ground at 112 m
        assert b["height"] == pytest.approx(3.0) and b["height_source"] == "citygml:lod2-geometry"
        s = m.surfaces
        assert sorted(s["surface"]) == ["ground", "roof", "roof", "wall", "wall", "wall", "wall"]
        roofs = s[s["surface"] == "roof"].sort_values("azimuth")
        # a 10 m x 5 m gable roof rising 2 m over 2.5 m: slope atan(2/2.5), faces north and south
        np.testing.assert_allclose(roofs["slope"], np.degrees(np.arctan2(2, 2.5)), rtol=1e-5)
        np.testing.assert_allclose(roofs["azimuth"], [0.0, 180.0], atol=1e-6)
        np.testing.assert_allclose(roofs["area"], 10 * np.hypot(2, 2.5), rtol=1e-5)
        walls = s[s["surface"] == "wall"]
        assert sorted(walls["azimuth"].round(6)) == [0.0, 90.0, 180.0, 270.0]
        assert walls["area"].sum() == pytest.approx(2 * 30 + 2 * 20)
        assert s.geometry.has_z.all()


def test_lod3_read_as_lod2_and_lod1_faces_classified(shared_data):
    m3 = read_citygml(shared_data / "citygml" / "ogc_v2" / "Building_LOD3-EPSG25832.gml")
    b = m3.buildings.iloc[0]
    assert b["lod"] == 2 and b.geometry.area == pytest.approx(50.0)
    assert b["roof_height"] == pytest.approx(5.0)
    # windows and doors are not envelope surfaces; the walls keep their holes
    assert set(m3.surfaces["surface"]) == {"ground", "roof", "wall"}
    m1 = read_citygml(shared_data / "citygml" / "ogc_v3" / "Building_LOD1-EPSG25832.gml")
    s = m1.surfaces
    assert (s["semantics"] == "orientation").all()
    assert sorted(s["surface"]) == ["ground", "roof", "wall", "wall", "wall", "wall"]
    assert m1.buildings["height"].iloc[0] == pytest.approx(4.0)  # the LoD1 block is 4 m tall


def test_local_engineering_crs_is_placed_by_its_anchor(shared_data):
    local = read_citygml(shared_data / "citygml" / "ogc_v2" / "Building_LOD1-LocalEngineeringCRS.gml")
    world = read_citygml(shared_data / "citygml" / "ogc_v2" / "Building_LOD1-EPSG25832.gml")
    assert local.crs == "EPSG:25832"
    assert local.buildings.geometry.iloc[0].equals_exact(world.buildings.geometry.iloc[0], tolerance=1e-6)


def test_building_units_storeys_rooms_are_not_the_envelope(shared_data):
    m = read_citygml(shared_data / "citygml" / "ogc_v3" / "BuildingUnits_Storeys_xlink.gml")
    assert m.crs == "EPSG:25832"  # urn:adv:crs:ETRS89_UTM32*DE_DHHN92_NH
    b = m.buildings
    assert len(b) == 1 and b.area.iloc[0] == pytest.approx(13 * 11)
    assert (m.surfaces["surface"] == "wall").sum() == 4  # 20 interior walls skipped
    assert b["height"].iloc[0] == pytest.approx(6.25) and b["roof_height"].iloc[0] == pytest.approx(10.0)


def test_adv_gauss_kruger_and_con_height(shared_data):
    m = read_citygml(shared_data / "citygml" / "ogc_v3" / "Building_CityGML3.0_LOD2_with_several_attributes.gml")
    assert m.crs == "EPSG:31468"  # urn:adv:crs:DE_DHDN_3GK4*DE_DHHN92_NH
    assert m.buildings["roof_height"].iloc[0] == pytest.approx(8.55)
    assert m.buildings["ground_z"].iloc[0] == pytest.approx(548.47)


def test_opera_lyon_agrees_with_bd_topo(shared_data):
    m = read_citygml(shared_data / "citygml" / "ogc_v3" / "Opera-Lyon_CityGML3.0_LOD2_with_xAL3_FreeText.gml")
    assert m.crs == "EPSG:3946" and len(m.buildings) == 1
    op = m.buildings.iloc[0]
    assert (m.surfaces["surface"] == "ground").sum() > 100  # a triangulated ground, unioned into one footprint
    bd = read_bdtopo(shared_data / "bdtopo_lyon1" / "buildings_lyon1.geojson").buildings
    hit = bd[bd.intersects(op.geometry)]
    best = hit.loc[hit.intersection(op.geometry).area.idxmax()]
    inter = best.geometry.intersection(op.geometry).area
    iou = inter / (best.geometry.area + op.geometry.area - inter)
    assert iou > 0.9  # measured 0.93: two independent surveys of the same opera house
    assert abs(op["height"] - best["height"]) < 1.5  # eaves 20.4 m vs BD TOPO hauteur 21.4 m


def test_lyon_lod2_needs_a_crs(shared_data):
    f = shared_data / "citygml" / "lyon_lod2" / "LYON_1ER_BATI_2015_small_house.gml"
    with pytest.raises(TwinCRSError, match=r"names no CRS \(no srsName\).*EPSG:3946.*--crs"):
        read_citygml(f)
    m = read_citygml(f, default_crs="EPSG:3946")
    b = m.buildings.iloc[0]
    assert b["external_id"] == "BU_69381AB133"  # one part carrying the geometry: one row with the building's id
    assert b["roof_height"] == pytest.approx(10.384)  # measuredHeight of the part
    assert b["ground_z"] == pytest.approx(197.4)
    assert b["height"] == pytest.approx(8.51, abs=0.01)
    assert m.surfaces["area"].sum() > 0 and set(m.surfaces["surface"]) == {"ground", "roof", "wall"}
    m2 = read_citygml(f, default_crs="EPSG:3946", to_crs="EPSG:2154")
    assert m2.crs == "EPSG:2154" and 800_000 < m2.buildings.geometry.iloc[0].centroid.x < 850_000


@pytest.mark.parametrize(
    "name, expected",
    [
        ("EPSG:25832", "EPSG:25832"),
        ("urn:ogc:def:crs:EPSG::2154", "EPSG:2154"),
        ("urn:ogc:def:crs:EPSG:6.12:2154", "EPSG:2154"),
        ("http://www.opengis.net/def/crs/EPSG/0/2154", "EPSG:2154"),
        ("https://www.opengis.net/def/crs/EPSG/0/7415", "EPSG:28992"),
        ("http://www.opengis.net/gml/srs/epsg.xml#3946", "EPSG:3946"),
        ("urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783", "EPSG:25833"),
        ("urn:ogc:def:crs,crs:EPSG::25832,crs:EPSG::5783", "EPSG:25832"),
        ("http://www.opengis.net/def/crs-compound?1=http://www.opengis.net/def/crs/EPSG/0/2154&2=http://www.opengis.net/def/crs/EPSG/0/5720", "EPSG:2154"),
        ("urn:adv:crs:ETRS89_UTM32*DE_DHHN92_NH", "EPSG:25832"),
        ("EPSG:5698", "EPSG:2154"),  # RGF93 Lambert-93 + NGF-IGN69
    ],
)
def test_srs_name_spellings(name, expected):
    assert parse_crs_name(name) == expected


def test_unknown_srs_name_is_an_error():
    with pytest.raises(TwinCRSError, match="not understood"):
        parse_crs_name("urn:my:own:crs")


# -- synthetic files: malformed, malicious ------------------------------------------------------------
V2 = """<?xml version="1.0" encoding="UTF-8"?>
{doctype}<CityModel xmlns="http://www.opengis.net/citygml/2.0" xmlns:gml="http://www.opengis.net/gml"
 xmlns:bldg="http://www.opengis.net/citygml/building/2.0" xmlns:xlink="http://www.w3.org/1999/xlink">
<gml:boundedBy><gml:Envelope srsName="EPSG:2154" srsDimension="3"><gml:lowerCorner>0 0 0</gml:lowerCorner>
<gml:upperCorner>1 1 1</gml:upperCorner></gml:Envelope></gml:boundedBy>
{members}
</CityModel>
"""

MEMBER = """<cityObjectMember><bldg:Building gml:id="B{i}"><gml:name>{name}</gml:name>
<bldg:measuredHeight uom="m">{h}</bldg:measuredHeight>
<bldg:lod1Solid><gml:Solid><gml:exterior><gml:CompositeSurface>
<gml:surfaceMember><gml:Polygon gml:id="P{i}"><gml:exterior><gml:LinearRing><gml:posList srsDimension="3">
{x0} {y0} 30 {x0} {y1} 30 {x1} {y1} 30 {x1} {y0} 30 {x0} {y0} 30</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing>
<gml:pos>{x0} {y0} 40</gml:pos><gml:pos>{x1} {y0} 40</gml:pos><gml:pos>{x1} {y1} 40</gml:pos><gml:pos>{x0} {y1} 40</gml:pos><gml:pos>{x0} {y0} 40</gml:pos>
</gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
<gml:surfaceMember xlink:href="#P{i}"/>
<gml:surfaceMember xlink:href="#nowhere"/>
</gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod1Solid>
</bldg:Building></cityObjectMember>
"""


def synthetic_citygml(path, n=3, doctype="", name="&#x48;ouse"):
    members = "".join(MEMBER.format(i=i, x0=700000 + 20 * i, y0=6600000, x1=700010 + 20 * i, y1=6600008, h=10, name=name)
                      for i in range(n))
    path.write_text(V2.format(doctype=doctype, members=members))
    return path


def test_synthetic_citygml_pos_and_xlinks(tmp_path):
    m = read_citygml(synthetic_citygml(tmp_path / "s.gml", n=3))
    assert len(m.buildings) == 3
    np.testing.assert_allclose(m.buildings.area, 80.0)
    assert (m.buildings["height"] == 10.0).all()  # LoD1 block: top 40 - ground 30
    assert m.counts["unresolved_xlinks"] == 3  # '#nowhere', once per building
    assert m.counts["rows"] == 3  # counted after the last batch of rows is built
    assert m.buildings["name"].iloc[0] == "House"  # character references are not entities


def test_billion_laughs_is_refused(tmp_path):
    bomb = ('<!DOCTYPE CityModel [\n <!ENTITY lol "lol">\n'
            + "".join(f' <!ENTITY lol{i} "{"&lol%s;" % ("" if i == 1 else i - 1) * 10}">\n' for i in range(1, 10))
            + "]>\n")
    f = synthetic_citygml(tmp_path / "bomb.gml", n=1, doctype=bomb, name="&lol9;")
    with pytest.raises(TwinFormatError, match=r"bomb.gml: the XML declares entities in a DTD .*refused"):
        read_citygml(f)


def test_external_entity_is_refused_and_never_read(tmp_path):
    xxe = '<!DOCTYPE CityModel [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'
    f = synthetic_citygml(tmp_path / "xxe.gml", n=1, doctype=xxe, name="&xxe;")
    with pytest.raises(TwinFormatError, match="xxe.gml: the XML declares entities") as err:
        read_citygml(f)
    assert "root:" not in str(err.value)
    dtd = '<!DOCTYPE CityModel SYSTEM "http://example.invalid/citygml.dtd">\n'
    f2 = synthetic_citygml(tmp_path / "dtd.gml", n=1, doctype=dtd)
    with pytest.raises(TwinFormatError, match="dtd.gml: the XML names an external DTD or entity; refused"):
        read_citygml(f2)


def test_parser_itself_expands_nothing_even_past_the_prolog_check(tmp_path, monkeypatch):
    """Defence in depth: with the prolog check bypassed, lxml is still told to resolve no entity."""
    xxe = '<!DOCTYPE CityModel [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'
    f = synthetic_citygml(tmp_path / "xxe.gml", n=1, doctype=xxe, name="&xxe;")
    monkeypatch.setattr(cg, "check_xml_prolog", lambda p: ('<CityModel xmlns="http://www.opengis.net/citygml/2.0">', "CityModel"))
    m = read_citygml(f)
    assert "root:" not in m.buildings["name"].iloc[0]


def test_malformed_truncated_and_foreign_files(tmp_path, shared_data):
    src = (shared_data / "citygml" / "ogc_v2" / "Building_LOD2-EPSG25832.gml").read_bytes()
    cut = tmp_path / "cut.gml"
    cut.write_bytes(src[: len(src) // 2])
    with pytest.raises(TwinFormatError, match="cut.gml: malformed or truncated XML"):
        read_citygml(cut)
    bad = tmp_path / "bad.gml"
    bad.write_text(V2.format(doctype="", members="<cityObjectMember><bldg:Building></cityObjectMember>"))
    with pytest.raises(TwinFormatError, match="bad.gml: malformed or truncated XML"):
        read_citygml(bad)
    notxml = tmp_path / "model.gml"
    notxml.write_text('{"type": "CityJSON"}')
    with pytest.raises(TwinFormatError, match="model.gml: not an XML file"):
        read_citygml(notxml)
    other = tmp_path / "other.xml"
    other.write_text('<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"></kml>')
    with pytest.raises(TwinFormatError, match=r"other.xml: not a CityGML file \(root element 'kml'"):
        read_citygml(other)
    empty = tmp_path / "empty.gml"
    empty.write_text("")
    with pytest.raises(TwinFormatError, match="empty.gml: empty file"):
        read_citygml(empty)
    nums = tmp_path / "nums.gml"
    nums.write_text(synthetic_citygml(tmp_path / "x.gml").read_text().replace("6600008 30", "6600008 thirty", 1))
    with pytest.raises(TwinFormatError, match="nums.gml: non-numeric coordinates in building B0"):
        read_citygml(nums)


_PEAK_RSS = """
import sys
from importers.citygml import CityGMLStream


def hwm():
    return int([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]) * 1024


out = []
for path in sys.argv[1:]:
    n = sum(1 for _ in CityGMLStream(path))
    out.append(f"{n} {hwm()}")
print(" ".join(out))
"""


def test_streaming_memory_does_not_grow_with_the_file(tmp_path):
    """Peak resident memory (libxml2's tree included) of a child process reading 0.3 MB, then 8 MB."""
    import subprocess
    import sys
    from pathlib import Path

    small = synthetic_citygml(tmp_path / "small.gml", n=200)
    large = synthetic_citygml(tmp_path / "large.gml", n=5000)
    assert large.stat().st_size > 20 * small.stat().st_size
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", _PEAK_RSS, str(small), str(large)], capture_output=True, text=True,
                         cwd=root, check=True).stdout.split()
    n_small, p_small, n_large, p_large = (int(v) for v in out)
    assert (n_small, n_large) == (200, 5000)
    # a tree kept whole would add ~10x the file (80 MB); cleared building by building it adds almost nothing
    assert p_large - p_small < 20e6, (p_small, p_large)


def test_two_dimensional_coordinates(tmp_path):
    gml = V2.format(doctype="", members="""<cityObjectMember><bldg:Building gml:id="flat">
<bldg:measuredHeight uom="#m">7.5</bldg:measuredHeight>
<bldg:lod0FootPrint><gml:MultiSurface srsDimension="2"><gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing>
<gml:posList srsDimension="2">700000 6600000 700012 6600000 700012 6600010 700000 6600010 700000 6600000</gml:posList>
</gml:LinearRing></gml:exterior><gml:interior><gml:LinearRing>
<gml:pos srsDimension="2">700002 6600002</gml:pos><gml:pos srsDimension="2">700004 6600002</gml:pos>
<gml:pos srsDimension="2">700004 6600004</gml:pos><gml:pos srsDimension="2">700002 6600004</gml:pos>
</gml:LinearRing></gml:interior></gml:Polygon></gml:surfaceMember></gml:MultiSurface></bldg:lod0FootPrint>
</bldg:Building></cityObjectMember>""")
    f = tmp_path / "flat.gml"
    f.write_text(gml)
    b = read_citygml(f).buildings.iloc[0]
    assert b.geometry.area == pytest.approx(120 - 4)  # the hole (given by pos, closed by the reader) is kept
    assert np.isnan(b["ground_z"])  # 2D: no altitude
    assert b["height"] == 7.5 and b["height_source"] == "citygml:measuredHeight"


def test_ragged_polygons_round_trip_and_gather():
    from importers._city3d import Polygons, _gather

    sq = np.array([[0, 0, 1], [4, 0, 1], [4, 3, 1], [0, 3, 1], [0, 0, 1]], float)
    hole = np.array([[1, 1, 1], [1, 2, 1], [2, 2, 1], [1, 1, 1]], float)
    tri = np.array([[0, 0, 0], [1, 0, 5], [0, 1, 5], [0, 0, 0]], float)
    polys = [("roof", [sq, hole]), ("", [tri])]
    g = Polygons.from_lists(polys)
    assert g.coords.shape == (13, 3) and g.ring_len.tolist() == [5, 4, 4] and g.poly_rings.tolist() == [2, 1]
    back = g.as_lists()
    assert [t for t, _ in back] == ["roof", ""]
    assert all(np.array_equal(a, b) for (_, ra), (_, rb) in zip(polys, back) for a, b in zip(ra, rb))
    start, length = np.array([7, 0, 3]), np.array([2, 3, 0])
    naive = [i for s, n in zip(start, length) for i in range(s, s + n)]
    assert _gather(start, length).tolist() == naive == [7, 8, 0, 1, 2]


@pytest.mark.parametrize("name", ["Building_and_garage_LOD2-EPSG25832.gml", "Opera-Lyon_CityGML3.0_LOD2_with_xAL3_FreeText.gml"])
def test_tables_do_not_depend_on_the_batch_size(shared_data, name):
    """Pieces are turned into rows a batch at a time: one piece per batch gives the same tables."""
    from importers._city3d import CityTables

    f = next((shared_data / "citygml").glob(f"*/{name}"))
    one, many = CityTables(batch=1), CityTables(batch=1024)
    for piece in cg.CityGMLStream(f):
        one.add(piece)
        many.add(piece)
    a, b = one.buildings("EPSG:25832"), many.buildings("EPSG:25832")
    assert len(a) >= 1 and a.drop(columns="geometry").equals(b.drop(columns="geometry"))
    assert (a.geometry.to_wkb() == b.geometry.to_wkb()).all()
    sa, sb = one.surfaces("EPSG:25832"), many.surfaces("EPSG:25832")
    assert len(sa) > 10 and sa.drop(columns="geometry").equals(sb.drop(columns="geometry"))
    assert (sa.geometry.to_wkb() == sb.geometry.to_wkb()).all()
