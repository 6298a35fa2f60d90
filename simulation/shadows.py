"""Shadows and sky views on the twin's surface, shared by the heat, energy and lighting models.

* :func:`sunlit_fraction`: for one sun position, the fraction of direct sun each cell
  receives (1 sunlit, 0 in the shadow of a building or the terrain, the crown
  transmissivity per crown crossed under trees).
* :func:`sunlit_at_points`: the same for arbitrary 3D points (facade points, windows,
  pedestrians at 1.1 m) and many sun positions at once: ``(n_suns, n_points)``.
* :func:`sky_view_factor`: the radiative (cosine-weighted) sky-view factor with and
  without vegetation, and optionally the sky views of vertical surfaces facing N, E, S, W.

The surface model
-----------------
The twin's ``surface`` (DSM) is read as flat-topped columns, one per cell: a wall is
the face between two cells. A ray is tested against each cell it *enters*, at the
height it has on entering (its lowest height over that cell for a rising ray), which
is exact for this model at any azimuth and any cell size: the shadow of a wall of
height ``h`` under a sun at altitude ``a`` covers exactly the cells whose centre is
closer than ``h / tan(a)`` to the wall face. Where ``terrain`` is given, cells
without an obstacle (``surface - terrain < 0.01 m``) are read as a terrain surface at
their centre instead (a smooth slope does not shade itself like a staircase).
Beyond the grid there is nothing: a twin should extend past the area of interest by
the longest shadow that matters.

Trees
-----
Where ``canopy_height`` is given, a cell with canopy has a crown from
``trunk_ratio * canopy_height`` (25 % by default, as SOLWEIG) to ``canopy_height``
above the ground beneath (the surface minus the canopy height). Below the crown is
the trunk zone: a low sun shines under the crowns. A ray that crosses a crown keeps
``transmissivity`` of the direct beam (3 % in leaf, about 50 % leafless; Konarska et
al. 2014, doi:10.1007/s00484-013-0745-9): each run of crown cells the ray crosses
counts once, so two separate trees give ``transmissivity**2``.

References
----------
Ratti & Richens (2004), Raster analysis of urban form, Environment and Planning B 31(2),
297-309, doi:10.1068/b2665 (shadows by shift and compare; here an exact ray traversal,
Amanatides & Woo 1987, with the same result on prisms).
Lindberg & Grimmond (2011), The influence of vegetation and building morphology on shadow
patterns and mean radiant temperatures in urban areas, Theor. Appl. Climatol. 105,
311-323, doi:10.1007/s00704-010-0382-8 (the tree model of SOLWEIG).
"""

from __future__ import annotations

import math

import numpy as np

from simulation import _shadow_kernels as _k
from twin.errors import TwinValueError
from twin.grid import Grid

__all__ = ["sunlit_fraction", "sunlit_at_points", "sky_view_factor", "SkyView", "solid_and_crowns",
           "wall_heights_and_aspects"]

_NEG = np.float32(-1e30)
_POS = np.float32(1e30)
#: a cell is an obstacle (a flat-topped column) when the surface is this much above the terrain [m]
OBSTACLE_MIN_HEIGHT = 0.01


def _array2d(a, name: str, shape=None) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 2:
        raise TwinValueError(f"invalid {name}: expected a 2-D raster, got shape {arr.shape}")
    if shape is not None and arr.shape != shape:
        raise TwinValueError(f"invalid {name}: shape {arr.shape} differs from the surface's {shape}")
    if arr.dtype.kind not in "fiu":
        raise TwinValueError(f"invalid {name}: not numeric ({arr.dtype})")
    return np.ascontiguousarray(arr, dtype=np.float32)


def _sun(sun_azimuth, sun_altitude):
    az = float(sun_azimuth)
    alt = float(sun_altitude)
    if not (math.isfinite(az) and math.isfinite(alt)):
        raise TwinValueError(f"invalid sun position: azimuth {sun_azimuth!r}, altitude {sun_altitude!r} (not finite)")
    if not -90.0 <= alt <= 90.0:
        raise TwinValueError(f"invalid sun_altitude: {alt!r} (must be within -90..90 degrees)")
    return az, alt


