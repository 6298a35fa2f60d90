"""Small synthetic twins and a heatwave day for the heat tests."""

from __future__ import annotations

import pytest

from simulation.heat.forcing import HEATWAVE_PRESETS, heatwave_day
from tests.simulation.heat.synthetic import make_street_twin
from twin import Twin


@pytest.fixture
def street_twin() -> Twin:
    return make_street_twin()


@pytest.fixture(scope="module")
def street_run():
    """A 2003-like day on the street twin, run once per module: (twin, model, day, result)."""
    import warnings

    from simulation.heat.model import HeatModel

    p = dict(HEATWAVE_PRESETS["2003"])
    date = p.pop("date")
    day = heatwave_day(date=date, latitude=45.76, longitude=4.84, **p)
    twin = make_street_twin()
    model = HeatModel(twin)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.run(day, keep_hours=(4, 12, 15))
    return twin, model, day, res


@pytest.fixture(scope="session")
def day_2003():
    p = dict(HEATWAVE_PRESETS["2003"])
    date = p.pop("date")
    return heatwave_day(date=date, latitude=45.76, longitude=4.84, **p)
