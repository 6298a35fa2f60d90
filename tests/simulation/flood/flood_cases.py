"""Helpers of the flood tests: small synthetic twins built from arrays."""

from __future__ import annotations

import numpy as np

from twin import Grid, Twin
from twin.layers import Landcover


def make_twin(z, *, cell_size=1.0, building_id=None, landcover=None, water_level=None, x0=0.0, y0=0.0) -> Twin:
    """A twin on a grid whose south-west corner is (x0, y0), with terrain ``z`` (row 0 = north)."""
    z = np.asarray(z, dtype=np.float32)
    ny, nx = z.shape
    grid = Grid(xmin=x0, ymax=y0 + ny * cell_size, nrows=ny, ncols=nx, cell_size=cell_size)
    tw = Twin.empty(grid, terrain=z)
    if building_id is not None:
        tw.set_layer("building_id", np.asarray(building_id, np.int32))
        lc = np.where(np.asarray(building_id) > 0, int(Landcover.BUILDING), 0).astype(np.uint8)
        tw.set_layer("landcover", lc)
    if landcover is not None:
        tw.set_layer("landcover", np.asarray(landcover, np.uint8))
    if water_level is not None:
        tw.set_layer("water_level", np.asarray(water_level, np.float32))
    return tw


#: Infiltration table without any loss, for validation cases that test the hydraulics alone.
NO_LOSSES = {c: (0.0, 0.0) for c in Landcover}


def uniform_n(n: float) -> dict:
    """A Manning table with the same n for every class."""
    return {c: n for c in Landcover}


def radial_reference(times, discharge, *, n, r_max, dr, t_out, r0, g=9.80665, h_min=1e-3, alpha=0.7):
    """Depth h(r, t) of the axisymmetric local inertial problem fed with ``discharge`` at the centre.

    A 1-D finite-volume solve on annuli (continuity with the ring areas, Bates et al. 2010
    momentum with the same Manning law), the reference of EA test 4: an inflow of Q on a
    wall equals a full-plane source of 2 Q. Returns (ring centres [m], depths [len(t_out), N]).
    """
    rf = r0 + np.arange(int(round((r_max - r0) / dr)) + 1) * dr
    area = np.pi * (rf[1:] ** 2 - rf[:-1] ** 2)
    h = np.zeros(rf.size - 1)
    q = np.zeros(rf.size)
    t = 0.0
    out = []
    for t_next in t_out:
        while t < t_next - 1e-9:
            dt = min(alpha * dr / np.sqrt(g * max(h.max(), 1e-3)), 5.0, t_next - t)
            hf = np.maximum(h[:-1], h[1:])
            slope = (h[1:] - h[:-1]) / dr
            wet = hf > h_min
            hs = np.where(wet, hf, 1.0)
            qi = (q[1:-1] - g * hs * dt * slope) / (1 + g * dt * n * n * np.abs(q[1:-1]) / hs ** (7 / 3))
            q[1:-1] = np.where(wet, qi, 0.0)
            flux = 2 * np.pi * rf * q * dt  # volume through each ring face
            v = h * area + flux[:-1] - flux[1:]
            v[0] += 2 * np.interp(t + 0.5 * dt, times, discharge) * dt
            h = v / area
            t += dt
        out.append(h.copy())
    return 0.5 * (rf[1:] + rf[:-1]), np.array(out)
