"""The twin's raster grid: CRS, cell size, snapped origin, shape, windows and tiles.

A :class:`Grid` is a small frozen value. Its origin is the north-west corner of
the north-west cell, snapped to a whole multiple of the cell size, exactly as a
GeoTIFF's geotransform. Rows grow southwards, columns eastwards; arrays are
indexed ``[row, col]`` and cell centres are at half-cell offsets.

Windows and tiles use one axis order everywhere: ``(row_off, col_off, height,
width)``. A :class:`Tile` carries its core window and a padded window (the core
plus a halo, clipped to the grid) so that any stencil computation can run tile
by tile and write back only the core.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from affine import Affine
from pyproj import CRS
from pyproj.exceptions import CRSError

from twin.errors import TwinCRSError, TwinValueError

__all__ = ["Grid", "Window", "Tile", "normalize_crs", "DEFAULT_CRS"]

DEFAULT_CRS = "EPSG:2154"
"""RGF93 / Lambert-93, the projected CRS of metropolitan France."""

#: Relative tolerance used when snapping coordinates to the cell size: a
#: coordinate within this fraction of a cell of a grid line is on it.
_SNAP_EPS = 1e-6


def normalize_crs(crs: str | int | CRS) -> str:
    """Return a canonical text for ``crs``: ``"EPSG:<code>"`` when it has one, else WKT2.

    Raises
    ------
    TwinCRSError
        If the CRS cannot be understood, or is not projected in metres.
    """
    try:
        parsed = CRS.from_user_input(crs)
    except CRSError as err:
        raise TwinCRSError(f"invalid CRS: {crs!r}") from err
    if parsed.is_geographic:
        raise TwinCRSError(f"CRS {crs!r} is geographic (degrees); a twin needs a projected CRS in metres")
    code = parsed.to_epsg(min_confidence=90)
    if code is not None:
        return f"EPSG:{code}"
    return parsed.to_wkt()


def _require_positive(value: float, *, name: str) -> float:
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise TwinValueError(f"invalid {name}: {value!r} (must be a positive number)")
    return value


@dataclass(frozen=True)
class Window:
    """A rectangle of cells: ``row_off, col_off, height, width``."""

    row_off: int
    col_off: int
    height: int
    width: int

    def __post_init__(self) -> None:
        if self.height < 0 or self.width < 0:
            raise TwinValueError(f"invalid window size: {self.height} x {self.width}")

    @property
    def slices(self) -> tuple[slice, slice]:
        """The ``(rows, cols)`` slices that select the window from a full-grid array."""
        return (
            slice(self.row_off, self.row_off + self.height),
            slice(self.col_off, self.col_off + self.width),
        )

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    def intersection(self, other: Window) -> Window:
        """The overlap of two windows (possibly empty)."""
        r0 = max(self.row_off, other.row_off)
        c0 = max(self.col_off, other.col_off)
        r1 = min(self.row_off + self.height, other.row_off + other.height)
        c1 = min(self.col_off + self.width, other.col_off + other.width)
        return Window(r0, c0, max(0, r1 - r0), max(0, c1 - c0))


@dataclass(frozen=True)
class Tile:
    """One tile of a tiled computation.

    Attributes
    ----------
    window : Window
        The core cells this tile is responsible for.
    padded : Window
        The core plus the halo, clipped to the grid: the cells to read.
    """

    window: Window
    padded: Window

    @property
    def inner(self) -> tuple[slice, slice]:
        """Slices that select the core from an array of the padded window's shape."""
        r = self.window.row_off - self.padded.row_off
        c = self.window.col_off - self.padded.col_off
        return (slice(r, r + self.window.height), slice(c, c + self.window.width))


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid.

    Parameters
    ----------
    xmin, ymax : float
        West and north edges of the grid [m], whole multiples of ``cell_size``.
    nrows, ncols : int
        Shape of the grid.
    cell_size : float
        Side of a square cell [m]. Any positive size; 1 m is the default.
    crs : str
        Coordinate reference system, normalised by :func:`normalize_crs`.

    Use :meth:`from_bounds` to build a grid that covers an extent; it snaps the
    origin outwards to the cell size.
    """

    xmin: float
    ymax: float
    nrows: int
    ncols: int
    cell_size: float = 1.0
    crs: str = DEFAULT_CRS

    def __post_init__(self) -> None:
        cs = _require_positive(self.cell_size, name="cell_size")
        object.__setattr__(self, "cell_size", cs)
        if int(self.nrows) != self.nrows or int(self.ncols) != self.ncols or self.nrows < 1 or self.ncols < 1:
            raise TwinValueError(f"invalid grid shape: {self.nrows!r} x {self.ncols!r} (must be positive integers)")
        object.__setattr__(self, "nrows", int(self.nrows))
        object.__setattr__(self, "ncols", int(self.ncols))
        for name in ("xmin", "ymax"):
            v = float(getattr(self, name))
            k = round(v / cs)
            if not math.isfinite(v) or abs(v / cs - k) > _SNAP_EPS:
                raise TwinValueError(
                    f"invalid {name}: {v!r} is not a whole multiple of the cell size {cs!r}; use Grid.from_bounds to snap"
                )
            # store the exact multiple to remove float noise
            object.__setattr__(self, name, k * cs)
        object.__setattr__(self, "crs", normalize_crs(self.crs))

    # -- construction -------------------------------------------------------------
    @classmethod
    def from_bounds(
        cls,
        xmin: float,
        ymin: float,
        xmax: float,
        ymax: float,
        *,
        cell_size: float = 1.0,
        crs: str | int | CRS = DEFAULT_CRS,
    ) -> Grid:
        """The smallest snapped grid that covers ``[xmin, xmax] x [ymin, ymax]``.

        Raises
        ------
        TwinValueError
            If the extent is empty or not finite, or the cell size is not positive.
        """
        cs = _require_positive(cell_size, name="cell_size")
        vals = [float(v) for v in (xmin, ymin, xmax, ymax)]
        if not all(math.isfinite(v) for v in vals):
            raise TwinValueError(f"invalid extent: {tuple(vals)!r} (not finite)")
        xmin, ymin, xmax, ymax = vals
        if xmax <= xmin or ymax <= ymin:
            raise TwinValueError(f"invalid extent: {tuple(vals)!r} (xmax must exceed xmin and ymax exceed ymin)")
        x0 = math.floor(xmin / cs + _SNAP_EPS) * cs
        y1 = math.ceil(ymax / cs - _SNAP_EPS) * cs
        x1 = math.ceil(xmax / cs - _SNAP_EPS) * cs
        y0 = math.floor(ymin / cs + _SNAP_EPS) * cs
        ncols = max(1, round((x1 - x0) / cs))
        nrows = max(1, round((y1 - y0) / cs))
        return cls(xmin=x0, ymax=y1, nrows=nrows, ncols=ncols, cell_size=cs, crs=crs)

    @classmethod
    def from_transform(cls, transform: Affine, shape: tuple[int, int], crs: str | int | CRS) -> Grid:
        """Grid from a north-up GDAL/rasterio affine transform and ``(nrows, ncols)``."""
        if abs(transform.b) > 0 or abs(transform.d) > 0 or transform.a <= 0 or abs(transform.a + transform.e) > 1e-9 * transform.a:
            raise TwinValueError(f"invalid transform: {tuple(transform)[:6]!r} (a twin grid is north-up with square cells)")
        return cls(xmin=transform.c, ymax=transform.f, nrows=shape[0], ncols=shape[1], cell_size=transform.a, crs=crs)

    # -- geometry ----------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """``(nrows, ncols)``."""
        return (self.nrows, self.ncols)

    @property
    def size(self) -> int:
        """Number of cells."""
        return self.nrows * self.ncols

    @property
    def xmax(self) -> float:
        return self.xmin + self.ncols * self.cell_size

    @property
    def ymin(self) -> float:
        return self.ymax - self.nrows * self.cell_size

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` [m]."""
        return (self.xmin, self.ymin, self.xmax, self.ymax)

    @property
    def transform(self) -> Affine:
        """The GDAL/rasterio affine transform (pixel corner -> world)."""
        return Affine(self.cell_size, 0.0, self.xmin, 0.0, -self.cell_size, self.ymax)

    @property
    def cell_area(self) -> float:
        """Area of one cell [m2]."""
        return self.cell_size * self.cell_size

    @cached_property
    def pyproj_crs(self) -> CRS:
        return CRS.from_user_input(self.crs)

    def centre_latlon(self) -> tuple[float, float]:
        """Latitude and longitude [degrees, WGS84] of the grid's centre (sun position, climate)."""
        from pyproj import Transformer

        lon, lat = Transformer.from_crs(self.pyproj_crs, "EPSG:4326", always_xy=True).transform(
            0.5 * (self.xmin + self.xmax), 0.5 * (self.ymin + self.ymax))
        return float(lat), float(lon)

    @property
    def x(self) -> np.ndarray:
        """Cell-centre x coordinates of the columns [m], float64, west to east."""
        return self.xmin + (np.arange(self.ncols, dtype=np.float64) + 0.5) * self.cell_size

    @property
    def y(self) -> np.ndarray:
        """Cell-centre y coordinates of the rows [m], float64, north to south."""
        return self.ymax - (np.arange(self.nrows, dtype=np.float64) + 0.5) * self.cell_size

    def xy(self, row, col):
        """World coordinates of cell centres for (arrays of) row and column indices."""
        row = np.asarray(row)
        col = np.asarray(col)
        return (self.xmin + (col + 0.5) * self.cell_size, self.ymax - (row + 0.5) * self.cell_size)

    def rowcol(self, x, y):
        """Row and column indices of the cells containing world points.

        Points on a cell's west or north edge belong to that cell. Indices outside the
        grid are returned as they are; use :meth:`contains` to test.
        """
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        col = np.floor((x - self.xmin) / self.cell_size + _SNAP_EPS).astype(np.int64)
        row = np.floor((self.ymax - y) / self.cell_size + _SNAP_EPS).astype(np.int64)
        return row, col

    def contains(self, x, y):
        """Whether world points fall inside the grid."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        return (x >= self.xmin) & (x < self.xmax) & (y > self.ymin) & (y <= self.ymax)

    # -- windows and tiles -------------------------------------------------------------
    @property
    def full_window(self) -> Window:
        return Window(0, 0, self.nrows, self.ncols)

    def window(self, xmin: float, ymin: float, xmax: float, ymax: float) -> Window:
        """The window of cells that covers a world extent, clipped to the grid."""
        r0, c0 = self.rowcol(xmin, ymax)
        x1 = np.floor((xmax - self.xmin) / self.cell_size - _SNAP_EPS)
        y1 = np.floor((self.ymax - ymin) / self.cell_size - _SNAP_EPS)
        w = Window(int(r0), int(c0), max(0, int(y1) - int(r0) + 1), max(0, int(x1) - int(c0) + 1))
        return w.intersection(self.full_window)

    def subgrid(self, window: Window) -> Grid:
        """The grid of the cells of ``window``."""
        w = window.intersection(self.full_window)
        if w.height == 0 or w.width == 0:
            raise TwinValueError(f"window {window!r} does not overlap the grid")
        return Grid(
            xmin=self.xmin + w.col_off * self.cell_size,
            ymax=self.ymax - w.row_off * self.cell_size,
            nrows=w.height,
            ncols=w.width,
            cell_size=self.cell_size,
            crs=self.crs,
        )

    def padded(self, window: Window, halo: int) -> Window:
        """``window`` grown by ``halo`` cells on each side, clipped to the grid."""
        if halo < 0:
            raise TwinValueError(f"invalid halo: {halo!r} (must be >= 0)")
        grown = Window(window.row_off - halo, window.col_off - halo, window.height + 2 * halo, window.width + 2 * halo)
        return grown.intersection(self.full_window)

    def tiles(self, size: int | tuple[int, int], *, halo: int = 0) -> Iterator[Tile]:
        """Cover the grid with tiles of ``size`` cells (the last ones smaller), each with a halo.

        The cores partition the grid exactly; iteration is row-major (north to south).
        """
        th, tw = (size, size) if isinstance(size, int) else size
        if th < 1 or tw < 1:
            raise TwinValueError(f"invalid tile size: {size!r}")
        for r in range(0, self.nrows, th):
            for c in range(0, self.ncols, tw):
                core = Window(r, c, min(th, self.nrows - r), min(tw, self.ncols - c))
                yield Tile(window=core, padded=self.padded(core, halo))

    def resampled(self, cell_size: float) -> Grid:
        """The grid covering the same extent at another cell size (snapped outwards)."""
        return Grid.from_bounds(*self.bounds, cell_size=cell_size, crs=self.crs)

    def __str__(self) -> str:
        xmin, ymin, xmax, ymax = self.bounds
        return (
            f"Grid {self.nrows} x {self.ncols} at {self.cell_size:g} m, {self.crs}, "
            f"x {xmin:.2f}..{xmax:.2f}, y {ymin:.2f}..{ymax:.2f}"
        )
