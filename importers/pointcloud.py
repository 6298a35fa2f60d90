"""Classified LiDAR point clouds (LAS/LAZ/COPC 1.2-1.4) to twin rasters, in bounded memory.

Points are read in chunks (:meth:`laspy.LasReader.chunk_iterator`, LAZ decompressed by
lazrs) and binned into the twin grid by a numba kernel that keeps 60 bytes of
accumulators per cell and nothing per point, so a 1 km IGN tile of 10-40 M points needs a
few tens of MB whatever its size. COPC files are LAZ 1.4 files and are read the same way.

What each raster is
-------------------
* **terrain**: mean altitude of the terrain points in each cell (ground 2, water 9 and IGN
  virtual points 66: the classes IGN builds its MNT from); cells without such points (under
  buildings, bridges 17, dense canopy) are interpolated linearly from the rim of each gap
  (:func:`importers._fill.fill_gaps`: exact on a plane; up to ``max_fill_distance``).
  Bridge decks (17), buildings (6), IGN's permanent above-ground structures (64) and other
  built objects (67) never enter the terrain.
* **surface**: the highest point in each cell among the classes IGN builds its MNS from
  (2, 3, 4, 5, 6, 9, 17); for a cloud without any above-ground classification, the highest
  non-noise point. Empty cells are interpolated the same way.
* **canopy_height**: highest vegetation point (3, 4, 5) minus the terrain, 0 where none.
* **building_fraction**, **water_fraction**: share of the cell's points in class 6 / 9.
* **bridge**: cells with bridge-deck points.

Noise (7, 18), IGN artefacts (65) and withheld points are ignored.
Class lists from IGN's own DTM/DSM pipeline (IGNF/las-digital-models, configs/filter).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import laspy
import numpy as np

from importers import _kernels as K
from importers._common import Notes, check_file, horizontal_crs, same_crs
from importers._fill import fill_gaps
from importers.rasters import parse_ign_tile_name
from twin.errors import TwinCRSError, TwinFormatError, TwinValueError
from twin.grid import Grid

__all__ = ["CLASS_ROLES", "PointCloudRasters", "PointCloudSource", "open_pointcloud", "rasterize_pointcloud"]

#: Role of each LAS class code (ASPRS 1.4 and IGN LiDAR HD extensions).
CLASS_ROLES: dict[int, int] = {
    1: K.ABOVE,                                         # unclassified (counted; surface only if nothing is classified)
    2: K.GROUND | K.SURFACE,                            # ground
    3: K.VEGETATION | K.SURFACE | K.ABOVE,              # low vegetation (< 0.5 m)
    4: K.VEGETATION | K.SURFACE | K.ABOVE,              # medium vegetation (0.5-1.5 m)
    5: K.VEGETATION | K.SURFACE | K.ABOVE,              # high vegetation (> 1.5 m)
    6: K.BUILDING | K.SURFACE | K.ABOVE,                # building
    7: K.IGNORED,                                       # low noise
    9: K.WATER | K.GROUND | K.SURFACE,                  # water (IGN's MNT keeps it)
    17: K.BRIDGE | K.SURFACE | K.ABOVE,                 # bridge deck: surface, never terrain
    18: K.IGNORED,                                      # high noise
    64: K.ABOVE,                                        # IGN: permanent above-ground structure (sursol pérenne)
    65: K.IGNORED,                                      # IGN: artefacts
    66: K.GROUND,                                       # IGN: virtual points (terrain under bridges, water)
    67: K.ABOVE,                                        # IGN: miscellaneous built structures
}


def _roles_lut() -> np.ndarray:
    lut = np.full(256, K.ABOVE, dtype=np.uint8)  # unknown classes: above-ground, never terrain
    for c, r in CLASS_ROLES.items():
        lut[c] = r
    return lut


@dataclass
class PointCloudSource:
    """A LAS/LAZ/COPC file, checked, with its header facts.

    Attributes
    ----------
    path : Path
    crs : str
    version : str
        LAS version, e.g. ``"1.4"``.
    point_format : int
    point_count : int
    bounds : tuple
        ``(xmin, ymin, xmax, ymax)`` from the header, in ``crs``.
    copc : bool
        Whether the file is a Cloud-Optimised Point Cloud.
    notes : list of str
    """

    path: Path
    crs: str
    version: str
    point_format: int
    point_count: int
    bounds: tuple[float, float, float, float]
    copc: bool = False
    notes: Notes = field(default_factory=Notes)

    def bounds_in(self, crs) -> tuple[float, float, float, float]:
        if same_crs(self.crs, crs):
            return self.bounds
        from rasterio.warp import transform_bounds

        return transform_bounds(self.crs, crs, *self.bounds, densify_pts=21)


def open_pointcloud(path, *, crs=None, default_crs=None) -> PointCloudSource:
    """Check a LAS/LAZ/COPC file and read its header.

    Parameters
    ----------
    crs : optional
        CRS of the file, overriding what it declares.
    default_crs : optional
        CRS assumed when the file declares none.

    Raises
    ------
    TwinFileNotFoundError
    TwinFormatError
        If the file is empty or not a LAS/LAZ file.
    TwinCRSError
        If no CRS is declared or can be assumed.
    """
    p = check_file(path, what="point cloud")
    notes = Notes()
    try:
        with laspy.open(p) as f:
            h = f.header
            version = f"{h.version.major}.{h.version.minor}"
            pf = h.point_format.id
            count = int(h.point_count)
            bounds = (float(h.mins[0]), float(h.mins[1]), float(h.maxs[0]), float(h.maxs[1]))
            copc = any(getattr(v, "user_id", "") == "copc" for v in h.vlrs)
            try:
                file_crs = h.parse_crs()
            except Exception:  # a damaged or exotic CRS record: treat as absent, say so
                file_crs = None
                notes.add(f"{p.name}: the CRS record of the header cannot be read")
    except (laspy.errors.LaspyException, OSError, ValueError) as err:
        raise TwinFormatError(f"{p}: not a readable LAS/LAZ file ({str(err).splitlines()[0][:160]})") from err
    tile = parse_ign_tile_name(p.name)
    if crs is not None:
        the_crs = horizontal_crs(crs, where=str(p))
        notes.add(f"{p.name}: CRS set to {the_crs} by the caller")
    elif file_crs is not None:
        the_crs = horizontal_crs(file_crs, where=str(p))
    elif tile is not None and tile.crs is not None:
        the_crs = tile.crs
        notes.add(f"{p.name}: no CRS in the header; {the_crs} from the IGN tile name")
    elif default_crs is not None:
        the_crs = horizontal_crs(default_crs, where=str(p))
        notes.add(f"{p.name}: no CRS in the header; assumed {the_crs} as asked")
    else:
        raise TwinCRSError(f"{p}: the point cloud declares no CRS; give it with --source-crs (Python: crs=...)")
    if count == 0:
        raise TwinFormatError(f"{p}: the point cloud has no points")
    return PointCloudSource(p, the_crs, version, pf, count, bounds, copc, notes)


@dataclass
class PointCloudRasters:
    """Rasters derived from point clouds on a twin grid (float32 [m] unless said).

    Attributes
    ----------
    terrain, surface : ndarray float32
        NaN where nothing could be interpolated.
    canopy_height : ndarray float32
        0 where no vegetation.
    building_fraction, water_fraction : ndarray float32
        Share of the cell's points in class 6 / 9 [1].
    bridge : ndarray bool
    density : ndarray float32
        Points per m2.
    terrain_filled, surface_filled : ndarray bool
        Cells interpolated rather than observed.
    points_read, points_used : int
    class_counts : dict
        Points per class code in the grid.
    notes : list of str
    """

    terrain: np.ndarray
    surface: np.ndarray
    canopy_height: np.ndarray
    building_fraction: np.ndarray
    water_fraction: np.ndarray
    bridge: np.ndarray
    density: np.ndarray
    terrain_filled: np.ndarray
    surface_filled: np.ndarray
    points_read: int
    points_used: int
    class_counts: dict
    sources: list
    notes: Notes = field(default_factory=Notes)


def rasterize_pointcloud(
    sources,
    grid: Grid,
    *,
    chunk_size: int = 2_000_000,
    max_fill_distance: float = 100.0,
) -> PointCloudRasters:
    """Bin classified point clouds into terrain, surface, canopy and class-share rasters on ``grid``.

    Parameters
    ----------
    sources : PointCloudSource, path, or a list of them
    grid : Grid
    chunk_size : int
        Points read at once (memory: about 40 bytes per point of the chunk).
    max_fill_distance : float
        Largest distance [m] over which empty cells are interpolated; cells further from any
        observation stay NaN.

    Returns
    -------
    PointCloudRasters

    Raises
    ------
    TwinFormatError
        If a file is truncated or damaged, or no terrain point (classes 2, 9, 66) falls in the grid
        (the message names the file).
    TwinValueError
        If ``chunk_size`` is not positive.
    """
    if chunk_size < 1:
        raise TwinValueError(f"invalid chunk_size: {chunk_size!r} (must be a positive number of points)")
    srcs = [s if isinstance(s, PointCloudSource) else open_pointcloud(s) for s in
            ([sources] if isinstance(sources, (str, Path, PointCloudSource)) else list(sources))]
    n = grid.size
    ground_sum = np.zeros(n, np.float64)
    surface_max = np.full(n, -np.inf, np.float32)
    any_max = np.full(n, -np.inf, np.float32)
    veg_max = np.full(n, -np.inf, np.float32)
    counts = np.zeros((K.N_COUNTS, n), np.int32)
    roles = _roles_lut()
    class_hist = np.zeros(256, np.int64)
    notes = Notes()
    points_read = 0
    used = 0
    gx0, gy0, gx1, gy1 = grid.bounds
    for s in srcs:
        notes.extend(x for x in s.notes if x not in notes)
        bx0, by0, bx1, by1 = s.bounds_in(grid.crs)
        if not (bx0 <= gx1 and bx1 >= gx0 and by0 <= gy1 and by1 >= gy0):
            notes.add(f"{s.path.name}: outside the grid, skipped")
            continue
        transformer = None
        if not same_crs(s.crs, grid.crs):
            from pyproj import Transformer

            transformer = Transformer.from_crs(s.crs, grid.crs, always_xy=True)
            notes.add(f"{s.path.name}: points reprojected from {s.crs} to {grid.crs}")
        file_ground = 0
        try:
            with laspy.open(s.path) as f:
                for chunk in f.chunk_iterator(chunk_size):
                    points_read += len(chunk)
                    x = np.asarray(chunk.x, dtype=np.float64)
                    y = np.asarray(chunk.y, dtype=np.float64)
                    z = np.asarray(chunk.z, dtype=np.float64)
                    cls = np.asarray(chunk.classification, dtype=np.uint8)
                    withheld = np.asarray(chunk.withheld, dtype=bool) if "withheld" in chunk.point_format.dimension_names else None
                    if withheld is not None and withheld.any():
                        keep = ~withheld
                        x, y, z, cls = x[keep], y[keep], z[keep], cls[keep]
                    if transformer is not None:
                        x, y = transformer.transform(x, y)
                    before = int(counts[K.COUNT_GROUND].sum())
                    used += K.bin_points(
                        x, y, z, cls, roles, ground_sum, surface_max, any_max, veg_max, counts,
                        xmin=float(grid.xmin), ymax=float(grid.ymax), cell_size=float(grid.cell_size),
                        nrows=grid.nrows, ncols=grid.ncols,
                    )
                    file_ground += int(counts[K.COUNT_GROUND].sum()) - before
                    inside = grid.contains(x, y)
                    class_hist += np.bincount(cls[inside], minlength=256)
        except (laspy.errors.LaspyException, OSError, ValueError, RuntimeError) as err:
            raise TwinFormatError(f"{s.path}: truncated or damaged point data ({str(err).splitlines()[0][:160]})") from err
        if file_ground == 0:
            notes.add(f"{s.path.name}: no terrain points (classes 2, 9, 66) inside the grid")
    n_ground = counts[K.COUNT_GROUND]
    if n_ground.sum() == 0:
        names = ", ".join(str(s.path) for s in srcs)
        raise TwinFormatError(f"{names}: no ground points (class 2, 9 or 66) in the point cloud inside the grid")
    shape = grid.shape
    with np.errstate(invalid="ignore", divide="ignore"):
        terrain = np.where(n_ground > 0, ground_sum / np.maximum(n_ground, 1), np.nan).astype(np.float32).reshape(shape)
    classified_above = int(counts[K.COUNT_CLASSIFIED_ABOVE].sum()) > 0 and int(
        counts[K.COUNT_BUILDING].sum() + counts[K.COUNT_VEGETATION].sum() + counts[K.COUNT_BRIDGE].sum()) > 0
    surf_src = surface_max if classified_above else any_max
    if not classified_above:
        notes.add("no vegetation, building or bridge classes in the point cloud: the surface is the highest non-noise point")
    surface = np.where(np.isfinite(surf_src), surf_src, np.nan).astype(np.float32).reshape(shape)
    radius = max(1.0, max_fill_distance / grid.cell_size)
    terrain, terrain_filled = fill_gaps(terrain, max_distance_cells=radius)
    if terrain_filled.any():
        notes.add(f"terrain: {int(terrain_filled.sum())} cells without terrain points interpolated (linear from the "
                  f"gap's rim, up to {max_fill_distance:g} m)")
    surface, surface_filled = fill_gaps(surface, max_distance_cells=radius)
    # the surface is never below the terrain
    surface = np.where(np.isfinite(terrain) & np.isfinite(surface), np.maximum(surface, terrain), surface).astype(np.float32)
    veg = veg_max.reshape(shape)
    canopy = np.where(np.isfinite(veg) & np.isfinite(terrain), np.maximum(veg - terrain, 0.0), 0.0).astype(np.float32)
    n_all = counts[K.COUNT_ALL].reshape(shape).astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        bfrac = np.where(n_all > 0, counts[K.COUNT_BUILDING].reshape(shape) / n_all, 0.0).astype(np.float32)
        wfrac = np.where(n_all > 0, counts[K.COUNT_WATER].reshape(shape) / n_all, 0.0).astype(np.float32)
    bridge = counts[K.COUNT_BRIDGE].reshape(shape) > 0
    density = (n_all / grid.cell_area).astype(np.float32)
    class_counts = {int(c): int(v) for c, v in enumerate(class_hist) if v}
    return PointCloudRasters(
        terrain=terrain.astype(np.float32), surface=surface, canopy_height=canopy, building_fraction=bfrac,
        water_fraction=wfrac, bridge=bridge, density=density, terrain_filled=terrain_filled,
        surface_filled=surface_filled, points_read=points_read, points_used=int(used), class_counts=class_counts,
        sources=srcs, notes=notes,
    )
