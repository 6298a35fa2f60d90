"""Elevation rasters: GeoTIFF and ESRI ASCII grids (IGN LiDAR HD MNT/MNS/MNH, RGE ALTI), onto the twin grid.

Two steps, as with rasterio: :func:`open_raster` checks a file and reads its header
(CRS, transform, NoData conventions, IGN tile name) without reading the pixels;
:func:`resample_to_grid` mosaics any number of such sources onto a twin
:class:`~twin.grid.Grid`, reprojecting and resampling as needed, and reports the gaps.

Rules
-----
* **NoData**: the value the file declares, NaN, and the sentinels IGN and others use
  (-9999, 9999, -99999) are all missing. No French altitude or height reaches 9999 m.
* **CRS**: the file's CRS; else the CRS written in an IGN tile name (``..._LAMB93_...``);
  else, for ESRI ASCII grids (RGE ALTI has no CRS in its files), EPSG:2154 with a note;
  else ``default_crs``; else an error. ``crs=`` overrides whatever the file says (IGN WKTs
  that GDAL does not match to EPSG:2154 are matched at 70 % confidence already).
* **Tile names**: IGN names give the centre of the north-west cell in km
  (``RGEALTI_FXX_0990_6305_MNT_LAMB93_IGN69.asc``: x 990 km, y 6305 km; the header's
  ``xllcorner 989997.5`` is half a 5 m cell further west). A header that disagrees with
  its name is noted (the header wins).
* **Mosaic then resample**: tiles that share a CRS and pixel lattice are pasted together at
  their own resolution first (no seams), then resampled once onto the twin grid:
  area-weighted **average** when coarsening (GDAL weights partially covered source pixels
  by their covered fraction), **bilinear** when refining or shifting; never nearest
  neighbour. Groups of tiles in different CRSs or resolutions are each reprojected; where
  they overlap, the finest resolution wins, then the order given.
* **Gaps**: missing cells inside the sources' coverage are gaps. Gaps up to
  ``max_gap_area`` (default 400 m2, a 20 m square) are filled by linear interpolation from
  the cells around them (:func:`importers._fill.fill_gaps`: a Delaunay triangulation of the
  gap's rim, exact on a plane; inverse-distance weighting where it does not reach); larger
  gaps stay NaN and are reported, as are cells no source covers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.errors import RasterioError
from rasterio.warp import Resampling, reproject, transform_bounds
from rasterio.windows import Window as RioWindow
from scipy import ndimage

from importers._common import Notes, check_file, horizontal_crs, same_crs
from importers._fill import fill_gaps as fill_gaps_linear
from twin.errors import TwinCRSError, TwinFormatError, TwinValueError
from twin.grid import Grid

__all__ = [
    "NODATA_SENTINELS",
    "IGNTileName",
    "RasterSource",
    "ResampledRaster",
    "open_raster",
    "parse_ign_tile_name",
    "resample_to_grid",
]

#: Values treated as missing in every elevation raster, besides the declared NoData and NaN.
NODATA_SENTINELS = (-9999.0, 9999.0, -99999.0)

#: Projection tokens of IGN file names -> EPSG codes.
_IGN_PROJ = {
    "LAMB93": "EPSG:2154",
    "RGAF09UTM20": "EPSG:5490",
    "UTM22RGFG95": "EPSG:2972",
    "RGFG95UTM22": "EPSG:2972",
    "RGR92UTM40S": "EPSG:2975",
    "RGM04UTM38S": "EPSG:4471",
}
_IGN_KIND = {"MNT": "terrain", "MNS": "surface", "MNH": "height", "PTS": "pointcloud"}
_IGN_NAME = re.compile(
    r"^(?P<product>[A-Z0-9]+)(?:_(?P<res1>\d+M\d*))?_(?P<zone>[A-Z]{3})_(?P<x>\d{3,4})_(?P<y>\d{4})_(?P<kind>MNT|MNS|MNH|PTS)"
    r"(?:_[A-Z0-9]+?)*?(?:_(?P<res2>\d+M\d*))?_(?P<proj>" + "|".join(_IGN_PROJ) + r")(?:_|\.|$)",
    re.I,
)


@dataclass(frozen=True)
class IGNTileName:
    """What an IGN tile name says.

    Attributes
    ----------
    product : str
        ``LHD`` (LiDAR HD), ``RGEALTI``, ``BDALTIV2``...
    kind : str
        ``terrain`` (MNT), ``surface`` (MNS), ``height`` (MNH) or ``pointcloud``.
    x_km, y_km : int
        Centre of the north-west cell, in km (x_min and y_max of the tile).
    crs : str or None
        EPSG code the projection token names.
    cell_size : float or None
        Resolution written in the name (``0M50`` = 0.5 m), when present.
    """

    product: str
    kind: str
    x_km: int
    y_km: int
    crs: str | None
    cell_size: float | None


def _res_token(tok: str | None) -> float | None:
    if not tok:
        return None
    m = re.match(r"^(\d+)M(\d*)$", tok, re.I)
    if not m:
        return None
    whole, frac = m.group(1), m.group(2)
    return float(f"{int(whole)}.{frac}" if frac else whole)


def parse_ign_tile_name(name: str) -> IGNTileName | None:
    """Parse an IGN tile file name (LiDAR HD, RGE ALTI, BD ALTI); None if it is not one.

    >>> t = parse_ign_tile_name("RGEALTI_FXX_0990_6305_MNT_LAMB93_IGN69.asc")
    >>> (t.kind, t.x_km, t.y_km, t.crs)
    ('terrain', 990, 6305, 'EPSG:2154')
    >>> parse_ign_tile_name("LHD_FXX_0770_6278_MNS_O_0M50_LAMB93_IGN69.tif").cell_size
    0.5
    """
    m = _IGN_NAME.match(Path(name).name)
    if not m:
        return None
    g = m.groupdict()
    return IGNTileName(
        product=g["product"].upper(),
        kind=_IGN_KIND[g["kind"].upper()],
        x_km=int(g["x"]),
        y_km=int(g["y"]),
        crs=_IGN_PROJ.get(g["proj"].upper()),
        cell_size=_res_token(g["res2"]) or _res_token(g["res1"]),
    )


@dataclass
class RasterSource:
    """An elevation raster on disk, checked and described; pixels are read on demand.

    Attributes
    ----------
    path : Path
    crs : str
        Horizontal CRS (``"EPSG:<code>"`` or WKT).
    transform : Affine
        Pixel-corner transform (north-up).
    width, height : int
    nodata : tuple of float
        Values read as missing (NaN is always missing).
    kind : str or None
        ``terrain``, ``surface`` or ``height`` when the file name says so.
    tile : IGNTileName or None
    notes : list of str
        What was assumed (a default CRS, a name/header mismatch...).
    """

    path: Path
    crs: str
    transform: Affine
    width: int
    height: int
    nodata: tuple[float, ...]
    kind: str | None = None
    tile: IGNTileName | None = None
    notes: Notes = field(default_factory=Notes)

    @property
    def res(self) -> float:
        """Pixel size [m]."""
        return float(self.transform.a)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` in the raster's CRS."""
        t = self.transform
        return (t.c, t.f + self.height * t.e, t.c + self.width * t.a, t.f)

    def bounds_in(self, crs) -> tuple[float, float, float, float]:
        """The bounds transformed to another CRS (densified edges)."""
        if same_crs(self.crs, crs):
            return self.bounds
        return transform_bounds(self.crs, crs, *self.bounds, densify_pts=21)

    def read(self, window: RioWindow | None = None) -> np.ndarray:
        """Band 1 (or a window of it) as float32 with every NoData convention turned into NaN.

        Raises
        ------
        TwinFormatError
            If the pixels cannot be read (truncated or damaged file).
        """
        try:
            with rasterio.open(self.path) as src:
                arr = src.read(1, window=window, out_dtype="float32")
        except RasterioError as err:
            raise TwinFormatError(f"{self.path}: cannot read the pixels ({err})") from err
        return _mask_nodata(arr, self.nodata)

    def __str__(self) -> str:
        return f"{self.path.name} ({self.width} x {self.height} at {self.res:g} m, {self.crs})"


