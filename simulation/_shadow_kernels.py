"""Numba kernels of the shared sun and shadow code (private: use simulation.shadows).

Geometry in *cell units*: x grows with the column (east), y with the row (south);
a cell (r, c) spans [c, c+1) x [r, r+1). Heights are in metres; ``rise`` is the
height a ray gains per cell unit of horizontal travel [m per cell] (``tan(alt) *
cell_size``), so a pixel-size factor cannot creep in: every horizontal distance is
a cell count times the cell size exactly once.

The surface is read as flat-topped columns ("prisms": buildings, tree crowns) and,
where a terrain is given, as a terrain surface sampled at cell centres.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_BIG = 1e30


@numba.njit(cache=True, inline="always")
def _dda_axis(p, d, k):
    """Amanatides & Woo set-up along one axis: a ray at ``p`` in cell ``k`` (spanning [k, k+1))
    moving ``d`` per unit of t returns ``(step, t at the first cell boundary, t per cell)``; an
    axis the ray (nearly) does not move along never steps."""
    if d > 1e-12:
        return 1, (k + 1.0 - p) / d, 1.0 / d
    if d < -1e-12:
        return -1, (p - k) / (-d), -1.0 / d
    return 0, _BIG, _BIG


@numba.njit(cache=True)
def _march(prism, ground, ctop, cbot, use_canopy, nrows, ncols, px, py, z0, dx, dy, rise, zmax, tau, r, c):
    """Fraction of direct sun reaching the point (px, py, z0) in cell (r, c) along (dx, dy).

    Amanatides & Woo (1987) traversal: the ray is tested against each cell it enters,
    at the height it has when it *enters* the cell for prisms (the lowest height it has
    over that cell: exact for flat-topped columns) and at mid-cell for terrain.
    A tree crown spans [cbot, ctop]; each run of crossed crown cells multiplies the
    fraction by ``tau`` once.
    """
    r = np.int64(r)
    c = np.int64(c)
    step_c, tmax_c, tdel_c = _dda_axis(px, dx, c)
    step_r, tmax_r, tdel_r = _dda_axis(py, dy, r)
    frac = 1.0
    in_crown = False
    if use_canopy and 0 <= r < nrows and 0 <= c < ncols:
        t_exit = min(tmax_c, tmax_r)
        if z0 <= ctop[r, c] and z0 + t_exit * rise >= cbot[r, c]:
            frac *= tau
            in_crown = True
    while True:
        if tmax_c < tmax_r:
            t = tmax_c
            tmax_c += tdel_c
            c += step_c
        else:
            t = tmax_r
            tmax_r += tdel_r
            r += step_r
        if c < 0 or c >= ncols or r < 0 or r >= nrows:
            break
        z_in = z0 + t * rise
        if z_in > zmax:
            break
        if prism[r, c] > z_in:
            return 0.0
        t_exit = min(tmax_c, tmax_r)
        if ground[r, c] > z0 + 0.5 * (t + t_exit) * rise:
            return 0.0
        if use_canopy:
            if z_in <= ctop[r, c] and z0 + t_exit * rise >= cbot[r, c]:
                if not in_crown:
                    frac *= tau
                    in_crown = True
            else:
                in_crown = False
    return frac


@numba.njit(cache=True, parallel=True)
def sunlit_grid(prism, ground, z0, ctop, cbot, use_canopy, out, *, dx, dy, rise, zmax, tau):
    """Sunlit fraction of every cell (receiver at height ``z0[r, c]`` at the cell centre).

    Memory: the inputs (5 float32 per cell) and ``out`` (float32); no temporaries.
    ``out`` is NaN where ``z0`` is NaN.
    """
    nrows, ncols = z0.shape
    for r in numba.prange(nrows):
        for c in range(ncols):
            z = z0[r, c]
            if not math.isfinite(z):
                out[r, c] = np.nan
                continue
            out[r, c] = _march(prism, ground, ctop, cbot, use_canopy, nrows, ncols, c + 0.5, r + 0.5, z,
                               dx, dy, rise, zmax, tau, r, c)


@numba.njit(cache=True, parallel=True)
def sunlit_points(prism, ground, ctop, cbot, use_canopy, px, py, pz, dxs, dys, rises, zmax, tau, out):
    """Sunlit fraction of points (cell units ``px, py``, height ``pz`` [m]) for several suns.

    ``out`` has shape (n_suns, n_points); a sun with ``rise <= 0`` (below the horizon)
    gives 0. Points outside the grid see no obstacle in their own cell.
    """
    nrows, ncols = prism.shape
    nsun = dxs.shape[0]
    npt = px.shape[0]
    for k in numba.prange(npt):
        x = px[k]
        y = py[k]
        z = pz[k]
        c = int(math.floor(x))
        r = int(math.floor(y))
        for s in range(nsun):
            if not rises[s] > 0.0:
                out[s, k] = 0.0
                continue
            out[s, k] = _march(prism, ground, ctop, cbot, use_canopy, nrows, ncols, x, y, z,
                               dxs[s], dys[s], rises[s], zmax, tau, r, c)


# -- horizons and sky-view factors --------------------------------------------------------------


@numba.njit(cache=True, inline="always")
def _hull_query(W, H, n, wq, zq):
    """Largest slope (H - zq) / (W - wq) over the upper hull W[:n], H[:n] (top = nearest)."""
    i = n - 1
    best = (H[i] - zq) / (W[i] - wq)
    while i > 0:
        s = (H[i - 1] - zq) / (W[i - 1] - wq)
        if s >= best:
            best = s
            i -= 1
        else:
            break
    return best


@numba.njit(cache=True, inline="always")
def _hull_push(W, H, n, wp, hp):
    """Add the point (wp, hp), left of every point of the hull, keeping the upper hull."""
    while n >= 2:
        s1 = (H[n - 1] - hp) / (W[n - 1] - wp)
        s2 = (H[n - 2] - hp) / (W[n - 2] - wp)
        if s2 >= s1:
            n -= 1
        else:
            break
    W[n] = wp
    H[n] = hp
    return n + 1


@numba.njit(cache=True, inline="always")
def _g_vertical(t):
    """Integral over elevation of cos^2 from the horizon atan(t) to the zenith: (pi/2 - b - sin b cos b) / 2."""
    b = math.atan(t)
    return 0.5 * (0.5 * math.pi - b - t / (1.0 + t * t))


@numba.njit(cache=True, inline="always")
def _accumulate(acc, r, c, tb, ta, keep, wdir):
    """Add one azimuth's horizon (tan of building and of all-obstacle horizon) to the sums of cell (r, c)."""
    if tb < 0.0:
        tb = 0.0
    if ta < tb:
        ta = tb
    sb = tb * tb / (1.0 + tb * tb)
    sa = ta * ta / (1.0 + ta * ta)
    acc[0, r, c] += 1.0 - sb
    acc[1, r, c] += (1.0 - sb) - (1.0 - keep) * (sa - sb)
    if acc.shape[0] > 2:
        gb = _g_vertical(tb)
        ga = _g_vertical(ta) if ta > tb else gb
        gv = gb - (1.0 - keep) * (gb - ga)
        for k in range(4):
            if wdir[k] > 0.0:
                acc[2 + k, r, c] += wdir[k] * gv


