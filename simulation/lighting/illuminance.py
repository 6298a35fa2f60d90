"""Illuminance from point-source photometry on the twin: ground raster, points, facades.

The model (EN 13201-3 clause 5; DIALux/Relux/AGi32 point-by-point): a luminaire at
L with intensity I(C, gamma) [cd] toward a point P at distance r gives, on a surface of
unit normal n,

.. math:: E = MF\\; I(C, \\gamma)\\; \\frac{(L - P)\\cdot n}{r^3}
          \\qquad\\Big(= MF\\, I \\cos^3\\gamma / H^2 \\text{ on flat horizontal ground}\\Big),

with I = I_klm [cd/klm] x flux [lm] / 1000, (C, gamma) the direction in the luminaire's
own frame (orientation, tilt), MF the maintenance factor, summed over the luminaires
within a cut-off radius. A luminaire gives nothing to a point if the segment between
them passes below the top of a building or of the terrain, and its light is
attenuated by ``exp(-k L)`` over the length L [m] it travels inside tree crowns
(Beer-Lambert, Monsi & Saeki 1953, doi:10.1093/aob/mci052; k = G x leaf area
density, about 0.5 m-1 for leafy urban trees).

Geometry conventions: ``orientation`` is the direction the luminaire's arm points
(azimuth clockwise from north), i.e. toward the street it lights. Photometry files put
the street side of a road luminaire in their C90 plane (EULUMDAT and IES habit, and the
built-in ``road-led``), C angles increasing counter-clockwise seen from above, so the C90
half-plane points along ``orientation`` and C0 to ``orientation + 90`` (C0-C180 runs along
the road). ``tilt`` raises the C90 side (a rotation about the C0-C180 axis), lifting the
beam toward the street. Luminaire height = terrain at its cell + ``mounting_height``.
(The twin glossary's words "azimuth of the C0 plane" and "the direction the arm points"
cannot both hold for real road photometry; the arm, which inventories record and the
demo town draws, is what counts here.)

Receivers: the ground raster evaluates every cell centre at the top of the hard
surface (terrain, or the roof on building cells); the tests of visibility lift the
receiver by ``eps`` (default 0.05 m) so a flat ground does not shadow itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from simulation.lighting import _kernels
from simulation.lighting.photometry import Photometry
from simulation.lighting.registry import PhotometryRegistry
from simulation.model import require_nonnegative, require_positive, require_range
from twin.errors import TwinValueError
from twin.grid import Grid

__all__ = [
    "LuminaireSet",
    "LightingScene",
    "build_luts",
    "luminaire_rotations",
    "luminaire_set",
    "prepare_scene",
    "facade_points",
    "LUT_SIZE",
]

#: Side of the stereographic intensity look-up tables (2 x 512^2 float32 = 2 MB per photometry).
LUT_SIZE = 512


def build_luts(photometries, size: int = LUT_SIZE) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Stereographic look-up tables of intensity [cd/klm] for the kernels.

    Returns ``(lower, upper, origin, inv_h)``: two ``(n, size, size)`` float32 stacks
    covering ``p`` in ``[origin, -origin]^2``, node spacing ``1 / inv_h``. Node
    ``(iv, iu)`` holds ``I(C, gamma)`` of the exact bilinear C-gamma interpolant at
    ``C = atan2(p_y, p_x)``, ``gamma = 2 atan|p|`` (lower) or ``180 - 2 atan|p|`` (upper);
    nodes outside the unit disc repeat the horizon value (they are never read by
    directions of the hemisphere, only blended at its rim).
    """
    size = int(size)
    if size < 16:
        raise TwinValueError(f"invalid look-up table size {size} (must be >= 16)")
    half = 1.0 / (1.0 - 4.0 / (size - 1))  # the unit disc lies two nodes inside the table
    nodes = np.linspace(-half, half, size)
    px, py = np.meshgrid(nodes, nodes)  # [iv, iu] = (py, px)
    rho = np.hypot(px, py)
    rc = np.minimum(rho, 1.0)
    c = np.degrees(np.arctan2(py, px))
    g_lo = np.degrees(2.0 * np.arctan(rc))
    g_up = 180.0 - g_lo
    n = len(photometries)
    lo = np.empty((n, size, size), np.float32)
    up = np.empty((n, size, size), np.float32)
    for k, p in enumerate(photometries):
        lo[k] = p.intensity_at(c, g_lo)
        up[k] = p.intensity_at(c, g_up)
    return lo, up, float(-half), float((size - 1) / (2.0 * half))


