"""Public lighting on the twin: photometry, illuminance, EN 13201, light-nuisance rules, energy.

>>> from simulation.lighting import LightingModel, read_photometry, builtin
>>> builtin("road-led").ulr
0.0

See ``docs/lighting.md`` for the model, its validation and its limits.
"""

from simulation.lighting.builtin import BUILTIN, builtin, builtin_names
from simulation.lighting.en13201 import CLASSES, LightingClass, calculation_grid, deficit_raster, evaluate_segments
from simulation.lighting.energy import DUSK_TO_DAWN, DimmingStep, OperatingProfile, annual_hours, sun_times
from simulation.lighting.illuminance import LightingScene, facade_points, prepare_scene
from simulation.lighting.interventions import (
                                               Selection,
                                               add_luminaires,
                                               dimming,
                                               led_retrofit,
                                               part_night,
                                               remove_luminaires,
)
from simulation.lighting.model import DEFAULTS, LightingModel, LightingResult
from simulation.lighting.photometry import (
                                               LampSet,
                                               Photometry,
                                               read_ies,
                                               read_ldt,
                                               read_photometry,
                                               write_ies,
                                               write_ldt,
)
from simulation.lighting.registry import PhotometryRegistry
from simulation.lighting.rules import RULES_2018, Rules2018, dsfli, luminaire_checks, trame_noire

__all__ = [
    "Photometry", "LampSet", "read_ldt", "read_ies", "read_photometry", "write_ldt", "write_ies",
    "BUILTIN", "builtin", "builtin_names", "PhotometryRegistry",
    "LightingScene", "prepare_scene", "facade_points",
    "CLASSES", "LightingClass", "calculation_grid", "evaluate_segments", "deficit_raster",
    "RULES_2018", "Rules2018", "luminaire_checks", "dsfli", "trame_noire",
    "OperatingProfile", "DimmingStep", "DUSK_TO_DAWN", "annual_hours", "sun_times",
    "Selection", "led_retrofit", "dimming", "part_night", "remove_luminaires", "add_luminaires",
    "LightingModel", "LightingResult", "DEFAULTS",
]