@numba.njit(cache=True, parallel=True)
def horizon_sums(zb, offb, za, offa, z0, acc, *, col_major, q, step, keep, wfwd, wbwd, crowns=True, phase=0):
    """Accumulate the horizons of one pair of opposite azimuths into ``acc``.

    The grid is swept along parallel digital lines (each cell on exactly one line):
    along the major axis ``i`` (columns when ``col_major``), the minor index is
    ``j + round(i * q)``. Along each line the horizon of every cell, looking forward
    then backward, is the tangent to the upper convex hull of the points ahead, found
    in amortised O(1) (the points skipped by the query are exactly those the insertion
    of the cell removes). A point's position is its distance along the line [m], less
    ``off`` for flat-topped columns (their near face is half a step closer than their
    centre).

    Parameters
    ----------
    zb, za : float32 (nrows, ncols) heights [m] of the building/terrain surface and of the
        surface with tree crowns (NaN-free: -1e30 where unknown)
    offb, offa : float32 (nrows, ncols) near-face offsets in steps (0.5 for columns, 0 for terrain)
    z0 : float32 (nrows, ncols) viewer heights [m]
    acc : float64 (2 or 6, nrows, ncols) sums: svf (buildings), svf (with vegetation), and
        optionally the four vertical sky views N, E, S, W
    q : float, minor cells per major cell
    step : float, metres along the line per major cell
    keep : float, transmissivity of crowns
    wfwd, wbwd : float64 (4,) weights of the forward and backward azimuths for the four
        vertical directions
    crowns : bool, whether ``za`` differs from ``zb`` (else one hull serves both)
    phase : int, major index of the arrays' first cell in a larger grid (a tile): the lines are
        then ``j + round((i + phase) * q)``, the larger grid's lines, so that a tile's horizons are
        the larger grid's wherever the points that make them lie in the tile

    Memory: per line, four float64 buffers of the line's length; per cell, acc.
    """
    nrows, ncols = z0.shape
    if col_major:
        nmaj = ncols
        nmin = nrows
    else:
        nmaj = nrows
        nmin = ncols
    r0 = int(math.floor(phase * q + 0.5))
    r1 = int(math.floor((phase + nmaj - 1) * q + 0.5))
    rmin = min(r0, r1)
    rmax = max(r0, r1)
    jlo = -rmax
    jhi = nmin - rmin
    for jj in numba.prange(jhi - jlo):
        j = jlo + jj
        Wb = np.empty(nmaj)
        Hb = np.empty(nmaj)
        Wa = np.empty(nmaj)
        Ha = np.empty(nmaj)
        for direction in range(2):
            nb = 0
            na = 0
            hmaxb = -1e30
            hmaxa = -1e30
            for ii in range(nmaj):
                # forward azimuth looks towards increasing i: sweep from the far end
                i = nmaj - 1 - ii if direction == 0 else ii
                m = j + int(math.floor((i + phase) * q + 0.5))
                if m < 0 or m >= nmin:
                    continue
                if col_major:
                    r = m
                    c = i
                else:
                    r = i
                    c = m
                w = i * step if direction == 0 else -i * step
                zv = z0[r, c]
                if math.isfinite(zv):
                    tb = 0.0
                    ta = 0.0
                    if nb > 0 and hmaxb > zv:
                        tb = _hull_query(Wb, Hb, nb, w, zv)
                    if not crowns:
                        ta = tb
                    elif na > 0 and hmaxa > zv:
                        ta = _hull_query(Wa, Ha, na, w, zv)
                    _accumulate(acc, r, c, tb, ta, keep, wfwd if direction == 0 else wbwd)
                hb = zb[r, c]
                ha = za[r, c]
                nb = _hull_push(Wb, Hb, nb, w - offb[r, c] * step, hb)
                if crowns:
                    na = _hull_push(Wa, Ha, na, w - offa[r, c] * step, ha)
                if hb > hmaxb:
                    hmaxb = hb
                if ha > hmaxa:
                    hmaxa = ha


