"""EN 13201 grids and metrics on a hand-computed segment; operating profiles and energy on hand-computed nights."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from simulation.lighting.en13201 import (
    CLASSES,
    assign_luminaires,
    calculation_grid,
    deficit_raster,
    evaluate_segments,
    lighting_class,
)
from simulation.lighting.energy import DUSK_TO_DAWN, DimmingStep, OperatingProfile, annual_hours, parse_clock, sun_times
from simulation.lighting.illuminance import prepare_scene
from simulation.lighting.photometry import Photometry
from simulation.lighting.registry import PhotometryRegistry
from twin import Grid, Twin
from twin.errors import TwinValueError

ISO = Photometry("iso", "iso", np.array([0.0]), np.arange(0.0, 180.1, 5.0), np.full((1, 37), 100.0))


class _Reg(PhotometryRegistry):
    def resolve(self, ref):
        return ISO if ref == "iso" else super().resolve(ref)


def test_calculation_grid_follows_en13201_3():
    line = shapely.LineString([(0, 0), (30, 0)])
    x, y, d, w = calculation_grid(line, 6.0, spacing=30.0)
    assert d == pytest.approx(3.0) and w == pytest.approx(1.5)       # S <= 30: N = 10; W = 6: n = 4, d = 1.5
    assert x.size == 40
    assert sorted(set(np.round(x, 6)))[:2] == [1.5, 4.5]              # first row at D / 2
    assert sorted(set(np.round(y, 6))) == [-2.25, -0.75, 0.75, 2.25]  # outer points d / 2 from the edges
    x, y, d, w = calculation_grid(shapely.LineString([(0, 0), (40, 0)]), 7.0, spacing=40.0)
    assert d == pytest.approx(40 / 14)                                # S > 30: smallest N with D <= 3 m
    assert w == pytest.approx(7 / 5)
    x, y, d, w = calculation_grid(shapely.LineString([(0, 0), (10, 0)]), 3.0, spacing=10.0)
    assert w == pytest.approx(1.0) and d == pytest.approx(1.0)        # at least 3 points across
    # a bent road: points follow the centre line
    bent = shapely.LineString([(0, 0), (20, 0), (20, 20)])
    x, y, _, _ = calculation_grid(bent, 4.0, spacing=40.0)
    assert max(shapely.distance(shapely.points(x, y), bent)) <= 2.0 + 1e-9


def _segment_twin(lighting_class="P4", flux=3000.0, width=6.0):
    g = Grid.from_bounds(-20, -20, 50, 20, cell_size=1.0)
    tw = Twin.empty(g, terrain=0.0)
    lum = gpd.GeoDataFrame({"id": [1, 2], "mounting_height": [6.0, 6.0], "orientation": 0.0, "tilt": 0.0,
                            "photometry": "iso", "power": 30.0, "flux": flux, "road_id": 7},
                           geometry=[shapely.Point(0, -3.0), shapely.Point(30, -3.0)], crs=g.crs)
    tw.set_table("luminaires", lum)
    roads = gpd.GeoDataFrame({"id": [7, 8], "name": ["rue", "chemin"], "width": [width, 4.0], "sidewalk_width": 0.0,
                              "lighting_class": [lighting_class, ""]},
                             geometry=[shapely.LineString([(0, 0), (30, 0)]),
                                       shapely.LineString([(0, 10), (30, 10)])], crs=g.crs)
    tw.set_table("roads", roads)
    return tw


def _hand(flux, width):
    """E at the EN 13201-3 points by hand: two isotropic 100 cd/klm luminaires 6 m high at x = 0 and 30, y = -3."""
    xs = 1.5 + 3.0 * np.arange(10)
    n = max(3, math.ceil(width / 1.5))
    ys = -width / 2 + width / n * (np.arange(n) + 0.5)
    X, Y = np.meshgrid(xs, ys)
    E = np.zeros_like(X)
    for lx in (0.0, 30.0):
        r = np.sqrt((X - lx) ** 2 + (Y + 3.0) ** 2 + 36.0)
        E += 0.8 * 100 * flux / 1000 * 6.0 / r**3
    return E


def test_segment_metrics_against_hand_computation():
    tw = _segment_twin("P4", flux=9000.0)
    sc = prepare_scene(tw, registry=_Reg(), maintenance_factor=0.8, cutoff=60.0, crown_extinction=0.0,
                       crown_base_fraction=0.25)
    assign = assign_luminaires(tw.luminaires, tw.roads, max_distance=25.0)
    assert assign.tolist() == [7, 7]
    seg = evaluate_segments(sc, tw.roads, assignment=assign).set_index("road_id")
    E = _hand(9000.0, 6.0)
    row = seg.loc[7]
    assert row["n_points"] == 40 and row["spacing"] == pytest.approx(30.0)
    assert row["e_avg"] == pytest.approx(E.mean(), rel=1e-4)
    assert row["e_min"] == pytest.approx(E.min(), rel=1e-4)
    assert row["uo"] == pytest.approx(E.min() / E.mean(), rel=1e-4)
    # P4: Ē >= 5 lx and E_min >= 1 lx
    assert E.mean() > 5 and E.min() > 1
    assert row["status"] == "pass" and row["passes"] and not row["overlit"]
    assert seg.loc[8, "status"] == "no class"
    # the same lighting judged against C4 (Ē >= 10 lx, U_o >= 0.4) fails; against P6 it is over-lit
    tw.roads.loc[0, "lighting_class"] = "C4"
    seg = evaluate_segments(sc, tw.roads, assignment=assign).set_index("road_id")
    assert seg.loc[7, "status"] == "fail" and seg.loc[7, "e_avg_required"] == 10.0
    tw.roads.loc[0, "lighting_class"] = "P6"
    seg = evaluate_segments(sc, tw.roads, assignment=assign).set_index("road_id")
    assert seg.loc[7, "overlit"] == (E.mean() > 1.5 * 2.0)
    tw.roads.loc[0, "lighting_class"] = "M4"
    seg = evaluate_segments(sc, tw.roads, assignment=assign).set_index("road_id")
    assert seg.loc[7, "e_avg_required"] == pytest.approx(0.75 / 0.07) and "q0 = 0.07" in seg.loc[7, "note"]


def test_deficit_raster_marks_cells_below_the_point_minimum():
    tw = _segment_twin("P2", flux=3000.0)          # P2: E_min 2 lx
    sc = prepare_scene(tw, registry=_Reg(), maintenance_factor=0.8, cutoff=60.0, crown_extinction=0.0,
                       crown_base_fraction=0.25)
    E, _ = sc.horizontal_illuminance()
    d = deficit_raster(tw.grid, tw.roads, E)
    g = tw.grid
    r, c = g.rowcol(15.5, 0.5)          # mid-span, on the road
    assert d[r, c] == pytest.approx(max(0.0, 2.0 - E[r, c]))
    assert d[r, c] > 0
    r, c = g.rowcol(0.5, -2.5)          # under a luminaire: plenty of light
    assert d[r, c] == 0.0
    assert np.isnan(d[g.rowcol(15.5, 15.5)])     # off the classed road
    assert lighting_class("p2") is CLASSES["P2"] and CLASSES["C3"].point_minimum == pytest.approx(6.0)


def test_segment_errors_and_missing_width():
    tw = _segment_twin("Z9")
    sc = prepare_scene(tw, registry=_Reg(), maintenance_factor=0.8, cutoff=60.0, crown_extinction=0.0,
                       crown_base_fraction=0.25)
    with pytest.raises(TwinValueError, match="road 7: unknown EN 13201 lighting class 'Z9'"):
        evaluate_segments(sc, tw.roads, assignment=np.array([7, 7]))
    tw = _segment_twin("P4", width=np.nan)
    seg = evaluate_segments(sc, tw.roads, assignment=np.array([7, 7])).set_index("road_id")
    assert seg.loc[7, "status"] == "no width" and "no width" in seg.loc[7, "note"]


# -- operating profiles and energy ---------------------------------------------------------------------

def _nights(days=4, sunset="18:00", sunrise="07:00", start="2025-01-06", tz="Europe/Paris"):
    idx = pd.date_range(start, periods=days, freq="D", tz=tz)
    ss = [pd.Timestamp(f"{d.date()} {sunset}", tz=tz) for d in idx]
    sr = [pd.Timestamp(f"{(d + pd.Timedelta(days=1)).date()} {sunrise}", tz=tz) for d in idx]
    return pd.DataFrame({"sunset": ss, "sunrise": sr}, index=idx)


def test_profiles_on_hand_computed_nights():
    n = _nights()
    h = annual_hours(DUSK_TO_DAWN, n)
    assert h.lit == pytest.approx(4 * 13) and h.full_equivalent == pytest.approx(4 * 13)
    cut = DUSK_TO_DAWN.with_switch_off(23.0, 5.0)
    h = annual_hours(cut, n)
    assert h.lit == pytest.approx(4 * 7) and h.switched_off == pytest.approx(4 * 6)
    # dimming 22:00-06:00 at 50 % with the 23:00-05:00 cut: dimmed 22-23 and 05-06 -> 7 - 2 x 0.5 = 6 h a night
    prof = cut.with_dimming([DimmingStep(22.0, 6.0, 0.5)])
    h = annual_hours(prof, n)
    assert h.dimmed == pytest.approx(4 * 2) and h.full_equivalent == pytest.approx(4 * 6)
    # presence detection 20 %: dimmed hours at 0.5 + 0.2 x 0.5 = 0.6 -> 7 - 2 x 0.4 = 6.2 h
    h = annual_hours(cut.with_dimming([DimmingStep(22.0, 6.0, 0.5)], presence_duty=0.2), n)
    assert h.full_equivalent == pytest.approx(4 * 6.2)
    # switch-on 15 min after sunset, off 15 min before sunrise
    h = annual_hours(OperatingProfile(on_delay=15, off_advance=15), n)
    assert h.lit == pytest.approx(4 * 12.5)
    # a window that starts after midnight belongs to the same night
    h = annual_hours(OperatingProfile(switch_off=(1.0, 4.0)), n)
    assert h.switched_off == pytest.approx(4 * 3)


def test_daylight_saving_nights():
    """The night of the spring change has 23:00-05:00 = 5 h, the autumn one 7 h."""
    cut = DUSK_TO_DAWN.with_switch_off(23.0, 5.0)
    spring = annual_hours(cut, _nights(days=1, start="2025-03-29", sunset="19:00", sunrise="07:30"))
    autumn = annual_hours(cut, _nights(days=1, start="2025-10-25", sunset="18:30", sunrise="08:00"))
    assert spring.switched_off == pytest.approx(5.0) and spring.night == pytest.approx(11.5)
    assert autumn.switched_off == pytest.approx(7.0) and autumn.night == pytest.approx(14.5)


def test_year_of_real_sun_in_lyon():
    nights = sun_times(2025, 45.76, 4.84)
    assert len(nights) == 365
    h = annual_hours(DUSK_TO_DAWN, nights)
    assert 4200 < h.lit < 4400            # the usual ~4,300 h of dusk-to-dawn lighting in France
    longest = nights.index[np.argmax(h.per_night["night"].to_numpy())]
    assert longest.month == 12 and 18 <= longest.day <= 25
    cut = annual_hours(DUSK_TO_DAWN.with_switch_off(23, 5), nights)
    assert cut.switched_off == pytest.approx(6 * 365, abs=1e-6)   # every night is dark from 23:00 to 05:00 there


def test_profile_spec_round_trip_and_errors():
    p = OperatingProfile.from_spec("on=+10min; off=-5min; dim=22:00-06:00@50%; cut=23:30-04:45; presence=20%")
    assert p.on_delay == 10 and p.off_advance == 5 and p.switch_off == (23.5, 4.75) and p.presence_duty == 0.2
    assert OperatingProfile.from_spec(p.to_spec()) == p.__class__(**{**p.__dict__, "name": p.to_spec()})
    assert parse_clock("23h") == 23.0 and parse_clock("5:30") == 5.5 and parse_clock("24:00") == 0.0
    with pytest.raises(TwinValueError, match="unknown operating profile item 'dimm'"):
        OperatingProfile.from_spec("dimm=22:00-06:00@50%")
    with pytest.raises(TwinValueError, match="invalid dimming level 1.5"):
        OperatingProfile.from_spec("dim=22:00-06:00@150%")
    with pytest.raises(TwinValueError, match="dimming steps overlap"):
        OperatingProfile(dimming=(DimmingStep(22, 2, 0.5), DimmingStep(1, 5, 0.3)))
    with pytest.raises(TwinValueError, match="invalid switch-off window"):
        OperatingProfile.from_spec("cut=23:00")
    with pytest.raises(TwinValueError, match="invalid time"):
        parse_clock("25:00")
