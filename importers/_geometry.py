"""Footprint repair shared by the importers and the fusion: validity, slivers, duplicates; 3D polygon metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely

__all__ = ["RepairCounts", "clean_footprints", "polygon_metrics", "to_2d_polygonal"]


@dataclass
class RepairCounts:
    """What :func:`clean_footprints` did, in numbers."""

    repaired: int = 0           # invalid (self-intersecting, bad rings) made valid
    dropped_empty: int = 0      # no geometry, or nothing polygonal left
    dropped_slivers: int = 0    # too small or too thin to be a building
    dropped_duplicates: int = 0  # same footprint as an earlier row
    examples: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"repaired": self.repaired, "dropped_empty": self.dropped_empty,
                "dropped_slivers": self.dropped_slivers, "dropped_duplicates": self.dropped_duplicates}

    def __iadd__(self, other: RepairCounts):
        self.repaired += other.repaired
        self.dropped_empty += other.dropped_empty
        self.dropped_slivers += other.dropped_slivers
        self.dropped_duplicates += other.dropped_duplicates
        return self


def to_2d_polygonal(geoms: np.ndarray) -> np.ndarray:
    """Drop z, make valid, keep only the polygonal parts (Polygon or MultiPolygon; None when nothing is left)."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.empty(len(geoms), dtype=object)
    g2 = shapely.force_2d(geoms)
    valid = shapely.is_valid(g2)
    fixed = g2.copy()
    if (~valid).any():
        fixed[~valid] = shapely.make_valid(g2[~valid])
    for i, g in enumerate(fixed):
        out[i] = _polygonal(g)
    return out


def _polygonal(g):
    if g is None or g.is_empty:
        return None
    t = g.geom_type
    if t in ("Polygon", "MultiPolygon"):
        return g
    if t == "GeometryCollection":
        parts = [p for p in g.geoms if p.geom_type in ("Polygon", "MultiPolygon") and not p.is_empty]
        if not parts:
            return None
        u = shapely.union_all(parts)
        return u if u.geom_type in ("Polygon", "MultiPolygon") else None
    return None


def clean_footprints(
    gdf: gpd.GeoDataFrame,
    *,
    min_area: float = 2.0,
    min_width: float = 0.5,
    duplicate_iou: float = 0.95,
    metric: bool = True,
) -> tuple[gpd.GeoDataFrame, RepairCounts]:
    """Repair or drop bad footprints; return the kept rows (in order) and the counts.

    * invalid geometries (self-intersections, bad rings) are repaired with :func:`shapely.make_valid`,
      keeping their polygonal parts; rows with nothing polygonal left are dropped;
    * slivers are dropped: area below ``min_area`` [m2], or thinner than ``min_width`` [m]
      (twice the area over the perimeter, the width of an equivalent long strip);
    * duplicates are dropped: a footprint whose intersection over union with an earlier one exceeds
      ``duplicate_iou`` (the cadastre repeats buildings where sheets meet).

    ``metric`` says whether the CRS is in metres (the area tests are skipped otherwise).
    """
    counts = RepairCounts()
    if len(gdf) == 0:
        return gdf.copy(), counts
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    was_valid = np.array([g is not None and not g.is_empty and shapely.is_valid(shapely.force_2d(g)) for g in geoms], dtype=bool)
    fixed = to_2d_polygonal(geoms)
    keep = np.array([g is not None for g in fixed], dtype=bool)
    counts.dropped_empty = int((~keep).sum())
    counts.repaired = int((~was_valid & keep).sum())
    if metric:
        area = np.where(keep, shapely.area(np.where(keep, fixed, None)), 0.0)
        perim = np.where(keep, shapely.length(np.where(keep, fixed, None)), 1.0)
        width = np.where(perim > 0, 2.0 * area / perim, 0.0)
        sliver = keep & ((area < min_area) | (width < min_width))
        counts.dropped_slivers = int(sliver.sum())
        keep &= ~sliver
    idx = np.flatnonzero(keep)
    if len(idx) > 1:
        dup = _duplicates(fixed[idx], duplicate_iou)
        counts.dropped_duplicates = int(dup.sum())
        keep[idx[dup]] = False
    out = gdf.iloc[np.flatnonzero(keep)].copy()
    out = out.set_geometry(gpd.GeoSeries(fixed[keep], index=out.index, crs=gdf.crs))
    return out, counts