def luminaire_rotations(orientation, tilt) -> np.ndarray:
    """World-to-luminaire rotation rows, ``(n, 9)`` float64: local = R @ (east, north, up).

    Rows are the luminaire's C0 axis, C90 axis and up axis in world coordinates, for an
    ``orientation`` [degree] (azimuth of the arm and of the C90 half-plane, clockwise from
    north; C0 is 90 deg clockwise from it) and a ``tilt`` [degree] raising the C90 side.
    """
    th = np.radians(np.asarray(orientation, dtype=np.float64) + 90.0)  # azimuth of C0
    ta = np.radians(np.asarray(tilt, dtype=np.float64))
    ex = np.stack([np.sin(th), np.cos(th), np.zeros_like(th)], axis=-1)
    ey = np.stack([-np.cos(th), np.sin(th), np.zeros_like(th)], axis=-1)
    ez = np.zeros_like(ex)
    ez[..., 2] = 1.0
    ct, st = np.cos(ta)[..., None], np.sin(ta)[..., None]
    ay = ct * ey + st * ez
    az = -st * ey + ct * ez
    return np.ascontiguousarray(np.concatenate([ex, ay, az], axis=-1))


@dataclass
class LuminaireSet:
    """The luminaires as arrays for the kernels, and the photometries they use.

    Attributes
    ----------
    ids : int array (n,)
    x, y : float64 arrays (n,)
        Position [m] in the twin CRS.
    z : float64 array (n,)
        Altitude of the light centre [m] (terrain at the luminaire's cell + mounting height).
    fr, fc : float64 arrays (n,)
        Position in grid index space (cell centres at integers).
    flux : float64 array (n,)
        Nominal source flux [lm].
    level : float64 array (n,)
        Output level in [0, 1] applied to the flux (1 = full; dimming scenarios lower it).
    lut : int32 array (n,)
        Index of each luminaire's photometry in ``photometries``.
    rot : float64 array (n, 9)
        World-to-luminaire rotation rows.
    photometries : list of Photometry
    refs : list of str
        The photometry reference of each entry of ``photometries``.
    """

    ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    fr: np.ndarray
    fc: np.ndarray
    flux: np.ndarray
    level: np.ndarray
    lut: np.ndarray
    rot: np.ndarray
    photometries: list[Photometry] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.ids.size)

    def scale(self, maintenance_factor: float) -> np.ndarray:
        """Per luminaire, the factor turning cd/klm into maintained cd: MF x level x flux / 1000."""
        return np.ascontiguousarray(maintenance_factor * self.level * self.flux / 1000.0, dtype=np.float64)


