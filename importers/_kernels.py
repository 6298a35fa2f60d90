"""Numba kernels of the importers (private): binning LiDAR points into grid cells, parsing coordinates.

Each kernel takes arrays and plain numbers (keyword-only) and knows nothing of files or CRSs.
A naive NumPy reference of each lives in the tests.
"""

from __future__ import annotations

import functools
import math

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


#: Range of the decimal exponents of :func:`powers_of_ten_128` (both inclusive).
POW10_MIN, POW10_MAX = -348, 347


@functools.lru_cache(maxsize=1)
def powers_of_ten_128() -> tuple[np.ndarray, np.ndarray]:
    """128-bit mantissas of the powers of ten 10**-348 .. 10**347, for :func:`parse_numbers`.

    Row ``q - POW10_MIN`` holds ``(hi, lo)``, the 128 most significant bits of 10**q (most significant
    bit set), rounded down: ``10**q ~ (hi * 2**64 + lo) * 2**e`` for some integer ``e``. Computed with
    Python integers (exact) at first use, about 2 ms.
    """
    hi = np.empty(POW10_MAX - POW10_MIN + 1, np.uint64)
    lo = np.empty_like(hi)
    mask = (1 << 64) - 1
    for q in range(POW10_MIN, POW10_MAX + 1):
        if q >= 0:
            v = 10**q
            s = v.bit_length() - 128
            m = v >> s if s > 0 else v << -s
        else:
            d = 10**-q
            k = d.bit_length() + 127  # 2**k // d has 128 bits
            m = (1 << k) // d
            if m.bit_length() > 128:
                m >>= 1
        hi[q - POW10_MIN] = m >> 64
        lo[q - POW10_MIN] = m & mask
    return hi, lo


@numba.njit(cache=True, inline="always")
def _mul_64x64(a, b):
    """The 128-bit product of two uint64 as (high, low) uint64 words."""
    m32 = np.uint64(0xFFFFFFFF)
    s32 = np.uint64(32)
    a0 = a & m32
    a1 = a >> s32
    b0 = b & m32
    b1 = b >> s32
    p00 = a0 * b0
    p01 = a0 * b1
    p10 = a1 * b0
    p11 = a1 * b1
    mid = (p00 >> s32) + (p01 & m32) + (p10 & m32)
    hi = p11 + (p01 >> s32) + (p10 >> s32) + (mid >> s32)
    lo = (mid << s32) | (p00 & m32)
    return hi, lo


@numba.njit(cache=True)
def _eisel_lemire(mant, q, pow_hi, pow_lo):
    """The double nearest to ``mant * 10**q`` (``mant`` uint64, not 0) and whether it is certain.

    The Eisel-Lemire algorithm (D. Lemire, "Number parsing at a gigabyte per second", Software:
    Practice and Experience 51(8), 2021, https://doi.org/10.1002/spe.2984): the mantissa times a 128-bit
    truncation of the power of ten; when the truncation could change the rounding, or on an exact
    half-way case, or outside the normal range of doubles, ``ok`` is False and the caller falls back to
    a slower exact conversion.
    """
    if q < POW10_MIN or q > POW10_MAX:
        return 0.0, False
    one = np.uint64(1)
    m = mant
    clz = 0
    if m < (one << np.uint64(32)):
        m <<= np.uint64(32)
        clz += 32
    if m < (one << np.uint64(48)):
        m <<= np.uint64(16)
        clz += 16
    if m < (one << np.uint64(56)):
        m <<= np.uint64(8)
        clz += 8
    if m < (one << np.uint64(60)):
        m <<= np.uint64(4)
        clz += 4
    if m < (one << np.uint64(62)):
        m <<= np.uint64(2)
        clz += 2
    if m < (one << np.uint64(63)):
        m <<= one
        clz += 1
    exp2 = ((217706 * q) >> 16) + 64 + 1023 - clz  # floor(q log2(10)) + ...
    row = q - POW10_MIN
    low9 = np.uint64(0x1FF)
    x_hi, x_lo = _mul_64x64(m, pow_hi[row])
    if (x_hi & low9) == low9 and x_lo + m < m:
        y_hi, y_lo = _mul_64x64(m, pow_lo[row])
        merged_hi = x_hi
        merged_lo = x_lo + y_hi
        if merged_lo < x_lo:
            merged_hi += one
        if (merged_hi & low9) == low9 and merged_lo + one == np.uint64(0) and y_lo + m < m:
            return 0.0, False
        x_hi = merged_hi
        x_lo = merged_lo
    msb = int(x_hi >> np.uint64(63))
    r = x_hi >> np.uint64(msb + 9)
    exp2 -= 1 ^ msb
    if x_lo == np.uint64(0) and (x_hi & low9) == np.uint64(0) and (r & np.uint64(3)) == one:
        return 0.0, False  # exactly half-way between two doubles: round-half-even needs more digits
    r += r & one
    r >>= one
    if r >> np.uint64(53) > np.uint64(0):
        r >>= one
        exp2 += 1
    if exp2 <= 0 or exp2 >= 0x7FF:
        return 0.0, False  # subnormal or overflow
    return math.ldexp(float(r), exp2 - 1075), True


