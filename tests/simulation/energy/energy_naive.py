"""A naive pure-Python ISO 13790 5R1C, written straight from Annex C, to check the numba kernel.

It follows the standard's procedure literally: for each hour, the node temperatures with no
heating (C.4-C.11), again with 10 W/m2, the linear interpolation of the need (C.13), the limit to
the capacity, and the final temperatures with the actual power. Same inputs as the kernel.
"""

from __future__ import annotations

import math

import numpy as np


def _temperatures(r, *, phi_hc, phi_int, phi_sol, te, tem, h_ve, tm_prev, dt=3600.0):
    h1 = 1.0 / (1.0 / h_ve + 1.0 / r["h_tr_is"])                      # C.6
    h2 = h1 + r["h_tr_w"]                                              # C.7
    h3 = 1.0 / (1.0 / h2 + 1.0 / r["h_tr_ms"])                          # C.8
    phi_ia = 0.5 * phi_int + phi_hc                                    # C.1 (heating to the air node)
    phi_m = r["f_m"] * (0.5 * phi_int + phi_sol)                       # C.2
    phi_st = r["f_st"] * (0.5 * phi_int + phi_sol)                     # C.3
    theta_sup = te
    phi_mtot = (phi_m + r["h_tr_em"] * tem
                + h3 * (phi_st + r["h_tr_w"] * te + h1 * (phi_ia / h_ve + theta_sup)) / h2)   # C.5
    cm = r["c_m"] / dt
    tmt = (tm_prev * (cm - 0.5 * (h3 + r["h_tr_em"])) + phi_mtot) / (cm + 0.5 * (h3 + r["h_tr_em"]))  # C.4
    tm = 0.5 * (tmt + tm_prev)                                          # C.9
    ts = (r["h_tr_ms"] * tm + phi_st + r["h_tr_w"] * te + h1 * (theta_sup + phi_ia / h_ve)) / (
        r["h_tr_ms"] + r["h_tr_w"] + h1)                               # C.10
    ta = (r["h_tr_is"] * ts + h_ve * theta_sup + phi_ia) / (r["h_tr_is"] + h_ve)   # C.11
    return ta, ts, tm, tmt


def naive_5r1c(rec, hours, beam, diffuse, apertures, windows, shade, sky, shade_roof, sky_roof, occupancy, comfort, *,
               warmup=0, overheat_threshold=28.0, window_open_above=25.0, blinds_above=24.0, blinds_irradiance=300.0):
    """Returns monthly needs (n_b, 12, 2) [Wh], peaks (n_b, 2) [W], overheated hours (n_b,) and hourly Phi (n_b, n_t)."""
    n_b = len(rec)
    n_t = len(hours)
    monthly = np.zeros((n_b, 12, 2))
    peak = np.zeros((n_b, 2))
    overheat = np.zeros(n_b)
    phis = np.zeros((n_b, n_t))
    for b in range(n_b):
        r = {name: float(rec[name][b]) for name in rec.dtype.names}
        if not r["active"]:
            continue
        tm_prev = r["theta_m0"]
        ta_prev = r["th_on"]
        for step in range(-warmup, n_t):
            t = step if step >= 0 else step + warmup
            h = hours[t]
            te = float(h["theta_e"])
            tem = te + r["w_g"] * (float(h["theta_g"]) - te)
            month = int(h["month"])
            occ = float(occupancy[int(r["profile"]), t])
            com = int(comfort[int(r["profile"]), t])
            if (int(r["closed"]) >> month) & 1:
                occ, com = 0.0, 0
            phi_int = r["gains"] * occ
            d = int(h["sun"])
            phi_sol = -r["phi_sky"]
            blinds = r["blind_cut"] > 0 and ta_prev > blinds_above
            for k in range(apertures.shape[1]):
                sb = float(shade[b, d, k]) if d >= 0 else 0.0
                a = apertures[b, k]
                if blinds and beam[t, k] + diffuse[t, k] > blinds_irradiance:
                    a = a - r["blind_cut"] * windows[b, k]    # ISO 13790 11.4.3: F_sh,with on the windows
                phi_sol += a * (beam[t, k] * sb + diffuse[t, k] * float(sky[b, k]))
            sr = float(shade_roof[b, d]) if d >= 0 else 0.0
            phi_sol += r["ap_roof"] * (float(h["beam_roof"]) * sr + float(h["diff_roof"]) * float(sky_roof[b]))
            h_ve = r["h_inf"] + (r["h_mech"] if (r["vent_cont"] == 1 or occ > 0) else 0.0)
            if r["h_win"] > 0 and occ > 0 and not math.isfinite(r["tc"]) and ta_prev > window_open_above and te < ta_prev:
                h_ve += r["h_win"]                                                  # windows opened
            kw = dict(phi_int=phi_int, phi_sol=phi_sol, te=te, tem=tem, h_ve=h_ve, tm_prev=tm_prev)
            ta0 = _temperatures(r, phi_hc=0.0, **kw)[0]                           # step 1
            th = r["th_on"] if com else r["th_off"]
            tc = r["tc"] if com else math.inf
            if th <= ta0 <= tc:
                phi = 0.0
            else:
                setpoint = th if ta0 < th else tc
                phi10 = 10.0 * r["floor_area"]                                     # step 2
                ta10 = _temperatures(r, phi_hc=phi10, **kw)[0]
                phi = phi10 * (setpoint - ta0) / (ta10 - ta0)                       # C.13
                phi = min(max(phi, -r["phi_c_max"]), r["phi_h_max"])                # steps 3-4
            ta, ts, _, tmt = _temperatures(r, phi_hc=phi, **kw)
            if step >= 0:
                if phi > 0:
                    monthly[b, month, 0] += phi
                    peak[b, 0] = max(peak[b, 0], phi)
                elif phi < 0:
                    monthly[b, month, 1] -= phi
                    peak[b, 1] = max(peak[b, 1], -phi)
                if occ > 0 and 0.3 * ta + 0.7 * ts > overheat_threshold:
                    overheat[b] += 1
                phis[b, t] = phi
            tm_prev = tmt
            ta_prev = ta
    return monthly, peak, overheat, phis