def _mask_nodata(arr: np.ndarray, nodata) -> np.ndarray:
    arr = np.asarray(arr, dtype=np.float32)
    bad = ~np.isfinite(arr)
    for v in nodata:
        bad |= arr == np.float32(v)
    if bad.any():
        arr = arr.copy() if not arr.flags.writeable else arr
        arr[bad] = np.nan
    return arr


def open_raster(path, *, crs=None, default_crs=None, nodata=None) -> RasterSource:
    """Check an elevation raster and read its header.

    Parameters
    ----------
    path : str or Path
        GeoTIFF, ESRI ASCII grid (``.asc``) or any single-band raster GDAL reads.
    crs : optional
        CRS of the file, overriding what it declares (for WKTs GDAL cannot identify).
    default_crs : optional
        CRS assumed when the file declares none (ignored when it declares one).
    nodata : float or sequence of float, optional
        Extra NoData values, besides the declared one, NaN and :data:`NODATA_SENTINELS`.

    Returns
    -------
    RasterSource

    Raises
    ------
    TwinFileNotFoundError
        If the file does not exist.
    TwinFormatError
        If it is empty, not a raster, rotated, or has no georeferencing.
    TwinCRSError
        If it has no CRS and none can be assumed.
    """
    p = check_file(path, what="raster")
    notes = Notes()
    try:
        with rasterio.open(p) as src:
            transform = src.transform
            width, height = src.width, src.height
            declared = src.nodata
            file_crs = src.crs
            driver = src.driver
            count = src.count
    except RasterioError as err:
        raise TwinFormatError(f"{p}: not a readable raster ({_short(err)})") from err
    if count < 1 or width < 1 or height < 1:
        raise TwinFormatError(f"{p}: the raster has no pixels")
    if transform.is_identity:
        raise TwinFormatError(f"{p}: the raster has no georeferencing (no transform)")
    if abs(transform.b) > 0 or abs(transform.d) > 0 or transform.a <= 0 or transform.e >= 0:
        raise TwinFormatError(f"{p}: rotated or south-up rasters are not supported (transform {tuple(transform)[:6]})")
    if not math.isclose(transform.a, -transform.e, rel_tol=1e-6):
        raise TwinFormatError(f"{p}: pixels are not square ({transform.a:g} x {-transform.e:g} m)")
    tile = parse_ign_tile_name(p.name)
    if crs is not None:
        the_crs = horizontal_crs(crs, where=str(p))
        notes.add(f"{p.name}: CRS set to {the_crs} by the caller")
    elif file_crs is not None:
        the_crs = horizontal_crs(file_crs.to_wkt(), where=str(p))
    elif tile is not None and tile.crs is not None:
        the_crs = tile.crs
        notes.add(f"{p.name}: no CRS in the file; {the_crs} from the IGN tile name")
    elif default_crs is not None:
        the_crs = horizontal_crs(default_crs, where=str(p))
        notes.add(f"{p.name}: no CRS in the file; assumed {the_crs} as asked")
    elif driver == "AAIGrid" or p.suffix.lower() == ".asc":
        the_crs = "EPSG:2154"
        notes.add(f"{p.name}: no CRS in the ESRI ASCII grid; assumed EPSG:2154 (Lambert-93, as RGE ALTI) - "
                  "give --source-crs if it is not")
    else:
        raise TwinCRSError(f"{p}: the raster has no CRS; give it with --source-crs (Python: crs=...)")
    values = set(NODATA_SENTINELS)
    if declared is not None and math.isfinite(declared):
        values.add(float(declared))
    if nodata is not None:
        values.update(float(v) for v in np.atleast_1d(nodata))
    src_obj = RasterSource(
        path=p, crs=the_crs, transform=transform, width=width, height=height,
        nodata=tuple(sorted(values)), kind=tile.kind if tile else None, tile=tile, notes=notes,
    )
    if tile is not None:
        _check_tile_name(src_obj)
    return src_obj


