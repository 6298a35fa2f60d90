"""Hourly weather files -> the twin's weather table (:mod:`twin.weather`).

* :func:`read_epw`: EnergyPlus weather files (typical meteorological years, e.g. the
  Climate.OneBuilding TMYx files of French stations).
* :func:`read_weather_csv`: a CSV of hourly observations (air temperature, relative
  humidity, global radiation, wind, optionally direct/diffuse, pressure...).

Both return a ``pandas.DataFrame`` with a tz-aware ``DatetimeIndex`` labelling the
*start* of each hour (``attrs["time_convention"] = "hour-start"``: radiation values are
means over the hour that starts at the label), the documented columns and units, and
``attrs`` latitude, longitude, elevation, source. Missing values (EPW sentinels, empty
CSV cells) become NaN; short gaps (up to ``max_gap_hours``) are filled by linear
interpolation and counted in ``attrs["filled"]``; longer gaps are refused.
"""

from __future__ import annotations

import calendar
import csv
import datetime as _dt
from pathlib import Path

import numpy as np
import pandas as pd

from twin.errors import TwinFileNotFoundError, TwinFormatError, TwinValueError
from twin.weather import WEATHER_COLUMNS, check_weather

__all__ = ["read_epw", "read_weather_csv", "EPW_FIELDS", "CSV_ALIASES"]

#: EPW data field index (0-based) -> (column, missing-value sentinel: values >= it are missing)
EPW_FIELDS: dict[int, tuple[str, float]] = {
    6: ("air_temperature", 99.9),
    7: ("dew_point", 99.9),
    8: ("relative_humidity", 999.0),
    9: ("pressure", 999999.0),
    12: ("longwave_down", 9999.0),
    13: ("global_horizontal", 9999.0),
    14: ("direct_normal", 9999.0),
    15: ("diffuse_horizontal", 9999.0),
    20: ("wind_direction", 999.0),
    21: ("wind_speed", 999.0),
}


def _fill_gaps(df: pd.DataFrame, max_gap_hours: int, source: str) -> dict:
    filled = {}
    for col in df.columns:
        s = df[col]
        miss = s.isna().to_numpy()
        if not miss.any():
            continue
        # lengths of the runs of missing values
        edges = np.diff(np.concatenate(([0], miss.astype(np.int8), [0])))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        longest = int((ends - starts).max())
        if longest > max_gap_hours or starts[0] == 0 or ends[-1] == len(s):
            where = df.index[starts[np.argmax(ends - starts)]]
            raise TwinFormatError(f"{source}: {col} is missing for {longest} hour(s) from {where} "
                                  f"(gaps longer than {max_gap_hours} h, or at the ends, are not filled)")
        df[col] = s.interpolate(method="linear", limit_area="inside")
        filled[col] = int(miss.sum())
    return filled


