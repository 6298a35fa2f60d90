"""Operating profiles and the energy, cost and CO2 of public lighting over a year.

A luminaire burns from sunset to sunrise (astronomical clock, with optional delays), at
full output except during dimming steps (clock windows at a level in [0, 1]), and not
at all during a part-night switch-off window ("extinction en coeur de nuit", e.g.
23:00-05:00, a municipal choice). Presence detection raises dimmed luminaires to full
output a share of the time (the duty factor). Electrical power is taken as
proportional to the output level (LED drivers; a documented simplification: real
drivers keep a few percent of losses at low levels).

For each night of the year (the nights starting on 1 January .. 31 December), the
hours in each state come from exact interval arithmetic on tz-aware times (legal time,
daylight saving included). With the luminaire power P [W]:

.. math:: W = P \\sum_{nights} \\Big(T_{lit} - T_{off} - \\sum_s (T_s - T_{s \\cap off})(1 - \\ell_s^{eff})\\Big),
          \\qquad \\ell_s^{eff} = \\ell_s + d\\,(1 - \\ell_s)

with d the presence duty factor. EN 13201-5 indicators: the power density indicator
``D_P = P / sum(E_i A_i)`` [W/(lx m2)] and the annual energy consumption indicator
``D_E = sum(P_j t_j) / A`` [Wh/(m2 yr)].

Sunrise and sunset: :func:`simulation.sun.sunrise_sunset` (NREL SPA, Reda & Andreas 2004,
doi:10.1016/j.solener.2003.12.003, upper limb at -0.833 deg).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from twin.errors import TwinValueError

__all__ = ["DimmingStep", "OperatingProfile", "DUSK_TO_DAWN", "sun_times", "annual_hours",
           "parse_clock", "format_clock"]

_CLOCK = re.compile(r"^\s*(\d{1,2})(?::|h)?(\d{2})?\s*$")


def parse_clock(text, *, name: str = "time") -> float:
    """Hours after midnight [h] of a clock time ``"23:00"``, ``"5:30"``, ``"23h"``, or a number of hours.

    Raises
    ------
    TwinValueError
        If the text is not a time of day within 00:00..24:00.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        h = float(text)
    else:
        m = _CLOCK.match(str(text))
        if not m:
            raise TwinValueError(f"invalid {name}: {text!r} (write a clock time such as \"23:00\")")
        h = int(m.group(1)) + (int(m.group(2)) / 60.0 if m.group(2) else 0.0)
    if not 0 <= h <= 24:
        raise TwinValueError(f"invalid {name}: {text!r} (must be within 00:00..24:00)")
    return h % 24.0


def format_clock(h: float) -> str:
    """``"HH:MM"`` of hours after midnight."""
    mins = int(round(h * 60)) % 1440
    return f"{mins // 60:02d}:{mins % 60:02d}"


def _window(text, *, name: str) -> tuple[float, float]:
    if isinstance(text, (list, tuple)) and len(text) == 2:
        a, b = text
    else:
        parts = str(text).replace("–", "-").split("-")
        if len(parts) != 2:
            raise TwinValueError(f"invalid {name}: {text!r} (write a clock window such as \"23:00-05:00\")")
        a, b = parts
    h0, h1 = parse_clock(a, name=name), parse_clock(b, name=name)
    if h0 == h1:
        raise TwinValueError(f"invalid {name}: {text!r} (empty window)")
    return h0, h1


def _night_minutes(h0: float, h1: float) -> np.ndarray:
    """Minutes of a noon-to-noon night covered by a clock window (for overlap checks)."""
    a = (h0 - 12.0) % 24.0
    b = (h1 - 12.0) % 24.0
    if b <= a:
        b += 24.0
    m = np.zeros(1440, bool)
    m[int(round(a * 60)):min(1440, int(round(b * 60)))] = True
    return m


@dataclass(frozen=True)
class DimmingStep:
    """A clock window at a reduced output ``level`` in [0, 1] (``start``/``end`` in hours after midnight)."""

    start: float
    end: float
    level: float

    def __post_init__(self):
        if not 0.0 <= self.level <= 1.0:
            raise TwinValueError(f"invalid dimming level {self.level!r} (must be within 0..1, e.g. 0.5 for 50 %)")


