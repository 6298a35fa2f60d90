"""The flood model as a user meets it: determinism, dry-tile skipping, Ctrl-C, forcing, bad input."""

from __future__ import annotations

import signal

import numpy as np
import pytest
from scipy import ndimage

from simulation.flood import FloodModel, Forcing, FreeOutflow, Inflow, LevelBoundary, Rain, TimeSeries
from simulation.flood.model import LEDGER_TERMS
from tests.simulation.flood.flood_cases import NO_LOSSES, make_twin
from twin.errors import TwinValueError


def town(seed=0, shape=(48, 70)):
    rng = np.random.default_rng(seed)
    z = ndimage.gaussian_filter(rng.random(shape), 3) * 4 + np.linspace(2, 0, shape[1])[None, :]
    bid = np.zeros(shape, np.int32)
    for k, (r0, c0) in enumerate([(4, 10), (4, 30), (25, 12), (30, 40), (15, 55)], start=1):
        bid[r0:r0 + 7, c0:c0 + 9] = k
    return make_twin(z, cell_size=1.0, building_id=bid)


def partial_forcing(duration=600.0):
    inflow = Inflow([(0, 0.0), (120, 0.3), (400, 0.3), (500, 0.0)], (3.5, 30.5), name="pipe")
    level = LevelBoundary([(0, 0.2), (duration, 0.9)], edge="east", span=(0.0, 20.0), name="river")
    return Forcing(duration=duration, inflows=[inflow], levels=[level], outflows=[FreeOutflow("south", 0.01)])


def outputs(r):
    return [r.max_depth, r.max_speed, r.hazard, r.arrival_time, r.depth]


def assert_same_bits(a, b, ledger_rel=0.0):
    for x, y in zip(outputs(a), outputs(b)):
        np.testing.assert_array_equal(x, y)
    for k in LEDGER_TERMS:
        assert a.ledger[k] == pytest.approx(b.ledger[k], rel=ledger_rel, abs=0.0), k


def test_results_do_not_depend_on_threads():
    tw = town()
    r1 = FloodModel(tw, forcing=partial_forcing(), threads=1).run()
    r2 = FloodModel(tw, forcing=partial_forcing(), threads=2).run()
    assert r1.max_depth.max() > 0.2
    assert_same_bits(r1, r2)


def test_skipping_dry_tiles_changes_no_bit():
    tw = town(shape=(64, 128))
    f = Forcing(duration=300, inflows=[Inflow([(0, 0.5), (300, 0.5)], (20.5, 40.5))])
    runs = [FloodModel(tw, forcing=f, tile=t, threads=2).run() for t in [(16, 64), (4, 8), (1000, 1000)]]
    for r in runs[1:]:
        # same bits everywhere; the ledger sums are grouped by tile width, so they agree to rounding
        assert_same_bits(runs[0], r, ledger_rel=1e-13)
    # the small tiles skipped a good part of the dry town
    assert runs[1].cell_updates < 0.5 * runs[2].cell_updates
    # levels on an edge, a free outflow and an inflow: the same bits with small tiles and with none
    tw = town()
    a, b = (FloodModel(tw, forcing=partial_forcing(), tile=t, threads=2).run() for t in [(4, 8), (1000, 1000)])
    assert_same_bits(a, b, ledger_rel=1e-13)
    assert a.cell_updates < 0.8 * b.cell_updates


def test_ctrl_c_keeps_consistent_outputs(recwarn):
    tw = town()
    m = FloodModel(tw, forcing=partial_forcing())
    calls = []
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN when the suite runs in the background

    def press_ctrl_c(model):
        calls.append(model.t)
        if len(calls) == 3:
            signal.raise_signal(signal.SIGINT)

    r = m.run(output_interval=60.0, on_output=press_ctrl_c, quiet=True)
    assert r.interrupted and r.time == pytest.approx(180.0) and r.duration == 600.0
    assert any("interrupted at t = 180 s of 600 s (30 %" in str(w.message) for w in recwarn)
    assert r.volume_error < 1e-6  # the ledger closes at the step where it stopped
    assert (r.max_depth >= r.depth).all()
    assert r.gauges.index[-1] == pytest.approx(180.0)
    # the SIGINT handler of the caller is back
    assert signal.getsignal(signal.SIGINT) is before


def test_run_one_step_equals_run():
    tw = town()
    a = FloodModel(tw, forcing=partial_forcing(300.0))
    for _ in range(6):
        assert a.run_one_step(50.0) == pytest.approx(50.0)
    b = FloodModel(tw, forcing=partial_forcing(300.0)).run(output_interval=50.0)
    np.testing.assert_array_equal(a.h, b.depth)
    np.testing.assert_array_equal(a.max_depth, b.max_depth)


