"""The embedded demo town: determinism, plausibility, completeness at small sizes, round trip.

The full town (1 km, ``demo_town``) and the small one (300 m, ``demo_town_small``) are
session fixtures from tests/conftest.py, built once and shared with other areas' tests.
"""

from __future__ import annotations

import heapq
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import STRtree

from importers.demo import SCHEMES, build_demo_town, landmarks
from twin import Twin, TwinValueError
from twin.layers import Landcover as LC
from twin.tables import BUILDING_USES, VULNERABLE_USES

EN13201 = {f"M{i}" for i in range(1, 7)} | {f"C{i}" for i in range(0, 6)} | {f"P{i}" for i in range(1, 7)}
PHOTOMETRIES = {"builtin:road-led", "builtin:globe-hps", "builtin:pedestrian-led"}
MULTI_STOREY = {"housing", "office", "shop", "school", "care_home", "town_hall", "health", "culture"}


# -- helpers ------------------------------------------------------------------------------------------------
def priority_flood(z: np.ndarray) -> np.ndarray:
    """Depression filling by priority flood (Barnes et al. 2014, doi:10.1016/j.cageo.2013.04.024), 8 neighbours.

    Water leaves through the grid's border; returns the filled surface.
    """
    ny, nx = z.shape
    filled = z.astype(np.float64).copy()
    done = np.zeros(z.shape, bool)
    heap = []
    for r in range(ny):
        for c in (0, nx - 1):
            heap.append((filled[r, c], r, c))
            done[r, c] = True
    for c in range(1, nx - 1):
        for r in (0, ny - 1):
            heap.append((filled[r, c], r, c))
            done[r, c] = True
    heapq.heapify(heap)
    nbrs = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]
    while heap:
        h, r, c = heapq.heappop(heap)
        for dr, dc in nbrs:
            rr, cc = r + dr, c + dc
            if 0 <= rr < ny and 0 <= cc < nx and not done[rr, cc]:
                done[rr, cc] = True
                if filled[rr, cc] < h:
                    filled[rr, cc] = h
                heapq.heappush(heap, (filled[rr, cc], rr, cc))
    return filled


