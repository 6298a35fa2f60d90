"""DPE classes at every threshold (both criteria), conversion factors, décret tertiaire targets."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.energy.labels import DPE_CLASSES, DPE_SCALES, conversion_factors, dpe_class, tertiary_targets
from twin.errors import TwinValueError

EP_BOUNDS = [70, 110, 180, 250, 330, 420]
GHG_BOUNDS = [6, 11, 30, 50, 70, 100]


@pytest.mark.parametrize("i", range(6))
def test_energy_threshold_alone(i):
    # ghg well inside class A: the energy class decides; bounds are exclusive ("A < 70")
    below, at = EP_BOUNDS[i] - 0.01, EP_BOUNDS[i]
    assert dpe_class([below, at], [1.0, 1.0]).tolist() == [DPE_CLASSES[i], DPE_CLASSES[i + 1]]


@pytest.mark.parametrize("i", range(6))
def test_climate_threshold_alone(i):
    below, at = GHG_BOUNDS[i] - 0.01, GHG_BOUNDS[i]
    assert dpe_class([10.0, 10.0], [below, at]).tolist() == [DPE_CLASSES[i], DPE_CLASSES[i + 1]]


def test_double_threshold_takes_the_worse():
    # hand values: (EP, GHG) -> (energy class, climate class) -> label
    cases = [
        ((65.0, 5.0), "A"),      # A, A
        ((65.0, 12.0), "C"),     # A, C
        ((300.0, 8.0), "E"),     # E, B
        ((200.0, 55.0), "E"),    # D, E  (gas-heated 200 kWh/m2: 55 kg)
        ((319.4, 70.7), "F"),    # E, F
        ((450.0, 20.0), "G"),    # G, C
        ((100.0, 150.0), "G"),   # B, G
    ]
    ep, ghg = np.array([c[0] for c in cases]).T
    assert dpe_class(ep, ghg).tolist() == [c[1] for c in cases]


def test_high_altitude_scale_and_missing_values():
    assert dpe_class([350.0, 350.0], [75.0, 75.0], scale=["standard", "high_altitude"]).tolist() == ["F", "E"]
    assert DPE_SCALES["high_altitude"]["ep"][4:] == (390, 500)
    assert dpe_class([np.nan, 50.0], [3.0, np.nan]).tolist() == ["", ""]
    with pytest.raises(TwinValueError, match="DPE scale"):
        dpe_class([1.0], [1.0], scale="mountain")


def test_conversion_factors_by_year():
    assert conversion_factors(2025).loc["electricity", "pef"] == 2.3
    assert conversion_factors(2026).loc["electricity", "pef"] == 1.9
    f = conversion_factors(2026)
    assert f.loc["gas", "pef"] == 1.0 and f.loc["gas", "co2_heating"] == pytest.approx(0.227)
    assert f.loc["electricity", "co2_heating"] == pytest.approx(0.079)
    with pytest.raises(TwinValueError, match="no conversion factor"):
        conversion_factors(2000)


def test_tertiary_targets():
    t = tertiary_targets([100_000.0, 50_000.0, 80_000.0], [100_000.0, 100_000.0, 100_000.0],
                         subject=[True, True, False])
    np.testing.assert_allclose(t["target_2030"][:2], [60_000.0, 60_000.0])
    np.testing.assert_allclose(t["target_2040"][:2], [50_000.0, 50_000.0])
    np.testing.assert_allclose(t["target_2050"][:2], [40_000.0, 40_000.0])
    np.testing.assert_allclose(t["gap_2030"][:2], [40_000.0, -10_000.0])
    np.testing.assert_allclose(t["reduction"][:2], [0.0, 0.5])
    assert t.iloc[2].isna().all()
