"""Crossing the fields: what a flood does to the public lighting.

Street lighting is fed by electrical cabinets (armoires) along the streets. When water rises over a
cabinet's plinth, the protection trips or the supply has to be cut for safety, and every luminaire
on its circuits goes dark; a luminaire whose column stands in deep water is cut too (its connection
box sits behind the inspection door at the foot of the column). :func:`lighting_outage` finds both
from a flood's maximum depth and returns the twin without them, ready for
:class:`simulation.lighting.LightingModel` or a ``remove_luminaires`` lighting scenario.

Assumptions (recorded in every :class:`LightingOutage`):

- a cabinet is out when the water at its position is deeper than :data:`CABINET_FLOOD_DEPTH`
  (0.2 m: the top of a typical cabinet plinth, where the terminal blocks and breakers start; check
  the commune's own cabinets);
- a luminaire is out when its cabinet is out, or when the water at its foot is deeper than
  :data:`LUMINAIRE_FLOOD_DEPTH` (0.5 m: the inspection door of a column, typically 0.3-0.6 m above
  the ground; check);
- inventories rarely give cabinet positions (the twin's ``luminaires`` table only names the cabinet):
  without a ``cabinets`` table, a cabinet stands at the foot of the luminaire of its circuit
  nearest to the centroid of that circuit (:func:`cabinet_positions`);
- depths over the twin's permanent water (``water_level``) are not counted: a luminaire on a quay is
  not "flooded" by the river at its normal level.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from simulation.flood.exposure import flooded_points, residents_estimate
from twin.core import Twin
from twin.errors import TwinValueError
from twin.tables import VULNERABLE_USES

__all__ = [
    "CABINET_FLOOD_DEPTH",
    "LUMINAIRE_FLOOD_DEPTH",
    "LightingOutage",
    "buildings_along",
    "cabinet_positions",
    "lighting_outage",
]

#: Water depth [m] above which an electrical cabinet is out of service (top of its plinth; check).
CABINET_FLOOD_DEPTH = 0.2
#: Water depth [m] above which a luminaire is out (the inspection door at the foot of its column; check).
LUMINAIRE_FLOOD_DEPTH = 0.5


def cabinet_positions(luminaires: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Where each cabinet stands when the inventory does not say: at its most central luminaire.

    For the luminaires of each ``cabinet`` (empty names are not a cabinet), the luminaire nearest
    to their centroid (the first in table order on a tie) is taken as the cabinet's position.

    Returns
    -------
    GeoDataFrame
        ``cabinet``, ``luminaires`` (count fed), ``at_luminaire`` (the id whose foot is used) and the
        point, sorted by cabinet, in the luminaires' CRS.
    """
    cols = ["cabinet", "luminaires", "at_luminaire"]
    lum = luminaires
    if len(lum) == 0 or "cabinet" not in lum.columns:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=gpd.GeoSeries([], crs=lum.crs), crs=lum.crs)
    names = lum["cabinet"].fillna("").astype(str).to_numpy()
    x = shapely.get_x(lum.geometry.values)
    y = shapely.get_y(lum.geometry.values)
    ids = lum["id"].to_numpy() if "id" in lum.columns else lum.index.to_numpy()
    rows = []
    for name in sorted(set(names) - {""}):
        k = np.flatnonzero(names == name)
        cx, cy = x[k].mean(), y[k].mean()
        j = k[int(np.argmin((x[k] - cx) ** 2 + (y[k] - cy) ** 2))]
        rows.append({"cabinet": name, "luminaires": int(k.size), "at_luminaire": int(ids[j]),
                     "geometry": shapely.Point(x[j], y[j])})
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=gpd.GeoSeries([], crs=lum.crs), crs=lum.crs)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=lum.crs)


@dataclass
class LightingOutage:
    """What :func:`lighting_outage` returns.

    Attributes
    ----------
    twin : Twin
        A copy of the twin without the luminaires out of service (``luminaires_baseline`` keeps them all).
    cabinets : GeoDataFrame
        Per cabinet: ``cabinet``, ``luminaires`` (fed), ``depth`` [m] at its position, ``out`` (bool).
    luminaires : DataFrame
        Per luminaire (index id): ``cabinet``, ``depth`` [m] at its foot, ``cabinet_out``, ``foot_flooded``,
        ``out`` (either).
    assumptions : dict
        Thresholds, where the cabinets were placed, what was masked.
    """

    twin: Twin
    cabinets: gpd.GeoDataFrame
    luminaires: pd.DataFrame
    assumptions: dict = field(default_factory=dict)

    @property
    def out_ids(self) -> list[int]:
        """Ids of the luminaires out of service."""
        return [int(i) for i in self.luminaires.index[self.luminaires["out"]]]