def _duplicates(geoms: np.ndarray, iou: float) -> np.ndarray:
    """Boolean mask of geometries that duplicate an earlier one (IoU > ``iou``)."""
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    dup = np.zeros(len(geoms), bool)
    if len(left) == 0:
        return dup
    a, b = geoms[left], geoms[right]
    inter = shapely.area(shapely.intersection(a, b))
    union = shapely.area(a) + shapely.area(b) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(union > 0, inter / union, 0.0)
    for i, j, r in zip(left, right, ratio):
        if r > iou and not dup[i]:
            dup[j] = True
    return dup


def polygon_metrics(coords: np.ndarray, ring_offsets: np.ndarray, polygon_rings: np.ndarray):
    """Area [m2], slope [degree] and azimuth [degree] of 3D polygons given as ragged arrays.

    Parameters
    ----------
    coords : (n, 3) float64
        All ring vertices, rings closed or not.
    ring_offsets : (r + 1,) int64
        Start of each ring in ``coords``.
    polygon_rings : (p + 1,) int64
        Start of each polygon's rings (the first is the exterior, the others holes).

    Method: Newell's normal of each ring (a vector whose length is twice the ring's area and whose
    direction is its normal); holes subtract their area along the exterior's normal. Slope is the
    angle between the normal and the vertical (0 flat, 90 vertical), azimuth that of the outward
    normal's horizontal part, clockwise from north (NaN for flat polygons). Rings are assumed
    counter-clockwise seen from outside (CityGML's convention).
    """
    p = len(polygon_rings) - 1
    if p <= 0:
        z = np.zeros(0)
        return z, z, z
    # Newell per ring: sum over edges (y_i - y_j)(z_i + z_j), ...
    nxt = np.arange(1, len(coords) + 1)
    ends = ring_offsets[1:]
    nxt[ends - 1] = ring_offsets[:-1]
    x, y, zc = coords[:, 0], coords[:, 1], coords[:, 2]
    # centre each ring on its first vertex for precision (Lambert-93 coordinates are ~1e6)
    ring_of = np.repeat(np.arange(len(ends)), np.diff(ring_offsets))
    x0, y0, z0 = x[ring_offsets[:-1]][ring_of], y[ring_offsets[:-1]][ring_of], zc[ring_offsets[:-1]][ring_of]
    xl, yl, zl = x - x0, y - y0, zc - z0
    xn, yn, zn = xl[nxt], yl[nxt], zl[nxt]
    nx_e = (yl - yn) * (zl + zn)
    ny_e = (zl - zn) * (xl + xn)
    nz_e = (xl - xn) * (yl + yn)
    starts = ring_offsets[:-1]
    nonempty = np.diff(ring_offsets) > 0
    n_ring = np.zeros((len(ends), 3))
    if nonempty.any():
        n_ring[nonempty, 0] = np.add.reduceat(nx_e, starts[nonempty])
        n_ring[nonempty, 1] = np.add.reduceat(ny_e, starts[nonempty])
        n_ring[nonempty, 2] = np.add.reduceat(nz_e, starts[nonempty])
    ext = polygon_rings[:-1]
    normal = n_ring[ext].copy()
    nlen = np.linalg.norm(normal, axis=1)
    area2 = nlen.copy()
    unit = np.divide(normal, nlen[:, None], out=np.zeros_like(normal), where=nlen[:, None] > 0)
    # holes: subtract their area measured along the exterior's normal
    n_rings = np.diff(polygon_rings)
    if (n_rings > 1).any():
        owner = np.repeat(np.arange(p), n_rings)
        is_hole = np.ones(len(owner), bool)
        is_hole[ext] = False
        hole_idx = np.flatnonzero(is_hole)
        proj = np.abs(np.einsum("ij,ij->i", n_ring[hole_idx], unit[owner[hole_idx]]))
        np.subtract.at(area2, owner[hole_idx], proj)
    area = np.maximum(area2, 0.0) / 2.0
    slope = np.degrees(np.arccos(np.clip(np.abs(unit[:, 2]), 0.0, 1.0)))
    horiz = np.hypot(unit[:, 0], unit[:, 1])
    az = np.degrees(np.arctan2(unit[:, 0], unit[:, 1])) % 360.0
    az = np.where(horiz > 1e-6, az, np.nan)
    # a downward-facing polygon (ground, overhang underside) still has a meaningful slope
    return area, slope, az
