"""Meshes of a twin in local coordinates: terrain, buildings, trees, water, draped rasters.

Everything here is plain NumPy and shapely: a :class:`Part` holds points
(float32, metres from ``twin.local_origin``, z in metres of altitude), faces and
colours. The renderer turns parts into VTK actors, the glTF exporter into trimesh
meshes; both thus draw the same geometry with the same colours.

Local coordinates: ``x_local = x - xmin``, ``y_local = y - ymin`` of the grid,
``z`` unchanged (altitudes of the twin's vertical datum). Lambert-93 coordinates
(~7e5, ~6.5e6) would lose centimetres in float32; local ones keep millimetres.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from twin.grid import Grid
from twin.render.palettes import BUILDING_STYLE, use_group

__all__ = [
    "Part", "raster_surface", "terrain_texture", "sun_shadow", "hillshade", "building_part", "lod2_part",
    "tree_part", "auto_step", "sample_raster",
]

#: Default sun of the pictures: azimuth clockwise from north and elevation [degree].
SUN_AZIMUTH = 240.0
SUN_ELEVATION = 35.0


@dataclass
class Part:
    """One drawable object of a scene, in local coordinates.

    Attributes
    ----------
    name : str
        ``"terrain"``, ``"buildings"``, ``"trees"``, ``"water"``, ``"drape"``, ``"lights"``, ``"lines"``...
    kind : str
        ``"mesh"`` (polygons), ``"points"`` or ``"lines"`` (segments).
    points : (n, 3) float32
    faces : (m, k) int64
        Polygons with k = 3 or 4 vertices (meshes), or (m, 2) segments (lines); None for points.
    cell_rgb, point_rgb : uint8 arrays, optional
        Flat colour per face, or colour per point.
    texture, tcoords : optional
        An RGB image ``(h, w, 3)`` uint8 (row 0 at the top, i.e. north) and ``(n, 2)`` texture coordinates.
    cell_ids : (m,) int32, optional
        Owner id of each face (the building id for buildings).
    cell_role : (m,) int8, optional
        For buildings: 0 wall, 1 roof.
    opacity, lighting, smooth, size : rendering hints
        ``lighting=False`` draws emissive colours (lights at night); ``size`` is the point size or line width
        in pixels for a picture 1000 pixels high.
    """

    name: str
    kind: str
    points: np.ndarray
    faces: np.ndarray | None = None
    cell_rgb: np.ndarray | None = None
    point_rgb: np.ndarray | None = None
    texture: np.ndarray | None = None
    tcoords: np.ndarray | None = None
    cell_ids: np.ndarray | None = None
    cell_role: np.ndarray | None = None
    opacity: float = 1.0
    lighting: bool = True
    smooth: bool = False
    size: float = 1.0
    meta: dict = field(default_factory=dict)

    @property
    def n_points(self) -> int:
        return int(len(self.points))

    def triangles(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Faces as triangles ``(t, 3)`` and, for each triangle, the index of the face it came from."""
        if self.faces is None or self.kind != "mesh":
            raise ValueError(f"part {self.name!r} has no faces")
        f = self.faces
        if f.shape[1] == 3:
            return f, np.arange(len(f))
        if f.shape[1] == 4:
            tri = np.concatenate([f[:, [0, 1, 2]], f[:, [0, 2, 3]]])
            src = np.concatenate([np.arange(len(f)), np.arange(len(f))])
            order = np.argsort(src, kind="stable")
            return tri[order], src[order]
        raise ValueError(f"part {self.name!r}: faces with {f.shape[1]} vertices")


# -- rasters ---------------------------------------------------------------------------------------

def auto_step(grid: Grid, *, max_cells: int = 300_000) -> int:
    """The smallest whole block size (cells) that keeps a full-grid surface under ``max_cells`` quads."""
    return max(1, int(np.ceil(np.sqrt(grid.size / max_cells))))


def sample_raster(grid: Grid, values: np.ndarray, x_local, y_local) -> np.ndarray:
    """Values of a grid-shaped array at local points (nearest cell, clipped to the grid)."""
    cs = grid.cell_size
    c = np.clip(np.floor(np.asarray(x_local) / cs).astype(np.int64), 0, grid.ncols - 1)
    r = np.clip(grid.nrows - 1 - np.floor(np.asarray(y_local) / cs).astype(np.int64), 0, grid.nrows - 1)
    return values[r, c]