def _transmissivity(t) -> float:
    t = float(t)
    if not (math.isfinite(t) and 0.0 <= t <= 1.0):
        raise TwinValueError(f"invalid transmissivity: {t!r} (must be within 0..1)")
    return t


def solid_and_crowns(surface, *, canopy_height=None, terrain=None, trunk_ratio: float = 0.25):
    """The arrays the kernels read, from a surface, a canopy height and a terrain.

    Returns
    -------
    dict of float32 arrays: ``solid`` (surface without tree crowns [m], NaN kept),
    ``prism`` (obstacle tops read as flat-topped columns, -1e30 elsewhere), ``ground``
    (terrain read at cell centres, -1e30 where not given), ``ctop``/``cbot`` (crown top
    and bottom [m], -1e30/1e30 where no crown), ``is_prism`` (0/1).
    """
    surface = _array2d(surface, "surface")
    shape = surface.shape
    if not (0.0 <= trunk_ratio < 1.0):
        raise TwinValueError(f"invalid trunk_ratio: {trunk_ratio!r} (must be within 0..1)")
    if canopy_height is not None:
        ch = np.nan_to_num(_array2d(canopy_height, "canopy_height", shape), nan=0.0)
        if (ch < 0).any():
            raise TwinValueError("invalid canopy_height: negative heights")
        has = ch > 0
        solid = np.where(has, surface - ch, surface).astype(np.float32)
        ctop = np.where(has, solid + ch, _NEG).astype(np.float32)
        cbot = np.where(has, solid + np.float32(trunk_ratio) * ch, _POS).astype(np.float32)
        ctop[~np.isfinite(ctop)] = _NEG
        cbot[~np.isfinite(cbot)] = _POS
    else:
        solid = surface
        ctop = np.full(shape, _NEG, np.float32)
        cbot = np.full(shape, _POS, np.float32)
    if terrain is not None:
        ter = _array2d(terrain, "terrain", shape)
        is_prism = np.isfinite(solid) & (solid - np.nan_to_num(ter, nan=-1e30) >= OBSTACLE_MIN_HEIGHT)
        ground = np.where(np.isfinite(ter) & ~is_prism, np.where(np.isfinite(solid), solid, ter), _NEG).astype(np.float32)
    else:
        is_prism = np.isfinite(solid)
        ground = np.full(shape, _NEG, np.float32)
    prism = np.where(is_prism, solid, _NEG).astype(np.float32)
    return {"solid": np.ascontiguousarray(solid, np.float32), "prism": prism, "ground": ground,
            "ctop": ctop, "cbot": cbot, "is_prism": is_prism.astype(np.float32)}


def _zmax(parts) -> float:
    m = -1e30
    for key in ("prism", "ground", "ctop"):
        a = parts[key]
        if a.size:
            m = max(m, float(a.max()))
    return m


