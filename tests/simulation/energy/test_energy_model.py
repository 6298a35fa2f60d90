"""The model end to end: outputs, bad buildings, bad weather."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from energy_helpers import box_twin, constant_weather

from simulation.energy.model import EnergyModel, EnergyParameters, simulate_energy
from simulation.energy.weather import prepare_forcing
from twin.errors import TwinValueError

NO_SHADE = EnergyParameters(shading=False)


def test_year_in_lyon(lyon_weather):
    twin = box_twin([(0, 0, 10, 12), (10, 0, 20, 12), (20, 0, 30, 12), (60, 60, 100, 80), (150, 0, 170, 30)],
                    uses=["housing", "housing", "housing", "school", "office"],
                    years=[1900, 1900, 2015, 1965, 2005], heights=[9.0, 9.0, 6.0, 7.0, 12.0], floors=[3, 3, 2, 2, 4])
    res = EnergyModel(twin, weather=lyon_weather, parameters=NO_SHADE).run()
    b = res.buildings
    # monthly needs add up to the year; the district totals to the buildings
    np.testing.assert_allclose(res.monthly_heating.sum(axis=1), b["heating_need"], rtol=1e-12)
    assert res.district["heating_need_kwh"] == pytest.approx(b["heating_need"].sum())
    assert res.district["final_energy_kwh"] == pytest.approx(b["final_energy"].sum())
    assert res.hourly["heating_load"].sum() == pytest.approx(b["heating_need"].sum(), rel=1e-9)
    # Lyon orders of magnitude: an uninsulated 1900 house needs far more than a 2015 one, and heats in winter
    assert 120 < b.loc[1, "heating_need_m2"] < 300
    assert b.loc[3, "heating_need_m2"] < 0.35 * b.loc[1, "heating_need_m2"]
    assert res.monthly_heating.loc[1, 1] > 10 * res.monthly_heating.loc[1, 7]
    # the middle house of the terrace needs less than the end one
    assert b.loc[2, "heating_need"] < b.loc[1, "heating_need"]
    # labels: dwellings get the DPE, the school an indicative label; the 1,120 m2 school is under the décret
    assert b.loc[1, "label_kind"] == "DPE" and b.loc[4, "label_kind"] == "indicative"
    assert b["dpe_class"].isin(list("ABCDEFG")).all()
    assert b.loc[4, "tertiary_subject"] and not b.loc[1, "tertiary_subject"]
    assert b.loc[4, "dt_target_2030"] == pytest.approx(0.6 * b.loc[4, "final_energy"])
    # final energy = need / efficiency for the gas-heated house
    assert b.loc[1, "final_heating"] == pytest.approx(b.loc[1, "heating_need"] / 0.78)
    assert b.attrs["units"]["heating_need"] == "kWh/yr"
    assert res.meta["shading"]["enabled"] is False
    assert res.meta["parameters"]["coupling"] == "ua"


def test_bad_buildings_get_defaults_counted(lyon_weather):
    boxes = [(0, 0, 10, 10), (50, 0, 60, 10), (100, 0, 110, 10), (150, 0, 150, 10), (0, 50, 10, 60)]
    twin = box_twin(boxes, uses=["housing", "unknown", "housing", "housing", "office"],
                    years=[1960, 1960, 0, 1960, 1990], heights=[0.0, 9.0, 6.0, 6.0, 6.0], floors=[0, 3, 2, 2, 12])
    res = EnergyModel(twin, weather=lyon_weather.iloc[:24 * 30], parameters=NO_SHADE).run()
    rep = res.report
    assert rep["geometry"]["no_height"] == 1
    assert rep["geometry"]["zero_area"] == 1
    assert rep["geometry"]["floors_contradict_height"] == 1
    assert rep["archetypes"]["unknown_use"] == 1
    assert rep["archetypes"]["unknown_year"] == 1
    assert rep["simulated"] == 4
    b = res.buildings
    assert np.isnan(b.loc[4, "heating_need"]) and not b.loc[4, "simulated"]
    assert b.loc[5, "floors"] == 2
    assert np.isfinite(b.loc[[1, 2, 3, 5], "heating_need"]).all()


def test_unconditioned_annex_is_not_simulated_but_counts_for_its_neighbour(lyon_weather):
    w = lyon_weather.iloc[:24 * 31]
    alone = box_twin([(0, 0, 10, 10)], uses=["housing"])
    with_annex = box_twin([(0, 0, 10, 10), (10, 0, 14, 10)], uses=["housing", "annex"], heights=[6.0, 6.0])
    with_house = box_twin([(0, 0, 10, 10), (10, 0, 14, 10)], uses=["housing", "housing"], heights=[6.0, 6.0])
    need = [EnergyModel(t, weather=w, parameters=NO_SHADE).run().buildings.loc[1, "heating_need"]
            for t in (alone, with_annex, with_house)]
    assert need[2] < need[1] < need[0]     # heated neighbour: adiabatic; annex: b = 0.8


def test_weather_gaps_and_missing_hours():
    w = constant_weather(48, theta_e=5.0)
    w.iloc[10:12, 0] = np.nan                # 2 h gap: interpolated
    w = w.drop(w.index[30:33])               # 3 missing hours
    f = prepare_forcing(w)
    assert len(f) == 48
    assert f.report["missing_hours"] == 3
    assert f.report["interpolated_values"]["air_temperature"] == 5
    w2 = constant_weather(48)
    w2.iloc[10:15, 0] = np.nan
    with pytest.raises(TwinValueError, match=r"air_temperature is missing from 2019-01-01 10:00.*5 consecutive"):
        prepare_forcing(w2, source="lyon.epw")
    w3 = constant_weather(48)
    w3.iloc[0, 0] = np.nan
    with pytest.raises(TwinValueError, match="missing"):
        prepare_forcing(w3)


def test_weather_refusals():
    w = constant_weather(24)
    w.attrs.pop("latitude")
    with pytest.raises(TwinValueError, match="latitude"):
        prepare_forcing(w)
    w = constant_weather(24)
    w.index = w.index.tz_localize(None)
    with pytest.raises(TwinValueError, match="time-zone"):
        prepare_forcing(w)
    w = constant_weather(24).drop(columns=["direct_normal", "global_horizontal"])
    with pytest.raises(TwinValueError, match="global_horizontal"):
        prepare_forcing(w)
    w = constant_weather(24)
    w.iloc[3, 0] = 75.0
    with pytest.raises(TwinValueError, match="air_temperature = 75"):
        prepare_forcing(w)
    w = constant_weather(24)
    w.index = pd.date_range("2019-01-01", periods=24, freq="30min", tz="UTC")
    with pytest.raises(TwinValueError, match="hourly"):
        prepare_forcing(w)


def test_global_only_weather_is_decomposed(lyon_weather):
    twin = box_twin([(0, 0, 10, 20)], uses=["housing"], years=[2015])
    full = EnergyModel(twin, weather=lyon_weather, parameters=NO_SHADE).run()
    ghi_only = lyon_weather.drop(columns=["direct_normal", "diffuse_horizontal"])
    dec = EnergyModel(twin, weather=ghi_only, parameters=NO_SHADE).run()
    assert dec.report["weather"]["decomposition"].startswith("reindl")
    assert dec.buildings.loc[1, "heating_need"] == pytest.approx(full.buildings.loc[1, "heating_need"], rel=0.08)


def test_parameters_are_validated():
    with pytest.raises(TwinValueError, match="coupling"):
        EnergyParameters(coupling="magic")
    with pytest.raises(TwinValueError, match="albedo"):
        EnergyParameters(albedo=1.5)
    with pytest.raises(TwinValueError, match="warmup_hours"):
        EnergyParameters(warmup_hours=-1)
    twin = box_twin([(0, 0, 10, 10)])
    with pytest.raises(TwinValueError, match="no buildings"):
        from twin import Twin
        EnergyModel(Twin.empty(twin.grid), weather=constant_weather(24), parameters=NO_SHADE).run()
    res = simulate_energy(twin, constant_weather(48), parameters=NO_SHADE, trace=1)
    assert res.trace.shape[:2] == (1, 48)
    assert shapely.box(0, 0, 10, 10).area == res.buildings.loc[1, "gross_floor_area"] / 2
