"""Scenario kind ``energy``: parsing, interventions on a copy, baseline versus retrofit, pictures."""

from __future__ import annotations

import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from scenarios.kinds import get_kind
from twin import Grid, Twin
from twin.errors import TwinFileNotFoundError, TwinValueError
from twin.rasterize import compose_surface, rasterize_buildings

LIBRARY = Path(__file__).resolve().parents[2] / "scenarios" / "library" / "renovate_public_pre1975.toml"


def small_town() -> Twin:
    """Terraced houses, a 1960s school, an 1868 town hall, a new house, a shed; surface layers included."""
    t = Twin.empty(Grid.from_bounds(842000, 6519000, 842200, 6519200, cell_size=1.0), terrain=170.0)
    x0, y0 = 842000, 6519000
    boxes = [(20, 20, 28, 32), (28, 20, 36, 32), (36, 20, 44, 32),        # terrace, 1900
             (80, 20, 120, 50),                                            # school, 1962, 2 floors
             (20, 100, 50, 120),                                           # town hall, 1868
             (140, 140, 152, 150),                                         # house, 2016
             (152, 140, 156, 146)]                                         # its shed
    gdf = gpd.GeoDataFrame({
        "id": np.arange(1, 8),
        "height": [9.0, 9.0, 9.0, 7.0, 12.0, 6.0, 2.5],
        "floors": [3, 3, 3, 2, 3, 2, 1],
        "use": ["housing", "housing", "housing", "school", "town_hall", "housing", "annex"],
        "year": [1900, 1900, 1900, 1962, 1868, 2016, 2016],
        "dwellings": [2, 2, 2, 0, 0, 1, 0],
    }, geometry=[shapely.box(x0 + a, y0 + b, x0 + c, y0 + d) for a, b, c, d in boxes], crs="EPSG:2154")
    t.set_table("buildings", gdf)
    ids, bh = rasterize_buildings(t.grid, t.buildings)
    t.set_layer("building_id", ids)
    t.set_layer("building_height", bh)
    t.set_layer("surface", compose_surface(t.array("terrain"), bh, t.array("canopy_height")))
    return t


def scenario(**over) -> dict:
    d = tomllib.loads(LIBRARY.read_text())
    for k, v in over.items():
        d[k] = v
    return d


def test_library_scenario_parses():
    kind = get_kind("energy")
    cfg = kind.parse(scenario(), base_dir=LIBRARY.parent)
    assert cfg.forcing == {"weather": "typical", "site": "lyon", "seed": 0}
    assert cfg.parameters.label_year == 2026
    assert cfg.interventions[0]["where"] == "public and year < 1975"
    w = cfg.weather()
    assert len(w) == 8760 and w.attrs["latitude"] == pytest.approx(45.726)


@pytest.mark.parametrize("section, value, message", [
    ("forcing", {"weather": "typical", "site": "atlantis"}, "forcing.site"),
    ("forcing", {"weather": "missing.epw"}, "not found"),
    ("forcing", {"weather": "typical", "start": "13-45"}, "forcing.start"),
    ("forcing", {"rain": "60 mm/h"}, "unknown key 'rain'"),
    ("parameters", {"coupling": "magic"}, "coupling"),
    ("parameters", {"prices": {"gas": "0.1 EUR"}}, "parameters.prices.gas"),
    ("parameters", {"costs": {"walls": -3}}, "parameters.costs.walls"),
    ("parameters", {"costs": {"wall": 3}}, "unknown measure 'wall'"),
    ("parameters", {"building_data": "nope.csv"}, "not found"),
    ("interventions", [{"type": "retrofit", "measures": ["walls"], "where": "colour == red"}], "unknown column"),
    ("interventions", [{"type": "retrofit", "measures": ["walls"], "where": "all", "buildings": [1]}], "either"),
    ("interventions", [{"type": "retrofit", "measures": ["cladding"], "where": "all"}], "unknown 'cladding'"),
    ("interventions", [{"type": "dike", "measures": ["walls"], "where": "all"}], "retrofit"),
])
def test_bad_scenarios_are_refused(section, value, message, tmp_path):
    kind = get_kind("energy")
    with pytest.raises((TwinValueError, TwinFileNotFoundError), match=message):
        kind.parse(scenario(**{section: value}), base_dir=tmp_path)


