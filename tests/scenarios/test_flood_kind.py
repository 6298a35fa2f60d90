"""The flood scenario kind on the small demo town: parse, interventions, simulate, indicators, bad input."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from scenarios.kinds import get_kind
from twin.errors import TwinValueError

LIBRARY = Path(__file__).resolve().parents[2] / "scenarios" / "library"


def parse(text: str):
    return get_kind("flood").parse(tomllib.loads(text), base_dir=Path("."))


def river_line(town):
    """A line along the west bank of the small town's river, 6 m west of the water."""
    wl = np.isfinite(town.array("water_level"))
    g = town.grid
    pts = []
    for r in range(0, g.nrows, 10):
        cols = np.flatnonzero(wl[r])
        if cols.size:
            x, y = g.xy(r, cols.min())
            pts.append([float(x) - 6.0, float(y)])
    return pts


def test_library_scenarios_parse():
    kind = get_kind("flood")
    for name in ("thunderstorm", "river_rise", "sea_level_1m"):
        sc = tomllib.loads((LIBRARY / f"{name}.toml").read_text())
        assert sc["kind"] == "flood"
        cfg = kind.parse(sc, base_dir=LIBRARY)
        assert cfg.duration > 0 and cfg.interventions and cfg.cell_size == 2.0


def test_river_rise_and_dike_on_the_small_demo_town(demo_town_small):
    town = demo_town_small
    line = river_line(town)
    cfg = parse(f"""
        [forcing]
        duration = "40min"
        river_rise = [["0min", "0 m"], ["20min", "2.5 m"], ["40min", "2.5 m"]]
        [parameters]
        cell_size = "3 m"
        [[interventions]]
        type = "dike"
        line = {line}
        crest = "170 m"
        width = "4 m"
        [outputs]
        snapshot_interval = "10min"
    """)
    kind = get_kind("flood")
    base = kind.simulate(town, cfg)
    dike_town = kind.apply_interventions(town, cfg)
    assert not np.array_equal(dike_town.array("terrain"), town.array("terrain"))
    assert np.array_equal(town.array("terrain"), demo_town_small.array("terrain"))  # the original is untouched
    dike = kind.simulate(dike_town, cfg)
    for r in (base, dike):
        assert set(r.layers) == {"max_depth", "max_speed", "hazard", "arrival_time"}
        assert r.layers["max_depth"].attrs["units"] == "m" and r.layers["arrival_time"].attrs["units"] == "s"
        assert r.layers["max_depth"].shape == town.grid.shape
        assert r.meta["volume_error"] < 1e-6
        assert r.meta["model_cell_size_m"] == 3.0
        assert set(r.buildings.index) == set(town.buildings["id"])
        assert len(r.frames) == 5
        names = {i.name for i in r.indicators}
        assert {"buildings_flooded", "vulnerable_sites_flooded", "residents_affected", "flooded_road_length",
                "max_depth", "flooded_area", "volume_error", "wall_time"} <= names
        for i in r.indicators:
            assert i.label["en"] and i.label["fr"] and i.unit
    flooded = base.indicator("buildings_flooded").value
    assert flooded > 0  # the west floodplain floods without the dike
    west = base.buildings["edge_max_depth"]
    assert dike.indicator("flooded_area").value < base.indicator("flooded_area").value
    assert dike.indicator("buildings_flooded").value <= flooded
    assert (dike.buildings["edge_max_depth"] <= west + 1e-6).mean() > 0.95


def test_thunderstorm_static_and_dynamic(demo_town_small):
    cfg = parse("""
        [forcing]
        duration = "15min"
        rain = "80 mm/h"
        rain_duration = "10min"
        mode = "both"
        static_rise = "1 m"
        [parameters]
        cell_size = "3 m"
        drainage = "10 mm/h"
    """)
    assert cfg.permanent_water == "held" and cfg.defaults["permanent_water"] == "held"
    r = get_kind("flood").simulate(demo_town_small, cfg)
    assert "bathtub_depth" in r.layers and r.layers["bathtub_depth"].values.max() > 0.5
    led = r.meta["ledger_m3"]
    assert led["drainage"] > 0 and led["held_cells"] < 0  # the held river took runoff
    assert r.meta["volume_error"] < 1e-6


