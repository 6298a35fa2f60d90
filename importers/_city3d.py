"""3D city models (CityGML, CityJSON) -> buildings and building_surfaces tables. Shared by both readers.

A reader turns each Building or BuildingPart that carries geometry into a :class:`Piece`:
its polygons as ragged arrays (:class:`Polygons`: one (n, 3) coordinate array, the vertex count
of each ring, the ring count of each polygon) with their semantic type (roof, wall, ground,
closure, or '' when the geometry has no semantics), and its attributes. This module
derives, the same way for both formats, a batch of pieces at a time with NumPy and Shapely
calls over the whole batch (no Python loop over rings or polygons):

* the **footprint**: the 2D union of the ground surfaces; else the LoD0 footprint; else the
  downward-facing faces of the solid; else every non-vertical face (the roof outline);
* **ground_z** (lowest ground vertex, else lowest vertex), **eaves** (lowest vertex of the roof
  surfaces; the top of a LoD1 block) and **top** (highest vertex);
* the **surfaces** table: every polygon with its area, slope and azimuth
  (:func:`importers._geometry.polygon_metrics`), built once at the end from ragged arrays. Faces
  without semantics (LoD1 blocks, plain solids) are classified by orientation (``semantics`` column
  ``orientation`` rather than ``file``): within 5 degrees of vertical a wall, else a roof facing up
  and ground facing down.

Heights in the buildings table: ``height`` (top of the walls) = eaves - ground from the geometry
(``citygml:lod2-geometry``...); else the building's own height attribute. ``roof_height`` = the
height attribute when it measures the highest point (CityGML ``measuredHeight``, CityGML 3.0
``con:height`` with a highest-point reference), else top - ground from the geometry.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from shapely import GeometryType

from importers._geometry import polygon_metrics

__all__ = ["SURFACE_TYPES", "CityTables", "Piece", "Polygons"]

#: Semantic surface classes -> the ``surface`` values of the building_surfaces table.
SURFACE_TYPES = {
    "RoofSurface": "roof",
    "WallSurface": "wall",
    "GroundSurface": "ground",
    "ClosureSurface": "closure",
    "OuterFloorSurface": "roof",      # a horizontal surface open to the sky (terrace)
    "OuterCeilingSurface": "ground",  # the underside of a passage: envelope facing the ground
}

#: Building function/usage codes (CityGML 2.0 SIG3D code list, AdV ALKIS) and words -> twin uses.
FUNCTION_TO_USE = {
    "1000": "housing",
    "1010": "housing",
    "1020": "housing",
    "residential": "housing",
    "housing": "housing",
    "wohngebaude": "housing",
    "office": "office",
    "school": "school",
    "church": "religious",
    "industrial": "industrial",
}


@dataclass
class Polygons:
    """Polygons as ragged arrays: every vertex in one array, rings and polygons as counts.

    Polygon ``k`` has ``poly_rings[k]`` rings (the first its exterior, the others holes), ring ``r``
    ``ring_len[r]`` vertices, closed; all in order in ``coords``.
    """

    coords: np.ndarray      # (n_vertices, 3) float64
    ring_len: np.ndarray    # (n_rings,) int64
    poly_rings: np.ndarray  # (n_polygons,) int64
    types: list             # (n_polygons,) surface type, or '' when the geometry has no semantics

    def __len__(self) -> int:
        return len(self.poly_rings)

    @classmethod
    def from_lists(cls, polygons: list) -> Polygons:
        """From ``[(type, [exterior (n, 3), hole, ...]), ...]``."""
        rings = [r for _, rs in polygons for r in rs]
        coords = np.concatenate(rings).astype(np.float64, copy=False) if rings else np.zeros((0, 3))
        return cls(coords, np.fromiter((len(r) for r in rings), np.int64, len(rings)),
                   np.fromiter((len(rs) for _, rs in polygons), np.int64, len(polygons)),
                   [t for t, _ in polygons])

    def as_lists(self) -> list:
        """``[(type, [exterior (n, 3), hole, ...]), ...]`` (views into ``coords``)."""
        ends = np.cumsum(self.ring_len).tolist()
        rings = [self.coords[e - n:e] for e, n in zip(ends, self.ring_len.tolist())]
        out, k = [], 0
        for t, nr in zip(self.types, self.poly_rings.tolist()):
            out.append((t, rings[k:k + nr]))
            k += nr
        return out


_NO_POLYGONS = Polygons(np.zeros((0, 3)), np.zeros(0, np.int64), np.zeros(0, np.int64), [])


@dataclass
class Piece:
    """A Building or BuildingPart with geometry, as the readers hand it over."""

    external_id: str
    building: str
    lod: int
    polygons: Polygons  # its surfaces
    footprint: Polygons | None = None  # LoD0 2D/3D footprint polygons when that is all there is
    name: str = ""
    measured_height: float = float("nan")
    height_reference: str = "top"   # "top" (highest point) or "eaves"
    height_attribute: str = ""      # name of the attribute the height came from
    floors: int = 0
    year: int = 0
    use: str = "unknown"
    use_source: str = ""
    function: str = ""
    ground_z_attribute: float = float("nan")
    source: str = "citygml"


def newell_normals_ragged(c: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Newell normals (length = twice the area) of closed rings given as one (v, 3) array and the
    vertex count of each ring: (n, 3) float64."""
    n = len(lens)
    if n == 0:
        return np.zeros((0, 3))
    starts = np.zeros(n, np.int64)
    starts[1:] = np.cumsum(lens)[:-1]
    first = np.repeat(c[starts], lens, axis=0)
    c = c - first  # centred on each ring's first vertex: Lambert-93 coordinates are ~1e6
    nxt = np.empty_like(c)
    nxt[:-1] = c[1:]
    nxt[-1] = c[-1]
    last = starts + lens - 1
    nxt[last] = c[last]  # rings are closed: the last vertex closes onto itself
    x, y, z = c[:, 0], c[:, 1], c[:, 2]
    xn, yn, zn = nxt[:, 0], nxt[:, 1], nxt[:, 2]
    terms = np.column_stack([(y - yn) * (z + zn), (z - zn) * (x + xn), (x - xn) * (y + yn)])
    return np.add.reduceat(terms, starts, axis=0)