def luminaire_set(luminaires, grid: Grid, terrain: np.ndarray, *, registry: PhotometryRegistry | None = None,
                  level=None) -> LuminaireSet:
    """Arrays of a luminaires table (twin glossary) on a grid, photometries resolved.

    Raises
    ------
    TwinValueError
        If a luminaire lies outside the grid, has a mounting height <= 0 or a flux < 0,
        or a photometry cannot be resolved (the message names the luminaire id).
    """
    registry = registry or PhotometryRegistry()
    n = len(luminaires)
    ids = luminaires["id"].to_numpy(np.int64) if n else np.zeros(0, np.int64)
    if n:
        geom = luminaires.geometry
        if (geom.geom_type != "Point").any():
            bad = ids[(geom.geom_type != "Point").to_numpy()][0]
            raise TwinValueError(f"luminaire {bad}: geometry must be a point")
        x = geom.x.to_numpy(np.float64)
        y = geom.y.to_numpy(np.float64)
    else:
        x = y = np.zeros(0)
    inside = (x >= grid.xmin) & (x < grid.xmax) & (y > grid.ymin) & (y <= grid.ymax)
    if not inside.all():
        k = int(np.argmin(inside))
        raise TwinValueError(f"luminaire {ids[k]} at ({x[k]:.1f}, {y[k]:.1f}) lies outside the twin's grid {grid.bounds}")
    mh = luminaires["mounting_height"].to_numpy(np.float64) if n else np.zeros(0)
    bad = ~(np.isfinite(mh) & (mh > 0))
    if bad.any():
        k = int(np.argmax(bad))
        raise TwinValueError(f"luminaire {ids[k]}: mounting height {float(mh[k]):g} m must be > 0 (the light is above the ground)")
    flux = luminaires["flux"].to_numpy(np.float64) if n else np.zeros(0)
    bad = ~(np.isfinite(flux) & (flux >= 0))
    if bad.any():
        k = int(np.argmax(bad))
        raise TwinValueError(f"luminaire {ids[k]}: flux {float(flux[k]):g} lm must be >= 0")
    refs: list[str] = []
    phots: list[Photometry] = []
    lut = np.zeros(n, np.int32)
    index: dict[str, int] = {}
    for k, ref in enumerate(luminaires["photometry"].tolist() if n else []):
        key = str(ref).strip() if ref is not None else ""
        if key not in index:
            try:
                p = registry.resolve(key)
            except TwinValueError as err:
                raise type(err)(f"luminaire {ids[k]}: {err}") from err
            except OSError as err:
                raise type(err)(f"luminaire {ids[k]}: {err}") from err
            index[key] = len(phots)
            phots.append(p)
            refs.append(key)
        lut[k] = index[key]
    fr = (grid.ymax - y) / grid.cell_size - 0.5
    fc = (x - grid.xmin) / grid.cell_size - 0.5
    ri = np.clip(np.floor(fr + 0.5).astype(np.int64), 0, grid.nrows - 1)
    ci = np.clip(np.floor(fc + 0.5).astype(np.int64), 0, grid.ncols - 1)
    ground = terrain[ri, ci].astype(np.float64) if n else np.zeros(0)
    if n and not np.isfinite(ground).all():
        k = int(np.argmax(~np.isfinite(ground)))
        raise TwinValueError(f"luminaire {ids[k]}: the terrain under it has no value")
    orient = luminaires["orientation"].fillna(0.0).to_numpy(np.float64) if n else np.zeros(0)
    tilt = luminaires["tilt"].fillna(0.0).to_numpy(np.float64) if n else np.zeros(0)
    lev = np.ones(n) if level is None else np.broadcast_to(np.asarray(level, np.float64), (n,)).copy()
    return LuminaireSet(ids=ids, x=x, y=y, z=ground + mh, fr=fr, fc=fc, flux=flux, level=lev, lut=lut,
                        rot=luminaire_rotations(orient, tilt), photometries=phots, refs=refs)