def lighting_outage(twin: Twin, depth, *, cabinet_threshold: float = CABINET_FLOOD_DEPTH,
                    luminaire_threshold: float = LUMINAIRE_FLOOD_DEPTH, cabinets: gpd.GeoDataFrame | None = None,
                    radius: float = 0.0) -> LightingOutage:
    """The cabinets and luminaires a flood puts out of service, and the twin without them.

    Parameters
    ----------
    twin : Twin
        With the ``luminaires`` table (``cabinet`` column) on the grid of ``depth``.
    depth : ndarray
        Maximum water depth [m] on the twin's grid (a flood run's ``max_depth``).
    cabinet_threshold, luminaire_threshold : float
        Depths [m] above which a cabinet, a luminaire's foot, is out (see the module docstring).
    cabinets : GeoDataFrame, optional
        Known cabinet positions (columns ``cabinet`` and point geometry); default
        :func:`cabinet_positions` of the luminaires (an assumption, recorded).
    radius : float
        Read the depth up to this distance [m] around each position (see
        :func:`simulation.flood.exposure.depth_at_points`).

    Returns
    -------
    LightingOutage

    Raises
    ------
    TwinValueError
        If the depth raster is not on the twin's grid, a threshold is negative, or a known cabinet
        table misses cabinets the luminaires name.
    """
    from simulation.lighting.interventions import Selection, remove_luminaires

    grid = twin.grid
    d = np.asarray(depth, dtype=np.float64)
    if d.shape != grid.shape:
        raise TwinValueError(f"lighting_outage: depth raster has shape {d.shape}, the twin's grid is {grid.shape}")
    for name, v in (("cabinet_threshold", cabinet_threshold), ("luminaire_threshold", luminaire_threshold)):
        if not (np.isfinite(v) and v >= 0):
            raise TwinValueError(f"lighting_outage: {name} must be >= 0 m, got {v!r}")
    masked = 0
    if "water_level" in twin:
        perm = np.isfinite(twin.array("water_level"))
        masked = int(perm.sum())
        d = np.where(perm, 0.0, d)
    lum = twin.luminaires
    placed = "given" if cabinets is not None else "at the luminaire nearest to the centroid of its circuit"
    if cabinets is None:
        cabinets = cabinet_positions(lum)
    else:
        if "cabinet" not in cabinets.columns:
            raise TwinValueError("lighting_outage: the cabinets table needs a 'cabinet' column")
        named = set(lum["cabinet"].fillna("").astype(str)) - {""}
        missing = named - set(cabinets["cabinet"].astype(str))
        if missing:
            raise TwinValueError(f"lighting_outage: the cabinets table has no position for {', '.join(sorted(missing))}")
        counts = lum["cabinet"].astype(str).value_counts()
        cabinets = cabinets.assign(luminaires=cabinets["cabinet"].astype(str).map(counts).fillna(0).astype(int))
    cab = cabinets.copy()
    fc = flooded_points(cab.drop(columns=[c for c in ("id",) if c in cab.columns]), d, grid,
                        threshold=cabinet_threshold, radius=radius)
    cab["depth"] = fc["depth"].to_numpy()
    cab["out"] = fc["flooded"].to_numpy()
    out_names = set(cab.loc[cab["out"], "cabinet"].astype(str))
    fl = flooded_points(lum, d, grid, threshold=luminaire_threshold, radius=radius)
    names = lum["cabinet"].fillna("").astype(str).to_numpy()
    table = pd.DataFrame({"cabinet": names, "depth": fl["depth"].to_numpy(),
                          "cabinet_out": np.isin(names, list(out_names)),
                          "foot_flooded": fl["flooded"].to_numpy()}, index=fl.index)
    table["out"] = table["cabinet_out"] | table["foot_flooded"]
    ids = [int(i) for i in table.index[table["out"]]]
    if ids:
        new, _rec = remove_luminaires(twin, Selection(ids=tuple(ids)))
    else:
        new = twin.copy()
    new.tables["luminaires_baseline"] = lum.copy()
    assumptions = {
        "cabinet_threshold_m": float(cabinet_threshold), "luminaire_threshold_m": float(luminaire_threshold),
        "cabinet_positions": placed, "radius_m": float(radius),
        "permanent_water_cells_masked": masked,
        "rule": (f"a cabinet deeper than {cabinet_threshold:g} m puts all its luminaires out; a luminaire whose "
                 f"foot is deeper than {luminaire_threshold:g} m is out"),
    }
    new.add_provenance("lighting_outage", **assumptions, luminaires_out=len(ids),
                       cabinets_out=sorted(out_names))
    return LightingOutage(twin=new, cabinets=cab, luminaires=table, assumptions=assumptions)


def buildings_along(twin: Twin, lines, *, distance: float = 15.0) -> pd.DataFrame:
    """The buildings whose footprint comes within ``distance`` [m] of any of ``lines`` (street centre lines).

    Returns
    -------
    DataFrame
        Indexed by building id: ``use``, ``name``, ``distance`` [m] to the nearest line,
        ``residents`` (estimate, :data:`simulation.flood.exposure.RESIDENTS_RULE`), ``vulnerable``.
    """
    if not (np.isfinite(distance) and distance >= 0):
        raise TwinValueError(f"buildings_along: distance must be >= 0 m, got {distance!r}")
    b = twin.buildings
    cols = ["use", "name", "distance", "residents", "vulnerable"]
    geoms = [g for g in (lines.values if hasattr(lines, "values") else lines) if g is not None and not g.is_empty]
    if len(b) == 0 or not geoms:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="id"))
    tree = shapely.STRtree(geoms)
    idx_b, _idx_l = tree.query(b.geometry.values, predicate="dwithin", distance=distance)
    sel = np.unique(idx_b)
    sub = b.iloc[sel]
    union = shapely.union_all(geoms)
    out = pd.DataFrame({"use": sub["use"].astype(str).to_numpy(),
                        "name": sub["name"].fillna("").astype(str).to_numpy() if "name" in sub else "",
                        "distance": shapely.distance(sub.geometry.values, union)},
                       index=pd.Index(sub["id"].to_numpy(), name="id"))
    out["residents"] = residents_estimate(sub).reindex(out.index).to_numpy()
    out["vulnerable"] = out["use"].isin(VULNERABLE_USES)
    return out[cols]
