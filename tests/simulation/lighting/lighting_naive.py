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


def transmittance(p, q, grid, hard, crown_base, crown_top, *, extinction, eps, n=600, skip_near=0.0, test_hard=True):
    """Sampled transmittance of the segment p (receiver) -> q (luminaire), world coordinates [m].

    Blocked where the segment, lifted by ``eps``, passes below ``hard``; attenuated by crowns.
    """
    p = np.asarray(p, float)
    q = np.asarray(q, float)
    cs = grid.cell_size
    lum_cell = (int(math.floor((grid.ymax - q[1]) / cs)), int(math.floor((q[0] - grid.xmin) / cs)))
    seg = np.linalg.norm(q - p) / n
    hl = np.hypot(*(q[:2] - p[:2]))
    inside = 0.0
    for k in range(n):
        t = (k + 0.5) / n
        x, y, z = p + t * (q - p)
        i = int(math.floor((grid.ymax - y) / cs))
        j = int(math.floor((x - grid.xmin) / cs))
        if not (0 <= i < grid.nrows and 0 <= j < grid.ncols) or (i, j) == lum_cell:
            continue
        if t * hl < skip_near * cs:
            continue
        if test_hard and z + eps < hard[i, j]:
            return 0.0
        if crown_base[i, j] < z < crown_top[i, j]:
            inside += seg
    return math.exp(-extinction * inside)


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
