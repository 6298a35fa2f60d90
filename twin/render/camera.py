"""Camera presets: overview (oblique bird's-eye), street (pedestrian eye level), top (orthographic map).

All positions are in local coordinates (metres from ``twin.local_origin``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twin.errors import TwinValueError

__all__ = ["CameraSpec", "VIEWS", "overview_camera", "top_camera", "street_camera", "EYE_HEIGHT"]

#: Eye height of the street view above the ground [m].
EYE_HEIGHT = 1.7


@dataclass(frozen=True)
class CameraSpec:
    position: tuple[float, float, float]
    focal_point: tuple[float, float, float]
    view_up: tuple[float, float, float] = (0.0, 0.0, 1.0)
    view_angle: float = 30.0
    parallel: bool = False
    parallel_scale: float = 1.0
    clipping: tuple[float, float] | None = None
    approx_scale: bool = True


def _unit(v):
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


def overview_camera(bounds, aspect: float, *, azimuth: float = 196.0, elevation: float = 40.0,
                    view_angle: float = 24.0, margin: float = 0.97) -> CameraSpec:
    """An oblique bird's-eye view of a box, seen from ``azimuth`` (where the camera stands, clockwise from
    north) and ``elevation`` above the horizon, fitted so that the whole box fills the picture.

    The fit is exact for the box's eight corners: the camera distance is the smallest
    for which every corner lies in the view frustum, after centring the projected box.
    """
    xmin, xmax, ymin, ymax, zmin, zmax = (float(b) for b in bounds)
    corners = np.array([[x, y, z] for x in (xmin, xmax) for y in (ymin, ymax) for z in (zmin, zmax)])
    centre = corners.mean(axis=0)
    az, el = math.radians(azimuth), math.radians(elevation)
    back = np.array([math.sin(az) * math.cos(el), math.cos(az) * math.cos(el), math.sin(el)])  # towards camera
    f = -back
    r = _unit(np.cross(f, [0.0, 0.0, 1.0]))
    u = np.cross(r, f)
    tv = math.tan(math.radians(view_angle) / 2) * margin
    th = tv * aspect
    focal = centre.copy()
    dist = 1.0
    for _ in range(6):
        q = corners - focal
        qf, qr, qu = q @ f, q @ r, q @ u
        dist = float(max(np.max(np.abs(qr) / th - qf), np.max(np.abs(qu) / tv - qf), 1.0))
        depth = qf + dist
        sx, sy = qr / depth / th, qu / depth / tv  # normalised screen coordinates in [-1, 1]
        dx = (sx.max() + sx.min()) / 2
        dy = (sy.max() + sy.min()) / 2
        if abs(dx) < 1e-3 and abs(dy) < 1e-3:
            break
        # move the focal point so that the projected box is centred
        d_mean = float(np.mean(depth))
        focal = focal + r * dx * th * d_mean + u * dy * tv * d_mean
    pos = focal - f * dist
    return CameraSpec(tuple(pos), tuple(focal), tuple(u), view_angle, clipping=(max(1.0, dist * 0.05), dist * 4))


def top_camera(bounds, aspect: float, *, margin: float = 1.02) -> CameraSpec:
    """An orthographic view from above, north up, fitted to the box."""
    xmin, xmax, ymin, ymax, zmin, zmax = (float(b) for b in bounds)
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    half_h = max((ymax - ymin) / 2, (xmax - xmin) / 2 / aspect) * margin
    z = zmax + 10 * max(xmax - xmin, ymax - ymin)
    return CameraSpec((cx, cy, z), (cx, cy, (zmin + zmax) / 2), (0.0, 1.0, 0.0), 30.0, parallel=True,
                      parallel_scale=half_h, clipping=(1.0, z - zmin + 100.0), approx_scale=False)


def street_camera(at_xyz, look_xyz, *, view_angle: float = 62.0) -> CameraSpec:
    """A pedestrian view from ``at_xyz`` (eye) towards ``look_xyz``, kept level (the horizon horizontal)."""
    at = np.asarray(at_xyz, float)
    look = np.asarray(look_xyz, float)
    d = look - at
    if np.hypot(d[0], d[1]) < 1e-6:
        raise TwinValueError("street view: 'look' must differ from 'at' horizontally")
    look = at + np.array([d[0], d[1], 0.0]) / np.hypot(d[0], d[1]) * 50.0 + np.array([0, 0, -2.0])
    return CameraSpec(tuple(at), tuple(look), (0.0, 0.0, 1.0), view_angle, clipping=(0.3, 4000.0))


VIEWS = ("overview", "street", "top")
