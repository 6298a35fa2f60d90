"""jumeau's twin: the grid, the raster layers, the tables, saving and opening.

>>> from twin import Grid, Twin
>>> grid = Grid.from_bounds(842000, 6519000, 843000, 6520000, cell_size=1.0)
>>> t = Twin.empty(grid)
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from twin.core import Twin, dataset_from_grid, grid_of, layer_dataarray
from twin.errors import (
    TwinCRSError,
    TwinError,
    TwinExistsError,
    TwinFileNotFoundError,
    TwinFormatError,
    TwinInputError,
    TwinIOError,
    TwinRuntimeError,
    TwinValueError,
)
from twin.grid import DEFAULT_CRS, Grid, Tile, Window
from twin.io import open_twin, read_raster, save, write_raster
from twin.layers import LAYERS, Landcover

try:
    __version__ = _version("jumeau")
except _PackageNotFoundError:  # not installed (running from a source tree)
    __version__ = "0.0.0+unknown"

__all__ = [
    "Grid", "Window", "Tile", "DEFAULT_CRS", "Twin", "open_twin", "save", "read_raster", "write_raster",
    "LAYERS", "Landcover", "dataset_from_grid", "grid_of", "layer_dataarray",
    "TwinError", "TwinInputError", "TwinValueError", "TwinIOError", "TwinFileNotFoundError", "TwinExistsError",
    "TwinFormatError", "TwinCRSError", "TwinRuntimeError", "__version__",
]
