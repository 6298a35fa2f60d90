"""Light-nuisance rules (French arrêté of 27 December 2018) and the trame noire map.

Per luminaire (art. 3 and 5 of the arrêté, values in :data:`RULES_2018`, overridable):

* installed ULR (upward light ratio of the luminaire *as mounted*, i.e. with its tilt)
  < 4 % for road lighting (category a) and car parks (category e); nominal ULR (flat)
  < 1 % for luminaires installed from 2020 on; luminaires whose ULR exceeds 50 % had to be
  replaced by 1 January 2025;
* CIE flux code N3 (downward flux within 75.5 deg of nadir / downward flux) >= 95 %;
* correlated colour temperature <= 3000 K (2700 or 2400 K in protected areas: a parameter);
* DSFLI (installed *source* flux per lit area) per zone: road lighting < 35 lm/m2 in
  built-up areas, < 25 outside; car parks < 25 / < 20.

ULR and N3 are computed from each luminaire's photometry and tilt
(:meth:`Photometry.installed_ratios`); the inventory's declared ``ulr`` / ``n3`` columns
are reported beside them. Kinds map to categories: road and pedestrian -> a,
parking -> e, park and heritage -> b (no ULR / N3 / DSFLI limits, only CCT and switch-off
times, which an operating profile carries).

Trame noire: on ecological corridors (parks, water, trees by default), each cell is
classed by its maintained illuminance: 1 dark (< 0.1 lx), 2 dim (0.1-1 lx), 3 lit
(> 1 lx); 0 outside the corridors. The thresholds are parameters (they are debated).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from twin.layers import Landcover

__all__ = ["Rules2018", "RULES_2018", "KIND_CATEGORY", "luminaire_checks", "dsfli", "trame_noire",
           "TRAME_NOIRE_CLASSES", "DEFAULT_CORRIDOR_CLASSES"]


@dataclass(frozen=True)
class Rules2018:
    """Thresholds of the arrêté of 27 December 2018 (art. 3), one overridable table."""

    ulr_installed_max: float = 4.0       # [%] categories a and e
    ulr_nominal_new_max: float = 1.0     # [%] luminaires installed from `new_from` on
    ulr_replace_above: float = 50.0      # [%] to be replaced by 2025-01-01
    new_from: int = 2020                 # installation year from which the nominal rule applies
    n3_min: float = 95.0                 # [%]
    cct_max: float = 3000.0              # [K] (2700 / 2400 in protected natural areas)
    dsfli_max: dict = field(default_factory=lambda: {
        ("a", True): 35.0, ("a", False): 25.0, ("e", True): 25.0, ("e", False): 20.0})  # [lm/m2] (category, built-up)
    categories_ulr: tuple = ("a", "e")
    categories_n3: tuple = ("a", "e")


RULES_2018 = Rules2018()

#: Luminaire kind (table column) -> category of the arrêté.
KIND_CATEGORY = {"road": "a", "pedestrian": "a", "parking": "e", "park": "b", "heritage": "b"}


def luminaire_checks(luminaires: gpd.GeoDataFrame, photometries, lut: np.ndarray, *, rules: Rules2018 = RULES_2018,
                     cct_max: float | None = None) -> gpd.GeoDataFrame:
    """The 2018 rule checks, one row per luminaire.

    Parameters
    ----------
    luminaires : GeoDataFrame
        Luminaires table (glossary columns).
    photometries : list of Photometry
        The resolved photometries; ``lut[k]`` is the index of luminaire k's.
    cct_max : float, optional
        Overrides ``rules.cct_max`` [K] (protected areas).

    Returns
    -------
    GeoDataFrame
        ``id, kind, category, cabinet, photometry, installed, tilt, ulr_nominal, ulr_installed, n3``
        [%], ``cct`` [K], ``ulr_declared, n3_declared`` [%], ``ulr_ok, ulr_new_ok, replace_by_2025,
        n3_ok, cct_ok, compliant`` (bool) and ``issues`` (text); point geometry.
    """
    cct_cap = rules.cct_max if cct_max is None else float(cct_max)
    n = len(luminaires)
    cache: dict[tuple[int, float], tuple[float, float]] = {}
    rows = []
    kinds = luminaires["kind"].astype(str).tolist() if n else []
    tilts = luminaires["tilt"].fillna(0.0).to_numpy(float) if n else np.zeros(0)
    years = luminaires["installed"].to_numpy(int) if n else np.zeros(0, int)
    ccts = luminaires["cct"].to_numpy(float) if n else np.zeros(0)
    for k in range(n):
        p = photometries[lut[k]]
        key = (int(lut[k]), round(float(tilts[k]), 3))
        if key not in cache:
            cache[key] = p.installed_ratios(float(tilts[k]))
        ulr_i, n3_i = cache[key]
        ulr_n = p.ulr
        cct = ccts[k] if math.isfinite(ccts[k]) else p.cct
        cat = KIND_CATEGORY.get(kinds[k], "a")
        issues = []
        ulr_ok = True
        ulr_new_ok = True
        n3_ok = True
        if cat in rules.categories_ulr:
            ulr_ok = 100 * ulr_i < rules.ulr_installed_max
            if not ulr_ok:
                issues.append(f"installed ULR {100 * ulr_i:.1f} % >= {rules.ulr_installed_max:g} %")
            if years[k] >= rules.new_from:
                ulr_new_ok = 100 * ulr_n < rules.ulr_nominal_new_max
                if not ulr_new_ok:
                    issues.append(f"nominal ULR {100 * ulr_n:.1f} % >= {rules.ulr_nominal_new_max:g} % (installed {years[k]})")
        replace = 100 * ulr_i > rules.ulr_replace_above
        if replace:
            issues.append(f"ULR {100 * ulr_i:.0f} % > {rules.ulr_replace_above:g} %: to be replaced by 2025")
        if cat in rules.categories_n3:
            n3_ok = 100 * n3_i >= rules.n3_min
            if not n3_ok:
                issues.append(f"N3 {100 * n3_i:.1f} % < {rules.n3_min:g} %")
        cct_ok = (not math.isfinite(cct)) or cct <= cct_cap
        if not cct_ok:
            issues.append(f"CCT {cct:.0f} K > {cct_cap:.0f} K")
        rows.append({
            "id": int(luminaires["id"].iloc[k]), "kind": kinds[k], "category": cat,
            "cabinet": str(luminaires["cabinet"].iloc[k]), "photometry": str(luminaires["photometry"].iloc[k]),
            "installed": int(years[k]), "tilt": float(tilts[k]), "ulr_nominal": 100 * ulr_n,
            "ulr_installed": 100 * ulr_i, "n3": 100 * n3_i, "cct": float(cct),
            "ulr_declared": float(luminaires["ulr"].iloc[k]), "n3_declared": float(luminaires["n3"].iloc[k]),
            "ulr_ok": bool(ulr_ok), "ulr_new_ok": bool(ulr_new_ok), "replace_by_2025": bool(replace),
            "n3_ok": bool(n3_ok), "cct_ok": bool(cct_ok),
            "compliant": bool(ulr_ok and ulr_new_ok and n3_ok and cct_ok and not replace),
            "issues": "; ".join(issues),
        })
    cols = ["id", "kind", "category", "cabinet", "photometry", "installed", "tilt", "ulr_nominal", "ulr_installed",
            "n3", "cct", "ulr_declared", "n3_declared", "ulr_ok", "ulr_new_ok", "replace_by_2025", "n3_ok", "cct_ok",
            "compliant", "issues"]
    df = pd.DataFrame(rows, columns=cols)
    geom = luminaires.geometry.values if n else []
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geom, crs=luminaires.crs), crs=luminaires.crs)


def dsfli(luminaires: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, assignment: np.ndarray, *, built_up: bool = True,
          rules: Rules2018 = RULES_2018) -> tuple[pd.DataFrame, pd.DataFrame]:
    """DSFLI (installed source flux per lit area [lm/m2]) per road segment and per cabinet.

    The lit area of a segment is its length x (carriageway + both sidewalks) [m2]; a
    luminaire counts for the road it is assigned to; a cabinet's DSFLI is its luminaires'
    flux over the area of the segments they light. Limits by category (a: roads,
    e: car parks) and ``built_up`` (inside an agglomeration).

    Returns
    -------
    (per_segment, per_cabinet) : DataFrames
        Columns ``flux`` [lm], ``area`` [m2], ``dsfli`` [lm/m2], ``limit`` [lm/m2], ``ok``.
    """
    n = len(luminaires)
    flux = luminaires["flux"].to_numpy(float) if n else np.zeros(0)
    kinds = luminaires["kind"].astype(str).to_numpy() if n else np.zeros(0, str)
    cat = np.array([KIND_CATEGORY.get(k, "a") for k in kinds])
    area = {}
    for _, r in roads.iterrows():
        w = float(r.get("width", math.nan))
        sw = float(r.get("sidewalk_width", 0.0) or 0.0)
        w = (w if math.isfinite(w) else 0.0) + 2 * (sw if math.isfinite(sw) else 0.0)
        area[int(r["id"])] = float(r.geometry.length) * w
    seg_rows = []
    for rid in sorted(set(assignment.tolist()) - {0}):
        m = assignment == rid
        cats = sorted(set(cat[m]) & {"a", "e"})
        c = "e" if cats == ["e"] else "a"
        a = area.get(rid, 0.0)
        f = float(flux[m].sum())
        limit = rules.dsfli_max[(c, bool(built_up))]
        d = f / a if a > 0 else math.nan
        seg_rows.append({"road_id": rid, "category": c, "luminaires": int(m.sum()), "flux": f, "area": a, "dsfli": d,
                         "limit": limit, "ok": bool(math.isfinite(d) and d < limit)})
    per_seg = pd.DataFrame(seg_rows, columns=["road_id", "category", "luminaires", "flux", "area", "dsfli", "limit", "ok"])
    cab_rows = []
    cabinets = luminaires["cabinet"].astype(str).to_numpy() if n else np.zeros(0, str)
    for cab in sorted(set(cabinets.tolist())):
        m = cabinets == cab
        rids = sorted(set(assignment[m].tolist()) - {0})
        a = sum(area.get(r, 0.0) for r in rids)
        f = float(flux[m & (assignment > 0)].sum())
        cats = sorted(set(cat[m]) & {"a", "e"})
        c = "e" if cats == ["e"] else "a"
        limit = rules.dsfli_max[(c, bool(built_up))]
        d = f / a if a > 0 else math.nan
        cab_rows.append({"cabinet": cab, "luminaires": int(m.sum()), "flux": f, "area": a, "dsfli": d, "limit": limit,
                         "ok": bool(math.isfinite(d) and d < limit)})
    per_cab = pd.DataFrame(cab_rows, columns=["cabinet", "luminaires", "flux", "area", "dsfli", "limit", "ok"])
    return per_seg, per_cab


#: Classes of the trame noire layer.
TRAME_NOIRE_CLASSES = {0: ("outside corridors", "hors corridors"), 1: ("dark", "sombre"),
                       2: ("dim", "faiblement éclairé"), 3: ("lit", "éclairé")}

#: Land-cover classes counted as ecological corridors by default (cells with canopy count too).
DEFAULT_CORRIDOR_CLASSES = (Landcover.GRASS, Landcover.TREES, Landcover.WATER)


def trame_noire(illuminance: np.ndarray, landcover: np.ndarray | None, canopy_height: np.ndarray | None = None, *,
                dark: float = 0.1, lit: float = 1.0, corridor_classes=DEFAULT_CORRIDOR_CLASSES,
                cell_area: float = 1.0) -> tuple[np.ndarray, dict[str, float]]:
    """Trame noire classes (uint8) and the corridor area in each band [m2].

    Parameters
    ----------
    illuminance : array
        Horizontal illuminance [lx].
    landcover, canopy_height : arrays, optional
        Corridors are cells whose land cover is in ``corridor_classes`` or with canopy > 0.
    dark, lit : float
        Band limits [lx]: class 1 below ``dark``, 2 between, 3 above ``lit``.
    """
    if not 0 <= dark <= lit:
        from twin.errors import TwinValueError

        raise TwinValueError(f"invalid trame noire thresholds: dark {dark!r} lx must be <= lit {lit!r} lx")
    corridor = np.zeros(illuminance.shape, bool)
    if landcover is not None:
        corridor |= np.isin(landcover, np.asarray([int(c) for c in corridor_classes]))
    if canopy_height is not None:
        corridor |= canopy_height > 0
    cls = np.zeros(illuminance.shape, np.uint8)
    cls[corridor & (illuminance < dark)] = 1
    cls[corridor & (illuminance >= dark) & (illuminance <= lit)] = 2
    cls[corridor & (illuminance > lit)] = 3
    areas = {TRAME_NOIRE_CLASSES[k][0]: float((cls == k).sum() * cell_area) for k in (1, 2, 3)}
    return cls, areas
