"""Synthetic twins of the lighting tests: a straight street with luminaires, one luminaire on flat ground."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from twin import Grid, Twin
from twin.layers import Landcover
from twin.rasterize import rasterize_buildings


def make_street(*, length=200.0, width=7.0, sidewalk=2.0, spacing=25.0, height=8.0, photometry="builtin:road-led",
                flux=6000.0, power=40.0, lighting_class="P3", buildings=False, trees=False, cell_size=1.0,
                cabinets=("A", "B"), kind="road", margin=40.0):
    """An east-west street at y = 0 in a flat twin, luminaires every ``spacing`` m on its south edge.

    Luminaires stand at y = -width / 2 (kerb), the arm pointing north over the carriageway
    (orientation 0: street side C90 north, C0-C180 along the road). Optional: a row of 9 m buildings
    8 m behind the north kerb, a row of trees on the south sidewalk between luminaires.
    """
    x0, y0 = 1000.0, 6000.0
    grid = Grid.from_bounds(x0 - margin, y0 - margin, x0 + length + margin, y0 + margin, cell_size=cell_size)
    twin = Twin.empty(grid, terrain=100.0)
    xs = np.arange(spacing / 2, length, spacing) + x0
    n = xs.size
    lum = gpd.GeoDataFrame({
        "id": np.arange(1, n + 1), "mounting_height": np.full(n, height), "orientation": np.zeros(n),
        "tilt": np.zeros(n), "photometry": [photometry] * n, "power": np.full(n, power), "flux": np.full(n, flux),
        "cabinet": [cabinets[k % len(cabinets)] for k in range(n)], "road_id": np.ones(n, int), "kind": [kind] * n,
        "installed": np.full(n, 2010),
    }, geometry=shapely.points(xs, np.full(n, y0 - width / 2)), crs=grid.crs)
    twin.set_table("luminaires", lum)
    roads = gpd.GeoDataFrame({"id": [1], "name": ["Grande Rue"], "kind": ["street"], "width": [width],
                              "sidewalk_width": [sidewalk], "lighting_class": [lighting_class]},
                             geometry=[shapely.LineString([(x0, y0), (x0 + length, y0)])], crs=grid.crs)
    twin.set_table("roads", roads)
    lc = np.full(grid.shape, Landcover.GRASS, np.uint8)
    road_poly = shapely.box(x0, y0 - width / 2, x0 + length, y0 + width / 2)
    from twin.rasterize import rasterize_values

    lc[rasterize_values(grid, [road_poly], [1], fill=0, dtype="uint8") == 1] = Landcover.ROAD
    if buildings:
        bx = np.arange(x0, x0 + length, 20.0)
        polys = [shapely.box(b, y0 + width / 2 + 8, b + 14, y0 + width / 2 + 20) for b in bx]
        bt = gpd.GeoDataFrame({"id": np.arange(1, len(polys) + 1), "height": np.full(len(polys), 9.0)},
                              geometry=polys, crs=grid.crs)
        twin.set_table("buildings", bt)
        ids, bh = rasterize_buildings(grid, bt)
        twin.set_layer("building_id", ids)
        twin.set_layer("building_height", bh)
        lc[ids > 0] = Landcover.BUILDING
    if trees:
        from twin.rasterize import tree_canopy

        tx = xs[:-1] + spacing / 2
        ch = tree_canopy(grid, tx, np.full(tx.size, y0 - width / 2 - 2), np.full(tx.size, 10.0), np.full(tx.size, 6.0))
        twin.set_layer("canopy_height", ch)
    twin.set_layer("landcover", lc)
    twin.set_layer("surface", twin.array("terrain") + np.maximum(twin.array("building_height"), twin.array("canopy_height")))
    return twin


def single_luminaire_twin(*, photometry="builtin:globe-hps", height=6.0, flux=1000.0, x=0.5, y=0.5, size=100.0,
                          cell_size=1.0, orientation=0.0, tilt=0.0, terrain=50.0):
    """A flat twin with one luminaire near its centre (at an exact cell centre by default)."""
    half = size / 2
    grid = Grid.from_bounds(-half, -half, half, half, cell_size=cell_size, crs="EPSG:2154")
    twin = Twin.empty(grid, terrain=terrain)
    lum = gpd.GeoDataFrame({"id": [1], "mounting_height": [height], "orientation": [orientation], "tilt": [tilt],
                            "photometry": [photometry], "power": [50.0], "flux": [flux]},
                           geometry=[shapely.Point(x, y)], crs=grid.crs)
    twin.set_table("luminaires", lum)
    return twin
