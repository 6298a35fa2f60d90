"""Numba kernels of the heat model (private: use simulation.heat).

Arrays are float32 rasters; temperatures inside the kernels are in kelvin unless
named ``*_c``. Physical quantities are keyword-only.
"""

from __future__ import annotations

import math

import numba
import numpy as np

# Stefan-Boltzmann constant [W m-2 K-4] is passed in (scipy.constants.sigma) rather than read as a global.


@numba.njit(cache=True, parallel=True)
def ground_step(sunlit, svf_b, svf_v, albedo, emis, lc, ts, td, e_lw, e_sw, heat_capacity, restore, evap,
                *, dni, dhi, sin_alt, ta, l_sky, dt, h_conv, wall_lw_mean, wall_sw_mean, sigma):
    """One hour of surface temperature ``ts`` [K] for every cell, and what the surface sends up.

    Surface energy balance with force-restore storage (Deardorff 1978), exactly integrated
    over ``dt`` for a longwave loss linearised at the air temperature::

        C dTs/dt = (1 - evap+) Q*(Ta) - (h + 4 e sigma Ta^3)(Ts - Ta) - lambda (Ts - Td)

    ``Q*(Ta) = (1 - albedo) K_down + e (L_down - sigma Ta^4)``, the evaporated share
    ``evap`` applied to a positive net radiation only, ``Td`` the deep (daily mean)
    temperature of the cell; ``K_down = I sin(alt) s + D svf_veg + (1 - svf_veg) K_walls``,
    ``L_down = svf_veg L_sky + (1 - svf) L_walls + (svf - svf_veg) sigma Ta^4``.
    Writes the upward exitances ``e_lw = e sigma Ts^4 + (1 - e) L_down`` and
    ``e_sw = albedo K_down`` [W m-2].

    Per cell: sunlit [1], svf_b, svf_v [1], albedo, emis [1], lc (indexes the per-class
    tables ``heat_capacity`` [J m-2 K-1], ``restore`` [W m-2 K-1], ``evap`` [1]), ts
    (in/out) and td [K]. Scalars: dni, dhi, l_sky [W m-2]; ta [K]; dt [s]; h_conv
    [W m-2 K-1]; wall_lw_mean, wall_sw_mean: mean exitances of the walls [W m-2].
    Memory: no temporaries; 9 float32 + 1 uint8 per cell read, 3 written.
    """
    nrows, ncols = ts.shape
    l_veg = sigma * ta ** 4
    lin = 4.0 * sigma * ta ** 3
    for r in numba.prange(nrows):
        for c in range(ncols):
            sb = svf_b[r, c]
            if not math.isfinite(sb):
                e_lw[r, c] = np.nan
                e_sw[r, c] = np.nan
                continue
            sv = svf_v[r, c]
            alb = albedo[r, c]
            e = emis[r, c]
            k_down = dni * sin_alt * sunlit[r, c] + dhi * sv + (1.0 - sv) * wall_sw_mean
            l_down = sv * l_sky + (1.0 - sb) * wall_lw_mean + (sb - sv) * l_veg
            q = (1.0 - alb) * k_down + e * (l_down - l_veg)
            cls = lc[r, c]
            if q > 0.0:
                q *= 1.0 - evap[cls]
            lam = restore[cls]
            b = h_conv + e * lin
            t_eq = (q + b * ta + lam * td[r, c]) / (b + lam)
            tau = heat_capacity[cls] / (b + lam)
            t_new = t_eq + (ts[r, c] - t_eq) * math.exp(-dt / tau)
            ts[r, c] = t_new
            e_lw[r, c] = e * sigma * t_new ** 4 + (1.0 - e) * l_down
            e_sw[r, c] = alb * k_down