def test_baseline_versus_retrofit():
    kind = get_kind("energy")
    sc = scenario(parameters={"label_year": 2026, "shading": False})
    cfg = kind.parse(sc, base_dir=LIBRARY.parent)
    base_cfg = kind.parse({**sc, "interventions": []}, base_dir=LIBRARY.parent)
    town = small_town()
    before_table = town.buildings.copy()
    retro = kind.apply_interventions(town, cfg)
    assert town.buildings.equals(before_table)                       # the baseline twin is untouched
    chosen = retro.buildings.set_index("id")["retrofit_measures"]
    assert chosen[chosen != ""].index.tolist() == [4, 5]             # the 1962 school, the 1868 town hall
    base = kind.simulate(town, base_cfg)
    scen = kind.simulate(retro, cfg)
    b, s = base.buildings, scen.buildings
    # buildings nobody touched give the same numbers
    same = [1, 2, 3, 6]
    np.testing.assert_allclose(s.loc[same, "final_energy"], b.loc[same, "final_energy"], rtol=1e-12)
    assert np.isnan(b.loc[7, "final_energy"])                        # the shed is not heated
    for i in (4, 5):
        assert s.loc[i, "final_energy"] < 0.5 * b.loc[i, "final_energy"]
        assert "ABCDEFG".index(s.loc[i, "dpe_class"]) < "ABCDEFG".index(b.loc[i, "dpe_class"])
        assert s.loc[i, "savings_kwh"] == pytest.approx(b.loc[i, "final_energy"] - s.loc[i, "final_energy"])
        assert s.loc[i, "investment"] > 0 and 0 < s.loc[i, "payback_years"] < 200
    # the school is under the décret tertiaire: the reference stays the state before retrofit
    assert s.loc[4, "tertiary_subject"] and s.loc[4, "dt_reference"] == pytest.approx(b.loc[4, "final_energy"])
    assert s.loc[4, "dt_gap_2030"] < 0 < b.loc[4, "dt_gap_2030"]
    ind = {i.name: i for i in scen.indicators}
    ind0 = {i.name: i for i in base.indicators}
    assert ind["investment"].value == pytest.approx(s["investment"].sum()) and ind0["investment"].value == 0
    assert ind["public_final_energy"].value < ind0["public_final_energy"].value
    assert ind["simple_payback"].value == pytest.approx(ind["investment"].value / ind["annual_savings"].value)
    assert ind["tertiary_gap_2030"].value < ind0["tertiary_gap_2030"].value
    assert ind0["buildings_f_or_g"].value >= ind["buildings_f_or_g"].value
    assert set(scen.layers) == {"energy_ep_m2", "energy_heating_need_m2"}
    assert scen.tables["energy_monthly"]["heating_need_kwh"].sum() == pytest.approx(s["heating_need"].sum())
    assert len(scen.tables["energy_hourly"]) == 8760 and len(scen.tables["energy_monthly_buildings"]) == 7
    import json

    json.dumps(scen.meta)      # JSON-ready
    assert scen.layers["energy_ep_m2"].attrs["units"] == "kWh m-2 yr-1"
    bid = town.array("building_id")
    assert np.nanmax(scen.layers["energy_ep_m2"].values[bid == 4]) == pytest.approx(s.loc[4, "ep_m2"], rel=1e-6)


def test_buildings_by_id_and_a_heatwave_period():
    kind = get_kind("energy")
    sc = scenario(forcing={"weather": "typical", "site": "lyon", "start": "07-10", "end": "07-20"},
                  parameters={"shading": True},
                  interventions=[{"type": "retrofit", "measures": ["roof"], "buildings": [6, 7]}])
    cfg = kind.parse(sc, base_dir=LIBRARY.parent)
    town = small_town()
    retro = kind.apply_interventions(town, cfg)
    m = retro.buildings.set_index("id")["retrofit_measures"]
    assert m.loc[6] == "roof" and m.loc[7] == ""                     # the shed is not heated: nothing to do
    res = kind.simulate(retro, cfg)
    assert res.meta["weather"]["hours"] == 11 * 24
    assert res.meta["model"]["shading"]["enabled"]
    assert res.buildings["overheating_hours"].notna().sum() == 6
    with pytest.raises(TwinValueError, match="no building 99"):
        kind.apply_interventions(town, kind.parse(scenario(interventions=[
            {"type": "retrofit", "measures": ["roof"], "buildings": [99]}]), base_dir=LIBRARY.parent))


