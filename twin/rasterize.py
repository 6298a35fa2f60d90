"""From tables to layers: buildings and trees burnt into the grid, and the surface composed.

One documented rule, used by every importer, the demo town and scenario
interventions alike:

* a cell belongs to a building when the cell **centre** lies inside its footprint
  (GDAL's default rasterisation, ``all_touched=False``); where footprints overlap,
  the building listed last wins;
* ``surface = terrain + max(building_height, canopy_height)``: a tree under an eave
  does not add to the roof.
"""

from __future__ import annotations

import numpy as np
import shapely
from rasterio import features

from twin.grid import Grid

__all__ = ["rasterize_buildings", "rasterize_values", "compose_surface", "tree_canopy"]


def rasterize_values(grid: Grid, geometries, values, *, fill=0, dtype="float32") -> np.ndarray:
    """Burn ``values`` into a ``grid``-shaped array where cell centres are inside ``geometries``."""
    shapes = [(g, v) for g, v in zip(geometries, values) if g is not None and not g.is_empty]
    if not shapes:
        return np.full(grid.shape, fill, dtype=dtype)
    return features.rasterize(
        shapes, out_shape=grid.shape, transform=grid.transform, fill=fill, all_touched=False, dtype=dtype
    )


def rasterize_buildings(grid: Grid, buildings) -> tuple[np.ndarray, np.ndarray]:
    """``(building_id int32, building_height float32 [m])`` from a buildings table.

    Uses the ``id`` and ``height`` columns; cells outside every footprint get 0.
    """
    if len(buildings) == 0:
        return np.zeros(grid.shape, np.int32), np.zeros(grid.shape, np.float32)
    geoms = buildings.geometry.values
    ids = rasterize_values(grid, geoms, buildings["id"].to_numpy(np.int32), fill=0, dtype="int32")
    # heights are looked up by id so that the two layers can never disagree
    bid = buildings["id"].to_numpy(np.int64)
    order = np.argsort(bid)
    sorted_ids = bid[order]
    sorted_h = buildings["height"].to_numpy(np.float32)[order]
    height = np.zeros(grid.shape, np.float32)
    inside = ids > 0
    height[inside] = sorted_h[np.searchsorted(sorted_ids, ids[inside])]
    return ids, height


def compose_surface(terrain: np.ndarray, building_height: np.ndarray, canopy_height: np.ndarray) -> np.ndarray:
    """The surface model: ``terrain + max(building_height, canopy_height)`` [m], float32."""
    return (terrain + np.maximum(building_height, canopy_height)).astype(np.float32)


def tree_canopy(grid: Grid, x, y, height, crown_diameter) -> np.ndarray:
    """Canopy height [m] of individual trees, each a crown disc of its diameter (max where crowns overlap).

    The crown is drawn as a half-ellipsoid: full height at the trunk, 60 % of it at the
    crown's edge, so that shadows and sky views see rounded crowns rather than cylinders.
    """
    out = np.zeros(grid.shape, np.float32)
    cs = grid.cell_size
    xs, ys = grid.x, grid.y
    for xi, yi, h, d in zip(np.asarray(x, float), np.asarray(y, float), np.asarray(height, float), np.asarray(crown_diameter, float)):
        r = max(d / 2.0, cs / 2.0)
        c0 = max(0, int(np.floor((xi - r - grid.xmin) / cs)))
        c1 = min(grid.ncols, int(np.ceil((xi + r - grid.xmin) / cs)) + 1)
        r0 = max(0, int(np.floor((grid.ymax - yi - r) / cs)))
        r1 = min(grid.nrows, int(np.ceil((grid.ymax - yi + r) / cs)) + 1)
        if c0 >= c1 or r0 >= r1:
            continue
        dx = xs[c0:c1][None, :] - xi
        dy = ys[r0:r1][:, None] - yi
        rr = np.sqrt(dx * dx + dy * dy) / r
        inside = rr <= 1.0
        crown = np.where(inside, h * (0.6 + 0.4 * np.sqrt(np.clip(1.0 - rr * rr, 0.0, 1.0))), 0.0).astype(np.float32)
        block = out[r0:r1, c0:c1]
        np.maximum(block, crown, out=block)
    return out


def footprints_valid(geoms) -> np.ndarray:
    """Boolean mask of usable footprint geometries (valid, non-empty, polygonal)."""
    geoms = np.asarray(geoms, dtype=object)
    types = shapely.get_type_id(geoms)
    return shapely.is_valid(geoms) & ~shapely.is_empty(geoms) & np.isin(types, (3, 6))
