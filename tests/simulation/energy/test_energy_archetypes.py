"""Archetype tables, overrides, building data and the defaults report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.energy.archetypes import (
    PARAMETERS,
    PERIODS,
    archetype_table,
    load_table,
    period_of,
    read_building_data,
    resolve_buildings,
)
from twin.errors import TwinFileNotFoundError, TwinValueError
from twin.tables import BUILDING_USES


def test_period_boundaries():
    years = [1500, 1947, 1948, 1974, 1975, 1988, 1989, 2000, 2001, 2012, 2013, 2030, 0, np.nan]
    assert period_of(years).tolist() == [
        "before_1948", "before_1948", "1948_1974", "1948_1974", "1975_1988", "1975_1988", "1989_2000",
        "1989_2000", "2001_2012", "2001_2012", "after_2012", "after_2012", "", ""]


def test_table_is_complete_and_sourced():
    t = archetype_table()
    uses = [u for u in BUILDING_USES if u != "unknown"]
    assert len(t) == len(PERIODS) * len(uses)
    assert set(t.index.get_level_values("use")) == set(uses)
    cond = t[t["conditioned"]]
    for col, (kind, _, _) in PARAMETERS.items():
        if kind == "f" and col != "cooling_setpoint":
            assert np.isfinite(cond[col].astype(float)).all(), col
    assert (t["source"].str.len() > 10).all()
    # insulation improves from one period to the next for every use
    for col in ("u_wall", "u_roof", "u_window"):
        v = t.xs("housing", level="use").loc[list(PERIODS), col].to_numpy()
        assert (np.diff(v) <= 0).all(), col
    assert t.loc[("before_1948", "school"), "tertiary"] and not t.loc[("before_1948", "housing"), "tertiary"]
    systems = set(load_table("systems")["system"])
    assert set(cond["heating_system"]) <= systems


def test_overrides(tmp_path):
    f = tmp_path / "arch.csv"
    f.write_text("period,use,u_wall,heating_setpoint\n*,school,0.3,\n1948_1974,housing,,21\n")
    t = archetype_table(f)
    assert (t.xs("school", level="use")["u_wall"] == 0.3).all()
    assert t.loc[("1948_1974", "housing"), "heating_setpoint"] == 21
    assert t.loc[("1948_1974", "housing"), "u_wall"] == archetype_table().loc[("1948_1974", "housing"), "u_wall"]
    bad = tmp_path / "bad.csv"
    bad.write_text("period,use,u_wal\n*,school,0.3\n")
    with pytest.raises(TwinValueError, match="u_wal"):
        archetype_table(bad)
    bad.write_text("period,use,u_wall\n1950s,school,0.3\n")
    with pytest.raises(TwinValueError, match="1950s"):
        archetype_table(bad)


def _buildings(**cols):
    n = len(next(iter(cols.values())))
    d = {"id": np.arange(1, n + 1)}
    d.update(cols)
    return pd.DataFrame(d)


def test_defaults_are_counted():
    b = _buildings(use=["housing", "unknown", "school", "unknown"], year=[1900, 0, 1960, 2015])
    r = resolve_buildings(b)
    assert r.report["unknown_use"] == 2
    assert r.report["unknown_year"] == 1
    assert r.params["use"].tolist() == ["housing", "housing", "school", "housing"]
    assert r.params["period"].tolist() == ["before_1948", "1948_1974", "1948_1974", "after_2012"]
    assert r.params["use_known"].tolist() == [True, False, True, False]
    r2 = resolve_buildings(b, default_use="office", default_period="1975_1988")
    assert r2.params["use"].tolist()[1] == "office" and r2.params["period"].tolist()[1] == "1975_1988"
    with pytest.raises(TwinValueError, match="default_period"):
        resolve_buildings(b, default_period="1950s")


def test_building_data_bdnb_aliases_and_retrofit(tmp_path):
    f = tmp_path / "bdnb.csv"
    f.write_text("batiment_groupe_id,building_id,annee_construction,type_energie_chauffage,u_mur_exterieur\n"
                 "bdnb-1,1,1985,fioul,\nbdnb-2,2,,gaz,0.4\n")
    b = _buildings(use=["housing", "housing", "school"], year=[1900, 1900, 1900],
                   retrofit_u_wall=[np.nan, np.nan, 0.25], retrofit_heating_system=["", "", "heat_pump_air_water"])
    r = resolve_buildings(b, building_data=f)
    p = r.params
    assert p["period"].tolist() == ["1975_1988", "before_1948", "before_1948"]
    assert p["heating_system"].tolist() == ["fuel_oil_boiler", "gas_boiler_standard", "heat_pump_air_water"]
    assert p["u_wall"].tolist()[1:] == [0.4, 0.25]
    assert r.report["building_data"] == {"u_wall": 1, "heating_system": 2}
    assert r.report["retrofit"] == {"u_wall": 1, "heating_system": 1}
    before = resolve_buildings(b, building_data=f, use_retrofit=False).params
    assert before["u_wall"].iloc[2] == archetype_table().loc[("before_1948", "school"), "u_wall"]


def test_building_data_errors(tmp_path):
    with pytest.raises(TwinFileNotFoundError):
        read_building_data(tmp_path / "nope.csv")
    f = tmp_path / "x.csv"
    f.write_text("building_id,u_wal\n1,0.3\n")
    with pytest.raises(TwinValueError, match="u_wal"):
        read_building_data(f)
    f.write_text("building_id,carrier\n1,uranium\n")
    with pytest.raises(TwinValueError, match="uranium"):
        read_building_data(f)
    f.write_text("building_id,u_wall\n1,0.3\n1,0.4\n")
    with pytest.raises(TwinValueError, match="duplicate"):
        read_building_data(f)
    f.write_text("building_id,heating_system\n1,steam_engine\n")
    with pytest.raises(TwinValueError, match="steam_engine"):
        resolve_buildings(_buildings(use=["housing"], year=[1900]), building_data=f)
    f.write_text("building_id,u_wall\n1,-1\n")
    with pytest.raises(TwinValueError, match="u_wall"):
        resolve_buildings(_buildings(use=["housing"], year=[1900]), building_data=f)