# -- naive references (tests only) ------------------------------------------------------------


def sunlit_naive(prism, ground, z0, ctop, cbot, *, dx, dy, rise, tau, substeps=200):
    """Brute-force reference of :func:`sunlit_grid`: march in tiny steps and test every sample.

    Pure NumPy/Python, for small grids in tests.
    """
    nrows, ncols = z0.shape
    out = np.ones((nrows, ncols))
    tmax = math.hypot(nrows, ncols) + 2
    ts = np.arange(1, int(tmax * substeps)) / substeps
    for r in range(nrows):
        for c in range(ncols):
            x = c + 0.5 + ts * dx
            y = r + 0.5 + ts * dy
            inside = (x >= 0) & (x < ncols) & (y >= 0) & (y < nrows)
            cc = np.floor(x[inside]).astype(int)
            rr = np.floor(y[inside]).astype(int)
            zr = z0[r, c] + ts[inside] * rise
            other = (cc != c) | (rr != r)
            if np.any(other & (prism[rr, cc] > zr)):
                out[r, c] = 0.0
                continue
            crown = (zr <= ctop[rr, cc]) & (zr >= cbot[rr, cc])
            runs = np.count_nonzero(np.diff(np.concatenate(([0], crown.astype(int)))) == 1)
            out[r, c] = tau**runs
    return out


def horizon_naive(zb, z0, *, cell_size, azimuth, max_distance, substeps=50):
    """Brute-force tan(horizon elevation) of every cell towards ``azimuth`` [degrees]:
    samples along the ray every 1/substeps cell and takes the max over cells entered of
    (height - z0) / (distance at entry). Pure NumPy, tests only."""
    nrows, ncols = z0.shape
    a = math.radians(azimuth)
    dx, dy = math.sin(a), -math.cos(a)
    ts = np.arange(1, int(max_distance * substeps)) / substeps
    out = np.zeros((nrows, ncols))
    for r in range(nrows):
        for c in range(ncols):
            x = c + 0.5 + ts * dx
            y = r + 0.5 + ts * dy
            inside = (x >= 0) & (x < ncols) & (y >= 0) & (y < nrows)
            cc = np.floor(x[inside]).astype(int)
            rr = np.floor(y[inside]).astype(int)
            other = (cc != c) | (rr != r)
            if not other.any():
                continue
            t = ts[inside][other] * cell_size
            h = zb[rr[other], cc[other]] - z0[r, c]
            out[r, c] = max(0.0, float(np.max(h / t)))
    return out
