"""Building geometry for the energy model, from the twin's footprints (vectorised with shapely 2).

For every building: floors and conditioned floor area, facade areas per orientation, party walls
shared with neighbours, the roof (planes with slope and azimuth) and the ground floor.

Rules, each recorded per building in ``*_source`` columns and counted in the report:

* **Floors**: the buildings table's ``floors`` when > 0 and consistent with the height
  (storey height within ``storey_range``); otherwise ``max(1, round(height / storey_height))``
  with the archetype's storey height. **Height**: the table's ``height`` when > 0, otherwise
  ``floors x storey_height`` when floors are known, otherwise one storey (counted as a default).
  Uses with tall single volumes (sports, religious, industrial, agricultural) are not flagged for
  storeys taller than the range's upper bound.
* **Facades**: each footprint edge (exterior and courtyard rings) of length L with outward
  normal azimuth a contributes ``L x height`` of wall, split linearly between the two nearest of
  ``n_orientations`` azimuth bins (bin k centred on ``k x 360 / n``, clockwise from north).
* **Party walls**: two edges of different buildings that face each other (outward normals opposed
  within 15 degrees) less than ``party_tolerance`` apart share the overlap of their projections; an
  edge running inside a neighbour's footprint (overlapping footprints in the data) is shared over
  that length. The shared wall is over the lower of the two heights. Shared with a conditioned
  neighbour it is adiabatic (no heat flow: exact when both sides are at the same temperature, the
  usual assumption for heated terraced houses); shared with an unconditioned one (annex, barn) it is
  a wall to an unheated space (ISO 13789 b-factor applied by the model). The rest of the edge is exposed.
* **Roof**: LoD2 roof surfaces (``building_surfaces``) when present, with their area, slope and
  azimuth; otherwise a pitched roof when ``roof_height`` exceeds ``height`` (slope from the rise
  over half the short side of the minimum rotated rectangle, two planes facing across the long
  axis), otherwise the archetype's roof type and pitch. The heat-loss area of the roof is the
  top-floor ceiling, i.e. the footprint area; roof planes serve solar gains and rooftop PV.
* **Ground floor**: the footprint area.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from twin.errors import TwinValueError

__all__ = ["TALL_SINGLE_VOLUME_USES", "BuildingGeometry", "building_geometry", "footprint_edges", "orientation_bins"]

#: Uses whose single storey may be much taller than a usual storey (not flagged as contradictions).
TALL_SINGLE_VOLUME_USES = ("sports", "religious", "industrial", "agricultural", "culture")


@dataclass
class BuildingGeometry:
    """Geometry of the buildings, in the order of the buildings table.

    Attributes
    ----------
    table : DataFrame
        Indexed by building id: ``footprint_area`` [m2], ``perimeter`` [m], ``height`` [m],
        ``height_source``, ``floors``, ``floors_source``, ``gross_floor_area`` [m2], ``volume`` [m3],
        ``facade_area`` [m2] (exposed, windows included), ``party_area`` [m2] (adiabatic, shared with
        conditioned neighbours), ``party_area_unconditioned`` [m2], ``ground_area`` [m2],
        ``roof_area`` [m2] (3D), ``roof_loss_area`` [m2], ``roof_slope`` [degree] (area-weighted),
        ``roof_source``, ``valid`` (False: zero area or empty geometry, not simulated).
    facades : ndarray, shape (n_buildings, n_orientations)
        Exposed facade area per orientation bin [m2].
    unconditioned_facades : ndarray, shape (n_buildings, n_orientations)
        Wall area shared with unconditioned neighbours per bin [m2].
    azimuths : ndarray, shape (n_orientations,)
        Bin centres [degree, clockwise from north].
    edges : DataFrame
        One row per footprint edge: ``building`` (row position), ``x0, y0, x1, y1`` [m], ``length``,
        ``azimuth``, ``exposed_fraction`` (1 - party share of the edge's wall area).
    roof_planes : DataFrame
        ``building`` (row position), ``area`` [m2, 3D], ``slope``, ``azimuth`` [degree],
        ``x, y, z`` (a point on the plane, for shading) [m].
    report : dict
        Counts of the rules applied.
    polygons : ndarray of shapely geometries
        The (repaired) footprints, empty where not valid.
    """

    table: pd.DataFrame
    facades: np.ndarray
    unconditioned_facades: np.ndarray
    azimuths: np.ndarray
    edges: pd.DataFrame
    roof_planes: pd.DataFrame
    report: dict = field(default_factory=dict)
    polygons: np.ndarray | None = None

    @property
    def ids(self) -> np.ndarray:
        return self.table.index.to_numpy()


def orientation_bins(azimuth, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split directions between the two nearest of ``n`` azimuth bins.

    Parameters
    ----------
    azimuth : array_like
        [degree, clockwise from north].
    n : int
        Number of bins; bin ``k`` is centred on ``k * 360 / n``.

    Returns
    -------
    k0, k1 : ndarray of int
        The two bins.
    w1 : ndarray
        Weight of ``k1`` (``1 - w1`` goes to ``k0``), linear in the angle.
    """
    a = np.mod(np.asarray(azimuth, dtype=np.float64), 360.0)
    pos = a / (360.0 / n)
    k0 = np.floor(pos).astype(np.int64)
    w1 = pos - k0
    k0 = np.mod(k0, n)
    k1 = np.mod(k0 + 1, n)
    return k0, k1, w1


def footprint_edges(polygons) -> pd.DataFrame:
    """The edges of footprints with their outward normals.

    Rings are oriented (exterior counter-clockwise, holes clockwise) so that the interior lies on
    the left of each edge; the outward normal of an edge ``(dx, dy)`` is ``(dy, -dx) / L``.

    Returns
    -------
    DataFrame
        ``building`` (position in ``polygons``), ``x0, y0, x1, y1``, ``length`` [m],
        ``azimuth`` [degree, clockwise from north] of the outward normal.
    """
    geoms = np.asarray(polygons, dtype=object)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    if len(parts) == 0:
        return pd.DataFrame({c: np.array([], dtype=t) for c, t in
                             [("building", np.int64), ("x0", float), ("y0", float), ("x1", float), ("y1", float),
                              ("length", float), ("azimuth", float)]})
    parts = shapely.orient_polygons(parts, exterior_cw=False)
    rings, part_idx = shapely.get_rings(parts, return_index=True)
    coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
    same = ring_idx[:-1] == ring_idx[1:]
    p0 = coords[:-1][same]
    p1 = coords[1:][same]
    e_owner = owner[part_idx[ring_idx[:-1][same]]]
    d = p1 - p0
    length = np.hypot(d[:, 0], d[:, 1])
    ok = length > 1e-9
    d, p0, p1, e_owner, length = d[ok], p0[ok], p1[ok], e_owner[ok], length[ok]
    nx, ny = d[:, 1] / length, -d[:, 0] / length
    az = np.mod(np.degrees(np.arctan2(nx, ny)), 360.0)
    return pd.DataFrame({"building": e_owner.astype(np.int64), "x0": p0[:, 0], "y0": p0[:, 1], "x1": p1[:, 0],
                         "y1": p1[:, 1], "length": length, "azimuth": az})


def _floors_and_height(height, floors, storey_height, use, storey_range):
    n = len(height)
    h = np.asarray(height, dtype=np.float64).copy()
    f = np.asarray(floors, dtype=np.float64).copy()
    sh = np.asarray(storey_height, dtype=np.float64)
    h_src = np.full(n, "table", dtype=object)
    f_src = np.full(n, "table", dtype=object)
    report = {"no_height": 0, "height_from_floors": 0, "floors_from_height": 0, "floors_contradict_height": 0}
    no_h = ~np.isfinite(h) | (h <= 0)
    f_known = np.isfinite(f) & (f > 0)
    fill = no_h & f_known
    h[fill] = f[fill] * sh[fill]
    h_src[fill] = "floors*storey_height"
    report["height_from_floors"] = int(fill.sum())
    none = no_h & ~f_known
    h[none] = sh[none]
    f[none] = 1
    h_src[none] = "default:one_storey"
    f_src[none] = "default:one_storey"
    report["no_height"] = int(none.sum())
    unknown_f = ~f_known & ~none
    f[unknown_f] = np.maximum(1.0, np.round(h[unknown_f] / sh[unknown_f]))
    f_src[unknown_f] = "height/storey_height"
    report["floors_from_height"] = int(unknown_f.sum())
    lo, hi = storey_range
    check = f_known & ~no_h
    per = h / np.where(f > 0, f, 1.0)
    tall_ok = np.isin(np.asarray(use, dtype=object), TALL_SINGLE_VOLUME_USES)
    bad = check & ((per < lo) | ((per > hi) & ~(tall_ok & (f == 1))))
    f[bad] = np.maximum(1.0, np.round(h[bad] / sh[bad]))
    f_src[bad] = "height/storey_height (table floors contradict the height)"
    report["floors_contradict_height"] = int(bad.sum())
    return h, f.astype(np.int64), h_src, f_src, report


def _party_walls(polys, edges, heights, conditioned, tolerance, *, max_angle=15.0):
    """Wall area of each edge shared with conditioned and with unconditioned neighbours [m2].

    Two edges of different buildings share a wall where they face each other (outward normals
    opposed within ``max_angle``) less than ``tolerance`` apart: the shared length is the overlap of
    their projections on the first edge. An edge running inside a neighbour's footprint (overlapping
    footprints in the data) is shared over the length inside the footprint shrunk by ``tolerance``.
    Shared lengths of an edge are capped at its length; the area is over the lower of the two heights.
    """
    ne = len(edges)
    shared_c = np.zeros(ne)
    shared_u = np.zeros(ne)
    if ne == 0 or len(polys) < 2:
        return shared_c, shared_u
    p0 = edges[["x0", "y0"]].to_numpy()
    p1 = edges[["x1", "y1"]].to_numpy()
    owner = edges["building"].to_numpy()
    length = edges["length"].to_numpy()
    lo_xy = np.minimum(p0, p1) - tolerance
    hi_xy = np.maximum(p0, p1) + tolerance
    boxes = shapely.box(lo_xy[:, 0], lo_xy[:, 1], hi_xy[:, 0], hi_xy[:, 1])
    # candidate pairs by bounding boxes only; the exact tests below are plain numpy
    ai, ej = shapely.STRtree(boxes).query(boxes)
    keep = owner[ai] != owner[ej]
    ai, ej = ai[keep], ej[keep]
    u = (p1 - p0) / length[:, None]
    # facing edges run in opposite directions (both rings keep their interior on the left)
    facing = np.einsum("ij,ij->i", u[ai], u[ej]) < -np.cos(np.radians(max_angle))
    ai, ej = ai[facing], ej[facing]
    rel0 = p0[ej] - p0[ai]
    rel1 = p1[ej] - p0[ai]
    # distance of the neighbour's edge from this edge's line (outward normal = (uy, -ux))
    nrm = np.stack([u[ai, 1], -u[ai, 0]], axis=1)
    d0 = np.einsum("ij,ij->i", rel0, nrm)
    d1 = np.einsum("ij,ij->i", rel1, nrm)
    close = (np.abs(d0) <= tolerance) & (np.abs(d1) <= tolerance)
    ai, ej, rel0, rel1 = ai[close], ej[close], rel0[close], rel1[close]
    t0 = np.einsum("ij,ij->i", rel0, u[ai])
    t1 = np.einsum("ij,ij->i", rel1, u[ai])
    lo = np.clip(np.minimum(t0, t1), 0.0, length[ai])
    hi = np.clip(np.maximum(t0, t1), 0.0, length[ai])
    overlap = hi - lo
    pairs_a = [ai]
    pairs_b = [owner[ej]]
    pairs_len = [overlap]
    # edges running inside a neighbour's footprint (overlapping footprints in the data): only for the pairs
    # of footprints whose interiors overlap
    ptree = shapely.STRtree(polys)
    qi, qj = ptree.query(polys)
    keep = qi < qj
    qi, qj = qi[keep], qj[keep]
    if len(qi):
        over = shapely.relate_pattern(polys[qi], polys[qj], "2********")
        qi, qj = qi[over], qj[over]
    if len(qi):
        lines = shapely.linestrings(np.stack([p0, p1], axis=1))
        by_owner = pd.Series(np.arange(ne)).groupby(owner).apply(np.asarray)
        li, pj = [], []
        for a_, b_ in ((qi, qj), (qj, qi)):
            for x, y in zip(a_, b_):
                if x in by_owner.index:
                    e = by_owner.loc[x]
                    li.append(e)
                    pj.append(np.full(len(e), y))
        li = np.concatenate(li)
        pj = np.concatenate(pj)
        shrunk = shapely.buffer(polys[pj], -tolerance)
        pairs_a.append(li)
        pairs_b.append(pj)
        pairs_len.append(shapely.length(shapely.intersection(lines[li], shrunk)))
    a = np.concatenate(pairs_a)
    nb = np.concatenate(pairs_b)
    ln = np.concatenate(pairs_len)
    ok = ln > 1e-9
    a, nb, ln = a[ok], nb[ok], ln[ok]
    area = ln * np.minimum(heights[owner[a]], heights[nb])
    cond = conditioned[nb]
    np.add.at(shared_c, a[cond], area[cond])
    np.add.at(shared_u, a[~cond], area[~cond])
    wall = length * heights[owner]
    total = shared_c + shared_u
    scale = np.where(total > wall, wall / np.maximum(total, 1e-12), 1.0)
    return shared_c * scale, shared_u * scale


def _min_rectangle_axes(polys):
    """Long-axis azimuth [degree] and short side [m] of each polygon's minimum rotated rectangle."""
    rect = shapely.minimum_rotated_rectangle(polys)
    coords, idx = shapely.get_coordinates(shapely.get_exterior_ring(rect), return_index=True)
    n = len(polys)
    az = np.zeros(n)
    short = np.zeros(n)
    starts = np.searchsorted(idx, np.arange(n))
    ok = (np.bincount(idx, minlength=n) >= 4)
    s = starts[ok]
    a = coords[s + 1] - coords[s]
    b = coords[s + 2] - coords[s + 1]
    la, lb = np.hypot(a[:, 0], a[:, 1]), np.hypot(b[:, 0], b[:, 1])
    long_vec = np.where((la >= lb)[:, None], a, b)
    az[ok] = np.mod(np.degrees(np.arctan2(long_vec[:, 0], long_vec[:, 1])), 180.0)
    short[ok] = np.minimum(la, lb)
    return az, short


def building_geometry(buildings, *, storey_height, conditioned, surfaces=None, roof_type=None, roof_pitch=None,
                      n_orientations: int = 8, party_tolerance: float = 0.3, storey_range=(2.0, 5.0),
                      min_area: float = 1.0) -> BuildingGeometry:
    """Floor areas, facades per orientation, party walls and roofs of every building.

    Parameters
    ----------
    buildings : GeoDataFrame
        The twin's buildings table (``id``, ``height``, ``floors``, ``use``, optional ``roof_height``),
        footprints in a metric CRS.
    storey_height : array_like
        Floor-to-floor height per building [m] (from the archetypes).
    conditioned : array_like of bool
        Whether each building is heated (party walls with unconditioned buildings are not adiabatic).
    surfaces : GeoDataFrame, optional
        The ``building_surfaces`` table (LoD2 roofs).
    roof_type, roof_pitch : array_like, optional
        Archetype roof type (``flat``/``pitched``) and pitch [degree] per building.
    n_orientations : int
        Number of facade azimuth bins (>= 4).
    party_tolerance : float
        Distance [m] under which a footprint edge is taken to touch a neighbour.
    storey_range : (float, float)
        Plausible storey heights [m]; floors outside it contradict the height.
    min_area : float
        Footprints smaller than this [m2] are not simulated (counted as ``zero_area``).

    Returns
    -------
    BuildingGeometry

    Raises
    ------
    TwinValueError
        On a non-metric or missing CRS, or invalid parameters.
    """
    if n_orientations < 4:
        raise TwinValueError(f"invalid n_orientations: {n_orientations!r} (must be >= 4)")
    if not party_tolerance > 0:
        raise TwinValueError(f"invalid party_tolerance: {party_tolerance!r} (must be > 0 m)")
    crs = getattr(buildings, "crs", None)
    if crs is not None and crs.is_geographic:
        raise TwinValueError("buildings: footprints are in a geographic CRS; the energy geometry needs metres")
    n = len(buildings)
    ids = buildings["id"].to_numpy(dtype=np.int64)
    geoms = np.asarray(buildings.geometry.values, dtype=object)
    report: dict = {}
    empty = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    geoms = np.where(empty, shapely.Polygon(), geoms)
    invalid = ~shapely.is_valid(geoms) & ~empty
    report["invalid_geometry_repaired"] = int(invalid.sum())
    if invalid.any():
        repaired = []
        for g in shapely.make_valid(geoms[invalid]):
            parts = shapely.get_parts(g)
            polys_ = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
            repaired.append(shapely.union_all(polys_) if len(polys_) else shapely.Polygon())
        geoms[invalid] = repaired
    area = shapely.area(geoms)
    valid = (area >= min_area) & ~empty
    report["zero_area"] = int((~valid).sum())
    use = buildings["use"].astype(str).to_numpy(dtype=object) if "use" in buildings else np.full(n, "unknown", object)
    sh = np.broadcast_to(np.asarray(storey_height, dtype=np.float64), (n,))
    h, floors, h_src, f_src, rep = _floors_and_height(
        buildings["height"].to_numpy(dtype=np.float64) if "height" in buildings else np.full(n, np.nan),
        buildings["floors"].to_numpy(dtype=np.float64) if "floors" in buildings else np.zeros(n),
        sh, use, storey_range)
    report.update(rep)
    cond = np.broadcast_to(np.asarray(conditioned, dtype=bool), (n,)).copy()
    polys = np.where(valid, geoms, shapely.Polygon())
    edges = footprint_edges(polys)
    owner = edges["building"].to_numpy()
    shared_c, shared_u = _party_walls(polys, edges, h, cond & valid, party_tolerance)
    wall = edges["length"].to_numpy() * h[owner]
    exposed = np.maximum(wall - shared_c - shared_u, 0.0)
    edges["exposed_fraction"] = np.where(wall > 0, exposed / np.maximum(wall, 1e-12), 0.0)
    edges["height"] = h[owner]
    k0, k1, w1 = orientation_bins(edges["azimuth"].to_numpy(), n_orientations)
    facades = np.zeros((n, n_orientations))
    np.add.at(facades, (owner, k0), exposed * (1.0 - w1))
    np.add.at(facades, (owner, k1), exposed * w1)
    unc = np.zeros((n, n_orientations))
    np.add.at(unc, (owner, k0), shared_u * (1.0 - w1))
    np.add.at(unc, (owner, k1), shared_u * w1)
    party_c = np.bincount(owner, weights=shared_c, minlength=n)
    party_u = np.bincount(owner, weights=shared_u, minlength=n)
    report["buildings_with_party_walls"] = int(((party_c + party_u) > 0).sum())
    perimeter = shapely.length(shapely.boundary(polys))
    roof = _roofs(buildings, polys, ids, h, floors, valid, surfaces, roof_type, roof_pitch, report)
    planes, roof_area, roof_slope, roof_src = roof
    table = pd.DataFrame({
        "footprint_area": area,
        "perimeter": perimeter,
        "height": h,
        "height_source": h_src,
        "floors": floors,
        "floors_source": f_src,
        "gross_floor_area": area * floors,
        "volume": area * h,
        "facade_area": facades.sum(axis=1),
        "party_area": party_c,
        "party_area_unconditioned": party_u,
        "ground_area": area,
        "roof_area": roof_area,
        "roof_loss_area": area,
        "roof_slope": roof_slope,
        "roof_source": roof_src,
        "valid": valid,
    }, index=pd.Index(ids, name="id"))
    table.loc[~valid, ["gross_floor_area", "volume", "facade_area", "roof_area", "roof_loss_area", "ground_area"]] = 0.0
    azimuths = np.arange(n_orientations) * (360.0 / n_orientations)
    return BuildingGeometry(table=table, facades=facades, unconditioned_facades=unc, azimuths=azimuths, edges=edges,
                            roof_planes=planes, report=report, polygons=polys)


def _roofs(buildings, polys, ids, h, floors, valid, surfaces, roof_type, roof_pitch, report):
    n = len(ids)
    area = shapely.area(polys)
    cent = shapely.centroid(np.where(valid, polys, shapely.Point(0, 0)))
    cx = np.where(valid, shapely.get_x(cent), np.nan)
    cy = np.where(valid, shapely.get_y(cent), np.nan)
    src = np.full(n, "", dtype=object)
    rows = []
    has_lod2 = np.zeros(n, dtype=bool)
    if surfaces is not None and len(surfaces):
        roofs = surfaces[surfaces["surface"].astype(str) == "roof"]
        pos = pd.Series(np.arange(n), index=ids)
        roofs = roofs[roofs["building_id"].isin(ids)]
        if len(roofs):
            b = pos.loc[roofs["building_id"].to_numpy()].to_numpy()
            rg = np.asarray(roofs.geometry.values, dtype=object)
            a = roofs["area"].to_numpy(dtype=np.float64).copy()
            slope = roofs["slope"].to_numpy(dtype=np.float64).copy()
            az = roofs["azimuth"].to_numpy(dtype=np.float64).copy()
            # fill what the table lacks from the 3D polygon itself
            miss = ~np.isfinite(a) | ~np.isfinite(slope)
            if miss.any():
                a2, s2, az2 = _plane_from_polygon(rg[miss])
                a[miss] = np.where(np.isfinite(a[miss]), a[miss], a2)
                slope[miss] = np.where(np.isfinite(slope[miss]), slope[miss], s2)
                az[miss] = np.where(np.isfinite(az[miss]), az[miss], az2)
            c = shapely.centroid(rg)
            zc = _mean_z(rg)
            ok = np.isfinite(a) & (a > 0) & valid[b]
            for bi, ai, si, azi, xi, yi, zi in zip(b[ok], a[ok], slope[ok], az[ok], shapely.get_x(c)[ok],
                                                   shapely.get_y(c)[ok], zc[ok]):
                rows.append((bi, ai, si if np.isfinite(si) else 0.0, azi if np.isfinite(azi) else 180.0, xi, yi,
                             zi if np.isfinite(zi) else np.nan))
            has_lod2[b[ok]] = True
    src[has_lod2] = "lod2"
    rh = buildings["roof_height"].to_numpy(dtype=np.float64) if "roof_height" in buildings else np.full(n, np.nan)
    long_az, short = _min_rectangle_axes(polys)
    rise = rh - h
    from_height = ~has_lod2 & valid & np.isfinite(rise) & (rise > 0.3) & (short > 0)
    slope_h = np.degrees(np.arctan2(np.where(from_height, rise, 0.0), np.maximum(short / 2.0, 1e-6)))
    rtype = np.broadcast_to(np.asarray(roof_type if roof_type is not None else "flat", dtype=object), (n,))
    rpitch = np.broadcast_to(np.asarray(roof_pitch if roof_pitch is not None else 0.0, dtype=np.float64), (n,))
    pitched_arch = ~has_lod2 & ~from_height & valid & (rtype == "pitched") & (rpitch > 0)
    src[from_height] = "roof_height"
    src[pitched_arch] = "archetype:pitched"
    flat = ~has_lod2 & ~from_height & ~pitched_arch & valid
    src[flat] = "archetype:flat" if roof_type is not None else "flat"
    report["roof_lod2"] = int(has_lod2.sum())
    report["roof_from_height"] = int(from_height.sum())
    report["roof_archetype"] = int((pitched_arch | flat).sum())
    base_z = buildings["ground_z"].to_numpy(dtype=np.float64) if "ground_z" in buildings else np.zeros(n)
    base_z = np.where(np.isfinite(base_z), base_z, 0.0)
    for i in np.flatnonzero(from_height | pitched_arch):
        s = slope_h[i] if from_height[i] else rpitch[i]
        half = area[i] / 2.0 / max(np.cos(np.radians(s)), 1e-6)
        ridge = (rh[i] - h[i]) if from_height[i] else np.tan(np.radians(s)) * short[i] / 2.0
        z = base_z[i] + h[i] + ridge / 2.0
        for side in (90.0, 270.0):
            rows.append((i, half, s, np.mod(long_az[i] + side, 360.0), cx[i], cy[i], z))
    for i in np.flatnonzero(flat):
        rows.append((i, area[i], 0.0, 180.0, cx[i], cy[i], base_z[i] + h[i]))
    planes = pd.DataFrame(rows, columns=["building", "area", "slope", "azimuth", "x", "y", "z"])
    planes["building"] = planes["building"].astype(np.int64)
    roof_area = np.bincount(planes["building"].to_numpy(), weights=planes["area"].to_numpy(), minlength=n)
    sw = np.bincount(planes["building"].to_numpy(), weights=(planes["area"] * planes["slope"]).to_numpy(), minlength=n)
    roof_slope = np.where(roof_area > 0, sw / np.maximum(roof_area, 1e-12), 0.0)
    return planes, roof_area, roof_slope, src


def _mean_z(geoms):
    """Mean altitude of the vertices of each polygon's exterior ring (closing vertex excluded)."""
    coords, idx = shapely.get_coordinates(shapely.get_exterior_ring(geoms), include_z=True, return_index=True)
    last = np.r_[idx[1:] != idx[:-1], True]
    coords, idx = coords[~last], idx[~last]
    n = len(geoms)
    cnt = np.bincount(idx, minlength=n)
    zs = np.bincount(idx, weights=np.nan_to_num(coords[:, 2]), minlength=n)
    return np.where(cnt > 0, zs / np.maximum(cnt, 1), np.nan)


def _plane_from_polygon(geoms):
    """Area, slope and azimuth of 3D planar polygons from Newell's normal."""
    n = len(geoms)
    area = np.full(n, np.nan)
    slope = np.full(n, np.nan)
    az = np.full(n, np.nan)
    for i, g in enumerate(geoms):
        if g is None or g.is_empty or not g.has_z:
            continue
        c = np.asarray(shapely.get_coordinates(shapely.get_exterior_ring(g), include_z=True))
        x, y, z = c[:-1, 0], c[:-1, 1], c[:-1, 2]
        xn, yn, zn = np.roll(x, -1), np.roll(y, -1), np.roll(z, -1)
        nx = np.sum((y - yn) * (z + zn))
        ny = np.sum((z - zn) * (x + xn))
        nz = np.sum((x - xn) * (y + yn))
        norm = np.sqrt(nx * nx + ny * ny + nz * nz)
        if norm == 0:
            continue
        if nz < 0:
            nx, ny, nz = -nx, -ny, -nz
        area[i] = norm / 2.0
        slope[i] = np.degrees(np.arccos(nz / norm))
        az[i] = np.mod(np.degrees(np.arctan2(nx, ny)), 360.0)
    return area, slope, az
