"""The lighting model end to end on a synthetic street, and the interventions."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.lighting import (
    LightingModel,
    Selection,
    add_luminaires,
    dimming,
    led_retrofit,
    part_night,
    remove_luminaires,
)
from simulation.lighting.energy import OperatingProfile
from simulation.lighting.model import DEFAULTS
from twin.errors import TwinValueError


@pytest.fixture(scope="module")
def globes():
    from lighting_scenes import make_street

    return make_street(photometry="builtin:globe-hps", power=100.0, flux=9000.0, buildings=True, trees=True,
                       length=150.0)


@pytest.fixture(scope="module")
def result(globes):
    return LightingModel(globes, year=2025, price=0.2).run()


def test_model_declares_fields_and_records_defaults(globes, result):
    names = {f.name: f for f in LightingModel.fields}
    assert names["illuminance"].units == "lx" and names["illuminance"].intent == "out"
    assert names["trame_noire"].dtype == "uint8" and names["canopy_height"].optional
    assert set(LightingModel.input_names()) >= {"terrain", "building_height"}
    d = result.meta["defaults_applied"]
    assert "maintenance_factor" in d and "year" not in d and "price" not in d and d["profile"] == "on=+0min; off=+0min"
    assert result.meta["parameters"]["maintenance_factor"] == DEFAULTS["maintenance_factor"][0]
    assert result.meta["evaluations"] > 0 and result.meta["cutoff_bound_lx"] > 0


def test_model_outputs_are_consistent(globes, result):
    g = globes.grid
    assert result.illuminance.shape == g.shape and result.illuminance.dtype == np.float32
    lum = result.luminaires
    assert len(lum) == len(globes.luminaires)
    # energy: power x the year's lit hours
    hours = result.meta["profiles"]["base"]["hours_full_equivalent"]
    assert 4000 < hours < 4600
    assert result.indicators["annual_energy"][0] == pytest.approx(lum["power"].sum() * hours / 1000)
    assert result.indicators["annual_cost"][0] == pytest.approx(0.2 * result.indicators["annual_energy"][0])
    assert result.cabinets["energy_kwh"].sum() == pytest.approx(result.indicators["annual_energy"][0])
    # the globes break the 2018 rules (installed ULR 26 %, N3 60 %)
    assert result.indicators["luminaires_noncompliant_2018"][0] == len(lum)
    # trame noire areas add up to the corridor area
    tn = result.trame_noire
    areas = sum(result.indicators[f"trame_noire_{k}_area"][0] for k in ("dark", "dim", "lit"))
    assert areas == pytest.approx((tn > 0).sum() * g.cell_area)
    # one classed segment, judged on its grid; D_P = P / (Ē A)
    seg = result.segments.iloc[0]
    assert seg["status"] in ("pass", "fail") and seg["n_points"] > 0
    assert seg["dp"] == pytest.approx(seg["power_w"] / (seg["e_avg"] * seg["area"]))
    assert seg["de"] == pytest.approx(lum["energy_kwh"].sum() * 1000 / seg["area"])
    # buildings beside the street get light on their facades
    assert len(result.facades) == len(globes.buildings) and (result.facades["ev_max"] > 0).all()


def test_led_retrofit_and_part_night_save_energy(globes, result):
    tw, rec = led_retrofit(globes, {"photometry": "builtin:globe-hps"}, photometry="builtin:road-led", power=30.0,
                           flux=4000.0, year=2026)
    assert rec["luminaires"] == len(globes.luminaires) and rec["power_after_w"] == 30.0 * rec["luminaires"]
    assert (globes.luminaires["photometry"] == "builtin:globe-hps").all()       # the original is untouched
    lum = tw.luminaires
    assert (lum["photometry"] == "builtin:road-led").all() and (lum["installed"] == 2026).all()
    assert (lum["cct"] == 3000).all() and (lum["ulr"] == 0).all()
    tw2, rec2 = part_night(tw, {"cabinets": ["A"]}, start="23:00", end="05:00")
    assert rec2["cabinets"] == ["A"]
    prof = tw2.luminaires.set_index("id")["profile"]
    assert prof[1] == "on=+0min; off=+0min; cut=23:00-05:00" and prof[2] == ""
    tw2.tables["luminaires_baseline"] = globes.luminaires
    res = LightingModel(tw2, year=2025).run()
    saved = 1 - res.indicators["annual_energy"][0] / result.indicators["annual_energy"][0]
    n_a = int((tw2.luminaires["cabinet"] == "A").sum())
    n = len(tw2.luminaires)
    h_full = result.meta["profiles"]["base"]["hours_full_equivalent"]
    h_cut = res.meta["profiles"]["on=+0min; off=+0min; cut=23:00-05:00"]["hours_full_equivalent"]
    expect = 1 - (30 * ((n - n_a) * h_full + n_a * h_cut)) / (100 * n * h_full)
    assert saved == pytest.approx(expect, rel=1e-9)
    assert res.indicators["luminaires_noncompliant_2018"][0] == 0
    assert "falls_below" in res.segments and "segments_falling_below" in res.indicators
    assert res.indicators["trame_noire_lit_area"][0] < result.indicators["trame_noire_lit_area"][0]


def test_dimming_remove_add(globes):
    tw, rec = dimming(globes, {"ids": [1, 2]}, steps=[("22:00-06:00", 0.5)], presence_duty=0.1)
    prof = tw.luminaires.set_index("id")["profile"]
    assert OperatingProfile.from_spec(prof[1]).dimming[0].level == 0.5 and prof[3] == ""
    tw, rec = remove_luminaires(globes, {"cabinets": ["B"]})
    assert (tw.luminaires["cabinet"] == "A").all() and rec["luminaires"] == int((globes.luminaires["cabinet"] == "B").sum())
    tw, rec = add_luminaires(globes, road=1, spacing=30.0, offset=3.5, mounting_height=6.0,
                             photometry="builtin:pedestrian-led", power=20.0, flux=2500.0, cabinet="C")
    new = tw.luminaires[tw.luminaires["cabinet"] == "C"]
    assert len(new) == 5 and new["id"].min() == globes.luminaires["id"].max() + 1
    assert np.allclose(new["orientation"], 180.0)             # the arm points south, back over the road
    assert np.allclose(new.geometry.y, 6000.0 + 3.5)          # left of the centre line (north)
    tw, _ = add_luminaires(globes, points=[(1010.0, 6010.0)], mounting_height=4.0, photometry="builtin:road-led",
                           power=10.0, flux=1000.0)
    assert len(tw.luminaires) == len(globes.luminaires) + 1


def test_intervention_errors(globes):
    with pytest.raises(TwinValueError, match=r"led_retrofit: the selection \(cabinets=\('Z',\)\) matches no luminaire"):
        led_retrofit(globes, {"cabinets": ["Z"]}, photometry="builtin:road-led", power=30.0)
    with pytest.raises(TwinValueError, match="give the new power"):
        led_retrofit(globes, None, photometry="builtin:road-led")
    with pytest.raises(TwinValueError, match="unknown built-in photometry"):
        led_retrofit(globes, None, photometry="builtin:led", power=30.0)
    with pytest.raises(TwinValueError, match="unknown selection key"):
        Selection.from_dict({"armoire": "A"})
    with pytest.raises(TwinValueError, match="empty switch-off window"):
        part_night(globes, None, start="23:00", end="23:00")
    with pytest.raises(TwinValueError, match="the twin has no road 9"):
        add_luminaires(globes, road=9, spacing=20.0, mounting_height=6.0, photometry="builtin:road-led", power=1.0,
                       flux=1.0)


def test_model_bad_input(globes):
    with pytest.raises(TwinValueError, match="unknown parameter"):
        LightingModel(globes, maintenance=0.8)
    with pytest.raises(TwinValueError, match="invalid maintenance_factor"):
        LightingModel(globes, maintenance_factor=0)
    from twin import Grid, Twin

    bare = Twin(Twin.empty(Grid.from_bounds(0, 0, 10, 10)).layers.drop_vars("building_height"))
    with pytest.raises(TwinValueError, match="needs the layer 'building_height'"):
        LightingModel(bare)
