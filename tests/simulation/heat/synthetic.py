"""Synthetic twins for the heat tests (imported by conftest and by the scenario tests)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString, box

from twin import Grid, Twin
from twin.layers import Landcover
from twin.rasterize import compose_surface, rasterize_buildings

X0, Y0 = 842000.0, 6519000.0  # Lyon, Lambert-93


def make_street_twin(n: int = 80, cell_size: float = 1.0, height: float = 12.0) -> Twin:
    """An east-west street 20 m wide between two rows of buildings, a north-south lane, a school.

    Rows (from the north): buildings 0..30 m, street 30..50 m (sidewalks 3 m), buildings 50..80 m;
    the lane cuts both rows at x = 35..45 m.
    """
    g = Grid.from_bounds(X0, Y0, X0 + n, Y0 + n, cell_size=cell_size)
    t = Twin.empty(g, terrain=170.0)
    ymid = Y0 + n / 2
    polys, uses = [], []
    for (x0, x1) in ((X0 + 5, X0 + 35), (X0 + 45, X0 + n - 5)):
        polys.append(box(x0, ymid + 10, x1, Y0 + n - 5))
        uses.append("housing")
        polys.append(box(x0, Y0 + 5, x1, ymid - 10))
        uses.append("school" if x0 > X0 + 40 else "housing")
    b = gpd.GeoDataFrame({"id": np.arange(1, 5, dtype=np.int32), "height": np.full(4, height, np.float32),
                          "use": uses}, geometry=polys, crs=g.crs)
    t.set_table("buildings", b)
    bid, bh = rasterize_buildings(g, b)
    t.set_layer("building_id", bid)
    t.set_layer("building_height", bh)
    t.set_layer("surface", compose_surface(t.array("terrain"), bh, t.array("canopy_height")))
    lc = np.full(g.shape, Landcover.ROAD, np.uint8)
    yy = g.y[:, None] * np.ones((1, g.ncols))
    lc[(np.abs(yy - ymid) > 7) & (np.abs(yy - ymid) <= 10)] = Landcover.SIDEWALK
    lc[bid > 0] = Landcover.BUILDING
    t.set_layer("landcover", lc)
    roads = gpd.GeoDataFrame({"id": np.array([1, 2], np.int32), "name": ["Rue du Midi", "Impasse"],
                              "kind": ["street", "lane"], "width": np.array([14.0, 6.0], np.float32),
                              "sidewalk_width": np.array([3.0, 0.0], np.float32)},
                             geometry=[LineString([(X0, ymid), (X0 + n, ymid)]),
                                       LineString([(X0 + 40, Y0), (X0 + 40, Y0 + n)])], crs=g.crs)
    t.set_table("roads", roads)
    return t
