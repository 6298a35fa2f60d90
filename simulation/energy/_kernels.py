"""Numba kernels of the energy model: the ISO 13790 hourly 5R1C network, vectorised over buildings.

Private: called by :mod:`simulation.energy.model`, which validates the inputs and attaches units.
The recurrence is per building and independent across buildings: ``prange`` runs over chunks of
buildings (each chunk writes its own rows of the outputs and its own row of the hourly district
totals, so parallel writes never overlap) and the hourly recurrence runs inside.

All energy-balance arithmetic is float64.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: Per-building record read by the kernel (one 8-byte-aligned struct per building, ~230 bytes).
BUILDING_DTYPE = np.dtype([
    ("h_inf", "f8"),        # W/K  infiltration (always on)
    ("h_mech", "f8"),       # W/K  mechanical/hygienic ventilation (after heat recovery) when on
    ("h_tr_w", "f8"),       # W/K  windows (surface node <-> outside)
    ("h_tr_em", "f8"),      # W/K  opaque elements (mass node <-> outside/ground)
    ("h_tr_is", "f8"),      # W/K  air <-> surface node, 3.45 * A_t
    ("h_tr_ms", "f8"),      # W/K  surface node <-> mass, 9.1 * A_m
    ("c_m", "f8"),          # J/K  internal heat capacity
    ("f_m", "f8"),          # 1    share of radiant gains to the mass node, A_m / A_t
    ("f_st", "f8"),         # 1    share to the surface node, 1 - A_m/A_t - H_tr_w/(9.1 A_t)
    ("gains", "f8"),        # W    internal gains at full occupancy
    ("th_on", "f8"),        # degC heating set-point when comfort is on
    ("th_off", "f8"),       # degC heating setback
    ("tc", "f8"),           # degC cooling set-point (inf: no cooling)
    ("phi_h_max", "f8"),    # W    heating capacity (inf: unlimited)
    ("phi_c_max", "f8"),    # W    cooling capacity, positive (inf: unlimited)
    ("w_g", "f8"),          # 1    share of H_tr_em coupled to the ground temperature
    ("ap_roof", "f8"),      # m2   solar aperture of the roof (opaque)
    ("phi_sky", "f8"),      # W    thermal radiation to the sky (ISO 13790 11.3.5), always subtracted
    ("theta_m0", "f8"),     # degC initial mass temperature
    ("floor_area", "f8"),   # m2   conditioned floor area (the 10 W/m2 trial)
    ("profile", "i4"),      # row of the schedules
    ("closed", "i4"),       # bit m-1 set: month m closed (no occupancy, setback)
    ("vent_cont", "i4"),    # 1: ventilation always on; 0: on when occupied
    ("active", "i4"),       # 0: skip (unconditioned or invalid geometry)
    ("h_win", "f8"),        # W/K  extra air change through windows opened against overheating
    ("blind_cut", "f8"),    # 1    share of the window solar gains removed by closed blinds or shutters
], align=True)

#: Per-hour record shared by all buildings.
HOUR_DTYPE = np.dtype([
    ("theta_e", "f8"),      # degC outdoor air (and supply air)
    ("theta_g", "f8"),      # degC ground
    ("beam_roof", "f8"),    # W/m2 beam (+ circumsolar) irradiance on the horizontal
    ("diff_roof", "f8"),    # W/m2 diffuse irradiance on the horizontal
    ("sun", "i4"),          # sky-direction index of the sun (-1: below the horizon)
    ("month", "i4"),        # 0..11
    ("lit", "i4"),          # 1 when any facade bin receives irradiance (set by the wrapper from the arrays)
], align=True)

#: Columns of the optional hourly trace (tests and diagnostics).
TRACE_COLUMNS = ("theta_air", "theta_s", "theta_m", "theta_m_t", "theta_m_prev", "phi_hc", "phi_int", "phi_sol",
                 "h_ve", "theta_e", "theta_em")


@njit(cache=True, error_model="numpy")
def _network(h_ve, h_tr_w, h_tr_em, h_tr_is, h_tr_ms, c_m, dt):
    """Constants of ISO 13790 C.4-C.11 for one ventilation state, with divisions done once.

    Returns the coefficients of::

        phi_mtot = phi_m + H_em theta_em + c_st (phi_st + H_w theta_e) + c_ia phi_ia + c_e theta_e      (C.5)
        theta_m,t = theta_m,t-1 r_prev + phi_mtot r_tot                                             (C.4)
        theta_s = (H_ms theta_m + phi_st + (H_w + H_1) theta_e + k_ia phi_ia) / S                   (C.10)
        theta_air = (H_is theta_s + H_ve theta_e + phi_ia) / (H_is + H_ve)                          (C.11)

    with H_1 = 1/(1/H_ve + 1/H_is), H_2 = H_1 + H_w, H_3 = 1/(1/H_2 + 1/H_ms) (C.6-C.8), and the
    sensitivities (dmt, dm, ds, da) of theta_m,t, theta_m, theta_s, theta_air to 1 W in the air node.
    """
    h1 = 1.0 / (1.0 / h_ve + 1.0 / h_tr_is)
    h2 = h1 + h_tr_w
    h3 = 1.0 / (1.0 / h2 + 1.0 / h_tr_ms)
    cdt = c_m / dt
    d_plus = cdt + 0.5 * (h3 + h_tr_em)
    d_minus = cdt - 0.5 * (h3 + h_tr_em)
    s = h_tr_ms + h_tr_w + h1
    c_st = h3 / h2
    c_ia = h3 * h1 / (h2 * h_ve)
    c_e = h3 * h1 / h2
    r_prev = d_minus / d_plus
    r_tot = 1.0 / d_plus
    inv_s = 1.0 / s
    k_ia = h1 / h_ve
    inv_air = 1.0 / (h_tr_is + h_ve)
    dmt = c_ia * r_tot
    dm = 0.5 * dmt
    ds = (h_tr_ms * dm + k_ia) * inv_s
    da = (h_tr_is * ds + 1.0) * inv_air
    return (c_st, c_ia, c_e, r_prev, r_tot, h1, inv_s, k_ia, inv_air, dmt, dm, ds, da, 1.0 / da)


@njit(parallel=True, cache=True, error_model="numpy")
def simulate_5r1c(bp, hours, beam, diffuse, apertures, windows, shade, sky, shade_roof, sky_roof, occupancy, comfort,
                  *, dt, warmup, overheat_threshold, window_open_above, blinds_above, blinds_irradiance, chunk_size,
                  out_monthly, out_peak, out_overheat, out_hourly, out_mean_air, trace):
    """Hourly ISO 13790 5R1C simulation of many buildings.

    Parameters (arrays)
    -------------------
    bp : (n_b,) BUILDING_DTYPE records.
    hours : (n_t,) HOUR_DTYPE records.
    beam, diffuse : (n_t, K) irradiance on the K vertical orientation bins [W m-2]; beam includes the
        circumsolar part (shaded like the beam), diffuse the isotropic sky and ground-reflected parts.
    apertures : (n_b, K) solar apertures of windows and opaque walls per bin [m2].
    windows : (n_b, K) the windows' part of ``apertures`` [m2] (what blinds reduce).
    shade : (n_b, n_dir, K) float32 sunlit fraction of each facade bin per sky direction (1 unshaded).
    sky : (n_b, K) float32 diffuse reduction factor per bin (1 unobstructed).
    shade_roof : (n_b, n_dir) float32; sky_roof : (n_b,) float32.
    occupancy : (n_profiles, n_t) float32 fraction of the peak internal gains.
    comfort : (n_profiles, n_t) uint8, 1 when the heating set-point (and cooling) applies.

    Keyword arguments
    -----------------
    dt : time step [s] (3600).
    warmup : number of leading hours replayed before the recorded run (<= n_t).
    overheat_threshold : operative temperature above which an occupied hour counts as overheated [degC].
    window_open_above : occupants open windows (``h_win`` more air change) in an occupied hour when the air
        was above this temperature the hour before and the outdoor air is cooler, and the building is
        not cooled [degC].
    blinds_above, blinds_irradiance : blinds or shutters cut ``blind_cut`` of a bin's window gains when
        the air was above ``blinds_above`` [degC] the hour before and the irradiance on the bin exceeds
        ``blinds_irradiance`` [W m-2] (ISO 13790 11.4.3, 300 W m-2).
    chunk_size : buildings per parallel chunk (row ``c`` of ``out_hourly`` belongs to chunk ``c``).
    out_monthly : (n_b, 12, 2) heating, cooling need [Wh].
    out_peak : (n_b, 2) peak heating, cooling power [W].
    out_overheat : (n_b,) overheated occupied hours.
    out_hourly : (n_chunks, n_t, 2) heating, cooling power summed over each chunk's buildings [W].
    out_mean_air : (n_b,) mean air temperature [degC].
    trace : (n_trace, n_t, len(TRACE_COLUMNS)) node temperatures and flows of the first n_trace buildings.

    Memory: reads ~250 bytes per building plus 8 * K * (1 + n_dir) bytes of shading; writes 220 bytes
    per building and 16 bytes per chunk-hour.
    """
    n_b = bp.shape[0]
    n_t = hours.shape[0]
    n_k = apertures.shape[1]
    n_chunks = (n_b + chunk_size - 1) // chunk_size
    n_trace = trace.shape[0]
    for c in prange(n_chunks):
        b_end = min(n_b, (c + 1) * chunk_size)
        for b in range(c * chunk_size, b_end):
            r = bp[b]
            if r["active"] == 0:
                continue
            h_inf = r["h_inf"]
            h_mech = r["h_mech"]
            h_win = r["h_win"]
            net_on = _network(h_inf + h_mech, r["h_tr_w"], r["h_tr_em"], r["h_tr_is"], r["h_tr_ms"], r["c_m"], dt)
            net_off = _network(h_inf, r["h_tr_w"], r["h_tr_em"], r["h_tr_is"], r["h_tr_ms"], r["c_m"], dt)
            net_on_w = _network(h_inf + h_mech + h_win, r["h_tr_w"], r["h_tr_em"], r["h_tr_is"], r["h_tr_ms"],
                                r["c_m"], dt)
            net_off_w = _network(h_inf + h_win, r["h_tr_w"], r["h_tr_em"], r["h_tr_is"], r["h_tr_ms"], r["c_m"], dt)
            tm_prev = r["theta_m0"]
            ta_prev = r["th_on"]
            cooled = r["tc"] < 1e30
            cut = r["blind_cut"]
            p = r["profile"]
            sum_air = 0.0
            # the building's constants, out of the hourly loop
            ap_l = np.empty(n_k)
            win_l = np.empty(n_k)
            sky_l = np.empty(n_k)
            for k in range(n_k):
                ap_l[k] = apertures[b, k]
                win_l[k] = windows[b, k]
                sky_l[k] = sky[b, k]
            acc = np.zeros((12, 2))
            peak_h = 0.0
            peak_c = 0.0
            n_hot = 0.0
            for step in range(-warmup, n_t):
                t = step if step >= 0 else step + warmup
                hr = hours[t]
                te = hr["theta_e"]
                tem = te + r["w_g"] * (hr["theta_g"] - te)
                occ = occupancy[p, t]
                com = comfort[p, t]
                if (r["closed"] >> hr["month"]) & 1:
                    occ = 0.0
                    com = 0
                phi_int = r["gains"] * occ
                # solar gains through windows and opaque elements, shaded by neighbours and trees, and by
                # the occupants' blinds when the room is warm and the sun strong
                d = hr["sun"]
                blinds = cut > 0.0 and ta_prev > blinds_above
                phi_sol = -r["phi_sky"]
                # hours with no irradiance on any facade (nights) skip the bins
                for k in range(n_k if hr["lit"] else 0):
                    a = ap_l[k]
                    if a > 0.0:
                        bk = beam[t, k]
                        dk = diffuse[t, k]
                        g = dk * sky_l[k]
                        if d >= 0:
                            g += bk * shade[b, d, k]
                        if blinds and bk + dk > blinds_irradiance:
                            a -= cut * win_l[k]
                        phi_sol += a * g
                if r["ap_roof"] > 0.0:
                    sr = shade_roof[b, d] if d >= 0 else 0.0
                    phi_sol += r["ap_roof"] * (hr["beam_roof"] * sr + hr["diff_roof"] * sky_roof[b])
                vent = r["vent_cont"] == 1 or occ > 0.0
                open_w = h_win > 0.0 and occ > 0.0 and not cooled and ta_prev > window_open_above and te < ta_prev
                h_ve = h_inf + (h_mech if vent else 0.0) + (h_win if open_w else 0.0)
                if vent:
                    net = net_on_w if open_w else net_on
                else:
                    net = net_off_w if open_w else net_off
                c_st, c_ia, c_e, r_prev, r_tot, h1, inv_s, k_ia, inv_air, dmt, dm, ds, da, inv_da = net
                # ISO 13790 C.1-C.3: gains split between the air, surface and mass nodes
                phi_ia = 0.5 * phi_int
                rad = 0.5 * phi_int + phi_sol
                phi_m = r["f_m"] * rad
                phi_st = r["f_st"] * rad
                # step 1: free-floating temperatures (Phi_HC = 0), C.4-C.11
                phi_mtot = phi_m + r["h_tr_em"] * tem + c_st * (phi_st + r["h_tr_w"] * te) + c_ia * phi_ia + c_e * te
                tmt0 = tm_prev * r_prev + phi_mtot * r_tot
                tm0 = 0.5 * (tmt0 + tm_prev)
                ts0 = (r["h_tr_ms"] * tm0 + phi_st + (r["h_tr_w"] + h1) * te + k_ia * phi_ia) * inv_s
                ta0 = (r["h_tr_is"] * ts0 + h_ve * te + phi_ia) * inv_air
                # steps 2-4 (C.4.2): the 10 W/m2 trial gives theta_air_10 - theta_air_0 = 10 A_f da (the
                # network is linear), so the interpolation Phi = 10 A_f (theta_set - theta_air_0) /
                # (theta_air_10 - theta_air_0) is (theta_set - theta_air_0) / da
                th = r["th_on"] if com else r["th_off"]
                phi = 0.0
                if ta0 < th:
                    phi = (th - ta0) * inv_da
                    phi = min(phi, r["phi_h_max"])
                elif com and ta0 > r["tc"]:
                    phi = (r["tc"] - ta0) * inv_da
                    phi = max(phi, -r["phi_c_max"])
                tmt = tmt0 + phi * dmt
                tm = tm0 + phi * dm
                ts = ts0 + phi * ds
                ta = ta0 + phi * da
                if step >= 0:
                    m = hr["month"]
                    if phi > 0.0:
                        acc[m, 0] += phi
                        out_hourly[c, t, 0] += phi
                        peak_h = max(peak_h, phi)
                    elif phi < 0.0:
                        acc[m, 1] -= phi
                        out_hourly[c, t, 1] -= phi
                        peak_c = max(peak_c, -phi)
                    if occ > 0.0 and 0.3 * ta + 0.7 * ts > overheat_threshold:
                        n_hot += 1.0
                    sum_air += ta
                    if b < n_trace:
                        tr = trace[b, t]
                        tr[0] = ta
                        tr[1] = ts
                        tr[2] = tm
                        tr[3] = tmt
                        tr[4] = tm_prev
                        tr[5] = phi
                        tr[6] = phi_int
                        tr[7] = phi_sol
                        tr[8] = h_ve
                        tr[9] = te
                        tr[10] = tem
                tm_prev = tmt
                ta_prev = ta
            out_mean_air[b] = sum_air / max(n_t, 1)
            for m in range(12):
                out_monthly[b, m, 0] = acc[m, 0] * dt / 3600.0
                out_monthly[b, m, 1] = acc[m, 1] * dt / 3600.0
            out_peak[b, 0] = peak_h
            out_peak[b, 1] = peak_c
            out_overheat[b] = n_hot
    return 0


@njit(cache=True, error_model="numpy")
def accumulate_shading(vals, dirs, building, k0, k1, w0, w1, *, out, weight):
    """Add point visibilities into per-building, per-direction, per-bin sums.

    ``out[building[p], dirs[i], k0[p]] += w0[p] * vals[i, p]`` (and the same for ``k1``/``w1``), and
    ``weight[building[p], k] += w`` once per point. ``vals`` is ``(n_dirs, n_points)`` float32,
    ``out`` ``(n_b, n_dir, K)`` float32, ``weight`` ``(n_b, K)`` float64. Sequential: points of one
    building may fall in any order, so the sums are not split across threads.
    """
    n_dirs, n_pts = vals.shape
    for p in range(n_pts):
        b = building[p]
        a0 = k0[p]
        a1 = k1[p]
        weight[b, a0] += w0[p]
        weight[b, a1] += w1[p]
        for i in range(n_dirs):
            v = vals[i, p]
            if v != 0.0:
                d = dirs[i]
                out[b, d, a0] += w0[p] * v
                out[b, d, a1] += w1[p] * v
    return 0