def _short(err) -> str:
    return str(err).splitlines()[0][:200]


def _check_tile_name(src: RasterSource) -> None:
    """Compare the north-west cell centre the IGN name gives with the header's."""
    t = src.tile
    res = src.res
    x_nw = src.transform.c + res / 2
    y_nw = src.transform.f - res / 2
    ex, ey = t.x_km * 1000.0, t.y_km * 1000.0
    if abs(x_nw - ex) > res or abs(y_nw - ey) > res:
        src.notes.add(
            f"{src.path.name}: the name says the north-west cell is at ({ex:.0f}, {ey:.0f}), the header at "
            f"({x_nw:.2f}, {y_nw:.2f}); the header is used"
        )
    if t.cell_size is not None and not math.isclose(t.cell_size, res, rel_tol=1e-6):
        src.notes.add(f"{src.path.name}: the name says {t.cell_size:g} m cells, the header {res:g} m; the header is used")


# -- onto the twin grid -------------------------------------------------------------------------------
@dataclass
class ResampledRaster:
    """A raster on the twin grid and what happened to it.

    Attributes
    ----------
    values : ndarray float32 (grid.shape)
        NaN where nothing is known.
    sources : list of RasterSource
        The sources that touch the grid, in priority order.
    method : dict
        Resampling method used per source file name.
    filled_cells : int
        Cells of small gaps filled by interpolation.
    filled_gaps : int
        Number of small gaps filled.
    large_gap_cells : int
        Cells of gaps larger than ``max_gap_area`` left NaN.
    large_gaps : int
    uncovered_cells : int
        Cells no source covers (left NaN).
    filled_mask : ndarray bool
        Cells whose value was interpolated.
    notes : list of str
    """

    values: np.ndarray
    sources: list
    method: dict
    filled_cells: int = 0
    filled_gaps: int = 0
    large_gap_cells: int = 0
    large_gaps: int = 0
    uncovered_cells: int = 0
    filled_mask: np.ndarray | None = None
    notes: Notes = field(default_factory=Notes)


