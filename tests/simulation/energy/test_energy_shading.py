"""Facade and roof shading through the shared shadow engine, on hand-made streets."""

from __future__ import annotations

import numpy as np
import pytest
from energy_helpers import box_twin, with_surface

from simulation.energy.model import EnergyModel, EnergyParameters

S = 4  # the south bin of 8


def _run(twin, weather, **kw):
    p = EnergyParameters(**kw)
    m = EnergyModel(twin, weather=weather, parameters=p)
    return m, m.run()


def test_lone_building_shaded_equals_unshaded(lyon_weather):
    w = lyon_weather.iloc[:24 * 60]
    twin = with_surface(box_twin([(90, 90, 100, 110)], size=200.0))
    m, shaded = _run(twin, w)
    _, open_ = _run(twin, w, shading=False)
    assert shaded.meta["shading"]["enabled"] and shaded.meta["shading"]["facade_points"] > 0
    sh = m._last_solar
    assert sh["plane_beam"].min() == 1.0
    np.testing.assert_allclose(shaded.buildings["heating_need"], open_.buildings["heating_need"], rtol=1e-12)
    np.testing.assert_allclose(shaded.buildings["pv_potential"], open_.buildings["pv_potential"], rtol=1e-6)


def test_wall_to_the_south_shades_by_the_sun_altitude(lyon_weather):
    # a 6 m house (points at 1.5 and 4.5 m) 20 m north of a 20 m high, 120 m long block
    twin = with_surface(box_twin([(90, 100, 110, 110), (40, 60, 160, 80)], heights=[6.0, 20.0], floors=[2, 6],
                                 size=200.0))
    from simulation.energy.shading import shading_factors
    from simulation.energy.solar import sky_directions
    from simulation.energy.weather import prepare_forcing

    m = EnergyModel(twin, weather=lyon_weather)
    f = prepare_forcing(lyon_weather)
    sky = sky_directions()
    cell = sky.index(f.sun_azimuth, f.sun_altitude)
    sh = shading_factors(twin, m_geometry(m), sky, cell, sun_azimuth=f.sun_azimuth, sun_altitude=f.sun_altitude,
                         active=np.array([True, False]))
    south = np.abs(((sh.azimuth - 180.0) + 180) % 360 - 180) < 8
    d = 20.0 - 0.6                                   # from the points (0.6 m off the wall) to the block
    seen = set()
    for az, alt, v in zip(sh.azimuth[south], sh.altitude[south], sh.facade_beam[0, south, S]):
        t = np.tan(np.radians(alt)) * d / np.cos(np.radians(az - 180.0))
        expected = 0.5 * (int(t > 20 - 1.5) + int(t > 20 - 4.5))
        if abs(t - 18.5) > 0.3 and abs(t - 15.5) > 0.3:   # away from the edges (sampling of the ray)
            assert v == pytest.approx(expected, abs=1e-6), (az, alt)
            seen.add(expected)
    assert {0.0, 1.0} <= seen
    # the diffuse sky of the south facade is cut, the north one is open
    assert sh.facade_sky[0, S] < 0.85 and sh.facade_sky[0, 0] == pytest.approx(1.0)
    _, shaded = _run(twin, lyon_weather)
    _, open_ = _run(twin, lyon_weather, shading=False)
    assert shaded.buildings.loc[1, "heating_need"] > 1.03 * open_.buildings.loc[1, "heating_need"]
    assert shaded.buildings.loc[1, "pv_potential"] < open_.buildings.loc[1, "pv_potential"]


def test_tree_crown_lets_its_transmissivity_through(lyon_weather):
    w = lyon_weather.iloc[4000:4000 + 24 * 10]
    base = box_twin([(90, 100, 110, 110)], size=200.0)
    tree = with_surface(base.copy(), trees=[(100.0, 94.0, 12.0, 8.0)])   # a 12 m tree 6 m south of the house
    from simulation.energy.shading import shading_factors
    from simulation.energy.solar import sky_directions
    from simulation.energy.weather import prepare_forcing

    f = prepare_forcing(w)
    sky = sky_directions()
    cell = sky.index(f.sun_azimuth, f.sun_altitude)
    for t in (0.03, 0.5):
        sh = shading_factors(tree, m_geometry(EnergyModel(tree, weather=w)), sky, cell, sun_azimuth=f.sun_azimuth,
                             sun_altitude=f.sun_altitude, active=np.array([True]), transmissivity=t)
        v = sh.facade_beam[0, :, S]
        south = np.abs(((sh.azimuth - 180.0) + 180) % 360 - 180) < 20
        assert v[south].min() < 1.0
        # shaded points keep t of the beam: every point value is a mean of 1, t (and t^2 never: one crown)
        assert np.all(v[south] >= t - 1e-6)


def m_geometry(model):
    """The geometry the model builds (the same call as in run)."""
    from simulation.energy.archetypes import resolve_buildings
    from simulation.energy.geometry import building_geometry

    p = model.parameters
    params = resolve_buildings(model.twin.buildings, archetypes=model.archetypes).params
    return building_geometry(model.twin.buildings, storey_height=params["storey_height"].to_numpy(float),
                             conditioned=params["conditioned"].to_numpy(bool), roof_type=params["roof_type"].to_numpy(),
                             roof_pitch=params["roof_pitch"].to_numpy(float), n_orientations=p.n_orientations)


def test_chunks_of_points_give_the_same_factors(lyon_weather):
    w = lyon_weather.iloc[:24 * 40]
    twin = with_surface(box_twin([(90, 100, 110, 110), (40, 60, 160, 80), (20, 120, 30, 140)], heights=[6.0, 20.0, 9.0],
                                 floors=[2, 6, 3], size=200.0), trees=[(60.0, 100.0, 10.0, 6.0)])
    from simulation.energy.shading import shading_factors
    from simulation.energy.solar import sky_directions
    from simulation.energy.weather import prepare_forcing

    f = prepare_forcing(w)
    sky = sky_directions()
    cell = sky.index(f.sun_azimuth, f.sun_altitude)
    g = m_geometry(EnergyModel(twin, weather=w))
    kw = dict(sun_azimuth=f.sun_azimuth, sun_altitude=f.sun_altitude, active=np.ones(3, bool))
    one = shading_factors(twin, g, sky, cell, **kw)
    many = shading_factors(twin, g, sky, cell, max_points=7, **kw)   # chunk edges inside facades and at the roofs
    for name in ("facade_beam", "facade_sky", "roof_beam", "roof_sky", "plane_beam", "plane_sky"):
        np.testing.assert_allclose(getattr(many, name), getattr(one, name), rtol=1e-6, atol=1e-6, err_msg=name)
    assert one.meta["facade_points"] > 7 and one.facade_beam.min() < 1.0
