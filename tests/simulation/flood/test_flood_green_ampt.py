"""Green-Ampt infiltration (Rawls, Brakensiek & Miller 1983 parameters) beside the constant-rate model."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from simulation.flood import FloodModel, Forcing, Rain
from simulation.flood.parameters import SOIL_TEXTURES
from tests.simulation.flood.flood_cases import make_twin
from twin.errors import TwinValueError
from twin.layers import Landcover


def ponded_loam(depth=0.5, shape=(4, 5), cell_size=10.0):
    """A flat closed field of grass (a loam under Green-Ampt) under ``depth`` of standing water."""
    z = np.zeros(shape, np.float32)
    lc = np.full(shape, int(Landcover.GRASS), np.uint8)
    return make_twin(z, cell_size=cell_size, landcover=lc, water_level=z + depth)


def implicit_green_ampt(t, k, s):
    """Cumulative infiltration F [m] under ponding from t = 0: ``F - S ln(1 + F / S) = K t``."""
    return brentq(lambda f: f - s * np.log1p(f / s) - k * t, 1e-15, 10.0, xtol=1e-15, rtol=1e-14)


def test_cumulative_infiltration_solves_the_implicit_green_ampt_equation():
    se = 0.3
    m = FloodModel(ponded_loam(), forcing=Forcing(duration=7200.0), infiltration_model="green_ampt",
                   initial_saturation=se)
    _phi, theta_e, psi_cm, k_cm_h = SOIL_TEXTURES["loam"]
    k = k_cm_h / 100.0 / 3600.0
    s = psi_cm / 100.0 * (1.0 - se) * theta_e
    ncells = m.h.size
    for t in (600.0, 3600.0, 7200.0):
        m.run_one_step(t - m.t)
        f_ref = implicit_green_ampt(t, k, s)
        f = m.ga_f
        assert np.ptp(f) == 0.0  # a flat field infiltrates evenly
        # implicit midpoint in time: within 5e-5 of the implicit solution (~6 mm after 10 min, 24 mm after 2 h)
        assert f[0, 0] == pytest.approx(f_ref, rel=5e-5)
        # the ledger books exactly what the soil took, and closes
        led = m.ledger_check()
        assert led["infiltration"] == pytest.approx(f.sum() * m.area, rel=1e-12)
        assert led["relative_error"] < 1e-12
        assert float(m.h[0, 0]) == pytest.approx(0.5 - f_ref, abs=2e-5)
    assert 0.02 < f_ref < 0.03  # the case is not trivial: 2.4 cm in 2 h, 3.5x the K t of a constant rate
    assert f_ref > 3 * k * 7200.0


def test_green_ampt_rate_falls_toward_k_and_the_override_layer_keeps_a_constant_rate():
    tw = ponded_loam()
    rate = np.full(tw.grid.shape, np.nan, np.float32)
    rate[:, :2] = 20.0  # permeable paving on two columns [mm/h]: a constant rate under Green-Ampt too
    tw.set_layer("infiltration_rate", rate, units="mm h-1")
    m = FloodModel(tw, forcing=Forcing(duration=3600.0), infiltration_model="green_ampt")
    m.run_one_step(3600.0)
    np.testing.assert_allclose(m.ga_f[:, :2], 20e-3, rtol=1e-7)  # K t with S = 0 (K in float32)
    f = m.ga_f[0, 4]
    k = SOIL_TEXTURES["loam"][3] / 100.0 / 3600.0
    # the average rate over the hour is above K (suction) but the rate at the end approaches K
    assert f > k * 3600.0
    f_before = float(f)
    m.run_one_step(60.0)
    assert k < (float(m.ga_f[0, 4]) - f_before) / 60.0 < 3 * k


def test_green_ampt_under_rain_closes_the_ledger_and_is_recorded():
    z = np.tile(np.linspace(1.0, 0.0, 12, dtype=np.float32), (8, 1))
    lc = np.full(z.shape, int(Landcover.GRASS), np.uint8)
    lc[:, 6:] = int(Landcover.ROAD)
    lc[:4, :3] = int(Landcover.CROPLAND)
    tw = make_twin(z, cell_size=2.0, landcover=lc)
    f = Forcing(duration=1800.0, rain=Rain.constant(80.0, duration=1200.0))
    r = FloodModel(tw, forcing=f, infiltration_model="green_ampt").run(quiet=True)
    c = FloodModel(tw, forcing=f).run(quiet=True)
    assert r.volume_error < 1e-12
    # suction at the start: Green-Ampt takes more than the constant rate (7.5 mm/h on grass) early on
    assert r.ledger["infiltration"] > c.ledger["infiltration"]
    assert r.meta["infiltration_model"] == "green_ampt"
    assert r.meta["defaults"]["green_ampt_initial_saturation"] == 0.3
    assert r.meta["tables"]["green_ampt_soil"]["grass"] == "loam"
    assert r.meta["bytes_per_cell"] == c.meta["bytes_per_cell"] + 16


def test_green_ampt_bad_input():
    tw = ponded_loam()
    f = Forcing(duration=60.0)
    with pytest.raises(TwinValueError, match="infiltration_model"):
        FloodModel(tw, forcing=f, infiltration_model="horton")
    with pytest.raises(TwinValueError, match="soil"):
        FloodModel(tw, forcing=f, infiltration_model="green_ampt", soil={"grass": "peat"})
    with pytest.raises(TwinValueError, match="initial_saturation"):
        FloodModel(tw, forcing=f, infiltration_model="green_ampt", initial_saturation=1.5)
