"""Building energy benchmark: building-hours per second, the whole pipeline at scale, and the peer.

Measures, in one run on this machine:

1. the memory bandwidth (a large NumPy copy), the machine's own limit;
2. the ISO 13790 5R1C kernel alone (``simulation.energy._kernels.simulate_5r1c``) on N buildings over a
   year of hours, with realistic shading arrays, on 1 and 2 threads: building-hours per second (wall
   clock and per CPU-second, the latter less sensitive to other jobs on a shared machine);
3. the whole model (archetypes, geometry and party walls, shading by the shared shadow engine, kernel,
   labels) on a synthetic terraced town of ``--buildings`` buildings (100,000 by default);
4. RC_BuildingSimulator (ETH, pure-Python ISO 13790 5R1C, MIT), side by side on the same zones and
   weather with the same simplifications (the same conductances, capacities and hourly gains fed to both,
   heating and cooling to the air node, supply air at outdoor temperature): kWh compared zone by zone and
   zone-hours per second.

Peer setup (a temporary folder, never a project dependency, never vendored)::

    git clone https://github.com/architecture-building-systems/RC_BuildingSimulator /tmp/peers-rc
    python benchmarks/bench_energy.py --peer-path /tmp/peers-rc            # or JUMEAU_PEER_RC=/tmp/peers-rc

The peer is pure Python (standard library only for the parts used); it runs in a subprocess with
``--peer-python`` (default: this interpreter), importing ``rc_simulator/building_physics.py`` from the
checkout. Weather: the Lyon-Bron EPW of ``../shared/data`` when present (``--weather`` to choose another
EPW), else the synthetic typical year. Writes ``benchmarks/results/energy.json``.

Run: ``python benchmarks/bench_energy.py [--buildings 100000] [--kernel-buildings 20000] [--quick]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numba
import numpy as np
import pandas as pd
import shapely
from _common import RESULTS, ROOT, machine, memory_bandwidth, timed_cpu, write_results

from simulation.energy import _kernels
from simulation.energy.climate import typical_year
from simulation.energy.model import EnergyModel, behaviour, building_network, run_kernel
from simulation.energy.schedules import schedule_arrays
from twin import Grid, Twin
from twin.rasterize import compose_surface, rasterize_buildings, tree_canopy

DEFAULT_EPW = (Path(os.environ.get("JUMEAU_SHARED_DATA", ROOT.parent / "shared" / "data")) / "weather"
               / "FRA_AR_Lyon-Bron.AP.074800_TMYx.2004-2018.epw")


def terraced_town(n: int, *, seed: int = 0, trees: bool = True) -> Twin:
    """A synthetic town of ``n`` buildings: blocks of row houses (8 m wide, party walls) along streets,
    one building in 20 a tertiary one, street trees; 1 m cells."""
    rng = np.random.default_rng(seed)
    per_block = 24
    n_blocks = -(-n // per_block)
    side = int(np.ceil(np.sqrt(n_blocks)))
    pitch_x, pitch_y = 12 * 8.0 + 20.0, 24.0 + 16.0
    bi = np.arange(n)
    block, within = bi // per_block, bi % per_block
    bx, by = block % side, block // side
    row, k = within // 12, within % 12
    x0 = 50 + bx * pitch_x + 8 * k
    depth = 10.0 + 2 * rng.random(n)
    ya = 50 + by * pitch_y + np.where(row == 0, 0.0, 24.0 - depth)
    yb = ya + depth
    size = float(max((x0 + 8).max(), yb.max()) + 50)
    grid = Grid.from_bounds(0, 0, size, size, cell_size=1.0)
    t = Twin.empty(grid, terrain=170.0, name=f"terraced town, {n} buildings")
    h = rng.choice([6.0, 9.0, 12.0, 15.0], n)
    uses = rng.choice(["housing"] * 19 + ["office"], n)
    uses = np.where(rng.random(n) < 0.02, "school", uses)
    years = rng.choice([1900, 1930, 1960, 1970, 1980, 1995, 2005, 2018], n)
    gdf = gpd.GeoDataFrame({"id": np.arange(1, n + 1), "height": h, "floors": (h / 3).astype(int), "use": uses,
                            "year": years}, geometry=shapely.box(x0, ya, x0 + 8, yb), crs="EPSG:2154")
    t.set_table("buildings", gdf)
    ids, bh = rasterize_buildings(grid, t.buildings)
    canopy = np.zeros(grid.shape, np.float32)
    if trees:   # a tree every 24 m along the middle of each east-west street
        xs = np.arange(60.0, size - 50, 24.0)
        ys = 50 + np.arange(side) * pitch_y + 24.0 + 8.0
        tx, ty = np.meshgrid(xs, ys)
        canopy = tree_canopy(grid, tx.ravel(), ty.ravel(), np.full(tx.size, 10.0), np.full(tx.size, 6.0))
    t.set_layer("building_id", ids)
    t.set_layer("building_height", bh)
    t.set_layer("canopy_height", canopy)
    t.set_layer("surface", compose_surface(t.array("terrain"), bh, canopy))
    return t


def load_weather(path):
    if path and Path(path).is_file():
        sys.path.insert(0, str(ROOT / "tests" / "simulation" / "energy"))
        try:
            from importers.weather import read_epw

            return read_epw(path, year=2019), str(path)   # a typical year: any non-leap year
        except ImportError:
            from energy_helpers import read_epw_for_tests

            return read_epw_for_tests(path), str(path)
    return typical_year(), "synthetic typical year (lyon)"


def bench_kernel(weather, n_buildings: int, repeats: int = 2) -> dict:
    """The kernel alone on replicated zones of a small town, shading arrays included."""
    town = terraced_town(2000, trees=True)
    m = EnergyModel(town, weather=weather)
    r = m.run()
    from simulation.energy.archetypes import resolve_buildings

    params = resolve_buildings(town.buildings, archetypes=m.archetypes).params
    rec, ap, _, profiles, win = building_network(r.geometry, params, m.parameters)
    occ, com = schedule_arrays(m.forcing.times, profiles)
    kin, _ = m._solar_inputs(r.geometry, rec, m.forcing)
    rep = max(1, n_buildings // len(rec))
    big = lambda a: np.concatenate([a] * rep)
    k2 = dict(kin, shade=big(kin["shade"]), sky=big(kin["sky"]), shade_roof=big(kin["shade_roof"]),
              sky_roof=big(kin["sky_roof"]))
    R, A, W = big(rec), big(ap), big(win)
    n_hours = len(m.forcing)
    out = {"buildings": len(R), "hours": n_hours, "sun_cells": int(kin["shade"].shape[1]),
           "orientation_bins": int(A.shape[1])}
    for th in (1, 2):
        numba.set_num_threads(min(th, numba.config.NUMBA_NUM_THREADS))
        wall, cpu, _ = timed_cpu(lambda: run_kernel(R, A, windows=W, occ=occ, comfort=com, warmup=0,
                                                    **behaviour(m.parameters), **k2), repeats)
        bh = len(R) * n_hours
        out[f"threads_{th}"] = {"seconds": wall, "building_hours_per_s": bh / wall,
                                "building_hours_per_cpu_s": bh / cpu,
                                # what th idle cores would give: a shared machine gives this process less
                                "idle_cores_estimate": th * bh / cpu}
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    return out


def bench_pipeline(weather, n_buildings: int) -> dict:
    t0 = time.perf_counter()
    town = terraced_town(n_buildings)
    t_town = time.perf_counter() - t0
    m = EnergyModel(town, weather=weather)
    t1 = time.perf_counter()
    r = m.run()
    total = time.perf_counter() - t1
    tm = r.meta["timings"]
    sim = int(r.buildings["simulated"].sum())
    return {"buildings": n_buildings, "simulated": sim, "grid": list(town.grid.shape), "build_town_s": t_town,
            "model_s": total, "timings": tm, "shading": r.meta["shading"],
            "building_hours_per_s_all_in": sim * len(m.forcing) / total,
            "heating_need_kwh_m2_median": float(r.buildings["heating_need_m2"].median()),
            "party_wall_buildings": int(r.report["geometry"]["buildings_with_party_walls"])}


# -- the peer --------------------------------------------------------------------------------------------

PEER_SCRIPT = r'''
import json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from building_physics import Zone
import supply_system, emission_system
inp = np.load(sys.argv[2])
out = {"heating_kwh": [], "cooling_kwh": [], "seconds": 0.0}
t0 = time.perf_counter()
n_zones, n_t = inp["internal"].shape
for z in range(n_zones):
    p = {k: float(inp[k][z]) for k in ("window_area", "walls_area", "floor_area", "room_vol", "total_internal_area",
                                        "u_walls", "u_windows", "ach_vent", "ach_infl", "cap")}
    zone = Zone(window_area=p["window_area"], walls_area=p["walls_area"], floor_area=p["floor_area"],
                room_vol=p["room_vol"], total_internal_area=p["total_internal_area"], u_walls=p["u_walls"],
                u_windows=p["u_windows"], ach_vent=p["ach_vent"], ach_infl=p["ach_infl"],
                ventilation_efficiency=0.0, thermal_capacitance_per_floor_area=p["cap"],
                t_set_heating=20.0, t_set_cooling=26.0,
                max_cooling_energy_per_floor_area=-float("inf"), max_heating_energy_per_floor_area=float("inf"),
                heating_supply_system=supply_system.DirectHeater, cooling_supply_system=supply_system.DirectCooler,
                heating_emission_system=emission_system.AirConditioning,
                cooling_emission_system=emission_system.AirConditioning)
    t_m = 20.0
    heat = cool = 0.0
    te = inp["theta_e"]; ig = inp["internal"][z]; sg = inp["solar"][z]
    for h in range(n_t):
        zone.solve_energy(internal_gains=float(ig[h]), solar_gains=float(sg[h]), t_out=float(te[h]), t_m_prev=t_m)
        t_m = zone.t_m_next
        heat += zone.heating_demand
        cool += zone.cooling_demand
    out["heating_kwh"].append(heat / 1000.0)
    out["cooling_kwh"].append(-cool / 1000.0)
out["seconds"] = time.perf_counter() - t0
print(json.dumps(out))
'''


def bench_peer(weather, peer_path: Path, peer_python: str, n_zones: int) -> dict:
    """RC_BuildingSimulator and the jumeau kernel on the same zones, gains and weather."""
    rc_dir = peer_path / "rc_simulator"
    if not (rc_dir / "building_physics.py").is_file():
        return {"skipped": f"RC_BuildingSimulator not found at {peer_path} (see the docstring)"}
    rng = np.random.default_rng(1)
    n_t = len(weather)
    floor = rng.uniform(50, 400, n_zones)
    storey = 3.0
    zones = {
        "floor_area": floor, "room_vol": floor * storey, "total_internal_area": 4.5 * floor,
        "window_area": floor * rng.uniform(0.08, 0.25, n_zones), "walls_area": floor * rng.uniform(0.6, 1.5, n_zones),
        "u_walls": rng.uniform(0.2, 2.0, n_zones), "u_windows": rng.uniform(1.1, 4.0, n_zones),
        "ach_vent": rng.uniform(0.0, 1.0, n_zones), "ach_infl": rng.uniform(0.2, 1.0, n_zones),
        "cap": rng.choice([110_000.0, 165_000.0, 260_000.0], n_zones),
    }
    # hourly gains: a weekday office-like profile and south-facing windows from the weather (the same for both)
    from simulation.energy.solar import facade_irradiance
    from simulation.energy.weather import prepare_forcing

    f = prepare_forcing(weather)
    beam, diff, _, _ = facade_irradiance(azimuths=[180.0], sun_azimuth=f.sun_azimuth, sun_altitude=f.sun_altitude,
                                        dni=f.dni, dhi=f.dhi, ghi=f.ghi, dni_extra=f.dni_extra, model="isotropic")
    south = (beam + diff)[:, 0]
    hour = np.asarray(f.times.hour)
    occ = ((hour >= 8) & (hour < 18) & (np.asarray(f.times.day_of_week) < 5)).astype(float)
    internal = (floor[:, None] * (2.0 + 12.0 * occ[None, :]))
    solar = zones["window_area"][:, None] * 0.7 * south[None, :]
    with tempfile.TemporaryDirectory() as tmp:
        np.savez(Path(tmp) / "in.npz", theta_e=f.theta_e, internal=internal, solar=solar, **zones)
        script = Path(tmp) / "peer.py"
        script.write_text(PEER_SCRIPT)
        proc = subprocess.run([peer_python, str(script), str(rc_dir), str(Path(tmp) / "in.npz")],
                              capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        return {"skipped": f"the peer failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr else proc.returncode}"}
    peer = json.loads(proc.stdout.strip().splitlines()[-1])
    # the same zones in the jumeau kernel: conductances as RC_BuildingSimulator computes them
    rec = np.zeros(n_zones, dtype=_kernels.BUILDING_DTYPE)
    rec["h_inf"] = 1200.0 * zones["room_vol"] * (zones["ach_vent"] + zones["ach_infl"]) / 3600.0
    rec["h_tr_w"] = zones["u_windows"] * zones["window_area"]
    rec["h_tr_em"] = zones["u_walls"] * zones["walls_area"]
    rec["h_tr_is"] = 3.45 * zones["total_internal_area"]
    rec["h_tr_ms"] = 9.1 * 2.5 * floor
    rec["c_m"] = zones["cap"] * floor
    a_t = zones["total_internal_area"]
    rec["f_m"] = 2.5 * floor / a_t
    rec["f_st"] = 1.0 - 2.5 * floor / a_t - rec["h_tr_w"] / (9.1 * a_t)
    rec["gains"] = 1.0
    rec["th_on"] = rec["th_off"] = 20.0
    rec["tc"] = 26.0
    rec["phi_h_max"] = rec["phi_c_max"] = np.inf
    rec["theta_m0"] = 20.0
    rec["floor_area"] = floor
    rec["profile"] = np.arange(n_zones)
    rec["vent_cont"] = 1
    rec["active"] = 1
    hours = np.zeros(n_t, dtype=_kernels.HOUR_DTYPE)
    hours["theta_e"] = f.theta_e
    hours["theta_g"] = f.theta_e
    hours["sun"] = -1
    hours["month"] = f.month
    # each zone its own solar "bin" (aperture 1 m2) and its own gains profile (W at gains = 1)
    ap = np.eye(n_zones)
    kw = dict(hours=hours, beam=np.zeros((n_t, n_zones)), diffuse=np.ascontiguousarray(solar.T),
              shade=np.ones((n_zones, 1, n_zones), np.float32), sky=np.ones((n_zones, n_zones), np.float32),
              shade_roof=np.ones((n_zones, 1), np.float32), sky_roof=np.ones(n_zones, np.float32),
              occ=internal.astype(np.float32), comfort=np.ones((n_zones, n_t), np.uint8), warmup=0,
              overheat_threshold=99.0, window_open_above=99.0, blinds_above=99.0, blinds_irradiance=1e9)
    # float32 gains in the kernel's schedule array: give the peer's float64 values back exactly
    kw["occ"] = internal.astype(np.float32)
    out = run_kernel(rec, ap, windows=np.zeros_like(ap), **kw)
    t0 = time.perf_counter()
    out = run_kernel(rec, ap, windows=np.zeros_like(ap), **kw)
    ours_s = time.perf_counter() - t0
    ours_h = out["monthly"][:, :, 0].sum(axis=1) / 1000.0
    ours_c = out["monthly"][:, :, 1].sum(axis=1) / 1000.0
    peer_h = np.array(peer["heating_kwh"])
    peer_c = np.array(peer["cooling_kwh"])
    rel = np.abs(ours_h - peer_h) / np.maximum(peer_h, 1.0)
    return {"zones": n_zones, "hours": n_t,
            "peer_seconds": peer["seconds"], "peer_zone_hours_per_s": n_zones * n_t / peer["seconds"],
            "ours_seconds": ours_s, "ours_zone_hours_per_s": n_zones * n_t / ours_s,
            "speedup": peer["seconds"] / ours_s,
            "heating_kwh_peer_total": float(peer_h.sum()), "heating_kwh_ours_total": float(ours_h.sum()),
            "cooling_kwh_peer_total": float(peer_c.sum()), "cooling_kwh_ours_total": float(ours_c.sum()),
            "heating_max_relative_difference": float(rel.max()),
            "cooling_max_abs_difference_kwh": float(np.abs(ours_c - peer_c).max()),
            "note": "internal gains pass through a float32 schedule in jumeau (relative 6e-8)"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--buildings", type=int, default=100_000, help="buildings of the whole-pipeline run")
    ap.add_argument("--kernel-buildings", type=int, default=20_000, help="buildings of the kernel-only runs")
    ap.add_argument("--peer-zones", type=int, default=20)
    ap.add_argument("--peer-path", default=os.environ.get("JUMEAU_PEER_RC", "/tmp/peers-rc"))
    ap.add_argument("--peer-python", default=sys.executable)
    ap.add_argument("--weather", default=str(DEFAULT_EPW))
    ap.add_argument("--quick", action="store_true", help="10,000 buildings, 5,000 in the kernel runs, 5 peer zones")
    ap.add_argument("--out", default=str(RESULTS / "energy.json"))
    args = ap.parse_args(argv)
    if args.quick:
        args.buildings, args.kernel_buildings, args.peer_zones = 10_000, 5_000, 5
    weather, wsrc = load_weather(args.weather)
    res = {"machine": machine(numba_threads=numba.config.NUMBA_NUM_THREADS),
           "versions": {"python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__,
                        "shapely": shapely.__version__, "pandas": pd.__version__},
           "weather": wsrc}
    print(f"weather: {wsrc}")
    res["memory_bandwidth_gb_s"] = memory_bandwidth()
    print(f"memory bandwidth (copy): {res['memory_bandwidth_gb_s']:.1f} GB/s")
    res["kernel"] = bench_kernel(weather, args.kernel_buildings)
    k = res["kernel"]
    print(f"\n5R1C kernel, {k['buildings']} buildings x {k['hours']} h, {k['sun_cells']} sun cells x "
          f"{k['orientation_bins']} bins of shading")
    print(f"{'threads':>8} {'seconds':>9} {'building-h/s':>14} {'per CPU-s':>12} {'idle cores':>12}")
    for th in (1, 2):
        r = k[f"threads_{th}"]
        print(f"{th:>8} {r['seconds']:>9.2f} {r['building_hours_per_s']:>14.3g} {r['building_hours_per_cpu_s']:>12.3g}"
              f" {r['idle_cores_estimate']:>12.3g}")
    print(f"  (load average {res['machine']['load_average']}: 'idle cores' = per CPU-second x threads)")
    res["peer"] = bench_peer(weather, Path(args.peer_path), args.peer_python, args.peer_zones)
    p = res["peer"]
    print("\nRC_BuildingSimulator side by side (same zones, gains, weather)")
    if "skipped" in p:
        print(f"  skipped: {p['skipped']}")
    else:
        print(f"{'':>22} {'zone-h/s':>12} {'heating kWh':>13} {'cooling kWh':>13}")
        print(f"{'RC_BuildingSimulator':>22} {p['peer_zone_hours_per_s']:>12.3g} {p['heating_kwh_peer_total']:>13.1f} "
              f"{p['cooling_kwh_peer_total']:>13.1f}")
        print(f"{'jumeau (1 call)':>22} {p['ours_zone_hours_per_s']:>12.3g} {p['heating_kwh_ours_total']:>13.1f} "
              f"{p['cooling_kwh_ours_total']:>13.1f}")
        print(f"  speed-up x{p['speedup']:.0f}; largest heating difference {p['heating_max_relative_difference']:.1e} "
              f"(relative), cooling {p['cooling_max_abs_difference_kwh']:.1e} kWh")
    res["pipeline"] = bench_pipeline(weather, args.buildings)
    q = res["pipeline"]
    t = q["timings"]
    print(f"\nwhole model, {q['buildings']} buildings ({q['grid'][0]} x {q['grid'][1]} cells), shading included")
    for key in ("archetypes", "geometry", "network", "solar_and_shading", "kernel", "summary", "total"):
        print(f"  {key:<18} {t[key]:8.2f} s")
    print(f"  kernel building-hours/s {t['building_hours_per_second']:.3g}; all in {q['building_hours_per_s_all_in']:.3g}"
          f"; {q['shading']['facade_points']} facade points, {q['shading']['rays']:.3g} rays")
    write_results(res, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