def _lattice_key(src: RasterSource) -> tuple:
    res = src.res
    phase_x = round(((src.transform.c / res) % 1.0) * 1000) % 1000
    phase_y = round(((src.transform.f / res) % 1.0) * 1000) % 1000
    return (src.crs, round(res, 9), phase_x, phase_y)


def resample_to_grid(
    sources,
    grid: Grid,
    *,
    resampling: str | None = None,
    fill_gaps: bool = True,
    max_gap_area: float = 400.0,
    block: int = 2048,
) -> ResampledRaster:
    """Mosaic raster sources onto ``grid``: reproject, resample, fill small gaps.

    Parameters
    ----------
    sources : RasterSource, path, or a list of them
    grid : Grid
    resampling : {"average", "bilinear", "cubic"}, optional
        Force a method; by default ``average`` when a source is coarsened, ``bilinear`` otherwise.
        Nearest neighbour is refused: it aliases.
    fill_gaps : bool
        Fill gaps up to ``max_gap_area`` [m2] by inverse-distance weighting (see the module notes).
    max_gap_area : float
        Largest gap filled [m2].
    block : int
        Side of the blocks of the twin grid processed at once [cells] (bounds memory).

    Returns
    -------
    ResampledRaster

    Raises
    ------
    TwinValueError
        If ``resampling`` is unknown or nearest neighbour.
    """
    methods = {"average": Resampling.average, "bilinear": Resampling.bilinear, "cubic": Resampling.cubic}
    if resampling is not None and resampling not in methods:
        raise TwinValueError(f"invalid resampling {resampling!r}: use one of {', '.join(methods)} (never nearest)")
    srcs = [s if isinstance(s, RasterSource) else open_raster(s) for s in _listify(sources)]
    gx0, gy0, gx1, gy1 = grid.bounds
    touching = []
    for s in srcs:
        try:
            bx0, by0, bx1, by1 = s.bounds_in(grid.crs)
        except Exception as err:  # PROJ cannot transform between the two CRSs
            raise TwinCRSError(f"{s.path}: cannot transform from {s.crs} to {grid.crs} ({err})") from err
        if bx0 < gx1 and bx1 > gx0 and by0 < gy1 and by1 > gy0:
            touching.append(s)
    notes = Notes()
    for s in srcs:
        notes.extend(n for n in s.notes if n not in notes)
    out = np.full(grid.shape, np.nan, dtype=np.float32)
    result = ResampledRaster(values=out, sources=touching, method={}, notes=notes)
    if not touching:
        result.uncovered_cells = grid.size
        return result
    # groups sharing a CRS and pixel lattice, finest first (stable: order given within a resolution)
    groups: dict[tuple, list[RasterSource]] = {}
    for s in touching:
        groups.setdefault(_lattice_key(s), []).append(s)
    ordered = sorted(groups.items(), key=lambda kv: kv[0][1])
    if len(ordered) > 1:
        desc = "; ".join(f"{len(g)} tile(s) at {k[1]:g} m in {k[0] if len(k[0]) < 30 else 'a WKT CRS'}" for k, g in ordered)
        notes.add(f"rasters in {len(ordered)} CRS/resolution groups ({desc}): each reprojected, the finest wins where they overlap")
    for key, group in ordered:
        crs, res = key[0], key[1]
        if not same_crs(crs, grid.crs):
            notes.add(f"{', '.join(s.path.name for s in group)}: reprojected from {crs} to {grid.crs}")
        if resampling is not None:
            method = methods[resampling]
        elif res < grid.cell_size * (1 - 1e-9):
            method = Resampling.average
        else:
            method = Resampling.bilinear
        for s in group:
            result.method[s.path.name] = method.name
        for tile in grid.tiles(block):
            sub = grid.subgrid(tile.window)
            dst = out[tile.window.slices]
            if not np.isnan(dst).any():
                continue
            mosaic, mtransform = _mosaic_window(group, sub, res=res, crs=crs)
            if mosaic is None:
                continue
            tmp = np.full(sub.shape, np.nan, dtype=np.float32)
            reproject(
                mosaic, tmp, src_transform=mtransform, src_crs=crs, dst_transform=sub.transform, dst_crs=grid.crs,
                resampling=method, src_nodata=np.nan, dst_nodata=np.nan,
            )
            take = np.isnan(dst) & np.isfinite(tmp)
            dst[take] = tmp[take]
    _handle_gaps(result, grid, fill_gaps=fill_gaps, max_gap_area=max_gap_area)
    return result