@pytest.mark.parametrize("text, message", [
    ("[forcing]\nrain = \"60 mm/h\"", r"\[forcing\] duration is missing"),
    ("[forcing]\nduration = \"1h\"\nrain = \"60\"", r"invalid \[forcing\] rain: '60' \(write the value with its unit"),
    ("[forcing]\nduration = \"1h\"\nrain = \"60 m3/s\"", r"unit 'm3/s' is not a rain rate"),
    ("[forcing]\nduration = \"1h\"\nflood = 1", r"\[forcing\] unknown key 'flood'"),
    ("[forcing]\nduration = \"1h\"", r"nothing drives the flood"),
    ("[forcing]\nduration = \"1h\"\nrain = \"60 mm/h\"\n[[interventions]]\ntype = \"wall\"",
     r"type 'wall' is not a flood intervention"),
    ("[forcing]\nduration = \"1h\"\nrain = \"60 mm/h\"\n[[interventions]]\ntype = \"dike\"\nline = [[0, 0], [1, 1]]",
     r"give either crest"),
    ("[forcing]\nduration = \"1h\"\nriver_rise = [[\"0min\", \"0 m\"], [\"30min\", \"1 m\"]]\npermanent_water = \"held\"",
     r"contradicts river_rise"),
    ("[forcing]\nduration = \"1h\"\nrain_series = [[\"0min\", \"-5 mm/h\"], [\"30min\", \"0 mm/h\"]]",
     r"value -5 mm h-1 at 0 s is negative"),
])
def test_bad_scenarios(text, message):
    with pytest.raises(TwinValueError, match=message):
        parse(text)


def test_river_rise_must_cover_the_run(demo_town_small):
    cfg = parse("""
        [forcing]
        duration = "1h"
        river_rise = [["0min", "0 m"], ["30min", "1 m"]]
    """)
    with pytest.raises(TwinValueError, match=r"river_rise covers 0..1800 s but the run lasts 0..3600 s"):
        get_kind("flood").simulate(demo_town_small, cfg)


def test_interventions_by_road_and_building_names(demo_town_small):
    kind = get_kind("flood")
    cfg = parse("""
        [forcing]
        duration = "10min"
        rain = "60 mm/h"
        [parameters]
        cell_size = "3 m"
        [[interventions]]
        type = "dike"
        road = "Chemin de halage"
        height = "2 m"
        [[interventions]]
        type = "drainage"
        capacity = "50 mm/h"
        around = "École Jean Moulin"
        radius = "40 m"
        [outputs]
        gauges = { school = "École Jean Moulin" }
    """)
    town = kind.apply_interventions(demo_town_small, cfg)
    raised = town.array("terrain") - demo_town_small.array("terrain")
    assert raised.max() == pytest.approx(2.0) and (raised > 0).sum() > 100
    dc = town.array("drainage_capacity")
    school = demo_town_small.buildings.set_index("name").loc["École Jean Moulin"].geometry.centroid
    r, c = town.grid.rowcol(school.x, school.y)
    near = dc[max(0, r - 40):r + 40, max(0, c - 40):c + 40]
    assert np.nanmax(near) == 50.0 and np.isnan(dc).sum() > 0.9 * dc.size
    res = kind.simulate(town, cfg)
    assert "school" in res.meta["gauges"]
    bad = parse("""
        [forcing]
        duration = "10min"
        rain = "60 mm/h"
        [[interventions]]
        type = "dike"
        road = "Rue de Nulle Part"
        height = "1 m"
    """)
    with pytest.raises(TwinValueError, match=r"the twin has no road named 'Rue de Nulle Part'"):
        kind.apply_interventions(demo_town_small, bad)


def test_water_rise_raises_the_river_not_the_pond(demo_town_small):
    cfg = parse("""
        [forcing]
        duration = "1h"
        water_rise = [["0min", "0 m"], ["30min", "1 m"], ["1h", "1 m"]]
    """)
    f = get_kind("flood").forcing(demo_town_small, cfg)
    rising, still = f.levels
    wl = np.isfinite(demo_town_small.array("water_level"))
    pond = demo_town_small.meta["demo"]["pond"]["center"]
    r, c = demo_town_small.grid.rowcol(*pond)
    assert rising.level.at(3600) == 1.0 and still.level.at(3600) == 0.0
    assert not rising.cells[r, c] and still.cells[r, c]
    assert (rising.cells | still.cells).sum() == wl.sum() and rising.cells[0].any()  # the river crosses the north edge