@numba.njit(cache=True, parallel=True)
def tmrt_step(sunlit, svf_b, svf_v, fv, is_building, up_lw, up_sw, tmrt,
              *, dni, dhi, sin_alt, cos_alt, sun_az, ta, l_sky, wall_lw, wall_sw, ak, al, f_up, f_side, sigma):
    """Mean radiant temperature [degC] of a standing person in every open cell, for one hour.

    Six directions (SOLWEIG, Lindberg et al. 2008, doi:10.1007/s00484-008-0162-7)::

        S = ak sum_i F_i K_i + al sum_i F_i L_i,  Tmrt = (S / (al sigma))^0.25 - 273.15

    F = ``f_up`` for up and down, ``f_side`` for each of N, E, S, W. From above:
    ``K_down``, ``L_down`` as in :func:`ground_step`; from below: ``up_sw``, ``up_lw``, the
    exitances of the ground the person sees [W m-2]; sideways (facing ``k``): direct
    ``I cos(alt) max(0, cos(az - facing)) s``, sky and walls in proportion to the vertical
    sky view ``F_k`` (half a hemisphere), the ground for the other half.

    Per cell: sunlit, svf_b, svf_v [1], fv (4, ...) vertical sky views N E S W [1],
    is_building (uint8: NaN there), up_lw, up_sw [W m-2]; tmrt (out). Scalars: wall_lw,
    wall_sw (4,) exitances of the walls seen towards N, E, S, W [W m-2].
    Memory: no temporaries; 10 float32 + 1 uint8 per cell read, 1 written.
    """
    nrows, ncols = tmrt.shape
    lw_wall_mean = 0.25 * (wall_lw[0] + wall_lw[1] + wall_lw[2] + wall_lw[3])
    sw_wall_mean = 0.25 * (wall_sw[0] + wall_sw[1] + wall_sw[2] + wall_sw[3])
    l_veg = sigma * ta ** 4
    dir_cos = np.empty(4)
    for k in range(4):
        dir_cos[k] = max(0.0, math.cos(sun_az - 0.5 * math.pi * k))
    for r in numba.prange(nrows):
        for c in range(ncols):
            sb = svf_b[r, c]
            if is_building[r, c] or not math.isfinite(sb):
                tmrt[r, c] = np.nan
                continue
            sv = svf_v[r, c]
            sf = sunlit[r, c]
            k_down = dni * sin_alt * sf + dhi * sv + (1.0 - sv) * sw_wall_mean
            l_down = sv * l_sky + (1.0 - sb) * lw_wall_mean + (sb - sv) * l_veg
            k_up = up_sw[r, c]
            l_up = up_lw[r, c]
            vshare = (sb - sv) / (1.0 - sv) if sv < 1.0 else 0.0
            k_side = 0.0
            l_side = 0.0
            for k in range(4):
                f = fv[k, r, c]
                k_side += dni * cos_alt * dir_cos[k] * sf + 0.5 * (dhi * f + (1.0 - f) * wall_sw[k]) + 0.5 * k_up
                l_obst = (1.0 - vshare) * wall_lw[k] + vshare * l_veg
                l_side += 0.5 * (f * l_sky + (1.0 - f) * l_obst) + 0.5 * l_up
            s = ak * (f_up * (k_down + k_up) + f_side * k_side) + al * (f_up * (l_down + l_up) + f_side * l_side)
            tmrt[r, c] = (s / (al * sigma)) ** 0.25 - 273.15


@numba.njit(cache=True, parallel=True)
def utci_from_dtmrt(tmrt, b, out, *, ta_c):
    """UTCI [degC] of every cell for one hour where Ta, wind and humidity are uniform.

    The 6th-order polynomial collapses to one in ``D = Tmrt - Ta`` with coefficients
    ``b`` (7,), evaluated by Horner: ``UTCI = Ta + sum_k b_k D^k``. Cells with
    ``D`` outside -30..70 K get NaN (outside the polynomial's validity).
    Returns the number of such cells. Memory: none beyond ``out``.
    """
    nrows, ncols = tmrt.shape
    bad = np.zeros(nrows, np.int64)
    for r in numba.prange(nrows):
        nb = 0
        for c in range(ncols):
            t = tmrt[r, c]
            if not math.isfinite(t):
                out[r, c] = np.nan
                continue
            d = t - ta_c
            if d < -30.0 or d > 70.0:
                out[r, c] = np.nan
                nb += 1
                continue
            acc = b[6]
            for k in range(5, -1, -1):
                acc = acc * d + b[k]
            out[r, c] = ta_c + acc
        bad[r] = nb
    return bad.sum()


@numba.njit(cache=True, parallel=True)
def utci_full(ta, va, dtmrt, pa, exps, coefs, out):
    """UTCI offset polynomial for 1-D arrays of Ta [degC], va [m s-1], D_Tmrt [K], Pa [kPa].

    ``out = Ta + sum_t coefs[t] Ta^e0 va^e1 D^e2 Pa^e3``. Memory: 28 float64 per chunk.
    """
    n = ta.shape[0]
    nchunk = (n + 1023) // 1024
    nterm = coefs.shape[0]
    for ch in numba.prange(nchunk):
        pw = np.empty((4, 7))
        for i in range(ch * 1024, min(n, (ch + 1) * 1024)):
            x = (ta[i], va[i], dtmrt[i], pa[i])
            for v in range(4):
                pw[v, 0] = 1.0
                for p in range(1, 7):
                    pw[v, p] = pw[v, p - 1] * x[v]
            acc = 0.0
            for t in range(nterm):
                acc += coefs[t] * pw[0, exps[t, 0]] * pw[1, exps[t, 1]] * pw[2, exps[t, 2]] * pw[3, exps[t, 3]]
            out[i] = ta[i] + acc
