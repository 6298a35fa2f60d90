"""Flood interventions change the twin as the works would, and the model sees them."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.flood import FloodModel, Forcing, Rain
from simulation.flood.interventions import (
    lower_ground_in_polygon,
    raise_ground_along_line,
    set_drainage_capacity,
    set_permeable_paving,
)
from tests.simulation.flood.flood_cases import make_twin
from twin.errors import TwinValueError
from twin.layers import Landcover


def flat(n=20, lc=Landcover.GRASS):
    return make_twin(np.full((n, n), 10.0), landcover=np.full((n, n), int(lc), np.uint8))


def test_dike_raises_a_band_to_its_crest():
    tw = flat()
    n = raise_ground_along_line(tw, [(0.0, 10.5), (20.0, 10.5)], width=3.0, crest=11.5)
    z = tw.array("terrain")
    assert n == 3 * 20 and np.all(z[8:11] == 11.5) and np.all(z[:8] == 10.0) and np.all(z[11:] == 10.0)
    assert np.array_equal(tw.array("surface"), z)  # the surface follows
    assert tw.meta["provenance"][-1]["kind"] == "raise_ground_along_line"
    raise_ground_along_line(tw, [(5.0, 0.0), (5.0, 20.0)], width=1.0, height=0.5)
    assert tw.array("terrain")[0, 5] == 10.5 and tw.array("terrain")[9, 5] == 12.0  # a height adds to the ground


def test_basin_volume_and_errors():
    tw = flat()
    vol = lower_ground_in_polygon(tw, [(2, 2), (12, 2), (12, 12), (2, 12)], depth=1.5)
    assert vol == pytest.approx(100 * 1.5)
    vol = lower_ground_in_polygon(tw, [(2, 2), (12, 2), (12, 12), (2, 12)], bottom=8.0)
    assert vol == pytest.approx(100 * 0.5)
    with pytest.raises(TwinValueError, match="covers no cell centre"):
        lower_ground_in_polygon(tw, [(100, 100), (110, 100), (110, 110)], depth=1.0)
    with pytest.raises(TwinValueError, match="give either a depth or a bottom"):
        lower_ground_in_polygon(tw, [(2, 2), (12, 2), (12, 12)], depth=1.0, bottom=2.0)


def test_drainage_and_permeable_paving_reach_the_model():
    tw = flat(lc=Landcover.PARKING)
    f = Forcing(duration=1800, rain=Rain.constant(40.0, duration=1800))  # 20 mm
    base = FloodModel(tw, forcing=f, infiltration={"parking": (0.0, 0.0)}).run()
    a = tw.copy()
    set_drainage_capacity(a, 20.0)
    drained = FloodModel(a, forcing=f, infiltration={"parking": (0.0, 0.0)}).run()
    b = tw.copy()
    set_permeable_paving(b, 30.0, polygon=[(0, 0), (10, 0), (10, 20), (0, 20)])
    assert np.isnan(b.array("infiltration_rate")[0, 15]) and b.array("infiltration_rate")[0, 5] == 30.0
    permeable = FloodModel(b, forcing=f, infiltration={"parking": (0.0, 0.0)}).run()
    assert base.ledger["drainage"] == 0.0
    assert drained.ledger["drainage"] == pytest.approx(400 * 0.010, rel=1e-3)  # 20 mm/h for 30 min
    assert permeable.ledger["infiltration"] == pytest.approx(200 * 0.015, rel=1e-3)  # half the cells, 30 mm/h for 30 min
    assert drained.volume_error < 1e-6 and permeable.volume_error < 1e-6