def _bands(fr: np.ndarray, nrows: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Luminaires sorted into horizontal bands of ``k`` rows: (order, band_start CSR)."""
    k = max(1, int(k))
    nb = max(1, -(-nrows // k))
    band = np.clip(np.floor(fr + 0.5).astype(np.int64) // k, 0, nb - 1)
    order = np.argsort(band, kind="stable").astype(np.int64)
    start = np.zeros(nb + 1, np.int64)
    np.cumsum(np.bincount(band, minlength=nb), out=start[1:])
    return order, start


def _buckets(fr, fc, nrows, ncols, k):
    k = max(1, int(k))
    nbr = max(1, -(-nrows // k))
    nbc = max(1, -(-ncols // k))
    br = np.clip(np.floor(fr).astype(np.int64) // k, 0, nbr - 1)
    bc = np.clip(np.floor(fc).astype(np.int64) // k, 0, nbc - 1)
    b = br * nbc + bc
    order = np.argsort(b, kind="stable").astype(np.int64)
    start = np.zeros(nbr * nbc + 1, np.int64)
    np.cumsum(np.bincount(b, minlength=nbr * nbc), out=start[1:])
    return start, order, nbr, nbc


@dataclass
class LightingScene:
    """Everything the kernels need, prepared once from a twin: obstacles, luminaires, look-up tables.

    Build it with :func:`prepare_scene`. ``hard`` is the top of terrain and buildings [m],
    ``crown_base`` / ``crown_top`` bound tree crowns [m] (equal where there is none).
    """

    grid: Grid
    terrain: np.ndarray
    hard: np.ndarray
    crown_base: np.ndarray
    crown_top: np.ndarray
    has_crowns: bool
    lum: LuminaireSet
    maintenance_factor: float
    cutoff: float
    crown_extinction: float
    eps: float
    lut_size: int
    luts_lo: np.ndarray = field(repr=False, default=None)
    luts_up: np.ndarray = field(repr=False, default=None)
    lut_origin: float = -1.0
    lut_inv_h: float = 1.0

    def __post_init__(self):
        if self.luts_lo is None:
            self.luts_lo, self.luts_up, self.lut_origin, self.lut_inv_h = build_luts(self.lum.photometries, self.lut_size)

    # -- raster -----------------------------------------------------------------------------
    def horizontal_illuminance(self, *, occlusion: bool = True, out: np.ndarray | None = None) -> tuple[np.ndarray, int]:
        """Maintained horizontal illuminance [lx] on every cell (float32), and the number of
        luminaire-cell pairs evaluated.

        With ``occlusion`` (the default) the radial-sweep kernel tests buildings, terrain and
        tree crowns; without, a plain scan of each luminaire's disc (for comparison).
        Memory: 16 bytes per cell (obstacles and result, float32).
        """
        g = self.grid
        if out is None:
            out = np.zeros(g.shape, np.float32)
        lum = self.lum
        if len(lum) == 0:
            return out, 0
        k = int(math.ceil(self.cutoff / g.cell_size))
        order, start = _bands(lum.fr, g.nrows, max(k, 1))
        scale = lum.scale(self.maintenance_factor)
        common = dict(cell_size=float(g.cell_size), radius=float(self.cutoff), origin=self.lut_origin, inv_h=self.lut_inv_h)
        if occlusion:
            n = _kernels.illuminance_rings(
                self.hard, self.crown_base, self.crown_top, self.has_crowns, lum.fr, lum.fc, lum.z, scale, lum.lut,
                lum.rot, order, start, self.luts_lo, self.luts_up, out, eps=float(self.eps),
                extinction=float(self.crown_extinction), **common)
        else:
            n = _kernels.illuminance_plain(self.hard, lum.fr, lum.fc, lum.z, scale, lum.lut, lum.rot, order, start,
                                           self.luts_lo, self.luts_up, out, **common)
        return out, int(n)

    # -- points -----------------------------------------------------------------------------
    def point_illuminance(self, x, y, z, normal=(0.0, 0.0, 1.0), *, semicylindrical: bool = False,
                          occlusion: bool = True, skip_near: float = 0.0) -> np.ndarray:
        """Maintained illuminance [lx] at points (float64).

        Parameters
        ----------
        x, y, z : array-like
            Point coordinates [m] (twin CRS, altitude).
        normal : array-like (3,) or (n, 3)
            Unit normal of the receiving plane (east, north, up): ``(0, 0, 1)`` horizontal,
            a horizontal vector for a facade; with ``semicylindrical`` the horizontal
            direction the semi-cylinder faces.
        semicylindrical : bool
            Semi-cylindrical illuminance (EN 13201-2 SC classes, faces of pedestrians).
        occlusion : bool
            Test buildings/terrain and tree crowns on each segment.
        skip_near : float
            Length [cells] of each segment next to the point that is not tested (facade points
            stand on the wall; their own building must not hide them).
        """
        g = self.grid
        x = np.atleast_1d(np.asarray(x, np.float64))
        y = np.atleast_1d(np.asarray(y, np.float64))
        z = np.atleast_1d(np.asarray(z, np.float64))
        x, y, z = np.broadcast_arrays(x, y, z)
        n = x.size
        nrm = np.broadcast_to(np.asarray(normal, np.float64), (n, 3)).copy()
        if semicylindrical:
            nrm[:, 2] = 0.0
        length = np.linalg.norm(nrm, axis=1)
        if np.any(length == 0):
            raise TwinValueError("point_illuminance: a normal has zero length" +
                                 (" (semi-cylinders need a horizontal facing direction)" if semicylindrical else ""))
        nrm /= length[:, None]
        out = np.zeros(n, np.float64)
        lum = self.lum
        if n == 0 or len(lum) == 0:
            return out
        fr = (g.ymax - y.ravel()) / g.cell_size - 0.5
        fc = (x.ravel() - g.xmin) / g.cell_size - 0.5
        kb = int(math.ceil(self.cutoff / g.cell_size)) + 1
        start, items, nbr, nbc = _buckets(lum.fr, lum.fc, g.nrows, g.ncols, kb)
        mode = np.full(n, 1 if semicylindrical else 0, np.int8)
        _kernels.illuminance_points(
            fr, fc, z.ravel().copy(), nrm, mode, self.hard, self.crown_base, self.crown_top, self.has_crowns, lum.fr,
            lum.fc, lum.z, lum.scale(self.maintenance_factor), lum.lut, lum.rot, start, items, self.luts_lo,
            self.luts_up, out, bucket_cells=float(kb), nbr=nbr, nbc=nbc, cell_size=float(g.cell_size),
            radius=float(self.cutoff), origin=self.lut_origin, inv_h=self.lut_inv_h, eps=float(self.eps),
            extinction=float(self.crown_extinction), skip_near=float(skip_near), occlusion=bool(occlusion))
        return out.reshape(x.shape)

    def ground_altitude(self, x, y) -> np.ndarray:
        """Terrain altitude [m] at points, bilinear between cell centres (edges clamped)."""
        g = self.grid
        fr = np.clip((g.ymax - np.asarray(y, np.float64)) / g.cell_size - 0.5, 0, g.nrows - 1)
        fc = np.clip((np.asarray(x, np.float64) - g.xmin) / g.cell_size - 0.5, 0, g.ncols - 1)
        i0 = np.minimum(np.floor(fr).astype(np.int64), max(g.nrows - 2, 0))
        j0 = np.minimum(np.floor(fc).astype(np.int64), max(g.ncols - 2, 0))
        i1 = np.minimum(i0 + 1, g.nrows - 1)
        j1 = np.minimum(j0 + 1, g.ncols - 1)
        ti = fr - i0
        tj = fc - j0
        t = self.terrain
        a = t[i0, j0] * (1 - tj) + t[i0, j1] * tj
        b = t[i1, j0] * (1 - tj) + t[i1, j1] * tj
        return a * (1 - ti) + b * ti

    def cutoff_bound(self) -> float:
        """An upper bound [lx] of what one luminaire adds to horizontal ground beyond the cut-off:
        ``max_L MF I_max H / R^3`` (the light left out by the cut-off radius R)."""
        lum = self.lum
        if len(lum) == 0:
            return 0.0
        imax = np.array([p.intensity.max() for p in lum.photometries])[lum.lut]
        h = lum.z - np.array([self.terrain[min(max(int(r + 0.5), 0), self.grid.nrows - 1),
                                           min(max(int(c + 0.5), 0), self.grid.ncols - 1)] for r, c in zip(lum.fr, lum.fc)])
        return float(np.max(lum.scale(self.maintenance_factor) * imax * h) / self.cutoff**3)


def prepare_scene(twin, *, luminaires=None, registry: PhotometryRegistry | None = None, maintenance_factor: float,
                  cutoff: float, crown_extinction: float, crown_base_fraction: float, eps: float = 0.05,
                  lut_size: int = LUT_SIZE, level=None) -> LightingScene:
    """Prepare a :class:`LightingScene` from a twin (its layers and luminaires table).

    Parameters
    ----------
    twin : Twin
        Needs ``terrain`` and ``building_height``; ``canopy_height`` if present adds tree crowns.
    luminaires : GeoDataFrame, optional
        A luminaires table (default: the twin's).
    registry : PhotometryRegistry, optional
        Resolves photometry references (default: built-ins and paths as given).
    maintenance_factor : float
        MF in (0, 1] [1].
    cutoff : float
        Radius [m] beyond which a luminaire is ignored.
    crown_extinction : float
        Beer-Lambert coefficient k [m-1] inside tree crowns (0: trees transparent; ``inf``: opaque).
    crown_base_fraction : float
        Height of the crown base as a fraction of the canopy height [1] (the trunk below is clear).
    eps : float
        Receiver lift [m] for visibility tests.
    level : array-like, optional
        Output level per luminaire in [0, 1] (dimming).
    """
    mf = require_range(maintenance_factor, 0.0, 1.0, name="maintenance_factor")
    if mf <= 0:
        raise TwinValueError(f"invalid maintenance_factor: {maintenance_factor!r} (must be > 0)")
    cutoff = require_positive(cutoff, name="cutoff")
    ext = float(crown_extinction)
    if not ext >= 0:
        raise TwinValueError(f"invalid crown_extinction: {crown_extinction!r} (must be >= 0, or inf for opaque crowns)")
    cbf = require_range(crown_base_fraction, 0.0, 1.0, name="crown_base_fraction")
    eps = require_nonnegative(eps, name="eps")
    g = twin.grid
    terrain = np.ascontiguousarray(twin.array("terrain"), dtype=np.float32)
    if not np.isfinite(terrain).all():
        raise TwinValueError("the twin's terrain has cells without value: fill them before lighting computations")
    bh = np.nan_to_num(np.asarray(twin.array("building_height"), np.float32), nan=0.0)
    hard = np.ascontiguousarray(terrain + np.maximum(bh, 0.0), dtype=np.float32)
    if "canopy_height" in twin and ext > 0:
        ch = np.nan_to_num(np.asarray(twin.array("canopy_height"), np.float32), nan=0.0)
        ch = np.maximum(ch, 0.0)
    else:
        ch = np.zeros(g.shape, np.float32)
    has_crowns = bool(ext > 0 and (ch > 0).any())
    crown_top = np.ascontiguousarray(terrain + ch, dtype=np.float32)
    crown_base = np.ascontiguousarray(terrain + np.float32(cbf) * ch, dtype=np.float32)
    lum_table = twin.luminaires if luminaires is None else luminaires
    lum = luminaire_set(lum_table, g, terrain, registry=registry, level=level)
    return LightingScene(grid=g, terrain=terrain, hard=hard, crown_base=crown_base, crown_top=crown_top,
                         has_crowns=has_crowns, lum=lum, maintenance_factor=mf, cutoff=cutoff,
                         crown_extinction=ext if math.isfinite(ext) else 1e30, eps=eps, lut_size=lut_size)


def facade_points(buildings, *, spacing: float = 2.0, storey_height: float = 3.0, first_window: float = 1.5,
                  offset: float = 0.1, terrain_at=None):
    """Window points on building facades: ``(building_id, x, y, z, nx, ny)`` arrays.

    Points every ``spacing`` [m] along each exterior ring, ``offset`` [m] outside the wall,
    at the mid-height of every storey (``first_window`` [m] above the ground, then every
    ``storey_height`` [m]) below the building's height, facing outward (horizontal unit
    normal). ``terrain_at(x, y)`` gives the ground altitude.
    """
    import shapely

    spacing = require_positive(spacing, name="facade spacing")
    bid, xs, ys, zs, nxs, nys = [], [], [], [], [], []
    for b_id, geom, height in zip(buildings["id"].to_numpy(), buildings.geometry.values,
                                  buildings["height"].to_numpy(np.float64)):
        if geom is None or geom.is_empty or not np.isfinite(height) or height <= 0:
            continue
        polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
        for poly in polys:
            ring = shapely.geometry.polygon.orient(poly, sign=1.0).exterior  # counter-clockwise: outside on the right
            coords = np.asarray(ring.coords)[:, :2]
            for (x0, y0), (x1, y1) in zip(coords[:-1], coords[1:]):
                L = math.hypot(x1 - x0, y1 - y0)
                if L < 1e-6:
                    continue
                m = max(1, int(round(L / spacing)))
                t = (np.arange(m) + 0.5) / m
                tx, ty = (x1 - x0) / L, (y1 - y0) / L
                nx, ny = ty, -tx  # right of the direction of travel = outward for a CCW ring
                px = x0 + t * (x1 - x0) + offset * nx
                py = y0 + t * (y1 - y0) + offset * ny
                heights = np.arange(first_window, height, storey_height)
                if heights.size == 0:
                    heights = np.array([min(first_window, height / 2)])
                for h in heights:
                    bid.append(np.full(m, b_id))
                    xs.append(px)
                    ys.append(py)
                    zs.append(np.full(m, h))
                    nxs.append(np.full(m, nx))
                    nys.append(np.full(m, ny))
    if not bid:
        e = np.zeros(0)
        return np.zeros(0, np.int64), e, e, e, e, e
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    ground = terrain_at(x, y) if terrain_at is not None else 0.0
    return (np.concatenate(bid).astype(np.int64), x, y, np.concatenate(zs) + ground, np.concatenate(nxs), np.concatenate(nys))
