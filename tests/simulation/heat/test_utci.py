"""UTCI: the reference values of physics.md, the reference implementation, the validity range."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.heat import _kernels as K
from simulation.heat.utci import (
    heat_stress_class,
    saturation_vapour_pressure,
    utci,
    utci_coefficients_in_dtmrt,
    vapour_pressure,
)
from twin.errors import TwinValueError


def _u(ta, tr, va, rh, **kw):
    return utci(air_temperature=ta, mean_radiant_temperature=tr, wind_speed=va, relative_humidity=rh, **kw)


def test_reference_values_of_physics_md():
    # Bröde et al. 2012, doi:10.1007/s00484-011-0454-1; physics.md section 2
    assert round(float(_u(25, 25, 1, 50).utci), 1) == 24.6
    assert round(float(_u(20, 20, 3, 50).utci), 1) == 16.2


# (Ta, Tmrt, va, RH) -> UTCI by pythermalcomfort 4.8.1 (round_output=False), the reference
# implementation named in peers.md, computed once in a peer venv (values, not code)
PYTHERMALCOMFORT = [
    ((25, 25, 1, 50), 24.6121), ((20, 20, 3, 50), 16.2422), ((35, 60, 0.5, 30), 40.8268),
    ((39.5, 67, 1.5, 25), 46.3358), ((30, 45, 2, 40), 32.7031), ((10, 5, 5, 80), -1.4305),
    ((-10, -15, 8, 70), -36.756), ((0, 20, 1, 60), 7.086), ((28, 28, 0.5, 60), 28.9459),
    ((45, 100, 1, 15), 59.1691), ((15, 40, 10, 50), 7.6588), ((-30, -40, 3, 80), -41.1569),
    ((22, 70, 1, 50), 34.867), ((33, 33, 4, 70), 34.3829), ((5, 35, 2, 90), 13.5864),
]


def test_agrees_with_pythermalcomfort_on_a_grid_of_inputs():
    x = np.array([p for p, _ in PYTHERMALCOMFORT], float)
    ref = np.array([v for _, v in PYTHERMALCOMFORT])
    got = _u(x[:, 0], x[:, 1], x[:, 2], x[:, 3]).utci
    np.testing.assert_allclose(got, ref, atol=1e-3)


def test_collapsed_polynomial_equals_the_full_one():
    rng = np.random.default_rng(0)
    for _ in range(20):
        ta, va, rh = rng.uniform(-20, 45), rng.uniform(0.5, 12), rng.uniform(10, 90)
        pa = float(vapour_pressure(ta, rh))
        if pa > 5:
            continue
        tmrt = (ta + rng.uniform(-25, 65, size=(7, 9))).astype(np.float32)
        b = utci_coefficients_in_dtmrt(air_temperature=ta, wind_speed=va, vapour_pressure_kpa=pa)
        out = np.empty_like(tmrt)
        bad = K.utci_from_dtmrt(tmrt, b, out, ta_c=ta)
        assert bad == 0
        full = _u(ta, tmrt.astype(float), va, rh).utci
        np.testing.assert_allclose(out, full, atol=2e-3)


def test_validity_range_is_enforced():
    with pytest.raises(TwinValueError, match="Tmrt - Ta"):
        _u(30, 105, 1, 40)
    with pytest.raises(TwinValueError, match="air temperature"):
        _u(55, 55, 1, 20)
    with pytest.raises(TwinValueError, match="wind speed"):
        _u(20, 20, 20, 50)
    r = _u([30, 30], [105, 40], [1, 1], [40, 40], out_of_range="nan")
    assert np.isnan(r.utci[0]) and np.isfinite(r.utci[1]) and r.out_of_range == 1
    # the collapsed kernel flags the same cells
    b = utci_coefficients_in_dtmrt(air_temperature=30, wind_speed=1, vapour_pressure_kpa=float(vapour_pressure(30, 40)))
    out = np.empty((1, 3), np.float32)
    assert K.utci_from_dtmrt(np.array([[-5.0, 40.0, 105.0]], np.float32), b, out, ta_c=30.0) == 2
    assert np.isnan(out[0, 0]) and np.isnan(out[0, 2])


def test_wind_below_range_is_clamped_and_said():
    with pytest.warns(UserWarning, match="0.5 m/s"):
        r = _u([28, 28], [28, 28], [0.1, 0.5], [60, 60])
    assert r.wind_clamped == 1
    assert r.utci[0] == r.utci[1]


def test_saturation_vapour_pressure_and_classes():
    # Hardy 1998 / WMO: 23.39 hPa at 20 C, 6.112 hPa at 0 C, 42.47 hPa at 30 C
    np.testing.assert_allclose(saturation_vapour_pressure([0, 20, 30]), [6.112, 23.39, 42.47], rtol=2e-3)
    cls = heat_stress_class([20.0, 26.0, 31.9, 32.0, 40.0, 46.0, np.nan])
    assert cls.tolist() == [0, 1, 1, 2, 3, 4, 255]
