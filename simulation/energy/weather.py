"""The hourly forcing of the energy model, prepared from a twin weather table.

Reads the columns of :data:`twin.weather.WEATHER_COLUMNS` the model needs (``air_temperature``,
``direct_normal`` and ``diffuse_horizontal``, or ``global_horizontal`` alone, then decomposed),
checks the time axis, fills short gaps by linear interpolation (counted) and refuses long ones,
and computes the sun position at the middle of each hour (:mod:`simulation.sun`: NREL SPA; Reindl
1990 decomposition when only the global irradiance is given).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from twin.errors import TwinValueError
from twin.weather import WEATHER_COLUMNS

__all__ = ["Forcing", "prepare_forcing"]


@dataclass
class Forcing:
    """Hourly arrays for the model (float64), and the record of what was done to the weather.

    Attributes
    ----------
    times : DatetimeIndex
        Start of each hour.
    theta_e, ghi, dni, dhi, dni_extra : ndarray
        Air temperature [degC]; global horizontal, direct normal, diffuse horizontal and
        extraterrestrial normal irradiance [W m-2].
    sun_azimuth, sun_altitude : ndarray
        At the middle of each hour [degree].
    month : ndarray of int32 (0-11)
    latitude, longitude, elevation : float
    report : dict
    """

    times: pd.DatetimeIndex
    theta_e: np.ndarray
    ghi: np.ndarray
    dni: np.ndarray
    dhi: np.ndarray
    dni_extra: np.ndarray
    sun_azimuth: np.ndarray
    sun_altitude: np.ndarray
    month: np.ndarray
    latitude: float
    longitude: float
    elevation: float
    report: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.times)


def _fill(values: np.ndarray, name: str, times, max_gap: int, source: str) -> tuple[np.ndarray, int]:
    v = values.astype(np.float64).copy()
    bad = ~np.isfinite(v)
    if not bad.any():
        return v, 0
    # runs of consecutive gaps
    edges = np.diff(np.concatenate([[0], bad.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    longest = int((ends - starts).max())
    if longest > max_gap or starts[0] == 0 or ends[-1] == len(v):
        i = int(starts[np.argmax(ends - starts)]) if longest > max_gap else int(starts[0] if starts[0] == 0 else starts[-1])
        raise TwinValueError(f"{source}: {name} is missing from {times[i]} ({longest} consecutive hours; "
                             f"at most {max_gap} inside the period are interpolated)")
    idx = np.arange(len(v))
    v[bad] = np.interp(idx[bad], idx[~bad], v[~bad])
    return v, int(bad.sum())


def prepare_forcing(weather: pd.DataFrame, *, max_gap_hours: int = 3, source: str = "weather") -> Forcing:
    """Check a weather table and derive the hourly forcing of the energy model.

    Parameters
    ----------
    weather : DataFrame
        Hourly weather (see :mod:`twin.weather`), tz-aware index at the start of each hour (or the end,
        when ``attrs['time_convention'] == 'end'``), ``attrs`` with ``latitude`` and ``longitude``.
    max_gap_hours : int
        Longest run of missing values (and missing hours) filled by linear interpolation; longer runs
        are refused.
    source : str
        Name used in error messages (e.g. the file name).

    Raises
    ------
    TwinValueError
        Naming the column and the first missing time, or the problem with the time axis.
    """
    if not isinstance(weather, pd.DataFrame) or not isinstance(weather.index, pd.DatetimeIndex):
        raise TwinValueError(f"{source}: the weather must be a DataFrame with a DatetimeIndex")
    if weather.index.tz is None:
        raise TwinValueError(f"{source}: the weather index must be time-zone aware")
    if len(weather) < 2:
        raise TwinValueError(f"{source}: the weather has fewer than two hours")
    if not weather.index.is_monotonic_increasing or weather.index.has_duplicates:
        raise TwinValueError(f"{source}: the weather index must increase strictly")
    attrs = weather.attrs
    for key in ("latitude", "longitude"):
        if key not in attrs or not np.isfinite(float(attrs[key])):
            raise TwinValueError(f"{source}: weather attrs lack the site {key}")
    if "air_temperature" not in weather.columns:
        raise TwinValueError(f"{source}: missing weather column 'air_temperature'")
    has_split = "direct_normal" in weather.columns and "diffuse_horizontal" in weather.columns
    if not has_split and "global_horizontal" not in weather.columns:
        raise TwinValueError(f"{source}: the weather needs direct_normal and diffuse_horizontal, or global_horizontal")
    report: dict = {}
    step = weather.index[1:] - weather.index[:-1]
    if (step % pd.Timedelta("1h") != pd.Timedelta(0)).any() or (step < pd.Timedelta("1h")).any():
        raise TwinValueError(f"{source}: the weather is not hourly (steps of {step.min()} to {step.max()})")
    full = pd.date_range(weather.index[0], weather.index[-1], freq="1h")
    df = weather.reindex(full) if len(full) != len(weather) else weather
    report["missing_hours"] = int(len(full) - len(weather))
    cols = ["air_temperature"] + (["direct_normal", "diffuse_horizontal"] if has_split else ["global_horizontal"])
    if has_split and "global_horizontal" in weather.columns:
        cols.append("global_horizontal")
    data = {}
    filled = {}
    for c in cols:
        data[c], filled[c] = _fill(df[c].to_numpy(), c, full, max_gap_hours, source)
        lo, hi = WEATHER_COLUMNS[c][2]
        out = (data[c] < lo) | (data[c] > hi)
        if out.any():
            i = int(np.argmax(out))
            raise TwinValueError(f"{source}: {c} = {data[c][i]:g} {WEATHER_COLUMNS[c][0]} at {full[i]} is outside {lo:g}..{hi:g}")
    report["interpolated_values"] = {k: v for k, v in filled.items() if v}
    lat, lon = float(attrs["latitude"]), float(attrs["longitude"])
    elev = float(attrs.get("elevation", 0.0) or 0.0)
    convention = str(attrs.get("time_convention", "start"))
    offset = pd.Timedelta("30min") if not convention.startswith("end") else -pd.Timedelta("30min")
    mid = full + offset
    az, alt = _sun_position(mid, lat, lon, elev)
    dni_extra = _extra_radiation(mid)
    if has_split:
        dni, dhi = data["direct_normal"], data["diffuse_horizontal"]
        ghi = data.get("global_horizontal")
        if ghi is None:
            ghi = dhi + dni * np.maximum(np.sin(np.radians(alt)), 0.0)
    else:
        ghi = data["global_horizontal"]
        rh = df["relative_humidity"].to_numpy(dtype=float) if "relative_humidity" in df.columns else None
        full_corr = rh is not None and np.isfinite(rh).all()
        dni, dhi = _decompose(ghi, alt, mid, lat, lon, data["air_temperature"], rh if full_corr else None)
        report["decomposition"] = "reindl (global_horizontal only" + (", full correlation)" if full_corr else ")")
    up = alt > 0
    dni = np.where(up, dni, 0.0)
    report["hours"] = len(full)
    return Forcing(times=full, theta_e=data["air_temperature"], ghi=np.asarray(ghi, float), dni=np.asarray(dni, float),
                   dhi=np.asarray(dhi, float), dni_extra=dni_extra, sun_azimuth=az, sun_altitude=alt,
                   month=(np.asarray(full.month) - 1).astype(np.int32), latitude=lat, longitude=lon, elevation=elev,
                   report=report)


def _sun_position(times, lat, lon, elev):
    from simulation.sun import solar_position

    sp = solar_position(times, lat, lon, elevation=elev)
    return sp["azimuth"].to_numpy(dtype=np.float64), sp["altitude"].to_numpy(dtype=np.float64)


def _extra_radiation(times):
    from simulation.sun import extraterrestrial_normal

    return np.asarray(extraterrestrial_normal(times), dtype=np.float64)


def _decompose(ghi, alt, times, lat, lon, air_temperature, relative_humidity):
    from simulation.sun import decompose_global

    out = decompose_global(ghi, times, lat, lon, model="reindl", air_temperature=air_temperature,
                           relative_humidity=relative_humidity, sun_altitude=alt)
    return out["dni"].to_numpy(dtype=np.float64), out["dhi"].to_numpy(dtype=np.float64)
