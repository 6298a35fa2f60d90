"""Who and what gets wet: hazard rating, per-building exposure, residents, vulnerable sites, roads.

A building is a wall in the flood model, so its exposure is read on the ring of open
cells just outside its footprint (8-neighbours of its cells): the maximum depth,
hazard rating and speed there, and the first time that ring was wet.

Hazard rating (Defra/EA FD2320, 2006; FD2321 supplementary note, 2008)::

    HR = d (v + 0.5) + DF

with classes (standards.md, overridable :data:`~simulation.flood.parameters.HAZARD_CLASSES`):
< 0.75 low, 0.75-1.25 moderate (danger for some), 1.25-2.0 significant (danger for
most), > 2.0 extreme (danger for all). The flood model tracks the maximum of HR over
time in every cell; :func:`hazard_rating` computes it from given depth and speed.

Residents (an estimate, said so in every output, :data:`RESIDENTS_RULE`): housing with a
known number of dwellings counts ``PERSONS_PER_DWELLING`` per dwelling; otherwise (and for
care homes) the gross floor area (footprint x floors, floors from the height at 3 m per
storey when unknown) divided by ``M2_PER_RESIDENT`` of its use. Other uses have no
residents (their occupants are counted as vulnerable sites when they are schools, care
homes or health buildings: :data:`twin.tables.VULNERABLE_USES`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from simulation.flood.parameters import DEBRIS_THRESHOLDS, HAZARD_CLASSES
from twin.core import Twin
from twin.errors import TwinValueError
from twin.grid import Grid
from twin.tables import VULNERABLE_USES

__all__ = [
    "M2_PER_RESIDENT",
    "PERSONS_PER_DWELLING",
    "RESIDENTS_RULE",
    "building_edge_cells",
    "building_exposure",
    "depth_at_points",
    "exposure_summary",
    "flooded_points",
    "flooded_road_length",
    "hazard_class",
    "hazard_rating",
    "residents_estimate",
]

#: Average household size in France, INSEE 2020: 2.19 persons per main residence (check).
PERSONS_PER_DWELLING = 2.2
#: Gross floor area per resident by use [m2] (check: typical French values, ~40 m2 of living space per
#: person in housing, gross = living / 0.8; care homes ~50 m2 gross per bed).
M2_PER_RESIDENT = {"housing": 50.0, "care_home": 50.0}
#: Storey height used when the number of floors is unknown [m].
STOREY_HEIGHT = 3.0

RESIDENTS_RULE = (
    f"housing: {PERSONS_PER_DWELLING} persons per dwelling when dwellings are known, else gross floor area "
    f"(footprint x floors, floors = height / {STOREY_HEIGHT:g} m when unknown) / {M2_PER_RESIDENT['housing']:g} m2; "
    f"care homes: gross floor area / {M2_PER_RESIDENT['care_home']:g} m2; other uses: 0"
)


def hazard_rating(depth, speed, *, debris_factor=None, d_mid=DEBRIS_THRESHOLDS["d_mid"],
                  d_high=DEBRIS_THRESHOLDS["d_high"], v_high=DEBRIS_THRESHOLDS["v_high"], df_mid=1.0,
                  df_high=1.0):
    """Flood hazard rating ``HR = d (v + 0.5) + DF`` [1] (FD2320).

    Parameters
    ----------
    depth : array_like
        Water depth d [m].
    speed : array_like
        Depth-averaged speed v [m s-1].
    debris_factor : array_like, optional
        DF [1]; by default ``df_mid`` for ``d_mid < d <= d_high`` and ``df_high`` above
        (or when ``v > v_high``), 0 below ``d_mid`` (urban values: 1, 1).

    Returns
    -------
    ndarray
        HR, 0 where the depth is 0.
    """
    d = np.asarray(depth, dtype=np.float64)
    v = np.asarray(speed, dtype=np.float64)
    if debris_factor is None:
        df = np.where((d > d_high) | (v > v_high), df_high, np.where(d > d_mid, df_mid, 0.0))
    else:
        df = np.asarray(debris_factor, dtype=np.float64)
    return np.where(d > 0, d * (v + 0.5) + df, 0.0)


def hazard_class(hr, *, classes=HAZARD_CLASSES, lang: str = "en"):
    """FD2320 hazard class of hazard ratings: ``(codes 0..3, labels)``; code -1 and label "" where HR = 0."""
    hr = np.asarray(hr, dtype=np.float64)
    bounds = np.array([c[0] for c in classes])
    codes = np.searchsorted(bounds, hr, side="right")
    codes = np.minimum(codes, len(classes) - 1)
    codes = np.where(hr > 0, codes, -1)
    k = 1 if lang == "en" else 2
    labels = np.array([c[k] for c in classes] + [""], dtype=object)
    return codes, labels[codes]


def building_edge_cells(building_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(building id, flat cell index)`` of the open cells touching each building (8-neighbours)."""
    bid = np.asarray(building_id)
    ny, nx = bid.shape
    ids, cells = [], []
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di == 0 and dj == 0:
                continue
            nb = np.zeros_like(bid)
            nb[max(0, -di):ny - max(0, di), max(0, -dj):nx - max(0, dj)] = \
                bid[max(0, di):ny - max(0, -di), max(0, dj):nx - max(0, -dj)]
            r, c = np.nonzero((bid == 0) & (nb > 0))
            ids.append(nb[r, c])
            cells.append(r * nx + c)
    if not ids:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pairs = np.unique(np.stack([np.concatenate(ids).astype(np.int64), np.concatenate(cells).astype(np.int64)], 1),
                      axis=0)
    return pairs[:, 0], pairs[:, 1]


