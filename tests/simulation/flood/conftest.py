"""Fixtures of the flood tests: small synthetic twins built from arrays."""

from __future__ import annotations

import numpy as np
import pytest

from twin import Grid, Twin
from twin.layers import Landcover


def make_twin(z, *, cell_size=1.0, building_id=None, landcover=None, water_level=None, x0=0.0, y0=0.0) -> Twin:
    """A twin on a grid whose south-west corner is (x0, y0), with terrain ``z`` (row 0 = north)."""
    z = np.asarray(z, dtype=np.float32)
    ny, nx = z.shape
    grid = Grid(xmin=x0, ymax=y0 + ny * cell_size, nrows=ny, ncols=nx, cell_size=cell_size)
    tw = Twin.empty(grid, terrain=z)
    if building_id is not None:
        tw.set_layer("building_id", np.asarray(building_id, np.int32))
        lc = np.where(np.asarray(building_id) > 0, int(Landcover.BUILDING), 0).astype(np.uint8)
        tw.set_layer("landcover", lc)
    if landcover is not None:
        tw.set_layer("landcover", np.asarray(landcover, np.uint8))
    if water_level is not None:
        tw.set_layer("water_level", np.asarray(water_level, np.float32))
    return tw


#: Infiltration table without any loss, for validation cases that test the hydraulics alone.
NO_LOSSES = {c: (0.0, 0.0) for c in Landcover}


def uniform_n(n: float) -> dict:
    """A Manning table with the same n for every class."""
    return {c: n for c in Landcover}


@pytest.fixture
def twin_factory():
    return make_twin
