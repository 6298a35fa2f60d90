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

__all__ = ["Piece", "CityTables", "SURFACE_TYPES"]

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


def _normal(ring: np.ndarray) -> np.ndarray:
    r = ring - ring[0]
    x, y, z = r[:, 0], r[:, 1], r[:, 2]
    xn, yn, zn = np.roll(x, -1), np.roll(y, -1), np.roll(z, -1)
    return np.array([((y - yn) * (z + zn)).sum(), ((z - zn) * (x + xn)).sum(), ((x - xn) * (y + yn)).sum()])


def _classify(ring: np.ndarray) -> str:
    """Roof, wall or ground from the orientation of a face without semantics ('' if degenerate or 2D).

    Faces within 5 degrees of vertical are walls; the others are roofs when they face up, ground when
    they face down (outward normals, CityGML's ring orientation).
    """
    n = _normal(ring)
    norm = np.linalg.norm(n)
    if not np.isfinite(norm) or norm == 0:
        return ""
    nz = n[2] / norm
    if abs(nz) < np.sin(np.radians(5.0)):
        return "wall"
    return "roof" if nz > 0 else "ground"


def _poly2d(rings):
    ext = rings[0]
    if len(ext) < 4:
        return None
    holes = [h[:, :2] for h in rings[1:] if len(h) >= 4]
    try:
        p = shapely.polygons(ext[:, :2], holes=holes or None)
    except Exception:  # degenerate rings (GEOS refuses fewer than 4 points etc.)
        return None
    if not p.is_valid:
        p = shapely.make_valid(p)
    return p if not p.is_empty else None


def footprint_of(piece: Piece):
    """The 2D footprint of a piece (Polygon/MultiPolygon) or None, and the rule used."""
    polys = piece.polygons
    cand = [r for t, r in polys if t == "ground"]
    rule = "ground surfaces"
    if not cand and piece.footprint:
        cand, rule = piece.footprint, "lod0 footprint"
    if not cand and polys:
        normals = [(_normal(r[0]), r) for _, r in polys]
        cand = [r for n, r in normals if np.linalg.norm(n) > 0 and n[2] < -0.5 * np.linalg.norm(n)]
        rule = "downward faces"
        if not cand:
            cand = [r for n, r in normals if np.linalg.norm(n) > 0 and abs(n[2]) > 0.1 * np.linalg.norm(n)]
            rule = "roof outline"
    if not cand:
        return None, ""
    parts = [p for p in (_poly2d(r) for r in cand) if p is not None]
    if not parts:
        return None, ""
    if len(parts) == 1:
        fp = parts[0]
    else:
        fp = shapely.union_all(parts, grid_size=1e-3)
    fp = _polygonal(fp)
    return fp, rule


def _polygonal(g):
    if g is None or g.is_empty:
        return None
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    if g.geom_type == "GeometryCollection":
        parts = [p for p in g.geoms if p.geom_type in ("Polygon", "MultiPolygon")]
        return shapely.union_all(parts) if parts else None
    return None


class CityTables:
    """Accumulates buildings rows and surface polygons; builds the two tables at the end."""

    def __init__(self, *, keep_surfaces: bool = True, source: str = "citygml"):
        self.rows: list[dict] = []
        self.footprints: list = []
        self.keep_surfaces = keep_surfaces
        self.source = source
        self._coords: list[np.ndarray] = []
        self._ring_len: list[int] = []
        self._poly_rings: list[int] = []
        self._poly_owner: list[str] = []
        self._poly_type: list[str] = []
        self._poly_semantic: list[str] = []
        self._poly_lod: list[int] = []
        self.counts = {"pieces": 0, "no_footprint": 0, "degenerate_polygons": 0}

    def add(self, piece: Piece) -> None:
        self.counts["pieces"] += 1
        fp, rule = footprint_of(piece)
        zs = [r[0][:, 2] for _, r in piece.polygons] + [r[0][:, 2] for r in piece.footprint]
        zall = np.concatenate(zs) if zs else np.array([])
        zall = zall[np.isfinite(zall)]
        ground = [r[0][:, 2] for t, r in piece.polygons if t == "ground"] or [r[0][:, 2] for r in piece.footprint]
        gz = np.concatenate(ground) if ground else zall
        gz = gz[np.isfinite(gz)]
        ground_z = float(gz.min()) if gz.size else piece.ground_z_attribute
        top_z = float(zall.max()) if zall.size else np.nan
        roofs = [r[0][:, 2] for t, r in piece.polygons if t == "roof"]
        if roofs:
            eaves_z = min(float(np.nanmin(z)) for z in roofs if np.isfinite(z).any()) if any(np.isfinite(z).any() for z in roofs) else np.nan
        elif piece.lod == 1:
            eaves_z = top_z
        elif piece.lod == 0 and piece.polygons:
            # LoD0 roof edge above a LoD0 footprint
            eaves_z = top_z
        else:
            eaves_z = np.nan
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
        if self.keep_surfaces:
            for t, rings in piece.polygons:
                semantic = "file"
                if not t:
                    t = _classify(rings[0])
                    semantic = "orientation"
                    if not t:
                        continue
                if any(len(r) < 4 for r in rings[:1]):
                    self.counts["degenerate_polygons"] += 1
                    continue
                rings = [r for r in rings if len(r) >= 4]
                for r in rings:
                    self._coords.append(r)
                    self._ring_len.append(len(r))
                self._poly_rings.append(len(rings))
                self._poly_owner.append(piece.external_id)
                self._poly_type.append(t)
                self._poly_semantic.append(semantic)
                self._poly_lod.append(piece.lod)

    def buildings(self, crs) -> gpd.GeoDataFrame:
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
