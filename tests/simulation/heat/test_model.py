"""The heat model: energy sense checks, the kernel against a naive reference, caching, bad input."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import constants

from simulation.heat import _kernels as K
from simulation.heat.model import SKY_VIEW_LAYERS, HeatModel
from simulation.heat.parameters import HeatParameters, surface_tables
from simulation.heat.summaries import building_summary, street_summary
from twin.errors import TwinValueError

SIGMA = constants.sigma
T0 = constants.zero_Celsius


def _kernel_inputs(shape=(3, 4), seed=0):
    rng = np.random.default_rng(seed)
    f32 = lambda a: np.ascontiguousarray(a, np.float32)
    return dict(
        sunlit=f32(rng.uniform(0, 1, shape)), svf_b=f32(rng.uniform(0.3, 1, shape)),
        fv=f32(rng.uniform(0.1, 1, (4,) + shape)), albedo=f32(rng.uniform(0.05, 0.4, shape)),
        emis=f32(rng.uniform(0.9, 0.98, shape)), lc=rng.integers(2, 10, shape).astype(np.uint8),
        is_building=np.zeros(shape, np.uint8), ts=f32(rng.uniform(295, 330, shape)), td=f32(rng.uniform(295, 310, shape)),
    )


def _naive_cell(i, *, sunlit, svf_b, svf_v, fv, albedo, emis, lc, ts, td, tables, dni, dhi, alt, az, ta, l_sky, dt, h,
                wall_lw, wall_sw, ak=0.7, al=0.97, f_up=0.06, f_side=0.22):
    """Term-by-term transcription of docs/heat.md for one cell (Python floats)."""
    sa, ca = math.sin(alt), math.cos(alt)
    sb, sv, sf, a, e = (float(v[i]) for v in (svf_b, svf_v, sunlit, albedo, emis))
    k_down = dni * sa * sf + dhi * sv + (1 - sv) * np.mean(wall_sw)
    l_down = sv * l_sky + (1 - sb) * np.mean(wall_lw) + (sb - sv) * SIGMA * ta**4
    q = (1 - a) * k_down + e * (l_down - SIGMA * ta**4)
    c = int(lc[i])
    if q > 0:
        q *= 1 - tables["evaporation"][c]
    lam = tables["restore"][c]
    b = h + 4 * e * SIGMA * ta**3
    teq = (q + b * ta + lam * float(td[i])) / (b + lam)
    tsn = teq + (float(ts[i]) - teq) * math.exp(-dt / (tables["heat_capacity"][c] / (b + lam)))
    k_up = a * k_down
    l_up = e * SIGMA * tsn**4 + (1 - e) * l_down
    vshare = (sb - sv) / (1 - sv) if sv < 1 else 0.0
    k_side = l_side = 0.0
    for k in range(4):
        f = float(fv[(k,) + i])
        k_side += dni * ca * max(0.0, math.cos(az - k * math.pi / 2)) * sf + 0.5 * (dhi * f + (1 - f) * wall_sw[k]) + 0.5 * k_up
        l_side += 0.5 * (f * l_sky + (1 - f) * ((1 - vshare) * wall_lw[k] + vshare * SIGMA * ta**4)) + 0.5 * l_up
    s = ak * (f_up * (k_down + k_up) + f_side * k_side) + al * (f_up * (l_down + l_up) + f_side * l_side)
    return tsn, (s / (al * SIGMA)) ** 0.25 - T0


def test_radiation_kernel_matches_naive_reference():
    inp = _kernel_inputs()
    inp["svf_v"] = (inp["svf_b"] * np.float32(0.8)).astype(np.float32)
    tables = surface_tables(HeatParameters())
    scal = dict(dni=750.0, dhi=150.0, alt=math.radians(52), az=math.radians(215), ta=T0 + 36.0, l_sky=430.0, dt=3600.0,
                h=10.0, wall_lw=np.array([520.0, 540.0, 500.0, 495.0]), wall_sw=np.array([80.0, 40.0, 30.0, 60.0]))
    ts0 = inp["ts"].copy()
    tmrt = np.empty_like(inp["ts"])
    e_lw, e_sw = np.empty_like(tmrt), np.empty_like(tmrt)
    sa, ca = math.sin(scal["alt"]), math.cos(scal["alt"])
    K.ground_step(inp["sunlit"], inp["svf_b"], inp["svf_v"], inp["albedo"], inp["emis"], inp["lc"], inp["ts"], inp["td"],
                  e_lw, e_sw, tables["heat_capacity"], tables["restore"], tables["evaporation"], dni=scal["dni"],
                  dhi=scal["dhi"], sin_alt=sa, ta=scal["ta"], l_sky=scal["l_sky"], dt=scal["dt"], h_conv=scal["h"],
                  wall_lw_mean=float(scal["wall_lw"].mean()), wall_sw_mean=float(scal["wall_sw"].mean()), sigma=SIGMA)
    # the person sees its own cell's ground here (the neighbourhood filter is tested on a street below)
    K.tmrt_step(inp["sunlit"], inp["svf_b"], inp["svf_v"], inp["fv"], inp["is_building"], e_lw, e_sw, tmrt,
                dni=scal["dni"], dhi=scal["dhi"], sin_alt=sa, cos_alt=ca, sun_az=scal["az"], ta=scal["ta"],
                l_sky=scal["l_sky"], wall_lw=scal["wall_lw"], wall_sw=scal["wall_sw"], ak=0.7, al=0.97, f_up=0.06,
                f_side=0.22, sigma=SIGMA)
    for i in np.ndindex(tmrt.shape):
        ref = dict(inp, ts=ts0)
        tsn, tm = _naive_cell(i, tables=tables, **{k: ref[k] for k in ("sunlit", "svf_b", "svf_v", "fv", "albedo", "emis",
                                                                         "lc", "ts", "td")}, **scal)
        assert inp["ts"][i] == pytest.approx(tsn, abs=1e-3)
        assert tmrt[i] == pytest.approx(tm, abs=1e-3)


def test_uniform_enclosure_gives_tmrt_equal_to_air_temperature():
    # no sun, sky, walls and ground all at Ta: the radiant temperature is Ta, whatever the views
    inp = _kernel_inputs(seed=3)
    ta = T0 + 27.0
    inp["ts"][:] = ta
    inp["td"][:] = ta
    inp["svf_v"] = inp["svf_b"].copy()
    tables = surface_tables(HeatParameters())
    tmrt = np.empty_like(inp["ts"])
    lw = SIGMA * ta**4
    e_lw, e_sw = np.empty_like(tmrt), np.empty_like(tmrt)
    emis = np.ones_like(inp["emis"])
    K.ground_step(inp["sunlit"], inp["svf_b"], inp["svf_v"], inp["albedo"], emis, inp["lc"], inp["ts"], inp["td"], e_lw,
                  e_sw, tables["heat_capacity"], tables["restore"], tables["evaporation"], dni=0.0, dhi=0.0, sin_alt=0.0,
                  ta=ta, l_sky=lw, dt=3600.0, h_conv=10.0, wall_lw_mean=lw, wall_sw_mean=0.0, sigma=SIGMA)
    K.tmrt_step(inp["sunlit"], inp["svf_b"], inp["svf_v"], inp["fv"], inp["is_building"], e_lw, e_sw, tmrt, dni=0.0,
                dhi=0.0, sin_alt=0.0, cos_alt=1.0, sun_az=0.0, ta=ta, l_sky=lw, wall_lw=np.full(4, lw),
                wall_sw=np.zeros(4), ak=0.7, al=0.97, f_up=0.06, f_side=0.22, sigma=SIGMA)
    np.testing.assert_allclose(tmrt, 27.0, atol=1e-3)
    np.testing.assert_allclose(inp["ts"], ta, atol=1e-3)


def test_energy_sense_sun_shade_night(street_run):
    twin, _model, _day, res = street_run
    hours = sorted(res.hourly)
    h15 = next(h for h in hours if h.hour == 15)
    h4 = next(h for h in hours if h.hour == 4)
    tm15, tm4 = res.hourly[h15]["tmrt"], res.hourly[h4]["tmrt"]
    from simulation.shadows import sunlit_fraction

    sp = res.series.loc[h15]
    s = sunlit_fraction(surface=twin.array("surface"), cell_size=1.0, sun_azimuth=sp["sun_azimuth"],
                        sun_altitude=sp["sun_altitude"], terrain=twin.array("terrain"))
    open_ = twin.array("building_id") == 0
    sun = tm15[open_ & (s == 1)]
    shade = tm15[open_ & (s == 0)]
    assert sun.size > 50 and shade.size > 50
    # in the sun > in the shade > at night, by clear margins
    assert np.nanmean(sun) > np.nanmean(shade) + 15.0
    assert np.nanmean(shade) > np.nanmean(tm4[open_]) + 5.0
    # sunlit Tmrt on a 2003-like afternoon: 25-35 K above the air (SOLWEIG reports Tmrt 60-70 C for such days)
    assert 20 < np.nanmean(sun) - sp["air_temperature"] < 40
    # night: the open street centre (high SVF) is cooler in Tmrt than the lane between walls (low SVF)
    svf = res["svf"]
    q1, q3 = np.nanpercentile(svf[open_], [25, 75])
    hi, lo = open_ & (svf >= q3), open_ & (svf <= q1)
    assert np.nanmean(tm4[hi]) < np.nanmean(tm4[lo]) - 1.0
    # UTCI in the sun at the hottest hour: strong to extreme heat stress; buildings are NaN
    u = res["utci_hottest"]
    assert np.nanmax(u) > 38 and np.isnan(u[twin.array("building_id") > 0]).all()
    assert res.hottest.hour in (14, 15, 16, 17)
    # hours above 32 never exceed hours above 26; sun + shade = daylight hours
    assert (np.nan_to_num(res["hours_utci_above_32"]) <= np.nan_to_num(res["hours_utci_above_26"]) + 1e-6).all()
    day_hours = int((res.series["sun_altitude"] > 0).sum())
    np.testing.assert_allclose((res["sun_hours"] + res["shade_hours"])[open_], day_hours, atol=1e-3)


def test_sky_view_is_cached_in_the_twin_only_when_asked(street_run):
    twin, _model, _day, res = street_run
    assert res.meta["sky_view"]["cached"] is False
    assert not any(n in twin for n in SKY_VIEW_LAYERS)  # run() leaves its input twin as it was
    twin = twin.copy()
    HeatModel(twin).sky_view(store=True)
    assert twin["svf"].attrs["input_hash"]
    again = HeatModel(twin).sky_view()
    assert again.meta["cached"] is True
    np.testing.assert_array_equal(again["svf"], res["svf"])
    # a changed surface invalidates the cache
    t2 = twin.copy()
    s = t2.array("surface").copy()
    s[0, 0] += 5
    t2.set_layer("surface", s)
    assert HeatModel(t2).sky_view().meta["cached"] is False


def test_summaries(street_run):
    twin, _model, _day, res = street_run
    b = building_summary(twin, res.layers)
    assert list(b.index) == [1, 2, 3, 4]
    assert b["vulnerable"].sum() == 1
    assert np.isfinite(b["utci_hottest_around"]).all()
    # the north row's south faces are sunlit at the hottest hour: warmer than the south row's north faces
    assert b.loc[1, "utci_hottest_around"] != b.loc[2, "utci_hottest_around"]
    assert (b["roof_temperature_max"] > 45).all()
    st = street_summary(twin, res.layers)
    assert len(st) == 2 and (st["cells"] > 0).all()
    assert st.loc[st["name"] == "Impasse", "hours_utci_above_32"].iloc[0] != st.loc[st["name"] == "Rue du Midi", "hours_utci_above_32"].iloc[0]


def test_bad_inputs(street_twin, day_2003):
    model = HeatModel(street_twin)
    bad = day_2003.copy()
    bad.iloc[5, bad.columns.get_loc("air_temperature")] = np.nan
    with pytest.raises(TwinValueError, match="air_temperature is missing"):
        model.run(bad)
    bad = day_2003.copy()
    bad["wind_speed"] = 25.0
    with pytest.raises(TwinValueError, match="above the UTCI range"):
        model.run(bad)
    bad = day_2003.iloc[[0, 1, 3]]
    with pytest.raises(TwinValueError, match="hourly"):
        model.run(bad)
    with pytest.raises(TwinValueError, match="unknown heat parameter"):
        HeatModel(street_twin, parameters={"albedo": 0.3})
    with pytest.raises(TwinValueError, match="surfaces.road.albedo"):
        HeatModel(street_twin, parameters={"surfaces": {"road": {"albedo": 1.5}}})
    flat = street_twin.copy()
    flat.set_layer("surface", flat.array("terrain"))
    with pytest.raises(TwinValueError, match="flat"):
        HeatModel(flat).sky_view()
    missing = street_twin.copy()
    missing.layers = missing.layers.drop_vars("landcover")
    with pytest.raises(TwinValueError, match="landcover"):
        HeatModel(missing)


def test_calm_wind_is_clamped_and_said(street_twin, day_2003):
    calm = day_2003.copy()
    calm["wind_speed"] = 0.2
    with pytest.warns(UserWarning, match="0.5 m/s"):
        res = HeatModel(street_twin, parameters={"n_azimuths": 16}).run(calm.iloc[:24])
    assert res.meta["forcing"]["wind_clamped_hours"] == 24


def test_a_person_sees_the_ground_around(street_twin, day_2003):
    """In the shade next to sunlit asphalt, the hot ground nearby warms a person; in the sun next to shade, less."""
    from simulation.shadows import sunlit_fraction

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        own = HeatModel(street_twin, parameters={"n_azimuths": 16, "ground_view_radius": 0.0}).run(day_2003,
                                                                                                   keep_hours=(15,))
        seen = HeatModel(street_twin, parameters={"n_azimuths": 16}).run(day_2003, keep_hours=(15,))
    h = next(iter(own.hourly))
    sp = own.series.loc[h]
    s = sunlit_fraction(surface=street_twin.array("surface"), cell_size=1.0, sun_azimuth=sp["sun_azimuth"],
                        sun_altitude=sp["sun_altitude"], terrain=street_twin.array("terrain"))
    open_ = street_twin.array("building_id") == 0
    from scipy import ndimage

    near_sun = ndimage.binary_dilation(s == 1, iterations=2)
    near_shade = ndimage.binary_dilation(s == 0, iterations=2)
    shade_edge = open_ & (s == 0) & near_sun
    sun_edge = open_ & (s == 1) & near_shade
    d = seen.hourly[h]["tmrt"] - own.hourly[h]["tmrt"]
    assert shade_edge.sum() > 20 and sun_edge.sum() > 20
    assert np.nanmean(d[shade_edge]) > 0.5
    assert np.nanmean(d[sun_edge]) < -0.5
    far = open_ & ~ndimage.binary_dilation(near_sun & near_shade, iterations=3)
    # far from sun/shade edges only land-cover boundaries (asphalt next to paving) change anything
    assert np.nanmedian(np.abs(d[far & np.isfinite(d)])) < 0.1
