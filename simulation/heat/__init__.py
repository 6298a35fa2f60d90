"""Street-level heat: sky views, radiation, mean radiant temperature, UTCI (see docs/heat.md).

>>> from simulation.heat import HeatModel, heatwave_day          # doctest: +SKIP
>>> day = heatwave_day(date="2003-08-13", latitude=45.76, longitude=4.84, t_min=22, t_max=39.5,
...                    relative_humidity=25, wind_speed=1.5, sky="hazy")   # doctest: +SKIP
>>> result = HeatModel(twin).run(day, keep_hours=(15,))          # doctest: +SKIP
"""

from simulation.heat.forcing import HEATWAVE_PRESETS, heatwave_day, prepare_forcing, sky_longwave
from simulation.heat.model import HeatModel, HeatResult
from simulation.heat.parameters import SURFACE_PROPERTIES, HeatParameters, SurfaceProperties
from simulation.heat.utci import HEAT_STRESS_THRESHOLDS, heat_stress_class, utci

__all__ = [
    "HeatModel", "HeatResult", "HeatParameters", "SurfaceProperties", "SURFACE_PROPERTIES", "heatwave_day",
    "HEATWAVE_PRESETS", "prepare_forcing", "sky_longwave", "utci", "heat_stress_class", "HEAT_STRESS_THRESHOLDS",
]
