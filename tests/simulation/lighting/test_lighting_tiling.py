"""The lighting model tile by tile: with halo >= cutoff the raster is the whole-grid one to float32 rounding."""

from __future__ import annotations

import numpy as np
import pytest
from lighting_scenes import make_street

from simulation.lighting.model import LightingModel
from twin.errors import TwinValueError

F32 = float(np.finfo(np.float32).eps)


@pytest.fixture(scope="module")
def runs():
    twin = make_street(length=200.0, spacing=20.0, buildings=True, trees=True)  # 280 x 80 cells, 10 luminaires
    whole = LightingModel(twin, facades=False).run()
    tiled = LightingModel(twin, facades=False, tile_size=50.0, scheduler="threads").run()
    return twin, whole, tiled


def test_halo_of_the_cutoff_gives_the_whole_grid_numbers(runs):
    twin, whole, tiled = runs
    assert tiled.meta["tiling"] == {"tile_size": 50.0, "halo": 60.0, "tiles": 12, "scheduler": "threads",
                                    "exact": True}
    assert tiled.meta["defaults_applied"]["halo"] == 60.0
    E0, E1 = whole.illuminance, tiled.illuminance
    assert E1.dtype == np.float32 and E1.shape == twin.grid.shape
    assert E0.max() > 10.0 and (E0 == 0).any()  # lit street, dark shadows behind the buildings
    # each cell sums the same luminaires, in another order: float32 rounding of at most 10 additions
    np.testing.assert_array_less(np.abs(E1 - E0), 10 * F32 * E0 + 1e-30)
    assert np.array_equal(E1 == 0, E0 == 0)
    np.testing.assert_array_equal(tiled.trame_noire, whole.trame_noire)
    np.testing.assert_allclose(tiled.en13201_deficit, whole.en13201_deficit, rtol=1e-5, atol=1e-5, equal_nan=True)
    assert tiled.indicators == whole.indicators


def test_a_halo_shorter_than_the_cutoff_loses_light_and_says_so(runs):
    twin, whole, _ = runs
    with pytest.warns(UserWarning, match="halo 20 m < cutoff 60 m"):
        model = LightingModel(twin, facades=False, tile_size=50.0, halo=20.0, scheduler="synchronous")
    E = model.illuminance()[0]
    assert model.tiling["exact"] is False
    lost = whole.illuminance - E
    assert lost.min() > -1e-4  # light is only ever missing, never added
    assert lost.max() > 0.1


def test_tiling_options_are_checked():
    twin = make_street(length=60.0, spacing=20.0)
    with pytest.raises(TwinValueError, match="halo and scheduler need tile_size"):
        LightingModel(twin, halo=60.0)
    with pytest.raises(TwinValueError, match="invalid tile_size"):
        LightingModel(twin, tile_size=-5.0)
    with pytest.raises(TwinValueError, match="invalid halo"):
        LightingModel(twin, tile_size=50.0, halo=-1.0)


def test_tiles_read_from_a_saved_demo_town_give_the_in_memory_raster_bit_for_bit(demo_town_small, tmp_path):
    """map_tiles on the saved twin's path (each task opens its own padded window) = on the opened twin."""
    import functools

    from simulation.lighting.model import _illuminance_tile
    from twin import Twin
    from twin.tiling import map_tiles

    path = tmp_path / "demo.twin"
    demo_town_small.save(path)
    model = LightingModel(Twin.open(path), facades=False)
    p = model.params
    func = functools.partial(_illuminance_tile, registry=model.registry, lut_size=model.lut_size,
                             maintenance_factor=p["maintenance_factor"], cutoff=p["cutoff"],
                             crown_extinction=p["crown_extinction"], crown_base_fraction=p["crown_base_fraction"])
    kw = {"tile_size": 100.0, "halo": p["cutoff"], "extras": True}
    ref, ref_n = map_tiles(model.twin, func, scheduler="threads", **kw)
    E = ref["illuminance"].values
    assert len(ref_n) == 9 and E.max() > 20.0 and 0.5 < (E > 0).mean() < 1.0  # 118 luminaires, dark yards
    got, got_n = map_tiles(str(path), func, scheduler="processes", num_workers=2, **kw)
    assert got.identical(ref)
    assert [n for _, n in got_n] == [n for _, n in ref_n]  # the same luminaire-cell pairs, tile by tile
    # and the in-memory tiles equal the whole-grid raster to float32 rounding (the rule above)
    E0 = model.illuminance()[0]
    np.testing.assert_array_less(np.abs(E - E0), 64 * F32 * E0 + 1e-30)