def read_epw(path, *, max_gap_hours: int = 3, year: int | None = None) -> pd.DataFrame:
    """Read an EnergyPlus weather (EPW) file into the twin's weather table.

    Parameters
    ----------
    path : str or Path
    max_gap_hours : int, longest run of missing values filled by linear interpolation.
    year : int, optional. A typical year mixes months of different years; its rows are
        put in one year so that the index is monotonic: ``year`` if given, else the year of
        the first row (recorded in ``attrs["year_coerced"]``).

    Returns
    -------
    DataFrame (see module doc). Columns: air_temperature [degC], dew_point [degC],
    relative_humidity [%], pressure [Pa], longwave_down, global_horizontal, direct_normal,
    diffuse_horizontal [W m-2] (hourly totals in Wh m-2 = hourly means in W m-2),
    wind_direction [degree], wind_speed [m s-1]. The index is in the file's standard time
    (a fixed UTC offset from the LOCATION line, no daylight saving).

    Raises
    ------
    TwinFileNotFoundError, TwinFormatError
        Naming the file and the line.
    """
    path = Path(path)
    if not path.is_file():
        raise TwinFileNotFoundError(f"{path}: no such weather file")
    try:
        text = path.read_text(encoding="latin-1")
    except OSError as err:
        raise TwinFormatError(f"{path}: cannot read ({err})") from err
    lines = text.splitlines()
    if len(lines) < 9 or not lines[0].startswith("LOCATION"):
        raise TwinFormatError(f"{path}: not an EPW file (the first line must be LOCATION,...)")
    loc = next(csv.reader([lines[0]]))
    try:
        lat, lon, tz_hours, elev = float(loc[6]), float(loc[7]), float(loc[8]), float(loc[9])
    except (IndexError, ValueError):
        raise TwinFormatError(f"{path}: line 1: cannot read latitude, longitude, time zone and elevation") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and -12 <= tz_hours <= 14):
        raise TwinFormatError(f"{path}: line 1: impossible location {lat}, {lon}, time zone {tz_hours}")
    header = 8
    for i, line in enumerate(lines[:12]):
        if line.startswith("DATA PERIODS"):
            header = i + 1
            break
    rows = [ln for ln in lines[header:] if ln.strip()]
    if not rows:
        raise TwinFormatError(f"{path}: no data rows")
    data = np.full((len(rows), len(EPW_FIELDS)), np.nan)
    stamp = np.zeros((len(rows), 4), np.int64)
    keys = list(EPW_FIELDS)
    for k, ln in enumerate(rows):
        parts = ln.split(",")
        if len(parts) < 22:
            raise TwinFormatError(f"{path}: line {header + k + 1}: {len(parts)} fields, an EPW row has 35")
        try:
            stamp[k] = [int(parts[0]), int(parts[1]), int(parts[2]), int(parts[3])]
            for j, f in enumerate(keys):
                v = float(parts[f])
                data[k, j] = np.nan if v >= EPW_FIELDS[f][1] else v
        except ValueError:
            raise TwinFormatError(f"{path}: line {header + k + 1}: a field is not a number") from None
    years = np.unique(stamp[:, 0])
    y = int(year) if year is not None else int(stamp[0, 0])
    has_feb29 = bool(((stamp[:, 1] == 2) & (stamp[:, 2] == 29)).any())
    if year is None and len(years) > 1 and not has_feb29 and calendar.isleap(y):
        # a typical year has 8,760 hours and no 29 February: put it in a common year, or
        # the index would hold a 24-hour hole
        y -= 1
    tz = _dt.timezone(_dt.timedelta(hours=tz_hours))
    try:
        days = pd.to_datetime(pd.DataFrame({"year": np.full(len(stamp), y), "month": stamp[:, 1], "day": stamp[:, 2]}))
        idx = pd.DatetimeIndex(days + pd.to_timedelta(stamp[:, 3] - 1, unit="h")).tz_localize(tz)
    except (ValueError, TypeError) as err:
        raise TwinFormatError(f"{path}: impossible date in the data ({err})") from None
    if not idx.is_monotonic_increasing or idx.has_duplicates:
        raise TwinFormatError(f"{path}: the rows are not in time order")
    df = pd.DataFrame(data, index=idx, columns=[EPW_FIELDS[f][0] for f in keys])
    # negative radiation readings are instrument noise at night
    for col in ("global_horizontal", "direct_normal", "diffuse_horizontal"):
        df[col] = df[col].clip(lower=0.0)
    source = f"{path.name}"
    filled = _fill_gaps(df, max_gap_hours, str(path))
    df.attrs.update({"latitude": lat, "longitude": lon, "elevation": elev, "source": f"EPW {source}: {loc[1]}",
                     "time_convention": "hour-start", "filled": filled, "utc_offset_hours": tz_hours})
    if len(years) > 1 or year is not None:
        df.attrs["year_coerced"] = y
        df.attrs["source"] += f" (rows of years {', '.join(map(str, years))} put in {y})"
    return check_weather(df, source=str(path))


#: our column -> accepted CSV header names (case-insensitive)
CSV_ALIASES: dict[str, tuple[str, ...]] = {
    "air_temperature": ("air_temperature", "temperature", "ta", "t", "temp", "tair"),
    "relative_humidity": ("relative_humidity", "rh", "humidity", "u"),
    "global_horizontal": ("global_horizontal", "ghi", "global", "glo", "rg", "kdown"),
    "direct_normal": ("direct_normal", "dni"),
    "diffuse_horizontal": ("diffuse_horizontal", "dhi", "diffuse"),
    "wind_speed": ("wind_speed", "wind", "ws", "ff", "u10"),
    "wind_direction": ("wind_direction", "wd", "dd"),
    "pressure": ("pressure", "p", "pres"),
    "dew_point": ("dew_point", "td", "dewpoint"),
    "longwave_down": ("longwave_down", "ldown", "lw_down"),
}


