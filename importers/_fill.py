"""Filling gaps in rasters: small holes from their neighbours, larger gaps linearly from their rim.

* Holes of at most ``small`` cells (4-connected: the empty cells between sparse points) take the mean
  of their valid 8-neighbours, swept inwards a few times (a normalised convolution), then relaxed by
  Jacobi iterations towards Laplace interpolation, which reproduces a plane exactly. Cheap for
  millions of cells.
* Larger gaps (the ground under a building, a bridge, a dense canopy) are filled linearly: the
  valid cells that border them are triangulated (Delaunay, :class:`scipy.interpolate.LinearNDInterpolator`)
  and each missing cell takes the value of the plane of its triangle. This is exact on a plane, so
  a sloping street is not bent under a bridge. Only the rim of the large gaps enters the
  triangulation, so the cost follows the length of their edges, not the size of the raster.
  Cells the triangulation does not reach (outside the rim's convex hull) fall back to
  inverse-distance weighting (GDAL FillNodata).
* Only cells within ``max_distance_cells`` of valid data are filled.
"""

from __future__ import annotations

import numpy as np
from rasterio.fill import fillnodata
from scipy import ndimage

__all__ = ["fill_gaps"]

_K8 = np.ones((3, 3), np.float64)


def fill_gaps(values: np.ndarray, *, max_distance_cells: float, where: np.ndarray | None = None,
              small: int = 64, sweeps: int = 8, relax: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Fill NaN cells of ``values`` within ``max_distance_cells`` of data; see the module notes.

    Parameters
    ----------
    values : 2D float array
        NaN marks missing cells.
    max_distance_cells : float
        Largest distance to the nearest valid cell [cells] of a cell that is filled.
    where : bool array, optional
        Restrict filling to these cells.
    small : int
        Largest hole [cells] filled from its neighbours rather than by triangulation.
    sweeps : int
        Neighbour-mean sweeps for small holes (a hole still open after them goes to the triangulation).
    relax : int
        Jacobi iterations that relax the small holes towards the discrete harmonic (Laplace) solution,
        which is exact on a plane (the mean of a cell's 8 neighbours on a plane is the plane).

    Returns
    -------
    (filled, mask) : the filled copy (float32) and the cells that were filled.
    """
    arr = np.asarray(values, dtype=np.float32)
    missing = np.isnan(arr)
    if not missing.any() or missing.all():
        return arr.copy(), np.zeros(arr.shape, bool)
    target = missing.copy()
    if where is not None:
        target &= where
    labels, n = ndimage.label(missing)  # 4-connected: sparse holes do not percolate into one gap
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    sizes[0] = 0
    is_small = (sizes <= small)[labels] & missing
    out = arr.copy()
    filled = np.zeros(arr.shape, bool)
    # 1. small holes: mean of the valid neighbours, a few sweeps
    todo = is_small & target
    if todo.any():
        v = np.where(missing, 0.0, arr.astype(np.float64))
        w = (~missing).astype(np.float64)
        for _ in range(sweeps):
            s = ndimage.convolve(v, _K8, mode="constant")
            c = ndimage.convolve(w, _K8, mode="constant")
            ok = todo & (c > 0)
            if not ok.any():
                break
            v[ok] = s[ok] / c[ok]
            w[ok] = 1.0
            out[ok] = v[ok].astype(np.float32)
            filled |= ok
            todo &= ~ok
        _relax(out, filled, missing, relax)
    # 2. large gaps within reach (and small ones the sweeps did not close): linear from their rim
    large = missing & ~filled & target
    if large.any():
        dist = ndimage.distance_transform_edt(missing)
        large &= dist <= max_distance_cells
    if large.any():
        rim = ndimage.binary_dilation(large, structure=np.ones((3, 3), bool)) & ~missing
        rr, cc = np.nonzero(rim)
        tr, tc = np.nonzero(large)
        vals = np.full(tr.shape, np.nan, np.float64)
        if rr.size >= 3:
            from scipy.interpolate import LinearNDInterpolator
            from scipy.spatial import QhullError

            try:
                interp = LinearNDInterpolator(np.column_stack([cc, rr]).astype(np.float64), arr[rr, cc].astype(np.float64))
                vals = interp(np.column_stack([tc, tr]).astype(np.float64))
            except (QhullError, ValueError):  # a degenerate rim (collinear): Qhull refuses; IDW below does the work
                vals = np.full(tr.shape, np.nan)
        bad = ~np.isfinite(vals)
        if bad.any():
            idw = fillnodata(arr.copy(), mask=(~missing).astype(np.uint8),
                             max_search_distance=max(1.0, float(max_distance_cells)), smoothing_iterations=0)
            vals[bad] = idw[tr[bad], tc[bad]]
        ok = np.isfinite(vals)
        out[tr[ok], tc[ok]] = vals[ok].astype(np.float32)
        filled[tr[ok], tc[ok]] = True
    return out, filled


def _relax(out: np.ndarray, filled: np.ndarray, missing: np.ndarray, iterations: int) -> None:
    """Relax the filled small-hole cells towards Laplace interpolation (numba kernel, in place)."""
    if iterations <= 0 or not filled.any():
        return
    from importers._kernels import relax_holes

    rows, cols = np.nonzero(filled)
    known = ~missing | filled
    work = np.where(known, out, 0.0).astype(np.float64)
    relax_holes(work, rows.astype(np.int64), cols.astype(np.int64), known, iterations=int(iterations))
    out[rows, cols] = work[rows, cols].astype(np.float32)