def _listify(x):
    if isinstance(x, (str, Path, RasterSource)):
        return [x]
    return list(x)


def _mosaic_window(group: list[RasterSource], sub: Grid, *, res: float, crs: str):
    """Paste the tiles of one lattice group over the window that covers ``sub`` (plus a margin)."""
    ref = group[0].transform
    bx0, by0, bx1, by1 = sub.bounds
    if not same_crs(crs, sub.crs):
        bx0, by0, bx1, by1 = transform_bounds(sub.crs, crs, bx0, by0, bx1, by1, densify_pts=21)
    margin = 2 * res + sub.cell_size
    # window on the group's lattice (integer pixel offsets from the first tile's origin)
    c0 = math.floor((bx0 - margin - ref.c) / res)
    c1 = math.ceil((bx1 + margin - ref.c) / res)
    r0 = math.floor((ref.f - (by1 + margin)) / res)
    r1 = math.ceil((ref.f - (by0 - margin)) / res)
    if c1 <= c0 or r1 <= r0:
        return None, None
    mosaic = np.full((r1 - r0, c1 - c0), np.nan, dtype=np.float32)
    any_data = False
    for s in group:
        # offset of this tile on the lattice
        oc = round((s.transform.c - ref.c) / res)
        orow = round((ref.f - s.transform.f) / res)
        # intersection of the window with the tile, in tile pixels
        tc0, tc1 = max(c0 - oc, 0), min(c1 - oc, s.width)
        tr0, tr1 = max(r0 - orow, 0), min(r1 - orow, s.height)
        if tc1 <= tc0 or tr1 <= tr0:
            continue
        arr = s.read(RioWindow(tc0, tr0, tc1 - tc0, tr1 - tr0))
        dr, dc = tr0 + orow - r0, tc0 + oc - c0
        view = mosaic[dr:dr + arr.shape[0], dc:dc + arr.shape[1]]
        take = np.isnan(view) & np.isfinite(arr)
        view[take] = arr[take]
        any_data = any_data or bool(take.any())
    if not any_data:
        return None, None
    mtransform = Affine(res, 0.0, ref.c + c0 * res, 0.0, -res, ref.f - r0 * res)
    return mosaic, mtransform


