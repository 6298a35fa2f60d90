"""The rule language, retrofit measures and their costs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from energy_helpers import box_twin, constant_weather

from simulation.energy.model import EnergyModel, EnergyParameters
from simulation.energy.retrofit import (
    apply_retrofit,
    building_facts,
    measures,
    parse_rule,
    retrofit_costs,
    select_buildings,
)
from twin.errors import TwinValueError

FACTS = pd.DataFrame({
    "id": [1, 2, 3, 4, 5],
    "use": ["school", "school", "housing", "town_hall", "office"],
    "year": [1960.0, 1990.0, 1900.0, 1868.0, 1974.0],
    "floors": [2.0, 1.0, 3.0, 3.0, 5.0],
    "area": [1200.0, 800.0, 300.0, 1500.0, 2500.0],
    "public": [True, True, False, True, False],
    "name": ["École", "Collège", "", "Mairie", ""],
})


@pytest.mark.parametrize("rule, expected", [
    ("all", [1, 2, 3, 4, 5]),
    ("use == school and year < 1975", [1]),
    ("use = school", [1, 2]),
    ("public and year < 1975", [1, 4]),
    ("use in (school, town_hall) and area >= 1000", [1, 4]),
    ("use not in (school, 'town_hall')", [3, 5]),
    ("not public or floors > 4", [3, 5]),
    ("(use == school or use == office) and not (year >= 1975)", [1, 5]),
    ("year <= 1974 and year > 1948", [1, 5]),
    ("name == 'École'", [1]),
    ("public == yes and area < 1000", [2]),
    ("use != housing and use != school", [4, 5]),
])
def test_rules_select(rule, expected):
    assert FACTS.loc[select_buildings(FACTS, rule), "id"].tolist() == expected


@pytest.mark.parametrize("rule, message", [
    ("colour == red", "unknown column 'colour'"),
    ("__import__('os').system('ls')", "cannot read"),
    ("__import__('os')", "unknown column '__import__'"),
    ("use < school", "is text"),
    ("year > recent", "is a number"),
    ("use in school", "expected '\\('"),
    ("year < 1975 and", "expected a column name"),
    ("(year < 1975", "expected '\\)'"),
    ("year < 1975 year", "unexpected"),
    ("floors", "not a yes/no column"),
    ("year ; 1975", "cannot read"),
    ("", "empty"),
])
def test_bad_rules_are_refused(rule, message):
    with pytest.raises(TwinValueError, match=message):
        select_buildings(FACTS, rule)


def test_rule_tree():
    assert parse_rule("use == school and not public") == ("and", ("cmp", "use", "==", "school"), ("not", ("bool", "public")))


def test_building_facts_from_a_twin():
    twin = box_twin([(0, 0, 10, 20), (50, 0, 80, 40)], uses=["housing", "school"], years=[1900, 1965],
                    heights=[6.0, 7.0], floors=[0, 2])
    f = building_facts(twin.buildings)
    assert f["area"].tolist() == [400.0, 2400.0]       # floors from the height: 6 m / 2.7 m -> 2
    assert f["public"].tolist() == [False, True] and f["tertiary"].tolist() == [False, True]
    assert f["period"].tolist() == ["before_1948", "1948_1974"]
    assert select_buildings(f, "public and area >= 1000").tolist() == [False, True]


def test_apply_retrofit_columns():
    twin = box_twin([(0, 0, 10, 20), (50, 0, 80, 40)], uses=["housing", "school"])
    out = apply_retrofit(twin.buildings, [False, True], ["walls", "windows", "airtightness", "heat_pump"])
    assert "retrofit_u_wall" not in twin.buildings.columns           # a copy
    assert np.isnan(out["retrofit_u_wall"].iloc[0]) and out["retrofit_u_wall"].iloc[1] == 0.25
    assert out["retrofit_u_window"].iloc[1] == 1.3 and out["retrofit_g_window"].iloc[1] == 0.55
    assert out["retrofit_scale_infiltration_ach"].iloc[1] == 0.5
    assert out["retrofit_heating_system"].tolist() == ["", "heat_pump_air_water"]
    assert out["retrofit_measures"].tolist() == ["", "walls windows airtightness heat_pump"]
    twice = apply_retrofit(out, [False, True], ["airtightness"])
    assert twice["retrofit_scale_infiltration_ach"].iloc[1] == 0.25
    with pytest.raises(TwinValueError, match="unknown retrofit measure 'solar_panels'"):
        apply_retrofit(twin.buildings, [True, True], ["solar_panels"])


def test_retrofit_saves_and_costs_what_it_should():
    twin = box_twin([(0, 0, 10, 20)], uses=["school"], years=[1960], heights=[7.0], floors=[2])
    weather = constant_weather(24 * 60, theta_e=2.0)
    p = EnergyParameters(shading=False)
    before = EnergyModel(twin, weather=weather, parameters=p).run()
    t2 = twin.copy()
    t2.set_table("buildings", apply_retrofit(twin.buildings, [True], ["walls", "roof", "windows", "heat_pump"]))
    m = EnergyModel(t2, weather=weather, parameters=p)
    after = m.run()
    again = m.run(use_retrofit=False)
    np.testing.assert_allclose(again.buildings["final_energy"], before.buildings["final_energy"], rtol=1e-12)
    b0, b1 = before.buildings.loc[1], after.buildings.loc[1]
    assert b1["heating_need"] < 0.6 * b0["heating_need"]      # ventilation of the school stays
    assert b1["final_heating"] == pytest.approx(b1["heating_need"] / 2.9)       # the heat pump's SCOP
    # hand costs: 150 EUR/m2 of opaque wall, 60 EUR/m2 of roof, 700 EUR/m2 of window, 1200 EUR/kW
    q = after.buildings.loc[[1], ["opaque_wall_area", "roof_area", "ground_area", "window_area", "floor_area",
                                  "peak_heating"]]
    windows = 60 * 7.0 * 0.35                    # school 1948-1974 glazing ratio
    assert q.loc[1, "window_area"] == pytest.approx(windows)
    assert q.loc[1, "opaque_wall_area"] == pytest.approx(60 * 7.0 - windows)
    c = retrofit_costs(pd.Series({1: "walls roof windows heat_pump"}), q)
    expected = 150 * (420 - windows) + 60 * 200 + 700 * windows + 1200 * b1["peak_heating"]
    assert c.investment.loc[1] == pytest.approx(expected)
    c2 = retrofit_costs(pd.Series({1: "walls"}), q, costs={"walls": 100.0})
    assert c2.investment.loc[1] == pytest.approx(100 * (420 - windows))
    with pytest.raises(TwinValueError, match="unknown measure"):
        retrofit_costs(pd.Series({1: "walls"}), q, costs={"wall": 1.0})
    assert set(measures().index) == {"walls", "roof", "floor", "windows", "airtightness", "ventilation", "heat_pump"}