def _group_max(keys, values, uniq):
    out = np.full(uniq.size, np.nan)
    pos = np.searchsorted(uniq, keys)
    ok = np.isfinite(values)
    np.fmax.at(out, pos[ok], values[ok])
    return out


def _group_min(keys, values, uniq):
    out = np.full(uniq.size, np.nan)
    pos = np.searchsorted(uniq, keys)
    ok = np.isfinite(values)
    np.fmin.at(out, pos[ok], values[ok])
    return out


def residents_estimate(buildings) -> pd.Series:
    """Estimated residents per building (see :data:`RESIDENTS_RULE`), indexed by building id."""
    b = buildings
    if len(b) == 0:
        return pd.Series(dtype=float, name="residents")
    area = b.geometry.area.to_numpy(np.float64)
    floors = b["floors"].to_numpy(np.float64) if "floors" in b else np.zeros(len(b))
    height = b["height"].to_numpy(np.float64)
    unknown = ~(floors > 0)
    floors = np.where(unknown, np.maximum(1.0, np.round(np.nan_to_num(height, nan=STOREY_HEIGHT) / STOREY_HEIGHT)),
                      floors)
    gross = area * floors
    use = b["use"].astype(str).to_numpy() if "use" in b else np.full(len(b), "unknown")
    dwellings = b["dwellings"].to_numpy(np.float64) if "dwellings" in b else np.zeros(len(b))
    res = np.zeros(len(b))
    housing = use == "housing"
    res = np.where(housing & (dwellings > 0), dwellings * PERSONS_PER_DWELLING, res)
    res = np.where(housing & ~(dwellings > 0), gross / M2_PER_RESIDENT["housing"], res)
    res = np.where(use == "care_home", gross / M2_PER_RESIDENT["care_home"], res)
    return pd.Series(res, index=pd.Index(b["id"].to_numpy(), name="id"), name="residents")


