"""Fixtures of the lighting tests."""

from __future__ import annotations

import pytest
from lighting_scenes import make_street


@pytest.fixture
def street():
    return make_street
