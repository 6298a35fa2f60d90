"""Flood interventions: change a twin the way works on the ground would.

Each function modifies the twin it is given **in place** and records a provenance
entry (the scenario kind calls them on a copy). Geometries are shapely objects or
coordinate lists in the twin's CRS [m]; a cell is affected when its centre is inside
the buffered line or the polygon (the centre-inside rule of :mod:`twin.rasterize`).

- :func:`raise_ground_along_line`: a dike, a flood wall, a raised quay: the terrain
  along a line is raised to a crest altitude (or by a height) over a width.
- :func:`lower_ground_in_polygon`: a retention basin, a lowered park: the terrain
  inside a polygon is lowered to a bottom altitude (or by a depth); returns the storage
  volume created.
- :func:`set_drainage_capacity`: the urban drainage network's capacity [mm h-1] on paved
  cells (everywhere or inside a polygon), through the ``drainage_capacity`` layer.
- :func:`set_permeable_paving`: an infiltration rate [mm h-1] on paved cells of chosen
  classes (car parks, squares, sidewalks), through the ``infiltration_rate`` layer.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

from simulation.flood.parameters import PAVED
from twin.core import Twin
from twin.errors import TwinValueError
from twin.layers import Landcover
from twin.rasterize import compose_surface, rasterize_values

__all__ = [
    "cells_of",
    "lower_ground_in_polygon",
    "raise_ground_along_line",
    "set_drainage_capacity",
    "set_permeable_paving",
]


def _geom(obj, kind: str, *, name: str) -> BaseGeometry:
    if isinstance(obj, BaseGeometry):
        return obj
    try:
        pts = np.asarray(obj, dtype=np.float64)
    except (TypeError, ValueError):
        raise TwinValueError(f"{name}: expected a list of [x, y] points") from None
    if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] < (2 if kind == "line" else 3):
        raise TwinValueError(f"{name}: expected at least {2 if kind == 'line' else 3} [x, y] points, got {obj!r}")
    return LineString(pts) if kind == "line" else Polygon(pts)


def cells_of(twin: Twin, geom: BaseGeometry) -> np.ndarray:
    """Boolean mask of the cells whose centre is inside ``geom``."""
    mask = rasterize_values(twin.grid, [geom], [1], fill=0, dtype="uint8") > 0
    return mask


def _refresh_surface(twin: Twin) -> None:
    if "surface" in twin:
        bh = twin.array("building_height") if "building_height" in twin else np.zeros(twin.grid.shape, np.float32)
        ch = twin.array("canopy_height") if "canopy_height" in twin else np.zeros(twin.grid.shape, np.float32)
        twin.set_layer("surface", compose_surface(twin.array("terrain"), bh, ch))


def _check_inside(twin: Twin, mask: np.ndarray, *, name: str) -> None:
    if not mask.any():
        b = twin.grid.bounds
        raise TwinValueError(f"{name}: the geometry covers no cell centre of the twin "
                             f"(x {b[0]:.1f}..{b[2]:.1f}, y {b[1]:.1f}..{b[3]:.1f})")


def raise_ground_along_line(twin: Twin, line, *, width: float, crest: float | None = None,
                            height: float | None = None, name: str = "dike") -> int:
    """Raise the terrain along ``line`` over ``width`` [m]: to the altitude ``crest`` [m], or by ``height`` [m].

    Cells already higher than the crest are left as they are. Returns the number of cells changed.

    Raises
    ------
    TwinValueError
        If neither or both of ``crest`` and ``height`` are given, the width is not positive,
        or the line misses the grid.
    """
    if (crest is None) == (height is None):
        raise TwinValueError(f"{name}: give either a crest altitude or a height")
    if not width > 0:
        raise TwinValueError(f"{name}: invalid width {width!r} m (must be > 0)")
    geom = _geom(line, "line", name=name)
    band = shapely.buffer(geom, max(width / 2.0, twin.grid.cell_size * 0.5), cap_style="flat")
    mask = cells_of(twin, band)
    _check_inside(twin, mask, name=name)
    z = twin.array("terrain").astype(np.float32, copy=True)
    target = np.float32(crest) if crest is not None else z + np.float32(height)
    new = np.where(mask, np.maximum(z, target), z).astype(np.float32)
    changed = int((new != z).sum())
    twin.set_layer("terrain", new)
    _refresh_surface(twin)
    twin.add_provenance("flood intervention", kind="raise_ground_along_line", name=name, width_m=float(width),
                        crest_m=None if crest is None else float(crest),
                        height_m=None if height is None else float(height), cells=changed)
    return changed


def lower_ground_in_polygon(twin: Twin, polygon, *, depth: float | None = None, bottom: float | None = None,
                            name: str = "retention basin") -> float:
    """Lower the terrain inside ``polygon``: by ``depth`` [m], or down to the altitude ``bottom`` [m].

    Building cells inside are left alone (a basin is dug in open ground). Returns the
    storage volume created [m3] (the volume removed from the ground).
    """
    if (depth is None) == (bottom is None):
        raise TwinValueError(f"{name}: give either a depth or a bottom altitude")
    if depth is not None and not depth > 0:
        raise TwinValueError(f"{name}: invalid depth {depth!r} m (must be > 0)")
    geom = _geom(polygon, "polygon", name=name)
    mask = cells_of(twin, geom)
    if "building_id" in twin:
        mask &= twin.array("building_id") == 0
    _check_inside(twin, mask, name=name)
    z = twin.array("terrain").astype(np.float32, copy=True)
    target = z - np.float32(depth) if depth is not None else np.minimum(z, np.float32(bottom))
    new = np.where(mask, target, z).astype(np.float32)
    volume = float((z.astype(np.float64) - new).sum()) * twin.grid.cell_area
    twin.set_layer("terrain", new)
    _refresh_surface(twin)
    twin.add_provenance("flood intervention", kind="lower_ground_in_polygon", name=name,
                        depth_m=None if depth is None else float(depth),
                        bottom_m=None if bottom is None else float(bottom), volume_m3=volume)
    return volume


def _paved_mask(twin: Twin, classes) -> np.ndarray:
    lc = twin.array("landcover")
    return np.isin(lc, [int(Landcover(int(c))) if not isinstance(c, str) else int(Landcover[c.upper()])
                        for c in classes])


def _set_rate_layer(twin: Twin, layer: str, value: float, mask: np.ndarray) -> None:
    cur = twin.array(layer).astype(np.float32, copy=True) if layer in twin else np.full(twin.grid.shape, np.nan, np.float32)
    cur[mask] = np.float32(value)
    twin.set_layer(layer, cur, units="mm h-1", long_name=layer.replace("_", " "))


def set_drainage_capacity(twin: Twin, capacity_mm_h: float, *, polygon=None, classes=PAVED,
                          name: str = "drainage") -> int:
    """Set the drainage network's capacity [mm h-1] on the paved cells (of ``classes``), inside ``polygon`` if given.

    Writes the ``drainage_capacity`` layer, which the flood model reads before its
    default. Returns the number of cells set.
    """
    return _set_rate_on_paved(twin, "drainage_capacity", capacity_mm_h, quantity="capacity",
                              kind="set_drainage_capacity", polygon=polygon, classes=classes, name=name)


def set_permeable_paving(twin: Twin, infiltration_mm_h: float, *, polygon=None,
                         classes=(Landcover.PARKING, Landcover.SQUARE, Landcover.SIDEWALK),
                         name: str = "permeable paving") -> int:
    """Make paved cells of ``classes`` permeable: an infiltration rate [mm h-1], inside ``polygon`` if given.

    Writes the ``infiltration_rate`` layer. Returns the number of cells set.
    """
    return _set_rate_on_paved(twin, "infiltration_rate", infiltration_mm_h, quantity="infiltration",
                              kind="set_permeable_paving", polygon=polygon, classes=classes, name=name)


def _set_rate_on_paved(twin: Twin, layer: str, rate_mm_h: float, *, quantity: str, kind: str, polygon, classes,
                       name: str) -> int:
    """Write ``rate_mm_h`` [mm h-1] into ``layer`` on the paved cells of ``classes`` (inside ``polygon`` if given),
    record it in the provenance as ``kind`` with ``<quantity>_mm_h``; return the number of cells set."""
    if not (np.isfinite(rate_mm_h) and rate_mm_h >= 0):
        raise TwinValueError(f"{name}: invalid {quantity} {rate_mm_h!r} mm/h (must be >= 0)")
    mask = _paved_mask(twin, classes)
    if polygon is not None:
        mask &= cells_of(twin, _geom(polygon, "polygon", name=name))
    _check_inside(twin, mask, name=name)
    _set_rate_layer(twin, layer, rate_mm_h, mask)
    twin.add_provenance("flood intervention", kind=kind, name=name, **{f"{quantity}_mm_h": float(rate_mm_h)},
                        cells=int(mask.sum()))
    return int(mask.sum())
