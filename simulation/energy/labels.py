"""Energy labels and targets: DPE classes, conversion factors, the décret tertiaire trajectory.

* DPE (dwellings, since July 2021): the class is the worse of the primary-energy class
  (kWh_EP m-2 yr-1, five uses) and the greenhouse-gas class (kgCO2eq m-2 yr-1), each with strict
  upper bounds: A < 70 / < 6, B < 110 / < 11, C < 180 / < 30, D < 250 / < 50, E < 330 / < 70,
  F < 420 / < 100, G above. Above 800 m in climate zones H1b, H1c, H2d: E < 390 / < 80,
  F < 500 / < 110 (arrêté of 31 March 2021 as amended; :data:`DPE_SCALES`). The raised thresholds
  of dwellings under 40 m2 (July 2024) are not applied: such buildings are flagged instead.
* Tertiary buildings get an *indicative* label on the same scale (no official DPE scale for them
  is computed here).
* Décret tertiaire (décret 2019-771): tertiary floor area >= 1,000 m2 must cut final energy by 40 %
  by 2030, 50 % by 2040, 60 % by 2050 against a reference year (:data:`TERTIARY_TARGETS`).
* Conversion factors (primary energy, CO2 per end use, prices) per carrier from ``factors.csv``;
  the row applying to a year is the latest whose ``valid_from`` is not after it (electricity:
  2.3, then 1.9 from 2026, flagged (check)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.energy.archetypes import load_table
from twin.errors import TwinValueError

__all__ = [
    "DPE_CLASSES",
    "DPE_SCALES",
    "HIGH_ALTITUDE_ZONES",
    "TERTIARY_AREA_THRESHOLD",
    "TERTIARY_TARGETS",
    "conversion_factors",
    "dpe_class",
    "tertiary_targets",
]

DPE_CLASSES = ("A", "B", "C", "D", "E", "F", "G")

#: Upper bounds (exclusive) of classes A..F: primary energy [kWh m-2 yr-1] and GHG [kgCO2eq m-2 yr-1].
DPE_SCALES: dict[str, dict[str, tuple[float, ...]]] = {
    "standard": {"ep": (70, 110, 180, 250, 330, 420), "ghg": (6, 11, 30, 50, 70, 100)},
    "high_altitude": {"ep": (70, 110, 180, 250, 390, 500), "ghg": (6, 11, 30, 50, 80, 110)},
}
#: Climate zones where dwellings above 800 m use the high-altitude scale.
HIGH_ALTITUDE_ZONES = ("H1b", "H1c", "H2d")

#: Décret tertiaire: year -> share of the reference final energy still allowed.
TERTIARY_TARGETS: dict[int, float] = {2030: 0.60, 2040: 0.50, 2050: 0.40}
#: Floor area from which the décret tertiaire applies [m2].
TERTIARY_AREA_THRESHOLD = 1000.0


def _class_index(values, bounds) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    return np.searchsorted(np.asarray(bounds, dtype=np.float64), v, side="right")


def dpe_class(ep, ghg, *, scale: str = "standard") -> np.ndarray:
    """DPE class by the double threshold: the worse of the energy and the climate classes.

    Parameters
    ----------
    ep : array_like
        Primary energy, five uses [kWh_EP m-2 yr-1].
    ghg : array_like
        Greenhouse-gas emissions [kgCO2eq m-2 yr-1].
    scale : str or array_like of str
        ``"standard"`` or ``"high_altitude"`` (per building if an array).

    Returns
    -------
    ndarray of str
        ``"A"`` .. ``"G"``; ``""`` where ``ep`` or ``ghg`` is NaN.

    Examples
    --------
    >>> dpe_class([69.9, 70.0, 100.0], [5.9, 5.9, 30.0]).tolist()
    ['A', 'B', 'D']
    """
    ep = np.asarray(ep, dtype=np.float64)
    ghg = np.asarray(ghg, dtype=np.float64)
    ep, ghg = np.broadcast_arrays(ep, ghg)
    scales = np.broadcast_to(np.asarray(scale, dtype=object), ep.shape)
    idx = np.zeros(ep.shape, dtype=np.int64)
    for name in set(scales.ravel().tolist()):
        if name not in DPE_SCALES:
            raise TwinValueError(f"unknown DPE scale {name!r}; expected one of {', '.join(DPE_SCALES)}")
        m = scales == name
        s = DPE_SCALES[name]
        idx[m] = np.maximum(_class_index(ep[m], s["ep"]), _class_index(ghg[m], s["ghg"]))
    out = np.asarray(DPE_CLASSES, dtype=object)[idx]
    out[~(np.isfinite(ep) & np.isfinite(ghg))] = ""
    return out


def conversion_factors(year: int, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Conversion factors applying in ``year``, one row per carrier.

    Returns
    -------
    DataFrame indexed by carrier: ``pef`` [kWh_EP kWh-1], ``co2_heating``, ``co2_cooling``, ``co2_dhw``,
    ``co2_lighting``, ``co2_auxiliary`` [kgCO2eq kWh-1], ``price`` [EUR kWh-1], ``valid_from``, ``source``,
    ``approximate``.
    """
    tab = load_table("factors") if table is None else table
    rows = tab[tab["valid_from"] <= int(year)].sort_values("valid_from").groupby("carrier").tail(1)
    missing = sorted(set(tab["carrier"]) - set(rows["carrier"]))
    if missing:
        raise TwinValueError(f"no conversion factor for {missing[0]!r} in {year} (factors start later)")
    return rows.set_index("carrier")


def tertiary_targets(final_energy, reference, *, subject) -> pd.DataFrame:
    """Décret tertiaire targets and the gap to each, per building.

    Parameters
    ----------
    final_energy : array_like
        Current final energy [kWh yr-1].
    reference : array_like
        Reference-year final energy [kWh yr-1].
    subject : array_like of bool
        Whether the building falls under the décret (tertiary, >= 1,000 m2).

    Returns
    -------
    DataFrame with, for each year Y of :data:`TERTIARY_TARGETS`, ``target_Y`` [kWh yr-1] and
    ``gap_Y`` = final - target [kWh yr-1] (> 0: still to cut), and ``reduction`` achieved [1];
    NaN where not subject.
    """
    fe = np.asarray(final_energy, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    sub = np.asarray(subject, dtype=bool)
    out = {}
    for year, share in TERTIARY_TARGETS.items():
        target = np.where(sub, ref * share, np.nan)
        out[f"target_{year}"] = target
        out[f"gap_{year}"] = np.where(sub, fe - target, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["reduction"] = np.where(sub & (ref > 0), 1.0 - fe / ref, np.nan)
    return pd.DataFrame(out)
