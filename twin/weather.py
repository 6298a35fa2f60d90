"""Hourly weather as the twin's models read it: one documented table.

Weather is a ``pandas.DataFrame`` with a time-zone-aware ``DatetimeIndex`` (the
*start* of each hour... see ``attrs['time_convention']``) and the columns below,
in these units. ``df.attrs`` carries ``latitude``, ``longitude`` [degrees],
``elevation`` [m], ``source`` and ``time_convention``. Importers (EPW, CSV) and
generators (a heatwave day) produce it; the heat and energy models read it.
Missing values are NaN and must be filled, or refused, by the producer: models
refuse NaN rather than guess.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.errors import TwinValueError

__all__ = ["WEATHER_COLUMNS", "REQUIRED_WEATHER", "check_weather"]

#: column -> (units, meaning, physical range)
WEATHER_COLUMNS: dict[str, tuple[str, str, tuple[float, float]]] = {
    "air_temperature": ("degC", "dry-bulb air temperature at 2 m", (-60.0, 60.0)),
    "relative_humidity": ("%", "relative humidity", (0.0, 100.0)),
    "global_horizontal": ("W m-2", "global horizontal irradiance (hourly mean)", (0.0, 1400.0)),
    "direct_normal": ("W m-2", "direct normal irradiance (hourly mean)", (0.0, 1200.0)),
    "diffuse_horizontal": ("W m-2", "diffuse horizontal irradiance (hourly mean)", (0.0, 900.0)),
    "wind_speed": ("m s-1", "wind speed at 10 m", (0.0, 60.0)),
    "wind_direction": ("degree", "wind direction, from, clockwise from north", (0.0, 360.0)),
    "pressure": ("Pa", "station pressure", (50000.0, 110000.0)),
    "dew_point": ("degC", "dew-point temperature", (-70.0, 40.0)),
    "longwave_down": ("W m-2", "downwelling longwave (horizontal infrared) irradiance", (50.0, 600.0)),
}

REQUIRED_WEATHER = ("air_temperature", "relative_humidity", "global_horizontal", "wind_speed")


def check_weather(df: pd.DataFrame, *, required=REQUIRED_WEATHER, source: str = "weather") -> pd.DataFrame:
    """Check a weather table: time index, required columns, no gaps, values in physical ranges.

    Raises
    ------
    TwinValueError
        Naming ``source``, the column and the first offending time.
    """
    if not isinstance(df.index, pd.DatetimeIndex):
        raise TwinValueError(f"{source}: the weather table needs a DatetimeIndex")
    for col in required:
        if col not in df.columns:
            raise TwinValueError(f"{source}: missing weather column {col!r}")
    for col in df.columns:
        if col not in WEATHER_COLUMNS:
            continue
        v = df[col].to_numpy(dtype=float)
        bad = ~np.isfinite(v)
        if bad.any():
            raise TwinValueError(f"{source}: {col} is missing at {df.index[np.argmax(bad)]} ({int(bad.sum())} gaps)")
        lo, hi = WEATHER_COLUMNS[col][2]
        out = (v < lo) | (v > hi)
        if out.any():
            i = int(np.argmax(out))
            raise TwinValueError(
                f"{source}: {col} = {v[i]:g} {WEATHER_COLUMNS[col][0]} at {df.index[i]} is outside {lo:g}..{hi:g}"
            )
    return df
