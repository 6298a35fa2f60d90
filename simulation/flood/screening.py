"""Static flood screening: depression filling, fill-spill of a water volume, bathtub maps.

These answer in seconds the first questions officials ask, and give the exact end
state of closed basins that the dynamic model must reach:

- :func:`fill_depressions`: the Priority-Flood of Barnes et al. (2014): every cell is
  raised to the lowest level at which water could leave the grid (the "filled DEM");
  ``filled - terrain`` is the depth of every depression brim-full.
- :func:`fill_spill`: where a given volume of water comes to rest: each depression
  fills with the water of its catchment, overflows into its neighbour through the
  saddle, and depressions merge into lakes (fill-spill-merge, after Barnes,
  Callaghan & Wickert 2020/2021) — volume-limited, unlike filling.
- :func:`bathtub`: the cells connected to the sea or river (``seeds``) through ground
  below a given level, with their depth: the "bathtub" map of a sea-level rise.
- :func:`bathtub_map`: the same on a twin, seeded by its permanent water or its edges.

Connectivity is 4-neighbour everywhere, as in the dynamic model; buildings are walls.

References
----------
- Barnes, R., Lehman, C. & Mulla, D. (2014). Priority-flood: An optimal
  depression-filling and watershed-labeling algorithm for digital elevation models.
  Computers & Geosciences 62, 117-127. https://doi.org/10.1016/j.cageo.2013.04.024
- Barnes, R., Callaghan, K. L. & Wickert, A. D. (2021). Computing water flow through
  complex landscapes - Part 3: Fill-Spill-Merge. Earth Surf. Dynam. 9, 105-121.
  https://doi.org/10.5194/esurf-9-105-2021
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from simulation.flood import _kernels as K
from twin.core import Twin, layer_dataarray
from twin.errors import TwinValueError

__all__ = ["FillSpillResult", "bathtub", "bathtub_map", "edge_mask", "fill_depressions", "fill_spill"]


def edge_mask(shape: tuple[int, int], edges=("west", "east", "north", "south")) -> np.ndarray:
    """A boolean mask of the cells on the given grid edges."""
    m = np.zeros(shape, bool)
    for e in edges:
        if e == "west":
            m[:, 0] = True
        elif e == "east":
            m[:, -1] = True
        elif e == "north":
            m[0, :] = True
        elif e == "south":
            m[-1, :] = True
        else:
            raise TwinValueError(f"invalid edge {e!r} (west, east, north or south)")
    return m


def _check_terrain(terrain) -> np.ndarray:
    z = np.ascontiguousarray(terrain, dtype=np.float64)
    if z.ndim != 2:
        raise TwinValueError(f"terrain must be a 2-D array, got shape {z.shape}")
    bad = ~np.isfinite(z)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise TwinValueError(f"terrain has {int(bad.sum())} cell(s) without data (first at row {r}, col {c}); "
                             f"fill them or mark them blocked")
    return z


def _mask(m, shape, *, name: str) -> np.ndarray:
    if m is None:
        return np.zeros(shape, bool)
    if isinstance(m, str):
        if m == "edges":
            return edge_mask(shape)
        raise TwinValueError(f"invalid {name} {m!r} (a boolean mask, 'edges' or None)")
    arr = np.asarray(m, dtype=bool)
    if arr.shape != shape:
        raise TwinValueError(f"{name} mask has shape {arr.shape}, the terrain {shape}")
    return np.ascontiguousarray(arr)


def fill_depressions(terrain, *, blocked=None, outlets="edges") -> np.ndarray:
    """Depression-filled terrain by Priority-Flood (Barnes et al. 2014) [m].

    Parameters
    ----------
    terrain : array_like
        Ground altitude [m], no missing values.
    blocked : array_like of bool, optional
        Cells water cannot enter (buildings); returned as NaN.
    outlets : "edges" or array_like of bool
        Where water leaves the grid (default: every edge cell).

    Returns
    -------
    ndarray
        float64, ``>= terrain``: the lowest surface from which every cell drains to an
        outlet; NaN on blocked cells and on cells with no path to an outlet.
    """
    z = _check_terrain(terrain)
    blk = _mask(blocked, z.shape, name="blocked")
    out = _mask(outlets, z.shape, name="outlets")
    if not (out & ~blk).any():
        raise TwinValueError("fill_depressions needs at least one open outlet cell")
    return K.priority_flood(z, blk, out)


@dataclass
class FillSpillResult:
    """Where a volume of water comes to rest.

    Attributes
    ----------
    depth : ndarray
        Water depth [m] (float32), 0 where dry.
    level : ndarray
        Water-surface altitude [m] (float64), NaN where dry.
    volume_in : float
        Water given [m3].
    volume_stored : float
        Water held in depressions [m3].
    volume_out : float
        Water that left through outlets [m3].
    basins : int
        Number of elementary depressions (leaves of the hierarchy).
    """

    depth: np.ndarray
    level: np.ndarray
    volume_in: float
    volume_stored: float
    volume_out: float
    basins: int


def fill_spill(terrain, *, cell_size: float, water=0.0, sources=(), blocked=None, outlets=None) -> FillSpillResult:
    """Volume-limited fill-spill-merge: the resting state of the water given.

    Parameters
    ----------
    terrain : array_like
        Ground altitude [m].
    cell_size : float
        Side of a cell [m].
    water : float or array_like
        Water depth given to every cell [m] (e.g. net rain); it runs to the depression
        its cell drains to. Water on blocked cells goes to the nearest open cell.
    sources : sequence of (row, col, volume [m3])
        Point volumes (e.g. an inflow hydrograph's total).
    blocked : array_like of bool, optional
        Buildings: walls.
    outlets : None, "edges" or array_like of bool
        Where water leaves (None: a closed domain; water then ponds everywhere it must).

    Returns
    -------
    FillSpillResult
    """
    z = _check_terrain(terrain)
    area = float(cell_size) ** 2
    if not area > 0:
        raise TwinValueError(f"invalid cell_size {cell_size!r}")
    blk = _mask(blocked, z.shape, name="blocked")
    out = _mask(outlets, z.shape, name="outlets")
    w = np.broadcast_to(np.asarray(water, dtype=np.float64), z.shape)
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise TwinValueError("fill_spill: water depths must be finite and >= 0")
    label, nleaves, parent, sibling, spill, cap, entry, ocean = K.depression_tree(z, blk, out)
    if nleaves == 0:
        raise TwinValueError("fill_spill: no open cell")
    # water per leaf [m x cells]
    lab = label.copy()
    if blk.any() and w[blk].sum() > 0:
        from scipy import ndimage

        idx = ndimage.distance_transform_edt(blk, return_distances=False, return_indices=True)
        lab[blk] = label[idx[0][blk], idx[1][blk]]
    leaf_water = np.bincount(lab.ravel(), weights=w.ravel(), minlength=nleaves)[:nleaves].astype(np.float64)
    v_in = float(w.sum()) * area
    for r, c, vol in sources:
        r, c, vol = int(r), int(c), float(vol)
        if not (0 <= r < z.shape[0] and 0 <= c < z.shape[1]):
            raise TwinValueError(f"fill_spill: source at row {r}, col {c} is outside the grid")
        if blk[r, c]:
            raise TwinValueError(f"fill_spill: source at row {r}, col {c} is on a blocked cell")
        if not vol >= 0:
            raise TwinValueError(f"fill_spill: invalid source volume {vol!r}")
        leaf_water[label[r, c]] += vol / area
        v_in += vol
    water_node = np.zeros(parent.shape[0], np.float64)
    lost = K.pour(parent, sibling, cap, entry, ocean, water_node, leaf_water)
    level = K.lake_levels(z, label, nleaves, parent, spill, cap, ocean, water_node)
    depth = np.where(np.isfinite(level), level - z, 0.0)
    depth[blk] = 0.0
    depth = np.maximum(depth, 0.0)
    return FillSpillResult(depth=depth.astype(np.float32), level=level, volume_in=v_in,
                           volume_stored=float(depth.sum()) * area, volume_out=lost * area, basins=int(nleaves))


def bathtub(terrain, level, *, seeds, blocked=None) -> np.ndarray:
    """Depth [m] of the water connected to ``seeds`` through ground below the water level.

    Parameters
    ----------
    terrain : array_like
        Ground altitude [m].
    level : float or array_like
        Water level [m] (sea level + surge, river stage); an array gives each seed cell
        its own level (a sloping river + a rise): each then floods what it reaches below
        its level, the highest level winning where several meet.
    seeds : "edges" or array_like of bool
        Where the water comes from (the sea, the river cells, a grid edge).
    blocked : array_like of bool, optional
        Buildings and walls.

    Returns
    -------
    ndarray
        float32 depth ``level - terrain`` on the connected cells, 0 elsewhere. Low
        ground that is not connected stays dry (it is what a bathtub map must not flood).
    """
    z = _check_terrain(terrain)
    s = _mask(seeds, z.shape, name="seeds")
    blk = _mask(blocked, z.shape, name="blocked")
    lev = np.asarray(level, dtype=np.float64)
    if lev.ndim == 0:
        if not np.isfinite(lev):
            raise TwinValueError(f"invalid level {level!r}")
        return K.bathtub(z, blk, s, float(lev))
    if lev.shape != z.shape:
        raise TwinValueError(f"level array has shape {lev.shape}, the terrain {z.shape}")
    seed_level = np.where(s, lev, np.nan)
    out = K.bathtub_levels(z, blk, seed_level)
    return np.where(np.isfinite(out), out - z, 0.0).astype(np.float32)


def bathtub_map(twin: Twin, level: float | None = None, *, rise: float | None = None,
                seeds="water_level") -> xr.DataArray:
    """The bathtub depth [m] on a twin (buildings are walls).

    Give an absolute ``level`` [m] (the sea at 1.0 m + surge), or a ``rise`` [m] above
    the twin's permanent water (``water_level``): a river flooding 1 m above its normal,
    sloping level. ``seeds``: ``"water_level"`` (the cells of the permanent water),
    ``"edges"``, an edge name, or a boolean mask.
    """
    if (level is None) == (rise is None):
        raise TwinValueError("bathtub_map: give either a level or a rise")
    z = twin.array("terrain")
    shape = z.shape
    wl = twin.array("water_level") if "water_level" in twin else None
    if isinstance(seeds, str) and seeds == "water_level":
        if wl is None:
            raise TwinValueError("bathtub_map: the twin has no water_level layer; pass seeds='edges' or a mask")
        s = np.isfinite(wl)
    elif isinstance(seeds, str) and seeds in ("west", "east", "north", "south"):
        s = edge_mask(shape, (seeds,))
    else:
        s = seeds
    if rise is not None:
        if wl is None:
            raise TwinValueError("bathtub_map: a rise needs the twin's water_level layer")
        lev = np.where(np.isfinite(wl), wl.astype(np.float64) + float(rise), np.nan)
        what = f"{float(rise):.2f} m above the permanent water"
    else:
        lev = float(level)
        what = f"a water level of {lev:.2f} m"
    blocked = twin.array("building_id") > 0 if "building_id" in twin else None
    d = bathtub(z, lev, seeds=s, blocked=blocked)
    return layer_dataarray(twin.grid, "bathtub_depth", d, units="m",
                           long_name=f"depth below {what}, connected to the water")