@pytest.mark.render
def test_render_classes(tmp_path):
    from PIL import Image

    kind = get_kind("energy")
    sc = scenario(parameters={"shading": False})
    cfg = kind.parse(sc, base_dir=LIBRARY.parent)
    town = small_town()
    retro = kind.apply_interventions(town, cfg)
    base = kind.simulate(town, kind.parse({**sc, "interventions": []}, base_dir=LIBRARY.parent))
    res = kind.simulate(retro, cfg)
    paths = kind.render(retro, res, tmp_path, baseline=base, baseline_twin=town, size=(800, 500), title="test")
    assert [p.name for p in paths] == ["energy_classes.png", "energy_classes_before_after.png"]
    im = np.asarray(Image.open(paths[0]).convert("RGB")).astype(int)
    assert im.shape == (500, 800, 3)
    with Image.open(paths[1]) as pair:
        assert pair.size[0] == 2 * 800 and pair.size[1] == 500
    # the retrofitted school and town hall are drawn in their class colours (roofs in the map view)
    from twin.render import DPE_CLASSES

    present = set(res.buildings["dpe_class"]) - {""}
    for letter in present:
        rgb = np.array([int(DPE_CLASSES.colors["ABCDEFG".index(letter)][i:i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(im - rgb).sum(axis=2) < 60).sum() > 300, letter   # more than a legend swatch


def test_ready_scenario_on_the_small_demo_town(demo_town_small):
    """The library scenario on the 300 m demo town: the pre-1975 public buildings, and only they, change."""
    kind = get_kind("energy")
    sc = scenario()
    cfg = kind.parse(sc, base_dir=LIBRARY.parent)
    base_cfg = kind.parse({**sc, "interventions": []}, base_dir=LIBRARY.parent)
    town = demo_town_small.copy()
    retro = kind.apply_interventions(town, cfg)
    b = town.buildings.set_index("id")
    chosen = retro.buildings.set_index("id")["retrofit_measures"] != ""
    public = b["use"].isin(["school", "town_hall", "care_home", "sports", "culture"])
    assert chosen.sum() >= 2
    assert (public & (b["year"] < 1975) & (b["use"] != "annex"))[chosen].all()
    assert chosen.loc[1] and chosen.loc[4]                   # the Mairie (1868) and the school
    base = kind.simulate(town, base_cfg)
    res = kind.simulate(retro, cfg)
    assert res.meta["model"]["shading"]["enabled"] and res.meta["model"]["shading"]["trees"]
    ind = {i.name: i.value for i in res.indicators}
    ind0 = {i.name: i.value for i in base.indicators}
    assert ind["public_final_energy"] < 0.8 * ind0["public_final_energy"]
    assert ind["investment"] > 0 and 5 < ind["simple_payback"] < 60
    others = ~chosen
    np.testing.assert_allclose(res.buildings.loc[others[others].index, "final_energy"],
                               base.buildings.loc[others[others].index, "final_energy"], rtol=1e-12)
    # terraced centre: party walls found
    assert res.meta["report"]["geometry"]["buildings_with_party_walls"] > 20


def test_epw_weather_file(shared_data, tmp_path):
    """A real EPW through importers.weather (a typical year whose first row is in a leap year)."""
    kind = get_kind("energy")
    epw = shared_data / "weather" / "FRA_AR_Lyon-Bron.AP.074800_TMYx.2004-2018.epw"
    cfg = kind.parse(scenario(forcing={"weather": str(epw), "start": "01-10", "end": "01-16"},
                              parameters={"shading": False}, interventions=[]), base_dir=tmp_path)
    w = cfg.weather()
    assert len(w) == 7 * 24 and w.index[0].month == 1
    res = kind.simulate(small_town(), cfg)
    assert res.indicator("heating_need").value > 0


def test_heatwave_days_overheat_more():
    kind = get_kind("energy")
    cfg = kind.parse(scenario(forcing={"weather": "heatwave", "preset": "2003", "days": 4},
                              parameters={"shading": False}, interventions=[]), base_dir=LIBRARY.parent)
    w = cfg.weather()
    assert len(w) == 4 * 24 and w["air_temperature"].max() == pytest.approx(39.5, abs=0.5)
    res = kind.simulate(small_town(), cfg)
    hot = res.buildings["overheating_hours"]
    assert (hot.loc[[1, 2, 3, 5, 6]] > 40).all()  # the occupied buildings overheat in a 2003-like heatwave
    assert hot.loc[4] == 0                        # the school is closed in August: no one to overheat
    assert res.indicator("heating_need").value == 0.0
    with pytest.raises(TwinValueError, match="forcing.preset"):
        kind.parse(scenario(forcing={"weather": "heatwave", "preset": "1976"}), base_dir=LIBRARY.parent)
