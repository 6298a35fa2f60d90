"""Helpers of the scenario tests (importable as tests.scenarios.helpers)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from twin import Grid, Twin
from twin.rasterize import compose_surface, rasterize_buildings

SLOPE_MODULE = "tests.scenarios.slope_kind"


def make_hill_twin(nrows: int = 40, ncols: int = 60, cell_size: float = 2.0) -> Twin:
    """A hill (Gaussian bump on a tilted plane) with four buildings, in Lambert-93."""
    grid = Grid.from_bounds(
        843000, 6519000, 843000 + ncols * cell_size, 6519000 + nrows * cell_size, cell_size=cell_size
    )
    x, y = np.meshgrid(grid.x - grid.x.mean(), grid.y - grid.y.mean())
    terrain = (50 + 0.02 * x + 12 * np.exp(-(x**2 + y**2) / (2 * 25.0**2))).astype(np.float32)
    twin = Twin.empty(grid, terrain=terrain, name="hill")
    x0, y0 = grid.xmin, grid.ymin
    boxes = [
        shapely.box(x0 + 10, y0 + 10, x0 + 22, y0 + 20),
        shapely.box(x0 + 50, y0 + 30, x0 + 66, y0 + 44),
        shapely.box(x0 + 90, y0 + 50, x0 + 100, y0 + 62),
        shapely.box(x0 + 30, y0 + 60, x0 + 40, y0 + 72),
    ]
    b = gpd.GeoDataFrame(
        {
            "id": [1, 2, 3, 4],
            "height": [6.0, 9.0, 12.0, 3.0],
            "use": ["housing", "school", "office", "housing"],
            "year": [1960, 1972, 1990, 2005],
        },
        geometry=boxes,
        crs=grid.crs,
    )
    twin.set_table("buildings", b)
    bid, bh = rasterize_buildings(grid, twin.buildings)
    twin.set_layer("building_id", bid)
    twin.set_layer("building_height", bh)
    twin.set_layer("surface", compose_surface(terrain, bh, twin.array("canopy_height")))
    twin.add_provenance("test fixture", source="synthetic hill")
    return twin


SLOPE_TOML = """\
name = "Raised ground on the west side"
description = "Raise the ground by 3 m over a square."
kind = "slope"
twin = "hill.twin"

[forcing]
threshold = "10 deg"

[[interventions]]
type = "raise"
polygon = [[843010, 6519010], [843040, 6519010], [843040, 6519040], [843010, 6519040]]
height = "3 m"
"""
