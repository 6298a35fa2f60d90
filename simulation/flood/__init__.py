"""Flood rise on the twin: a local inertial shallow-water model, static screening and exposure.

>>> from simulation.flood import FloodModel, Forcing, Rain
>>> model = FloodModel(twin, forcing=Forcing(duration=7200, rain=Rain.constant(60, duration=3600)))  # doctest: +SKIP
>>> result = model.run()                                                                                # doctest: +SKIP

See docs/flood.md.
"""

import os as _os

# OpenMP threads that spin while waiting make parallel kernels crawl on a busy laptop
# (measured: 20 ms instead of 40 us per launch when other processes share the cores);
# ask for passive waiting unless the user chose otherwise. Takes effect only if no
# parallel kernel has run yet in this process.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from simulation.flood.forcing import Forcing, FreeOutflow, Inflow, LevelBoundary, Rain, TimeSeries
from simulation.flood.model import FloodModel, FloodResult

__all__ = ["FloodModel", "FloodResult", "Forcing", "FreeOutflow", "Inflow", "LevelBoundary", "Rain", "TimeSeries"]
