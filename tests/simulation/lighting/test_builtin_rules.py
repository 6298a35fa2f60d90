"""Built-in optics, the 2018 light-nuisance rules, DSFLI and the trame noire, on hand cases."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from simulation.lighting.builtin import builtin, builtin_names
from simulation.lighting.photometry import Photometry
from simulation.lighting.registry import PhotometryRegistry
from simulation.lighting.rules import RULES_2018, dsfli, luminaire_checks, trame_noire
from twin.errors import TwinFileNotFoundError, TwinValueError
from twin.layers import Landcover


def test_builtin_optics_have_their_documented_properties():
    road, globe, ped = builtin("road-led"), builtin("builtin:globe-hps"), builtin("pedestrian-led")
    assert builtin_names() == ["builtin:road-led", "builtin:globe-hps", "builtin:pedestrian-led"]
    assert road.ulr == 0.0 and road.n3 == pytest.approx(0.9907, abs=5e-4) and road.cct == 3000
    assert road.lor == pytest.approx(0.88)
    # batwing: in the C0-C180 plane (along the road) the intensity peaks at 65 deg, 4 x the nadir value
    c0 = road.intensity_at(0.0, road.gamma_angles)
    assert road.gamma_angles[np.argmax(c0)] == 65.0 and c0.max() / c0[0] == pytest.approx(4.0, rel=0.01)
    assert road.intensity_at(180.0, 65.0) == pytest.approx(road.intensity_at(0.0, 65.0))
    # street side (C90) reaches farther than the house side (C270)
    assert road.intensity_at(90.0, 45.0) > 5 * road.intensity_at(270.0, 45.0)
    assert globe.ulr == pytest.approx(0.259, abs=2e-3) and globe.n3 == pytest.approx(0.597, abs=2e-3)
    assert globe.cct == 2000 and globe.c_angles.size == 1
    assert ped.ulr == pytest.approx(0.01, abs=1e-9) and ped.cct == 2700 and ped.n3 == pytest.approx(0.969, abs=2e-3)
    with pytest.raises(TwinValueError, match="unknown built-in photometry 'builtin:cobra'"):
        builtin("builtin:cobra")


def test_registry_resolves_builtins_and_files(tmp_path):
    from simulation.lighting.photometry import write_ldt

    write_ldt(builtin("pedestrian-led"), tmp_path / "ped.ldt", isym=1)
    reg = PhotometryRegistry([tmp_path])
    p = reg.resolve("ped.ldt")
    assert p is reg.resolve(" ped.ldt ")          # cached
    assert p.ulr == pytest.approx(0.01, abs=1e-3)
    assert reg.resolve("builtin:road-led").name == "road-led"
    with pytest.raises(TwinFileNotFoundError, match=r"photometry 'nope.ies': not a built-in optic"):
        reg.resolve("nope.ies")
    with pytest.raises(TwinValueError, match="empty photometry reference"):
        reg.resolve("  ")


def _table(rows):
    n = len(rows)
    defaults = {"tilt": 0.0, "cabinet": "A", "cct": np.nan, "ulr": np.nan, "n3": np.nan, "installed": 2010,
                "kind": "road", "flux": 6000.0, "road_id": 1}
    keys = set(defaults) | {k for r in rows for k in r}
    base = {k: [r.get(k, defaults.get(k)) for r in rows] for k in keys}
    base["id"] = np.arange(1, n + 1)
    return gpd.GeoDataFrame(base, geometry=shapely.points(np.arange(n) * 25.0, np.zeros(n)), crs="EPSG:2154")


def test_rule_checks_on_hand_cases():
    up = Photometry("uplight", "uplight", np.array([0.0]), np.array([0.0, 90.0, 180.0]), np.array([[0.0, 100, 100]]))
    phots = [builtin("globe-hps"), builtin("road-led"), up]
    lum = _table([
        {"photometry": "builtin:globe-hps", "kind": "road", "installed": 1995},   # 0: old globe on a road
        {"photometry": "builtin:road-led", "kind": "road", "installed": 2022},    # 1: new LED
        {"photometry": "builtin:road-led", "kind": "road", "installed": 2022, "tilt": 25.0},  # 2: tilted
        {"photometry": "builtin:road-led", "kind": "road", "installed": 2022, "cct": 4000.0},  # 3: too blue
        {"photometry": "builtin:globe-hps", "kind": "park", "installed": 1995},   # 4: globe in a park
        {"photometry": "uplight", "kind": "road", "installed": 2000},             # 5: uplight
    ])
    lut = np.array([0, 1, 1, 1, 0, 2])
    out = luminaire_checks(lum, phots, lut)
    r = out.set_index("id")
    assert r.loc[1, "ulr_installed"] == pytest.approx(25.9, abs=0.2)
    assert not r.loc[1, "ulr_ok"] and not r.loc[1, "n3_ok"] and r.loc[1, "cct_ok"] and not r.loc[1, "compliant"]
    assert "installed ULR 25.9 % >= 4 %" in r.loc[1, "issues"] and "N3 59.7 % < 95 %" in r.loc[1, "issues"]
    assert r.loc[2, "compliant"] and r.loc[2, "issues"] == ""
    # tilting a full cut-off optic by 25 deg sends light up: the nominal (flat) ULR stays 0, the installed one grows
    assert r.loc[3, "ulr_nominal"] == 0.0 and r.loc[3, "ulr_installed"] > 0.0
    assert r.loc[3, "n3"] < r.loc[2, "n3"]
    assert not r.loc[4, "cct_ok"] and "CCT 4000 K > 3000 K" in r.loc[4, "issues"]
    assert r.loc[5, "category"] == "b" and r.loc[5, "compliant"]                 # parks: no ULR/N3 limit
    assert r.loc[6, "replace_by_2025"] and r.loc[6, "ulr_installed"] > 50.0
    # protected area: a tighter cap
    strict = luminaire_checks(lum, phots, lut, cct_max=2700).set_index("id")
    assert not strict.loc[2, "cct_ok"] and strict.loc[1, "cct_ok"]
    assert RULES_2018.ulr_installed_max == 4.0 and RULES_2018.n3_min == 95.0


def test_dsfli_per_segment_and_cabinet():
    lum = _table([{"photometry": "x", "cabinet": c} for c in ("A", "A", "B", "B")])
    roads = gpd.GeoDataFrame({"id": [1], "width": [7.0], "sidewalk_width": [2.0]},
                             geometry=[shapely.LineString([(0, 0), (100, 0)])], crs="EPSG:2154")
    seg, cab = dsfli(lum, roads, np.ones(4, np.int64))
    assert seg.loc[0, "area"] == pytest.approx(1100.0)
    assert seg.loc[0, "dsfli"] == pytest.approx(24000 / 1100) and seg.loc[0, "limit"] == 35 and seg.loc[0, "ok"]
    assert cab.set_index("cabinet").loc["A", "dsfli"] == pytest.approx(12000 / 1100)
    lum["flux"] = 8000.0
    seg, _ = dsfli(lum, roads, np.ones(4, np.int64), built_up=False)
    assert seg.loc[0, "dsfli"] == pytest.approx(32000 / 1100) and seg.loc[0, "limit"] == 25 and not seg.loc[0, "ok"]


def test_trame_noire_classes_and_areas():
    E = np.array([[0.0, 0.05, 0.1, 0.5], [1.0, 1.5, 20.0, 0.0]])
    lc = np.array([[Landcover.GRASS, Landcover.WATER, Landcover.TREES, Landcover.ROAD],
                   [Landcover.GRASS, Landcover.GRASS, Landcover.BUILDING, Landcover.ROAD]], np.uint8)
    ch = np.array([[0, 0, 0, 0], [0, 0, 0, 5.0]], np.float32)   # a street tree over the road counts as corridor
    cls, areas = trame_noire(E, lc, ch, cell_area=4.0)
    assert cls.tolist() == [[1, 1, 2, 0], [2, 3, 0, 1]]
    assert areas == {"dark": 12.0, "dim": 8.0, "lit": 4.0}
    cls2, _ = trame_noire(E, lc, ch, dark=0.01, lit=0.2)
    assert cls2[0].tolist() == [1, 2, 2, 0]
    with pytest.raises(TwinValueError, match="trame noire thresholds"):
        trame_noire(E, lc, dark=2.0, lit=1.0)
