"""Run the flood model on a coarser grid than the twin's, and bring the results back.

The model's cost grows as ``1 / cell_size^3`` (cells x time steps), so a town-wide storm
at 2 m costs 8 times less than at 1 m. :func:`coarsen_for_flood` builds the coarse twin
the model needs (block rules below), :func:`refine` puts a coarse raster back on the
fine grid (each coarse value on its f x f fine cells).

Block rules (factor ``f``, a whole number):

- ``terrain``: mean of the block (NaN cells ignored);
- ``building_id``: a wall where at least half of the block is building (the largest id
  of the block), so that streets narrower than a coarse cell stay open where they are
  at least half of it;
- ``landcover``: the most frequent class of the block (ties: the lowest code);
- ``water_level`` and the optional per-cell parameters (``manning_n``,
  ``infiltration_rate``, ``initial_loss``, ``drainage_capacity``): mean of the defined
  values where at least half of the block is defined, else NaN.

Tables are kept as they are (exposure is computed on the fine twin).
"""

from __future__ import annotations

import numpy as np

from twin.core import Twin
from twin.errors import TwinValueError
from twin.grid import Grid
from twin.layers import Landcover

__all__ = ["OPTIONAL_LAYERS", "coarse_grid", "coarsen_for_flood", "refine"]

OPTIONAL_LAYERS = {"manning_n": "s m-1/3", "infiltration_rate": "mm h-1", "initial_loss": "mm",
                   "drainage_capacity": "mm h-1"}


def _blocks(a: np.ndarray, f: int, fill, oy: int = 0, ox: int = 0) -> np.ndarray:
    """``(Y, X, f*f)`` blocks of ``a`` shifted by ``(oy, ox)`` fine cells and padded with ``fill``."""
    ny, nx = a.shape
    py, px = (-(ny + oy)) % f, (-(nx + ox)) % f
    a = np.pad(a, ((oy, py), (ox, px)), constant_values=fill)
    Y, X = a.shape[0] // f, a.shape[1] // f
    return a.reshape(Y, f, X, f).transpose(0, 2, 1, 3).reshape(Y, X, f * f)


def _nanmean_half(a: np.ndarray, f: int, inside: np.ndarray, oy: int, ox: int) -> np.ndarray:
    b = _blocks(a.astype(np.float64), f, np.nan, oy, ox)
    ok = np.isfinite(b)
    n = ok.sum(axis=2)
    s = np.where(ok, b, 0.0).sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = s / n
    return np.where(n >= inside / 2.0, m, np.nan).astype(np.float32)


def coarse_grid(grid: Grid, factor: int) -> tuple[Grid, int, int]:
    """The coarse grid (origin snapped outwards to the coarse cell size) and the offsets ``(oy, ox)`` in
    fine cells of the fine grid's north-west corner inside it."""
    cs = grid.cell_size * factor
    x0 = np.floor(grid.xmin / cs + 1e-9) * cs
    y1 = np.ceil(grid.ymax / cs - 1e-9) * cs
    ox = int(round((grid.xmin - x0) / grid.cell_size))
    oy = int(round((y1 - grid.ymax) / grid.cell_size))
    ny = -(-(grid.nrows + oy) // factor)
    nx = -(-(grid.ncols + ox) // factor)
    return Grid(xmin=x0, ymax=y1, nrows=ny, ncols=nx, cell_size=cs, crs=grid.crs), oy, ox


def coarsen_for_flood(twin: Twin, factor: int) -> Twin:
    """A twin ``factor`` times coarser with the layers the flood model reads.

    The coarse origin is snapped outwards to the coarse cell size, so blocks on the
    west and north edges may be partly outside the twin: their values come from the
    cells inside (the outside counts as neither building nor water).

    Raises
    ------
    TwinValueError
        If ``factor`` is not a whole number >= 1, or the coarse grid would have fewer
        than 4 cells across.
    """
    f = int(factor)
    if f != factor or f < 1:
        raise TwinValueError(f"invalid coarsening factor {factor!r} (a whole number >= 1)")
    if f == 1:
        return twin
    g = twin.grid
    grid, oy, ox = coarse_grid(g, f)
    if min(grid.shape) < 4:
        raise TwinValueError(f"a {g.cell_size * f:g} m grid would be {grid.nrows} x {grid.ncols} cells: too coarse")
    inside = _blocks(np.ones(g.shape), f, 0.0, oy, ox).sum(axis=2)
    z = twin.array("terrain").astype(np.float64)
    zb = _blocks(z, f, np.nan, oy, ox)
    with np.errstate(invalid="ignore"):
        zc = np.nanmean(zb, axis=2)
    out = Twin.empty(grid, terrain=zc.astype(np.float32), name=twin.name)
    out.meta["coarsened_from"] = {"cell_size": g.cell_size, "factor": f, "offset_cells": [oy, ox]}
    bid = twin.array("building_id")
    bb = _blocks(bid, f, 0, oy, ox)
    wall = (bb > 0).sum(axis=2) >= inside / 2.0
    out.set_layer("building_id", np.where(wall, bb.max(axis=2), 0).astype(np.int32))
    lc = twin.array("landcover")
    lb = _blocks(lc, f, 255, oy, ox)
    counts = np.stack([(lb == int(c)).sum(axis=2) for c in Landcover], axis=2)
    out.set_layer("landcover", np.asarray([int(c) for c in Landcover], np.uint8)[np.argmax(counts, axis=2)])
    if "water_level" in twin:
        out.set_layer("water_level", _nanmean_half(twin.array("water_level"), f, inside, oy, ox))
    for name, units in OPTIONAL_LAYERS.items():
        if name in twin:
            out.set_layer(name, _nanmean_half(twin.array(name), f, inside, oy, ox), units=units)
    for name, table in twin.tables.items():
        out.tables[name] = table
    return out


def refine(values: np.ndarray, factor: int, fine: Grid) -> np.ndarray:
    """A coarse raster (on :func:`coarse_grid` of ``fine``) back on the fine grid: each value on its cells."""
    f = int(factor)
    if f == 1:
        return values
    _, oy, ox = coarse_grid(fine, f)
    big = np.repeat(np.repeat(values, f, axis=0), f, axis=1)
    return np.ascontiguousarray(big[oy:oy + fine.nrows, ox:ox + fine.ncols])
