"""Numba kernels of the importers (private): binning LiDAR points into grid cells.

Each kernel takes arrays and plain numbers (keyword-only) and knows nothing of files or CRSs.
A naive NumPy reference of each lives in the tests.
"""

from __future__ import annotations

import numba
import numpy as np

#: Role bits of a point class (see importers.pointcloud.CLASS_ROLES).
GROUND = 1
SURFACE = 2
VEGETATION = 4
BUILDING = 8
WATER = 16
BRIDGE = 32
IGNORED = 64
ABOVE = 128  # any non-ignored, non-ground point (fallback surface for unclassified clouds)

#: Rows of the ``counts`` accumulator.
COUNT_ALL, COUNT_GROUND, COUNT_BUILDING, COUNT_WATER, COUNT_BRIDGE, COUNT_VEGETATION, COUNT_CLASSIFIED_ABOVE = range(7)
N_COUNTS = 7


@numba.njit(cache=True)
def bin_points(x, y, z, classes, roles, ground_sum, surface_max, any_max, vegetation_max, counts,
               *, xmin, ymax, cell_size, nrows, ncols):
    """Accumulate one chunk of points into per-cell statistics (in place).

    Parameters
    ----------
    x, y, z : float64 arrays (n,)
        Point coordinates [m] in the grid's CRS.
    classes : uint8 array (n,)
        LAS classification codes.
    roles : uint8 array (256,)
        Role bits per class code (GROUND, SURFACE, ...).
    ground_sum : float64 array (nrows * ncols,)
        Sum of ground altitudes per cell [m].
    surface_max, any_max, vegetation_max : float32 arrays (nrows * ncols,)
        Highest altitude of surface-class points, of any non-ignored point, of vegetation points [m]
        (-inf where none).
    counts : int32 array (N_COUNTS, nrows * ncols)
        Point counts per cell: all non-ignored, ground, building, water, bridge, vegetation, classified above-ground.
    xmin, ymax, cell_size : float
        Grid origin (north-west corner) and cell size [m].
    nrows, ncols : int

    Returns
    -------
    int
        Number of non-ignored points that fell inside the grid.

    Memory: 4 x 8 + 7 x 4 = 60 bytes per cell of accumulators; nothing per point.
    """
    inside = 0
    inv = 1.0 / cell_size
    for i in range(x.shape[0]):
        r = roles[classes[i]]
        if r & IGNORED:
            continue
        col = int(np.floor((x[i] - xmin) * inv))
        row = int(np.floor((ymax - y[i]) * inv))
        if col < 0 or col >= ncols or row < 0 or row >= nrows:
            continue
        k = row * ncols + col
        zi = z[i]
        inside += 1
        counts[COUNT_ALL, k] += 1
        if zi > any_max[k]:
            any_max[k] = zi
        if r & GROUND:
            ground_sum[k] += zi
            counts[COUNT_GROUND, k] += 1
        if r & SURFACE:
            if zi > surface_max[k]:
                surface_max[k] = zi
        if r & VEGETATION:
            counts[COUNT_VEGETATION, k] += 1
            if zi > vegetation_max[k]:
                vegetation_max[k] = zi
        if r & BUILDING:
            counts[COUNT_BUILDING, k] += 1
        if r & WATER:
            counts[COUNT_WATER, k] += 1
        if r & BRIDGE:
            counts[COUNT_BRIDGE, k] += 1
        if r & ABOVE:
            counts[COUNT_CLASSIFIED_ABOVE, k] += 1
    return inside


@numba.njit(cache=True)
def percentile_by_label(labels, values, n_labels, *, q):
    """The ``q``-th percentile of ``values`` per label (labels 1..n_labels; 0 ignored; NaN values skipped).

    Linear interpolation between order statistics (NumPy's default). Returns float64 (n_labels + 1,)
    with NaN for labels without values, and the count of values per label.

    Memory: one sort of the labelled values (16 bytes per labelled cell).
    """
    n = labels.shape[0]
    cnt = np.zeros(n_labels + 1, np.int64)
    for i in range(n):
        lab = labels[i]
        if lab > 0 and lab <= n_labels and not np.isnan(values[i]):
            cnt[lab] += 1
    start = np.zeros(n_labels + 2, np.int64)
    for k in range(1, n_labels + 1):
        start[k + 1] = start[k] + cnt[k]
    buf = np.empty(start[n_labels + 1], np.float64)
    fill = start.copy()
    for i in range(n):
        lab = labels[i]
        if lab > 0 and lab <= n_labels and not np.isnan(values[i]):
            buf[fill[lab]] = values[i]
            fill[lab] += 1
    out = np.full(n_labels + 1, np.nan)
    for k in range(1, n_labels + 1):
        m = cnt[k]
        if m == 0:
            continue
        seg = np.sort(buf[start[k]:start[k] + m])
        pos = (m - 1) * q / 100.0
        lo = int(np.floor(pos))
        hi = min(lo + 1, m - 1)
        frac = pos - lo
        out[k] = seg[lo] + (seg[hi] - seg[lo]) * frac
    return out, cnt