@dataclass(frozen=True)
class OperatingProfile:
    """When and how strongly luminaires burn.

    Attributes
    ----------
    name : str
    on_delay : float
        Switch-on delay after sunset [min] (negative: before sunset).
    off_advance : float
        Switch-off advance before sunrise [min] (negative: after sunrise).
    dimming : tuple of DimmingStep
        Non-overlapping clock windows at reduced output.
    switch_off : (float, float) or None
        Part-night switch-off window, clock hours (e.g. ``(23.0, 5.0)``).
    presence_duty : float or None
        With presence detection, the share of dimmed time spent at full output [1].
    """

    name: str = "dusk-to-dawn"
    on_delay: float = 0.0
    off_advance: float = 0.0
    dimming: tuple[DimmingStep, ...] = ()
    switch_off: tuple[float, float] | None = None
    presence_duty: float | None = None

    def __post_init__(self):
        if self.presence_duty is not None and not 0.0 <= self.presence_duty <= 1.0:
            raise TwinValueError(f"invalid presence duty factor {self.presence_duty!r} (must be within 0..1)")
        used = np.zeros(1440, bool)
        for s in self.dimming:
            m = _night_minutes(s.start, s.end)
            if (used & m).any():
                raise TwinValueError(f"profile {self.name!r}: dimming steps overlap ({format_clock(s.start)}-{format_clock(s.end)})")
            used |= m

    # -- modifications (new profiles) --------------------------------------------------------
    def with_switch_off(self, start: float, end: float) -> OperatingProfile:
        return replace(self, switch_off=(float(start), float(end)),
                       name=f"{self.name}+off {format_clock(start)}-{format_clock(end)}")

    def with_dimming(self, steps, presence_duty=None) -> OperatingProfile:
        desc = ",".join(f"{format_clock(s.start)}-{format_clock(s.end)}@{100 * s.level:.0f}%" for s in steps)
        return replace(self, dimming=tuple(steps), presence_duty=presence_duty, name=f"{self.name}+dim {desc}")

    # -- a compact text form, stored in the luminaires table's ``profile`` column ------------
    def to_spec(self) -> str:
        """E.g. ``"on=+0min; off=-0min; dim=22:00-06:00@50%; cut=23:00-05:00; presence=20%"``."""
        parts = [f"on={self.on_delay + 0.0:+g}min", f"off={0.0 - self.off_advance:+g}min"]
        parts += [f"dim={format_clock(s.start)}-{format_clock(s.end)}@{100 * s.level:g}%" for s in self.dimming]
        if self.switch_off:
            parts.append(f"cut={format_clock(self.switch_off[0])}-{format_clock(self.switch_off[1])}")
        if self.presence_duty is not None:
            parts.append(f"presence={100 * self.presence_duty:g}%")
        return "; ".join(parts)

    @classmethod
    def from_spec(cls, text: str, *, name: str | None = None) -> OperatingProfile:
        """Parse :meth:`to_spec` text (empty text: dusk to dawn at full output).

        Raises
        ------
        TwinValueError
            If an item is not understood.
        """
        kw: dict = {"dimming": []}
        for item in filter(None, (t.strip() for t in str(text or "").split(";"))):
            if "=" not in item:
                raise TwinValueError(f"invalid operating profile item {item!r} in {text!r} (expected key=value)")
            key, val = (s.strip() for s in item.split("=", 1))
            try:
                if key == "on":
                    kw["on_delay"] = float(val.removesuffix("min"))
                elif key == "off":
                    kw["off_advance"] = -float(val.removesuffix("min"))
                elif key == "dim":
                    win, lev = val.split("@")
                    h0, h1 = _window(win, name="dimming window")
                    kw["dimming"].append(DimmingStep(h0, h1, float(lev.rstrip("%")) / 100.0))
                elif key == "cut":
                    kw["switch_off"] = _window(val, name="switch-off window")
                elif key == "presence":
                    kw["presence_duty"] = float(val.rstrip("%")) / 100.0
                else:
                    raise TwinValueError(f"unknown operating profile item {key!r} in {text!r} (on, off, dim, cut, presence)")
            except ValueError as err:
                if isinstance(err, TwinValueError):
                    raise
                raise TwinValueError(f"invalid operating profile item {item!r} in {text!r}") from None
        kw["dimming"] = tuple(kw["dimming"])
        return cls(name=name or (text or "dusk-to-dawn"), **kw)