def sunlit_fraction(*, surface, cell_size: float, sun_azimuth: float, sun_altitude: float, canopy_height=None,
                    terrain=None, transmissivity: float = 0.03, trunk_ratio: float = 0.25,
                    receiver_height: float = 0.0) -> np.ndarray:
    """Fraction of the direct sun received by each cell, for one sun position.

    Parameters
    ----------
    surface : (nrows, ncols) array [m]
        The surface model (terrain + buildings + canopy), north up, rows southwards.
        NaN cells receive NaN and cast no shadow.
    cell_size : float [m]
    sun_azimuth : float [degrees clockwise from north]
    sun_altitude : float [degrees above the horizon]; at or below 0, every cell gets 0.
    canopy_height : array [m], optional; tree crowns are read from it (see module doc).
    terrain : array [m], optional; bare ground read as a smooth surface.
    transmissivity : float [1], share of the direct beam a crown lets through (0.03 in leaf).
    trunk_ratio : float [1], trunk height as a share of the canopy height (0.25).
    receiver_height : float [m], height of the receiver above the surface (0: the ground
        or the roof; 1.1 for a standing person's centre of gravity).

    Returns
    -------
    float32 array (nrows, ncols) in [0, 1]: 1 sunlit, 0 in the shadow of the surface,
    ``transmissivity**k`` behind ``k`` crowns.

    Notes
    -----
    Exact on the flat-topped-column model of the surface (see the module doc): the
    shadow of a wall of height ``h`` reaches ``h / tan(altitude)`` from the face at any
    cell size and azimuth. Cost: each cell marches towards the sun until the ray rises
    above the highest point of the surface, i.e. ``(zmax - z) / (tan(alt) cell_size)``
    cells; parallel over rows. Memory: about 24 bytes per cell of temporaries.
    """
    cs = float(cell_size)
    if not (math.isfinite(cs) and cs > 0):
        raise TwinValueError(f"invalid cell_size: {cell_size!r} (must be > 0)")
    az, alt = _sun(sun_azimuth, sun_altitude)
    tau = _transmissivity(transmissivity)
    parts = solid_and_crowns(surface, canopy_height=canopy_height, terrain=terrain, trunk_ratio=trunk_ratio)
    solid = parts["solid"]
    if alt <= 0.0:
        out = np.zeros(solid.shape, np.float32)
        out[~np.isfinite(solid)] = np.nan
        return out
    z0 = (solid + np.float32(receiver_height)).astype(np.float32)
    out = np.empty(solid.shape, np.float32)
    a = math.radians(az)
    rise = math.tan(math.radians(alt)) * cs if alt < 90.0 else 1e30
    _k.sunlit_grid(parts["prism"], parts["ground"], z0, parts["ctop"], parts["cbot"], canopy_height is not None, out,
                   dx=math.sin(a), dy=-math.cos(a), rise=rise, zmax=_zmax(parts), tau=tau)
    return out


