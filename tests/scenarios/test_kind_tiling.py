"""Scenario files run heat and lighting tile by tile: [parameters] tile_size, halo, scheduler."""

from __future__ import annotations

import warnings

import pytest

from scenarios.kinds import get_kind
from tests.simulation.heat.synthetic import make_street_twin
from tests.simulation.lighting.lighting_scenes import make_street
from twin.errors import TwinValueError


def _indicators(result):
    return {i.name: i.value for i in result.indicators}


def test_heat_scenario_tiled_has_the_indicators_of_the_whole_grid_when_the_halo_covers_it(tmp_path):
    kind = get_kind("heat")
    scenario = {"forcing": {"preset": "2003"}, "outputs": {"hours": [15]}}
    whole_cfg = kind.parse(scenario, base_dir=tmp_path)
    tiled_cfg = kind.parse(scenario | {"parameters": {"tile_size": "40 m", "halo": "80 m", "scheduler": "threads",
                                                      "transmissivity": 0.03}}, base_dir=tmp_path)
    assert tiled_cfg.tiling == {"tile_size": 40.0, "halo": 80.0, "scheduler": "threads"}
    assert whole_cfg.tiling == {}
    twin = make_street_twin()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = kind.simulate(twin, whole_cfg)
        tiled = kind.simulate(twin, tiled_cfg)
    assert tiled.meta["tiling"]["tiles"] == 4
    assert _indicators(tiled) == _indicators(whole)
    assert (tiled.layers["utci_hottest"].values == whole.layers["utci_hottest"].values).sum() > 0


def test_lighting_scenario_tiled_has_the_indicators_of_the_whole_grid(tmp_path):
    kind = get_kind("lighting")
    whole_cfg = kind.parse({"parameters": {"facades": False}}, base_dir=tmp_path)
    tiled_cfg = kind.parse({"parameters": {"facades": False, "tile_size": "60 m"}}, base_dir=tmp_path)
    assert tiled_cfg.tiling == {"tile_size": 60.0}
    twin = make_street(length=120.0, spacing=20.0, buildings=True)
    whole = kind.simulate(twin, whole_cfg)
    tiled = kind.simulate(twin, tiled_cfg)
    assert tiled.meta["tiling"]["exact"] and tiled.meta["tiling"]["halo"] == 60.0
    assert _indicators(tiled) == _indicators(whole)


@pytest.mark.parametrize("kind_name", ["heat", "lighting"])
def test_bad_tiling_parameters_say_what_is_wrong(tmp_path, kind_name):
    kind = get_kind(kind_name)
    base = {"forcing": {"preset": "2003"}} if kind_name == "heat" else {}
    with pytest.raises(TwinValueError, match="parameters.tile_size"):
        kind.parse(base | {"parameters": {"tile_size": 500}}, base_dir=tmp_path)
    with pytest.raises(TwinValueError, match="parameters.halo needs parameters.tile_size"):
        kind.parse(base | {"parameters": {"halo": "100 m"}}, base_dir=tmp_path)
    with pytest.raises(TwinValueError, match="invalid parameters.scheduler: 'gpu'"):
        kind.parse(base | {"parameters": {"tile_size": "500 m", "scheduler": "gpu"}}, base_dir=tmp_path)