@numba.njit(cache=True)
def _decimal_to_double(mant, q, truncated, pow_hi, pow_lo, pow10):
    """``mant * 10**q`` correctly rounded, and whether that is certain (else the caller re-parses).

    ``truncated``: digits after the 19 kept in ``mant`` were dropped (not all zero), so the value lies
    strictly between ``mant`` and ``mant + 1`` times ``10**q``: certain when both round alike.
    """
    if mant == np.uint64(0):
        return 0.0, True
    if not truncated:
        two53 = np.uint64(9007199254740992)
        ten = np.uint64(10)
        if mant > two53 or q < -22:
            while q < 0 and mant % ten == np.uint64(0):  # "1234.50": fewer digits, maybe the fast path
                mant //= ten
                q += 1
        if mant <= two53 and -22 <= q <= 22:  # Clinger's fast path: exact operands, one rounding
            v = float(mant)
            return (v * pow10[q] if q >= 0 else v / pow10[-q]), True
        return _eisel_lemire(mant, q, pow_hi, pow_lo)
    v1, ok1 = _eisel_lemire(mant, q, pow_hi, pow_lo)
    v2, ok2 = _eisel_lemire(mant + np.uint64(1), q, pow_hi, pow_lo)
    return v1, ok1 and ok2 and v1 == v2


@numba.njit(cache=True)
def parse_numbers(buf, out, ends, pow_hi, pow_lo):
    """Parse whitespace-separated decimal numbers from ASCII bytes; ``|`` ends a group (a ring).

    Parameters
    ----------
    buf : uint8 array
        The text, ASCII.
    out : float64 array
        Receives the numbers (large enough: ``len(buf) // 2 + 1``).
    ends : int64 array
        Receives, for each group, the index in ``out`` one past its last number.
    pow_hi, pow_lo : uint64 arrays
        The 128-bit powers of ten of :func:`powers_of_ten_128`.

    Returns
    -------
    (n_numbers, n_groups, status)
        ``status`` 0: all parsed exactly; 1: a number could not be decided here (a subnormal or
        out-of-range value, an exact half-way case, more than 19 significant digits whose rounding
        depends on the dropped ones): the caller re-parses with Python's correctly rounded ``float``;
        2: not a number.

    Exactness: every number gives the same double as ``float(text)``. Up to 19 significant digits
    are kept in a uint64 mantissa; a mantissa up to 2**53 times 10**q, ``|q| <= 22``, is one exact
    multiplication or division (Clinger's fast path), anything else goes through Eisel-Lemire
    (:func:`_eisel_lemire`), which either gives the correctly rounded double or says it cannot.
    """
    pow10 = np.empty(23, np.float64)
    p = 1.0
    for i in range(23):
        pow10[i] = p
        p *= 10.0
    ten = np.uint64(10)
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
        mant = np.uint64(0)
        nd = 0          # significant digits kept in mant (at most 19)
        scale = 0
        truncated = False
        seen = False
        while i < n and 48 <= buf[i] <= 57:
            d = buf[i] - 48
            if nd < 19:
                mant = mant * ten + np.uint64(d)
                if mant != np.uint64(0):
                    nd += 1
            else:
                scale += 1
                if d != 0:
                    truncated = True
            seen = True
            i += 1
        if i < n and buf[i] == 46:  # '.'
            i += 1
            while i < n and 48 <= buf[i] <= 57:
                d = buf[i] - 48
                if nd < 19:
                    mant = mant * ten + np.uint64(d)
                    scale -= 1
                    if mant != np.uint64(0):
                        nd += 1
                elif d != 0:
                    truncated = True
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
                if e < 100000:
                    e = e * 10 + (buf[i] - 48)
                edig = True
                i += 1
            if not edig:
                return k, g, 2
            scale += -e if eneg else e
        if i < n and not (buf[i] == 32 or buf[i] == 9 or buf[i] == 10 or buf[i] == 13 or buf[i] == 124):
            return k, g, 2
        v, ok = _decimal_to_double(mant, scale, truncated, pow_hi, pow_lo, pow10)
        if not ok:
            status = 1
        out[k] = -v if neg else v
        k += 1
    ends[g] = k
    g += 1
    return k, g, status


