"""The lighting scenario kind: parsing, interventions on a copy, results with units, pictures, the ready scenario."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from scenarios.kinds import get_kind
from scenarios.kinds.base import KindResult
from twin.errors import TwinValueError

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "scenarios" / "library" / "lighting_led_partnight.toml"


@pytest.fixture(scope="module")
def kind():
    return get_kind("lighting")


def _street():
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "simulation" / "lighting"))
    from lighting_scenes import make_street

    return make_street(photometry="builtin:globe-hps", power=100.0, flux=9000.0, buildings=True, trees=True,
                       length=150.0, cabinets=("A02", "B"))


@pytest.fixture(scope="module")
def runs(kind):
    scenario = tomllib.loads(LIBRARY.read_text())
    cfg = kind.parse(scenario, base_dir=LIBRARY.parent)
    tw = _street()
    base = kind.simulate(tw, cfg)
    changed = kind.apply_interventions(tw, cfg)
    return tw, cfg, base, changed, kind.simulate(changed, cfg)


def test_library_scenario_parses(kind):
    scenario = tomllib.loads(LIBRARY.read_text())
    assert scenario["kind"] == "lighting" and scenario["twin"] == "demo"
    cfg = kind.parse(scenario, base_dir=LIBRARY.parent)
    assert cfg.parameters["price"] == pytest.approx(0.20) and cfg.parameters["cutoff"] == 60.0
    assert cfg.parameters["co2_factor"] == pytest.approx(0.06) and cfg.parameters["year"] == 2025
    assert [i["type"] for i in cfg.interventions] == ["led_retrofit", "part_night"]
    assert cfg.interventions[0]["power"] == 25.0 and cfg.interventions[0]["flux"] == 3200.0
    assert cfg.interventions[1]["start"] == "23:00" and cfg.interventions[1]["select"].cabinets == ("A02", "A05",
                                                                                                      "A09", "A10")


def test_interventions_apply_to_a_copy(runs):
    tw, _cfg, _base, changed, _res = runs
    assert (tw.luminaires["photometry"] == "builtin:globe-hps").all()
    assert (changed.luminaires["photometry"] == "builtin:road-led").all()
    recs = changed.meta["lighting_interventions"]
    assert recs[0]["luminaires"] == len(tw.luminaires) and recs[1]["cabinets"] == ["A02"]


def test_results_have_units_tables_and_savings(runs):
    tw, _cfg, base, _changed, res = runs
    assert isinstance(res, KindResult)
    assert res.layers["illuminance"].attrs["units"] == "lx" and res.layers["en13201_deficit"].attrs["units"] == "lx"
    assert res.layers["trame_noire"].dtype == np.uint8
    assert set(res.tables) == {"segments", "luminaires", "cabinets"}
    assert res.buildings.index.name == "id" and "ev_max_lx" in res.buildings
    b = {i.name: i for i in base.indicators}
    s = {i.name: i for i in res.indicators}
    assert s["annual_energy"].value < 0.3 * b["annual_energy"].value         # 25 W instead of 100 W, some off at night
    assert s["annual_energy"].better == "lower" and s["annual_energy"].label["fr"].startswith("Électricité")
    assert b["luminaires_noncompliant_2018"].value == len(tw.luminaires) and s["luminaires_noncompliant_2018"].value == 0
    assert s["trame_noire_dark_area"].value > b["trame_noire_dark_area"].value
    assert "segments_falling_below" in s and "falls_below" in res.tables["segments"]
    applied = res.meta["defaults_applied"]      # set in the file: not a default; left out: recorded
    assert "maintenance_factor" not in applied and applied["trespass_limit"] == 5.0
    assert res.meta["interventions"][0]["power_after_w"] == 25.0 * len(tw.luminaires)


def test_bad_scenarios(kind):
    with pytest.raises(TwinValueError, match=r"unknown key 'prix'"):
        kind.parse({"parameters": {"prix": "0.2 EUR/kWh"}}, base_dir=Path("."))
    with pytest.raises(TwinValueError, match=r"invalid parameters.price: '0.2'"):
        kind.parse({"parameters": {"price": "0.2"}}, base_dir=Path("."))
    with pytest.raises(TwinValueError, match=r"interventions\[0\]: unknown lighting intervention 'dike'"):
        kind.parse({"interventions": [{"type": "dike"}]}, base_dir=Path("."))
    with pytest.raises(TwinValueError, match=r"interventions\[0\]: led_retrofit needs power"):
        kind.parse({"interventions": [{"type": "led_retrofit", "photometry": "builtin:road-led"}]}, base_dir=Path("."))
    with pytest.raises(TwinValueError, match=r"interventions\[0\]: unknown key\(s\) watts"):
        kind.parse({"interventions": [{"type": "part_night", "window": "23:00-05:00", "watts": 3}]}, base_dir=Path("."))
    with pytest.raises(TwinValueError, match=r"year: 25 must be a year"):
        kind.parse({"forcing": {"year": 25}}, base_dir=Path("."))
    with pytest.raises(TwinValueError, match="unknown operating profile item"):
        kind.parse({"parameters": {"profile": "dimm=22:00-06:00@50%"}}, base_dir=Path("."))


@pytest.mark.render
def test_night_pictures(runs, kind, tmp_path):
    from PIL import Image

    _tw, _cfg, base, changed, res = runs
    paths = kind.render(changed, res, tmp_path, baseline=base, size=(400, 300), title="test")
    assert [p.name for p in paths] == ["night_view.png", "night_map.png", "night_compare.png"]
    for p in paths:
        img = np.asarray(Image.open(p).convert("RGB"))
        assert img.shape[0] == 300 and img.std() > 5      # a real picture, not a blank one
