"""Small geometric helpers: point-in-polygons tests without unions, points along a line with their normal."""

from __future__ import annotations

import numpy as np
import shapely
from shapely import STRtree


class PointMask:
    """Which points fall in (or within ``distance`` of) any of a set of polygons.

    An STRtree query rather than a union of the polygons: unions of hundreds of
    touching footprints are what would make the town slow to build.
    """

    def __init__(self, geoms, distance: float = 0.0):
        g = [x for x in geoms if x is not None and not x.is_empty]
        self.tree = STRtree(np.asarray(g, dtype=object)) if g else None
        self.distance = float(distance)

    def __call__(self, xy) -> np.ndarray:
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        out = np.zeros(len(xy), dtype=bool)
        if self.tree is None or not len(xy):
            return out
        pts = shapely.points(xy)
        if self.distance > 0:
            hit = self.tree.query(pts, predicate="dwithin", distance=self.distance)
        else:
            hit = self.tree.query(pts, predicate="intersects")
        out[hit[0]] = True
        return out


def any_of(*masks):
    """The union of several point masks, as one callable."""

    def test(xy) -> np.ndarray:
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        out = np.zeros(len(xy), dtype=bool)
        for m in masks:
            out |= m(xy)
        return out

    return test


def station(line, s: float) -> tuple[np.ndarray, np.ndarray]:
    """The point at distance ``s`` [m] along ``line`` and the unit normal there (the tangent, over 1 m
    around the point, turned 90 degrees anticlockwise): ``(xy, normal)``."""
    length = line.length
    a = np.asarray(line.interpolate(max(0.0, s - 0.5)).coords[0])
    b = np.asarray(line.interpolate(min(length, s + 0.5)).coords[0])
    t = (b - a) / np.hypot(*(b - a))
    return np.asarray(line.interpolate(s).coords[0]), np.array([-t[1], t[0]])
