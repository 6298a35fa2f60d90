"""The heat scenario kind: parsing, interventions, a run with indicators, the ready scenario file."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from scenarios.kinds import get_kind
from tests.simulation.heat.synthetic import make_street_twin
from twin.errors import TwinValueError

LIBRARY = Path(__file__).resolve().parents[2] / "scenarios" / "library"


def test_ready_scenario_parses():
    sc = tomllib.loads((LIBRARY / "heatwave_trees.toml").read_text())
    kind = get_kind("heat")
    cfg = kind.parse(sc, base_dir=LIBRARY)
    assert cfg.forcing["t_max"] == 39.5 and cfg.forcing["relative_humidity"] == pytest.approx(25.0)
    assert cfg.interventions[0]["spacing"] == 8.0 and 15 in cfg.hours


def test_bad_scenarios_say_what_is_wrong(tmp_path):
    kind = get_kind("heat")
    with pytest.raises(TwinValueError, match="t_max"):
        kind.parse({"forcing": {"type": "heatwave", "t_max": 39}}, base_dir=tmp_path)
    with pytest.raises(TwinValueError, match="unknown key 'rain'"):
        kind.parse({"forcing": {"rain": "1 mm"}}, base_dir=tmp_path)
    with pytest.raises(TwinValueError, match="needs wind_speed"):
        kind.parse({"forcing": {"date": "2003-08-13", "t_min": "20 C", "t_max": "35 C", "relative_humidity": "30 %"}},
                   base_dir=tmp_path)
    with pytest.raises(TwinValueError, match="does not exist"):
        kind.parse({"forcing": {"type": "epw", "file": "none.epw", "date": "hottest"}}, base_dir=tmp_path)
    with pytest.raises(TwinValueError, match="crown_diameter"):
        kind.parse({"forcing": {"preset": "2003"}, "interventions": [{"type": "trees", "along": "roads",
                                                                       "height": "10 m"}]}, base_dir=tmp_path)
    with pytest.raises(TwinValueError, match="unknown heat parameter"):
        kind.parse({"forcing": {"preset": "2003"}, "parameters": {"leaf_area": 3}}, base_dir=tmp_path)


def test_run_with_street_trees(tmp_path):
    kind = get_kind("heat")
    sc = {"forcing": {"preset": "2003"}, "parameters": {"n_azimuths": 16},
          "interventions": [{"type": "trees", "along": "roads", "road_kinds": ["street"], "spacing": "8 m",
                             "height": "10 m", "crown_diameter": "7 m"}],
          "outputs": {"hours": [12]}}
    cfg = kind.parse(sc, base_dir=tmp_path)
    twin = make_street_twin()
    treed = kind.apply_interventions(twin, cfg)
    assert "canopy_height" in twin and (twin.array("canopy_height") == 0).all()
    base = kind.simulate(twin, cfg)
    after = kind.simulate(treed, cfg)
    for name in ("svf", "tmrt_max", "utci_max", "shade_hours", "hours_utci_above_32", "utci_15h", "tmrt_12h"):
        assert name in base.layers and base.layers[name].attrs["units"]
    b, a = ({i.name: i.value for i in r.indicators} for r in (base, after))
    assert a["utci_sidewalks_15h"] < b["utci_sidewalks_15h"] - 1.0
    assert a["shade_hours_sidewalks"] > b["shade_hours_sidewalks"] + 1.0
    assert a["area_strong_heat_stress_hottest"] <= b["area_strong_heat_stress_hottest"]
    assert b["vulnerable_sites_strong_heat_stress"] in (0.0, 1.0)
    assert list(base.buildings.index) == [1, 2, 3, 4]
    assert "streets" in base.tables and len(base.meta["hourly"]) == 24
    pngs = kind.render(treed, after, tmp_path / "pics", baseline=base, baseline_twin=twin, lang="fr", size=(1200, 800))
    assert {p.name for p in pngs} >= {"utci_hottest.png", "utci_hottest_difference.png", "heat_overview.png",
                                      "heat_before_after.png"}
    assert all(p.stat().st_size > 1000 for p in pngs)


def test_epw_forcing_hottest_day(shared_data, tmp_path):
    kind = get_kind("heat")
    epw = shared_data / "weather" / "FRA_AR_Lyon-Bron.AP.074800_TMYx.2004-2018.epw"
    cfg = kind.parse({"forcing": {"type": "epw", "file": str(epw), "date": "hottest"}, "parameters": {"n_azimuths": 8}},
                     base_dir=tmp_path)
    w = kind.weather(make_street_twin(), cfg)
    assert len(w) == 24 and w["air_temperature"].max() == pytest.approx(37.7)
    assert np.isfinite(w.to_numpy(float)).all()
    # a typical year mixes years: a day is found by its month and day whatever year is written
    cfg = kind.parse({"forcing": {"type": "epw", "file": str(epw), "date": "2018-07-14"}}, base_dir=tmp_path)
    w = kind.weather(make_street_twin(), cfg)
    assert len(w) == 24 and (w.index.month == 7).all() and (w.index.day == 14).all()


def test_ready_scenario_on_the_small_demo_town(demo_town_small, tmp_path):
    kind = get_kind("heat")
    cfg = kind.parse(tomllib.loads((LIBRARY / "heatwave_trees.toml").read_text()), base_dir=LIBRARY)
    town = demo_town_small.copy()
    treed = kind.apply_interventions(town, cfg)
    assert len(treed.trees) - len(town.trees) > 50
    base = kind.simulate(town, cfg)
    after = kind.simulate(treed, cfg)
    b, a = ({i.name: i.value for i in r.indicators} for r in (base, after))
    assert a["utci_sidewalks_15h"] < b["utci_sidewalks_15h"] - 0.5
    assert a["area_extreme_heat_stress_hottest"] < b["area_extreme_heat_stress_hottest"]
    assert b["vulnerable_sites_utci_hottest"] > 32.0  # a 2003-like afternoon: the school's street is in strong stress
    assert base.meta["hottest_hour"].startswith("2003-08-13 1")