def read_weather_csv(path, *, latitude: float, longitude: float, elevation: float = 0.0,
                     timezone: str | None = None, time_column: str = "time", columns: dict | None = None,
                     time_convention: str = "hour-start", max_gap_hours: int = 3, sep: str = ",") -> pd.DataFrame:
    """Read hourly observations from a CSV file into the twin's weather table.

    Parameters
    ----------
    path : str or Path
    latitude, longitude : float [degrees], elevation : float [m], of the station.
    timezone : str, for naive times (e.g. "Europe/Paris" or "UTC"); refused if times are
        naive and no time zone is given.
    time_column : str, the column of date-times (ISO 8601).
    columns : dict, optional, CSV header -> weather column, for headers the aliases
        (:data:`CSV_ALIASES`) do not know.
    time_convention : {"hour-start", "hour-end", "instant"}, what each time labels.
    max_gap_hours : int, longest gap filled by linear interpolation.

    Values must be in the table's units (degC, %, W m-2, m s-1 at 10 m, Pa).
    air_temperature, relative_humidity, global_horizontal and wind_speed are required.

    Raises
    ------
    TwinFileNotFoundError, TwinFormatError, TwinValueError
    """
    path = Path(path)
    if not path.is_file():
        raise TwinFileNotFoundError(f"{path}: no such weather file")
    try:
        raw = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as err:
        raise TwinFormatError(f"{path}: cannot read as CSV ({err})") from None
    lower = {c.strip().lower(): c for c in raw.columns}
    if time_column.lower() not in lower:
        raise TwinFormatError(f"{path}: no time column {time_column!r} (columns: {', '.join(raw.columns)})")
    mapping = {}
    for ours, aliases in CSV_ALIASES.items():
        for a in aliases:
            if a in lower:
                mapping[lower[a]] = ours
                break
    for k, v in (columns or {}).items():
        if k not in raw.columns:
            raise TwinValueError(f"{path}: columns maps {k!r}, which the file lacks")
        if v not in WEATHER_COLUMNS:
            raise TwinValueError(f"{path}: columns maps {k!r} to unknown weather column {v!r}")
        mapping[k] = v
    try:
        times = pd.to_datetime(raw[lower[time_column.lower()]].str.strip(), format="ISO8601")
    except (ValueError, TypeError) as err:
        raise TwinFormatError(f"{path}: cannot read the times ({err})") from None
    idx = pd.DatetimeIndex(times)
    if idx.tz is None:
        if timezone is None:
            raise TwinValueError(f"{path}: the times have no time zone; pass timezone= (e.g. 'Europe/Paris' or 'UTC')")
        try:
            idx = idx.tz_localize(timezone, ambiguous="raise", nonexistent="raise")
        except Exception as err:  # pytz/zoneinfo errors differ
            raise TwinValueError(f"{path}: cannot place the times in {timezone!r} ({err})") from None
    data = {}
    for src, ours in mapping.items():
        vals = pd.to_numeric(raw[src].str.strip().replace({"": None, "NA": None, "nan": None}), errors="coerce")
        bad = vals.isna() & ~raw[src].str.strip().isin(["", "NA", "nan"])
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise TwinFormatError(f"{path}: line {i + 2}: {src} = {raw[src].iat[i]!r} is not a number")
        data[ours] = vals.to_numpy(float)
    df = pd.DataFrame(data, index=idx)
    if not df.index.is_monotonic_increasing or df.index.has_duplicates:
        raise TwinFormatError(f"{path}: the times are not strictly increasing")
    step = np.diff(df.index).astype("timedelta64[s]").astype(np.int64)
    if len(step) and not (step == 3600).all():
        i = int(np.argmax(step != 3600))
        raise TwinFormatError(f"{path}: the rows must be hourly; {df.index[i]} is followed by {df.index[i + 1]}")
    filled = _fill_gaps(df, max_gap_hours, str(path))
    df.attrs.update({"latitude": float(latitude), "longitude": float(longitude), "elevation": float(elevation),
                     "source": f"CSV {path.name}", "time_convention": time_convention, "filled": filled})
    return check_weather(df, source=str(path))