def sunlit_at_points(*, surface, x, y, z, sun_azimuth, sun_altitude, grid: Grid | None = None,
                     cell_size: float | None = None, origin: tuple[float, float] | None = None,
                     canopy_height=None, terrain=None, transmissivity: float = 0.03,
                     trunk_ratio: float = 0.25) -> np.ndarray:
    """Fraction of the direct sun reaching arbitrary 3D points, for one or many sun positions.

    Parameters
    ----------
    surface : (nrows, ncols) array [m], the surface model on ``grid``.
    x, y : arrays (n,) [m], world coordinates (the grid's CRS).
    z : array (n,) [m], altitudes of the points (same vertical datum as the surface).
    sun_azimuth, sun_altitude : float or arrays (n_suns,) [degrees].
    grid : Grid, or ``cell_size`` [m] and ``origin`` = (xmin, ymax) [m] of the grid.
    canopy_height, terrain, transmissivity, trunk_ratio : as :func:`sunlit_fraction`.

    Returns
    -------
    float32 array (n_suns, n) (or (n,) when the sun is a scalar) in [0, 1]. A sun at or
    below the horizon gives 0.

    Notes
    -----
    The ray starts at the point and is tested against every cell it enters, not against
    the cell the point stands in: a point on a facade (on the face between a building
    cell and a street cell) is lit when the sun is in front of the face. Whether the sun
    is in front of the face at all is the caller's incidence-angle test
    (``cos_incidence`` of :func:`simulation.sun.irradiance_on_surfaces`). Points below
    the surface of their own cell are not refused.
    """
    if grid is not None:
        cs, x0, y1 = grid.cell_size, grid.xmin, grid.ymax
    else:
        if cell_size is None or origin is None:
            raise TwinValueError("sunlit_at_points needs grid=, or cell_size= and origin=(xmin, ymax)")
        cs, (x0, y1) = float(cell_size), (float(origin[0]), float(origin[1]))
    if not (math.isfinite(cs) and cs > 0):
        raise TwinValueError(f"invalid cell_size: {cs!r} (must be > 0)")
    tau = _transmissivity(transmissivity)
    parts = solid_and_crowns(surface, canopy_height=canopy_height, terrain=terrain, trunk_ratio=trunk_ratio)
    if grid is not None and parts["solid"].shape != grid.shape:
        raise TwinValueError(f"surface shape {parts['solid'].shape} differs from the grid's {grid.shape}")
    x = np.asarray(x, float).reshape(-1)
    y = np.asarray(y, float).reshape(-1)
    z = np.asarray(z, float).reshape(-1)
    if not (x.shape == y.shape == z.shape):
        raise TwinValueError(f"x, y, z must have the same length, got {x.shape}, {y.shape}, {z.shape}")
    if not (np.isfinite(x).all() and np.isfinite(y).all() and np.isfinite(z).all()):
        raise TwinValueError("x, y, z must be finite")
    scalar = np.ndim(sun_azimuth) == 0 and np.ndim(sun_altitude) == 0
    az = np.atleast_1d(np.asarray(sun_azimuth, float))
    alt = np.atleast_1d(np.asarray(sun_altitude, float))
    az, alt = np.broadcast_arrays(az, alt)
    if not (np.isfinite(az).all() and np.isfinite(alt).all()) or (np.abs(alt) > 90).any():
        raise TwinValueError("invalid sun positions: azimuths and altitudes must be finite, altitudes within -90..90")
    a = np.radians(az)
    rises = np.where(alt > 0, np.tan(np.radians(np.clip(alt, -89.999, 89.999))) * cs, 0.0)
    out = np.empty((az.size, x.size), np.float32)
    _k.sunlit_points(parts["prism"], parts["ground"], parts["ctop"], parts["cbot"], canopy_height is not None,
                     (x - x0) / cs, (y1 - y) / cs, z, np.sin(a).ravel(), (-np.cos(a)).ravel(), rises.ravel(),
                     _zmax(parts), tau, out)
    return out[0] if scalar else out


class SkyView(dict):
    """The sky-view factors of a surface (a dict of float32 arrays, with ``.meta``).

    Keys: ``svf`` (buildings and terrain only), ``svf_veg`` (buildings, terrain and tree
    crowns letting ``transmissivity`` through), and, when asked, ``svf_north``,
    ``svf_east``, ``svf_south``, ``svf_west``: the sky view of a vertical surface facing
    that way, as a fraction of the half-sky it would see in the open (1 in the open).
    """

    meta: dict


