"""Heat results per building, per street and for vulnerable sites.

A pedestrian's heat next to a building is read in a ring of cells around its footprint
(``ring`` metres, 3 by default: the sidewalk in front of the door); a street's heat
over the cells within its half-width plus sidewalk of its centre line.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage

from twin.rasterize import rasterize_values
from twin.tables import VULNERABLE_USES

__all__ = ["building_ring_ids", "building_summary", "street_ids", "street_summary"]


def building_ring_ids(building_id: np.ndarray, *, cell_size: float, ring: float = 3.0) -> np.ndarray:
    """Id of the nearest building for open cells within ``ring`` metres of a footprint (0 elsewhere).

    Uses the exact Euclidean distance transform (the nearest footprint cell wins).
    """
    bid = np.asarray(building_id)
    inside = bid > 0
    if not inside.any():
        return np.zeros(bid.shape, np.int32)
    dist, (ri, ci) = ndimage.distance_transform_edt(~inside, sampling=cell_size, return_indices=True)
    out = np.where((~inside) & (dist <= ring), bid[ri, ci], 0).astype(np.int32)
    return out


def _group_mean(ids: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    v = np.asarray(values, np.float64)
    ok = (ids > 0) & np.isfinite(v)
    s = np.bincount(ids[ok], weights=v[ok], minlength=n + 1)
    c = np.bincount(ids[ok], minlength=n + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, s / np.maximum(c, 1), np.nan)


def building_summary(twin, layers: dict, *, ring: float = 3.0) -> pd.DataFrame:
    """Per-building heat indicators, indexed by building id.

    Columns: ``utci_hottest_around`` [degC], ``hours_utci_above_32_around`` [h],
    ``tmrt_max_around`` [degC], ``utci_night_around`` [degC] (means over the ring of open
    cells within ``ring`` m of the footprint), ``roof_temperature_max`` [degC] (mean over
    the roof cells), ``heat_stress_class_around`` (class of the mean UTCI at the hottest
    hour), ``vulnerable`` (use in twin.tables.VULNERABLE_USES).

    ``layers`` maps names to arrays (or (array, units, long_name) tuples) of a heat result.
    """
    b = twin.buildings
    if len(b) == 0:
        return pd.DataFrame(columns=["utci_hottest_around", "hours_utci_above_32_around", "tmrt_max_around",
                                     "utci_night_around", "roof_temperature_max", "vulnerable"]).rename_axis("id")
    arr = {k: (v[0] if isinstance(v, tuple) else v) for k, v in layers.items()}
    bid = twin.array("building_id").astype(np.int64)
    ids = b["id"].to_numpy(np.int64)
    n = int(max(ids.max(), bid.max()))
    ring_ids = building_ring_ids(bid, cell_size=twin.grid.cell_size, ring=ring).astype(np.int64)
    out = pd.DataFrame(index=pd.Index(ids, name="id"))
    for col, name in (("utci_hottest_around", "utci_hottest"), ("hours_utci_above_32_around", "hours_utci_above_32"),
                      ("tmrt_max_around", "tmrt_max"), ("utci_night_around", "utci_night")):
        if name in arr:
            out[col] = _group_mean(ring_ids, arr[name], n)[ids]
    if "surface_temperature_max" in arr:
        out["roof_temperature_max"] = _group_mean(bid, arr["surface_temperature_max"], n)[ids]
    if "utci_hottest_around" in out:
        u = out["utci_hottest_around"].to_numpy()
        cls = np.digitize(u, [26.0, 32.0, 38.0, 46.0]).astype(float)
        cls[~np.isfinite(u)] = np.nan
        out["heat_stress_class_around"] = cls
    out["vulnerable"] = b["use"].isin(VULNERABLE_USES).to_numpy() if "use" in b else False
    return out


def street_ids(twin, *, default_width: float = 6.0) -> np.ndarray:
    """Raster of road ids: open cells within half the carriageway plus a sidewalk of each centre line."""
    roads = twin.roads
    if len(roads) == 0:
        return np.zeros(twin.grid.shape, np.int32)
    width = roads["width"].to_numpy(float) if "width" in roads else np.full(len(roads), default_width)
    width = np.where(np.isfinite(width) & (width > 0), width, default_width)
    side = roads["sidewalk_width"].to_numpy(float) if "sidewalk_width" in roads else np.zeros(len(roads))
    side = np.where(np.isfinite(side), side, 0.0)
    half = 0.5 * width + side + 0.5 * twin.grid.cell_size
    # wide roads first, so that a narrow street keeps its own cells where it meets a boulevard
    order = np.argsort(-half)
    geoms = [roads.geometry.values[i].buffer(half[i], cap_style="flat") for i in order]
    ids = rasterize_values(twin.grid, geoms, roads["id"].to_numpy(np.int32)[order], fill=0, dtype="int32")
    ids[twin.array("building_id") > 0] = 0
    return ids


def street_summary(twin, layers: dict):
    """Per-road heat indicators: a copy of the roads table with ``utci_hottest``, ``tmrt_max``,
    ``hours_utci_above_32``, ``shade_hours``, ``utci_night`` (means over the street's open cells)
    and ``cells``. Empty when the twin has no roads."""
    roads = twin.roads.copy()
    if len(roads) == 0:
        return roads
    arr = {k: (v[0] if isinstance(v, tuple) else v) for k, v in layers.items()}
    sid = street_ids(twin).astype(np.int64)
    ids = roads["id"].to_numpy(np.int64)
    n = int(max(ids.max(), sid.max()))
    for name in ("utci_hottest", "tmrt_max", "hours_utci_above_32", "shade_hours", "utci_night"):
        if name in arr:
            roads[name] = _group_mean(sid, arr[name], n)[ids]
    roads["cells"] = np.bincount(sid[sid > 0], minlength=n + 1)[ids]
    return roads
