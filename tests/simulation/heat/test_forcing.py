"""Forcing: the generated heatwave day, sky longwave, and the checks of prepare_forcing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import constants

from simulation.heat.forcing import HEATWAVE_PRESETS, clear_sky_emissivity, heatwave_day, prepare_forcing, sky_longwave
from simulation.heat.utci import vapour_pressure
from twin.errors import TwinValueError

LYON = dict(latitude=45.76, longitude=4.84)


def test_heatwave_day_hits_its_numbers():
    d = heatwave_day(date="2003-08-13", t_min=22.0, t_max=39.5, relative_humidity=25.0, wind_speed=1.5, sky="hazy",
                     **LYON)
    assert len(d) == 24 and str(d.index.tz) == "Europe/Paris"
    ta = d["air_temperature"]
    # hourly means sampled at half past: within 0.3 K of the extremes, at the right times
    assert ta.max() == pytest.approx(39.5, abs=0.3) and ta.min() == pytest.approx(22.0, abs=0.3)
    assert ta.idxmax().hour in (15, 16) and ta.idxmin().hour in (5, 6)
    # constant vapour pressure: RH 25 % at the peak, higher at night
    rh_at_max = d.loc[ta.idxmax(), "relative_humidity"]
    assert rh_at_max == pytest.approx(25.0, abs=1.0)
    e = vapour_pressure(d["air_temperature"], d["relative_humidity"])
    np.testing.assert_allclose(e, e[0], rtol=1e-9)
    # radiation: none at night, clear-sky closure ghi = dni sin(alt) + dhi at noon
    assert (d.between_time("22:00", "04:00")["global_horizontal"] == 0).all()
    assert 700 < d["global_horizontal"].max() < 950
    hazy = d["global_horizontal"].sum()
    clear = heatwave_day(date="2003-08-13", t_min=22.0, t_max=39.5, relative_humidity=25.0, wind_speed=1.5,
                         sky="clear", **LYON)["global_horizontal"].sum()
    assert clear > hazy * 1.03
    assert d.attrs["time_convention"] == "hour-start"


def test_date_without_sun_and_bad_numbers():
    with pytest.raises(TwinValueError, match="polar night"):
        heatwave_day(date="2023-12-21", latitude=78.2, longitude=15.6, t_min=-20, t_max=-10, relative_humidity=70,
                     wind_speed=3, timezone="Europe/Oslo")
    with pytest.raises(TwinValueError, match="polar day"):
        heatwave_day(date="2023-06-21", latitude=78.2, longitude=15.6, t_min=5, t_max=12, relative_humidity=70,
                     wind_speed=3, timezone="Europe/Oslo")
    with pytest.raises(TwinValueError, match="t_min"):
        heatwave_day(date="2003-08-13", t_min=30, t_max=25, relative_humidity=30, wind_speed=1, **LYON)
    with pytest.raises(TwinValueError, match="sky"):
        heatwave_day(date="2003-08-13", t_min=20, t_max=35, relative_humidity=30, wind_speed=1, sky="cloudy", **LYON)
    with pytest.raises(TwinValueError, match="wind_speed"):
        heatwave_day(date="2003-08-13", t_min=20, t_max=35, relative_humidity=30, wind_speed=-1, **LYON)
    with pytest.raises(TwinValueError, match="date"):
        heatwave_day(date="13/13/2003", t_min=20, t_max=35, relative_humidity=30, wind_speed=1, **LYON)


def test_sky_longwave():
    # clear sky emissivity at 20 C and 50 % RH is about 0.75-0.80 (Prata 1996, fig. 5)
    assert 0.72 < float(clear_sky_emissivity(20.0, 11.7)) < 0.82
    sig = constants.sigma * (20 + constants.zero_Celsius) ** 4
    assert float(sky_longwave(20.0, 50.0, 1.0)) == pytest.approx(sig)  # overcast: a black body at Ta
    assert float(sky_longwave(20.0, 50.0, 0.0)) < float(sky_longwave(20.0, 90.0, 0.0))


def test_prepare_forcing_fills_what_is_missing_and_says_so():
    p = dict(HEATWAVE_PRESETS["2003"])
    date = p.pop("date")
    d = heatwave_day(date=date, **LYON, **p)
    only_global = d[["air_temperature", "relative_humidity", "global_horizontal", "wind_speed"]].copy()
    only_global.attrs = {}
    f, notes = prepare_forcing(only_global, **LYON)
    assert "decomposition" in notes and "longwave" in notes and "time_convention" in notes
    # the decomposition closes on the global and the estimated sky longwave is near the clear-sky one
    s = np.sin(np.radians(f["sun_altitude"]))
    up = f["sun_altitude"] > 3
    np.testing.assert_allclose((f["dni"] * s * up + f["dhi"]), f["ghi"], atol=1e-6)
    np.testing.assert_allclose(f["l_sky"], d["longwave_down"], rtol=0.08)
    # the sun is taken at the middle of each hour
    assert f["sun_altitude"].idxmax().hour in (13, 14)


def test_prepare_forcing_refuses_bad_weather():
    p = dict(HEATWAVE_PRESETS["2003"])
    date = p.pop("date")
    d = heatwave_day(date=date, **LYON, **p)
    bad = d.copy()
    bad.iloc[3, 0] = np.nan
    with pytest.raises(TwinValueError, match="missing"):
        prepare_forcing(bad, **LYON)
    bad = d.copy()
    bad["relative_humidity"] = 140.0
    with pytest.raises(TwinValueError, match="outside"):
        prepare_forcing(bad, **LYON)
    bad = d.copy()
    bad.index = bad.index.tz_localize(None)
    with pytest.raises(TwinValueError, match="time-zone"):
        prepare_forcing(bad, **LYON)
    bad = d.copy()
    bad.attrs["time_convention"] = "middle"
    with pytest.raises(TwinValueError, match="time_convention"):
        prepare_forcing(bad, **LYON)
    bad = d.copy()
    bad = bad.drop(columns=["wind_speed"])
    with pytest.raises(TwinValueError, match="wind_speed"):
        prepare_forcing(bad, **LYON)
    assert isinstance(d.index, pd.DatetimeIndex)
