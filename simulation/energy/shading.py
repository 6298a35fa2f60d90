"""Shading of facades and roofs by neighbouring buildings, terrain and trees, for the energy model.

Uses the shared shadow engine (:func:`simulation.shadows.sunlit_at_points`) on the twin's
``surface`` (terrain + buildings + canopy), with ``canopy_height`` (crowns let ``transmissivity``
through) and ``terrain``. The yearly run stays fast because shading is precomputed once per
*direction*, not per hour:

* the sky is cut into cells (:func:`simulation.energy.solar.sky_directions`); every hour the sun
  is up maps to its cell, and each cell visited by the sun is represented by the mean sun position
  of the hours in it;
* facades are sampled by points every ``spacing`` metres (5 m by default) along each exposed footprint
  edge, at ``heights`` fractions of the wall height (1/4 and 3/4), ``offset`` outside the wall (0.6 cell);
  points in front of a neighbour's wall (party walls) are dropped;
* for every point and every sun cell in front of it, the sunlit fraction is computed once; the
  beam factor of a building's facade bin for a sun cell is the area-weighted mean over its points
  (``facade_beam[b, d, k]``);
* the diffuse factor of a facade bin is the cosine- and solid-angle-weighted visible sky over a
  coarse sky partition (8 azimuths x 4 bands), relative to the open-field value (1 unobstructed);
* roofs: one point above each roof plane, all sun cells and the horizontal-weighted sky;
* all points go through the engine in one call per million points (its set-up reads the whole surface).

Memory: ``4 x n_buildings x n_sun_cells x K`` bytes for the facade factors (n_sun_cells is ~100
for a year in France with the default partition, K = 8: 3.2 kB per building).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import shapely

from simulation.energy import _kernels
from simulation.energy.geometry import BuildingGeometry, orientation_bins
from simulation.energy.solar import SkyDirections, sky_directions

__all__ = ["Shading", "facade_points", "shading_available", "shading_factors"]


def shading_available() -> bool:
    """Whether the shared shadow engine :mod:`simulation.shadows` is installed."""
    try:
        import simulation.shadows  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class Shading:
    """Precomputed shading factors.

    Attributes
    ----------
    sun_index : ndarray of int32, (n_t,)
        Row of the sun-cell arrays for each hour (-1: sun below the horizon).
    azimuth, altitude : ndarray, (n_dir,)
        The representative sun position of each sun cell [degree].
    facade_beam : ndarray of float32, (n_b, n_dir, K)
    facade_sky : ndarray of float32, (n_b, K)
    roof_beam : ndarray of float32, (n_b, n_dir)
    roof_sky : ndarray of float32, (n_b,)
    plane_beam : ndarray of float32, (n_planes, n_dir)
        Per roof plane of ``geometry.roof_planes`` (rooftop PV).
    plane_sky : ndarray of float32, (n_planes,)
    meta : dict
    """

    sun_index: np.ndarray
    azimuth: np.ndarray
    altitude: np.ndarray
    facade_beam: np.ndarray
    facade_sky: np.ndarray
    roof_beam: np.ndarray
    roof_sky: np.ndarray
    plane_beam: np.ndarray
    plane_sky: np.ndarray
    meta: dict = field(default_factory=dict)


def _sample(arr, grid, x, y):
    r = np.floor((grid.ymax - y) / grid.cell_size).astype(np.int64)
    c = np.floor((x - grid.xmin) / grid.cell_size).astype(np.int64)
    inside = (r >= 0) & (r < grid.nrows) & (c >= 0) & (c < grid.ncols)
    out = np.full(len(x), np.nan)
    out[inside] = arr[r[inside], c[inside]]
    return out


def facade_points(geom: BuildingGeometry, *, active, spacing: float, heights=(0.25, 0.75), offset: float,
                  tolerance: float = 0.3):
    """Sample points on the exposed facades.

    Returns
    -------
    dict of arrays (one entry per point): ``building`` (row), ``x``, ``y`` (``offset`` outside the wall),
    ``frac`` (height fraction), ``azimuth`` of the wall [degree], ``weight`` (wall area the point stands for [m2]).
    """
    e = geom.edges
    ok = active[e["building"].to_numpy()] & (e["exposed_fraction"].to_numpy() > 0)
    e = e[ok]
    n_pos = np.maximum(1, np.round(e["length"].to_numpy() / spacing)).astype(np.int64)
    rep = np.repeat(np.arange(len(e)), n_pos)
    first = np.repeat(np.cumsum(n_pos) - n_pos, n_pos)
    i = np.arange(len(rep)) - first
    t = (i + 0.5) / n_pos[rep]
    x0, y0, x1, y1 = (e[c].to_numpy()[rep] for c in ("x0", "y0", "x1", "y1"))
    length = e["length"].to_numpy()[rep]
    dx, dy = (x1 - x0) / length, (y1 - y0) / length
    nx, ny = dy, -dx
    x = x0 + t * (x1 - x0) + offset * nx
    y = y0 + t * (y1 - y0) + offset * ny
    b = e["building"].to_numpy()[rep]
    h = e["height"].to_numpy()[rep]
    az = e["azimuth"].to_numpy()[rep]
    w = length / n_pos[rep] * h / len(heights)
    # drop points standing in front of a neighbour's wall, below the neighbour's top
    polys = shapely.buffer(geom.polygons, tolerance + offset, join_style="mitre")
    tree = shapely.STRtree(polys)
    pts = shapely.points(x, y)
    pi, pj = tree.query(pts, predicate="intersects")
    keep_pair = pj != b[pi]
    pi, pj = pi[keep_pair], pj[keep_pair]
    nb_height = np.zeros(len(x))
    np.maximum.at(nb_height, pi, geom.table["height"].to_numpy()[pj])
    fr = np.asarray(heights, dtype=np.float64)
    out = {
        "building": np.repeat(b, len(fr)),
        "x": np.repeat(x, len(fr)),
        "y": np.repeat(y, len(fr)),
        "frac": np.tile(fr, len(x)),
        "azimuth": np.repeat(az, len(fr)),
        "weight": np.repeat(w, len(fr)),
        "height": np.repeat(h, len(fr)),
    }
    hidden = out["frac"] * out["height"] < np.repeat(nb_height, len(fr))
    return {k: v[~hidden] for k, v in out.items()}


def _sun_cells(sky: SkyDirections, sun_cell, sun_azimuth, sun_altitude):
    used = np.unique(sun_cell[sun_cell >= 0])
    lookup = np.full(len(sky), -1, dtype=np.int32)
    lookup[used] = np.arange(len(used), dtype=np.int32)
    idx = np.where(sun_cell >= 0, lookup[np.maximum(sun_cell, 0)], -1).astype(np.int32)
    up = idx >= 0
    n = len(used)
    cnt = np.bincount(idx[up], minlength=n).astype(float)
    a = np.radians(sun_azimuth[up])
    sx = np.bincount(idx[up], weights=np.sin(a), minlength=n)
    cx = np.bincount(idx[up], weights=np.cos(a), minlength=n)
    az = np.mod(np.degrees(np.arctan2(sx, cx)), 360.0)
    alt = np.bincount(idx[up], weights=sun_altitude[up], minlength=n) / np.maximum(cnt, 1)
    return idx, az, alt


def _front(dir_az, bin_az, half_width):
    d = np.abs((dir_az - bin_az + 180.0) % 360.0 - 180.0)
    return d < half_width


def shading_factors(twin, geom: BuildingGeometry, sky: SkyDirections, sun_cell, *, sun_azimuth, sun_altitude,
                    active, spacing: float = 5.0, heights=(0.25, 0.75), offset: float | None = None,
                    transmissivity: float = 0.03, max_points: int = 1_000_000) -> Shading:
    """Shading factors of every building's facade bins and roof for each sun cell, and sky factors.

    Parameters
    ----------
    twin : Twin
        With the ``surface`` layer; ``terrain`` and ``canopy_height`` are used when present.
    geom : BuildingGeometry
    sky : SkyDirections
        The partition ``sun_cell`` refers to.
    sun_cell : ndarray of int, (n_t,)
        Sky cell of the sun each hour (-1 below the horizon).
    sun_azimuth, sun_altitude : ndarray, (n_t,)
        [degree].
    active : ndarray of bool
        Buildings whose facades are sampled (the others still cast shadows).
    spacing : float
        Distance between points along an edge [m].
    heights : tuple of float
        Height fractions of the wall where points stand.
    offset : float, optional
        Distance of the points outside the wall [m] (default 0.6 cell, so that a point never stands in a
        cell of its own building's raster footprint).
    transmissivity : float
        Of tree crowns to the direct beam [1] (0.03 in leaf).
    max_points : int
        Points per call of the shadow engine (memory: 4 x n_dirs x max_points bytes).
    """
    from simulation.shadows import sunlit_at_points

    t0 = time.perf_counter()
    grid = twin.grid
    surface = twin.array("surface")
    terrain = twin.array("terrain") if "terrain" in twin else None
    canopy = twin.array("canopy_height") if "canopy_height" in twin else None
    if canopy is not None and not np.any(canopy > 0):
        canopy = None
    off = 0.6 * grid.cell_size if offset is None else float(offset)
    n_b = len(geom.table)
    k = geom.facades.shape[1]
    bins = geom.azimuths
    sun_index, d_az, d_alt = _sun_cells(sky, np.asarray(sun_cell), np.asarray(sun_azimuth, float),
                                        np.asarray(sun_altitude, float))
    n_dir = len(d_az)
    diff = sky_directions(n_azimuth=8, band_edges=(0, 15, 35, 60, 90))
    kw = dict(surface=surface, grid=grid, canopy_height=canopy, terrain=terrain, transmissivity=transmissivity)

    # facades -------------------------------------------------------------------------------------------
    pts = facade_points(geom, active=np.asarray(active, bool), spacing=spacing, heights=heights, offset=off)
    ground = _sample(terrain if terrain is not None else np.zeros(grid.shape, np.float32), grid, pts["x"], pts["y"])
    inside = np.isfinite(ground)
    pts = {kk: v[inside] for kk, v in pts.items()}
    z = ground[inside] + pts["frac"] * pts["height"]
    k0, k1, w1 = orientation_bins(pts["azimuth"], k)
    w = pts["weight"]
    beam_sum = np.zeros((n_b, n_dir, k), np.float32)
    weight = np.zeros((n_b, k))
    sky_num = np.zeros((n_b, k))
    sky_den = np.zeros((n_b, k))
    az_all = np.concatenate([d_az, diff.azimuth])
    alt_all = np.concatenate([d_alt, diff.altitude])
    dsel = np.arange(n_dir, dtype=np.int64)
    open_sky = _open_sky(diff, bins, cos_alt_d := np.cos(np.radians(diff.altitude)))
    # the diffuse weights of each sky cell for each bin: cos(incidence) x solid angle / open-field total
    cw = np.clip(cos_alt_d[:, None] * np.cos(np.radians(diff.azimuth[:, None] - bins[None, :])), 0.0, None)
    cw = cw * diff.solid_angle[:, None] / open_sky[None, :]
    # roof points: one above each roof plane (above the DSM of its own cell)
    planes = geom.roof_planes
    pb = planes["building"].to_numpy()
    px = planes["x"].to_numpy(dtype=float)
    py = planes["y"].to_numpy(dtype=float)
    dsm = _sample(surface, grid, px, py)
    pz = np.fmax(planes["z"].to_numpy(dtype=float), dsm) + 0.3
    ok = np.isfinite(px) & np.isfinite(py) & np.isfinite(pz)
    roof_idx = np.flatnonzero(ok)
    plane_beam = np.ones((len(planes), n_dir), np.float32)
    plane_sky = np.ones(len(planes), np.float32)
    wgt_h = np.sin(np.radians(diff.altitude)) * diff.solid_angle
    n_fac = len(z)
    all_x = np.concatenate([pts["x"], px[roof_idx]])
    all_y = np.concatenate([pts["y"], py[roof_idx]])
    all_z = np.concatenate([z, pz[roof_idx]])
    n_rays = 0
    # one call of the shadow engine per chunk of points (facades and roofs together), all directions: its
    # set-up (reading the surface) is per call
    for start in range(0, len(all_z), max_points):
        stop = min(start + max_points, len(all_z))
        vis = sunlit_at_points(x=all_x[start:stop], y=all_y[start:stop], z=all_z[start:stop], sun_azimuth=az_all,
                               sun_altitude=alt_all, **kw)
        n_rays += vis.size
        nf = max(0, min(stop, n_fac) - start)           # facade columns of this chunk
        if nf:
            s = slice(start, start + nf)
            bld = pts["building"][s].astype(np.int64)
            _kernels.accumulate_shading(np.ascontiguousarray(vis[:n_dir, :nf]), dsel, bld, k0[s], k1[s],
                                        w[s] * (1.0 - w1[s]), w[s] * w1[s], out=beam_sum, weight=weight)
            vd = vis[n_dir:, :nf].astype(np.float64)
            for kk, ww in ((k0[s], w[s] * (1.0 - w1[s])), (k1[s], w[s] * w1[s])):
                frac = np.einsum("dp,dp->p", vd, cw[:, kk])
                np.add.at(sky_num, (bld, kk), ww * frac)
                np.add.at(sky_den, (bld, kk), ww)
        if stop > n_fac:
            r = roof_idx[max(start, n_fac) - n_fac: stop - n_fac]
            vr = vis[:, nf:]
            plane_beam[r] = vr[:n_dir].T
            plane_sky[r] = (vr[n_dir:].T.astype(np.float64) @ wgt_h) / wgt_h.sum()
        del vis
    has = weight > 0
    facade_beam = np.ones((n_b, n_dir, k), np.float32)
    facade_beam[:] = np.where(has[:, None, :], beam_sum / np.where(has, weight, 1.0)[:, None, :], 1.0)
    facade_sky = np.where(sky_den > 0, sky_num / np.maximum(sky_den, 1e-12), 1.0).astype(np.float32)
    t1 = time.perf_counter()
    area = planes["area"].to_numpy(dtype=float)
    tot = np.bincount(pb, weights=area, minlength=n_b)
    roof_beam = np.ones((n_b, n_dir), np.float32)
    roof_sky = np.ones(n_b, np.float32)
    if len(planes):
        acc = np.zeros((n_b, n_dir))
        np.add.at(acc, pb, plane_beam.astype(np.float64) * area[:, None])
        has_r = tot > 0
        roof_beam[has_r] = (acc[has_r] / tot[has_r, None]).astype(np.float32)
        roof_sky[has_r] = (np.bincount(pb, weights=plane_sky * area, minlength=n_b)[has_r] / tot[has_r]).astype(np.float32)
    t2 = time.perf_counter()
    meta = {"enabled": True, "engine": "simulation.shadows.sunlit_at_points", "sun_cells": int(n_dir),
            "diffuse_directions": len(diff), "facade_points": len(z), "roof_points": int(ok.sum()),
            "rays": int(n_rays), "spacing_m": spacing, "height_fractions": list(heights), "offset_m": off,
            "tree_transmissivity": transmissivity, "trees": canopy is not None,
            "seconds": {"rays_and_factors": t1 - t0, "roof_factors": t2 - t1}}
    return Shading(sun_index=sun_index, azimuth=d_az, altitude=d_alt, facade_beam=facade_beam, facade_sky=facade_sky,
                   roof_beam=roof_beam, roof_sky=roof_sky, plane_beam=plane_beam, plane_sky=plane_sky, meta=meta)


def _open_sky(diff: SkyDirections, bin_az, cos_alt):
    """Cosine- and solid-angle-weighted sky seen by vertical surfaces facing ``bin_az`` (array) in the open."""
    c = cos_alt[:, None] * np.cos(np.radians(diff.azimuth[:, None] - np.asarray(bin_az)[None, :]))
    return (np.clip(c, 0.0, None) * diff.solid_angle[:, None]).sum(axis=0)
