import json

import numpy as np
import pytest

from importers.cityjson import read_cityjson
from twin import TwinCRSError, TwinFormatError


@pytest.fixture(scope="module")
def cj(shared_data):
    return shared_data / "cityjson"


def test_multi_lod_picks_lod22_with_semantics(cj):
    m = read_cityjson(cj / "multi_lod.json", default_crs="EPSG:28992")
    b = m.buildings
    assert m.version == "2.0" and len(b) == 10 and m.counts["buildings"] == 10
    assert (b["lod"] == 2).all()  # of 1.2, 1.3 and 2.2 the most detailed
    assert set(m.surfaces["surface"]) == {"ground", "roof", "wall"} and (m.surfaces["semantics"] == "file").all()
    raw = json.loads((cj / "multi_lod.json").read_text())
    years = [raw["CityObjects"][i]["attributes"]["oorspronkelijk_bouwjaar"] for i in b["external_id"]]
    assert b["year"].tolist() == years
    ground = [raw["CityObjects"][i]["attributes"]["h_maaiveld"] for i in b["external_id"]]
    # the lowest ground vertex is within a few cm of the BAG ground level attribute
    assert np.max(np.abs(b["ground_z"].to_numpy() - ground)) < 0.5
    assert (b["roof_height"] >= b["height"]).all() and (b["height"] > 2).all()


def test_crs_from_metadata_and_compound_code(cj):
    m = read_cityjson(cj / "delft_1b.json")  # referenceSystem EPSG:7415 = RD New + NAP
    assert m.crs == "EPSG:28992"
    b = m.buildings.iloc[0]
    assert b["measured_height"] == pytest.approx(6.0)  # the attribute, kept
    assert b["height"] == pytest.approx(6.1, abs=0.01)  # LoD1 block from -0.1 to 6.0
    assert b["roof_height"] == pytest.approx(6.1, abs=0.01)  # never below the walls
    assert (m.surfaces["semantics"] == "orientation").all()


def test_building_parts_and_a_missing_reference_system(cj):
    with pytest.raises(TwinCRSError, match="DH_01_subs.city.json: no metadata.referenceSystem"):
        read_cityjson(cj / "DH_01_subs.city.json")
    m = read_cityjson(cj / "DH_01_subs.city.json", crs="EPSG:28992")
    assert m.counts["buildings"] == 4 and m.counts["parts"] == 8
    assert len(m.buildings) == 9  # one building with its own geometry plus 8 parts
    parts = m.buildings[m.buildings["building"] != m.buildings["external_id"]]
    assert len(parts) == 8
    assert (m.buildings["height_source"] == "cityjson:lod2-geometry").all()


def test_rotterdam_multisurface_and_empty_minimal(cj):
    m = read_cityjson(cj / "rotterdam_one.json")
    assert len(m.buildings) == 1 and m.buildings["lod"].iloc[0] == 2
    assert m.buildings["roof_height"].iloc[0] == pytest.approx(15.311, abs=1e-3)
    e = read_cityjson(cj / "minimal.json")
    assert len(e.buildings) == 0 and len(e.surfaces) == 0


def test_cityjsonseq_streams_the_same_buildings(cj, tmp_path):
    doc = json.loads((cj / "multi_lod.json").read_text())
    header = {k: v for k, v in doc.items() if k not in ("CityObjects", "vertices")}
    header.update({"CityObjects": {}, "vertices": [], "metadata": {"referenceSystem": "https://www.opengis.net/def/crs/EPSG/0/7415"}})
    lines = [json.dumps(header)]
    verts = doc["vertices"]
    for oid, obj in doc["CityObjects"].items():
        used = sorted({i for g in obj["geometry"] for i in _flatten(g["boundaries"])})
        remap = {old: new for new, old in enumerate(used)}
        obj2 = json.loads(json.dumps(obj))
        for g in obj2["geometry"]:
            g["boundaries"] = _remap(g["boundaries"], remap)
        lines.append(json.dumps({"type": "CityJSONFeature", "id": oid, "CityObjects": {oid: obj2},
                                 "vertices": [verts[i] for i in used]}))
    seq = tmp_path / "multi_lod.city.jsonl"
    seq.write_text("\n".join(lines) + "\n")
    a = read_cityjson(cj / "multi_lod.json", default_crs="EPSG:28992")
    b = read_cityjson(seq)
    assert b.crs == "EPSG:28992" and len(b.buildings) == 10
    np.testing.assert_allclose(b.buildings["height"], a.buildings["height"], rtol=1e-9)
    np.testing.assert_allclose(b.buildings.area, a.buildings.area, rtol=1e-9)


def _flatten(x):
    if isinstance(x, list):
        for y in x:
            yield from _flatten(y)
    else:
        yield x


def _remap(x, m):
    return [_remap(y, m) for y in x] if isinstance(x, list) else m[x]


def test_bad_cityjson(tmp_path, cj):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(TwinFormatError, match="bad.json: not valid JSON"):
        read_cityjson(bad)
    other = tmp_path / "other.json"
    other.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(TwinFormatError, match="other.json: not a CityJSON file"):
        read_cityjson(other)
    doc = json.loads((cj / "rotterdam_one.json").read_text())
    doc["vertices"] = doc["vertices"][:3]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(doc))
    with pytest.raises(TwinFormatError, match="broken.json: a ring refers to vertices that do not exist"):
        read_cityjson(broken)
