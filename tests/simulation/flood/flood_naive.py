"""Naive numpy references of the flood kernels, written from the equations, not from the kernels.

Whole-array float64 expressions, no tiles, no loops over cells: slow but obviously
right, so that each compiled kernel can be checked against them on small inputs.
"""

from __future__ import annotations

import numpy as np

G = 9.80665


def face_update(q0, q_up, q_down, q_perp, eta_a, eta_b, z_a, z_b, n_f, *, dt, dx, g, theta, h_min, froude_max):
    """de Almeida et al. (2012) face discharge, positive from a to b (arrays)."""
    hf = np.maximum(eta_a, eta_b) - np.maximum(z_a, z_b)
    wet = hf > h_min
    hs = np.where(wet, hf, 1.0)
    slope = (eta_b - eta_a) / dx
    qmag = np.sqrt(q0 ** 2 + q_perp ** 2)
    den = 1.0 + g * dt * n_f ** 2 * qmag / hs ** (7.0 / 3.0)
    qc = (theta * q0 + 0.5 * (1 - theta) * (q_up + q_down) - g * hs * dt * slope) / den
    qb = (q0 - g * hs * dt * slope) / den
    q = np.where(qc * slope > 0, qb, qc)
    if froude_max > 0:
        qmax = froude_max * hs * np.sqrt(g * hs)
        q = np.clip(q, -qmax, qmax)
    return np.where(wet, q, 0.0)


def momentum_ref(h, z, n, wall, qx, qy, bc, *, dt, dx, g=G, theta=0.8, h_min=1e-3, froude_max=1.0):
    """New (qx, qy). ``bc`` = {edge: (mode array, value array)}; mode 0 closed, 1 level, 2 free (slope)."""
    h = h.astype(np.float64)
    z = z.astype(np.float64)
    qx = qx.astype(np.float64)
    qy = qy.astype(np.float64)
    ny, nx = h.shape
    eta = z + h
    kw = dict(dt=dt, dx=dx, g=g, theta=theta, h_min=h_min, froude_max=froude_max)
    qxn = np.zeros_like(qx)
    qyn = np.zeros_like(qy)
    # interior x faces
    qp = 0.25 * (qy[:-1, :-1] + qy[:-1, 1:] + qy[1:, :-1] + qy[1:, 1:])
    q = face_update(qx[:, 1:-1], qx[:, :-2], qx[:, 2:], qp, eta[:, :-1], eta[:, 1:], z[:, :-1], z[:, 1:],
                    0.5 * (n[:, :-1] + n[:, 1:]), **kw)
    qxn[:, 1:-1] = np.where(wall[:, :-1] | wall[:, 1:], 0.0, q)
    # interior y faces
    qp = 0.25 * (qx[:-1, :-1] + qx[:-1, 1:] + qx[1:, :-1] + qx[1:, 1:])
    q = face_update(qy[1:-1, :], qy[:-2, :], qy[2:, :], qp, eta[:-1, :], eta[1:, :], z[:-1, :], z[1:, :],
                    0.5 * (n[:-1, :] + n[1:, :]), **kw)
    qyn[1:-1, :] = np.where(wall[:-1, :] | wall[1:, :], 0.0, q)

    # boundary faces: a ghost cell at the edge cell's ground (level) or s*dx lower (free)
    def edge(q0, q_in, qp, eta_c, z_c, n_c, mode, val, inward):
        """inward=True: positive q enters the domain (west/north)."""
        ghost_eta = np.where(mode == 1, val, eta_c - val * dx)
        ghost_z = np.where(mode == 1, z_c, z_c - val * dx)
        if inward:
            q = face_update(q0, q0, q_in, qp, ghost_eta, eta_c, ghost_z, z_c, n_c, **kw)
            q = np.where((mode == 2) & (q > 0), 0.0, q)
        else:
            q = face_update(q0, q_in, q0, qp, eta_c, ghost_eta, z_c, ghost_z, n_c, **kw)
            q = np.where((mode == 2) & (q < 0), 0.0, q)
        return q

    m, v = bc["west"]
    q = edge(qx[:, 0], qx[:, 1], 0.5 * (qy[:-1, 0] + qy[1:, 0]), eta[:, 0], z[:, 0], n[:, 0], m, v, True)
    qxn[:, 0] = np.where((m == 0) | wall[:, 0], 0.0, q)
    m, v = bc["east"]
    q = edge(qx[:, -1], qx[:, -2], 0.5 * (qy[:-1, -1] + qy[1:, -1]), eta[:, -1], z[:, -1], n[:, -1], m, v, False)
    qxn[:, -1] = np.where((m == 0) | wall[:, -1], 0.0, q)
    m, v = bc["north"]
    q = edge(qy[0, :], qy[1, :], 0.5 * (qx[0, :-1] + qx[0, 1:]), eta[0, :], z[0, :], n[0, :], m, v, True)
    qyn[0, :] = np.where((m == 0) | wall[0, :], 0.0, q)
    m, v = bc["south"]
    q = edge(qy[-1, :], qy[-2, :], 0.5 * (qx[-1, :-1] + qx[-1, 1:]), eta[-1, :], z[-1, :], n[-1, :], m, v, False)
    qyn[-1, :] = np.where((m == 0) | wall[-1, :], 0.0, q)
    return qxn, qyn


