"""Numba kernels of the flood model (private: call them through :mod:`simulation.flood.model`).

Grid and sign conventions
-------------------------
Depth ``h`` lives at cell centres, shape ``(ny, nx)``; unit discharges at faces:
``qx`` of shape ``(ny, nx + 1)`` (face ``qx[i, j]`` is the west face of cell ``(i, j)``,
positive towards increasing column, i.e. east) and ``qy`` of shape ``(ny + 1, nx)``
(face ``qy[i, j]`` is the north face of cell ``(i, j)``, positive towards increasing
row, i.e. south). A cell *owns* its west and north faces, and the east/south boundary
faces when it sits on the east/south edge: every face has exactly one owner, so a pass
that writes only the faces its cells own writes disjoint memory in parallel.

Windows, tiles and threads
--------------------------
Every pass takes a window: rows ``r0:r1`` and column blocks ``b0:b1`` of width ``tc``
(columns ``b*tc : min((b+1)*tc, nx)``); ``active[i // tr, b]`` says whether the tile of
``tr`` rows by ``tc`` columns is computed. Passes read one cell or face beyond their
window (a halo of 1; a full step needs a halo of 2) and write only cells and faces the
window owns, so running a window at a time in any order gives the same bits as one call
over the whole grid. Parallelism is a ``prange`` over rows; sums are written per
``(row, block)`` and reduced afterwards in a fixed order, so results do not depend on
the number of threads.

Memory per cell: ``z`` 4 + ``h`` 4 + its rounding remainder ``hlo`` 4 + Manning n 4 +
flags 1 + infiltration and drainage rates 8 + debris factors 8 + ``qx``, ``qy`` 8 + their
scratch copies 8 + outflow factor 4 + remaining initial loss 4 + trackers (max depth, max
speed, max hazard, arrival time) 16 = 73 bytes (+ 4 with a rain raster, + 16 with Green-Ampt:
K, S and the cumulative infiltration in float64).

Vectorisation
-------------
The inner loops run over 1-D views of a block of a row with indices from 0: numba then
emits no negative-index wrap-around, and with ``error_model="numpy"`` (no division-by-zero
exception, which is an early exit) LLVM vectorises them; the momentum is float32 (8 lanes).
The only indirect load (the debris factor by land cover) stays in the scalar hazard update.
Measured on 1 core, 1000 x 1000: momentum 80 -> 9.4 ns per cell, continuity 110 -> 16 ns,
against the same arithmetic written cell by cell. No load may sit under a condition (load
both values, then select) and outputs are 1-D rows: either kept a loop scalar. A pass hands
a whole run of consecutive active blocks of a row to a loop at once, and the loops are
inlined into the passes: per-call costs (slices, reference counts, loop set-up, alias
checks) were ~0.7 us per 64-cell block (10 ns per cell) with a call per block, and inlining
takes a 32-cell run of faces from 8.3 to 5.9 ns per face.

Calling convention
------------------
Physical quantities are always passed by keyword (``dt=..., dx=...``). They are not
declared keyword-only (``*``) because numba cannot bind keyword-only parameters when one
compiled function calls another (the time loop :func:`advance` calls the passes).

Per-cell parameters
-------------------
Per-cell parameters are plain arrays (Manning n with walls negative, flags, infiltration and
drainage rates), read in the vector loops; the debris factors come from a small table
indexed by the land-cover code. A class table with indirect loads was tried: the gathers
kept LLVM from vectorising and cost ~6 ns per cell, more than the extra bytes.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

# ledger columns written by the continuity pass, per (row, block)
L_RAIN = 0
L_INFIL = 1
L_INITIAL = 2
L_DRAIN = 3
L_BND_IN = 4
L_BND_OUT = 5
L_CLAMP = 6
L_NCOLS = 7

#: rows per parallel task (scratch buffers are allocated once per task)
ROWS_PER_TASK = 8

# boundary modes of edge faces
BC_CLOSED = 0
BC_LEVEL = 1
BC_FREE = 2


@njit(cache=True, inline="always")
def _pow_m7_3(x, fbuf, ibuf):
    """``x ** (-7/3)`` for x > 0 without a division: x^(-1/3) from a bit-level first guess
    (3.5 % off) and three Newton steps ``y (4 - x y^3) / 3`` (relative error < 3e-10), then y^7.

    ``np.cbrt`` and a division would cost ~10x more in the innermost loop (measured);
    ``fbuf`` is a 1-element float64 array and ``ibuf`` its uint64 view (per-thread scratch).
    """
    fbuf[0] = x
    ibuf[0] = np.uint64(0x553EF0FF289DD794) - ibuf[0] // np.uint64(3)
    y = fbuf[0]
    y = y * (4.0 - x * y * y * y) * (1.0 / 3.0)
    y = y * (4.0 - x * y * y * y) * (1.0 / 3.0)
    y = y * (4.0 - x * y * y * y) * (1.0 / 3.0)
    y2 = y * y
    y3 = y2 * y
    return y3 * y3 * y


@njit(cache=True, inline="always")
def _face_q(q0, q_up, q_down, q_perp, eta_a, eta_b, z_a, z_b, n_f, dt, inv_dx, g, theta, h_min, froude_max,
            fallback, fbuf, ibuf):
    """New unit discharge through one face, positive from side a to side b [m2 s-1].

    de Almeida et al. (2012) q-centred local inertial update with semi-implicit
    Manning friction on the vector |q|; falls back to Bates et al. (2010) when the
    smoothed update points up the water-surface slope; capped at ``froude_max``.
    ``h_f^(7/3)`` is evaluated as ``h_f^2 cbrt(h_f)`` through :func:`_pow_m7_3`.
    """
    hf = max(eta_a, eta_b) - max(z_a, z_b)
    if hf <= h_min:
        return 0.0
    slope = (eta_b - eta_a) * inv_dx
    qmag = math.sqrt(q0 * q0 + q_perp * q_perp)
    inv_den = 1.0 / (1.0 + g * dt * n_f * n_f * qmag * _pow_m7_3(hf, fbuf, ibuf))
    grav = g * hf * dt * slope
    q = (theta * q0 + 0.5 * (1.0 - theta) * (q_up + q_down) - grav) * inv_den
    if fallback and q * slope > 0.0:
        q = (q0 - grav) * inv_den
    if froude_max > 0.0:
        qmax = froude_max * hf * math.sqrt(g * hf)
        if q > qmax:
            q = qmax
        elif q < -qmax:
            q = -qmax
    return q


_MAGIC = np.uint64(0x553EF0FF289DD794)
# float32 first guess of x^(-1/3): 3.5 % off, 2.4e-10 after three Newton steps (32-bit integer division by 3
# vectorises, the 64-bit one does not)
_MAGIC32 = np.uint32(0x54A21D2A)


@njit(cache=True, error_model="numpy", inline="always")
def _faces_row(za_, zb_, ha_, hb_, na_, nb_, q_up, q0_, q_down, pa, pb, out, buf,
               dt, inv_dx, g, theta, h_min, froude_max, fallback):
    """Interior faces between two rows of cells ``a`` and ``b`` (1-D views, face ``k`` between
    ``a[k]`` and ``b[k]``): the de Almeida update of :func:`_face_q`, branch-free, in float32.

    The perpendicular discharge is ``0.25 (pa[k] + pa[k+1] + pb[k] + pb[k+1])``. The water
    surfaces are never formed (170 m + 1 cm loses the centimetre's precision in float32):
    with ``dz = zb - za`` (exact for neighbours), ``d(eta) = dz + (hb - ha)`` and
    ``h_f = max(ha - max(dz, 0), hb + min(dz, 0))``. Every index starts at 0 so that numba
    emits no negative-index wrap-around; the loops vectorise 8 wide.
    """
    n = out.shape[0]
    ib = buf.view(np.uint32)
    f0 = np.float32(0.0)
    third = np.float32(1.0 / 3.0)
    four = np.float32(4.0)
    quarter = np.float32(0.25)
    half = np.float32(0.5)
    one = np.float32(1.0)
    c_sm = np.float32(0.5 * (1.0 - theta))
    th = np.float32(theta)
    gdt = np.float32(g * dt)
    gg = np.float32(g)
    hmin = np.float32(h_min)
    idx = np.float32(inv_dx)
    fr = np.float32(froude_max)
    for k in range(n):
        dz = zb_[k] - za_[k]
        hf = max(ha_[k] - max(dz, f0), hb_[k] + min(dz, f0))
        buf[k] = max(hf, hmin)
    for k in range(n):
        ib[k] = _MAGIC32 - ib[k] // np.uint32(3)
    for k in range(n):
        ha = ha_[k]
        hb = hb_[k]
        dz = zb_[k] - za_[k]
        hf = max(ha - max(dz, f0), hb + min(dz, f0))
        hs = max(hf, hmin)
        y = buf[k]
        y = y * (four - hs * y * y * y) * third
        y = y * (four - hs * y * y * y) * third
        y = y * (four - hs * y * y * y) * third
        y3 = y * y * y
        r7 = y3 * y3 * y
        q0 = q0_[k]
        qp = quarter * (pa[k] + pa[k + 1] + pb[k] + pb[k + 1])
        na = na_[k]
        nb = nb_[k]
        nf = half * (na + nb)
        slope = (dz + (hb - ha)) * idx
        inv_den = one / (one + gdt * nf * nf * np.sqrt(q0 * q0 + qp * qp) * r7)
        grav = gdt * hs * slope
        qc = (th * q0 + c_sm * (q_up[k] + q_down[k]) - grav) * inv_den
        qb = (q0 - grav) * inv_den
        q = qb if fallback and qc * slope > f0 else qc
        if froude_max > 0.0:
            qmax = fr * hs * np.sqrt(gg * hs)
            q = min(max(q, -qmax), qmax)
        ok = (hf > hmin) & (na >= f0) & (nb >= f0)
        out[k] = q if ok else f0


@njit(cache=True, inline="always")
def _boundary_q(q0, q_in, qp, etac, zc, nc, mode, val, inward, dt, inv_dx, dx, g, theta, h_min, froude_max,
                fallback, fbuf, ibuf):
    """Discharge through a grid-edge face (positive into the domain when ``inward``).

    Mode 1: a ghost cell at the edge cell's ground with water level ``val`` [m]; mode 2:
    free outflow, the ghost surface ``val * dx`` lower (``val`` = slope), outflow only.
    """
    if mode == BC_LEVEL:
        ge = np.float64(val)
        gz = zc
    else:
        s = np.float64(val) * dx
        ge = etac - s
        gz = zc - s
    if inward:
        q = _face_q(q0, q0, q_in, qp, ge, etac, gz, zc, nc, dt, inv_dx, g, theta, h_min, froude_max, fallback, fbuf, ibuf)
        if mode == BC_FREE and q > 0.0:
            q = 0.0
    else:
        q = _face_q(q0, q_in, q0, qp, etac, ge, zc, gz, nc, dt, inv_dx, g, theta, h_min, froude_max, fallback, fbuf, ibuf)
        if mode == BC_FREE and q < 0.0:
            q = 0.0
    return q


@njit(cache=True, parallel=True, error_model="numpy")
def momentum(h, z, nman, qx, qy, qxn, qyn,
             bcw_mode, bcw_val, bce_mode, bce_val, bcn_mode, bcn_val, bcs_mode, bcs_val,
             active, tr, tc, r0, r1, b0, b1, dt, dx, g, theta, h_min, froude_max, fallback):
    """Momentum pass: new face discharges ``qxn``, ``qyn`` [m2 s-1] from ``h`` and the old ``qx``, ``qy``.

    ``nman`` is the Manning n of each cell [s m-1/3], negative for walls (no flux through
    any of their faces). Writes only the faces owned by the window's active tiles.
    Boundary modes per edge face: 0 closed, 1 water level ``*_val`` [m] in a ghost cell at
    the same ground, 2 free outflow with a ghost surface ``*_val`` x dx lower. Interior
    faces go through the vectorised :func:`_faces_row`, edge faces through :func:`_face_q`.
    """
    ny, nx = h.shape
    inv_dx = 1.0 / dx
    ngrp = (r1 - r0 + ROWS_PER_TASK - 1) // ROWS_PER_TASK
    for grp in prange(ngrp):
        buf = np.empty(nx + 1, np.float32)
        fbuf = np.empty(1, np.float64)
        ibuf = fbuf.view(np.uint64)
        for i in range(r0 + grp * ROWS_PER_TASK, min(r0 + (grp + 1) * ROWS_PER_TASK, r1)):
            ti = i // tr
            b = b0
            while b < b1:
                if active[ti, b] == 0:
                    b += 1
                    continue
                e = _span_end(active, ti, b, b1)
                j0 = b * tc
                j1 = min(e * tc, nx)
                # interior x faces: the west faces of cells ja..j1-1
                ja = max(j0, 1)
                if j1 > ja:
                    m = j1 - ja
                    _faces_row(z[i, ja - 1:j1 - 1], z[i, ja:j1], h[i, ja - 1:j1 - 1], h[i, ja:j1],
                               nman[i, ja - 1:j1 - 1], nman[i, ja:j1], qx[i, ja - 1:j1 - 1], qx[i, ja:j1],
                               qx[i, ja + 1:j1 + 1], qy[i, ja - 1:j1], qy[i + 1, ja - 1:j1], qxn[i, ja:j1], buf[:m],
                               dt, inv_dx, g, theta, h_min, froude_max, fallback)
                if j0 == 0:
                    nc = np.float64(nman[i, 0])
                    q = 0.0
                    if nc >= 0.0 and bcw_mode[i] != BC_CLOSED:
                        zc = np.float64(z[i, 0])
                        q = _boundary_q(np.float64(qx[i, 0]), np.float64(qx[i, 1]) if nx > 1 else np.float64(qx[i, 0]),
                                        0.5 * (np.float64(qy[i, 0]) + np.float64(qy[i + 1, 0])),
                                        zc + np.float64(h[i, 0]), zc, nc, bcw_mode[i], bcw_val[i], True,
                                        dt, inv_dx, dx, g, theta, h_min, froude_max, fallback, fbuf, ibuf)
                    qxn[i, 0] = q
                if j1 == nx:
                    nc = np.float64(nman[i, nx - 1])
                    q = 0.0
                    if nc >= 0.0 and bce_mode[i] != BC_CLOSED:
                        zc = np.float64(z[i, nx - 1])
                        q = _boundary_q(np.float64(qx[i, nx]), np.float64(qx[i, nx - 1]) if nx > 1 else np.float64(qx[i, nx]),
                                        0.5 * (np.float64(qy[i, nx - 1]) + np.float64(qy[i + 1, nx - 1])),
                                        zc + np.float64(h[i, nx - 1]), zc, nc, bce_mode[i], bce_val[i], False,
                                        dt, inv_dx, dx, g, theta, h_min, froude_max, fallback, fbuf, ibuf)
                    qxn[i, nx] = q
                # y faces: the north faces of row i
                if i == 0:
                    for j in range(j0, j1):
                        nc = np.float64(nman[0, j])
                        q = 0.0
                        if nc >= 0.0 and bcn_mode[j] != BC_CLOSED:
                            zc = np.float64(z[0, j])
                            q = _boundary_q(np.float64(qy[0, j]), np.float64(qy[1, j]) if ny > 1 else np.float64(qy[0, j]),
                                            0.5 * (np.float64(qx[0, j]) + np.float64(qx[0, j + 1])),
                                            zc + np.float64(h[0, j]), zc, nc, bcn_mode[j], bcn_val[j], True,
                                            dt, inv_dx, dx, g, theta, h_min, froude_max, fallback, fbuf, ibuf)
                        qyn[0, j] = q
                else:
                    _faces_row(z[i - 1, j0:j1], z[i, j0:j1], h[i - 1, j0:j1], h[i, j0:j1], nman[i - 1, j0:j1],
                               nman[i, j0:j1], qy[i - 1, j0:j1], qy[i, j0:j1], qy[i + 1, j0:j1],
                               qx[i - 1, j0:j1 + 1], qx[i, j0:j1 + 1], qyn[i, j0:j1], buf[:j1 - j0],
                               dt, inv_dx, g, theta, h_min, froude_max, fallback)
                if i == ny - 1:
                    for j in range(j0, j1):
                        nc = np.float64(nman[ny - 1, j])
                        q = 0.0
                        if nc >= 0.0 and bcs_mode[j] != BC_CLOSED:
                            zc = np.float64(z[ny - 1, j])
                            q = _boundary_q(np.float64(qy[ny, j]), np.float64(qy[ny - 1, j]) if ny > 1 else np.float64(qy[ny, j]),
                                            0.5 * (np.float64(qx[ny - 1, j]) + np.float64(qx[ny - 1, j + 1])),
                                            zc + np.float64(h[ny - 1, j]), zc, nc, bcs_mode[j], bcs_val[j], False,
                                            dt, inv_dx, dx, g, theta, h_min, froude_max, fallback, fbuf, ibuf)
                        qyn[ny, j] = q
                b = e


@njit(cache=True, parallel=True, error_model="numpy")
def outflow_factor(h, qxn, qyn, fac, active, tr, tc, r0, r1, b0, b1, dt, dx):
    """Positivity pass: ``fac = min(1, h / outgoing depth)`` per cell [1].

    ``fac`` is padded with a frame of ghost cells (shape ``(ny + 2, nx + 2)``, cell
    ``(i, j)`` at ``[i + 1, j + 1]``) whose value stays 1: water entering through a grid
    edge is not limited. A cell's outgoing fluxes are later multiplied by its factor, so
    that no cell sends more water than it holds; incoming fluxes are not counted as
    available.
    """
    nx = h.shape[1]
    k = dt / dx
    ngrp = (r1 - r0 + ROWS_PER_TASK - 1) // ROWS_PER_TASK
    for grp in prange(ngrp):
        for i in range(r0 + grp * ROWS_PER_TASK, min(r0 + (grp + 1) * ROWS_PER_TASK, r1)):
            ti = i // tr
            b = b0
            while b < b1:
                if active[ti, b] == 0:
                    b += 1
                    continue
                e = _span_end(active, ti, b, b1)
                j0 = b * tc
                j1 = min(e * tc, nx)
                qxr = qxn[i, j0:j1 + 1]
                qn = qyn[i, j0:j1]
                qs = qyn[i + 1, j0:j1]
                hr = h[i, j0:j1]
                out_ = fac[i + 1, j0 + 1:j1 + 1]
                for m in range(j1 - j0):
                    out = (max(np.float64(qxr[m + 1]), 0.0) + max(-np.float64(qxr[m]), 0.0)
                           + max(np.float64(qs[m]), 0.0) + max(-np.float64(qn[m]), 0.0)) * k
                    hc = np.float64(hr[m])
                    out_[m] = hc / (out if out > hc else 1.0) if out > hc else 1.0
                b = e


@njit(cache=True, error_model="numpy", inline="always")
def _cell_fluxes(qxr, qn_, qs_, fm, fn, fs, qx_out, qy_out, net, su, sv, k):
    """Donor-scaled discharges of the four faces of a row of cells: net depth change and sums for speeds.

    Every factor is loaded unconditionally and then selected: a load under a condition
    keeps LLVM from vectorising the loop (measured 4.9 -> 3.2 ns per cell).
    """
    for m in range(net.shape[0]):
        fself = np.float64(fm[m + 1])
        fw = np.float64(fm[m])
        fe = np.float64(fm[m + 2])
        fnn = np.float64(fn[m])
        fss = np.float64(fs[m])
        q = np.float64(qxr[m])
        qw = q * (fw if q > 0.0 else fself)
        q2 = np.float64(qxr[m + 1])
        qe = q2 * (fself if q2 > 0.0 else fe)
        q3 = np.float64(qn_[m])
        qn = q3 * (fnn if q3 > 0.0 else fself)
        q4 = np.float64(qs_[m])
        qs = q4 * (fself if q4 > 0.0 else fss)
        qx_out[m] = qw
        qy_out[m] = qn
        net[m] = (qw - qe + qn - qs) * k
        su[m] = qw + qe
        sv[m] = qn + qs


@njit(cache=True, error_model="numpy", inline="always")
def _cell_depths(hr, lor, ilr, net, flags, inf, drn, rain, rain_dt, dt, v_rain, v_ini, v_inf, v_drn, v_clamp):
    """New depths of a row of cells: fluxes + rain, then initial loss, infiltration, drainage (each limited).

    The depth is ``hr + lor``: a float32 value and the float32 rounding remainder of the
    float64 update (compensated summation), so that increments far below the float32
    resolution of a deep cell (a pond draining slowly over its sill) are neither lost
    nor created. ``flags`` bit 0 marks walls (no rain); ``inf``, ``drn`` are rates [m s-1];
    rain is ``rain_dt`` [m] per step times ``rain[m]`` (a row of ones for uniform rain: a
    load under a condition, or 2-D outputs, kept this loop from vectorising; 5.4 -> 3.6 ns
    per cell). The volumes of each cell go to the 1-D ``v_*`` rows [m].
    """
    for m in range(net.shape[0]):
        r = rain_dt * np.float64(rain[m])
        r = r if (flags[m] & 1) == 0 else 0.0
        hn = np.float64(hr[m]) + np.float64(lor[m]) + net[m] + r
        pos = hn > 0.0
        il = np.float64(ilr[m])
        t1 = min(il, hn) if pos else 0.0
        hn -= t1
        ilr[m] = il - t1
        t2 = min(np.float64(inf[m]) * dt, hn) if pos else 0.0
        hn -= t2
        t3 = min(np.float64(drn[m]) * dt, hn) if pos else 0.0
        hn -= t3
        clamp = -hn if hn < 0.0 else 0.0
        hn = max(hn, 0.0)
        h32 = np.float32(hn)
        hr[m] = h32
        lor[m] = np.float32(hn - np.float64(h32))
        v_rain[m] = r
        v_ini[m] = t1
        v_inf[m] = t2
        v_drn[m] = t3
        v_clamp[m] = clamp


@njit(cache=True, error_model="numpy", inline="always")
def _cell_depths_ga(hr, lor, ilr, net, flags, ga_k, ga_s, ga_f, drn, rain, rain_dt, dt,
                    v_rain, v_ini, v_inf, v_drn, v_clamp):
    """:func:`_cell_depths` with Green-Ampt infiltration instead of a constant rate.

    ``ga_k`` is the saturated conductivity K [m s-1] (0 = impervious), ``ga_s`` the product
    psi x (moisture deficit) S [m], ``ga_f`` the cumulative infiltration F [m] (float64, updated).
    The capacity over the step integrates the Green-Ampt rate equation dF/dt = K (1 + S / F) by
    the implicit midpoint rule, ``dF = a (1 + S / (F + dF / 2))`` with ``a = K dt``: its positive
    root ``dF = 4 a (F + S) / ((2F - a) + sqrt((2F - a)^2 + 8 a (F + S)))`` (written
    ``(sqrt(...) - (2F - a)) / 2`` when ``2F <= a``) has no cancellation, is ``~sqrt(2 a S)`` at
    F = 0 (the exact early-time solution) and K dt when S = 0 (a constant rate). After 10 min and
    2 h of ponding on a loam at 2.3 s steps, F is within 5e-6 of the implicit Green-Ampt solution
    ``F - S ln(1 + F / S) = K t`` (backward Euler: 4e-3).
    """
    for m in range(net.shape[0]):
        r = rain_dt * np.float64(rain[m])
        r = r if (flags[m] & 1) == 0 else 0.0
        hn = np.float64(hr[m]) + np.float64(lor[m]) + net[m] + r
        pos = hn > 0.0
        il = np.float64(ilr[m])
        t1 = min(il, hn) if pos else 0.0
        hn -= t1
        ilr[m] = il - t1
        a = np.float64(ga_k[m]) * dt
        f = ga_f[m]
        sf = np.float64(ga_s[m]) + f
        d = 2.0 * f - a
        sq = np.sqrt(d * d + 8.0 * a * sf)
        den = d + sq
        cap = 4.0 * a * sf / (den if d > 0.0 else 1.0) if d > 0.0 else 0.5 * (sq - d)
        t2 = min(cap, hn) if pos else 0.0
        hn -= t2
        ga_f[m] = f + t2
        t3 = min(np.float64(drn[m]) * dt, hn) if pos else 0.0
        hn -= t3
        clamp = -hn if hn < 0.0 else 0.0
        hn = max(hn, 0.0)
        h32 = np.float32(hn)
        hr[m] = h32
        lor[m] = np.float32(hn - np.float64(h32))
        v_rain[m] = r
        v_ini[m] = t1
        v_inf[m] = t2
        v_drn[m] = t3
        v_clamp[m] = clamp


@njit(cache=True, error_model="numpy", inline="always")
def _cell_trackers(hr, su, sv, dfm, dfh, mdr, msr, mhr, arr, t_end, arrival_depth, speed_depth, d_mid, d_high, v_high):
    """Maximum depth, speed, hazard rating and arrival time of a row of cells, in float32 (the trackers'
    precision). The debris factors are per cell (``dfm`` mid, ``dfh`` high), loaded unconditionally:
    a class table (a gather) or a conditional load kept this loop scalar (measured 12.6 -> 2.9 ns per
    cell on a loaded machine). Stored every step."""
    te = np.float32(t_end)
    ad = np.float32(arrival_depth)
    sd = np.float32(speed_depth)
    dm = np.float32(d_mid)
    dh = np.float32(d_high)
    vh = np.float32(v_high)
    half = np.float32(0.5)
    one = np.float32(1.0)
    zero = np.float32(0.0)
    for m in range(su.shape[0]):
        hd = hr[m]
        mdr[m] = max(mdr[m], hd)
        a = arr[m]
        arr[m] = te if (hd > ad) & (a != a) else a  # noqa: PLR0124  (a NaN test that vectorises)
        fast = hd >= sd
        inv2h = half / (hd if fast else one)
        u = np.float32(su[m]) * inv2h
        v = np.float32(sv[m]) * inv2h
        spd = np.sqrt(u * u + v * v) if fast else zero
        msr[m] = max(msr[m], spd)
        f_mid = dfm[m]
        f_high = dfh[m]
        df = f_high if (hd > dh) | (spd > vh) else (f_mid if hd > dm else zero)
        hz = hd * (spd + half) + df if hd > zero else zero
        mhr[m] = max(mhr[m], hz)


@njit(cache=True, inline="always")
def _sum4(v, n):
    """``sum(v[:n])`` in a fixed order with four interleaved partial sums (deterministic, and twice as
    fast as one chain of dependent additions)."""
    a0 = 0.0
    a1 = 0.0
    a2 = 0.0
    a3 = 0.0
    m = 0
    while m + 4 <= n:
        a0 += v[m]
        a1 += v[m + 1]
        a2 += v[m + 2]
        a3 += v[m + 3]
        m += 4
    while m < n:
        a0 += v[m]
        m += 1
    return (a0 + a1) + (a2 + a3)


@njit(cache=True, error_model="numpy", inline="always")
def _open_max(hr, flags):
    """Largest depth of a row of cells not held by a level boundary (flag bit 1), 0 if none."""
    zero = np.float32(0.0)
    hmx = zero
    for m in range(hr.shape[0]):
        hmx = max(hmx, hr[m] if (flags[m] & 2) == 0 else zero)
    return hmx


@njit(cache=True, parallel=True, error_model="numpy")
def continuity(h, hlo, flags, inf_rate, drn_rate, dfmid, dfhigh, qxn, qyn, fac, qx, qy, initial_loss, rain_field,
               ga_k, ga_s, ga_f, max_depth, max_speed, max_hazard, arrival,
               ledger, rowmax, active, tr, tc, r0, r1, b0, b1,
               dt, dx, rain_rate, use_rain_field, green_ampt, t_end, arrival_depth, speed_depth,
               d_mid, d_high, v_high):
    """Continuity pass, fused with losses and the maximum/arrival trackers.

    ``h += dt/dx * (in - out) + rain * dt - losses`` with outgoing fluxes scaled by the
    donor cell's factor (``fac`` padded, see :func:`outflow_factor`); the scaled
    discharges are stored back in ``qx``, ``qy`` (the state of the next step). Losses:
    the remaining initial loss [m] first, then the constant infiltration rate
    ``inf_rate`` [m s-1], then the drainage capacity ``drn_rate`` [m s-1], each limited by
    the water present; with ``green_ampt`` the rate is the Green-Ampt capacity of
    :func:`_cell_depths_ga` (``ga_k``, ``ga_s``, ``ga_f``; 1 x 1 placeholders otherwise). Rain
    [m s-1] is ``rain_rate`` times ``rain_field`` when
    ``use_rain_field``, else ``rain_rate``, on every cell that is not a wall. ``flags``:
    bit 0 wall, bit 1 held by a level boundary. ``dfmid``, ``dfhigh``: the debris factors per cell.

    Per ``(row, block)``: ``ledger[i, b, L_*]`` volumes [m3] and ``rowmax[i, b]`` the
    largest depth [m] of the cells not held by a level boundary (0 when dry or inactive;
    a held cell's depth is reset every step, so it takes no part in the CFL condition:
    the time loop uses the depth over its open neighbours instead). Each block of a row
    goes through vectorised loops (:func:`_cell_fluxes`, :func:`_cell_depths`) and the
    trackers (:func:`_cell_trackers`); per-cell volumes are summed afterwards in column order.
    """
    ny, nx = h.shape
    k = dt / dx
    area = dx * dx
    rain_dt = rain_rate * dt
    ngrp = (r1 - r0 + ROWS_PER_TASK - 1) // ROWS_PER_TASK
    for grp in prange(ngrp):
        vols = np.empty((5, nx), np.float64)
        ones = np.ones(nx, np.float32)
        net = np.empty(nx, np.float64)
        su = np.empty(nx, np.float32)
        sv = np.empty(nx, np.float32)
        for i in range(r0 + grp * ROWS_PER_TASK, min(r0 + (grp + 1) * ROWS_PER_TASK, r1)):
            ti = i // tr
            for b in range(b0, b1):
                for m in range(ledger.shape[2]):
                    ledger[i, b, m] = 0.0
                rowmax[i, b] = 0.0
            b = b0
            while b < b1:
                if active[ti, b] == 0:
                    b += 1
                    continue
                # a span of consecutive active blocks goes through the vector loops in one call
                e = _span_end(active, ti, b, b1)
                j0 = b * tc
                j1 = min(e * tc, nx)
                n = j1 - j0
                _cell_fluxes(qxn[i, j0:j1 + 1], qyn[i, j0:j1], qyn[i + 1, j0:j1], fac[i + 1, j0:j1 + 2],
                             fac[i, j0 + 1:j1 + 1], fac[i + 2, j0 + 1:j1 + 1], qx[i, j0:j1], qy[i, j0:j1],
                             net[:n], su[:n], sv[:n], k)
                rrow = rain_field[i, j0:j1] if use_rain_field else ones[:n]
                if green_ampt:
                    _cell_depths_ga(h[i, j0:j1], hlo[i, j0:j1], initial_loss[i, j0:j1], net[:n], flags[i, j0:j1],
                                    ga_k[i, j0:j1], ga_s[i, j0:j1], ga_f[i, j0:j1], drn_rate[i, j0:j1], rrow,
                                    rain_dt, dt, vols[0, :n], vols[1, :n], vols[2, :n], vols[3, :n], vols[4, :n])
                else:
                    _cell_depths(h[i, j0:j1], hlo[i, j0:j1], initial_loss[i, j0:j1], net[:n], flags[i, j0:j1],
                                 inf_rate[i, j0:j1], drn_rate[i, j0:j1], rrow, rain_dt, dt,
                                 vols[0, :n], vols[1, :n], vols[2, :n], vols[3, :n], vols[4, :n])
                _cell_trackers(h[i, j0:j1], su[:n], sv[:n], dfmid[i, j0:j1], dfhigh[i, j0:j1], max_depth[i, j0:j1],
                               max_speed[i, j0:j1], max_hazard[i, j0:j1], arrival[i, j0:j1], t_end,
                               arrival_depth, speed_depth, d_mid, d_high, v_high)
                # per-block sums (the ledger is kept per (row, block) whatever the span)
                for bb in range(b, e):
                    c0 = bb * tc
                    c1 = min(c0 + tc, nx)
                    o0 = c0 - j0
                    o1 = c1 - j0
                    _block_ledger(i, bb, c0, c1, ny, nx, vols[:, o0:o1], h, flags, qxn, qyn, fac, qx, qy,
                                  ledger, rowmax, dt, dx, area)
                b = e


@njit(cache=True, inline="always")
def _span_end(active, ti, b, b1):
    """End (exclusive) of the run of consecutive active blocks of tile row ``ti`` that starts at ``b``.

    Passes compute such a run in one call of their vector loops: per-call costs (slices, loop
    set-up, alias checks) were ~0.7 us per block row, 10 ns per cell with blocks of 64 cells."""
    e = b + 1
    while e < b1 and active[ti, e] != 0:
        e += 1
    return e


@njit(cache=True, inline="always")
def _block_ledger(i, b, j0, j1, ny, nx, vols, h, flags, qxn, qyn, fac, qx, qy, ledger, rowmax, dt, dx, area):
    """Volumes and largest open depth of block ``b`` of row ``i`` (columns ``j0:j1``), and the scaled
    discharges of the grid-edge faces it owns."""
    n = j1 - j0
    v_rain = _sum4(vols[0], n)
    v_ini = _sum4(vols[1], n)
    v_inf = _sum4(vols[2], n)
    v_drn = _sum4(vols[3], n)
    v_clamp = _sum4(vols[4], n)
    hmx = np.float64(_open_max(h[i, j0:j1], flags[i, j0:j1]))
    # edge faces: their scaled discharges and the volumes through them
    v_bin = 0.0
    v_bout = 0.0
    if i == 0:
        for j in range(j0, j1):
            q = np.float64(qyn[0, j])
            v = (q if q > 0.0 else q * np.float64(fac[1, j + 1])) * dt * dx
            if v > 0.0:
                v_bin += v
            else:
                v_bout -= v
    if i == ny - 1:
        for j in range(j0, j1):
            q = np.float64(qyn[ny, j])
            qs = q * np.float64(fac[ny, j + 1]) if q > 0.0 else q
            qy[ny, j] = qs
            v = -qs * dt * dx
            if v > 0.0:
                v_bin += v
            else:
                v_bout -= v
    if j0 == 0:
        q = np.float64(qxn[i, 0])
        v = (q if q > 0.0 else q * np.float64(fac[i + 1, 1])) * dt * dx
        if v > 0.0:
            v_bin += v
        else:
            v_bout -= v
    if j1 == nx:
        q = np.float64(qxn[i, nx])
        qe = q * np.float64(fac[i + 1, nx]) if q > 0.0 else q
        qx[i, nx] = qe
        v = -qe * dt * dx
        if v > 0.0:
            v_bin += v
        else:
            v_bout -= v
    ledger[i, b, L_RAIN] = v_rain * area
    ledger[i, b, L_INFIL] = v_inf * area
    ledger[i, b, L_INITIAL] = v_ini * area
    ledger[i, b, L_DRAIN] = v_drn * area
    ledger[i, b, L_BND_IN] = v_bin
    ledger[i, b, L_BND_OUT] = v_bout
    ledger[i, b, L_CLAMP] = v_clamp * area
    rowmax[i, b] = hmx


@njit(cache=True)
def tile_activity(h, rowmax, tr, tc, always, act_prev, act):
    """Active tiles for the next step: tiles holding water or sources (``always``), and the edge
    neighbours of those whose cells along the shared edge hold water.

    ``rowmax[i, b]`` > 0 marks block ``b`` of row ``i`` as wet; ``h`` is the depth after this
    step's sources were added. A face carries no flux unless one of its two cells holds water
    (``h_f <= max(h_a, h_b)``), and water moves at most one cell per step: a tile that holds no
    water, has no source, and whose edge neighbours hold no water in the cells that touch it
    would compute exactly zero fluxes and no change, so skipping it changes no bit of the
    result. (The earlier rule, all 8 neighbours of a wet tile, computed ~1.7-2x more cells on the
    demo river and sea scenarios.) Returns the number of tiles that went from active to inactive
    (their faces must then be zeroed).
    """
    ny, nb = rowmax.shape
    nx = h.shape[1]
    nty, ntx = act.shape
    wet = np.zeros((nty, ntx), np.uint8)
    for ti in range(nty):
        for tj in range(ntx):
            wet[ti, tj] = always[ti, tj]
    for i in range(ny):
        ti = i // tr
        for b in range(nb):
            if rowmax[i, b] > 0.0:
                wet[ti, b] = 1
    for ti in range(nty):
        for tj in range(ntx):
            act[ti, tj] = wet[ti, tj]
    for ti in range(nty):
        i0 = ti * tr
        i1 = min(i0 + tr, ny)
        for tj in range(ntx):
            if wet[ti, tj] == 0:
                continue
            j0 = tj * tc
            j1 = min(j0 + tc, nx)
            if ti > 0 and act[ti - 1, tj] == 0:
                for j in range(j0, j1):
                    if h[i0, j] > 0.0:
                        act[ti - 1, tj] = 1
                        break
            if ti + 1 < nty and act[ti + 1, tj] == 0:
                for j in range(j0, j1):
                    if h[i1 - 1, j] > 0.0:
                        act[ti + 1, tj] = 1
                        break
            if tj > 0 and act[ti, tj - 1] == 0:
                for i in range(i0, i1):
                    if h[i, j0] > 0.0:
                        act[ti, tj - 1] = 1
                        break
            if tj + 1 < ntx and act[ti, tj + 1] == 0:
                for i in range(i0, i1):
                    if h[i, j1 - 1] > 0.0:
                        act[ti, tj + 1] = 1
                        break
    off = 0
    for ti in range(nty):
        for tj in range(ntx):
            if act_prev[ti, tj] != 0 and act[ti, tj] == 0:
                off += 1
    return off


@njit(cache=True)
def zero_faces(qx, qy, qxn, qyn, act_prev, act, tr, tc):
    """Zero the faces owned by tiles that have just gone inactive (they are dry with dry neighbours)."""
    ny = qx.shape[0]
    nx = qy.shape[1]
    nty, ntx = act.shape
    for ti in range(nty):
        for tj in range(ntx):
            if act_prev[ti, tj] != 0 and act[ti, tj] == 0:
                for i in range(ti * tr, min((ti + 1) * tr, ny)):
                    for j in range(tj * tc, min((tj + 1) * tc, nx)):
                        qx[i, j] = 0.0
                        qxn[i, j] = 0.0
                        qy[i, j] = 0.0
                        qyn[i, j] = 0.0
                        if j == nx - 1:
                            qx[i, nx] = 0.0
                            qxn[i, nx] = 0.0
                        if i == ny - 1:
                            qy[ny, j] = 0.0
                            qyn[ny, j] = 0.0


@njit(cache=True)
def _series_at(ts, vs, t, step):
    """Value of a time series at ``t``: zero outside ``[ts[0], ts[-1]]``; a step series is
    zero from its last time on (the last time ends it); a linear one interpolates."""
    n = ts.shape[0]
    if n == 0 or t < ts[0] or t > ts[n - 1]:
        return 0.0
    if step:
        if t >= ts[n - 1]:
            return 0.0
        k = np.searchsorted(ts, t, side="right") - 1
        return vs[k]
    k = np.searchsorted(ts, t, side="right") - 1
    if k >= n - 1:
        return vs[n - 1]
    w = (t - ts[k]) / (ts[k + 1] - ts[k])
    return vs[k] + w * (vs[k + 1] - vs[k])


# ledger terms accumulated by `advance` (order of simulation.flood.model.LEDGER_TERMS)
T_RAIN = 0
T_INFLOW = 1
T_BND_IN = 2
T_HELD = 3
T_CLAMP = 4
T_BND_OUT = 5
T_INFIL = 6
T_INITIAL = 7
T_DRAIN = 8
T_ROOF = 9
T_NTERMS = 10


@njit(cache=True)
def advance(st, bc, fo, ledger, t, t_stop, max_steps, hmax, *, dt_max, dt_fixed, alpha, dx, g, theta, h_min,
            froude_max, fallback, arrival_depth, speed_depth, d_mid, d_high, v_high, tr, tc, green_ampt):
    """Time steps from ``t`` until ``t_stop`` (or ``max_steps``): the whole loop in compiled code.

    ``st`` = (h, hlo, z, nman, flags, inf_rate, drn_rate, dfmid, dfhigh, qx, qy, qxn, qyn, fac, initial_loss, rain_field, max_depth,
    max_speed, max_hazard, arrival, ledger_rows, rowmax, act, act_prev, base_always,
    rain_tiles, tile_cells, ga_k, ga_s, ga_f); ``bc`` = (mode, value) arrays of the west, east, north and
    south edges; ``fo`` = forcing arrays (see :meth:`simulation.flood.model.FloodModel._pack`).
    Volumes are added to ``ledger[T_*]`` [m3].

    Returns ``(t, steps, hmax, cell_updates, status, info)``: status 0 = reached
    ``t_stop`` or ``max_steps``; 1 = unstable (``info`` = the depth reached); 2 = the
    fixed time step breaks the CFL condition (``info`` = the CFL limit).
    """
    (h, hlo, z, nman, flags, inf_rate, drn_rate, dfmid, dfhigh, qx, qy, qxn, qyn, fac, initial_loss, rain_field,
     max_depth, max_speed, max_hazard, arrival, ledger_rows, rowmax, act, act_prev, base_always, rain_tiles,
     tile_cells, ga_k, ga_s, ga_f) = st
    bcw_mode, bcw_val, bce_mode, bce_val, bcn_mode, bcn_val, bcs_mode, bcs_val = bc
    (bps, rain_t, rain_v, use_rain_field, ring_cells, ring_weight, roof_unrouted,
     inf_cells, inf_coff, inf_t, inf_v, inf_soff,
     held_cells, held_base, held_zb, held_coff, held_t, held_v, held_soff,
     el_edge, el_face, el_base, el_foff, el_t, el_v, el_soff) = fo
    ny, nx = h.shape
    nb = rowmax.shape[1]
    area = dx * dx
    hflat = h.reshape(-1)
    lflat = hlo.reshape(-1)
    zflat = z.reshape(-1)
    steps = 0
    cell_updates = 0.0
    n_inf = inf_coff.shape[0] - 1
    n_held = held_coff.shape[0] - 1
    n_el = el_foff.shape[0] - 1
    always = np.empty_like(base_always)
    while t < t_stop and steps < max_steps:
        # -- boundary depths at t, for the CFL condition
        hb = 0.0
        for k in range(n_el):
            lev = _series_at(el_t[el_soff[k]:el_soff[k + 1]], el_v[el_soff[k]:el_soff[k + 1]], t, False)
            e = el_edge[k]
            for m in range(el_foff[k], el_foff[k + 1]):
                f = el_face[m]
                if e == 0:
                    zc = z[f, 0]
                elif e == 1:
                    zc = z[f, nx - 1]
                elif e == 2:
                    zc = z[0, f]
                else:
                    zc = z[ny - 1, f]
                d = el_base[m] + lev - zc
                hb = max(hb, d)
        for k in range(n_held):
            lev = _series_at(held_t[held_soff[k]:held_soff[k + 1]], held_v[held_soff[k]:held_soff[k + 1]], t, False)
            for m in range(held_coff[k], held_coff[k + 1]):
                d = held_base[m] + lev - held_zb[m]
                hb = max(hb, d)
        hm = max(hmax, hb)
        dt_cfl = alpha * dx / math.sqrt(g * hm) if hm > 0.0 else dt_max
        if dt_fixed > 0.0:
            if dt_fixed > dt_cfl * (1.0 + 1e-9):
                return t, steps, hm, cell_updates, 2, dt_cfl
            dt = dt_fixed
        else:
            dt = min(dt_cfl, dt_max)
        kb = np.searchsorted(bps, t, side="right")
        t_next = bps[kb] if kb < bps.shape[0] else np.inf
        t_end = min(t + dt, t_stop, t_next)
        if t_end - t < 1e-9 * max(1.0, t):
            t_end = min(t_stop, t_next)
        dt = t_end - t
        tm = t + 0.5 * dt
        # -- sources at the start of the step: inflows, held cells, routed roof rain
        for k in range(n_inf):
            q = _series_at(inf_t[inf_soff[k]:inf_soff[k + 1]], inf_v[inf_soff[k]:inf_soff[k + 1]], tm, False)
            if q > 0.0:
                nc = inf_coff[k + 1] - inf_coff[k]
                dd = q * dt / (nc * area)
                for m in range(inf_coff[k], inf_coff[k + 1]):
                    _add_depth(hflat, lflat, inf_cells[m], dd)
                ledger[T_INFLOW] += q * dt
        for k in range(n_held):
            lev = _series_at(held_t[held_soff[k]:held_soff[k + 1]], held_v[held_soff[k]:held_soff[k + 1]], tm, False)
            vol = 0.0
            for m in range(held_coff[k], held_coff[k + 1]):
                c = held_cells[m]
                old = np.float64(hflat[c]) + np.float64(lflat[c])
                new = max(held_base[m] + lev - np.float64(zflat[c]), 0.0)
                h32 = np.float32(new)
                hflat[c] = h32
                lflat[c] = np.float32(new - np.float64(h32))
                vol += new - old
            ledger[T_HELD] += vol * area
        rate = _series_at(rain_t, rain_v, t, True)
        for a in range(always.shape[0]):
            for b in range(always.shape[1]):
                always[a, b] = base_always[a, b]
                if rate > 0.0 and rain_tiles[a, b] != 0:
                    always[a, b] = 1
        if rate > 0.0:
            vol = 0.0
            for m in range(ring_cells.shape[0]):
                dd = ring_weight[m] * rate * dt
                _add_depth(hflat, lflat, ring_cells[m], dd)
                vol += dd
            ledger[T_RAIN] += vol * area
            v = rate * roof_unrouted[0] * dt * area
            ledger[T_RAIN] += v
            ledger[T_ROOF] += v
        # -- ghost levels on edges, at mid-step
        for k in range(n_el):
            lev = _series_at(el_t[el_soff[k]:el_soff[k + 1]], el_v[el_soff[k]:el_soff[k + 1]], tm, False)
            e = el_edge[k]
            for m in range(el_foff[k], el_foff[k + 1]):
                f = el_face[m]
                val = np.float32(el_base[m] + lev)
                if e == 0:
                    bcw_val[f] = val
                elif e == 1:
                    bce_val[f] = val
                elif e == 2:
                    bcn_val[f] = val
                else:
                    bcs_val[f] = val
        # -- active tiles
        for a in range(act.shape[0]):
            for b in range(act.shape[1]):
                act_prev[a, b] = act[a, b]
        off = tile_activity(h, rowmax, tr, tc, always, act_prev, act)
        if off > 0:
            zero_faces(qx, qy, qxn, qyn, act_prev, act, tr, tc)
        n_active = 0.0
        for a in range(act.shape[0]):
            for b in range(act.shape[1]):
                if act[a, b] != 0:
                    n_active += tile_cells[a, b]
        # -- the three passes
        momentum(h, z, nman, qx, qy, qxn, qyn, bcw_mode, bcw_val, bce_mode, bce_val, bcn_mode, bcn_val,
                 bcs_mode, bcs_val, act, tr, tc, 0, ny, 0, nb,
                 dt=dt, dx=dx, g=g, theta=theta, h_min=h_min, froude_max=froude_max, fallback=fallback)
        outflow_factor(h, qxn, qyn, fac, act, tr, tc, 0, ny, 0, nb, dt=dt, dx=dx)
        continuity(h, hlo, flags, inf_rate, drn_rate, dfmid, dfhigh, qxn, qyn, fac, qx, qy, initial_loss, rain_field, ga_k, ga_s, ga_f, max_depth, max_speed,
                   max_hazard, arrival, ledger_rows, rowmax, act, tr, tc, 0, ny, 0, nb,
                   dt=dt, dx=dx, rain_rate=rate, use_rain_field=use_rain_field, green_ampt=green_ampt, t_end=t_end,
                   arrival_depth=arrival_depth, speed_depth=speed_depth, d_mid=d_mid, d_high=d_high,
                   v_high=v_high)
        # -- ordered reduction of the per-(row, block) sums
        hmax = 0.0
        for i in range(ny):
            for b in range(nb):
                hmax = max(hmax, rowmax[i, b])
                if act[i // tr, b] != 0:
                    ledger[T_RAIN] += ledger_rows[i, b, L_RAIN]
                    ledger[T_INFIL] += ledger_rows[i, b, L_INFIL]
                    ledger[T_INITIAL] += ledger_rows[i, b, L_INITIAL]
                    ledger[T_DRAIN] += ledger_rows[i, b, L_DRAIN]
                    ledger[T_BND_IN] += ledger_rows[i, b, L_BND_IN]
                    ledger[T_BND_OUT] += ledger_rows[i, b, L_BND_OUT]
                    ledger[T_CLAMP] += ledger_rows[i, b, L_CLAMP]
        steps += 1
        cell_updates += n_active
        t = t_end
        if not (hmax < 1e4):
            return t, steps, hmax, cell_updates, 1, hmax
    return t, steps, hmax, cell_updates, 0, 0.0


@njit(cache=True, inline="always")
def _add_depth(hflat, lflat, c, dd):
    """Add ``dd`` [m] to cell ``c`` of the compensated depth ``hflat + lflat``."""
    v = np.float64(hflat[c]) + np.float64(lflat[c]) + dd
    h32 = np.float32(v)
    hflat[c] = h32
    lflat[c] = np.float32(v - np.float64(h32))


@njit(cache=True, parallel=True)
def storage(h, hlo):
    """Per-row water volume [m x cells] (float64) of the compensated depth ``h + hlo``, summed in row order later."""
    ny, nx = h.shape
    out = np.zeros(ny, np.float64)
    for i in prange(ny):
        s = 0.0
        for j in range(nx):
            s += np.float64(h[i, j]) + np.float64(hlo[i, j])
        out[i] = s
    return out


# --------------------------------------------------------------------------------------
# static screening: priority-flood (Barnes et al. 2014), bathtub, fill-spill-merge
# --------------------------------------------------------------------------------------

@njit(cache=True)
def _heap_push(hk, hi, n, key, idx):
    """Push onto a binary min-heap stored in ``hk`` (keys) and ``hi`` (cell ids); ties by id (deterministic)."""
    k = n
    hk[k] = key
    hi[k] = idx
    while k > 0:
        p = (k - 1) >> 1
        if hk[p] > hk[k] or (hk[p] == hk[k] and hi[p] > hi[k]):
            tk = hk[p]
            hk[p] = hk[k]
            hk[k] = tk
            ti = hi[p]
            hi[p] = hi[k]
            hi[k] = ti
            k = p
        else:
            break
    return n + 1


@njit(cache=True)
def _heap_pop(hk, hi, n):
    """Pop the smallest (key, id); returns (key, id, new size)."""
    key = hk[0]
    idx = hi[0]
    n -= 1
    hk[0] = hk[n]
    hi[0] = hi[n]
    k = 0
    while True:
        l = 2 * k + 1
        r = l + 1
        s = k
        if l < n and (hk[l] < hk[s] or (hk[l] == hk[s] and hi[l] < hi[s])):
            s = l
        if r < n and (hk[r] < hk[s] or (hk[r] == hk[s] and hi[r] < hi[s])):
            s = r
        if s == k:
            break
        tk = hk[s]
        hk[s] = hk[k]
        hk[k] = tk
        ti = hi[s]
        hi[s] = hi[k]
        hi[k] = ti
        k = s
    return key, idx, n


@njit(cache=True)
def priority_flood(z, blocked, outlet):
    """Depression filling by Priority-Flood (Barnes et al. 2014, Algorithm 2: heap + pit queue).

    ``outlet`` cells seed the flood at their own elevation; every other reachable cell is
    raised to the lowest level at which water could leave through an outlet along a
    4-connected path. ``blocked`` cells (buildings) are neither filled nor crossed.
    Cells that cannot reach an outlet are returned as NaN. float64 output.
    """
    ny, nx = z.shape
    n = ny * nx
    out = np.full((ny, nx), np.nan)
    seen = np.zeros(n, np.uint8)
    hk = np.empty(n, np.float64)
    hi = np.empty(n, np.int64)
    pit = np.empty(n, np.int64)
    hs = 0
    for i in range(ny):
        for j in range(nx):
            if outlet[i, j] and not blocked[i, j]:
                c = i * nx + j
                seen[c] = 1
                out[i, j] = z[i, j]
                hs = _heap_push(hk, hi, hs, np.float64(z[i, j]), c)
    p0 = 0
    p1 = 0
    di = (-1, 1, 0, 0)
    dj = (0, 0, -1, 1)
    while hs > 0 or p1 > p0:
        if p1 > p0:
            c = pit[p0]
            p0 += 1
            if p0 == p1:
                p0 = 0
                p1 = 0
        else:
            _, c, hs = _heap_pop(hk, hi, hs)
        i = c // nx
        j = c - i * nx
        lev = out[i, j]
        for d in range(4):
            u = i + di[d]
            v = j + dj[d]
            if u < 0 or u >= ny or v < 0 or v >= nx:
                continue
            cn = u * nx + v
            if seen[cn] or blocked[u, v]:
                continue
            seen[cn] = 1
            zn = np.float64(z[u, v])
            if zn <= lev:
                out[u, v] = lev
                pit[p1] = cn
                p1 += 1
            else:
                out[u, v] = zn
                hs = _heap_push(hk, hi, hs, zn, cn)
    return out


@njit(cache=True)
def bathtub(z, blocked, seed, level):
    """Cells connected (4-neighbours) to a ``seed`` cell through cells whose ground is below ``level``.

    Returns the water depth ``level - z`` [m] on those cells, 0 elsewhere (float32).
    Seeds count only when their ground is below the level; ``blocked`` cells stop water.
    """
    ny, nx = z.shape
    out = np.zeros((ny, nx), np.float32)
    seen = np.zeros((ny, nx), np.uint8)
    stack = np.empty(ny * nx, np.int64)
    sp = 0
    for i in range(ny):
        for j in range(nx):
            if seed[i, j] and not blocked[i, j] and z[i, j] < level:
                seen[i, j] = 1
                stack[sp] = i * nx + j
                sp += 1
    di = (-1, 1, 0, 0)
    dj = (0, 0, -1, 1)
    while sp > 0:
        sp -= 1
        c = stack[sp]
        i = c // nx
        j = c - i * nx
        out[i, j] = level - z[i, j]
        for d in range(4):
            u = i + di[d]
            v = j + dj[d]
            if 0 <= u < ny and 0 <= v < nx and seen[u, v] == 0 and not blocked[u, v] and z[u, v] < level:
                seen[u, v] = 1
                stack[sp] = u * nx + v
                sp += 1
    return out


@njit(cache=True)
def bathtub_levels(z, blocked, seed_level):
    """Water levels spreading from seeds with their own levels (NaN = not a seed) [m].

    A cell is flooded at level L when a 4-connected path of cells with ground below L
    links it to a seed of level L; where several seeds reach a cell the highest level
    wins (cells are settled in decreasing level order, a max-heap). Returns the level of
    every flooded cell, NaN elsewhere (float64). With one level everywhere this is the
    classic bathtub; with a river's sloping surface + a rise, each reach floods to its
    own level.
    """
    ny, nx = z.shape
    n = ny * nx
    out = np.full((ny, nx), np.nan)
    done = np.zeros(n, np.uint8)
    hk = np.empty(n, np.float64)
    hi = np.empty(n, np.int64)
    hs = 0
    for i in range(ny):
        for j in range(nx):
            lv = seed_level[i, j]
            if not np.isnan(lv) and not blocked[i, j] and z[i, j] < lv:
                hs = _heap_push(hk, hi, hs, -lv, i * nx + j)
    di = (-1, 1, 0, 0)
    dj = (0, 0, -1, 1)
    while hs > 0:
        key, c, hs = _heap_pop(hk, hi, hs)
        if done[c]:
            continue
        done[c] = 1
        lv = -key
        i = c // nx
        j = c - i * nx
        out[i, j] = lv
        for d in range(4):
            u = i + di[d]
            v = j + dj[d]
            if 0 <= u < ny and 0 <= v < nx:
                cn = u * nx + v
                if done[cn] == 0 and not blocked[u, v] and z[u, v] < lv:
                    hs = _heap_push(hk, hi, hs, -lv, cn)
    return out


@njit(cache=True)
def _find(parent, a):
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


@njit(cache=True)
def depression_tree(z, blocked, outlet):
    """Depression hierarchy by a watershed-ordered priority flood (after Barnes et al. 2020).

    Every local minimum (and, as one "ocean" basin, every ``outlet`` cell) seeds a
    flood; cells are processed in order of their flooding level, so that when two
    basins first touch, the current level is the spill elevation between them and they
    merge into a parent node. Per node: ``spill`` (level of the merge into its parent),
    ``cap`` (volume below ``spill`` in its basins [m x cells]), ``parent``, ``entry``
    (the leaf where its overflow lands in its sibling), ``ocean`` (contains an outlet).

    Returns ``(label, nleaves, parent, sibling, spill, cap, entry, ocean)``: ``label``
    is the leaf basin of every cell (-1 for blocked cells); nodes ``0..nleaves-1`` are
    leaves, later ones merges (a parent always has a larger id than its children); a
    root has ``parent == -1``.
    """
    ny, nx = z.shape
    n = ny * nx
    label = np.full(n, -1, np.int64)
    level = np.empty(n, np.float64)
    done = np.zeros(n, np.uint8)
    hk = np.empty(n, np.float64)
    hi = np.empty(n, np.int64)
    hs = 0
    di = (-1, 1, 0, 0)
    dj = (0, 0, -1, 1)
    # leaves: one "ocean" (id 0) if any outlet, then every local minimum cell
    maxnodes = 2 * n + 2
    parent = np.full(maxnodes, -1, np.int64)
    sib = np.full(maxnodes, -1, np.int64)
    spill = np.full(maxnodes, np.inf)
    cap = np.full(maxnodes, np.inf)
    entry = np.full(maxnodes, -1, np.int64)
    ocean = np.zeros(maxnodes, np.uint8)
    count = np.zeros(maxnodes, np.float64)
    sumz = np.zeros(maxnodes, np.float64)
    uf = np.arange(maxnodes)  # union-find over nodes -> representative node
    top = np.arange(maxnodes)  # representative -> current top node of its component
    nnodes = 0
    has_ocean = False
    for i in range(ny):
        for j in range(nx):
            if outlet[i, j] and not blocked[i, j]:
                has_ocean = True
    if has_ocean:
        ocean[0] = 1
        nnodes = 1
    for i in range(ny):
        for j in range(nx):
            if blocked[i, j]:
                continue
            c = i * nx + j
            if outlet[i, j]:
                label[c] = 0
                level[c] = z[i, j]
                hs = _heap_push(hk, hi, hs, np.float64(z[i, j]), c)
                continue
            zc = z[i, j]
            is_min = True
            for d in range(4):
                u = i + di[d]
                v = j + dj[d]
                if 0 <= u < ny and 0 <= v < nx and not blocked[u, v] and z[u, v] < zc:
                    is_min = False
                    break
            if is_min:
                label[c] = nnodes
                nnodes += 1
                level[c] = zc
                hs = _heap_push(hk, hi, hs, np.float64(zc), c)
    nleaves = nnodes
    while hs > 0:
        lev, c, hs = _heap_pop(hk, hi, hs)
        if done[c]:
            continue
        done[c] = 1
        i = c // nx
        j = c - i * nx
        rc = _find(uf, label[c])
        count[rc] += 1.0
        sumz[rc] += np.float64(z[i, j])
        for d in range(4):
            u = i + di[d]
            v = j + dj[d]
            if u < 0 or u >= ny or v < 0 or v >= nx or blocked[u, v]:
                continue
            cn = u * nx + v
            if label[cn] < 0:
                label[cn] = label[c]
                lv = max(np.float64(z[u, v]), lev)
                level[cn] = lv
                hs = _heap_push(hk, hi, hs, lv, cn)
            elif done[cn]:
                ra = _find(uf, label[c])
                rb = _find(uf, label[cn])
                if ra != rb:
                    # merge the two components at the current level
                    na = top[ra]
                    nb_ = top[rb]
                    m = nnodes
                    nnodes += 1
                    parent[na] = m
                    parent[nb_] = m
                    sib[na] = nb_
                    sib[nb_] = na
                    spill[na] = lev
                    spill[nb_] = lev
                    cap[na] = np.inf if ocean[na] else count[ra] * lev - sumz[ra]
                    cap[nb_] = np.inf if ocean[nb_] else count[rb] * lev - sumz[rb]
                    # overflow of a lands in the leaf of the cell across the saddle
                    entry[na] = label[cn]
                    entry[nb_] = label[c]
                    ocean[m] = ocean[na] | ocean[nb_]
                    uf[rb] = ra
                    count[ra] += count[rb]
                    sumz[ra] += sumz[rb]
                    top[ra] = m
    return (label.reshape(ny, nx), nleaves, parent[:nnodes].copy(), sib[:nnodes].copy(), spill[:nnodes].copy(),
            cap[:nnodes].copy(), entry[:nnodes].copy(), ocean[:nnodes].copy())


@njit(cache=True)
def pour(parent, sibling, cap, entry, ocean, water, leaf_water):
    """Distribute water over the depression tree (fill-spill-merge).

    ``leaf_water[k]`` [m x cells] enters leaf ``k``. A node that is full overflows into
    its sibling through the saddle (landing in leaf ``entry``) unless the sibling is
    full too, in which case the two form one lake in their parent. Ocean nodes absorb
    everything. Fills ``water[node]`` (the water held in each node's basins) and returns
    the volume lost to the ocean.
    """
    nn = parent.shape[0]
    lost = 0.0
    for leaf in range(leaf_water.shape[0]):
        v = leaf_water[leaf]
        node = leaf
        guard = 0
        while v > 0.0:
            guard += 1
            if guard > 4 * nn + 16:
                break
            if ocean[node]:
                lost += v
                # book it on the path to the root so that totals stay consistent
                a = node
                while a >= 0:
                    water[a] += v
                    a = parent[a]
                v = 0.0
                break
            room = cap[node] - water[node]
            if room > 0.0:
                take = min(room, v)
                a = node
                while a >= 0:
                    water[a] += take
                    a = parent[a]
                v -= take
                if v <= 0.0:
                    break
            p = parent[node]
            if p < 0:
                # a root that is not an ocean: cap is infinite, so this is unreachable
                break
            sib = sibling[node]
            if ocean[sib] or water[sib] < cap[sib]:
                node = entry[node]
            else:
                node = p
    return lost


@njit(cache=True)
def lake_levels(z, label, nleaves, parent, spill, cap, ocean, water):
    """Water-surface level of every cell after :func:`pour` (NaN where no lake stands).

    A node is *full* when it holds its capacity (its surface is at its spill level); a
    *lake* is a node that is not full but holds water, whose children are both full
    (or a leaf): its level ``L`` solves ``sum over its cells with z < L of (L - z) =
    water``. A cell takes the level of its topmost full-or-lake ancestor.
    """
    ny, nx = z.shape
    nn = parent.shape[0]
    full = np.zeros(nn, np.uint8)
    for k in range(nn):
        if not ocean[k] and water[k] >= cap[k] - 1e-9 * max(cap[k], 1.0):
            full[k] = 1
    nfull_children = np.zeros(nn, np.int64)
    for k in range(nn):
        p = parent[k]
        if p >= 0 and full[k]:
            nfull_children[p] += 1
    owner = np.full(nn, -1, np.int64)
    for k in range(nn - 1, -1, -1):
        p = parent[k]
        if p >= 0 and owner[p] >= 0:
            owner[k] = owner[p]
            continue
        if ocean[k] or water[k] <= 0.0:
            continue
        if full[k] or k < nleaves or nfull_children[k] == 2:
            owner[k] = k
    # group the cells of lakes that are not full, then solve their levels
    lev = np.full(nn, np.nan)
    for k in range(nn):
        if owner[k] == k and full[k]:
            lev[k] = spill[k]
    ncell = np.zeros(nn + 1, np.int64)
    for i in range(ny):
        for j in range(nx):
            lb = label[i, j]
            if lb >= 0:
                o = owner[lb]
                if o >= 0 and not full[o]:
                    ncell[o + 1] += 1
    for k in range(nn):
        ncell[k + 1] += ncell[k]
    fillp = ncell[:-1].copy()
    zs = np.empty(ncell[nn], np.float64)
    for i in range(ny):
        for j in range(nx):
            lb = label[i, j]
            if lb >= 0:
                o = owner[lb]
                if o >= 0 and not full[o]:
                    zs[fillp[o]] = z[i, j]
                    fillp[o] += 1
    for k in range(nn):
        if owner[k] != k or full[k]:
            continue
        seg = np.sort(zs[ncell[k]:ncell[k + 1]])
        w = water[k]
        s = 0.0
        L = seg[0] if seg.shape[0] > 0 else np.nan
        for m in range(seg.shape[0]):
            s += seg[m]
            nxt = seg[m + 1] if m + 1 < seg.shape[0] else np.inf
            # with the m+1 lowest cells under water the level is (w + s) / (m+1)
            cand = (w + s) / (m + 1)
            if cand <= nxt:
                L = cand
                break
        lev[k] = L
    out = np.full((ny, nx), np.nan)
    for i in range(ny):
        for j in range(nx):
            lb = label[i, j]
            if lb >= 0:
                o = owner[lb]
                if o >= 0 and lev[o] > z[i, j]:
                    out[i, j] = lev[o]
    return out
