"""Flood x lighting: cabinet positions, the luminaires a flood puts out, the buildings along dark streets."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from scenarios.crossings import (
    CABINET_FLOOD_DEPTH,
    LUMINAIRE_FLOOD_DEPTH,
    buildings_along,
    cabinet_positions,
    lighting_outage,
)
from simulation.flood.exposure import PERSONS_PER_DWELLING
from twin import Grid, Twin
from twin.errors import TwinValueError


def street() -> Twin:
    """A 100 m x 40 m street along y = 20: ten luminaires every 10 m, the western five on cabinet W."""
    grid = Grid(xmin=0.0, ymax=40.0, nrows=40, ncols=100, cell_size=1.0)
    tw = Twin.empty(grid, terrain=170.0)
    x = np.arange(5.0, 100.0, 10.0)
    lum = gpd.GeoDataFrame({"id": np.arange(1, 11), "mounting_height": 8.0, "photometry": "builtin:road-led",
                            "power": 40.0, "flux": 5000.0, "cabinet": ["W"] * 5 + ["E"] * 5,
                            "geometry": [Point(v, 20.5) for v in x]}, crs=grid.crs)
    tw.set_table("luminaires", lum)
    wl = np.full(grid.shape, np.nan, np.float32)
    wl[15:25, 70:80] = 171.0  # a pond (permanent water) around the foot of luminaire 8 at x = 75
    tw.set_layer("water_level", wl, units="m")
    return tw


def flood_depth(grid: Grid) -> np.ndarray:
    d = np.zeros(grid.shape)
    d[:, 20:30] = 0.25   # over cabinet W (at luminaire 3, x = 25): above 0.2 m, below 0.5 m
    d[:, 70:80] = 1.0    # the pond: permanent water, not a flood
    d[:, 90:100] = 0.6   # luminaire 10's foot (x = 95) in 0.6 m
    return d


def test_cabinets_stand_at_the_luminaire_nearest_to_the_centroid_of_their_circuit():
    lum = street().luminaires
    cab = cabinet_positions(lum).set_index("cabinet")
    assert list(cab.index) == ["E", "W"]
    assert cab.loc["W", "luminaires"] == 5 and cab.loc["W", "at_luminaire"] == 3
    assert (cab.loc["W"].geometry.x, cab.loc["W"].geometry.y) == (25.0, 20.5)
    assert cab.loc["E", "at_luminaire"] == 8 and cab.loc["E"].geometry.x == 75.0
    assert len(cabinet_positions(lum.assign(cabinet=""))) == 0  # no cabinet named, none placed


def test_a_flooded_cabinet_puts_its_circuit_out_and_a_deep_foot_its_luminaire():
    tw = street()
    d = flood_depth(tw.grid)
    o = lighting_outage(tw, d)
    cab = o.cabinets.set_index("cabinet")
    assert cab.loc["W", "depth"] == pytest.approx(0.25) and cab.loc["W", "out"]
    assert cab.loc["E", "depth"] == 0.0 and not cab.loc["E", "out"]   # the pond at its foot is masked
    assert o.out_ids == [1, 2, 3, 4, 5, 10]
    lum = o.luminaires
    assert lum.loc[10, "foot_flooded"] and not lum.loc[10, "cabinet_out"] and lum.loc[10, "depth"] == pytest.approx(0.6)
    assert not lum.loc[3, "foot_flooded"] and lum.loc[3, "cabinet_out"]        # 0.25 m < 0.5 m at its foot
    assert sorted(o.twin.luminaires["id"]) == [6, 7, 8, 9]
    assert len(o.twin.tables["luminaires_baseline"]) == 10 and len(tw.luminaires) == 10  # the input is untouched
    assert o.assumptions["cabinet_threshold_m"] == CABINET_FLOOD_DEPTH == 0.2
    assert o.assumptions["luminaire_threshold_m"] == LUMINAIRE_FLOOD_DEPTH == 0.5
    assert o.assumptions["permanent_water_cells_masked"] == 100
    assert o.twin.meta["provenance"][-1]["step"] == "lighting_outage"
    # thresholds move the answer: at 0.3 m cabinet W stays dry; at 0.7 m no foot is deep enough
    assert lighting_outage(tw, d, cabinet_threshold=0.3, luminaire_threshold=0.7).out_ids == []
    assert lighting_outage(tw, d, cabinet_threshold=0.3).out_ids == [10]
    # a dry town: nothing out, the twin is a copy with all its luminaires
    dry = lighting_outage(tw, np.zeros(tw.grid.shape))
    assert dry.out_ids == [] and len(dry.twin.luminaires) == 10


def test_known_cabinet_positions_replace_the_assumption():
    tw = street()
    d = flood_depth(tw.grid)
    known = gpd.GeoDataFrame({"cabinet": ["W", "E"], "geometry": [Point(5.5, 30.5), Point(95.5, 30.5)]},
                             crs=tw.grid.crs)
    o = lighting_outage(tw, d, cabinets=known)
    assert o.cabinets.set_index("cabinet")["out"].to_dict() == {"W": False, "E": True}
    assert o.out_ids == [6, 7, 8, 9, 10] and o.assumptions["cabinet_positions"] == "given"
    assert o.cabinets.set_index("cabinet")["luminaires"].to_dict() == {"W": 5, "E": 5}
    with pytest.raises(TwinValueError, match="no position for E"):
        lighting_outage(tw, d, cabinets=known.iloc[:1])
    with pytest.raises(TwinValueError, match="shape"):
        lighting_outage(tw, d[:10])
    with pytest.raises(TwinValueError, match="cabinet_threshold"):
        lighting_outage(tw, d, cabinet_threshold=-0.1)


def test_buildings_along_streets_with_their_residents():
    tw = street()
    b = gpd.GeoDataFrame({"id": [1, 2, 3], "height": [6.0, 6.0, 6.0], "use": ["housing", "school", "housing"],
                          "dwellings": [4, 0, 0], "name": ["", "École", ""],
                          "geometry": [box(10, 25, 20, 35),    # 5 m from the street
                                       box(40, 34, 50, 38),    # 14 m
                                       box(60, 0, 70, 0.5)]},  # 19.5 m
                         crs=tw.grid.crs)
    tw.set_table("buildings", b)
    along = buildings_along(tw, [LineString([(0, 20), (100, 20)])], distance=15.0)
    assert list(along.index) == [1, 2]
    assert along["distance"].to_numpy() == pytest.approx([5.0, 14.0])
    assert along.loc[1, "residents"] == pytest.approx(4 * PERSONS_PER_DWELLING) and along.loc[2, "residents"] == 0.0
    assert along["vulnerable"].tolist() == [False, True]
    assert len(buildings_along(tw, [LineString([(0, 20), (100, 20)])], distance=20.0)) == 3
    assert buildings_along(tw, [], distance=15.0).empty