def building_exposure(twin: Twin, *, max_depth, hazard, max_speed=None, arrival_time=None,
                      thresholds=(0.1, 0.5), lang: str = "en") -> pd.DataFrame:
    """Per-building flood exposure, indexed by building id.

    Parameters
    ----------
    twin : Twin
        Needs ``building_id`` and the buildings table.
    max_depth, hazard : ndarray
        Maximum depth [m] and hazard rating [1] rasters (from a flood run).
    max_speed, arrival_time : ndarray, optional
        Maximum speed [m s-1] and time of first wetting [s].
    thresholds : (float, float)
        Depths [m] of the ``flooded`` and ``flooded_deep`` flags.

    Returns
    -------
    DataFrame
        ``edge_max_depth`` [m], ``edge_max_hazard`` [1], ``hazard_class`` (label),
        ``edge_max_speed`` [m s-1], ``first_wet_s`` [s], ``flooded`` (depth > thresholds[0]),
        ``flooded_deep`` (> thresholds[1]), ``use``, ``vulnerable``, ``residents`` (estimate),
        ``edge_cells``. Buildings too small to own a cell are read on the 3 x 3 cells around
        their centroid.
    """
    b = twin.buildings
    grid = twin.grid
    cols = ["edge_max_depth", "edge_max_hazard", "hazard_class", "edge_max_speed", "first_wet_s", "flooded",
            "flooded_deep", "use", "vulnerable", "residents", "edge_cells"]
    if len(b) == 0:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="id"))
    md = np.asarray(max_depth, dtype=np.float64)
    hz = np.asarray(hazard, dtype=np.float64)
    if md.shape != grid.shape or hz.shape != grid.shape:
        raise TwinValueError(f"exposure rasters have shape {md.shape}/{hz.shape}, the grid is {grid.shape}")
    sp = np.asarray(max_speed, dtype=np.float64) if max_speed is not None else np.full(grid.shape, np.nan)
    at = np.asarray(arrival_time, dtype=np.float64) if arrival_time is not None else np.full(grid.shape, np.nan)
    bid_layer = twin.array("building_id")
    keys, cells = building_edge_cells(bid_layer)
    ids = b["id"].to_numpy(np.int64)
    # buildings without a cell of their own: the 3 x 3 block around the centroid
    missing = np.setdiff1d(ids, np.unique(keys))
    if missing.size:
        sub = b.set_index("id").loc[missing]
        cx = shapely.get_x(shapely.centroid(sub.geometry.values))
        cy = shapely.get_y(shapely.centroid(sub.geometry.values))
        r, c = grid.rowcol(cx, cy)
        extra_k, extra_c = [], []
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                rr, cc = r + di, c + dj
                ok = (rr >= 0) & (rr < grid.nrows) & (cc >= 0) & (cc < grid.ncols)
                ok[ok] &= bid_layer[rr[ok], cc[ok]] == 0
                extra_k.append(missing[ok])
                extra_c.append(rr[ok] * grid.ncols + cc[ok])
        keys = np.concatenate([keys, *extra_k])
        cells = np.concatenate([cells, *extra_c])
    uniq = np.unique(ids)
    inb = np.isin(keys, uniq)
    keys, cells = keys[inb], cells[inb]
    depth = _group_max(keys, md.reshape(-1)[cells], uniq)
    hzd = _group_max(keys, hz.reshape(-1)[cells], uniq)
    spd = _group_max(keys, sp.reshape(-1)[cells], uniq)
    first = _group_min(keys, at.reshape(-1)[cells], uniq)
    ncell = np.bincount(np.searchsorted(uniq, keys), minlength=uniq.size)
    depth = np.where(ncell > 0, np.nan_to_num(depth, nan=0.0), np.nan)
    hzd = np.where(ncell > 0, np.nan_to_num(hzd, nan=0.0), np.nan)
    _codes, labels = hazard_class(np.nan_to_num(hzd), lang=lang)
    df = pd.DataFrame({"edge_max_depth": depth, "edge_max_hazard": hzd, "hazard_class": labels,
                       "edge_max_speed": spd, "first_wet_s": first, "edge_cells": ncell},
                      index=pd.Index(uniq, name="id"))
    info = b.set_index("id")
    df["use"] = info["use"].reindex(df.index).astype(str) if "use" in info else "unknown"
    df["vulnerable"] = df["use"].isin(VULNERABLE_USES)
    df["residents"] = residents_estimate(b).reindex(df.index).to_numpy()
    df["flooded"] = df["edge_max_depth"] > thresholds[0]
    df["flooded_deep"] = df["edge_max_depth"] > thresholds[1]
    return df[cols]


def flooded_road_length(roads, depth, grid: Grid, *, threshold: float = 0.1) -> pd.Series:
    """Length of each road under more than ``threshold`` [m] of water [m], indexed by road id.

    Each centre line is sampled every quarter cell; a sample counts its share of the
    line's length when the depth at its cell exceeds the threshold. Samples outside the
    grid count as dry.
    """
    d = np.asarray(depth, dtype=np.float64)
    if len(roads) == 0:
        return pd.Series(dtype=float, name="flooded_length_m")
    geoms = roads.geometry.values
    lengths = shapely.length(geoms)
    step = grid.cell_size / 4.0
    out = np.zeros(len(roads))
    for k, (g, L) in enumerate(zip(geoms, lengths)):
        if g is None or g.is_empty or L <= 0:
            continue
        n = max(1, int(np.ceil(L / step)))
        dist = (np.arange(n) + 0.5) * (L / n)
        pts = shapely.line_interpolate_point(g, dist)
        x, y = shapely.get_x(pts), shapely.get_y(pts)
        inside = grid.contains(x, y)
        r, c = grid.rowcol(x[inside], y[inside])
        wet = np.zeros(n, bool)
        wet[inside] = d[r, c] > threshold
        out[k] = L * wet.mean()
    return pd.Series(out, index=pd.Index(roads["id"].to_numpy(), name="id"), name="flooded_length_m")


