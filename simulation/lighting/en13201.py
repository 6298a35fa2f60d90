"""EN 13201 road lighting compliance per road segment: classes, calculation grid, metrics, deficit map.

Classes and requirements (EN 13201-2:2015, maintained values; ``(check)`` marks values
taken from secondary sources because the standard is paywalled) live in one overridable
table, :data:`CLASSES`:

* P1..P6 (pedestrian, low speed): average Ē and minimum E_min [lx]; no uniformity;
* C0..C5 (conflict areas): average Ē [lx] and overall uniformity U_o = E_min / Ē >= 0.40;
* M1..M6 (motorised traffic) are luminance classes [cd/m2]. jumeau computes
  illuminance, not luminance: an M class is judged on the illuminance that gives its
  average luminance on a standard R3 surface, Ē = L / q0 with q0 = 0.07 sr-1 (CIE 144,
  average luminance coefficient of R3) and its U_o (check). This is an approximation
  (luminance depends on the viewing geometry and the surface's r-table) and is said so
  in every result.

Calculation grid, EN 13201-3 clause 7 (check): along the segment points every
D = S / N, N = 10 when the luminaire spacing S <= 30 m, else the smallest N giving
D <= 3 m (the first point at D / 2); across, n >= 3 points with d = W / n <= 1.5 m, the
outer ones d / 2 from the edges. The field covers the carriageway (kerb to kerb) for
C and M classes, the carriageway plus both sidewalks for P classes (pedestrian areas).
Compliance is judged on these points (exact point evaluations with occlusion), not on
raster cells; the raster only draws the map of cells below their class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.errors import TwinValueError
from twin.grid import Grid
from twin.rasterize import rasterize_values

__all__ = ["LightingClass", "CLASSES", "Q0_R3", "OVERLIGHTING_FACTOR", "lighting_class", "calculation_grid",
           "evaluate_segments", "deficit_raster", "road_areas"]

#: Average luminance coefficient q0 [sr-1] of the CIE R3 road surface (CIE 144:2001), used for M classes (check).
Q0_R3 = 0.07

#: An average above this multiple of the class value flags over-lighting (standards.md, check).
OVERLIGHTING_FACTOR = 1.5


@dataclass(frozen=True)
class LightingClass:
    """An EN 13201-2 lighting class and its maintained requirements.

    Attributes
    ----------
    name : str
        ``"P3"``, ``"C2"``, ``"M4"``...
    family : str
        ``"P"``, ``"C"`` or ``"M"``.
    e_avg : float
        Required average illuminance [lx] (for M: the R3 equivalent L / q0).
    e_min : float
        Required minimum illuminance [lx] (P classes; NaN otherwise).
    uo : float
        Required overall uniformity E_min / Ē [1] (C and M; NaN for P).
    luminance : float
        Required average luminance [cd/m2] (M classes; NaN otherwise).
    ul : float
        Required longitudinal uniformity of luminance [1] (M; not evaluated).
    """

    name: str
    family: str
    e_avg: float
    e_min: float = math.nan
    uo: float = math.nan
    luminance: float = math.nan
    ul: float = math.nan

    @property
    def point_minimum(self) -> float:
        """The smallest illuminance [lx] any point may have: E_min (P) or U_o x Ē (C, M)."""
        return self.e_min if self.family == "P" else self.uo * self.e_avg


def _classes() -> dict[str, LightingClass]:
    out = {}
    for name, (e, emin) in {"P1": (15, 3.0), "P2": (10, 2.0), "P3": (7.5, 1.5), "P4": (5, 1.0), "P5": (3, 0.6),
                            "P6": (2, 0.4)}.items():
        out[name] = LightingClass(name, "P", float(e), e_min=emin)
    for name, e in {"C0": 50, "C1": 30, "C2": 20, "C3": 15, "C4": 10, "C5": 7.5}.items():
        out[name] = LightingClass(name, "C", float(e), uo=0.40)
    for name, (lum, uo, ul) in {"M1": (2.0, 0.40, 0.70), "M2": (1.5, 0.40, 0.70), "M3": (1.0, 0.40, 0.60),
                                "M4": (0.75, 0.40, 0.60), "M5": (0.5, 0.35, 0.40), "M6": (0.3, 0.35, 0.40)}.items():
        out[name] = LightingClass(name, "M", lum / Q0_R3, uo=uo, luminance=lum, ul=ul)
    return out


#: EN 13201-2:2015 classes by name (maintained values). Replace entries to follow a national annex.
CLASSES: dict[str, LightingClass] = _classes()


def lighting_class(name: str, classes: dict[str, LightingClass] | None = None) -> LightingClass:
    """The class of that name (case-insensitive).

    Raises
    ------
    TwinValueError
        If the name is not a known class.
    """
    classes = classes or CLASSES
    key = str(name).strip().upper()
    if key not in classes:
        raise TwinValueError(f"unknown EN 13201 lighting class {name!r} (known: {', '.join(classes)})")
    return classes[key]


def _spacing_along(s: float) -> float:
    """EN 13201-3 longitudinal grid spacing D [m] for a luminaire spacing S [m]."""
    if s <= 30.0:
        return s / 10.0
    return s / math.ceil(s / 3.0)


def calculation_grid(line, width: float, *, spacing: float) -> tuple[np.ndarray, np.ndarray, float, float]:
    """EN 13201-3 calculation points over a road segment.

    Parameters
    ----------
    line : shapely LineString
        The segment's centre line [m].
    width : float
        Width of the field [m].
    spacing : float
        Luminaire spacing S along the segment [m] (the segment length when it has fewer
        than two luminaires).

    Returns
    -------
    x, y : ndarray
        Point coordinates [m], ``n_along x n_across`` flattened (along-major).
    d_along, d_across : float
        The grid spacings used [m].
    """
    length = float(line.length)
    if length <= 0 or not width > 0:
        raise TwinValueError(f"calculation grid: segment length {length:g} m and width {width!r} m must be > 0")
    d = _spacing_along(max(spacing, 1e-6))
    n_along = max(1, int(round(length / d)))
    d = length / n_along
    n_across = max(3, int(math.ceil(width / 1.5 - 1e-9)))
    w = width / n_across
    s = (np.arange(n_along) + 0.5) * d
    pts = shapely.line_interpolate_point(line, s)
    ahead = shapely.line_interpolate_point(line, np.minimum(s + 0.05 * d, length))
    behind = shapely.line_interpolate_point(line, np.maximum(s - 0.05 * d, 0.0))
    tx = shapely.get_x(ahead) - shapely.get_x(behind)
    ty = shapely.get_y(ahead) - shapely.get_y(behind)
    tn = np.hypot(tx, ty)
    tn[tn == 0] = 1.0
    nx, ny = -ty / tn, tx / tn  # left normal
    off = -width / 2 + (np.arange(n_across) + 0.5) * w
    x = shapely.get_x(pts)[:, None] + nx[:, None] * off[None, :]
    y = shapely.get_y(pts)[:, None] + ny[:, None] * off[None, :]
    return x.ravel(), y.ravel(), d, w


def _field_width(row, cls: LightingClass) -> float:
    w = float(row["width"])
    if cls.family == "P":
        sw = float(row.get("sidewalk_width", 0.0) or 0.0)
        w += 2.0 * (sw if math.isfinite(sw) else 0.0)
    return w


def road_areas(roads: gpd.GeoDataFrame, classes: dict[str, LightingClass] | None = None) -> gpd.GeoSeries:
    """The lit field of each classed road (flat-capped buffer of its centre line), NaN-width roads empty."""
    classes = classes or CLASSES
    geoms = []
    for _, row in roads.iterrows():
        name = str(row.get("lighting_class", "") or "").strip()
        w = float(row.get("width", math.nan))
        if not name or name.upper() not in classes or not math.isfinite(w) or w <= 0:
            geoms.append(shapely.Polygon())
            continue
        geoms.append(row.geometry.buffer(_field_width(row, classes[name.upper()]) / 2.0, cap_style="flat"))
    return gpd.GeoSeries(geoms, index=roads.index, crs=roads.crs)


def assign_luminaires(luminaires: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, *, max_distance: float) -> np.ndarray:
    """The road id each luminaire lights: its ``road_id`` when that road exists, else the
    nearest road within ``max_distance`` [m], else 0."""
    n = len(luminaires)
    out = np.zeros(n, np.int64)
    if n == 0 or len(roads) == 0:
        return out
    rid = luminaires["road_id"].to_numpy(np.int64) if "road_id" in luminaires else np.zeros(n, np.int64)
    known = set(roads["id"].to_numpy(np.int64).tolist())
    has = np.array([r in known for r in rid])
    out[has] = rid[has]
    if (~has).any():
        lines = roads.geometry.values
        tree = shapely.STRtree(lines)
        pts = luminaires.geometry.values[~has]
        idx_pts, idx_lines = tree.query_nearest(pts, max_distance=max_distance, return_distance=False, all_matches=False)
        sub = np.zeros(len(pts), np.int64)
        sub[idx_pts] = roads["id"].to_numpy(np.int64)[idx_lines]
        out[~has] = sub
    return out


def _luminaire_spacing(line, lum_xy: np.ndarray) -> float:
    """Median spacing [m] of luminaires projected on the centre line (the segment length if fewer than 2)."""
    if len(lum_xy) < 2:
        return float(line.length)
    s = np.sort(shapely.line_locate_point(line, shapely.points(lum_xy)))
    d = np.diff(s)
    d = d[d > 0.5]
    return float(np.median(d)) if d.size else float(line.length)


def evaluate_segments(scene, roads: gpd.GeoDataFrame, *, assignment: np.ndarray, classes=None,
                      overlighting_factor: float = OVERLIGHTING_FACTOR, level_scale: float = 1.0) -> gpd.GeoDataFrame:
    """Per road segment: class, EN 13201-3 grid, Ē, E_min, U_o, pass/fail, over-lighting.

    Parameters
    ----------
    scene : LightingScene
        Prepared scene (its luminaires at the levels to judge, usually full output).
    roads : GeoDataFrame
        The twin's roads table (``lighting_class``, ``width``, ``sidewalk_width``).
    assignment : array of int
        Road id per luminaire of the scene (see :func:`assign_luminaires`); used for the
        spacing S and the count of luminaires per segment.
    overlighting_factor : float
        Ē above ``factor x`` the class value flags over-lighting.

    Returns
    -------
    GeoDataFrame
        One row per road: ``road_id, name, lighting_class, family, status`` (``pass``,
        ``fail``, ``no class``, ``no width``), ``length, width`` [m], ``n_points``,
        ``d_along, d_across`` [m], ``spacing`` [m], ``e_avg, e_min`` [lx], ``uo`` [1],
        ``e_avg_required, e_min_required`` [lx], ``uo_required`` [1], ``passes, overlit``
        (bool), ``luminaires`` (count), ``area`` [m2], ``note``; the centre line as geometry.
    """
    classes = classes or CLASSES
    rows = []
    lum = scene.lum
    lum_xy = np.column_stack([lum.x, lum.y]) if len(lum) else np.zeros((0, 2))
    for _, road in roads.iterrows():
        rid = int(road["id"])
        name = str(road.get("lighting_class", "") or "").strip()
        base = {"road_id": rid, "name": road.get("name", ""), "lighting_class": name.upper(), "family": "",
                "length": float(road.geometry.length), "width": float(road.get("width", math.nan)),
                "n_points": 0, "d_along": math.nan, "d_across": math.nan, "spacing": math.nan,
                "e_avg": math.nan, "e_min": math.nan, "uo": math.nan, "e_avg_required": math.nan,
                "e_min_required": math.nan, "uo_required": math.nan, "passes": False, "overlit": False,
                "luminaires": int((assignment == rid).sum()), "area": 0.0, "note": "", "geometry": road.geometry}
        if not name:
            rows.append(base | {"status": "no class", "note": "road has no lighting_class: not judged"})
            continue
        try:
            cls = lighting_class(name, classes)
        except TwinValueError as err:
            raise TwinValueError(f"road {rid}: {err}") from None
        w = _field_width(road, cls)
        if not (math.isfinite(w) and w > 0) or road.geometry.length <= 0:
            rows.append(base | {"status": "no width", "family": cls.family,
                                "note": "road has no width: the EN 13201 field cannot be drawn"})
            continue
        mine = lum_xy[assignment == rid] if len(lum) else lum_xy
        spacing = _luminaire_spacing(road.geometry, mine)
        x, y, da, dw = calculation_grid(road.geometry, w, spacing=spacing)
        z = scene.ground_altitude(x, y)
        e = scene.point_illuminance(x, y, z) * level_scale
        eavg = float(e.mean())
        emin = float(e.min())
        uo = emin / eavg if eavg > 0 else 0.0
        if cls.family == "P":
            ok = eavg >= cls.e_avg - 1e-9 and emin >= cls.e_min - 1e-9
        else:
            ok = eavg >= cls.e_avg - 1e-9 and uo >= cls.uo - 1e-9
        note = ("M class judged on illuminance: Ē >= L / q0 with q0 = 0.07 (R3 surface), and U_o (check)"
                if cls.family == "M" else "")
        rows.append(base | {
            "family": cls.family, "width": w, "n_points": int(e.size), "d_along": da, "d_across": dw, "spacing": spacing,
            "e_avg": eavg, "e_min": emin, "uo": uo, "e_avg_required": cls.e_avg, "e_min_required": cls.e_min,
            "uo_required": cls.uo, "passes": bool(ok), "overlit": bool(eavg > overlighting_factor * cls.e_avg),
            "status": "pass" if ok else "fail", "area": float(road.geometry.length * w), "note": note})
    cols = ["road_id", "name", "lighting_class", "family", "status", "length", "width", "area", "n_points", "d_along",
            "d_across", "spacing", "luminaires", "e_avg", "e_min", "uo", "e_avg_required", "e_min_required",
            "uo_required", "passes", "overlit", "note", "geometry"]
    df = pd.DataFrame(rows, columns=cols)
    return gpd.GeoDataFrame(df, geometry="geometry", crs=roads.crs)


def deficit_raster(grid: Grid, roads: gpd.GeoDataFrame, illuminance: np.ndarray, *, classes=None) -> np.ndarray:
    """Cells below their class: ``max(0, E_point_min - E)`` [lx] on classed road fields, NaN elsewhere (float32).

    ``E_point_min`` is the class's point minimum (E_min for P, U_o x Ē for C and M); where
    fields overlap the strictest requirement applies. A cell is below its class when the
    value is > 0.
    """
    classes = classes or CLASSES
    areas = road_areas(roads, classes)
    req = []
    for _, road in roads.iterrows():
        name = str(road.get("lighting_class", "") or "").strip().upper()
        req.append(classes[name].point_minimum if name in classes else 0.0)
    req = np.asarray(req, np.float32)
    order = np.argsort(req)  # strictest last: rasterisation keeps the last shape
    need = rasterize_values(grid, areas.values[order], req[order], fill=np.nan, dtype="float32")
    out = np.where(np.isfinite(need), np.maximum(need - illuminance, 0.0), np.nan).astype(np.float32)
    return out
