"""Fixtures of the importer tests: the real samples (skipped when ../shared/data is absent)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def ign_tile(shared_data) -> dict:
    d = shared_data / "lidar_ign_tile_77055"
    return {
        "dtm": d / "DTM_77055_627760_LA93_IGN69_50CM.tif",
        "dsm": d / "DSM_77055_627760_LA93_IGN69_50CM.tif",
        "dhm": d / "DHM_77055_627760_LA93_IGN69_50CM.tif",
        "laz": d / "test_data_77055_627760_LA93_IGN69.laz",
    }
