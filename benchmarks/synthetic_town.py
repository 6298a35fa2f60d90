"""A synthetic town for rendering tests and benchmarks when the demo town is not at hand.

Deterministic (NumPy seed): a valley with a river and its water level, a street
grid with sidewalks, blocks of buildings (some with courtyards, mixed uses and
heights), street and park trees. Not the demo town (importers.demo): just enough
structure to exercise and time the renderer.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from twin import Grid, Twin
from twin.layers import Landcover
from twin.rasterize import compose_surface, rasterize_buildings, rasterize_values, tree_canopy


def synthetic_town(size: float = 1000.0, *, cell_size: float = 1.0, seed: int = 7, n_buildings: int = 600,
                   n_trees: int = 1000, x0: float = 843000.0, y0: float = 6519000.0) -> Twin:
    rng = np.random.default_rng(seed)
    grid = Grid.from_bounds(x0, y0, x0 + size, y0 + size, cell_size=cell_size)
    X, Y = np.meshgrid(grid.x - x0, grid.y - y0)
    river_y = 0.18 * size + 0.04 * size * np.sin(X / size * 2 * np.pi)
    terrain = 52.0 + 0.018 * Y + 4.0 * np.tanh((Y - river_y) / (0.05 * size)) + 1.5 * np.sin(X / 170.0)
    terrain -= 2.5 * np.exp(-((Y - river_y) / 12.0) ** 2)
    terrain = terrain.astype(np.float32)
    t = Twin.empty(grid, terrain=terrain, name="synthetic town")
    lc = np.full(grid.shape, int(Landcover.GRASS), np.uint8)
    river = np.abs(Y - river_y) < 9.0
    # streets every ~110 m, a boulevard
    roads = []
    rid = 1
    xs = np.arange(0.12 * size, size, 110.0)
    ys = np.arange(0.32 * size, size, 105.0)
    for xr in xs:
        roads.append({"id": rid, "name": f"rue {rid}", "kind": "street", "width": 7.0, "sidewalk_width": 2.0,
                      "lighting_class": "M4", "geometry": shapely.LineString([(x0 + xr, y0 + 0.28 * size),
                                                                             (x0 + xr, y0 + size)])})
        rid += 1
    for yr in ys:
        wide = abs(yr - ys[len(ys) // 2]) < 1
        roads.append({"id": rid, "name": "boulevard" if wide else f"rue {rid}", "kind": "boulevard" if wide else
                      "street", "width": 14.0 if wide else 7.0, "sidewalk_width": 3.0, "lighting_class": "M3",
                      "geometry": shapely.LineString([(x0, y0 + yr), (x0 + size, y0 + yr)])})
        rid += 1
    roads = gpd.GeoDataFrame(roads, crs=grid.crs)
    road_poly = roads.geometry.buffer(roads["width"] / 2, cap_style="flat")
    walk_poly = roads.geometry.buffer(roads["width"] / 2 + roads["sidewalk_width"], cap_style="flat")
    lc[rasterize_values(grid, walk_poly, np.ones(len(roads)), dtype="uint8") > 0] = Landcover.SIDEWALK
    lc[rasterize_values(grid, road_poly, np.ones(len(roads)), dtype="uint8") > 0] = Landcover.ROAD
    # a square and a park
    square = shapely.box(x0 + xs[2] + 12, y0 + ys[2] + 10, x0 + xs[3] - 12, y0 + ys[3] - 10)
    park = shapely.box(x0 + xs[5] + 10, y0 + ys[1] + 10, x0 + xs[6] - 10, y0 + ys[3] - 10)
    lc[rasterize_values(grid, [square], [1], dtype="uint8") > 0] = Landcover.SQUARE
    lc[river] = Landcover.WATER
    # buildings in blocks
    streets = shapely.union_all(walk_poly.values)
    uses = np.array(["housing"] * 12 + ["shop", "office", "school", "town_hall", "care_home", "industrial",
                                        "religious", "annex"])
    bl = []
    bid = 1
    tries = 0
    occupied = shapely.union_all([streets, square, park, shapely.box(x0, y0, x0 + size, y0 + 0.3 * size)])
    while len(bl) < n_buildings and tries < 20 * n_buildings:
        tries += 1
        cx, cy = rng.uniform(0.02 * size, 0.98 * size, 2)
        w, d = rng.uniform(9, 22), rng.uniform(8, 16)
        if rng.random() < 0.05:
            w, d = rng.uniform(30, 45), rng.uniform(25, 40)
        ang = rng.choice([0.0, 90.0]) + rng.normal(0, 2)
        poly = shapely.affinity.rotate(shapely.box(-w / 2, -d / 2, w / 2, d / 2), ang)
        poly = shapely.affinity.translate(poly, x0 + cx, y0 + cy)
        if poly.buffer(1.5).intersects(occupied):
            continue
        if w > 28:
            poly = poly.difference(poly.buffer(-7))  # a courtyard
            poly = shapely.Polygon(poly.exterior, [i for i in poly.interiors]) if poly.geom_type == "Polygon" else poly
        occupied = occupied.union(poly.buffer(1.0))
        use = str(rng.choice(uses))
        h = float(rng.choice([4.0, 6.5, 9.0, 12.0, 15.0]) + rng.uniform(-0.5, 0.5))
        bl.append({"id": bid, "height": h, "use": use, "floors": max(1, int(h // 3)), "year": int(rng.integers(1850, 2020)),
                   "geometry": poly})
        bid += 1
    buildings = gpd.GeoDataFrame(bl, crs=grid.crs)
    ids, bh = rasterize_buildings(grid, buildings)
    lc[ids > 0] = Landcover.BUILDING
    # trees: along streets and in the park
    tx, ty = [], []
    for _, r in roads.iterrows():
        L = r.geometry.length
        off = r["width"] / 2 + r["sidewalk_width"] * 0.6
        for s in np.arange(6.0, L, 14.0):
            p = r.geometry.interpolate(s)
            for side in (-1, 1):
                if r.geometry.coords[0][0] == r.geometry.coords[-1][0]:
                    tx.append(p.x + side * off); ty.append(p.y)
                else:
                    tx.append(p.x); ty.append(p.y + side * off)
    tx, ty = np.array(tx), np.array(ty)
    keep = ~shapely.intersects_xy(occupied.buffer(-1.5), tx, ty)
    tx, ty = tx[keep], ty[keep]
    npark = max(0, n_trees - len(tx))
    pminx, pminy, pmaxx, pmaxy = park.bounds
    tx = np.r_[tx, rng.uniform(pminx + 4, pmaxx - 4, npark)][:n_trees]
    ty = np.r_[ty, rng.uniform(pminy + 4, pmaxy - 4, npark)][:n_trees]
    n = len(tx)
    th = rng.uniform(7, 16, n)
    trees = gpd.GeoDataFrame({"id": np.arange(1, n + 1), "height": th, "crown_diameter": th * rng.uniform(0.45, 0.7, n),
                              "species": "platane"}, geometry=gpd.points_from_xy(tx, ty), crs=grid.crs)
    canopy = tree_canopy(grid, tx, ty, th, trees["crown_diameter"].to_numpy())
    canopy[ids > 0] = 0
    lc[(canopy > 0) & (lc == Landcover.GRASS)] = Landcover.TREES
    t.set_layer("building_id", ids)
    t.set_layer("building_height", bh)
    t.set_layer("canopy_height", canopy)
    t.set_layer("landcover", lc)
    t.set_layer("surface", compose_surface(terrain, bh, canopy))
    wl = np.where(river, np.float32(np.nanmin(terrain[river]) + 1.2 if river.any() else np.nan), np.nan)
    t.set_layer("water_level", wl.astype(np.float32))
    t.set_table("buildings", buildings)
    t.set_table("roads", roads)
    t.set_table("trees", trees)
    return t