def _gather(start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Indices of the runs ``start[i] : start[i] + length[i]``, one after the other."""
    total = int(length.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    out_start = np.cumsum(length) - length
    return np.repeat(start - out_start, length) + np.arange(total)


def _concat(geoms: list) -> Polygons:
    """One :class:`Polygons` from several."""
    if not geoms:
        return _NO_POLYGONS
    if len(geoms) == 1:
        return geoms[0]
    types: list = []
    for g in geoms:
        types.extend(g.types)
    return Polygons(np.concatenate([g.coords for g in geoms]), np.concatenate([g.ring_len for g in geoms]),
                    np.concatenate([g.poly_rings for g in geoms]), types)


def classify(normals: np.ndarray) -> np.ndarray:
    """Roof, wall or ground from face normals ('' if degenerate or 2D).

    Faces within 5 degrees of vertical are walls; the others are roofs when they face up, ground when
    they face down (outward normals, CityGML's ring orientation).
    """
    norm = np.linalg.norm(normals, axis=1)
    out = np.full(len(normals), "", dtype=object)
    ok = np.isfinite(norm) & (norm > 0)
    nz = np.zeros(len(normals))
    nz[ok] = normals[ok, 2] / norm[ok]
    wall = ok & (np.abs(nz) < np.sin(np.radians(5.0)))
    out[wall] = "wall"
    out[ok & ~wall & (nz > 0)] = "roof"
    out[ok & ~wall & (nz < 0)] = "ground"
    return out


def _polygonal(g):
    if g is None or g.is_empty:
        return None
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    if g.geom_type == "GeometryCollection":
        parts = [p for p in g.geoms if p.geom_type in ("Polygon", "MultiPolygon")]
        return shapely.union_all(parts) if parts else None
    return None


_FOOTPRINT_RULES = ("", "ground surfaces", "lod0 footprint", "downward faces", "roof outline")
_COLUMNS = ("external_id", "building", "name", "height", "roof_height", "ground_z", "floors", "use", "year", "lod",
            "height_source", "floors_source", "use_source", "year_source", "footprint_source", "measured_height",
            "function")


class CityTables:
    """Accumulates buildings and surface polygons; builds the two tables at the end.

    Pieces are processed in batches so that normals, altitudes and footprints are computed with a few
    vectorised NumPy/Shapely calls per batch rather than per building.
    """

    def __init__(self, *, keep_surfaces: bool = True, source: str = "citygml", batch: int = 1024):
        self.columns: dict[str, list] = {c: [] for c in _COLUMNS}
        self.footprints: list = []
        self.keep_surfaces = keep_surfaces
        self.source = source
        self.batch = batch
        self._pending: list[Piece] = []
        # the surfaces table, one entry per batch: ragged coordinates and per-polygon columns
        self._coords: list[np.ndarray] = []
        self._ring_len: list[np.ndarray] = []
        self._poly_rings: list[np.ndarray] = []
        self._poly_owner: list[str] = []
        self._poly_type: list[str] = []
        self._poly_semantic: list[str] = []
        self._poly_lod: list[np.ndarray] = []
        self.counts = {"pieces": 0, "no_footprint": 0, "degenerate_polygons": 0}

    def add(self, piece: Piece) -> None:
        self._pending.append(piece)
        if len(self._pending) >= self.batch:
            self.flush()

    def flush(self) -> None:
        pieces, self._pending = self._pending, []
        if not pieces:
            return
        self.counts["pieces"] += len(pieces)
        n = len(pieces)
        # every polygon of the batch, grouped by piece, as one ragged array
        geo = _concat([p.polygons for p in pieces])
        npoly = np.fromiter((len(p.polygons.poly_rings) for p in pieces), dtype=np.int64, count=n)
        first = np.zeros(n + 1, np.int64)
        first[1:] = np.cumsum(npoly)
        owner = np.repeat(np.arange(n), npoly)
        types = np.array(geo.types, dtype=object)
        m = len(types)
        ring_start = np.cumsum(geo.ring_len) - geo.ring_len
        poly_first = np.cumsum(geo.poly_rings) - geo.poly_rings  # each polygon's exterior ring
        ext_len = geo.ring_len[poly_first]
        if m:
            ext = geo.coords if len(geo.ring_len) == m else geo.coords[_gather(ring_start[poly_first], ext_len)]
            normals = newell_normals_ragged(ext, ext_len)
            starts = np.zeros(m, np.int64)
            starts[1:] = np.cumsum(ext_len)[:-1]
            zc = ext[:, 2]
            zmin = np.fmin.reduceat(zc, starts)
            zmax = np.fmax.reduceat(zc, starts)
        else:
            normals = np.zeros((0, 3))
            zmin = zmax = np.zeros(0)
        norm = np.linalg.norm(normals, axis=1) if m else np.zeros(0)
        is_ground = types == "ground"
        is_roof = types == "roof"
        down = (norm > 0) & (normals[:, 2] < -0.5 * norm) if m else np.zeros(0, bool)
        flat = (norm > 0) & (np.abs(normals[:, 2]) > 0.1 * norm) if m else np.zeros(0, bool)

        def per_piece(func, values, mask):
            out = np.full(n, np.nan)
            v = np.where(mask, values, np.nan)
            has = npoly > 0
            if m and has.any():
                red = func.reduceat(v, first[:-1][has])
                out[has] = red
            return out

        ground_poly = per_piece(np.fmin, zmin, is_ground)
        min_all = per_piece(np.fmin, zmin, np.ones(m, bool))
        top_all = per_piece(np.fmax, zmax, np.ones(m, bool))
        eaves_roof = per_piece(np.fmin, zmin, is_roof)
        n_ground = np.bincount(owner[is_ground], minlength=n) if m else np.zeros(n, int)
        n_down = np.bincount(owner[down], minlength=n) if m else np.zeros(n, int)

        # footprint candidates of each piece: its ground surfaces; else its LoD0 footprint; else its
        # downward faces; else its non-vertical faces
        has_fp = np.fromiter((p.footprint is not None and len(p.footprint) > 0 for p in pieces), dtype=bool, count=n)
        rule = np.where(n_ground > 0, 1, np.where(has_fp, 2, np.where(n_down > 0, 3, 4))).astype(np.int8)
        prule = rule[owner]
        cand = ((prule == 1) & is_ground) | ((prule == 3) & down) | ((prule == 4) & flat)
        n_flat = np.bincount(owner[cand & (prule == 4)], minlength=n) if m else np.zeros(n, int)
        rule[(rule == 4) & (n_flat == 0)] = 0
        fp_pieces = np.flatnonzero(has_fp & (rule == 2))
        fgeo = _concat([pieces[i].footprint for i in fp_pieces])
        fnpoly = np.fromiter((len(pieces[i].footprint) for i in fp_pieces), dtype=np.int64, count=len(fp_pieces))
        # candidates in one coordinate space: the batch's polygons, then the LoD0 footprints
        both = _concat([geo, fgeo]) if len(fgeo) else geo
        cand_poly = np.concatenate([np.flatnonzero(cand), m + np.arange(len(fgeo))])
        cand_piece = np.concatenate([owner[cand], np.repeat(fp_pieces, fnpoly)])
        order = np.argsort(cand_piece, kind="stable")
        footprints = self._footprints(both, cand_poly[order], cand_piece[order], n)

        fz_min = np.full(n, np.nan)
        fz_max = np.full(n, np.nan)
        for i in np.flatnonzero(has_fp):
            fl = pieces[i].footprint
            ends = np.cumsum(fl.ring_len)
            pf = np.cumsum(fl.poly_rings) - fl.poly_rings
            fz = np.concatenate([fl.coords[ends[r] - fl.ring_len[r]:ends[r], 2] for r in pf])
            if np.isfinite(fz).any():
                fz_min[i] = float(np.nanmin(fz))
                fz_max[i] = float(np.nanmax(fz))
        top_z = np.fmax(top_all, fz_max)
        gz_attr = np.fromiter((p.ground_z_attribute for p in pieces), dtype=np.float64, count=n)
        ground_z = np.where(np.isfinite(ground_poly), ground_poly,
                            np.where(np.isfinite(fz_min), fz_min, np.where(np.isfinite(min_all), min_all, gz_attr)))
        lods = np.fromiter((p.lod for p in pieces), dtype=np.int64, count=n)
        eaves_z = np.where(np.isfinite(eaves_roof), eaves_roof,
                           np.where(((lods == 0) | (lods == 1)) & (npoly > 0), top_z, np.nan))
        self._rows(pieces, footprints, rule, ground_z, eaves_z, top_z, lods)
        if self.keep_surfaces and m:
            semantic = np.where(types == "", "orientation", "file").astype(object)
            if (types == "").any():
                derived = classify(normals)
                types = np.where(types == "", derived, types)
            keep_poly = types != ""
            # rings of fewer than 4 vertices are dropped; a polygon left without rings is degenerate
            ring_owner = np.repeat(np.arange(m), geo.poly_rings)
            keep_ring = (geo.ring_len >= 4) & keep_poly[ring_owner]
            nr = np.bincount(ring_owner[keep_ring], minlength=m)
            degenerate = keep_poly & (nr == 0)
            self.counts["degenerate_polygons"] += int(degenerate.sum())
            keep_poly &= nr > 0
            if keep_ring.all():
                self._coords.append(geo.coords)
            else:
                self._coords.append(geo.coords[_gather(ring_start[keep_ring], geo.ring_len[keep_ring])])
            self._ring_len.append(geo.ring_len[keep_ring])
            self._poly_rings.append(nr[keep_poly])
            ids = np.array([p.external_id for p in pieces], dtype=object)
            self._poly_owner.extend(ids[owner[keep_poly]].tolist())
            self._poly_type.extend(types[keep_poly].tolist())
            self._poly_semantic.extend(semantic[keep_poly].tolist())
            self._poly_lod.append(lods[owner[keep_poly]])

    @staticmethod
    def _footprints(geo: Polygons, cand_poly: np.ndarray, cand_piece: np.ndarray, n: int) -> list:
        """2D footprints of ``n`` pieces from their candidate polygons (built at once, unioned per piece).

        ``cand_poly`` are polygons of ``geo``, grouped by their piece ``cand_piece``.
        """
        out: list = [None] * n
        if not len(cand_poly):
            return out
        ring_start = np.cumsum(geo.ring_len) - geo.ring_len
        poly_first = np.cumsum(geo.poly_rings) - geo.poly_rings
        ext = poly_first[cand_poly]
        # the same ring twice in a piece (a solid referencing a listed surface) adds nothing
        counts = np.bincount(cand_piece, minlength=n)
        multi = np.flatnonzero(counts[cand_piece] > 1)
        if len(multi):
            keep = np.ones(len(cand_poly), bool)
            c = geo.coords
            seen: set = set()
            last = -1
            for k, i, a, ln in zip(multi.tolist(), cand_piece[multi].tolist(), ring_start[ext[multi]].tolist(),
                                   geo.ring_len[ext[multi]].tolist()):
                if i != last:
                    seen = set()
                    last = i
                key = c[a:a + ln].tobytes()
                if key in seen:
                    keep[k] = False
                else:
                    seen.add(key)
            cand_poly, cand_piece, ext = cand_poly[keep], cand_piece[keep], ext[keep]
        # usable: an exterior of 4 vertices or more, finite in x and y
        bad_vertex = ~np.isfinite(geo.coords[:, :2]).all(axis=1)
        ok = geo.ring_len[ext] >= 4
        if bad_vertex.any():
            cum = np.zeros(len(bad_vertex) + 1, np.int64)
            cum[1:] = np.cumsum(bad_vertex)
            ok &= cum[ring_start[ext] + geo.ring_len[ext]] == cum[ring_start[ext]]
        cand_poly, cand_piece = cand_poly[ok], cand_piece[ok]
        if not len(cand_poly):
            return out
        # each candidate's exterior and its holes of 4 vertices or more, in 2D
        nr = geo.poly_rings[cand_poly]
        rings = _gather(poly_first[cand_poly], nr)
        is_ext = np.zeros(len(rings), bool)
        is_ext[np.cumsum(nr) - nr] = True
        rkeep = is_ext | (geo.ring_len[rings] >= 4)
        poly_of = np.repeat(np.arange(len(cand_poly)), nr)
        rings = rings[rkeep]
        poly_rings = np.bincount(poly_of[rkeep], minlength=len(cand_poly))
        ring_len = geo.ring_len[rings]
        coords = geo.coords[_gather(ring_start[rings], ring_len), :2]
        ro = np.zeros(len(ring_len) + 1, np.int64)
        ro[1:] = np.cumsum(ring_len)
        po = np.zeros(len(poly_rings) + 1, np.int64)
        po[1:] = np.cumsum(poly_rings)
        polys = shapely.from_ragged_array(GeometryType.POLYGON, coords, offsets=(ro, po))
        bad = ~shapely.is_valid(polys)
        if bad.any():
            polys[bad] = shapely.make_valid(polys[bad])
        starts = np.flatnonzero(np.r_[True, cand_piece[1:] != cand_piece[:-1]])
        ends = np.r_[starts[1:], len(cand_piece)]
        for s, e in zip(starts.tolist(), ends.tolist()):
            i = int(cand_piece[s])
            if e - s == 1:
                g = polys[s]
            else:
                g = shapely.union_all(polys[s:e], grid_size=1e-3)
            out[i] = _polygonal(g)
        return out

    def _rows(self, pieces, footprints, rule, ground_z, eaves_z, top_z, lods) -> None:
        """The rows of a batch: heights from the geometry, else from the attribute, with their sources."""
        n = len(pieces)
        with np.errstate(invalid="ignore"):
            both = np.isfinite(eaves_z) & np.isfinite(ground_z)
            geo_height = np.where(both, eaves_z - ground_z, np.nan)
            geo_height[~(geo_height > 0)] = np.nan
            geo_top = np.where(np.isfinite(top_z) & np.isfinite(ground_z), top_z - ground_z, np.nan)
            geo_top[~(geo_top > 0)] = np.nan
            measured = np.fromiter((p.measured_height for p in pieces), dtype=np.float64, count=n)
            attr = np.where(measured > 0, measured, np.nan)
        has_geo = np.isfinite(geo_height)
        has_attr = np.isfinite(attr)
        height = np.where(has_geo, geo_height, np.where(has_attr, attr, np.nan))
        ref_top = np.fromiter((p.height_reference == "top" for p in pieces), dtype=bool, count=n)
        # a top-referenced attribute is the roof height; an eaves one leaves the geometry's top
        roof_height = np.where(has_attr & ref_top, attr, geo_top)
        low = np.isfinite(roof_height) & np.isfinite(height) & (roof_height < height)
        roof_height[low] = height[low]
        src = self.source
        hsrc = [f"{src}:lod{p.lod}-geometry" if g else (f"{src}:{p.height_attribute or 'height'}" if a else "")
                for p, g, a in zip(pieces, has_geo.tolist(), has_attr.tolist())]
        fsrc = [f"{src}:{_FOOTPRINT_RULES[r]}" if fp is not None and r else ""
                for fp, r in zip(footprints, rule.tolist())]
        self.counts["no_footprint"] += sum(fp is None for fp in footprints)
        cols = self.columns
        cols["external_id"].extend([p.external_id for p in pieces])
        cols["building"].extend([p.building for p in pieces])
        cols["name"].extend([p.name for p in pieces])
        cols["height"].extend(height.tolist())
        cols["roof_height"].extend(roof_height.tolist())
        cols["ground_z"].extend(ground_z.tolist())
        cols["floors"].extend([p.floors for p in pieces])
        cols["use"].extend([p.use for p in pieces])
        cols["year"].extend([p.year for p in pieces])
        cols["lod"].extend(lods.tolist())
        cols["height_source"].extend(hsrc)
        cols["floors_source"].extend([f"{src}:storeysAboveGround" if p.floors else "" for p in pieces])
        cols["use_source"].extend([p.use_source for p in pieces])
        cols["year_source"].extend([f"{src}:year" if p.year else "" for p in pieces])
        cols["footprint_source"].extend(fsrc)
        cols["measured_height"].extend(attr.tolist())
        cols["function"].extend([p.function for p in pieces])
        self.footprints.extend(footprints)

    def buildings(self, crs) -> gpd.GeoDataFrame:
        self.flush()
        data = self.columns
        gdf = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(self.footprints, crs=crs), crs=crs)
        for c, t in (("height", "float32"), ("roof_height", "float32"), ("ground_z", "float32"), ("measured_height", "float32"),
                     ("floors", "int16"), ("year", "int16"), ("lod", "int8")):
            gdf[c] = gdf[c].astype(t)
        return gdf

    def surfaces(self, crs) -> gpd.GeoDataFrame:
        self.flush()
        if not self._poly_owner:
            return gpd.GeoDataFrame({"external_id": [], "surface": [], "area": np.zeros(0, np.float32),
                                     "slope": np.zeros(0, np.float32), "azimuth": np.zeros(0, np.float32),
                                     "lod": np.zeros(0, np.int8), "semantics": []},
                                    geometry=gpd.GeoSeries([], crs=crs), crs=crs)
        coords = np.concatenate(self._coords).astype(np.float64)
        ring_offsets = np.concatenate([[0], np.cumsum(np.concatenate(self._ring_len))]).astype(np.int64)
        poly_offsets = np.concatenate([[0], np.cumsum(np.concatenate(self._poly_rings))]).astype(np.int64)
        area, slope, azimuth = polygon_metrics(coords, ring_offsets, poly_offsets)
        geoms = shapely.from_ragged_array(GeometryType.POLYGON, coords, offsets=(ring_offsets, poly_offsets))
        return gpd.GeoDataFrame(
            {"external_id": self._poly_owner, "surface": self._poly_type, "area": area.astype(np.float32),
             "slope": slope.astype(np.float32), "azimuth": azimuth.astype(np.float32),
             "lod": np.concatenate(self._poly_lod).astype(np.int8), "semantics": self._poly_semantic},
            geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs,
        )
