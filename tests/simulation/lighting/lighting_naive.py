"""Naive reference implementations for the lighting kernels (pure Python, slow, obvious).

* intensity from :meth:`Photometry.intensity_at` (exact bilinear C-gamma), the direction
  turned into the luminaire frame with scipy's rotations (not the kernels' matrices);
* visibility by dense sampling of each segment (not the kernels' voxel traversal);
* one luminaire-point pair at a time, in float64.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial.transform import Rotation


def local_angles(d, orientation, tilt):
    """(C, gamma) [degree] of a world vector d (east, north, up) for a luminaire's orientation and tilt.

    ``orientation`` is the azimuth of the arm, where the C90 plane (street side) points.
    """
    c90 = math.radians(orientation)
    # untilted frame: y = C90 (the arm), x = C0, 90 deg clockwise from it seen from above, z up
    ey = np.array([math.sin(c90), math.cos(c90), 0.0])
    ex = np.array([math.sin(c90 + math.pi / 2), math.cos(c90 + math.pi / 2), 0.0])
    v = np.array([d @ ex, d @ ey, d[2]])
    v = Rotation.from_euler("x", tilt, degrees=True).inv().apply(v)
    r = np.linalg.norm(v)
    gamma = math.degrees(math.acos(max(-1.0, min(1.0, -v[2] / r))))
    c = math.degrees(math.atan2(v[1], v[0])) % 360.0
    return c, gamma


def transmittance(p, q, grid, hard, crown_base, crown_top, *, extinction, eps, n=None, skip_near=0.0, test_hard=True):
    """Sampled transmittance of the segment p (receiver) -> q (luminaire), world coordinates [m].

    ``n`` samples (default 20 per metre of horizontal length, at least 400) at their midpoints:
    blocked where the segment, lifted by ``eps``, passes below ``hard`` (the receiver's and the
    luminaire's cells excepted); attenuated by ``exp(-k L)`` over the sampled length inside crowns.
    """
    p = np.asarray(p, float)
    q = np.asarray(q, float)
    cs = grid.cell_size
    hl = float(np.hypot(*(q[:2] - p[:2])))
    if n is None:
        n = max(400, int(20 * hl / cs))
    t = (np.arange(n) + 0.5) / n
    pts = p[None, :] + t[:, None] * (q - p)[None, :]
    i = np.floor((grid.ymax - pts[:, 1]) / cs).astype(int)
    j = np.floor((pts[:, 0] - grid.xmin) / cs).astype(int)
    own_q = (int(math.floor((grid.ymax - q[1]) / cs)), int(math.floor((q[0] - grid.xmin) / cs)))
    own_p = (int(math.floor((grid.ymax - p[1]) / cs)), int(math.floor((p[0] - grid.xmin) / cs)))
    ok = (i >= 0) & (i < grid.nrows) & (j >= 0) & (j < grid.ncols)
    ok &= ~((i == own_q[0]) & (j == own_q[1]))
    ok &= t * hl >= skip_near * cs
    i, j, z = i[ok], j[ok], pts[ok, 2]
    if test_hard:
        not_own = ~((i == own_p[0]) & (j == own_p[1]))
        if np.any(z[not_own] + eps < hard[i[not_own], j[not_own]]):
            return 0.0
    inside = (crown_base[i, j] < z) & (z < crown_top[i, j])
    return math.exp(-extinction * inside.sum() * np.linalg.norm(q - p) / n)


def illuminance_at(point, normal, luminaires, photometries, grid, hard, crown_base, crown_top, *, mf, cutoff,
                   extinction, eps=0.05, occlusion=True, skip_near=0.0):
    """Maintained illuminance [lx] at a point on a plane of unit normal, summed over luminaires."""
    total = 0.0
    p = np.asarray(point, float)
    for lum, phot in zip(luminaires, photometries):
        q = np.array([lum["x"], lum["y"], lum["z"]])
        if np.hypot(p[0] - q[0], p[1] - q[1]) > cutoff:
            continue
        d = p - q
        r = np.linalg.norm(d)
        cosn = -(d @ normal)
        if cosn <= 0:
            continue
        c, g = local_angles(d, lum["orientation"], lum["tilt"])
        e = mf * lum["flux"] / 1000.0 * float(phot.intensity_at(c, g)) * cosn / r**3
        if occlusion:
            e *= transmittance(p, q, grid, hard, crown_base, crown_top, extinction=extinction, eps=eps,
                               skip_near=skip_near)
        total += e
    return total
