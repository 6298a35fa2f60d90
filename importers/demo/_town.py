"""Assemble the demo town: plan, ground, content, lighting, trees -> tables and layers."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import affinity
from shapely.geometry import LineString, Point, Polygon, box

from importers.demo._content import fill_town
from importers.demo._geom import PointMask, any_of
from importers.demo._lighting import assign_cabinets, place_luminaires
from importers.demo._network import road_areas, split_network
from importers.demo._plan import MAX_SIZE, MIN_SIZE, Plan, make_plan
from importers.demo._terrain import Terrain
from importers.demo._vegetation import park_trees, riparian_trees, street_trees
from twin.core import Twin, dataset_from_grid, layer_dataarray
from twin.errors import TwinValueError
from twin.grid import Grid
from twin.layers import Landcover as LC
from twin.rasterize import compose_surface, rasterize_buildings, rasterize_values, tree_canopy

#: Version of the generator: bump it whenever the same seed would give a different town.
DEMO_VERSION = "1"
#: South-west corner of the town, Lambert-93 (EPSG:2154) [m].
ORIGIN = (842000.0, 6519000.0)
TOWN_NAME = "Jumeau-sur-Rhône (demo)"
#: A fictitious INSEE code (département 69 has no commune 999).
INSEE = "69999"
CRS = "EPSG:2154"

# independent random streams, so that changing one part of the generator leaves the others alone
_STREAMS = {"terrain": 1, "centre": 2, "sites": 3, "houses": 4, "industry": 5, "lighting": 6, "trees": 7}

# named buildings get fixed ids in this order (the first ten exist at every size)
KEY_ORDER = ("mairie", "church", "belfry", "school", "care_home", "sante", "mediatheque", "farm", "barn",
             "peupliers_a", "peupliers_b", "peupliers_c", "peupliers_d", "peupliers_e", "gym", "supermarket",
             "parc_a", "parc_b", "parc_c", "parc_d", "parc_e", "parc_f", "parc_g", "parc_h")


def _check(seed, cell_size, size) -> tuple[int, float, float]:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TwinValueError(f"invalid seed: {seed!r} (a non-negative integer)")
    try:
        cs = float(cell_size)
        sz = float(size)
    except (TypeError, ValueError):
        raise TwinValueError(f"invalid cell_size or size: {cell_size!r}, {size!r} (numbers in metres)") from None
    if not (math.isfinite(cs) and cs > 0):
        raise TwinValueError(f"invalid cell_size: {cell_size!r} (a positive number of metres)")
    if not (math.isfinite(sz) and MIN_SIZE <= sz <= MAX_SIZE):
        raise TwinValueError(f"invalid size: {size!r} (the demo town is {MIN_SIZE:g} to {MAX_SIZE:g} m wide)")
    if sz / cs < 50:
        raise TwinValueError(f"invalid cell_size: {cell_size!r} (fewer than 50 cells across a {sz:g} m town)")
    if cs > 5:
        raise TwinValueError(f"invalid cell_size: {cell_size!r} (the demo town needs cells of 5 m or less)")
    return int(seed), cs, sz


def _ellipse(center, axes, angle, scale=1.0) -> Polygon:
    e = Point(0, 0).buffer(1.0, quad_segs=32)
    e = affinity.scale(e, axes[0] * scale, axes[1] * scale, origin=(0, 0))
    e = affinity.rotate(e, angle, origin=(0, 0), use_radians=True)
    return affinity.translate(e, *center)


def areas(plan: Plan) -> dict:
    """Local polygons of the river corridor (water and banks), the water, the rail, the park and the fields."""
    p = plan
    S = p.size
    axis = LineString(p.river_axis())
    river_area = axis.buffer(p.river_width / 2 + p.riparian, cap_style="flat")
    water = axis.buffer(p.river_width / 2 + 0.5, cap_style="flat")
    rail = box(p.x_rail - p.rail_width / 2 - p.rail_margin, -1.0, p.x_rail + p.rail_width / 2 + p.rail_margin, S + 1.0)
    rail_track = box(p.x_rail - p.rail_width / 2, -1.0, p.x_rail + p.rail_width / 2, S + 1.0)
    ys = np.linspace(p.park_y0, S, 60)
    east = [(float(p.bank_x(y, -1, p.riparian)), float(y)) for y in ys]
    park = Polygon([(p.x_blvd, p.park_y0)] + east + [(p.x_blvd, S)])
    pond = _ellipse(p.pond, p.pond_axes, p.pond_angle)
    crop = box(-1.0, -1.0, p.x_crop, S + 1.0)
    return dict(river=river_area, water=water, rail=rail, rail_track=rail_track, park=park, pond=pond, crop=crop)


def _world(geoms, origin=ORIGIN):
    """Translate local geometries to Lambert-93, rounding coordinates to the centimetre."""
    g = np.asarray(geoms, dtype=object)
    return shapely.transform(g, lambda c: np.round(c + np.asarray(origin), 2))


def build_demo_town(*, seed: int = 2023, cell_size: float = 1.0, size: float = 1000.0) -> Twin:
    """Build the embedded demo town: a small French town on the Rhône, generated from a seed.

    Parameters
    ----------
    seed : int
        Seed of the generator. The same seed gives the same town (the same arrays, tables
        and saved bytes); other seeds give other lots, heights, ages, trees and micro-relief
        on the same plan (river, streets, square and landmarks do not move).
    cell_size : float
        Side of the raster cells [m]. The tables do not depend on it: a finer grid samples
        the same town.
    size : float
        Side of the square town [m], 250 to 2000. The default 1000 gives 400-800 buildings;
        300 gives a smaller town with every feature (river, floodplain, depression, pond,
        centre, square, church, school, care home, industry, luminaires), for fast tests.

    Returns
    -------
    twin.Twin
        Layers ``terrain``, ``surface``, ``building_id``, ``building_height``, ``canopy_height``,
        ``landcover``, ``water_level``; tables ``buildings``, ``roads``, ``luminaires``, ``trees``,
        ``parcels``; ``meta['demo']`` holds the landmarks (see :func:`landmarks`).

    Raises
    ------
    TwinValueError
        If the seed is not a non-negative integer, or the size or cell size is out of range.

    Examples
    --------
    >>> from importers.demo import build_demo_town
    >>> town = build_demo_town(seed=2023, size=300)
    >>> sorted(town.tables)
    ['buildings', 'luminaires', 'parcels', 'roads', 'trees']
    """
    seed, cell_size, size = _check(seed, cell_size, size)
    plan = make_plan(size)

    def rng_for(name: str) -> np.random.Generator:
        return np.random.default_rng([seed, _STREAMS[name]])

    terrain = Terrain(plan, rng_for("terrain"))
    segments = split_network(plan)
    road_total, road_carr = road_areas(plan, segments)
    A = areas(plan)
    content = fill_town(plan, segments, road_total, A["river"], A["rail"], A["park"], A["crop"], rng_for)

    # -- tables in local coordinates ------------------------------------------------------------------------
    bld = _buildings_frame(content.buildings, terrain)
    bld_geoms = list(bld.geometry.values)
    avenue = shapely.union_all([g for g, s in zip(road_total, segments) if s.name == "Avenue Jean Jaurès"])
    in_water = PointMask([shapely.difference(A["water"], avenue), A["pond"]])
    on_carriageway = PointMask(road_carr)
    lums = place_luminaires(plan, segments, rng_for("lighting"),
                            forbidden=any_of(PointMask(bld_geoms, 0.3), on_carriageway, in_water))
    assign_cabinets(size, lums)

    rng_t = rng_for("trees")
    poles = np.array([[o["x"], o["y"]] for o in lums]).reshape(-1, 2)
    tree_block = any_of(PointMask(bld_geoms, 1.5), PointMask(road_carr, 0.8),
                        PointMask([A["water"], A["pond"], A["rail"]]))
    ct = np.array([(t[0], t[1]) for t in content.trees]).reshape(-1, 2)
    trees = [t for t, bad in zip(content.trees, tree_block(ct)) if not bad]
    trees += street_trees(plan, segments, rng_t, forbidden=tree_block, poles_xy=poles,
                          keep_out=PointMask([box(*plan.centre_box), A["river"]]))
    paths = [s.line for s in segments if s.kind == "path"]
    park_free = shapely.difference(A["park"], shapely.union_all(road_total))
    pond_ring = _ellipse(plan.pond, plan.pond_axes, plan.pond_angle, 1.35)
    trees += park_trees(rng_t, park_free, any_of(PointMask([pond_ring]), PointMask(paths, 3.5), tree_block))
    trees += riparian_trees(plan, rng_t, keep_out=PointMask([avenue], 3.0))

    # -- layers ----------------------------------------------------------------------------------------------
    x0w, y0w = ORIGIN
    grid = Grid.from_bounds(x0w, y0w, x0w + size, y0w + size, cell_size=cell_size, crs=CRS)
    xl = (grid.x - x0w)[None, :]
    yl = (grid.y - y0w)[:, None]
    z = terrain.elevation(xl, yl)
    wl_river = plan.river_level(yl)
    river_mask = (np.abs(plan.across(xl, yl)) < plan.river_width / 2 + 3.0) & (z < wl_river)
    pond_mask = (terrain.pond_radius(xl, yl) < 1.5) & (z < terrain.pond_level)
    water_level = np.full(grid.shape, np.nan, np.float32)
    water_level[:] = np.where(river_mask, wl_river, np.nan)
    water_level[pond_mask] = terrain.pond_level
    terrain_f = z.astype(np.float32)

    buildings = gpd.GeoDataFrame(bld.drop(columns="geometry"), geometry=_world(bld.geometry.values), crs=CRS)
    bid, bh = rasterize_buildings(grid, buildings)
    tr = np.array([(t[0], t[1], t[2], t[3]) for t in trees], dtype=np.float64).reshape(-1, 4)
    canopy = tree_canopy(grid, tr[:, 0] + x0w, tr[:, 1] + y0w, tr[:, 2], tr[:, 3])

    shapes = [(A["crop"], LC.CROPLAND), (A["rail"], LC.BARE_SOIL), (A["rail_track"], LC.RAIL)]
    shapes += [(g, int(c)) for g, c in content.cover]
    for g, s in zip(road_total, segments):
        if s.kind == "path":
            shapes.append((g, LC.BARE_SOIL if not s.lighting_class else LC.SIDEWALK))
        else:
            shapes.append((g, LC.SIDEWALK))
    shapes += [(g, LC.ROAD) for g, s in zip(road_carr, segments) if s.kind != "path"]
    geoms = _world([g for g, _ in shapes])
    landcover = rasterize_values(grid, geoms, [int(v) for _, v in shapes], fill=int(LC.GRASS), dtype="uint8")
    landcover[(canopy > 0) & (landcover == LC.GRASS)] = LC.TREES
    landcover[river_mask | pond_mask] = LC.WATER
    landcover[bid > 0] = LC.BUILDING

    ds = dataset_from_grid(grid)
    for name, values in (("terrain", terrain_f), ("surface", compose_surface(terrain_f, bh, canopy)),
                         ("building_id", bid), ("building_height", bh), ("canopy_height", canopy),
                         ("landcover", landcover), ("water_level", water_level)):
        ds[name] = layer_dataarray(grid, name, values)

    meta = {
        "name": TOWN_NAME,
        "description": (
            f"A generated French town of {size:g} m x {size:g} m on a river of the Rhône valley (seed {seed}): "
            "historic centre with terraces around a market square, hillside suburbs, floodplain, depression, "
            "pond, industrial zone, public lighting. Fictitious; altitudes NGF-IGN69."
        ),
        "location": _location(size),
        "demo": landmarks(size, plan=plan) | {"seed": seed, "pond_level": round(terrain.pond_level, 3)},
    }
    town = Twin(ds, meta=meta)
    town.set_table("buildings", buildings)
    town.set_table("roads", _roads_frame(segments))
    town.set_table("luminaires", _luminaires_frame(lums))
    town.set_table("trees", _trees_frame(trees, rng_t))
    town.set_table("parcels", _parcels_frame(content.parcels))
    town.add_provenance("demo", generator="importers.demo", version=DEMO_VERSION, seed=seed,
                        size=size, cell_size=cell_size, ground_z="minimum of the terrain at the footprint's "
                        "vertices and centroid")
    return town


def _location(size: float) -> dict:
    from pyproj import Transformer

    t = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    lon, lat = t.transform(ORIGIN[0] + size / 2, ORIGIN[1] + size / 2)
    return {"latitude": round(lat, 5), "longitude": round(lon, 5), "elevation": 170.0,
            "weather": "Lyon-Bron typical year (EPW, WMO 074800)", "vertical_datum": "NGF-IGN69"}


def _buildings_frame(items: list[dict], terrain: Terrain) -> gpd.GeoDataFrame:
    rank = {k: i for i, k in enumerate(KEY_ORDER)}
    named = sorted([b for b in items if b["key"]], key=lambda b: (rank.get(b["key"], len(rank)), b["key"]))
    others = [b for b in items if not b["key"]]
    rows = named + others
    geoms = np.array([b["geometry"] for b in rows], dtype=object)
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    zc = terrain.elevation(coords[:, 0], coords[:, 1])
    zmin = np.full(len(rows), np.inf)
    np.minimum.at(zmin, index, zc)
    cen = shapely.get_coordinates(shapely.centroid(geoms))
    zmin = np.minimum(zmin, terrain.elevation(cen[:, 0], cen[:, 1]))
    df = pd.DataFrame({
        "id": np.arange(1, len(rows) + 1, dtype=np.int32),
        "height": [b["height"] for b in rows],
        "roof_height": [b["roof_height"] for b in rows],
        "ground_z": np.round(zmin, 2),
        "floors": [b["floors"] for b in rows],
        "use": [b["use"] for b in rows],
        "year": [b["year"] for b in rows],
        "dwellings": [b["dwellings"] for b in rows],
        "name": [b["name"] for b in rows],
        "external_id": "",
        "lod": 1,
        "height_source": "demo",
        "floors_source": "demo",
        "use_source": "demo",
        "year_source": "demo",
        "footprint_source": "demo",
        "quarter": [b["zone"] for b in rows],
        "landmark": [b["key"] for b in rows],
    })
    return gpd.GeoDataFrame(df, geometry=list(geoms))


def _roads_frame(segments) -> gpd.GeoDataFrame:
    df = pd.DataFrame({
        "id": [s.id for s in segments],
        "name": [s.name for s in segments],
        "kind": [s.kind for s in segments],
        "width": [s.width for s in segments],
        "sidewalk_width": [s.sidewalk for s in segments],
        "lighting_class": [s.lighting_class for s in segments],
    })
    return gpd.GeoDataFrame(df, geometry=_world([s.line for s in segments]), crs=CRS)


def _luminaires_frame(lums: list[dict]) -> gpd.GeoDataFrame:
    cols = ["mounting_height", "orientation", "tilt", "photometry", "power", "flux", "cct", "ulr", "n3", "cabinet",
            "installed", "road_id", "kind"]
    df = pd.DataFrame({"id": np.arange(1, len(lums) + 1, dtype=np.int32)} | {c: [o[c] for o in lums] for c in cols})
    pts = shapely.points(np.array([[o["x"], o["y"]] for o in lums]).reshape(-1, 2))
    return gpd.GeoDataFrame(df, geometry=_world(pts), crs=CRS)


def _trees_frame(trees: list, rng) -> gpd.GeoDataFrame:
    h = np.array([t[2] for t in trees], dtype=np.float64)
    df = pd.DataFrame({
        "id": np.arange(1, len(trees) + 1, dtype=np.int32),
        "height": h,
        "crown_diameter": [t[3] for t in trees],
        "trunk_height": np.round(h * 0.3, 1),
        "species": [t[4] for t in trees],
    })
    pts = shapely.points(np.array([[round(t[0], 2), round(t[1], 2)] for t in trees]).reshape(-1, 2))
    return gpd.GeoDataFrame(df, geometry=_world(pts), crs=CRS)


def _parcels_frame(parcels: list) -> gpd.GeoDataFrame:
    counters: dict[str, int] = {}
    ids, sections, numeros = [], [], []
    for _, sec in parcels:
        counters[sec] = counters.get(sec, 0) + 1
        num = f"{counters[sec]:04d}"
        ids.append(f"{INSEE}000{sec}{num}")
        sections.append(sec)
        numeros.append(num)
    geoms = [g for g, _ in parcels]
    df = pd.DataFrame({
        "id": ids, "commune": INSEE, "section": sections, "numero": numeros,
        "contenance": [float(round(g.area)) for g in geoms],
    })
    return gpd.GeoDataFrame(df, geometry=_world(geoms), crs=CRS)


def landmarks(size: float = 1000.0, *, plan: Plan | None = None) -> dict:
    """Where things are in the demo town of ``size`` metres, in Lambert-93 metres (the same for every seed).

    Returns a JSON-ready dict: the extent, the river (axis points every 50 m, width,
    normal level at the south and north edges), the depression, the pond, the market
    square, the centre, the park (bounding box: its east side follows the river), the
    landmark sites and the streets (name -> list of ``[x, y]``).
    """
    p = plan or make_plan(size)
    X0, Y0 = ORIGIN
    S = p.size

    def w(x, y):
        return [round(float(x) + X0, 2), round(float(y) + Y0, 2)]

    ys = np.arange(0.0, S + 0.1, 50.0)
    streets: dict[str, list] = {}
    for r in p.roads:
        pts = [w(x, y) for x, y in r.coords]
        if r.name in streets and streets[r.name][-1] == pts[0]:
            streets[r.name] += pts[1:]
        elif r.name not in streets:
            streets[r.name] = pts
    sites = {k: [round(s.box[0] + X0, 2), round(s.box[1] + Y0, 2), round(s.box[2] + X0, 2), round(s.box[3] + Y0, 2)]
             for k, s in p.sites.items()}
    sx0, sy0, sx1, sy1 = p.square
    return {
        "extent": [X0, Y0, X0 + S, Y0 + S],
        "river": {
            "name": "la Jumelle",
            "axis": [w(p.river_x(y), y) for y in ys],
            "width": round(p.river_width, 2),
            "level_south": round(float(p.river_level(0.0)), 3),
            "level_north": round(float(p.river_level(S)), 3),
            "riparian_strip": round(p.riparian, 2),
        },
        "depression": {"center": w(*p.depression), "sigma": round(p.depression_sigma, 2), "depth": p.depression_depth},
        "pond": {"center": w(*p.pond), "semi_axes": [round(a, 2) for a in p.pond_axes]},
        "square": [round(sx0 + X0, 2), round(sy0 + Y0, 2), round(sx1 + X0, 2), round(sy1 + Y0, 2)],
        "centre": [round(v + o, 2) for v, o in zip(p.centre_box, (X0, Y0, X0, Y0))],
        "park": [round(v + o, 2) for v, o in zip(areas(p)["park"].bounds, (X0, Y0, X0, Y0))],
        "sites": sites,
        "streets": streets,
        "boulevard_x": round(p.x_blvd + X0, 2),
        "scarp_x": [round(p.scarp_x0 + X0, 2), round(p.scarp_x0 + p.scarp_width + X0, 2)],
        "rail_x": round(p.x_rail + X0, 2),
        "fields_west_of_x": round(p.x_crop + X0, 2),
    }