@numba.njit(cache=True)
def parse_numbers(buf, out, ends):
    """Parse whitespace-separated decimal numbers from ASCII bytes; ``|`` ends a group (a ring).

    Parameters
    ----------
    buf : uint8 array
        The text, ASCII.
    out : float64 array
        Receives the numbers (large enough: ``len(buf) // 2 + 1``).
    ends : int64 array
        Receives, for each group, the index in ``out`` one past its last number.

    Returns
    -------
    (n_numbers, n_groups, status)
        ``status`` 0: all parsed exactly; 1: a number needs more than 15 significant digits or a large
        exponent (the caller re-parses with Python's correctly rounded ``float``); 2: not a number.

    Exactness: a mantissa below 2**53 and a power of ten up to 1e22 are exact doubles, so one
    multiplication or division gives the correctly rounded value (Clinger's fast path), the same
    double as ``float(text)``.
    """
    pow10 = np.empty(23, np.float64)
    p = 1.0
    for i in range(23):
        pow10[i] = p
        p *= 10.0
    n = buf.shape[0]
    i = 0
    k = 0
    g = 0
    status = 0
    while i < n:
        c = buf[i]
        if c == 124:  # '|'
            ends[g] = k
            g += 1
            i += 1
            continue
        if c == 32 or c == 9 or c == 10 or c == 13:
            i += 1
            continue
        neg = False
        if c == 45 or c == 43:  # '-' '+'
            neg = c == 45
            i += 1
        mant = 0
        scale = 0
        seen = False
        while i < n and 48 <= buf[i] <= 57:
            if mant < 900719925474099:  # (2**53 - 9) // 10: mant * 10 + 9 stays exact
                mant = mant * 10 + (buf[i] - 48)
            else:
                scale += 1
                if buf[i] != 48:
                    status = 1
            seen = True
            i += 1
        if i < n and buf[i] == 46:  # '.'
            i += 1
            while i < n and 48 <= buf[i] <= 57:
                if mant < 900719925474099:
                    mant = mant * 10 + (buf[i] - 48)
                    scale -= 1
                elif buf[i] != 48:
                    status = 1
                seen = True
                i += 1
        if not seen:
            return k, g, 2
        if i < n and (buf[i] == 101 or buf[i] == 69):  # 'e' 'E'
            i += 1
            eneg = False
            if i < n and (buf[i] == 45 or buf[i] == 43):
                eneg = buf[i] == 45
                i += 1
            e = 0
            edig = False
            while i < n and 48 <= buf[i] <= 57:
                if e < 10000:
                    e = e * 10 + (buf[i] - 48)
                edig = True
                i += 1
            if not edig:
                return k, g, 2
            scale += -e if eneg else e
        if i < n and not (buf[i] == 32 or buf[i] == 9 or buf[i] == 10 or buf[i] == 13 or buf[i] == 124):
            return k, g, 2
        v = float(mant)
        if scale < 0:
            if -scale <= 22:
                v = v / pow10[-scale]
            else:
                status = 1
                v = v / 10.0 ** (-scale)
        elif scale > 0:
            if scale <= 22:
                v = v * pow10[scale]
            else:
                status = 1
                v = v * 10.0 ** scale
        out[k] = -v if neg else v
        k += 1
    ends[g] = k
    g += 1
    return k, g, status


@numba.njit(cache=True)
def relax_holes(values, rows, cols, known, *, iterations):
    """Jacobi iterations of the 8-neighbour mean on the cells ``(rows, cols)`` of ``values`` (in place).

    Parameters
    ----------
    values : float64 array (nrows, ncols)
        The raster; the hole cells hold a first guess.
    rows, cols : int64 arrays (n,)
        The hole cells.
    known : bool array (nrows, ncols)
        Cells whose value may be used (data and holes); others weigh nothing.
    iterations : int

    The fixed point is the discrete harmonic interpolation of the holes from their rim, exact on a
    plane. Memory: one float64 per hole cell.
    """
    nrows, ncols = values.shape
    n = rows.shape[0]
    new = np.empty(n, np.float64)
    for _ in range(iterations):
        for k in range(n):
            r = rows[k]
            c = cols[k]
            s = 0.0
            w = 0.0
            for dr in range(-1, 2):
                rr = r + dr
                if rr < 0 or rr >= nrows:
                    continue
                for dc in range(-1, 2):
                    if dr == 0 and dc == 0:
                        continue
                    cc = c + dc
                    if cc < 0 or cc >= ncols or not known[rr, cc]:
                        continue
                    s += values[rr, cc]
                    w += 1.0
            new[k] = s / w if w > 0 else values[r, c]
        for k in range(n):
            values[rows[k], cols[k]] = new[k]