def _coverage(sources: list[RasterSource], grid: Grid) -> np.ndarray:
    """Cells whose centre lies inside at least one source's footprint."""
    import shapely
    from rasterio import features
    from shapely.geometry import box

    shapes = []
    for s in sources:
        poly = box(*s.bounds)
        if not same_crs(s.crs, grid.crs):
            from pyproj import Transformer

            tr = Transformer.from_crs(s.crs, grid.crs, always_xy=True)
            poly = shapely.transform(poly.segmentize(poly.length / 64), tr.transform, interleaved=False)
        shapes.append((poly, 1))
    return features.rasterize(shapes, out_shape=grid.shape, transform=grid.transform, fill=0, dtype="uint8").astype(bool)


def _handle_gaps(result: ResampledRaster, grid: Grid, *, fill_gaps: bool, max_gap_area: float) -> None:
    values = result.values
    missing = np.isnan(values)
    if not missing.any():
        result.filled_mask = np.zeros(grid.shape, bool)
        return
    covered = _coverage(result.sources, grid)
    result.uncovered_cells = int((missing & ~covered).sum())
    holes = missing & covered
    labels, n = ndimage.label(holes)
    filled_mask = np.zeros(grid.shape, bool)
    if n:
        sizes = np.bincount(labels.ravel(), minlength=n + 1)
        sizes[0] = 0
        # a "hole" that touches uncovered cells is the coverage edge, not a gap: leave it
        edge_labels = np.unique(labels[ndimage.binary_dilation(missing & ~covered) & holes])
        max_cells = max_gap_area / grid.cell_area
        small = (sizes <= max_cells) & (sizes > 0)
        small[edge_labels] = False
        large = (sizes > max_cells)
        large[edge_labels] = False
        result.large_gaps = int(large.sum())
        result.large_gap_cells = int(sizes[large].sum())
        if fill_gaps and small.any() and np.isfinite(values).any():
            to_fill = small[labels]
            radius = max(2.0, math.sqrt(max_cells) * 2)
            filled, ok = fill_gaps_linear(values, max_distance_cells=radius, where=to_fill)
            values[ok] = filled[ok]
            filled_mask = ok
            result.filled_cells = int(ok.sum())
            result.filled_gaps = int(small.sum())
        elif small.any():
            result.notes.add(f"{int(small.sum())} small gap(s) ({int(sizes[small].sum())} cells) left unfilled as asked")
        if result.filled_cells:
            result.notes.add(
                f"{result.filled_gaps} small gap(s), {result.filled_cells} cells, filled by linear interpolation from "
                f"their rim (gaps up to {max_gap_area:g} m2)"
            )
        if result.large_gaps:
            result.notes.add(f"{result.large_gaps} gap(s) larger than {max_gap_area:g} m2 ({result.large_gap_cells} cells) left empty")
    if result.uncovered_cells:
        result.notes.add(f"{result.uncovered_cells} cells of the grid are outside every raster")
    result.filled_mask = filled_mask