def sky_view_factor(*, surface, cell_size: float, canopy_height=None, terrain=None, transmissivity: float = 0.03,
                    n_azimuths: int = 64, directional: bool = False, allow_flat: bool = False,
                    grid_offset: tuple[int, int] = (0, 0)) -> SkyView:
    """Radiative (cosine-weighted) sky-view factor of every cell, with and without trees.

    ``SVF = 1 - mean over azimuths of sin^2(beta)``, ``beta`` the elevation of the
    horizon [radians] (Oke 1987; Johnson & Watson 1984, doi:10.1175/1520-0450(1984)
    023<0329:TDOTSV>2.0.CO;2): the share of the sky's diffuse isotropic radiation a
    horizontal surface receives. Not ``1 - mean(sin beta)``, which is a visual index.

    With trees, along each azimuth the elevations between the horizon of the buildings
    and terrain (``beta_b``) and that of the crowns (``beta_a``) are covered by foliage
    letting ``transmissivity`` through:
    ``svf_veg = 1 - mean(sin^2 beta_b + (1 - tau)(sin^2 beta_a - sin^2 beta_b))``
    (the trunk zone is not seen through in this sum; crowns at different distances are
    merged into one band).

    The vertical sky views weigh each azimuth by ``max(0, cos(azimuth - facing))`` and
    each elevation by ``cos^2``: ``F = (1/pi) sum w (pi/2 - beta - sin beta cos beta) / 2``,
    normalised to 1 in the open.

    Parameters
    ----------
    surface : (nrows, ncols) array [m]; NaN cells get NaN and hide nothing.
    cell_size : float [m]
    canopy_height, terrain : arrays [m], optional (see the module doc).
    transmissivity : float [1], crown transmissivity (0.03 in leaf).
    n_azimuths : int, even, >= 8; 64 by default (the azimuthal sum converges fast:
        the analytic canyon is matched to 1e-3 with 32).
    directional : bool, also compute the four vertical sky views.
    allow_flat : bool, accept a flat surface (SVF = 1 everywhere) instead of refusing it.
    grid_offset : (int, int), row and column of the surface's first cell in a larger grid (a tile
        of a tiled run): the sweep lines are then the larger grid's, so the tile's sky views equal
        the larger grid's wherever every horizon lies inside the tile, and never fall below them.

    Returns
    -------
    SkyView (dict of float32 arrays) with ``.meta`` (azimuths, transmissivity, NaN count).

    Raises
    ------
    TwinValueError
        If the surface is all NaN, or flat (heights within 0.1 m and no canopy) unless
        ``allow_flat``: a flat DSM almost always means missing buildings.

    Notes
    -----
    Exact horizons along parallel digital lines: every cell sees the tangent to the upper
    convex hull of the cells ahead of it, kept as a stack while sweeping each line
    (amortised O(1) per cell, Stewart 1998, doi:10.1109/2945.722295), so the cost is
    ``n_azimuths * n_cells`` whatever the heights; parallel over lines. The horizon
    points are the near faces of flat-topped columns (exact for faces across the sweep
    direction, within half a cell otherwise) or terrain cell centres. On a raster the
    wall face sits half a pixel from the centre of the first street pixel: an 11-cell
    street is 11 cells wide between faces, and its centre cell sees the analytic
    canyon. Memory: 8 bytes per cell per output (float64 sums) plus 20 bytes of inputs.
    """
    cs = float(cell_size)
    if not (math.isfinite(cs) and cs > 0):
        raise TwinValueError(f"invalid cell_size: {cell_size!r} (must be > 0)")
    n_az = int(n_azimuths)
    if n_az != n_azimuths or n_az < 8 or n_az % 2:
        raise TwinValueError(f"invalid n_azimuths: {n_azimuths!r} (an even integer >= 8)")
    tau = _transmissivity(transmissivity)
    row0, col0 = (int(v) for v in grid_offset)
    parts = solid_and_crowns(surface, canopy_height=canopy_height, terrain=terrain)
    solid = parts["solid"]
    finite = np.isfinite(solid)
    if not finite.any():
        raise TwinValueError("the surface is all NoData: cannot compute a sky-view factor")
    has_canopy = canopy_height is not None and bool((parts["ctop"] > -1e29).any())
    relief = float(np.nanmax(solid) - np.nanmin(solid))
    if relief < 0.1 and not has_canopy and not allow_flat:
        raise TwinValueError(
            f"the surface is flat (heights within {relief:.3f} m, no canopy): the sky-view factor would be 1 everywhere; "
            "does the surface lack buildings? (pass allow_flat=True to accept it)")
    zb = np.where(finite, solid, _NEG).astype(np.float32)
    offb = np.where(parts["is_prism"] > 0, 0.5, 0.0).astype(np.float32)
    crown = parts["ctop"] > -1e29
    za = np.where(crown, np.maximum(parts["ctop"], zb), zb).astype(np.float32)
    offa = np.where(crown, 0.5, offb).astype(np.float32)
    z0 = np.where(finite, solid, np.nan).astype(np.float32)
    nacc = 6 if directional else 2
    acc = np.zeros((nacc,) + solid.shape, np.float64)
    # sweeps whose lines run down the rows work on transposed copies, so that every sweep
    # walks memory along rows (a 3-5x difference on large grids)
    acc_t = np.zeros((nacc,) + solid.shape[::-1], np.float64)
    zb_t, offb_t, za_t, offa_t, z0_t = (np.ascontiguousarray(a.T) for a in (zb, offb, za, offa, z0))
    facing = np.radians([0.0, 90.0, 180.0, 270.0])
    wsum = np.zeros(4)
    for k in range(n_az // 2):
        phi = 2.0 * math.pi * k / n_az
        s, c = math.sin(phi), math.cos(phi)
        col_major = abs(s) >= abs(c)
        if col_major:
            fwd = phi if s > 0 else phi + math.pi
            q = -math.cos(fwd) / math.sin(fwd)
            step = cs / abs(math.sin(fwd))
        else:
            fwd = phi if -c > 0 else phi + math.pi
            q = math.sin(fwd) / -math.cos(fwd)
            step = cs / abs(math.cos(fwd))
        wf = np.maximum(0.0, np.cos(fwd - facing))
        wb = np.maximum(0.0, np.cos(fwd + math.pi - facing))
        wsum += wf + wb
        if col_major:
            _k.horizon_sums(zb, offb, za, offa, z0, acc, col_major=True, q=q, step=step, keep=tau, wfwd=wf, wbwd=wb,
                            crowns=has_canopy, phase=col0)
        else:
            _k.horizon_sums(zb_t, offb_t, za_t, offa_t, z0_t, acc_t, col_major=True, q=q, step=step, keep=tau,
                            wfwd=wf, wbwd=wb, crowns=has_canopy, phase=row0)
    acc += acc_t.transpose(0, 2, 1)
    out = SkyView()
    out["svf"] = (acc[0] / n_az).astype(np.float32)
    out["svf_veg"] = (acc[1] / n_az).astype(np.float32)
    if directional:
        for i, name in enumerate(("svf_north", "svf_east", "svf_south", "svf_west")):
            out[name] = (acc[2 + i] / (wsum[i] * math.pi / 4.0)).astype(np.float32)
    for v in out.values():
        v[~finite] = np.nan
    out.meta = {"n_azimuths": n_az, "transmissivity": tau, "nodata_cells": int((~finite).sum()),
                "method": "exact horizons on parallel digital lines (upper convex hull), cosine-weighted"}
    return out


def wall_heights_and_aspects(*, surface, cell_size: float, canopy_height=None, min_height: float = 1.0):
    """Walls of the surface: height and facing of each cell's tallest drop to a 4-neighbour.

    A cell carries a wall where its solid surface (without tree crowns) stands at least
    ``min_height`` above one of its four neighbours; the wall's height is the largest such
    drop [m] and its aspect the azimuth its outward face looks to [degrees clockwise from
    north: 0 N, 90 E, 180 S, 270 W] (the neighbour with the largest drop; ties go N, E, S,
    W). Cells without a wall get height 0 and aspect NaN. Grid edges are not walls.

    Returns
    -------
    (height float32 [m], aspect float32 [degrees])
    """
    parts = solid_and_crowns(surface, canopy_height=canopy_height)
    z = np.where(np.isfinite(parts["solid"]), parts["solid"], -np.inf).astype(np.float64)
    drops = np.zeros((4,) + z.shape)
    drops[0, 1:, :] = z[1:, :] - z[:-1, :]  # north neighbour is row - 1
    drops[1, :, :-1] = z[:, :-1] - z[:, 1:]  # east neighbour is col + 1
    drops[2, :-1, :] = z[:-1, :] - z[1:, :]  # south neighbour is row + 1
    drops[3, :, 1:] = z[:, 1:] - z[:, :-1]  # west neighbour is col - 1
    drops = np.nan_to_num(drops, nan=0.0, posinf=0.0, neginf=0.0)
    k = np.argmax(drops, axis=0)
    h = np.take_along_axis(drops, k[None], axis=0)[0]
    wall = h >= float(min_height)
    height = np.where(wall, h, 0.0).astype(np.float32)
    aspect = np.where(wall, 90.0 * k, np.nan).astype(np.float32)
    return height, aspect
