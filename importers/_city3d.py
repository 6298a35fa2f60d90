"""3D city models (CityGML, CityJSON) -> buildings and building_surfaces tables. Shared by both readers.

A reader turns each Building or BuildingPart that carries geometry into a :class:`Piece`:
its polygons (rings of x, y, z vertices) with their semantic type (roof, wall, ground,
closure, or '' when the geometry has no semantics), and its attributes. This module
derives, the same way for both formats:

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

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from shapely import GeometryType

from importers._geometry import polygon_metrics

__all__ = ["SURFACE_TYPES", "CityTables", "Piece"]

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
class Piece:
    """A Building or BuildingPart with geometry, as the readers hand it over."""

    external_id: str
    building: str
    lod: int
    polygons: list  # list of (surface type or '', [exterior ring (n, 3), hole rings...])
    footprint: list = field(default_factory=list)  # LoD0 2D/3D rings when that is all there is
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


def newell_normals(rings: list[np.ndarray]) -> np.ndarray:
    """Newell normals (length = twice the area) of closed rings, all at once: (n, 3) float64."""
    n = len(rings)
    if n == 0:
        return np.zeros((0, 3))
    lens = np.fromiter((len(r) for r in rings), dtype=np.int64, count=n)
    c = np.concatenate(rings)
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


class CityTables:
    """Accumulates buildings and surface polygons; builds the two tables at the end.

    Pieces are processed in batches so that normals, altitudes and footprints are computed with a few
    vectorised NumPy/Shapely calls per batch rather than per building.
    """

    def __init__(self, *, keep_surfaces: bool = True, source: str = "citygml", batch: int = 1024):
        self.rows: list[dict] = []
        self.footprints: list = []
        self.keep_surfaces = keep_surfaces
        self.source = source
        self.batch = batch
        self._pending: list[Piece] = []
        self._coords: list[np.ndarray] = []
        self._ring_len: list[int] = []
        self._poly_rings: list[int] = []
        self._poly_owner: list[str] = []
        self._poly_type: list[str] = []
        self._poly_semantic: list[str] = []
        self._poly_lod: list[int] = []
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
        # every polygon of the batch, grouped by piece
        npoly = np.fromiter((len(p.polygons) for p in pieces), dtype=np.int64, count=n)
        first = np.zeros(n + 1, np.int64)
        first[1:] = np.cumsum(npoly)
        owner = np.repeat(np.arange(n), npoly)
        types = np.array([t for p in pieces for t, _ in p.polygons], dtype=object)
        exteriors = [r[0] for p in pieces for _, r in p.polygons]
        m = len(exteriors)
        if m:
            normals = newell_normals(exteriors)
            lens = np.fromiter((len(r) for r in exteriors), dtype=np.int64, count=m)
            starts = np.zeros(m, np.int64)
            starts[1:] = np.cumsum(lens)[:-1]
            zc = np.concatenate(exteriors)[:, 2]
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

        # footprint candidates of each piece: (rings list, rule)
        cand_rings: list = []
        cand_piece: list[int] = []
        rule = np.zeros(n, np.int8)
        for i, p in enumerate(pieces):
            lo, hi = first[i], first[i + 1]
            if n_ground[i]:
                sel, r = [p.polygons[k - lo][1] for k in range(lo, hi) if is_ground[k]], 1
            elif p.footprint:
                sel, r = p.footprint, 2
            elif n_down[i]:
                sel, r = [p.polygons[k - lo][1] for k in range(lo, hi) if down[k]], 3
            else:
                sel, r = [p.polygons[k - lo][1] for k in range(lo, hi) if flat[k]], 4
            if not sel:
                continue
            rule[i] = r
            seen = set()
            for rings in sel:
                key = rings[0].tobytes()
                if key in seen:
                    continue  # the same ring twice (a solid referencing a listed surface) adds nothing
                seen.add(key)
                cand_rings.append(rings)
                cand_piece.append(i)
        footprints = self._footprints(cand_rings, np.asarray(cand_piece, np.int64), n)
        for i, p in enumerate(pieces):
            fz = np.concatenate([r[0][:, 2] for r in p.footprint]) if p.footprint else None
            fz_min = float(np.nanmin(fz)) if fz is not None and np.isfinite(fz).any() else np.nan
            fz_max = float(np.nanmax(fz)) if fz is not None and np.isfinite(fz).any() else np.nan
            top_z = float(np.fmax(top_all[i], fz_max))
            if np.isfinite(ground_poly[i]):
                ground_z = ground_poly[i]
            elif np.isfinite(fz_min):
                ground_z = fz_min
            elif np.isfinite(min_all[i]):
                ground_z = min_all[i]
            else:
                ground_z = p.ground_z_attribute
            if np.isfinite(eaves_roof[i]):
                eaves_z = eaves_roof[i]
            elif p.lod in (0, 1) and npoly[i]:
                eaves_z = top_z  # the top of a LoD1 block, or a LoD0 roof edge
            else:
                eaves_z = np.nan
            self._row(p, footprints[i], _FOOTPRINT_RULES[rule[i]] if footprints[i] is not None else "",
                      float(ground_z), float(eaves_z), top_z)
        if self.keep_surfaces and m:
            derived = classify(normals) if (types == "").any() else None
            k = 0
            for p in pieces:
                for t, rings in p.polygons:
                    semantic = "file"
                    if not t:
                        t = derived[k]
                        semantic = "orientation"
                    k += 1
                    if not t:
                        continue
                    rings = [r for r in rings if len(r) >= 4]
                    if not rings:
                        self.counts["degenerate_polygons"] += 1
                        continue
                    for r in rings:
                        self._coords.append(r)
                        self._ring_len.append(len(r))
                    self._poly_rings.append(len(rings))
                    self._poly_owner.append(p.external_id)
                    self._poly_type.append(t)
                    self._poly_semantic.append(semantic)
                    self._poly_lod.append(p.lod)

    @staticmethod
    def _footprints(cand_rings: list, cand_piece: np.ndarray, n: int) -> list:
        """2D footprints of ``n`` pieces from their candidate polygons (built at once, unioned per piece)."""
        out: list = [None] * n
        if not cand_rings:
            return out
        coords, ring_len, poly_rings = [], [], []
        keep = [len(r[0]) >= 4 and np.isfinite(r[0][:, :2]).all() for r in cand_rings]
        cand_rings = [r for r, k in zip(cand_rings, keep) if k]
        cand_piece = cand_piece[np.asarray(keep, bool)] if len(keep) else cand_piece
        if not cand_rings:
            return out
        for rings in cand_rings:
            rings = [rings[0]] + [h for h in rings[1:] if len(h) >= 4]
            for r in rings:
                coords.append(r[:, :2])
                ring_len.append(len(r))
            poly_rings.append(len(rings))
        coords = np.concatenate(coords)
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
        for s, e in zip(starts, ends):
            i = int(cand_piece[s])
            if e - s == 1:
                g = polys[s]
            else:
                g = shapely.union_all(polys[s:e], grid_size=1e-3)
            out[i] = _polygonal(g)
        return out

    def _row(self, piece: Piece, fp, rule: str, ground_z: float, eaves_z: float, top_z: float) -> None:
        geo_height = eaves_z - ground_z if np.isfinite(eaves_z) and np.isfinite(ground_z) else np.nan
        geo_top = top_z - ground_z if np.isfinite(top_z) and np.isfinite(ground_z) else np.nan
        if not (geo_height > 0):
            geo_height = np.nan
        if not (geo_top > 0):
            geo_top = np.nan
        attr = piece.measured_height if piece.measured_height > 0 else np.nan
        src = self.source
        if np.isfinite(geo_height):
            height, hsrc = geo_height, f"{src}:lod{piece.lod}-geometry"
        elif np.isfinite(attr):
            height, hsrc = attr, f"{src}:{piece.height_attribute or 'height'}"
        else:
            height, hsrc = np.nan, ""
        if np.isfinite(attr) and piece.height_reference == "top":
            roof_height = attr
        elif np.isfinite(attr) and piece.height_reference == "eaves":
            roof_height = geo_top
            if not np.isfinite(geo_height):
                height, hsrc = attr, f"{src}:{piece.height_attribute or 'height'}"
        else:
            roof_height = geo_top
        if np.isfinite(roof_height) and np.isfinite(height) and roof_height < height:
            roof_height = height
        if fp is None:
            self.counts["no_footprint"] += 1
        self.rows.append({
            "external_id": piece.external_id,
            "building": piece.building,
            "name": piece.name,
            "height": height,
            "roof_height": roof_height,
            "ground_z": ground_z,
            "floors": piece.floors,
            "use": piece.use,
            "year": piece.year,
            "lod": piece.lod,
            "height_source": hsrc,
            "floors_source": f"{src}:storeysAboveGround" if piece.floors else "",
            "use_source": piece.use_source,
            "year_source": f"{src}:year" if piece.year else "",
            "footprint_source": f"{src}:{rule}" if rule else "",
            "measured_height": attr,
            "function": piece.function,
        })
        self.footprints.append(fp)

    def buildings(self, crs) -> gpd.GeoDataFrame:
        self.flush()
        cols = ["external_id", "building", "name", "height", "roof_height", "ground_z", "floors", "use", "year", "lod",
                "height_source", "floors_source", "use_source", "year_source", "footprint_source", "measured_height",
                "function"]
        if not self.rows:
            data = {c: [] for c in cols}
        else:
            data = {c: [r[c] for r in self.rows] for c in cols}
        gdf = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(self.footprints, crs=crs), crs=crs)
        for c, t in (("height", "float32"), ("roof_height", "float32"), ("ground_z", "float32"), ("measured_height", "float32"),
                     ("floors", "int16"), ("year", "int16"), ("lod", "int8")):
            gdf[c] = gdf[c].astype(t)
        return gdf

    def surfaces(self, crs) -> gpd.GeoDataFrame:
        self.flush()
        if not self._poly_rings:
            return gpd.GeoDataFrame({"external_id": [], "surface": [], "area": np.zeros(0, np.float32),
                                     "slope": np.zeros(0, np.float32), "azimuth": np.zeros(0, np.float32),
                                     "lod": np.zeros(0, np.int8), "semantics": []},
                                    geometry=gpd.GeoSeries([], crs=crs), crs=crs)
        coords = np.concatenate(self._coords).astype(np.float64)
        ring_offsets = np.concatenate([[0], np.cumsum(self._ring_len)]).astype(np.int64)
        poly_offsets = np.concatenate([[0], np.cumsum(self._poly_rings)]).astype(np.int64)
        area, slope, azimuth = polygon_metrics(coords, ring_offsets, poly_offsets)
        geoms = shapely.from_ragged_array(GeometryType.POLYGON, coords, offsets=(ring_offsets, poly_offsets))
        return gpd.GeoDataFrame(
            {"external_id": self._poly_owner, "surface": self._poly_type, "area": area.astype(np.float32),
             "slope": slope.astype(np.float32), "azimuth": azimuth.astype(np.float32),
             "lod": np.asarray(self._poly_lod, np.int8), "semantics": self._poly_semantic},
            geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs,
        )
