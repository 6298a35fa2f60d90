"""The 5R1C kernel: steady state, energy balance, party walls, insulation, and a naive reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from energy_helpers import box_twin, constant_weather
from energy_naive import naive_5r1c

from simulation.energy import _kernels
from simulation.energy.model import EnergyModel, EnergyParameters, behaviour, building_network, run_kernel

COL = {name: i for i, name in enumerate(_kernels.TRACE_COLUMNS)}
RHO_C = 1200.0 / 3600.0  # W h m-3 K-1 per (m3/h): ISO 13790 rho_a c_a


def _fixed_data(ids, **over):
    d = {"building_id": ids, "internal_gains": 0.0, "heating_setpoint": 20.0, "heating_setback": 20.0,
         "cooling_setpoint": np.nan, "ventilation": 1.0, "ventilation_schedule": "continuous", "heat_recovery": 0.0,
         "u_wall": 1.0, "u_roof": 0.5, "u_floor": 0.8, "u_window": 2.5, "glazing_ratio": 0.2,
         "infiltration_ach": 0.6, "storey_height": 3.0, "thermal_mass": "medium", "profile": "continuous",
         "closed_months": ""}
    d.update(over)
    return pd.DataFrame(d)


STEADY_BOXES = [(0, 0, 10, 20), (50, 0, 60, 20), (60, 0, 70, 20)]


def _hand_ua_and_hve():
    """Sum(U A) and H_ve of the three steady-state boxes, by hand (see the box dimensions above)."""
    # detached 10 x 20 m, 6 m high, 2 floors: walls 60 m x 6 m = 360 m2, 20 % windows
    ua1 = 1.0 * 288 + 2.5 * 72 + 0.5 * 200 + 0.8 * 200
    # terrace: the 6 m house shares 20 m x 6 m with the 9 m one
    ua2 = 1.0 * (240 - 48) + 2.5 * 48 + 0.5 * 200 + 0.8 * 200
    ua3 = 1.0 * (540 - 120 - 84) + 2.5 * 84 + 0.5 * 200 + 0.8 * 200
    af = np.array([400, 400, 600]) * 0.82
    hve = RHO_C * (0.6 * af * 3.0 + 1.0 * af)
    return np.array([ua1, ua2, ua3]), hve, af


def _steady_run(coupling):
    twin = box_twin(STEADY_BOXES, heights=[6.0, 6.0, 9.0], floors=[2, 2, 3])
    params = EnergyParameters(opaque_solar=False, shading=False, warmup_hours=0, coupling=coupling)
    res = EnergyModel(twin, weather=constant_weather(24 * 60, theta_e=0.0), parameters=params,
                      building_data=_fixed_data([1, 2, 3])).run(trace=3)
    return res


def test_steady_state_is_sum_ua_plus_hve_exactly():
    ua, hve, _ = _hand_ua_and_hve()
    res = _steady_run("ua")
    np.testing.assert_allclose(res.buildings["h_transmission"].to_numpy(), ua, rtol=1e-12)
    np.testing.assert_allclose(res.buildings["h_ventilation"].to_numpy(), hve, rtol=1e-12)
    phi = res.trace[:, -1, COL["phi_hc"]]
    np.testing.assert_allclose(phi, (ua + hve) * 20.0, rtol=1e-10)
    # e.g. the detached box: (728 + 306.13) W/K x 20 K = 20,682.7 W
    assert phi[0] == pytest.approx(20682.666666666, rel=1e-9)
    # the air sits at the set-point, the mass has converged
    np.testing.assert_allclose(res.trace[:, -1, COL["theta_air"]], 20.0, atol=1e-9)
    np.testing.assert_allclose(res.trace[:, -1, COL["theta_m_t"]], res.trace[:, -1, COL["theta_m_prev"]], atol=1e-9)


def test_steady_state_iso13790_network_is_the_series_formula():
    ua, hve, af = _hand_ua_and_hve()
    res = _steady_run("iso13790")
    a_env = np.array([360 + 400, 240 + 120 + 400, 420 + 120 + 400])
    h_is = 3.45 * np.maximum(4.5 * af, a_env)
    np.testing.assert_allclose(res.trace[:, -1, COL["phi_hc"]], (hve + 1.0 / (1.0 / h_is + 1.0 / ua)) * 20.0,
                               rtol=1e-10)
    # the standard's network loses less than sum(U A): H_tr,is in series
    assert (res.trace[:, -1, COL["phi_hc"]] < (ua + hve) * 20.0 * 0.99).all()


def test_hourly_energy_balance_closes(lyon_weather):
    twin = box_twin([(0, 0, 10, 20), (10, 0, 20, 20), (40, 40, 70, 60), (100, 100, 115, 130)],
                    uses=["housing", "housing", "school", "shop"], years=[1900, 1965, 1972, 2005],
                    heights=[9.0, 6.0, 7.0, 4.0], floors=[3, 2, 2, 1])
    res = EnergyModel(twin, weather=lyon_weather, parameters=EnergyParameters(shading=False)).run(trace=4)
    rec = res.network
    tr = res.trace
    for b in range(4):
        r = rec[b]
        x = {k: tr[b, :, i] for k, i in COL.items()}
        rad = 0.5 * x["phi_int"] + x["phi_sol"]
        inputs = x["phi_hc"] + x["phi_int"] + x["phi_sol"]
        losses = (x["h_ve"] * (x["theta_air"] - x["theta_e"]) + r["h_tr_w"] * (x["theta_s"] - x["theta_e"])
                  + r["h_tr_em"] * (x["theta_m"] - x["theta_em"])
                  + r["c_m"] / 3600.0 * (x["theta_m_t"] - x["theta_m_prev"])
                  + (1.0 - r["f_m"] - r["f_st"]) * rad)   # ISO 13790 C.3: the share radiated out through windows
        scale = np.abs(inputs).max() + 1.0
        assert np.abs(inputs - losses).max() < 1e-9 * scale
    # the year's balance in kWh: heating over the year is what the model reports
    np.testing.assert_allclose(np.clip(tr[:, :, COL["phi_hc"]], 0, None).sum(axis=1) / 1000.0,
                               res.buildings["heating_need"].to_numpy()[:4], rtol=1e-12)
    assert res.buildings.loc[1, "heating_need_m2"] > res.buildings.loc[4, "heating_need_m2"]


def test_party_wall_equals_detached_copies_with_adiabatic_walls(lyon_weather):
    """A terrace and detached copies whose shared walls are declared adiabatic give the same hours."""
    p = EnergyParameters(shading=False)
    heights = [6.0, 9.0, 6.0]
    terrace = box_twin([(0, 0, 8, 12), (8, 0, 16, 12), (16, 0, 24, 12)], heights=heights, floors=[2, 3, 2],
                       years=[1900, 1900, 1900])
    detached = box_twin([(0, 0, 8, 12), (50, 0, 58, 12), (100, 0, 108, 12)], heights=heights, floors=[2, 3, 2],
                        years=[1900, 1900, 1900])
    m_t = EnergyModel(terrace, weather=lyon_weather, parameters=p)
    r_t = m_t.run(trace=3)
    m_d = EnergyModel(detached, weather=lyon_weather, parameters=p)
    r_d = m_d.run()
    g = r_d.geometry
    assert (r_d.buildings["party_area"] == 0).all()
    # declare the walls adiabatic on the copies: east (bin 2) and west (bin 6) facades, over the lower height
    g.facades[0, 2] -= 12 * 6.0
    g.facades[1, 2] -= 12 * 6.0
    g.facades[1, 6] -= 12 * 6.0
    g.facades[2, 6] -= 12 * 6.0
    g.table["party_area"] = [72.0, 144.0, 72.0]
    np.testing.assert_allclose(r_t.geometry.facades, g.facades, atol=1e-9)
    from simulation.energy.archetypes import resolve_buildings

    params = resolve_buildings(detached.buildings, archetypes=m_d.archetypes).params
    rec, ap, _, profiles, win = building_network(g, params, p)
    from simulation.energy.schedules import schedule_arrays

    occ, com = schedule_arrays(m_d.forcing.times, profiles)
    kin, _ = m_d._solar_inputs(g, rec, m_d.forcing)
    out = run_kernel(rec, ap, windows=win, occ=occ, comfort=com, trace=3, warmup=p.warmup_hours, **behaviour(p),
                     **kin)
    np.testing.assert_allclose(out["trace"][:, :, COL["phi_hc"]], r_t.trace[:, :, COL["phi_hc"]], rtol=1e-12, atol=1e-9)
    # and the terrace saves heat against the same houses without the adiabatic walls
    assert (r_t.buildings["heating_need"].to_numpy() < r_d.buildings["heating_need"].to_numpy()).all()


def test_more_insulation_never_increases_heating(lyon_weather):
    rng = np.random.default_rng(7)
    n_cases, variants = 12, ("u_wall", "u_roof", "u_floor", "u_window", "infiltration_ach")
    boxes, rows = [], []
    bid = 0
    for _c in range(n_cases):
        w, d = rng.uniform(6, 25, 2)
        base = {"u_wall": rng.uniform(0.2, 2.5), "u_roof": rng.uniform(0.1, 2.5), "u_floor": rng.uniform(0.2, 1.5),
                "u_window": rng.uniform(1.0, 5.0), "infiltration_ach": rng.uniform(0.1, 1.2),
                "glazing_ratio": rng.uniform(0.05, 0.5), "internal_gains": rng.uniform(0, 15),
                "thermal_mass": rng.choice(["light", "medium", "very_heavy"])}
        for v in ("base",) + variants:
            bid += 1
            x0 = (bid % 20) * 60.0
            y0 = (bid // 20) * 60.0
            boxes.append((x0, y0, x0 + w, y0 + d))
            row = dict(base, building_id=bid)
            if v != "base":
                row[v] = base[v] * rng.uniform(0.2, 0.95)
            rows.append(row)
    n = len(boxes)
    twin = box_twin(boxes, heights=list(rng.uniform(3, 15, n).round(1).repeat(1)), floors=[0] * n,
                    uses=["housing"] * n, size=1500.0)
    # same height within a case
    h = twin.buildings["height"].to_numpy().reshape(n_cases, -1)
    twin.buildings["height"] = np.repeat(h[:, :1], h.shape[1], axis=1).ravel()
    res = EnergyModel(twin, weather=lyon_weather, parameters=EnergyParameters(shading=False),
                      building_data=pd.DataFrame(rows)).run()
    need = res.buildings["heating_need"].to_numpy().reshape(n_cases, -1)
    assert (need[:, 1:] <= need[:, :1] * (1 + 1e-12)).all()
    assert (need[:, 1:] < need[:, :1]).sum() >= n_cases * 4   # and it does reduce it


def test_kernel_matches_naive_reference(lyon_weather):
    """Every path: sun and shading, cooling, capacity limits, closed months, occupancy ventilation, warm-up."""
    w = lyon_weather.iloc[4000:4000 + 24 * 20]   # June: heating nights, cooling days
    twin = box_twin([(0, 0, 10, 20), (10, 0, 20, 20), (40, 40, 70, 60), (100, 100, 115, 130), (150, 10, 170, 30)],
                    uses=["housing", "office", "school", "shop", "care_home"], years=[1900, 1965, 1972, 2005, 2015],
                    heights=[9.0, 6.0, 7.0, 4.0, 6.0], floors=[3, 2, 2, 1, 2])
    data = pd.DataFrame({"building_id": [2, 3, 5], "closed_months": ["", "6", ""], "cooling_setpoint": [24.0, np.nan, 23.0],
                         "heat_recovery": [0.6, 0.0, 0.0]})
    p = EnergyParameters(shading=False, warmup_hours=48, heating_capacity=6.0)
    m = EnergyModel(twin, weather=w, parameters=p, building_data=data)
    res = m.run()
    from simulation.energy.archetypes import resolve_buildings
    from simulation.energy.schedules import schedule_arrays

    params = resolve_buildings(twin.buildings, archetypes=m.archetypes, building_data=data).params
    rec, ap, _, profiles, win = building_network(res.geometry, params, p)
    occ, com = schedule_arrays(m.forcing.times, profiles)
    kin, _ = m._solar_inputs(res.geometry, rec, m.forcing)
    rng = np.random.default_rng(3)
    n_dir = 12
    kin["shade"] = rng.uniform(0, 1, (len(rec), n_dir, ap.shape[1])).astype(np.float32)
    kin["sky"] = rng.uniform(0.3, 1, (len(rec), ap.shape[1])).astype(np.float32)
    kin["shade_roof"] = rng.uniform(0, 1, (len(rec), n_dir)).astype(np.float32)
    kin["sky_roof"] = rng.uniform(0.5, 1, len(rec)).astype(np.float32)
    kin["hours"]["sun"] = np.where(kin["hours"]["sun"] >= 0, rng.integers(0, n_dir, len(w)), -1)
    thresholds = dict(overheat_threshold=26.0, window_open_above=24.5, blinds_above=22.5, blinds_irradiance=250.0)
    out = run_kernel(rec, ap, windows=win, occ=occ, comfort=com, trace=len(rec), warmup=48, **thresholds, **kin)
    monthly, peak, overheat, phis = naive_5r1c(rec, kin["hours"], kin["beam"], kin["diffuse"], ap, win, kin["shade"],
                                               kin["sky"], kin["shade_roof"], kin["sky_roof"], occ, com, warmup=48,
                                               **thresholds)
    np.testing.assert_allclose(out["trace"][:, :, COL["phi_hc"]], phis, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(out["monthly"], monthly, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(out["peak"], peak, rtol=1e-9, atol=1e-6)
    np.testing.assert_array_equal(out["overheat"], overheat)
    # the paths were exercised
    assert (phis > 0).any() and (phis < 0).any()
    assert np.isclose(phis, 6.0 * rec["floor_area"][:, None], rtol=1e-12).any()   # the capacity limit
    # windows were opened in some hours (the trace's h_ve above infiltration + ventilation)
    h_ve = out["trace"][:, :, COL["h_ve"]]
    assert (h_ve > (rec["h_inf"] + rec["h_mech"])[:, None] + 1e-9).any()
    # the district hourly totals are the sum of the buildings
    np.testing.assert_allclose(out["hourly"][:, :, 0].sum(axis=0), np.clip(phis, 0, None).sum(axis=0), rtol=1e-9)


def test_facade_gains_without_horizontal_irradiance():
    """Gains given on the facade bins only (as the peer comparison does) are not mistaken for a night."""
    twin = box_twin([(0, 0, 10, 20)])
    w = constant_weather(24 * 5, theta_e=5.0)
    p = EnergyParameters(shading=False, warmup_hours=0)
    m = EnergyModel(twin, weather=w, parameters=p, building_data=_fixed_data([1]))
    res = m.run()
    from simulation.energy.archetypes import resolve_buildings
    from simulation.energy.schedules import schedule_arrays

    params = resolve_buildings(twin.buildings, archetypes=m.archetypes, building_data=_fixed_data([1])).params
    rec, ap, _, profiles, win = building_network(res.geometry, params, p)
    occ, com = schedule_arrays(m.forcing.times, profiles)
    kin, _ = m._solar_inputs(res.geometry, rec, m.forcing)
    kin["diffuse"] = np.full_like(kin["diffuse"], 400.0)       # strong facade irradiance, none on the roof
    out = run_kernel(rec, ap, windows=win, occ=occ, comfort=com, trace=1, warmup=0, **behaviour(p), **kin)
    assert (out["trace"][0, :, COL["phi_sol"]] > 1000.0).all()
    _, _, _, phis = naive_5r1c(rec, kin["hours"], kin["beam"], kin["diffuse"], ap, win, kin["shade"], kin["sky"],
                               kin["shade_roof"], kin["sky_roof"], occ, com)
    np.testing.assert_allclose(out["trace"][0, :, COL["phi_hc"]], phis[0], rtol=1e-9, atol=1e-6)
