"""Explicit units in scenario files: durations (``"90min"``) and quantities (``"60 mm/h"``).

Scenario files never carry bare numbers for physical quantities whose unit could be
misread: ``rain = "60 mm/h"``, ``duration = "1h"``. These helpers turn such strings
into SI-ish floats, and say precisely what is wrong otherwise.
"""

from __future__ import annotations

import math
import re

from twin.errors import TwinValueError

__all__ = ["parse_duration", "parse_quantity", "UNITS"]

_DURATION = {"s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "day": 86400.0, "days": 86400.0}

#: Accepted units per dimension, with the factor to the canonical unit (first of each list).
UNITS: dict[str, dict[str, float]] = {
    "length": {"m": 1.0, "cm": 0.01, "mm": 0.001, "km": 1000.0},
    "rain_rate": {"mm/h": 1.0, "mm/min": 60.0, "m/s": 3.6e6},
    "rain_depth": {"mm": 1.0, "m": 1000.0},
    "discharge": {"m3/s": 1.0, "l/s": 0.001},
    "power": {"W": 1.0, "kW": 1000.0},
    "energy": {"kWh": 1.0, "MWh": 1000.0, "Wh": 0.001},
    "temperature": {"C": 1.0, "degC": 1.0},
    "price_energy": {"EUR/kWh": 1.0, "EUR/MWh": 0.001},
    "angle": {"deg": 1.0, "degree": 1.0},
    "illuminance": {"lx": 1.0},
    "flux": {"lm": 1.0},
    "ratio": {"%": 0.01, "1": 1.0},
    "speed": {"m/s": 1.0, "km/h": 1 / 3.6},
    "u_value": {"W/m2K": 1.0, "W/(m2.K)": 1.0},
}

_QTY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\d\s].*?)?\s*$")


def parse_duration(text, *, name: str = "duration") -> float:
    """Seconds in a duration such as ``"90min"``, ``"1h30min"``, ``"2 h"``, ``"45s"``, ``"3d"``.

    Raises
    ------
    TwinValueError
        If the text is not a duration with explicit units, or is negative.
    """
    if isinstance(text, bool) or not isinstance(text, str):
        raise TwinValueError(f"invalid {name}: {text!r} (write a duration with its unit, e.g. \"90min\" or \"1h\")")
    parts = re.findall(r"([-+]?\d+\.?\d*)\s*([a-zA-Z]+)", text)
    rebuilt = "".join(re.findall(r"[-+]?\d+\.?\d*\s*[a-zA-Z]+", text)).replace(" ", "")
    if not parts or rebuilt != text.replace(" ", ""):
        raise TwinValueError(f"invalid {name}: {text!r} (write a duration with its unit, e.g. \"90min\" or \"1h\")")
    total = 0.0
    for value, unit in parts:
        if unit not in _DURATION:
            raise TwinValueError(f"invalid {name}: {text!r} (unknown time unit {unit!r}; use s, min, h or d)")
        total += float(value) * _DURATION[unit]
    if total < 0 or not math.isfinite(total):
        raise TwinValueError(f"invalid {name}: {text!r} (must be a non-negative duration)")
    return total


def parse_quantity(text, dimension: str, *, name: str = "value") -> float:
    """A quantity such as ``"60 mm/h"`` converted to the canonical unit of ``dimension``.

    Raises
    ------
    TwinValueError
        If the text has no unit, a unit of another dimension, or no number.
    """
    units = UNITS[dimension]
    canonical = next(iter(units))
    if isinstance(text, bool) or not isinstance(text, str):
        raise TwinValueError(f"invalid {name}: {text!r} (write the value with its unit, e.g. \"1 {canonical}\")")
    m = _QTY.match(text)
    if not m or not m.group(2):
        raise TwinValueError(f"invalid {name}: {text!r} (write the value with its unit, e.g. \"1 {canonical}\")")
    unit = m.group(2).strip()
    if unit not in units:
        raise TwinValueError(f"invalid {name}: {text!r} (unit {unit!r} is not a {dimension.replace('_', ' ')}; use {', '.join(units)})")
    return float(m.group(1)) * units[unit]