def depth_at_points(x, y, depth, grid: Grid, *, radius: float = 0.0) -> np.ndarray:
    """Maximum water depth [m] at points: in the cell holding each point, or within ``radius`` [m] of it.

    Parameters
    ----------
    x, y : array_like
        Point coordinates in the grid's CRS [m].
    depth : ndarray
        Depth raster on ``grid`` [m] (NaN cells are ignored).
    grid : Grid
    radius : float
        With ``radius > 0``, the maximum over the cells whose centre lies within ``radius``
        of the point, plus the point's own cell (a cabinet against a wall, a coarse grid).

    Returns
    -------
    ndarray (float64)
        Depth [m]; NaN for points outside the grid (or where every cell read is NaN).
    """
    d = np.asarray(depth, dtype=np.float64)
    if d.shape != grid.shape:
        raise TwinValueError(f"depth raster has shape {d.shape}, the grid is {grid.shape}")
    if not (np.isfinite(radius) and radius >= 0):
        raise TwinValueError(f"radius must be >= 0 m, got {radius!r}")
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    y = np.atleast_1d(np.asarray(y, dtype=np.float64))
    out = np.full(x.shape, np.nan)
    inside = grid.contains(x, y)
    r0, c0 = grid.rowcol(x, y)
    k = int(np.ceil(radius / grid.cell_size))
    for di in range(-k, k + 1):
        for dj in range(-k, k + 1):
            r, c = r0 + di, c0 + dj
            ok = inside & (r >= 0) & (r < grid.nrows) & (c >= 0) & (c < grid.ncols)
            if di or dj:
                cx, cy = grid.xy(r, c)
                ok &= (cx - x) ** 2 + (cy - y) ** 2 <= radius * radius
            v = np.full(x.shape, np.nan)
            v[ok] = d[r[ok], c[ok]]
            out = np.fmax(out, v)
    return out


def flooded_points(table, depth, grid: Grid, *, threshold: float, radius: float = 0.0) -> pd.DataFrame:
    """Which rows of a table of points (luminaires, cabinets, gauges...) stand in more than ``threshold`` of water.

    Parameters
    ----------
    table : GeoDataFrame
        Points in the grid's CRS (other geometries are read at their representative point).
    depth : ndarray
        Maximum depth raster on ``grid`` [m] (usually a flood's ``max_depth``, with the permanent
        water masked out by the caller).
    threshold : float
        Depth [m] above which a point is flooded (``depth > threshold``).
    radius : float
        See :func:`depth_at_points` [m].

    Returns
    -------
    DataFrame
        ``depth`` [m] (NaN outside the grid) and ``flooded`` (bool, False outside the grid), indexed
        like the table (by its ``id`` column when it has one).
    """
    if not (np.isfinite(threshold) and threshold >= 0):
        raise TwinValueError(f"threshold must be >= 0 m, got {threshold!r}")
    index = pd.Index(table["id"].to_numpy(), name="id") if "id" in table.columns else table.index
    if len(table) == 0:
        return pd.DataFrame({"depth": np.zeros(0), "flooded": np.zeros(0, bool)}, index=index)
    pts = shapely.point_on_surface(table.geometry.values)  # a point is its own
    dep = depth_at_points(shapely.get_x(pts), shapely.get_y(pts), depth, grid, radius=radius)
    return pd.DataFrame({"depth": dep, "flooded": np.nan_to_num(dep, nan=0.0) > threshold}, index=index)


def exposure_summary(exposure: pd.DataFrame, *, road_length_m: float = 0.0) -> dict:
    """Counts for indicators: buildings flooded (> 0.1 / 0.5 m), vulnerable sites, residents, roads."""
    e = exposure
    flooded = e["flooded"].fillna(False).astype(bool)
    return {
        "buildings": len(e),
        "buildings_flooded": int(flooded.sum()),
        "buildings_flooded_deep": int(e["flooded_deep"].fillna(False).astype(bool).sum()),
        "vulnerable_sites_flooded": int((flooded & e["vulnerable"]).sum()),
        "residents_affected": float(e.loc[flooded, "residents"].sum()),
        "buildings_hazard_significant_or_worse": int((e["edge_max_hazard"] > HAZARD_CLASSES[1][0]).sum()),
        "flooded_road_km": road_length_m / 1000.0,
    }
