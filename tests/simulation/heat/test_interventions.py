"""Interventions: trees, street trees, cool surfaces, greening, shade; and their effect on the heat."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from shapely.geometry import box

from simulation.heat.interventions import cool_surfaces, greening, plant_trees, shade_structures, street_tree_positions
from simulation.heat.model import HeatModel
from tests.simulation.heat.synthetic import X0, Y0
from twin.errors import TwinValueError
from twin.layers import Landcover
from twin.rasterize import compose_surface


def test_plant_trees_updates_canopy_surface_and_table(street_twin):
    t = street_twin
    out = plant_trees(t, x=[X0 + 20, X0 + 60], y=[Y0 + 40, Y0 + 40], height=10.0, crown_diameter=7.0, species="tilia")
    assert (t.array("canopy_height") == 0).all()  # the original is untouched
    ch = out.array("canopy_height")
    r, c = out.grid.rowcol(X0 + 20, Y0 + 40)
    assert ch[r, c] == pytest.approx(10.0, abs=0.5)
    assert (ch > 0).sum() == pytest.approx(2 * np.pi * 3.5**2, rel=0.25)
    np.testing.assert_array_equal(out.array("surface"), compose_surface(out.array("terrain"), out.array("building_height"), ch))
    assert len(out.trees) == 2 and set(out.trees["species"]) == {"tilia"}
    assert out.meta["provenance"][-1]["trees"] == 2
    # a crown never covers a roof
    out2 = plant_trees(t, x=[X0 + 20], y=[Y0 + 52], height=10.0, crown_diameter=8.0)
    assert (out2.array("canopy_height")[t.array("building_id") > 0] == 0).all()
    with pytest.raises(TwinValueError, match="inside the twin"):
        plant_trees(t, x=[0.0], y=[0.0], height=10, crown_diameter=5)


def test_street_tree_positions_are_on_sidewalks(street_twin):
    x, y = street_tree_positions(street_twin, spacing=8.0, road_names=["Rue du Midi"])
    # 20 m street, 14 m carriageway, 3 m sidewalks: trees 1 m behind the kerb, 8 m from the centre line
    assert set(np.round(np.abs(y - (Y0 + 40)), 3)) == {8.0}
    assert len(x) >= 12
    assert (np.diff(np.sort(x[y > Y0 + 40])) >= 4.0).all()
    with pytest.raises(TwinValueError, match="no road matches"):
        street_tree_positions(street_twin, spacing=8.0, road_kinds=["motorway"])


def test_trees_cool_the_street_at_the_hottest_hour(street_twin, day_2003):
    x, y = street_tree_positions(street_twin, spacing=8.0, road_names=["Rue du Midi"])
    treed = plant_trees(street_twin, x=x, y=y, height=10.0, crown_diameter=7.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = HeatModel(street_twin, parameters={"n_azimuths": 32}).run(day_2003, keep_hours=(15,))
        trees = HeatModel(treed, parameters={"n_azimuths": 32}).run(day_2003, keep_hours=(15,))
    under = treed.array("canopy_height") > 0
    h15 = next(iter(base.hourly))
    d = trees.hourly[h15]["utci"] - base.hourly[h15]["utci"]
    # under the new crowns, where the sun shone at 15:00, UTCI drops by several degrees (sun to shade:
    # SOLWEIG-type studies report 5-15 K); where the buildings already shaded, the change is small
    was_sunny = base.hourly[h15]["tmrt"] > base.series.loc[h15, "air_temperature"] + 15
    assert (under & was_sunny).sum() > 50
    assert np.nanmean(d[under & was_sunny]) < -4.0
    assert np.nanmean(d[under & ~was_sunny]) > -2.0
    assert np.nanmax(d[under]) < 0.5
    assert (trees["shade_hours"][under] >= base["shade_hours"][under] - 1e-6).all()
    assert np.nanmean(trees["shade_hours"][under]) > np.nanmean(base["shade_hours"][under]) + 3.0
    assert np.nanmean(trees["tmrt_max"][under]) < np.nanmean(base["tmrt_max"][under]) - 10
    # nothing changes far from the trees, in the shaded lane at night... and the sky view shrinks under crowns
    assert (trees["svf_veg"][under] < base["svf_veg"][under]).all()


def test_cool_roofs_and_pavements(street_twin, day_2003):
    roofs = cool_surfaces(street_twin, albedo=0.7, landcover=["building"])
    a = roofs.array("albedo")
    bid = street_twin.array("building_id")
    assert (a[bid > 0] == pytest.approx(0.7)) and (a[bid == 0] < 0.3).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = HeatModel(street_twin, parameters={"n_azimuths": 16}).run(day_2003)
        cool = HeatModel(roofs, parameters={"n_azimuths": 16}).run(day_2003)
        pave = cool_surfaces(street_twin, albedo=0.45, landcover=["road"])
        bright = HeatModel(pave, parameters={"n_azimuths": 16}).run(day_2003)
    roof_drop = np.nanmean(base["surface_temperature_max"][bid > 0]) - np.nanmean(cool["surface_temperature_max"][bid > 0])
    assert roof_drop > 8.0
    road = street_twin.array("landcover") == Landcover.ROAD
    # a bright pavement is cooler, but reflects more sun onto people: higher Tmrt in the sun (physics.md warns)
    assert np.nanmean(bright["surface_temperature_max"][road]) < np.nanmean(base["surface_temperature_max"][road]) - 5
    assert np.nanmean(bright["tmrt_max"][road]) > np.nanmean(base["tmrt_max"][road])
    with pytest.raises(TwinValueError, match="albedo"):
        cool_surfaces(street_twin, albedo=1.2, landcover=["road"])
    with pytest.raises(TwinValueError, match="no cell matches"):
        cool_surfaces(street_twin, albedo=0.5, landcover=["water"])


def test_greening_and_shade(street_twin):
    g = greening(street_twin, polygons=[box(X0, Y0 + 30, X0 + 80, Y0 + 50)], landcover_from=["road"])
    lc = g.array("landcover")
    assert (lc == Landcover.GRASS).sum() > 0 and (lc[street_twin.array("building_id") > 0] == Landcover.BUILDING).all()
    s = shade_structures(street_twin, polygons=[box(X0 + 10, Y0 + 35, X0 + 20, Y0 + 45)], height=4.0)
    assert (s.array("canopy_height") == 4.0).sum() == 100
    with pytest.raises(TwinValueError, match="no open cell"):
        shade_structures(street_twin, polygons=[box(X0 + 6, Y0 + 60, X0 + 20, Y0 + 70)])