def block_min(a: np.ndarray, k: int) -> np.ndarray:
    ny, nx = (a.shape[0] // k) * k, (a.shape[1] // k) * k
    return a[:ny, :nx].reshape(ny // k, k, nx // k, k).min(axis=(1, 3))


def shared_wall_length(geoms) -> float:
    """Total length of the edges that touching footprints share [m]."""
    geoms = np.asarray(geoms, dtype=object)
    tree = STRtree(geoms)
    i, j = tree.query(geoms, predicate="touches")
    keep = i < j
    if not keep.any():
        return 0.0
    inter = shapely.intersection(shapely.boundary(geoms[i[keep]]), shapely.boundary(geoms[j[keep]]))
    return float(shapely.length(inter).sum())


def assert_tables_equal(a, b):
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"), check_dtype=True)
    assert list(shapely.to_wkb(a.geometry.values)) == list(shapely.to_wkb(b.geometry.values))


def assert_twins_identical(a: Twin, b: Twin):
    assert list(a.layers.data_vars) == list(b.layers.data_vars)
    for name in a.layers.data_vars:
        x, y = a.array(name), b.array(name)
        assert x.dtype == y.dtype and x.shape == y.shape
        assert x.tobytes() == y.tobytes(), name
    assert sorted(a.tables) == sorted(b.tables)
    for name in a.tables:
        assert_tables_equal(a.tables[name], b.tables[name])


# -- determinism --------------------------------------------------------------------------------------------
def test_same_seed_gives_the_same_town(demo_town_small):
    again = build_demo_town(seed=2023, cell_size=1.0, size=300.0)
    assert_twins_identical(demo_town_small, again)
    assert again.meta["demo"] == demo_town_small.meta["demo"]


def test_same_seed_gives_the_same_bytes_on_disk(demo_town_small, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    a = build_demo_town(seed=2023, size=300.0)
    b = build_demo_town(seed=2023, size=300.0)
    a.save(tmp_path / "a.twin")
    b.save(tmp_path / "b.twin")
    files_a = sorted(p.relative_to(tmp_path / "a.twin") for p in (tmp_path / "a.twin").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b.twin") for p in (tmp_path / "b.twin").rglob("*") if p.is_file())
    assert files_a == files_b
    assert Path("tables.gpkg") in files_a and Path("layers/terrain.tif") in files_a and Path("twin.json") in files_a
    for rel in files_a:
        assert (tmp_path / "a.twin" / rel).read_bytes() == (tmp_path / "b.twin" / rel).read_bytes(), rel


def test_another_seed_gives_another_town_on_the_same_plan(demo_town_small):
    other = build_demo_town(seed=7, size=300.0)
    a, b = demo_town_small, other
    assert not np.array_equal(a.array("terrain"), b.array("terrain"))
    assert not np.array_equal(a.array("building_id"), b.array("building_id"))
    assert not np.array_equal(a.buildings["height"].to_numpy(), b.buildings["height"].to_numpy()[: len(a.buildings)]) \
        or len(a.buildings) != len(b.buildings)
    # the plan holds: same streets, same landmarks, the named buildings keep their ids
    assert_tables_equal(a.roads, b.roads)
    assert a.meta["demo"]["sites"] == b.meta["demo"]["sites"]
    for i in range(1, 10):
        name = a.buildings.loc[a.buildings.id == i, "name"].item()
        assert name == b.buildings.loc[b.buildings.id == i, "name"].item()
    # the micro-relief changes by decimetres, not the valley
    d = np.abs(a.array("terrain") - b.array("terrain"))
    assert 0.01 < float(np.median(d)) < 1.0


def test_half_metre_cells_sample_the_same_town(demo_town_small):
    fine = build_demo_town(seed=2023, cell_size=0.5, size=300.0)
    coarse = demo_town_small
    assert fine.grid.shape == (600, 600) and fine.grid.cell_size == 0.5
    assert fine.grid.bounds == coarse.grid.bounds
    for name in ("buildings", "roads", "luminaires", "trees", "parcels"):
        assert_tables_equal(fine.tables[name], coarse.tables[name])
    # the terrain is the same function: 2x2 means of the fine grid match the coarse grid away from the banks
    tf = fine.array("terrain").astype(np.float64)
    mean4 = tf.reshape(300, 2, 300, 2).mean(axis=(1, 3))
    diff = np.abs(mean4 - coarse.array("terrain"))
    assert np.quantile(diff, 0.99) < 0.02
    # land cover fractions agree within a percent per class
    lf = np.bincount(fine.array("landcover").ravel(), minlength=12) / fine.grid.size
    lc = np.bincount(coarse.array("landcover").ravel(), minlength=12) / coarse.grid.size
    assert np.abs(lf - lc).max() < 0.01
    # every building is burnt at both resolutions
    assert set(np.unique(fine.array("building_id"))) - {0} == set(fine.buildings.id)


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(size=100.0), "size"),
    (dict(size=float("nan")), "size"),
    (dict(cell_size=0.0), "cell_size"),
    (dict(cell_size=20.0), "cell_size"),
    (dict(seed=-1), "seed"),
    (dict(seed=1.5), "seed"),
])
def test_bad_arguments_are_refused_in_one_line(kwargs, fragment):
    with pytest.raises(TwinValueError, match=fragment) as err:
        build_demo_town(**kwargs)
    assert "\n" not in str(err.value)


# -- plausibility of the full town ---------------------------------------------------------------------------------
def test_building_counts_uses_and_sources(demo_town):
    b = demo_town.buildings
    assert 400 <= len(b) <= 800
    assert set(b["use"]) <= set(BUILDING_USES)
    assert {"housing", "shop", "office", "industrial", "school", "care_home", "town_hall", "religious", "health",
            "culture", "sports", "agricultural", "annex"} <= set(b["use"])
    for col in ("height_source", "floors_source", "use_source", "year_source", "footprint_source"):
        assert (b[col] == "demo").all()
    assert (b["id"].to_numpy() == np.arange(1, len(b) + 1)).all()
    assert (b.loc[b.use == "housing", "dwellings"] >= 1).all()
    assert b.loc[b.use == "housing", "dwellings"].sum() > 1000
    assert shapely.is_valid(b.geometry.values).all()


def test_heights_match_floors(demo_town):
    b = demo_town.buildings
    hall = (b["floors"] == 1) & (b.geometry.area > 1000.0)  # single-storey halls: supermarket, sports, sheds
    multi = b[b["use"].isin(MULTI_STOREY) & ~hall]
    ratio = multi["height"] / multi["floors"]
    assert (multi["floors"] >= 1).all()
    assert ratio.between(2.5, 4.5).all(), multi.loc[~ratio.between(2.5, 4.5), ["id", "use", "floors", "height"]]
    assert multi["floors"].max() >= 6 and multi["floors"].min() == 1
    single = b[b["use"].isin(["industrial", "sports", "agricultural"]) | hall]
    assert (single["floors"] == 1).all() and single["height"].between(4.0, 12.0).all()
    assert (b.loc[b.use == "annex", "height"] < 3.5).all()
    church = b[b.use == "religious"]
    assert church["height"].max() >= 25.0  # the belfry towers over the roofs
    pitched = b["roof_height"].notna()
    assert (b.loc[pitched, "roof_height"] > b.loc[pitched, "height"]).all()
    # the layer carries the table's heights
    bh = demo_town.array("building_height")
    assert float(bh.max()) == pytest.approx(float(b["height"].max()))


def test_construction_periods_span_from_old_centre_to_recent_suburbs(demo_town):
    b = demo_town.buildings
    assert b["year"].min() < 1800 and b["year"].max() > 2012
    assert (b["year"] < 1948).mean() > 0.15
    assert (b["year"] > 2012).mean() > 0.10
    assert ((b["year"] >= 1948) & (b["year"] <= 1974)).sum() > 50
    centre = b[b["quarter"] == "centre"]
    assert centre["year"].median() < 1948
    assert b.loc[b["quarter"] == "north", "year"].median() > 2000


def test_footprints_do_not_overlap_and_the_centre_has_party_walls(demo_town, demo_town_small):
    for town, at_least in ((demo_town, 1000.0), (demo_town_small, 400.0)):
        g = town.buildings.geometry.values
        tree = STRtree(g)
        i, j = tree.query(g, predicate="intersects")
        keep = i < j
        overlap = shapely.area(shapely.intersection(g[i[keep]], g[j[keep]]))
        assert overlap.max(initial=0.0) < 1e-6
        centre = town.buildings[town.buildings["quarter"] == "centre"]
        assert shared_wall_length(centre.geometry.values) > at_least
    # most centre buildings have at least one party wall
    centre = demo_town.buildings[demo_town.buildings["quarter"] == "centre"].geometry.values
    i, _ = STRtree(centre).query(centre, predicate="touches")
    assert len(np.unique(i)) > 0.9 * len(centre)


def test_every_building_is_burnt_into_the_id_layer(demo_town):
    bid = demo_town.array("building_id")
    assert set(np.unique(bid)) - {0} == set(demo_town.buildings["id"])
    assert (demo_town.array("landcover")[bid > 0] == LC.BUILDING).all()
    assert (bid[demo_town.array("landcover") == LC.BUILDING] > 0).all()


def _cells_of(town, ids):
    bid = town.array("building_id")
    t = town.array("terrain")
    out = {}
    for i in ids:
        out[i] = t[bid == i]
    return out


def test_buildings_stand_above_the_river_and_some_in_the_floodplain(demo_town):
    b = demo_town.buildings
    river = demo_town.meta["demo"]["river"]
    top = max(river["level_south"], river["level_north"])
    assert (b["ground_z"] > top + 0.5).all()
    # no building over water
    wl = demo_town.array("water_level")
    assert not np.isfinite(wl[demo_town.array("building_id") > 0]).any()
    # ground_z is the minimum of the terrain at the footprint (within the cells under it)
    cells = _cells_of(demo_town, b["id"].to_numpy()[::25])
    for i, z in cells.items():
        gz = float(b.loc[b.id == i, "ground_z"].item())
        assert z.min() - 0.35 <= gz <= z.max() + 0.01
    # a 2.5 m rise of the river reaches dozens of buildings, the care home among them
    reached = b[b["ground_z"] < top + 2.5]
    assert len(reached) >= 20
    assert "care_home" in set(reached["use"])


def test_a_closed_depression_gathers_water_next_to_the_school(demo_town):
    z = demo_town.array("terrain")
    k = 2
    zc = block_min(z, k)
    depth = priority_flood(zc) - zc
    wl = np.isfinite(demo_town.array("water_level"))[: zc.shape[0] * k, : zc.shape[1] * k]
    wet = wl.reshape(zc.shape[0], k, zc.shape[1], k).any(axis=(1, 3))
    dry_depth = np.where(wet, 0.0, depth)
    assert dry_depth.max() > 0.5
    # the deepest closed low point is the depression of the plan
    r, c = np.unravel_index(np.argmax(dry_depth), dry_depth.shape)
    g = demo_town.grid
    x, y = g.xmin + (c + 0.5) * k, g.ymax - (r + 0.5) * k
    cx, cy = demo_town.meta["demo"]["depression"]["center"]
    assert math.hypot(x - cx, y - cy) < 30.0
    # it is in town: the school stands in it (its ground is below the spill level)
    spill = float(priority_flood(zc)[r, c])
    school = demo_town.buildings[demo_town.buildings["use"] == "school"]
    assert float(school["ground_z"].iloc[0]) < spill
    near = demo_town.buildings[demo_town.buildings.geometry.distance(shapely.Point(cx, cy)) < 45.0]
    assert len(near) >= 4 and (near["ground_z"] < spill).sum() >= 2


def test_river_and_pond_hold_water_above_the_ground(demo_town):
    wl = demo_town.array("water_level")
    z = demo_town.array("terrain")
    lc = demo_town.array("landcover")
    wet = np.isfinite(wl)
    assert (wl[wet] > z[wet]).all()
    assert ((lc == LC.WATER) == wet).all()
    meta = demo_town.meta["demo"]
    # the pond: a separate body of water at its own level
    pond = wet & np.isclose(wl, meta["pond_level"])
    assert pond.sum() > 500
    # the river runs the whole height of the town, about its width wide, and flows south
    rows = wet.sum(axis=1)
    assert (rows >= meta["river"]["width"] - 3).all()
    assert meta["river"]["level_north"] > meta["river"]["level_south"]
    north, south = wl[0][np.isfinite(wl[0])], wl[-1][np.isfinite(wl[-1])]
    assert north.mean() > south.mean()
    depth = (wl - z)[wet & ~pond]
    assert 2.0 < depth.max() < 3.0


def test_terrain_is_a_plausible_valley(demo_town):
    z = demo_town.array("terrain").astype(np.float64)
    assert 158.0 < z.min() and z.max() < 202.0
    assert z.max() - z.min() > 30.0
    gy, gx = np.gradient(z, demo_town.grid.cell_size)
    slope = np.hypot(gx, gy)
    lm = demo_town.meta["demo"]
    # steep only on the river and pond banks: no spikes, no cliffs elsewhere
    axis = shapely.LineString(lm["river"]["axis"])
    g = demo_town.grid
    steep = np.argwhere(slope > 0.3)
    xs, ys = g.xy(steep[:, 0], steep[:, 1])
    d_river = shapely.distance(axis, shapely.points(np.column_stack([xs, ys])))
    d_pond = np.hypot(xs - lm["pond"]["center"][0], ys - lm["pond"]["center"][1])
    assert ((d_river < lm["river"]["width"] / 2 + 6) | (d_pond < 2 * max(lm["pond"]["semi_axes"]))).all()
    lap = np.abs(np.diff(z, 2, axis=0)).max(), np.abs(np.diff(z, 2, axis=1)).max()
    assert max(lap) < 1.0
    # the hillside rises to the west, the floodplain lies low by the river
    assert z[:, :100].mean() > z[:, 500:600].mean() + 15.0


def test_surface_is_terrain_plus_the_taller_of_building_and_canopy(demo_town):
    t = demo_town.array("terrain")
    expect = (t + np.maximum(demo_town.array("building_height"), demo_town.array("canopy_height"))).astype(np.float32)
    assert np.array_equal(demo_town.array("surface"), expect)


def test_every_cell_has_a_sensible_land_cover(demo_town):
    lc = demo_town.array("landcover")
    counts = np.bincount(lc.ravel(), minlength=12)
    assert counts[0] == 0
    assert (counts[1:] > 0).all()
    frac = counts / lc.size
    assert 0.08 < frac[LC.BUILDING] < 0.25
    assert 0.06 < frac[LC.ROAD] < 0.2
    assert frac[LC.GRASS] + frac[LC.TREES] > 0.3
    g = demo_town.grid
    lm = demo_town.meta["demo"]
    cols = np.arange(g.ncols)
    x = g.xmin + (cols + 0.5) * g.cell_size
    # fields only on the hill top, rails only in the rail corridor
    crop_cols = np.nonzero((lc == LC.CROPLAND).any(axis=0))[0]
    assert x[crop_cols].max() <= lm["fields_west_of_x"] + 1
    rail_cols = np.nonzero((lc == LC.RAIL).any(axis=0))[0]
    assert np.abs(x[rail_cols] - lm["rail_x"]).max() <= 5
    # trees stand on vegetated ground; the market square is paved
    assert (demo_town.array("canopy_height")[lc == LC.TREES] > 0).all()
    r, c = g.rowcol(np.mean(lm["square"][0::2]) + 20, np.mean(lm["square"][1::2]) + 15)
    assert lc[r, c] in (LC.SQUARE, LC.BUILDING)
    roads = demo_town.roads
    mid = roads.geometry.interpolate(0.5, normalized=True)
    rr, cc = g.rowcol(mid.x.to_numpy(), mid.y.to_numpy())
    on_road = lc[rr, cc]
    assert np.isin(on_road[roads["kind"].to_numpy() != "path"], [LC.ROAD, LC.WATER]).all()


def test_trees_and_canopy(demo_town):
    tr = demo_town.trees
    assert len(tr) > 800
    assert tr["height"].between(3.0, 30.0).all() and tr["crown_diameter"].between(2.0, 16.0).all()
    assert (tr["trunk_height"] < tr["height"]).all()
    species = set(tr["species"])
    assert {"Platanus x acerifolia", "Tilia cordata", "Salix alba"} <= species
    canopy = demo_town.array("canopy_height")
    assert 0.05 < (canopy > 0).mean() < 0.3
    assert float(canopy.max()) <= float(tr["height"].max()) + 1e-4
    # no trunk stands in a building, on a carriageway or in the water
    g = demo_town.grid
    r, c = g.rowcol(tr.geometry.x.to_numpy(), tr.geometry.y.to_numpy())
    lc = demo_town.array("landcover")[r, c]
    assert not np.isin(lc, [LC.BUILDING, LC.ROAD, LC.WATER]).any()
    # street rows: trees along the boulevard on both sides
    blvd = demo_town.roads[demo_town.roads["name"] == "Boulevard de la République"].geometry.union_all()
    near = tr[tr.geometry.distance(blvd) < 9.0]
    assert len(near) > 80


def test_vulnerable_sites_and_landmarks(demo_town):
    b = demo_town.buildings.set_index("id")
    expect = {1: ("town_hall", "Mairie"), 2: ("religious", "Église Saint-Vincent"),
              4: ("school", "École Jean Moulin"),
              5: ("care_home", "EHPAD Les Tilleuls"), 6: ("health", "Maison de santé de la République")}
    for i, (use, name) in expect.items():
        assert b.loc[i, "use"] == use and b.loc[i, "name"] == name
    assert set(VULNERABLE_USES) <= set(b["use"])
    assert (b.loc[b["use"].isin(VULNERABLE_USES), "name"] != "").all()
    lm = demo_town.meta["demo"]
    assert lm == {k: v for k, v in landmarks(1000.0).items()} | {"seed": 2023, "pond_level": lm["pond_level"]}
    sites = lm["sites"]
    for i, key in ((4, "school"), (5, "care_home")):
        assert shapely.box(*sites[key]).contains(b.loc[i, "geometry"])
    assert shapely.box(*lm["square"]).contains(b.loc[2, "geometry"])
    # the town hall faces the square
    assert b.loc[1, "geometry"].distance(shapely.box(*lm["square"])) < 12.0


def test_roads_carry_valid_lighting_classes(demo_town):
    r = demo_town.roads
    assert set(r["kind"]) == {"boulevard", "street", "lane", "path", "square"}
    lit = r[r["lighting_class"] != ""]
    assert set(lit["lighting_class"]) <= EN13201
    assert (r["name"] != "").all() and (r["width"] > 0).all()
    cls = r.set_index("kind")["lighting_class"].groupby(level=0).agg(set)
    assert all(c[0] in "MC" for c in cls["boulevard"])
    assert any(c.startswith("M") for c in cls["boulevard"])
    assert cls["square"] == {"C3"}
    assert all(c == "" or c[0] == "P" for c in cls["lane"] | cls["path"])
    assert "" in cls["path"] and any(c.startswith("P") for c in cls["path"])
    assert (r["lighting_class"] == "C2").sum() >= 4  # conflict areas at the main crossings
    # segments end at junctions: the network is split, and long
    assert len(r) > 80 and r.length.sum() > 10000


def test_luminaires_line_the_roads(demo_town):
    lum = demo_town.luminaires
    roads = demo_town.roads.set_index("id")
    assert len(lum) >= 300
    assert set(lum["photometry"]) <= PHOTOMETRIES and lum["photometry"].nunique() >= 2
    assert lum["road_id"].isin(roads.index).all()
    seg = roads.loc[lum["road_id"]]
    d = lum.geometry.distance(seg.geometry, align=False).to_numpy()
    reach = (seg["width"] / 2 + 1.0).to_numpy()
    assert (d <= reach + 1e-6).all() and (d >= seg["width"].to_numpy() / 2 - 1e-6).all()
    # each arm points across its road, towards it
    az = np.radians(lum["orientation"].to_numpy())
    v = np.column_stack([np.sin(az), np.cos(az)])
    foot = np.array([s.interpolate(s.project(p)).coords[0] for s, p in zip(seg.geometry, lum.geometry)])
    to_road = foot - np.column_stack([lum.geometry.x, lum.geometry.y])
    to_road /= np.linalg.norm(to_road, axis=1)[:, None]
    assert ((v * to_road).sum(axis=1) > 0.95).all()
    # spaced a few mounting heights apart along each road side
    ratios = []
    for (rid, _), grp in lum.groupby(["road_id", lum["orientation"].round(-1)]):
        if len(grp) >= 3:
            s = np.sort([roads.loc[rid, "geometry"].project(p) for p in grp.geometry])
            ratios.append(np.median(np.diff(s)) / grp["mounting_height"].iloc[0])
    assert 2.5 < np.median(ratios) < 5.0
    # none in a building, in the water or on a carriageway
    assert not (demo_town.array("building_id")[demo_town.grid.rowcol(lum.geometry.x, lum.geometry.y)] > 0).any()


def test_luminaire_types_cabinets_and_a_retrofit_to_do(demo_town):
    lum = demo_town.luminaires
    for phot, sc in (("builtin:road-led", "blvd-led"), ("builtin:globe-hps", "street-globe"),
                     ("builtin:pedestrian-led", "lane-ped")):
        assert SCHEMES[sc]["photometry"] == phot
    led = lum[lum.photometry == "builtin:road-led"]
    assert (led.cct <= 3000).all() and (led.ulr == 0).all() and (led.n3 >= 99).all()
    assert led.power.between(30, 60).all() and led.flux.between(4000, 7000).all() and (led.installed >= 2014).all()
    globes = lum[lum.photometry == "builtin:globe-hps"]
    assert (globes.cct == 2000).all() and globes.ulr.between(20, 30).all() and globes.n3.between(55, 65).all()
    assert globes.power.between(100, 150).all() and globes.flux.between(9000, 15000).all()
    assert globes.installed.between(1980, 1999).all()
    ped = lum[lum.photometry == "builtin:pedestrian-led"]
    assert ped.power.between(20, 30).all() and ped.flux.between(2000, 3500).all() and (ped.ulr <= 1).all()
    assert 0.3 < len(globes) / len(lum) < 0.7  # a retrofit has globes to replace, and LED is already there
    assert {"road", "heritage", "park", "pedestrian"} <= set(lum["kind"])
    # the historic centre and the square are still on globes
    cx0, cy0, cx1, cy1 = demo_town.meta["demo"]["centre"]
    inside = lum[lum.geometry.x.between(cx0 + 10, cx1 - 12) & lum.geometry.y.between(cy0 + 5, cy1 - 5)]
    assert (inside.photometry == "builtin:globe-hps").mean() > 0.9
    # cabinets: A01.., several, each feeding its own area (the areas do not overlap)
    cab = sorted(set(lum["cabinet"]))
    assert len(cab) >= 6 and all(re.fullmatch(r"A\d\d", c) for c in cab)
    hulls = [lum[lum.cabinet == c].geometry.union_all().convex_hull for c in cab]
    for i in range(len(hulls)):
        for j in range(i + 1, len(hulls)):
            assert hulls[i].intersection(hulls[j]).area < 1.0
    assert lum.groupby("cabinet").size().min() >= 10


def test_parcels_have_cadastral_ids(demo_town):
    p = demo_town.parcels
    assert len(p) > 300
    assert p["id"].str.fullmatch(r"69999000[A-Z]{2}\d{4}").all() and p["id"].is_unique
    assert (p["commune"] == "69999").all()
    g = p.geometry.values
    i, j = STRtree(g).query(g, predicate="intersects")
    keep = i < j
    assert shapely.area(shapely.intersection(g[i[keep]], g[j[keep]])).max(initial=0) < 1e-6
    assert np.allclose(p["contenance"], np.round(shapely.area(g)), atol=1.0)


def test_meta_and_provenance(demo_town):
    m = demo_town.meta
    assert "Jumeau" in m["name"] and m["description"]
    prov = [e for e in m["provenance"] if e["step"] == "demo"]
    assert prov and prov[-1]["generator"] == "importers.demo" and prov[-1]["seed"] == 2023
    loc = m["location"]
    assert 45.5 < loc["latitude"] < 46.0 and 4.6 < loc["longitude"] < 5.1
    assert demo_town.grid.crs == "EPSG:2154"
    assert demo_town.grid.bounds == (842000.0, 6519000.0, 843000.0, 6520000.0)
    assert set(demo_town.layers.data_vars) == {"terrain", "surface", "building_id", "building_height", "canopy_height",
                                               "landcover", "water_level"}


# -- the small town is complete ----------------------------------------------------------------------------------------
def test_the_small_town_has_every_feature(demo_town_small):
    t = demo_town_small
    b = t.buildings
    assert 60 <= len(b) <= 200
    for use in ("housing", "shop", "school", "care_home", "town_hall", "religious", "health", "culture",
                "industrial", "agricultural"):
        assert use in set(b["use"]), use
    assert b["year"].min() < 1948 and b["year"].max() > 2012
    lc = np.bincount(t.array("landcover").ravel(), minlength=12)
    assert lc[0] == 0 and (lc[1:] > 0).all()
    wl = t.array("water_level")
    assert np.isclose(wl, t.meta["demo"]["pond_level"]).sum() > 100
    assert (np.isfinite(wl).sum(axis=1) >= 10).all()
    lum = t.luminaires
    assert len(lum) >= 80 and lum["photometry"].nunique() == 3 and lum["cabinet"].nunique() >= 3
    top = max(t.meta["demo"]["river"]["level_south"], t.meta["demo"]["river"]["level_north"])
    assert (b["ground_z"] > top + 0.5).all() and (b["ground_z"] < top + 2.5).sum() >= 5
    z = t.array("terrain")
    depth = priority_flood(z) - z
    depth[np.isfinite(wl)] = 0
    assert depth.max() > 0.5
    assert shared_wall_length(b[b.quarter == "centre"].geometry.values) > 400


# -- on disk ---------------------------------------------------------------------------------------------------
def test_save_and_open_are_lossless(demo_town_small, tmp_path):
    path = tmp_path / "town.twin"
    demo_town_small.save(path)
    back = Twin.open(path)
    assert back.grid == demo_town_small.grid
    for name in demo_town_small.layers.data_vars:
        a, b = demo_town_small.array(name), back.array(name)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), name
        assert back[name].attrs["units"] == demo_town_small[name].attrs["units"]
    for name, table in demo_town_small.tables.items():
        assert_tables_equal(table, back.tables[name])
    assert back.meta["demo"] == demo_town_small.meta["demo"]
    assert back.meta["provenance"] == demo_town_small.meta["provenance"]