def outflow_factor_ref(h, qxn, qyn, *, dt, dx):
    out = (np.maximum(qxn[:, 1:], 0) + np.maximum(-qxn[:, :-1], 0)
           + np.maximum(qyn[1:, :], 0) + np.maximum(-qyn[:-1, :], 0)) * dt / dx
    h = h.astype(np.float64)
    return np.where(out > h, h / np.where(out > 0, out, 1.0), 1.0)


def continuity_ref(h, wall, qxn, qyn, fac, initial_loss, infil, drain, df_mid, df_high, max_depth, max_speed,
                   max_hazard, arrival, *, dt, dx, rain, t_end, arrival_depth=0.1, speed_depth=0.01,
                   d_mid=0.25, d_high=0.75, v_high=2.0):
    """One continuity update; returns (h, qx_eff, qy_eff, initial_loss, trackers..., volumes dict)."""
    qxn = qxn.astype(np.float64)
    qyn = qyn.astype(np.float64)
    fac = fac.astype(np.float64)
    ny, nx = h.shape
    one_col = np.ones((ny, 1))
    one_row = np.ones((1, nx))
    fx_west = np.hstack([one_col, fac])  # donor factor when q > 0 (the west cell; ghost = 1)
    fx_east = np.hstack([fac, one_col])  # donor factor when q <= 0 (the east cell)
    qxe = np.where(qxn > 0, qxn * fx_west, qxn * fx_east)
    fy_north = np.vstack([one_row, fac])
    fy_south = np.vstack([fac, one_row])
    qye = np.where(qyn > 0, qyn * fy_north, qyn * fy_south)
    k = dt / dx
    area = dx * dx
    hn = h.astype(np.float64) + (qxe[:, :-1] - qxe[:, 1:] + qye[:-1, :] - qye[1:, :]) * k
    r = np.where(wall, 0.0, rain * dt)
    hn = hn + r
    vol = {"rain": r.sum() * area}
    bin_ = np.concatenate([qxe[:, 0], -qxe[:, -1], qye[0, :], -qye[-1, :]]) * dt * dx
    vol["boundary_in"] = bin_[bin_ > 0].sum()
    vol["boundary_out"] = -bin_[bin_ < 0].sum()
    pos = hn > 0
    il = initial_loss.astype(np.float64)
    take = np.where(pos, np.minimum(il, np.maximum(hn, 0)), 0.0)
    il_new = il - take
    hn = hn - take
    vol["initial_loss"] = take.sum() * area
    t_inf = np.where(pos, np.minimum(infil * dt, np.maximum(hn, 0)), 0.0)
    hn = hn - t_inf
    vol["infiltration"] = t_inf.sum() * area
    t_drn = np.where(pos, np.minimum(drain * dt, np.maximum(hn, 0)), 0.0)
    hn = hn - t_drn
    vol["drainage"] = t_drn.sum() * area
    vol["clamp"] = np.where(hn < 0, -hn, 0.0).sum() * area
    hn = np.maximum(hn, 0.0)
    h32 = hn.astype(np.float32)
    hd = h32.astype(np.float64)
    md = np.where(hd > 0, np.maximum(max_depth, h32), max_depth)
    ar = np.where((hd > arrival_depth) & np.isnan(arrival), t_end, arrival)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = 0.5 * (qxe[:, :-1] + qxe[:, 1:]) / hd
        v = 0.5 * (qye[:-1, :] + qye[1:, :]) / hd
        spd = np.where((hd > 0) & (hd >= speed_depth), np.sqrt(u * u + v * v), 0.0)
    ms = np.where(spd > max_speed, spd, max_speed)
    df = np.where((hd > d_high) | (spd > v_high), df_high, np.where(hd > d_mid, df_mid, 0.0))
    hr = np.where(hd > 0, hd * (spd + 0.5) + df, 0.0)
    mh = np.maximum(max_hazard, hr)
    return h32, qxe, qye, il_new, md, ms, mh, ar, vol


def fill_ref(z, outlet, blocked):
    """Depression filling by iteration to the fixed point F = max(z, min over neighbours of F)."""
    F = np.where(outlet & ~blocked, z, np.inf)
    while True:
        P = np.pad(F, 1, constant_values=np.inf)
        nmin = np.minimum.reduce([P[:-2, 1:-1], P[2:, 1:-1], P[1:-1, :-2], P[1:-1, 2:]])
        G_ = np.where(blocked, np.inf, np.minimum(F, np.maximum(z, nmin)))
        if np.array_equal(G_, F):
            return np.where(np.isinf(G_), np.nan, G_)
        F = G_
