"""Fixtures of the energy tests (helpers in energy_helpers.py)."""

from __future__ import annotations

import pandas as pd
import pytest
from energy_helpers import EPW_NAME, read_epw_for_tests


@pytest.fixture(scope="session")
def lyon_weather(shared_data) -> pd.DataFrame:
    return read_epw_for_tests(shared_data / EPW_NAME)