def test_roof_rain_street_or_drain():
    """Rain on roofs reaches the street around the building or the drainage network, booked either way."""
    z = np.zeros((20, 20))
    bid = np.zeros(z.shape, np.int32)
    bid[5:10, 5:10] = 7  # 25 roof cells
    tw = make_twin(z, building_id=bid)
    f = Forcing(duration=600, rain=Rain.constant(36.0, duration=600))  # 6 mm
    street = FloodModel(tw, forcing=f, infiltration=NO_LOSSES).run(snapshot_interval=30.0)
    drain = FloodModel(tw, forcing=f, infiltration=NO_LOSSES, roof_rain="drain").run()
    assert street.ledger["rain"] == pytest.approx(400 * 0.006, rel=1e-9)
    assert street.ledger["storage"] == pytest.approx(400 * 0.006, rel=1e-6)
    assert drain.ledger["roof_drainage"] == pytest.approx(25 * 0.006, rel=1e-9)
    assert drain.ledger["storage"] == pytest.approx(375 * 0.006, rel=1e-6)
    # after 30 s the roof water is still mostly in the ring around the building (25 roof cells on 20 ring cells)
    t30, d30 = street.snapshots[1]
    assert t30 == 30.0 and d30[4, 7] > 1.5 * d30[0, 0]


def test_drainage_and_infiltration_take_what_they_should():
    z = np.zeros((10, 10))
    lc = np.full(z.shape, 2, np.uint8)  # road
    lc[:, 5:] = 8  # grass
    tw = make_twin(z, landcover=lc)
    f = Forcing(duration=3600, rain=Rain.constant(20.0, duration=3600))
    r = FloodModel(tw, forcing=f, drainage=10.0, infiltration={"grass": (15.0, 2.0), "road": (0.0, 1.0)}).run()
    # roads: 1 mm initial loss then 10 mm/h drained, 9 mm left; grass: 2 mm initial, 15 mm/h infiltrated, 3 mm left
    assert r.ledger["initial_loss"] == pytest.approx(50 * 0.001 + 50 * 0.002, rel=1e-6)
    assert r.ledger["drainage"] == pytest.approx(50 * (0.010 - 0.010 * 0.001 / 0.020), rel=2e-3)
    assert r.ledger["infiltration"] == pytest.approx(50 * (0.015 - 0.015 * 0.002 / 0.020), rel=2e-3)
    assert r.volume_error < 1e-6


def test_raster_rain_is_booked_where_it_falls():
    z = np.zeros((12, 12))
    bid = np.zeros(z.shape, np.int32)
    bid[4:7, 4:7] = 1
    tw = make_twin(z, building_id=bid)
    frames = np.zeros((2, 12, 12), np.float32)
    frames[0, :, :6] = 60.0  # west half for 10 min
    frames[1, :, 6:] = 30.0  # east half for 10 min
    rain = Rain.raster([0, 600], frames, end=1200)
    r = FloodModel(tw, forcing=Forcing(duration=1800, rain=rain), infiltration=NO_LOSSES).run()
    total = (72 * 0.010 + 72 * 0.005)  # m3 on 1 m2 cells, roofs included (routed)
    assert r.ledger["rain"] == pytest.approx(total, rel=1e-6)
    assert r.volume_error < 1e-6


def test_held_river_takes_the_runoff_and_leaves_the_time_step_alone():
    """A river held at its level (a cell set) drains a town under rain: the water it takes is booked,
    and its depth (3 m) does not shrink the time step set by the shallow street water."""
    x = np.arange(40)
    z = np.tile(np.where(x < 30, 2.0 + 0.02 * (30 - x), -1.0), (20, 1))  # slope down to a channel
    river = z < 0
    tw = make_twin(z, cell_size=2.0, water_level=np.where(river, 2.0, np.nan))
    lv = LevelBoundary([(0, 0.0), (1800, 0.0)], cells=river, relative=True, name="river")
    f = Forcing(duration=1800, rain=Rain.constant(60.0, duration=1800), levels=[lv])
    m = FloodModel(tw, forcing=f, infiltration=NO_LOSSES)
    r = m.run()
    rain = 0.030 * 40 * 20 * 4.0
    assert r.ledger["rain"] == pytest.approx(rain, rel=1e-9)
    assert r.ledger["held_cells"] < -0.5 * rain  # most of the rain ran into the river and left
    assert r.volume_error < 1e-6
    np.testing.assert_allclose((z + r.depth)[river], 2.0, atol=1e-3)  # reset every step, plus one step of inflow
    # the time step follows the street water, not the 3 m of the river (CFL would give 0.26 s)
    assert r.steps < 1800 / 0.5


