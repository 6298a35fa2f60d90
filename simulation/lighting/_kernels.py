"""Numba kernels of the lighting model (private: call the wrappers in :mod:`simulation.lighting.illuminance`).

Geometry is in *grid index space*: a point's fractional row ``fr = (ymax - y) / cs - 0.5``
and column ``fc = (x - xmin) / cs - 0.5``, so cell ``(i, j)``'s centre is ``(i, j)``;
metres come back through ``cell_size``. World vectors are (east, north, up) [m].

Intensities come from per-photometry look-up tables in stereographic coordinates of
the luminaire frame (x = C0, y = C90, z up): a direction ``(lx, ly, lz)`` of length ``r``
maps to ``p = (lx, ly) / (r - lz)`` in the lower hemisphere (``|p| = tan(gamma / 2) <= 1``)
and ``p = (lx, ly) / (r + lz)`` in the upper one, each a square table sampled from the
exact bilinear C-gamma interpolant (see ``illuminance.build_luts``). This turns the two
inverse trigonometric calls of a (C, gamma) look-up (~70 ns) into one division.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import prange

# -----------------------------------------------------------------------------------------------
# small inline helpers
# -----------------------------------------------------------------------------------------------


@numba.njit(cache=True, inline="always")
def _lut_bilinear(lut, px, py, origin, inv_h):
    u = (px - origin) * inv_h
    v = (py - origin) * inv_h
    iu = int(u)
    iv = int(v)
    n = lut.shape[0] - 2
    if iu > n:
        iu = n
    if iv > n:
        iv = n
    if iu < 0:
        iu = 0
    if iv < 0:
        iv = 0
    tu = u - iu
    tv = v - iv
    a = lut[iv, iu] + (lut[iv, iu + 1] - lut[iv, iu]) * tu
    b = lut[iv + 1, iu] + (lut[iv + 1, iu + 1] - lut[iv + 1, iu]) * tu
    return a + (b - a) * tv


@numba.njit(cache=True, inline="always")
def _dda_axis(f0, d, k):
    """Amanatides & Woo set-up along one axis: a walk starting at index ``f0`` (cell ``k``, cell
    centres at whole numbers) and moving ``d`` per unit of the parameter t returns ``(step, t at
    the first cell boundary, t per cell)``; an axis the walk does not move along never steps."""
    if d > 0:
        return 1, (k + 0.5 - f0) / d, 1.0 / d
    if d < 0:
        return -1, (k - 0.5 - f0) / d, -1.0 / d
    return 0, 2.0, 2.0


@numba.njit(cache=True, inline="always")
def _intensity(luts_lo, luts_up, k, rot, dx, dy, dz, r, origin, inv_h):
    """Intensity [cd/klm] of photometry ``k`` toward the world vector (dx, dy, dz) of length r."""
    lx = rot[0] * dx + rot[1] * dy + rot[2] * dz
    ly = rot[3] * dx + rot[4] * dy + rot[5] * dz
    lz = rot[6] * dx + rot[7] * dy + rot[8] * dz
    if lz <= 0.0:
        inv = 1.0 / (r - lz)
        return _lut_bilinear(luts_lo[k], lx * inv, ly * inv, origin, inv_h)
    inv = 1.0 / (r + lz)
    return _lut_bilinear(luts_up[k], lx * inv, ly * inv, origin, inv_h)


@numba.njit(cache=True)
def segment_transmittance(fr0, fc0, z0, fr1, fc1, z1, hard, crown_base, crown_top, test_hard, has_crowns, skip0, eps,
                          extinction, cell_size):
    """Transmittance [1] of the segment from a receiver (point 0) to a luminaire (point 1).

    Walks the cells the segment crosses, exactly (Amanatides & Woo 1987, "A fast voxel
    traversal algorithm"), each cell a column: solid from the ground to ``hard`` (terrain,
    buildings) and a crown between ``crown_base`` and ``crown_top``. Returns 0 when the
    segment dips below ``hard - eps`` in a cell (``test_hard``), else ``exp(-extinction L)``
    with L [m] the exact 3D length of the segment inside crowns. The luminaire's own cell
    is never an obstacle (pole, bracket, a wall it hangs on), nor is the receiver's own
    cell to the hard test (a point on a slope sits between cell centres); cells whose part
    of the segment lies within ``skip0`` cells (horizontal) of the receiver are not tested
    (facade receivers stand against their own wall).
    """
    nr, nc = hard.shape
    dr = fr1 - fr0
    dc = fc1 - fc0
    dzz = z1 - z0
    hl = math.sqrt(dr * dr + dc * dc)
    length = math.sqrt(hl * hl * cell_size * cell_size + dzz * dzz)
    i = int(math.floor(fr0 + 0.5))
    j = int(math.floor(fc0 + 0.5))
    i1 = int(math.floor(fr1 + 0.5))
    j1 = int(math.floor(fc1 + 0.5))
    si, tmr, tdr = _dda_axis(fr0, dr, i)
    sj, tmc, tdc = _dda_axis(fc0, dc, j)
    tskip = skip0 / hl if hl > 0 else 0.0
    t_in = 0.0
    inside = 0.0
    guard = int(abs(i1 - i) + abs(j1 - j)) + 2
    for _ in range(guard + 1):
        t_out = tmr if tmr < tmc else tmc
        if t_out > 1.0:
            t_out = 1.0
        last = (i == i1 and j == j1) or t_out >= 1.0
        if last:
            break  # the luminaire's own cell
        if 0 <= i < nr and 0 <= j < nc and t_out > tskip:
            ta = t_in if t_in > tskip else tskip
            za = z0 + ta * dzz
            zb = z0 + t_out * dzz
            if test_hard and t_in > 0.0:  # the receiver's own cell does not hide it
                zmin = za if za < zb else zb
                if zmin < hard[i, j] - eps:
                    return 0.0
            if has_crowns:
                cb = crown_base[i, j]
                ct = crown_top[i, j]
                if ct > cb:
                    lo = ta
                    hi = t_out
                    if dzz != 0.0:
                        u = (cb - z0) / dzz
                        v = (ct - z0) / dzz
                        if u > v:
                            u, v = v, u
                        if u > lo:
                            lo = u
                        if v < hi:
                            hi = v
                    elif not (cb < z0 < ct):
                        hi = lo
                    if hi > lo:
                        inside += (hi - lo) * length
        t_in = t_out
        if tmr < tmc:
            tmr += tdr
            i += si
        else:
            tmc += tdc
            j += sj
    if inside > 0.0:
        return math.exp(-extinction * inside)
    return 1.0


@numba.njit(cache=True)
def line_horizon(fr, fc, i, j, zl, hard, crown_top, has_crowns, cell_size):
    """Largest obstacle elevation slopes seen from a luminaire along the exact line to a cell centre.

    Walks the cells crossed by the segment from the luminaire at ``(fr, fc)`` (grid index
    space) to the centre of cell ``(i, j)`` (Amanatides & Woo), the luminaire's cell and the
    target cell excluded, and returns ``(max (hard - zl) / s, max (max(crown_top, hard) - zl) / s)``
    with s [m] the horizontal distance from the luminaire to each cell's centre: the exact
    line (R3) that ring propagation approximates.
    """
    nr, nc = hard.shape
    dr = i - fr
    dc = j - fc
    gh = -1e30
    gc = -1e30
    a = int(math.floor(fr + 0.5))
    b = int(math.floor(fc + 0.5))
    si, tmr, tdr = _dda_axis(fr, dr, a)
    sj, tmc, tdc = _dda_axis(fc, dc, b)
    n = abs(i - a) + abs(j - b) + 1
    for _ in range(n):
        if tmr < tmc:
            tmr += tdr
            a += si
        else:
            tmc += tdc
            b += sj
        if (a == i and b == j) or tmr > 1.0 and tmc > 1.0:
            break
        if 0 <= a < nr and 0 <= b < nc:
            inv = 1.0 / (math.sqrt((a - fr) ** 2 + (b - fc) ** 2) * cell_size)
            h = hard[a, b]
            v = (h - zl) * inv
            if v > gh:
                gh = v
            if has_crowns:
                ct = crown_top[a, b]
                v = ((ct if ct > h else h) - zl) * inv
                if v > gc:
                    gc = v
    if gc < gh:
        gc = gh
    return gh, gc


# -----------------------------------------------------------------------------------------------
# raster: horizontal illuminance, visibility by ring propagation (XDraw)
# -----------------------------------------------------------------------------------------------


@numba.njit(cache=True)
def ring_tables(K, cell_size, radius):
    """Cells of a luminaire's disc in Chebyshev-ring order, with their two parents on the previous ring.

    For cell d on ring m the segment from the centre crosses ring m - 1 at d (m - 1) / m,
    between two cells p1, p2 of that ring; ``w`` is the weight of p2 there. Returns
    ``di, dj`` (int32 offsets), ``p1, p2`` (int32 indices into the same list) and ``w``
    (index 0 is the centre). Luminaire-independent: computed once per cut-off.
    """
    side = 2 * K + 1
    index = -np.ones((side, side), np.int64)
    rlim = radius / cell_size + 0.75
    cap = side * side
    di = np.zeros(cap, np.int32)
    dj = np.zeros(cap, np.int32)
    p1 = np.zeros(cap, np.int32)
    p2 = np.zeros(cap, np.int32)
    w = np.zeros(cap, np.float64)
    index[K, K] = 0
    n = 1
    for m in range(1, K + 1):
        f = (m - 1) / m
        for a in range(-m, m + 1):
            for b in range(-m, m + 1):
                if max(abs(a), abs(b)) != m or math.sqrt(a * a + b * b) > rlim:
                    continue
                di[n] = a
                dj[n] = b
                # the two mirrored cases (rows or columns the major axis) are written out, not folded into
                # one with swapped indices: the table is built once per run, and this reads as the maths
                if abs(a) >= abs(b):
                    qa = int(round(a * f))
                    qb = b * f
                    lo = int(math.floor(qb))
                    t = qb - lo
                    hi = lo + 1 if t > 0 else lo
                    p1[n] = index[qa + K, lo + K]
                    p2[n] = index[qa + K, hi + K]
                else:
                    qb = int(round(b * f))
                    qa = a * f
                    lo = int(math.floor(qa))
                    t = qa - lo
                    hi = lo + 1 if t > 0 else lo
                    p1[n] = index[lo + K, qb + K]
                    p2[n] = index[hi + K, qb + K]
                w[n] = t
                index[a + K, b + K] = n
                n += 1
    return di[:n], dj[:n], p1[:n], p2[:n], w[:n]


@numba.njit(cache=True)
def _rings_one(q, hard, crown_base, crown_top, has_crowns, lum_fr, lum_fc, lum_z, lum_scale, lum_lut, lum_rot,
               luts_lo, luts_up, out, G, Gc, kmax, c_di, c_dj, c_p1, c_p2, c_w, cell_size, radius, origin, inv_h, eps,
               extinction):
    """Add luminaire ``q``'s horizontal illuminance to ``out``; return the number of cells within the cut-off.

    Cells are visited ring by ring outward from the luminaire's cell (``ring_tables``). ``G[d]``
    holds the largest obstacle elevation slope ``(hard - zL) / s`` on the line from the
    luminaire to cell d, d included (s: horizontal distance from the luminaire's exact
    position to the cell centre). A cell's horizon H is the interpolation of its two
    parents' G (XDraw, Franklin & Ray 1994); the cell is lit when its own slope, lifted by
    ``eps``, reaches H. Where the two parents disagree about the cell (its slope lies between
    theirs: a shadow edge), the horizon is recomputed exactly on the cell's own line
    (``line_horizon``, R3) and that exact value is carried outward, so interpolation never
    smears a corner into a false shadow or a leak. ``Gc`` does the same with the top of
    crowns and buildings: a lit cell below that horizon, or under a crown, gets the exact
    crown transmittance of its own segment (``segment_transmittance``).
    """
    nr, nc = hard.shape
    fr = lum_fr[q]
    fc = lum_fc[q]
    zl = lum_z[q]
    scale = lum_scale[q]
    k_lut = lum_lut[q]
    rot = lum_rot[q]
    ri = int(math.floor(fr + 0.5))
    ci = int(math.floor(fc + 0.5))
    r2max = radius * radius
    inner = ri - kmax >= 0 and ri + kmax < nr and ci - kmax >= 0 and ci + kmax < nc
    count = 0
    for idx in range(c_di.size):
        i = ri + c_di[idx]
        j = ci + c_dj[idx]
        if not inner:
            if i < 0 or i >= nr or j < 0 or j >= nc:
                G[idx] = np.nan  # outside the grid: its children use their other parent
                Gc[idx] = np.nan
                continue
        zr = hard[i, j]
        dxm = (j - fc) * cell_size
        dym = (fr - i) * cell_size
        s2 = dxm * dxm + dym * dym
        dz = zr - zl
        inside = s2 <= r2max
        if inside:
            count += 1
        if idx == 0:  # the luminaire's own cell: never shadowed, never an obstacle
            G[0] = -1e30
            Gc[0] = -1e30
            if inside and dz < 0.0:
                rr2 = s2 + dz * dz
                rr = math.sqrt(rr2)
                e = scale * _intensity(luts_lo, luts_up, k_lut, rot, dxm, dym, dz, rr, origin, inv_h) * (-dz) / (rr2 * rr)
                if has_crowns and e > 0.0 and crown_top[i, j] > zr + eps:
                    e *= segment_transmittance(float(i), float(j), zr, fr, fc, zl, hard, crown_base, crown_top,
                                               False, True, 0.0, 0.0, extinction, cell_size)
                out[i, j] += e
            continue
        inv_s = 1.0 / math.sqrt(s2)
        k1 = c_p1[idx]
        k2 = c_p2[idx]
        wt = c_w[idx]
        ga = G[k1]
        gb = G[k2]
        gca = Gc[k1]
        gcb = Gc[k2]
        if not inner:
            if math.isnan(ga):
                ga = gb
                gca = gcb
            elif math.isnan(gb):
                gb = ga
                gcb = gca
            if math.isnan(ga):
                ga = gb = gca = gcb = -1e30
        H = ga + (gb - ga) * wt
        Hc = gca + (gcb - gca) * wt
        t_slope = (dz + eps) * inv_s
        lo = ga if ga < gb else gb
        hi = ga if ga > gb else gb
        if lo <= t_slope < hi:
            H, Hc = line_horizon(fr, fc, i, j, zl, hard, crown_top, has_crowns, cell_size)
        elif has_crowns:
            loc = gca if gca < gcb else gcb
            hic = gca if gca > gcb else gcb
            if loc <= t_slope < hic:
                H, Hc = line_horizon(fr, fc, i, j, zl, hard, crown_top, has_crowns, cell_size)
        if inside and dz < 0.0 and t_slope >= H:
            rr2 = s2 + dz * dz
            rr = math.sqrt(rr2)
            e = scale * _intensity(luts_lo, luts_up, k_lut, rot, dxm, dym, dz, rr, origin, inv_h) * (-dz) / (rr2 * rr)
            if has_crowns and e > 0.0 and (t_slope < Hc or crown_top[i, j] > zr + eps):
                e *= segment_transmittance(float(i), float(j), zr, fr, fc, zl, hard, crown_base, crown_top,
                                           False, True, 0.0, 0.0, extinction, cell_size)
            out[i, j] += e
        S = (zr - zl) * inv_s
        G[idx] = S if S > H else H
        if has_crowns:
            ct = crown_top[i, j]
            Sc = ((ct if ct > zr else zr) - zl) * inv_s
            Gc[idx] = Sc if Sc > Hc else Hc
    return count


@numba.njit(cache=True, parallel=True)
def illuminance_rings(hard, crown_base, crown_top, has_crowns, lum_fr, lum_fc, lum_z, lum_scale, lum_lut, lum_rot,
                      order, band_start, luts_lo, luts_up, out, *, cell_size, radius, origin, inv_h, eps, extinction):
    """Horizontal illuminance [lx] of every luminaire added into ``out`` (float32, (nrows, ncols)).

    Luminaires are grouped in horizontal bands of at least K = ceil(radius / cell_size) rows
    (``band_start`` indexes ``order``); bands of the same colour (band mod 3) are at least 2K
    rows apart, so their luminaires write to disjoint rows and run in parallel without
    races; the three colours run one after the other. Returns the number of
    luminaire-cell pairs within the cut-off (the "evaluations" of the benchmark).

    Memory: ``hard``, ``crown_base``, ``crown_top`` and ``out``, 4 x float32 = 16 bytes per
    cell, plus two float64 horizons of about pi K^2 cells per band in flight.
    """
    nb = band_start.size - 1
    kmax = int(math.ceil(radius / cell_size))
    if kmax < 1:
        kmax = 1
    c_di, c_dj, c_p1, c_p2, c_w = ring_tables(kmax, cell_size, radius)
    total = 0
    for colour in range(3):
        nbc = (nb - colour + 2) // 3
        for bb in prange(nbc):
            b = colour + 3 * bb
            G = np.empty(c_di.size, np.float64)
            Gc = np.empty(c_di.size, np.float64)
            cnt = 0
            for m in range(band_start[b], band_start[b + 1]):
                cnt += _rings_one(order[m], hard, crown_base, crown_top, has_crowns, lum_fr, lum_fc, lum_z, lum_scale,
                                  lum_lut, lum_rot, luts_lo, luts_up, out, G, Gc, kmax, c_di, c_dj, c_p1, c_p2, c_w,
                                  cell_size, radius, origin, inv_h, eps, extinction)
            total += cnt
    return total


@numba.njit(cache=True, parallel=True)
def illuminance_plain(ground, lum_fr, lum_fc, lum_z, lum_scale, lum_lut, lum_rot, order, band_start, luts_lo, luts_up,
                      out, *, cell_size, radius, origin, inv_h):
    """Horizontal illuminance [lx] without occlusion: a plain scan of each luminaire's disc (the baseline).

    Same banded, race-free parallel scheme as :func:`illuminance_rings`. Returns the number
    of luminaire-cell pairs evaluated. Memory: ``ground`` and ``out``, 8 bytes per cell.
    """
    nr, nc = ground.shape
    nb = band_start.size - 1
    total = 0
    r2max = radius * radius
    for colour in range(3):
        nbc = (nb - colour + 2) // 3
        for bb in prange(nbc):
            b = colour + 3 * bb
            cnt = 0
            for m in range(band_start[b], band_start[b + 1]):
                q = order[m]
                fr = lum_fr[q]
                fc = lum_fc[q]
                zl = lum_z[q]
                scale = lum_scale[q]
                k_lut = lum_lut[q]
                rot = lum_rot[q]
                rc = radius / cell_size
                i0 = max(0, int(math.ceil(fr - rc)))
                i1 = min(nr - 1, int(math.floor(fr + rc)))
                for i in range(i0, i1 + 1):
                    dym = (fr - i) * cell_size
                    rem = r2max - dym * dym
                    if rem < 0.0:
                        continue
                    half = math.sqrt(rem) / cell_size
                    j0 = max(0, int(math.ceil(fc - half)))
                    j1 = min(nc - 1, int(math.floor(fc + half)))
                    for j in range(j0, j1 + 1):
                        dxm = (j - fc) * cell_size
                        dz = ground[i, j] - zl
                        cnt += 1
                        if dz < 0.0:
                            rr2 = dxm * dxm + dym * dym + dz * dz
                            rr = math.sqrt(rr2)
                            inten = _intensity(luts_lo, luts_up, k_lut, rot, dxm, dym, dz, rr, origin, inv_h)
                            out[i, j] += scale * inten * (-dz) / (rr2 * rr)
            total += cnt
    return total


# -----------------------------------------------------------------------------------------------
# points: illuminance on planes or semi-cylinders at arbitrary points, exact ray marching
# -----------------------------------------------------------------------------------------------


@numba.njit(cache=True, parallel=True)
def illuminance_points(pt_fr, pt_fc, pt_z, pt_n, mode, hard, crown_base, crown_top, has_crowns, lum_fr, lum_fc, lum_z,
                       lum_scale, lum_lut, lum_rot, bucket_start, bucket_items, luts_lo, luts_up, out, *, bucket_cells,
                       nbr, nbc, cell_size, radius, origin, inv_h, eps, extinction, skip_near, occlusion):
    """Illuminance [lx] at points; parallel over points (each iteration writes only its own ``out[p]``).

    ``mode[p]`` 0: on a plane of unit normal ``pt_n[p]`` (world; (0, 0, 1) for horizontal, a
    horizontal vector for a facade), ``E = sum_L I (L - P).n / r^3``; 1: semi-cylindrical,
    the flat face looking along the horizontal unit vector ``pt_n[p]`` (EN 13201-3),
    ``E = sum_L I (|h| + h.n) / (pi r^3)`` with h the horizontal part of ``L - P``.
    Each pair's visibility is the exact traversal of its own segment
    (``segment_transmittance``), skipping ``skip_near`` cells next to the point.
    Luminaires come from square buckets of ``bucket_cells`` cells (CSR ``bucket_start`` /
    ``bucket_items`` over ``nbr`` x ``nbc`` buckets, row-major). Memory: the three obstacle
    rasters (12 bytes per cell) and 8 doubles per point.
    """
    npt = pt_fr.size
    r2max = radius * radius
    for p in prange(npt):
        fr = pt_fr[p]
        fc = pt_fc[p]
        zp = pt_z[p]
        nx = pt_n[p, 0]
        ny = pt_n[p, 1]
        nz = pt_n[p, 2]
        br = int(math.floor(fr / bucket_cells))
        bc = int(math.floor(fc / bucket_cells))
        acc = 0.0
        for ib in range(br - 1, br + 2):
            if ib < 0 or ib >= nbr:
                continue
            for jb in range(bc - 1, bc + 2):
                if jb < 0 or jb >= nbc:
                    continue
                b = ib * nbc + jb
                for m in range(bucket_start[b], bucket_start[b + 1]):
                    q = bucket_items[m]
                    # world vector from the luminaire to the point
                    dxm = (fc - lum_fc[q]) * cell_size
                    dym = (lum_fr[q] - fr) * cell_size
                    s2 = dxm * dxm + dym * dym
                    if s2 > r2max:
                        continue
                    dz = zp - lum_z[q]
                    rr2 = s2 + dz * dz
                    if rr2 <= 0.0:
                        continue
                    rr = math.sqrt(rr2)
                    if mode[p] == 0:
                        cosn = -(dxm * nx + dym * ny + dz * nz)
                        if cosn <= 0.0:
                            continue
                        geo = cosn / (rr2 * rr)
                    else:
                        hl = math.sqrt(s2)
                        geo = (hl - dxm * nx - dym * ny) / (math.pi * rr2 * rr)
                        if geo <= 0.0:
                            continue
                    inten = _intensity(luts_lo, luts_up, lum_lut[q], lum_rot[q], dxm, dym, dz, rr, origin, inv_h)
                    e = geo * inten * lum_scale[q]
                    if e > 0.0 and occlusion:
                        e *= segment_transmittance(fr, fc, zp, lum_fr[q], lum_fc[q], lum_z[q], hard, crown_base,
                                                   crown_top, True, has_crowns, skip_near, eps, extinction, cell_size)
                    acc += e
        out[p] = acc