def raster_surface(grid: Grid, z: np.ndarray, *, step: int = 1, mask: np.ndarray | None = None):
    """A quad mesh of a raster: one quad per block of ``step x step`` cells where valid.

    Each quad covers its block exactly (corners on cell edges) and takes the
    block's centre cell as its sample; corner altitudes are the mean of the valid
    neighbouring samples, so the surface is continuous and meets its own edges.

    Parameters
    ----------
    grid : Grid
    z : (nrows, ncols) array
        Altitude of the surface [m]; NaN cells are left out.
    step : int
        Block size in cells.
    mask : (nrows, ncols) bool, optional
        Cells to draw (default: where ``z`` is finite).

    Returns
    -------
    points : (n, 3) float32
        Corner points in local coordinates.
    quads : (m, 4) int64
        Counter-clockwise seen from above.
    sample : tuple of two (m,) int64 arrays
        ``(row, col)`` of the grid cell each quad samples (to colour it).
    tcoords : (n, 2) float32
        Texture coordinates of the points for an image of the whole grid (row 0 north).
    """
    nrows, ncols = grid.shape
    cs = grid.cell_size
    step = max(1, int(step))
    rr = np.minimum(np.arange(0, nrows, step) + step // 2, nrows - 1)
    cc = np.minimum(np.arange(0, ncols, step) + step // 2, ncols - 1)
    zs = np.asarray(z, dtype=np.float64)[np.ix_(rr, cc)]
    valid = np.isfinite(zs)
    if mask is not None:
        valid &= np.asarray(mask, dtype=bool)[np.ix_(rr, cc)]
    nr, nc = zs.shape
    zp = np.zeros((nr + 2, nc + 2))
    wp = np.zeros((nr + 2, nc + 2))
    zp[1:-1, 1:-1] = np.where(valid, zs, 0.0)
    wp[1:-1, 1:-1] = valid
    zsum = zp[:-1, :-1] + zp[:-1, 1:] + zp[1:, :-1] + zp[1:, 1:]
    wsum = wp[:-1, :-1] + wp[:-1, 1:] + wp[1:, :-1] + wp[1:, 1:]
    zc = zsum / np.maximum(wsum, 1)
    xc = np.minimum(np.arange(nc + 1) * step, ncols) * cs
    yc = (nrows - np.minimum(np.arange(nr + 1) * step, nrows)) * cs
    ii, jj = np.nonzero(valid)
    corner = np.arange((nr + 1) * (nc + 1)).reshape(nr + 1, nc + 1)
    quads = np.stack([corner[ii + 1, jj], corner[ii + 1, jj + 1], corner[ii, jj + 1], corner[ii, jj]], axis=1)
    used = np.zeros(corner.size, dtype=bool)
    used[quads.ravel()] = True
    remap = np.cumsum(used) - 1
    quads = remap[quads]
    ci, cj = np.divmod(np.nonzero(used)[0], nc + 1)
    pts = np.stack([xc[cj], yc[ci], zc[ci, cj]], axis=1).astype(np.float32)
    tcoords = np.stack([xc[cj] / (ncols * cs), yc[ci] / (nrows * cs)], axis=1).astype(np.float32)
    return pts, quads.astype(np.int64), (rr[ii], cc[jj]), tcoords


def hillshade(terrain: np.ndarray, cell_size: float, *, azimuth: float = SUN_AZIMUTH,
              elevation: float = SUN_ELEVATION) -> np.ndarray:
    """Lambertian hill-shading of a terrain, normalised so that flat ground is 1.0 (float32).

    ``cos(i) = cos(z) cos(s) + sin(z) sin(s) cos(A - a)`` with the sun zenith ``z``,
    slope ``s``, sun azimuth ``A`` and aspect ``a`` (Horn-like central differences).
    """
    t = np.asarray(terrain, dtype=np.float64)
    if not np.all(np.isfinite(t)):
        t = np.where(np.isfinite(t), t, np.nanmean(t) if np.isfinite(t).any() else 0.0)
    gy, gx = np.gradient(t, cell_size)  # gy along rows (southwards)
    dzdx, dzdy = gx, -gy  # east, north
    zen = np.radians(90.0 - elevation)
    az = np.radians(azimuth)
    # sun direction (east, north, up) and surface normal (-dzdx, -dzdy, 1)/norm
    sun = np.array([np.sin(zen) * np.sin(az), np.sin(zen) * np.cos(az), np.cos(zen)])
    norm = np.sqrt(dzdx * dzdx + dzdy * dzdy + 1.0)
    cosi = (-dzdx * sun[0] - dzdy * sun[1] + sun[2]) / norm
    return (np.clip(cosi, 0.0, 1.0) / sun[2]).astype(np.float32)


def sun_shadow(surface: np.ndarray, cell_size: float, *, azimuth: float = SUN_AZIMUTH,
               elevation: float = SUN_ELEVATION, max_distance: float = 120.0) -> np.ndarray:
    """Cells in the shadow of the surface model for a sun at ``azimuth``/``elevation`` (bool).

    A cell is shaded when some surface cell towards the sun, whose near edge is at horizontal
    distance ``d`` from the cell centre, rises above it by more than ``d tan(elevation)`` (a ray march on the DSM, one whole
    array shift per step; cost ``O(cells x steps)`` with steps <= max relief / tan(elevation)).
    """
    s = np.asarray(surface, dtype=np.float32)
    s = np.where(np.isfinite(s), s, np.float32(-1e9))
    finite = s[s > -1e8]
    if finite.size == 0:
        return np.zeros(s.shape, bool)
    relief = float(finite.max() - finite.min())
    tan_e = np.tan(np.radians(elevation))
    dmax = min(max_distance, relief / tan_e)
    nsteps = int(np.ceil(dmax / cell_size))
    az = np.radians(azimuth)
    de, dn = np.sin(az), np.cos(az)
    shade = np.zeros(s.shape, bool)
    seen = set()
    nrows, ncols = s.shape
    for k in range(1, nsteps + 1):
        dc = int(round(k * de))
        dr = int(round(-k * dn))
        if (dr, dc) in seen or (dr == 0 and dc == 0):
            continue
        seen.add((dr, dc))
        d = (np.hypot(dr, dc) - 0.5) * cell_size  # to the near edge of the blocking cell
        if abs(dr) >= nrows or abs(dc) >= ncols:
            break
        # target cells p, blockers at p + (dr, dc)
        r0, r1 = max(0, -dr), nrows - max(0, dr)
        c0, c1 = max(0, -dc), ncols - max(0, dc)
        tgt = s[r0:r1, c0:c1]
        blk = s[r0 + dr:r1 + dr, c0 + dc:c1 + dc]
        shade[r0:r1, c0:c1] |= blk - tgt > np.float32(d * tan_e)
    return shade


def terrain_texture(landcover_rgb: np.ndarray, *, shade: np.ndarray | None = None, shadow: np.ndarray | None = None,
                    shade_strength: float = 0.55, shadow_darkness: float = 0.62) -> np.ndarray:
    """Combine land-cover colours, hill-shading and cast shadows into an RGB texture (uint8)."""
    img = landcover_rgb.astype(np.float32)
    f = np.ones(img.shape[:2], np.float32)
    if shade is not None:
        f *= 1.0 + shade_strength * (np.clip(shade, 0.0, 1.6) - 1.0)
    if shadow is not None:
        from scipy.ndimage import uniform_filter

        soft = uniform_filter(shadow.astype(np.float32), size=3, mode="nearest")
        f *= 1.0 - (1.0 - shadow_darkness) * soft
    return np.clip(img * f[..., None], 0, 255).astype(np.uint8)


# -- buildings ------------------------------------------------------------------------------------

def _vary(rgb, ids, amount: float = 0.07) -> np.ndarray:
    """Deterministic small brightness variation per id, so neighbouring roofs read apart."""
    h = (np.asarray(ids, dtype=np.uint64) * np.uint64(2654435761)) % np.uint64(1000)
    k = 1.0 + amount * (h.astype(np.float64) / 500.0 - 1.0)
    return np.clip(np.asarray(rgb, dtype=np.float64) * k[:, None], 0, 255).astype(np.uint8)


def building_part(buildings, grid: Grid, terrain: np.ndarray, *, exclude_ids=None) -> Part | None:
    """LoD1 blocks: each footprint (holes included) extruded from the ground to ``ground + height``.

    Ground: the ``ground_z`` column where known, else the lowest terrain under the
    footprint's vertices. Walls start 0.5 m below the lowest terrain under the
    footprint so that no gap shows on slopes. Roofs are flat (constrained Delaunay
    triangulation of the footprint with its courtyards).

    Returns a mesh part with ``cell_ids`` (building id per face) and ``cell_role``
    (0 wall, 1 roof), coloured by use group (homes, public, industry); None when
    there is no usable footprint.
    """
    if buildings is None or len(buildings) == 0:
        return None
    gdf = buildings
    if exclude_ids is not None and len(exclude_ids):
        gdf = gdf[~gdf["id"].isin(list(exclude_ids))]
        if len(gdf) == 0:
            return None
    x0, y0 = grid.xmin, grid.ymin
    geoms = shapely.make_valid(np.asarray(gdf.geometry.values, dtype=object))
    polys, row = shapely.get_parts(geoms, return_index=True)
    # make_valid may yield collections: keep polygons only
    sub, subrow = shapely.get_parts(polys, return_index=True)
    polys, row = sub, row[subrow]
    keep = (shapely.get_type_id(polys) == 3) & (shapely.area(polys) > 0.01)
    polys, row = polys[keep], row[keep]
    if len(polys) == 0:
        return None
    polys = shapely.transform(polys, lambda c: c - np.array([x0, y0]))
    ids = gdf["id"].to_numpy(np.int64)
    height = gdf["height"].to_numpy(np.float64)
    height = np.where(np.isfinite(height) & (height > 0), height, 3.0)
    gz = gdf["ground_z"].to_numpy(np.float64) if "ground_z" in gdf else np.full(len(gdf), np.nan)
    uses = gdf["use"].astype(str).to_numpy() if "use" in gdf else np.full(len(gdf), "unknown")

    rings, ring_poly = shapely.get_rings(polys, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    coord_row = row[ring_poly[coord_ring]]
    tz = sample_raster(grid, terrain, coords[:, 0], coords[:, 1]).astype(np.float64)
    zmin = np.full(len(gdf), np.inf)
    ok = np.isfinite(tz)
    np.minimum.at(zmin, coord_row[ok], tz[ok])
    fallback = float(np.nanmedian(terrain)) if np.isfinite(terrain).any() else 0.0
    zmin = np.where(np.isfinite(zmin), zmin, np.where(np.isfinite(gz), gz, fallback))
    ground = np.where(np.isfinite(gz), gz, zmin)
    top = ground + height
    base = np.minimum(ground, zmin) - 0.5

    # walls: one quad per ring edge
    e = np.nonzero(coord_ring[1:] == coord_ring[:-1])[0]
    p0, p1, wrow = coords[e], coords[e + 1], coord_row[e]
    nw = len(e)
    wpts = np.empty((nw, 4, 3))
    wpts[:, 0, :2], wpts[:, 1, :2], wpts[:, 2, :2], wpts[:, 3, :2] = p0, p1, p1, p0
    wpts[:, 0, 2] = wpts[:, 1, 2] = base[wrow]
    wpts[:, 2, 2] = wpts[:, 3, 2] = top[wrow]
    # roofs: triangles of the footprints (holes respected)
    tris, tri_poly = shapely.get_parts(shapely.constrained_delaunay_triangles(polys), return_index=True)
    tc = shapely.get_coordinates(tris).reshape(-1, 4, 2)[:, :3]
    trow = row[tri_poly]
    nt = len(tc)
    rpts = np.empty((nt, 3, 3))
    rpts[:, :, :2] = tc
    rpts[:, :, 2] = top[trow][:, None]
    # one face list of triangles: walls split in two
    pts = np.concatenate([wpts.reshape(-1, 3), rpts.reshape(-1, 3)]).astype(np.float32)
    q = np.arange(nw * 4).reshape(nw, 4)
    wall_tris = np.concatenate([q[:, [0, 1, 2]], q[:, [0, 2, 3]]])
    wall_rows = np.concatenate([wrow, wrow])
    roof_tris = nw * 4 + np.arange(nt * 3).reshape(nt, 3)
    faces = np.concatenate([wall_tris, roof_tris]).astype(np.int64)
    face_row = np.concatenate([wall_rows, trow])
    role = np.concatenate([np.zeros(len(wall_tris), np.int8), np.ones(nt, np.int8)])
    # keep each building's faces together (the glTF export splits by id)
    order = np.argsort(face_row, kind="stable")
    faces, face_row, role = faces[order], face_row[order], role[order]
    cell_ids = ids[face_row].astype(np.int32)
    rgb = default_building_rgb(cell_ids, role, uses[face_row])
    return Part("buildings", "mesh", pts, faces, cell_rgb=rgb, cell_ids=cell_ids, cell_role=role)


def default_building_rgb(cell_ids, role, uses) -> np.ndarray:
    """Walls off-white; roofs by use group (terracotta homes, slate-blue public, grey industry)."""
    roof_lut = BUILDING_STYLE["roof"]
    roof = np.array([roof_lut[use_group(u)] for u in uses], dtype=np.uint8).reshape(-1, 3)
    wall = np.broadcast_to(np.array(BUILDING_STYLE["wall"], np.uint8), roof.shape)
    rgb = np.where((np.asarray(role) == 1)[:, None], roof, wall)
    return _vary(rgb, cell_ids, 0.08)


def lod2_part(surfaces, grid: Grid) -> Part | None:
    """LoD2 buildings from the ``building_surfaces`` table (3D polygons), each surface triangulated.

    Each planar polygon is projected on the coordinate plane it is most parallel to,
    triangulated there (constrained Delaunay, holes respected), and its dropped
    coordinate recovered from the polygon's plane (Newell normal), exactly for planar
    polygons.
    """
    if surfaces is None or len(surfaces) == 0:
        return None
    x0, y0 = grid.xmin, grid.ymin
    geoms = np.asarray(surfaces.geometry.values, dtype=object)
    polys, row = shapely.get_parts(geoms, return_index=True)
    keep = (shapely.get_type_id(polys) == 3) & shapely.has_z(polys)
    polys, row = polys[keep], row[keep]
    if len(polys) == 0:
        return None
    bids = surfaces["building_id"].to_numpy(np.int64)[row]
    kinds = surfaces["surface"].astype(str).to_numpy()[row]
    origin = np.array([x0, y0, 0.0])
    pts_all, faces_all, ids_all, role_all = [], [], [], []
    offset = 0
    for i, poly in enumerate(polys):
        rings = [shapely.get_coordinates(poly.exterior, include_z=True) - origin]
        rings += [shapely.get_coordinates(h, include_z=True) - origin for h in poly.interiors]
        ext = rings[0]
        a, b = ext, np.roll(ext, -1, axis=0)
        # Newell's normal of the (planar) polygon
        n = np.array([((a[:, 1] - b[:, 1]) * (a[:, 2] + b[:, 2])).sum(),
                      ((a[:, 2] - b[:, 2]) * (a[:, 0] + b[:, 0])).sum(),
                      ((a[:, 0] - b[:, 0]) * (a[:, 1] + b[:, 1])).sum()])
        norm = np.linalg.norm(n)
        if norm < 1e-9:
            continue
        n /= norm
        d = float((ext @ n).mean())
        k = int(np.argmax(np.abs(n)))
        ax = [j for j in range(3) if j != k]
        poly2 = shapely.Polygon(rings[0][:, ax], [r[:, ax] for r in rings[1:]])
        if not poly2.is_valid or poly2.area <= 1e-6:
            continue
        tri = shapely.get_parts(shapely.constrained_delaunay_triangles(poly2))
        if len(tri) == 0:
            continue
        t2 = shapely.get_coordinates(tri).reshape(-1, 4, 2)[:, :3].reshape(-1, 2)
        t3 = np.empty((len(t2), 3))
        t3[:, ax[0]], t3[:, ax[1]] = t2[:, 0], t2[:, 1]
        t3[:, k] = (d - n[ax[0]] * t2[:, 0] - n[ax[1]] * t2[:, 1]) / n[k]
        pts_all.append(t3)
        faces_all.append(offset + np.arange(len(t3)).reshape(-1, 3))
        offset += len(t3)
        ids_all.append(np.full(len(t3) // 3, bids[i], np.int32))
        role_all.append(np.full(len(t3) // 3, 1 if kinds[i] == "roof" else 0, np.int8))
    if not pts_all:
        return None
    pts = np.concatenate(pts_all).astype(np.float32)
    faces = np.concatenate(faces_all).astype(np.int64)
    cell_ids = np.concatenate(ids_all)
    role = np.concatenate(role_all)
    order = np.argsort(cell_ids, kind="stable")
    faces, cell_ids, role = faces[order], cell_ids[order], role[order]
    return Part("buildings_lod2", "mesh", pts, faces, cell_rgb=None, cell_ids=cell_ids, cell_role=role)


# -- trees ----------------------------------------------------------------------------------------

def _icosphere() -> tuple[np.ndarray, np.ndarray]:
    """A unit icosphere with one subdivision (42 vertices, 80 faces)."""
    t = (1.0 + 5 ** 0.5) / 2.0
    v = [(-1, t, 0), (1, t, 0), (-1, -t, 0), (1, -t, 0), (0, -1, t), (0, 1, t), (0, -1, -t), (0, 1, -t),
         (t, 0, -1), (t, 0, 1), (-t, 0, -1), (-t, 0, 1)]
    f = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4), (11, 10, 2),
         (10, 7, 6), (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9), (4, 9, 5), (2, 4, 11),
         (6, 2, 10), (8, 6, 7), (9, 8, 1)]
    verts = [np.array(p, float) / np.linalg.norm(p) for p in v]
    cache = {}

    def mid(a, b):
        key = (min(a, b), max(a, b))
        if key not in cache:
            m = verts[a] + verts[b]
            verts.append(m / np.linalg.norm(m))
            cache[key] = len(verts) - 1
        return cache[key]

    faces = []
    for a, b, c in f:
        ab, bc, ca = mid(a, b), mid(b, c), mid(c, a)
        faces += [(a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca)]
    return np.array(verts), np.array(faces, dtype=np.int64)


def _prism(n: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """A unit vertical prism (radius 1, z from 0 to 1) without caps."""
    a = 2 * np.pi * np.arange(n) / n
    ring = np.stack([np.cos(a), np.sin(a)], axis=1)
    v = np.concatenate([np.c_[ring, np.zeros(n)], np.c_[ring, np.ones(n)]])
    i = np.arange(n)
    j = (i + 1) % n
    f = np.concatenate([np.stack([i, j, n + j], 1), np.stack([i, n + j, n + i], 1)])
    return v, f


_CROWN_GREENS = np.array([(86, 146, 70), (102, 158, 76), (74, 134, 72), (114, 162, 84), (92, 150, 92)], np.uint8)
_TRUNK = (110, 84, 60)


def tree_part(trees, grid: Grid, terrain: np.ndarray) -> Part | None:
    """Trees of the ``trees`` table as trunks and ellipsoid crowns, instanced with NumPy.

    Crown: an ellipsoid of horizontal radius ``crown_diameter / 2`` from the crown base
    (``trunk_height``, else 25 % of the height) to the top; trunk: a hexagonal prism.
    About 100 triangles per tree, so thousands of trees stay fast.
    """
    if trees is None or len(trees) == 0:
        return None
    g = trees.geometry
    x = g.x.to_numpy(np.float64) - grid.xmin
    y = g.y.to_numpy(np.float64) - grid.ymin
    h = trees["height"].to_numpy(np.float64)
    d = trees["crown_diameter"].to_numpy(np.float64)
    th = trees["trunk_height"].to_numpy(np.float64) if "trunk_height" in trees else np.full(len(trees), np.nan)
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(h) & (h > 0)
    x, y, h, d, th = x[ok], y[ok], h[ok], d[ok], th[ok]
    ids = trees["id"].to_numpy(np.int64)[ok]
    if len(x) == 0:
        return None
    d = np.where(np.isfinite(d) & (d > 0), d, 0.5 * h)
    th = np.where(np.isfinite(th) & (th >= 0) & (th < h), th, 0.25 * h)
    z0 = sample_raster(grid, terrain, x, y).astype(np.float64)
    z0 = np.where(np.isfinite(z0), z0, np.nanmedian(terrain))
    sv, sf = _icosphere()
    pv_, pf = _prism(6)
    n = len(x)
    rz = (h - th) / 2.0
    rh = d / 2.0
    crown = sv[None, :, :] * np.stack([rh, rh, rz], 1)[:, None, :] + \
        np.stack([x, y, z0 + th + rz], 1)[:, None, :]
    rt = np.clip(0.06 * d, 0.12, 0.5)
    trunk = pv_[None, :, :] * np.stack([rt, rt, th + rz * 0.5 + 0.3], 1)[:, None, :] + \
        np.stack([x, y, z0 - 0.3], 1)[:, None, :]
    nsv, npv = len(sv), len(pv_)
    cf = sf[None, :, :] + (np.arange(n) * nsv)[:, None, None]
    tf = pf[None, :, :] + (n * nsv + np.arange(n) * npv)[:, None, None]
    pts = np.concatenate([crown.reshape(-1, 3), trunk.reshape(-1, 3)]).astype(np.float32)
    faces = np.concatenate([cf.reshape(-1, 3), tf.reshape(-1, 3)])
    green = _CROWN_GREENS[(ids * 7919) % len(_CROWN_GREENS)]
    rgb = np.concatenate([np.repeat(green, len(sf), axis=0),
                          np.broadcast_to(np.array(_TRUNK, np.uint8), (n * len(pf), 3))])
    cell_ids = np.concatenate([np.repeat(ids, len(sf)), np.repeat(ids, len(pf))]).astype(np.int32)
    return Part("trees", "mesh", pts, faces, cell_rgb=rgb, cell_ids=cell_ids, smooth=False)
