"""The Universal Thermal Climate Index (UTCI) and its stress categories.

UTCI [degC] is the air temperature of a reference environment (50 % RH, calm air,
Tmrt = Ta) that gives the same physiological strain as the actual one (Jendritzky
et al. 2012, doi:10.1007/s00484-011-0453-2). It is computed by the operational
6th-order polynomial of Bröde et al. (2012), doi:10.1007/s00484-011-0454-1, valid for

* air temperature Ta -50..50 degC,
* Tmrt - Ta -30..70 K,
* wind speed at 10 m 0.5..17 m s-1,
* water vapour pressure up to 5 kPa.

Outside these ranges the polynomial extrapolates into nonsense. Here: wind below
0.5 m s-1 is clamped to 0.5 (and the number of clamped values is reported: calm air
is common in heatwaves and the reference condition is 0.5 m s-1); other values outside
the range are refused (``out_of_range="raise"``) or give NaN (``"nan"``), counted.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from simulation.heat import _kernels as _k
from simulation.heat._utci_coefficients import COEFFICIENTS, EXPONENTS
from twin.errors import TwinValueError

__all__ = [
    "utci",
    "UtciResult",
    "saturation_vapour_pressure",
    "vapour_pressure",
    "utci_coefficients_in_dtmrt",
    "heat_stress_class",
    "HEAT_STRESS_THRESHOLDS",
    "HEAT_STRESS_LABELS",
    "UTCI_CATEGORIES",
    "UTCI_VALID",
]

#: validity of the operational polynomial (Bröde et al. 2012)
UTCI_VALID = {"air_temperature": (-50.0, 50.0), "tmrt_minus_ta": (-30.0, 70.0), "wind_speed": (0.5, 17.0),
              "vapour_pressure_kpa": (0.0, 5.0)}

#: lower bounds [degC] of the heat-stress classes 1..4 (moderate, strong, very strong, extreme)
HEAT_STRESS_THRESHOLDS = (26.0, 32.0, 38.0, 46.0)

#: class code -> labels (0 = no heat stress, below 26 degC)
HEAT_STRESS_LABELS = {
    0: {"en": "no heat stress", "fr": "pas de stress thermique"},
    1: {"en": "moderate heat stress", "fr": "stress thermique modéré"},
    2: {"en": "strong heat stress", "fr": "fort stress thermique"},
    3: {"en": "very strong heat stress", "fr": "très fort stress thermique"},
    4: {"en": "extreme heat stress", "fr": "stress thermique extrême"},
}

#: the ten UTCI assessment categories: (lower bound degC, upper bound, en, fr)
UTCI_CATEGORIES = (
    (46.0, np.inf, "extreme heat stress", "stress thermique extrême"),
    (38.0, 46.0, "very strong heat stress", "très fort stress thermique"),
    (32.0, 38.0, "strong heat stress", "fort stress thermique"),
    (26.0, 32.0, "moderate heat stress", "stress thermique modéré"),
    (9.0, 26.0, "no thermal stress", "pas de stress thermique"),
    (0.0, 9.0, "slight cold stress", "léger stress dû au froid"),
    (-13.0, 0.0, "moderate cold stress", "stress modéré dû au froid"),
    (-27.0, -13.0, "strong cold stress", "fort stress dû au froid"),
    (-40.0, -27.0, "very strong cold stress", "très fort stress dû au froid"),
    (-np.inf, -40.0, "extreme cold stress", "stress extrême dû au froid"),
)

# Hardy (1998), ITS-90 formulations for vapor pressure, frostpoint temperature, dewpoint
# temperature and enhancement factors (Proc. 3rd Int. Symp. Humidity & Moisture): as in the UTCI code.
_HARDY_G = (-2836.5744, -6028.076559, 19.54263612, -0.02737830188, 1.6261698e-05, 7.0229056e-10, -1.8680009e-13)
_HARDY_LN = 2.7150305
_T0 = 273.15  # scipy.constants.zero_Celsius


def saturation_vapour_pressure(air_temperature):
    """Saturation vapour pressure over water [hPa] at ``air_temperature`` [degC] (Hardy 1998, ITS-90)."""
    tk = np.asarray(air_temperature, float) + _T0
    ln_es = _HARDY_LN * np.log(tk)
    for i, g in enumerate(_HARDY_G):
        ln_es = ln_es + g * tk ** (i - 2)
    return np.exp(ln_es) * 0.01


def vapour_pressure(air_temperature, relative_humidity):
    """Water vapour pressure [kPa] from air temperature [degC] and relative humidity [%]."""
    return saturation_vapour_pressure(air_temperature) * np.asarray(relative_humidity, float) / 100.0 / 10.0


@dataclass
class UtciResult:
    """UTCI values and what was done to stay in the polynomial's range.

    Attributes
    ----------
    utci : ndarray [degC] (NaN where out of range with ``out_of_range="nan"``)
    wind_clamped : int, number of values whose wind was raised to 0.5 m s-1
    out_of_range : int, number of values outside the validity range
    """

    utci: np.ndarray
    wind_clamped: int = 0
    out_of_range: int = 0


def utci(*, air_temperature, mean_radiant_temperature, wind_speed, relative_humidity,
         out_of_range: str = "raise") -> UtciResult:
    """UTCI [degC] by the operational polynomial of Bröde et al. (2012).

    Parameters
    ----------
    air_temperature : array [degC]
    mean_radiant_temperature : array [degC]
    wind_speed : array [m s-1], at 10 m above ground
    relative_humidity : array [%]
    out_of_range : {"raise", "nan"}
        What to do with values outside the validity range (wind below 0.5 m s-1 is
        always clamped to 0.5 and counted, with a warning).

    Returns
    -------
    UtciResult

    Raises
    ------
    TwinValueError
        With ``out_of_range="raise"``, naming the first offending input.

    Notes
    -----
    ``UTCI = Ta + offset(Ta, va, Tmrt - Ta, Pa)``, a 210-term polynomial of total degree 6,
    ``Pa`` the vapour pressure [kPa] (Hardy 1998 saturation pressure times RH).
    Bröde et al. (2012), Int. J. Biometeorol. 56, 481-494, doi:10.1007/s00484-011-0454-1.
    Reference values: UTCI(25, 25, 1, 50) = 24.6; UTCI(20, 20, 3, 50) = 16.2 (rounded).
    """
    if out_of_range not in ("raise", "nan"):
        raise TwinValueError(f"invalid out_of_range: {out_of_range!r} (use 'raise' or 'nan')")
    ta, tr, va, rh = np.broadcast_arrays(*(np.asarray(a, float) for a in
                                           (air_temperature, mean_radiant_temperature, wind_speed, relative_humidity)))
    shape = ta.shape
    ta, tr, va, rh = (np.ascontiguousarray(a.ravel()) for a in (ta, tr, va, rh))
    for name, a in (("air_temperature", ta), ("mean_radiant_temperature", tr), ("wind_speed", va),
                    ("relative_humidity", rh)):
        if not np.isfinite(a).all():
            raise TwinValueError(f"invalid {name}: not finite")
    if ((rh < 0) | (rh > 100)).any() or (va < 0).any():
        raise TwinValueError("invalid relative_humidity or wind_speed: RH must be within 0..100 %, wind >= 0")
    low = va < UTCI_VALID["wind_speed"][0]
    n_clamped = int(low.sum())
    if n_clamped:
        va = np.where(low, UTCI_VALID["wind_speed"][0], va)
        warnings.warn(f"UTCI: wind speed below 0.5 m/s raised to 0.5 m/s (the polynomial's lower limit) for "
                      f"{n_clamped} value(s)", stacklevel=2)
    pa = vapour_pressure(ta, rh)
    d = tr - ta
    checks = (
        ("air temperature", ta, UTCI_VALID["air_temperature"], "degC"),
        ("Tmrt - Ta", d, UTCI_VALID["tmrt_minus_ta"], "K"),
        ("wind speed", va, UTCI_VALID["wind_speed"], "m/s"),
        ("vapour pressure", pa, UTCI_VALID["vapour_pressure_kpa"], "kPa"),
    )
    bad = np.zeros(ta.shape, bool)
    for label, a, (lo, hi), unit in checks:
        out = (a < lo) | (a > hi)
        if out.any() and out_of_range == "raise":
            i = int(np.argmax(out))
            raise TwinValueError(f"UTCI: {label} = {a[i]:g} {unit} is outside the polynomial's range {lo:g}..{hi:g}")
        bad |= out
    res = np.empty(ta.shape, np.float64)
    _k.utci_full(ta, va, d, pa, EXPONENTS, COEFFICIENTS, res)
    res[bad] = np.nan
    return UtciResult(utci=res.reshape(shape), wind_clamped=n_clamped, out_of_range=int(bad.sum()))


def utci_coefficients_in_dtmrt(*, air_temperature: float, wind_speed: float, vapour_pressure_kpa: float) -> np.ndarray:
    """Collapse the polynomial for fixed Ta [degC], va [m s-1], Pa [kPa] into one in D = Tmrt - Ta.

    Returns ``b`` (7,) with ``UTCI = Ta + sum_k b_k D^k``: exact, and 30 times cheaper per cell
    when (as in the heat model) only Tmrt varies across the map within an hour.
    """
    x = (float(air_temperature), float(wind_speed), 0.0, float(vapour_pressure_kpa))
    b = np.zeros(7)
    for (i, j, k, l), c in zip(EXPONENTS, COEFFICIENTS):
        b[k] += c * x[0] ** i * x[1] ** j * x[3] ** l
    return b


def heat_stress_class(utci_values, thresholds=HEAT_STRESS_THRESHOLDS) -> np.ndarray:
    """Heat-stress class (uint8): 0 below 26 degC, 1 moderate, 2 strong, 3 very strong, 4 extreme (>= 46).

    NaN gives 255 (no data).
    """
    u = np.asarray(utci_values, float)
    cls = np.digitize(u, np.asarray(thresholds, float)).astype(np.uint8)
    cls[~np.isfinite(u)] = 255
    return cls