#: Full output from sunset to sunrise.
DUSK_TO_DAWN = OperatingProfile()


def sun_times(year: int, latitude: float, longitude: float, tz: str = "Europe/Paris") -> pd.DataFrame:
    """Per night starting on each day of ``year``: its ``sunset`` and the next ``sunrise`` (tz-aware)."""
    from simulation.sun import sunrise_sunset

    days = pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="D", tz=tz)
    ss = sunrise_sunset(days, latitude, longitude)
    if ss["sunset"].isna().any() or ss["sunrise"].isna().any():
        raise TwinValueError(f"no sunset or sunrise on some days at latitude {latitude:.2f} (polar day or night)")
    return pd.DataFrame({"sunset": ss["sunset"].to_numpy()[:-1], "sunrise": ss["sunrise"].to_numpy()[1:]},
                        index=days[:-1])


def _clock_times(days: pd.DatetimeIndex, h: float, tz: str) -> np.ndarray:
    """Epoch seconds of clock time ``h`` in the night that starts on each day (before noon: the next day)."""
    naive = days.tz_localize(None) + pd.to_timedelta(h + (24.0 if h < 12.0 else 0.0), unit="h")
    local = naive.tz_localize(tz, ambiguous=np.ones(len(naive), bool), nonexistent="shift_forward")
    return _seconds(local)


def _seconds(times) -> np.ndarray:
    """Epoch seconds [s] of tz-aware times, whatever their pandas resolution."""
    return pd.DatetimeIndex(times).as_unit("ns").asi8 / 1e9


def _overlap(a0, a1, b0, b1):
    return np.maximum(0.0, np.minimum(a1, b1) - np.maximum(a0, b0))


@dataclass
class AnnualHours:
    """Hours per year of one operating profile (sums over the nights)."""

    lit: float            # [h] hours burning (dimmed or not)
    full_equivalent: float  # [h] energy-equivalent hours at full power
    switched_off: float   # [h] night hours spent off by the part-night switch-off
    dimmed: float         # [h] hours burning in a dimming step
    night: float          # [h] hours between switch-on and switch-off times of the clock
    per_night: pd.DataFrame = field(repr=False, default=None)


def annual_hours(profile: OperatingProfile, nights: pd.DataFrame, tz: str = "Europe/Paris") -> AnnualHours:
    """Hours in each state over the nights of :func:`sun_times` for one profile."""
    days = nights.index
    a = _seconds(nights["sunset"]) + 60.0 * profile.on_delay
    b = _seconds(nights["sunrise"]) - 60.0 * profile.off_advance
    b = np.maximum(a, b)
    night = b - a
    if profile.switch_off:
        o0 = _clock_times(days, profile.switch_off[0], tz)
        o1 = _clock_times(days, profile.switch_off[1], tz)
        off = _overlap(a, b, o0, o1)
    else:
        o0 = o1 = None
        off = np.zeros_like(a)
    lost = np.zeros_like(a)
    dimmed = np.zeros_like(a)
    for s in profile.dimming:
        s0 = _clock_times(days, s.start, tz)
        s1 = _clock_times(days, s.end, tz)
        t = _overlap(a, b, s0, s1)
        if o0 is not None:
            t = t - _overlap(np.maximum(a, s0), np.minimum(b, s1), o0, o1)
        t = np.maximum(t, 0.0)
        lev = s.level
        if profile.presence_duty is not None:
            lev = lev + profile.presence_duty * (1.0 - lev)
        lost += t * (1.0 - lev)
        dimmed += t
    lit = night - off
    full = lit - lost
    per = pd.DataFrame({"night": night / 3600, "lit": lit / 3600, "off": off / 3600, "dimmed": dimmed / 3600,
                        "full_equivalent": full / 3600}, index=days)
    return AnnualHours(lit=float(lit.sum() / 3600), full_equivalent=float(full.sum() / 3600),
                       switched_off=float(off.sum() / 3600), dimmed=float(dimmed.sum() / 3600),
                       night=float(night.sum() / 3600), per_night=per)


def check_level(value, *, name: str) -> float:
    v = float(value)
    if not 0.0 <= v <= 1.0 or math.isnan(v):
        raise TwinValueError(f"invalid {name}: {value!r} (must be within 0..1)")
    return v