@numba.njit(cache=True)
def shape_rings(values, ends, dims, flip):
    """Cut parsed numbers into closed rings of (x, y, z) vertices.

    Parameters
    ----------
    values : float64 array
        The numbers of all rings, one after the other.
    ends : int64 array (n_rings,)
        One past the last number of each ring in ``values``.
    dims : int64 array (n_rings,) or (1,)
        Coordinates per vertex (``srsDimension``): 2 gives NaN altitudes, more than 3 keeps x, y, z.
        A ring whose count is not a multiple of 3 but is of 2 is read as 2D. One value: all rings.
    flip : uint8 array (n_rings,) or (1,)
        1 reverses the ring (``OrientableSurface`` with orientation ``-``). One value: all rings.

    Returns
    -------
    coords : float64 array (n_vertices, 3)
    starts : int64 array (n_rings + 1,)
        Ring ``r`` is ``coords[starts[r]:starts[r + 1]]``, closed (the first vertex repeated at the end
        when the file does not repeat it), empty when unusable.
    flags : int8 array (n_rings,)
        0 usable; 1 the count of numbers does not fit the dimension; 2 fewer than 4 vertices once closed.

    Memory: 24 bytes per vertex.
    """
    nr = ends.shape[0]
    total = 0
    begin = 0
    for r in range(nr):
        total += (ends[r] - begin) + 1  # at most one vertex per number, plus the closing one
        begin = ends[r]
    coords = np.empty((total, 3), np.float64)
    starts = np.zeros(nr + 1, np.int64)
    flags = np.zeros(nr, np.int8)
    begin = 0
    v = 0
    for r in range(nr):
        a = begin
        cnt = ends[r] - a
        begin = ends[r]
        starts[r] = v
        d = dims[r if dims.shape[0] > 1 else 0]
        rev = flip[r if flip.shape[0] > 1 else 0]
        if d < 2 or cnt % d:
            if d == 3 and cnt % 2 == 0:
                d = 2
            else:
                flags[r] = 1
                continue
        nv = cnt // d
        closed = nv > 0 and values[a] == values[a + (nv - 1) * d] and values[a + 1] == values[a + (nv - 1) * d + 1]
        m = nv if closed else nv + 1
        if m < 4:
            flags[r] = 2
            continue
        for j in range(nv):
            o = a + j * d
            coords[v + j, 0] = values[o]
            coords[v + j, 1] = values[o + 1]
            coords[v + j, 2] = values[o + 2] if d >= 3 else np.nan
        if not closed:
            coords[v + nv, 0] = coords[v, 0]
            coords[v + nv, 1] = coords[v, 1]
            coords[v + nv, 2] = coords[v, 2]
        if rev:  # reverse the closed ring
            for j in range(m // 2):
                for c in range(3):
                    t = coords[v + j, c]
                    coords[v + j, c] = coords[v + m - 1 - j, c]
                    coords[v + m - 1 - j, c] = t
        v += m
    starts[nr] = v
    return coords[:v], starts, flags


@numba.njit(cache=True)
def parse_rings(buf, dims, flip, pow_hi, pow_lo):
    """:func:`parse_numbers` then :func:`shape_rings` in one call: the rings of one building.

    ``buf`` holds the rings' coordinate texts separated by ``|``. Returns ``(coords, starts, flags,
    status)``; when ``status`` is not 0 (see :func:`parse_numbers`) the rings are not usable and the
    caller parses the text otherwise.
    """
    values = np.empty(buf.shape[0] // 2 + 2, np.float64)
    ends = np.empty(buf.shape[0] // 2 + 2, np.int64)
    _, g, status = parse_numbers(buf, values, ends, pow_hi, pow_lo)
    if status != 0:
        return np.empty((0, 3), np.float64), np.zeros(1, np.int64), np.zeros(0, np.int8), status
    coords, starts, flags = shape_rings(values, ends[:g], dims, flip)
    return coords, starts, flags, 0


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
