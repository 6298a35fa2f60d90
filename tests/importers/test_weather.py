"""EPW and CSV weather readers on the real Lyon-Bron file and on written files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from importers.weather import read_epw, read_weather_csv
from twin.errors import TwinFileNotFoundError, TwinFormatError, TwinValueError

EPW = "weather/FRA_AR_Lyon-Bron.AP.074800_TMYx.2004-2018.epw"


def test_read_lyon_epw(shared_data):
    df = read_epw(shared_data / EPW)
    assert df.shape[0] == 8760
    assert df.attrs["latitude"] == pytest.approx(45.7261) and df.attrs["longitude"] == pytest.approx(4.9378)
    assert df.attrs["elevation"] == 198.0 and df.attrs["time_convention"] == "hour-start"
    # a typical year (8,760 h, no 29 February) is put in a common year: no 24-hour hole
    assert df.index[0] == pd.Timestamp("2003-01-01 00:00", tz="Etc/GMT-1")
    assert df.index.is_monotonic_increasing
    assert (df.index[1:] - df.index[:-1] == pd.Timedelta("1h")).all()
    # first data row: 0.0 C, dew point -2.0, RH 85 %, 99846 Pa, IR 271, wind 3.0 m/s from 268 deg
    first = df.iloc[0]
    assert (first["air_temperature"], first["dew_point"], first["relative_humidity"]) == (0.0, -2.0, 85.0)
    assert (first["pressure"], first["longwave_down"], first["wind_speed"], first["wind_direction"]) == (99846, 271, 3.0, 268)
    assert df["air_temperature"].max() == pytest.approx(37.7)
    # typical-year rows of several years are put in one year, and it is said
    assert df.attrs["year_coerced"] == 2003 and "2018" in df.attrs["source"]
    # summer noon radiation is sensible
    assert 800 < df["global_horizontal"].max() < 1100


def _write_epw(tmp_path, shared_data, edit):
    lines = (shared_data / EPW).read_text(encoding="latin-1").splitlines()
    lines = edit(lines)
    p = tmp_path / "edited.epw"
    p.write_text("\n".join(lines) + "\n", encoding="latin-1")
    return p


def test_epw_sentinels_are_missing_and_short_gaps_filled(tmp_path, shared_data):
    def edit(lines):
        for k in (100, 101):  # two hours of missing dry bulb (99.9) and wind (999)
            parts = lines[8 + k].split(",")
            parts[6] = "99.9"
            parts[21] = "999"
            lines[8 + k] = ",".join(parts)
        return lines

    df = read_epw(_write_epw(tmp_path, shared_data, edit))
    assert df.attrs["filled"] == {"air_temperature": 2, "wind_speed": 2}
    assert np.isfinite(df["air_temperature"]).all()
    t = df["air_temperature"].to_numpy()
    assert t[100] == pytest.approx(t[99] + (t[102] - t[99]) / 3)


def test_epw_long_gaps_and_damage_are_refused(tmp_path, shared_data):
    def gap(lines):
        for k in range(200, 210):
            parts = lines[8 + k].split(",")
            parts[13] = "9999"
            lines[8 + k] = ",".join(parts)
        return lines

    with pytest.raises(TwinFormatError, match="global_horizontal is missing for 10 hour"):
        read_epw(_write_epw(tmp_path, shared_data, gap))
    with pytest.raises(TwinFormatError, match="line 20"):
        read_epw(_write_epw(tmp_path, shared_data, lambda ls: ls[:19] + ["2004,1,1,12,60,x"] + ls[20:]))
    with pytest.raises(TwinFormatError, match="not an EPW"):
        read_epw(_write_epw(tmp_path, shared_data, lambda ls: ls[1:]))
    with pytest.raises(TwinFileNotFoundError):
        read_epw(tmp_path / "none.epw")


def test_read_weather_csv(tmp_path):
    t = pd.date_range("2023-07-20 00:00", periods=48, freq="h")
    ta = 25 + 8 * np.sin((np.arange(48) - 9) / 24 * 2 * np.pi)
    df = pd.DataFrame({"time": t.strftime("%Y-%m-%dT%H:%M"), "Temperature": ta.round(1), "RH": 50,
                       "GHI": np.clip(800 * np.sin((np.arange(48) - 6) / 24 * 2 * np.pi), 0, None).round(0),
                       "Wind": 2.0})
    df["Temperature"] = df["Temperature"].astype(object)
    df.loc[5, "Temperature"] = ""
    p = tmp_path / "obs.csv"
    df.to_csv(p, index=False)
    w = read_weather_csv(p, latitude=45.76, longitude=4.84, timezone="Europe/Paris")
    assert list(w.columns) == ["air_temperature", "relative_humidity", "global_horizontal", "wind_speed"]
    assert w.attrs["filled"] == {"air_temperature": 1}
    assert str(w.index.tz) == "Europe/Paris" and len(w) == 48
    with pytest.raises(TwinValueError, match="no time zone"):
        read_weather_csv(p, latitude=45.76, longitude=4.84)
    df2 = df.drop(index=[10])
    df2.to_csv(p, index=False)
    with pytest.raises(TwinFormatError, match="hourly"):
        read_weather_csv(p, latitude=45.76, longitude=4.84, timezone="UTC")
    df3 = df.copy()
    df3["Wind"] = df3["Wind"].astype(object)
    df3.loc[7, "Wind"] = "calm"
    df3.to_csv(p, index=False)
    with pytest.raises(TwinFormatError, match="line 9: Wind = 'calm'"):
        read_weather_csv(p, latitude=45.76, longitude=4.84, timezone="UTC")
