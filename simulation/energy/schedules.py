"""Hourly occupancy and set-point schedules from the profiles of ``data/schedules.csv``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.energy.archetypes import load_table
from twin.errors import TwinFormatError

__all__ = ["closed_mask", "schedule_arrays"]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _days(spec: str) -> list[int]:
    spec = spec.strip().lower()
    if spec == "all":
        return list(range(7))
    if "-" in spec:
        a, b = spec.split("-", 1)
        i, j = _DAYS.index(a), _DAYS.index(b)
        return list(range(i, j + 1)) if i <= j else list(range(i, 7)) + list(range(j + 1))
    return [_DAYS.index(spec)]


def schedule_arrays(times: pd.DatetimeIndex, profiles, table: pd.DataFrame | None = None):
    """Occupancy fraction and comfort flag per profile and hour.

    Parameters
    ----------
    times : DatetimeIndex
        Start of each hour, tz-aware; schedules follow the local clock of its time zone.
    profiles : sequence of str
        Profile names, in the order of the returned rows.
    table : DataFrame, optional
        The schedules table (the shipped ``schedules.csv`` by default).

    Returns
    -------
    occupancy : ndarray, float32, shape (n_profiles, n_t)
    comfort : ndarray, uint8, shape (n_profiles, n_t)

    Raises
    ------
    TwinFormatError
        When a profile lacks a day of the week for one of its kinds.
    """
    tab = load_table("schedules") if table is None else table
    hours = [f"h{h:02d}" for h in range(24)]
    weekday = np.asarray(times.day_of_week)
    hour = np.asarray(times.hour)
    occ = np.zeros((len(profiles), len(times)), dtype=np.float32)
    com = np.zeros((len(profiles), len(times)), dtype=np.uint8)
    for i, name in enumerate(profiles):
        rows = tab[tab["profile"] == name]
        for kind, out in (("occupancy", occ), ("comfort", com)):
            grid = np.full((7, 24), np.nan)
            for _, r in rows[rows["kind"] == kind].iterrows():
                try:
                    days = _days(str(r["days"]))
                except ValueError:
                    raise TwinFormatError(f"schedules: profile {name!r}: bad days {r['days']!r}") from None
                grid[days] = r[hours].to_numpy(dtype=np.float64)
            if np.isnan(grid).any():
                raise TwinFormatError(f"schedules: profile {name!r} does not define {kind} for every day")
            out[i] = grid[weekday, hour]
    return occ, com


def closed_mask(closed_months) -> np.ndarray:
    """Bit masks (bit m-1 for month m) from space-separated month lists."""
    out = np.zeros(len(closed_months), dtype=np.int32)
    for i, s in enumerate(closed_months):
        s = "" if s is None or (isinstance(s, float) and np.isnan(s)) else str(s)
        for tok in s.replace(",", " ").split():
            m = int(float(tok))
            if not 1 <= m <= 12:
                raise TwinFormatError(f"closed_months: invalid month {tok!r}")
            out[i] |= 1 << (m - 1)
    return out