def test_time_series_and_rain_helpers():
    s = TimeSeries([0, 600, 1200], [10.0, 60.0, 0.0], "mm h-1", kind="step", name="rain")
    assert s.at(0) == 10 and s.at(599.9) == 10 and s.at(600) == 60 and s.at(1200) == 0 and s.at(5000) == 0
    assert s.integral(0, 1e9) == pytest.approx(10 * 600 + 60 * 600)
    lin = TimeSeries([0, 100], [0.0, 10.0], "m3 s-1")
    assert lin.at(50) == 5 and lin.integral(0, 100) == pytest.approx(500) and lin.at(101) == 0
    assert Rain.constant(60, duration=3600).depth_mm() == pytest.approx(60.0)


# -- bad input -----------------------------------------------------------------------------------------

def test_nan_terrain_refused_or_filled_and_said():
    z = np.zeros((10, 10))
    z[3, 4] = np.nan
    tw = make_twin(z)
    f = Forcing(duration=60)
    with pytest.raises(TwinValueError, match=r"1 terrain cell\(s\) without data \(first at row 3, col 4"):
        FloodModel(tw, forcing=f)
    with pytest.warns(UserWarning, match="fill missing terrain with the nearest valid value"):
        m = FloodModel(tw, forcing=f, nodata="fill")
    assert np.isfinite(m.z).all() and m.describe()["warnings"]
    with pytest.warns(UserWarning, match="treat missing terrain as walls"):
        m = FloodModel(tw, forcing=f, nodata="wall")
    assert m.wall[3, 4]


@pytest.mark.parametrize("values, message", [
    ([10.0, -5.0, 0.0], r"rain series: value -5 mm h-1 at 600 s is negative"),
    ([10.0, np.nan, 0.0], r"rain series: missing value \(NaN\) at 600 s"),
])
def test_bad_rain_series(values, message):
    with pytest.raises(TwinValueError, match=message):
        Rain.hyetograph([0, 600, 1200], values)


def test_inflow_outside_the_grid_or_in_a_building():
    bid = np.zeros((10, 10), np.int32)
    bid[2:4, 2:4] = 5
    tw = make_twin(np.zeros((10, 10)), building_id=bid)
    f = Forcing(duration=60, inflows=[Inflow([(0, 1), (60, 1)], (50.0, 5.0), name="culvert")])
    with pytest.raises(TwinValueError, match=r"inflow 'culvert': point \(50.0, 5.0\) is outside the grid"):
        FloodModel(tw, forcing=f)
    f = Forcing(duration=60, inflows=[Inflow([(0, 1), (60, 1)], (2.5, 7.5), name="culvert")])
    with pytest.raises(TwinValueError, match=r"inflow 'culvert': cell at \(2.5, 7.5\) is inside building 5"):
        FloodModel(tw, forcing=f)


def test_boundary_series_must_cover_the_run():
    with pytest.raises(TwinValueError, match=r"level boundary 'sea': the series covers 0..3600 s but the run lasts "
                                             r"0..7200 s"):
        Forcing(duration=7200, levels=[LevelBoundary([(0, 1.0), (3600, 2.0)], edge="north", name="sea")])


def test_unstable_fixed_time_step_is_refused():
    tw = make_twin(np.zeros((10, 10)), water_level=np.full((10, 10), 2.0))
    m = FloodModel(tw, forcing=Forcing(duration=60), dt=5.0)
    with pytest.raises(TwinValueError, match=r"dt = 5 s is unstable: the CFL limit .* is 0.113 s"):
        m.run()
    FloodModel(tw, forcing=Forcing(duration=60), dt=0.1).run()  # below the limit: fine


def test_other_bad_parameters():
    tw = make_twin(np.zeros((5, 5)))
    f = Forcing(duration=60)
    with pytest.raises(TwinValueError, match="invalid theta"):
        FloodModel(tw, forcing=f, theta=1.5)
    with pytest.raises(TwinValueError, match="invalid roof_rain 'gutter'"):
        FloodModel(tw, forcing=f, roof_rain="gutter")
    with pytest.raises(TwinValueError, match=r"invalid manning\[GRASS\]"):
        FloodModel(tw, forcing=f, manning={"grass": -0.1})
    with pytest.raises(TwinValueError, match="invalid manning table key 'lava'"):
        FloodModel(tw, forcing=f, manning={"lava": 0.1})
    with pytest.raises(TwinValueError, match=r"gauge 'g': point \(99.0, 1.0\) is outside the grid"):
        FloodModel(tw, forcing=f).run(gauges={"g": (99.0, 1.0)})
    with pytest.raises(TwinValueError, match="invalid duration"):
        Forcing(duration=-1)
    lc = np.full((5, 5), 42, np.uint8)
    with pytest.raises(TwinValueError, match="landcover layer has code 42"):
        FloodModel(make_twin(np.zeros((5, 5)), landcover=lc), forcing=f)
