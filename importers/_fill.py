"""Filling gaps in rasters: linear interpolation from the rim of each gap.

The cells that border a gap (valid cells with a missing 8-neighbour) are triangulated
(Delaunay, :class:`scipy.interpolate.LinearNDInterpolator`) and each missing cell within
``max_distance`` of valid data takes the value of the plane of its triangle: exact on a plane,
so that a sloping street under a bridge or the ground under a building is not bent. Cells the
triangulation does not reach (outside the rim's convex hull) fall back to inverse-distance
weighting (GDAL FillNodata). Only the rim enters the triangulation, so the cost follows the
length of the gaps' edges, not the size of the raster.
"""

from __future__ import annotations

import numpy as np
from rasterio.fill import fillnodata
from scipy import ndimage
from scipy.interpolate import LinearNDInterpolator

__all__ = ["fill_gaps"]


def fill_gaps(values: np.ndarray, *, max_distance_cells: float, where: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fill NaN cells of ``values`` (float32) within ``max_distance_cells`` of data.

    Parameters
    ----------
    values : 2D float array
        NaN marks missing cells.
    max_distance_cells : float
        Largest distance to the nearest valid cell [cells] of a cell that is filled.
    where : bool array, optional
        Restrict filling to these cells.

    Returns
    -------
    (filled, mask) : the filled copy (float32) and the cells that were filled.
    """
    arr = np.asarray(values, dtype=np.float32)
    missing = np.isnan(arr)
    if not missing.any() or missing.all():
        return arr.copy(), np.zeros(arr.shape, bool)
    dist = ndimage.distance_transform_edt(missing)
    target = missing & (dist <= max_distance_cells)
    if where is not None:
        target &= where
    out = arr.copy()
    if not target.any():
        return out, target
    rim = ndimage.binary_dilation(missing, structure=np.ones((3, 3), bool)) & ~missing
    rr, cc = np.nonzero(rim)
    tr, tc = np.nonzero(target)
    filled = np.full(tr.shape, np.nan, np.float64)
    if rr.size >= 3:
        try:
            interp = LinearNDInterpolator(np.column_stack([cc, rr]).astype(np.float64), arr[rr, cc].astype(np.float64))
            filled = interp(np.column_stack([tc, tr]).astype(np.float64))
        except Exception:  # degenerate rims (collinear): Qhull refuses, IDW below does the work
            filled = np.full(tr.shape, np.nan)
    bad = ~np.isfinite(filled)
    if bad.any():
        idw = fillnodata(arr.copy(), mask=(~missing).astype(np.uint8), max_search_distance=max(1.0, float(max_distance_cells)),
                         smoothing_iterations=0)
        filled[bad] = idw[tr[bad], tc[bad]]
    out[tr, tc] = filled.astype(np.float32)
    mask = np.zeros(arr.shape, bool)
    mask[tr, tc] = np.isfinite(filled)
    return out, mask
