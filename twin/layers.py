"""The glossary of twin raster layers, and the land-cover classes.

Models couple only through named layers. This module is the one place where a
layer's name, dtype, units and meaning are written; readers, writers, models
and renderers take them from here. A twin may hold layers that are not in the
glossary (a model's output, a user's raster): they only need a ``units``
attribute.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

__all__ = ["LayerSpec", "LAYERS", "CORE_LAYERS", "Landcover", "LANDCOVER_INFO", "layer_spec"]


@dataclass(frozen=True)
class LayerSpec:
    """What a layer is.

    Attributes
    ----------
    name : str
        Variable name in the twin's Dataset and file name on disk.
    dtype : str
        NumPy dtype.
    units : str
        UDUNITS-style units (``"m"``, ``"1"`` for dimensionless or codes).
    long_name : str
        Human-readable name (CF ``long_name``).
    fill : float | int
        Value of cells with no data (NaN for floats), also the GeoTIFF nodata.
    doc : str
        Definition.
    """

    name: str
    dtype: str
    units: str
    long_name: str
    fill: float | int
    doc: str

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)


_NAN = float("nan")

LAYERS: dict[str, LayerSpec] = {
    spec.name: spec
    for spec in [
        LayerSpec(
            "terrain", "float32", "m", "bare-earth altitude", _NAN,
            "Altitude of the ground without buildings or vegetation, in the vertical datum of the twin (NGF-IGN69 in "
            "metropolitan France). Under buildings, the ground the building stands on.",
        ),
        LayerSpec(
            "surface", "float32", "m", "surface altitude", _NAN,
            "Altitude of the top of whatever is there: terrain + building height + canopy height (a DSM).",
        ),
        LayerSpec(
            "building_id", "int32", "1", "building identifier", 0,
            "Id of the building whose footprint contains the cell centre (the `id` column of the buildings table); "
            "0 where there is none.",
        ),
        LayerSpec(
            "building_height", "float32", "m", "building height above ground", 0.0,
            "Height of the building above the terrain in the cell (LoD2 roof height where known); 0 where none.",
        ),
        LayerSpec(
            "canopy_height", "float32", "m", "vegetation canopy height above ground", 0.0,
            "Height of the top of trees and shrubs above the terrain; 0 where none.",
        ),
        LayerSpec(
            "landcover", "uint8", "1", "land-cover class", 0,
            "Land-cover class code, see twin.layers.Landcover; 0 where unknown.",
        ),
        LayerSpec(
            "water_level", "float32", "m", "permanent water surface altitude", _NAN,
            "Altitude of the free surface of permanent water (river and ponds at their normal level); NaN where "
            "there is no permanent water. Optional: a flood model starts from it.",
        ),
    ]
}

#: Layers every twin has.
CORE_LAYERS = ("terrain", "surface", "building_id", "building_height", "canopy_height", "landcover")


def layer_spec(name: str) -> LayerSpec | None:
    """The glossary entry of a layer, or None for a layer outside the glossary."""
    return LAYERS.get(name)


class Landcover(IntEnum):
    """Land-cover classes of the ``landcover`` layer (uint8 codes).

    The codes are stable: they are written to files. Models map them to their own
    parameters (Manning n, albedo, infiltration...) through tables of their own.
    """

    UNKNOWN = 0
    BUILDING = 1
    ROAD = 2
    SIDEWALK = 3
    SQUARE = 4
    PARKING = 5
    RAIL = 6
    WATER = 7
    GRASS = 8
    TREES = 9
    BARE_SOIL = 10
    CROPLAND = 11


#: Per class: English label, French label, RGB colour (used by renderers and by the
#: GeoTIFF colour table, so QGIS shows the same colours).
LANDCOVER_INFO: dict[Landcover, tuple[str, str, tuple[int, int, int]]] = {
    Landcover.UNKNOWN: ("unknown", "inconnu", (0, 0, 0)),
    Landcover.BUILDING: ("building", "bâti", (200, 120, 100)),
    Landcover.ROAD: ("road", "chaussée", (90, 90, 95)),
    Landcover.SIDEWALK: ("sidewalk", "trottoir", (170, 170, 165)),
    Landcover.SQUARE: ("square", "place", (210, 195, 160)),
    Landcover.PARKING: ("parking", "parking", (130, 130, 140)),
    Landcover.RAIL: ("rail", "voie ferrée", (110, 80, 70)),
    Landcover.WATER: ("water", "eau", (70, 130, 200)),
    Landcover.GRASS: ("grass", "herbe", (140, 195, 100)),
    Landcover.TREES: ("trees", "arbres", (40, 120, 50)),
    Landcover.BARE_SOIL: ("bare soil", "sol nu", (185, 160, 120)),
    Landcover.CROPLAND: ("cropland", "culture", (225, 215, 130)),
}
