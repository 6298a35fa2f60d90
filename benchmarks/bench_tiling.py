"""Benchmark of tile-by-tile runs on dask: whole grid versus tiles (threads, processes), time, memory, accuracy.

Run from the repository root on a quiet machine::

    python benchmarks/bench_tiling.py                      # 2 km x 2 km town at 2 m, tiles of 500 m
    python benchmarks/bench_tiling.py --size 1000 --cell 1 --tile-size 250 --heat-halo 60

It prints a table and writes ``benchmarks/results/tiling.json`` (numbers, machine, versions).

The town is ``benchmarks/synthetic_town.py`` (``--size`` m square, ``--cell`` m cells,
buildings 4-15 m, street trees, a river valley) with luminaires every 30 m along its
streets (LED road lanterns, 8 m). It is built once and saved; every case then runs in
its own Python process, so that its peak memory (``ru_maxrss`` of the process, and of the
largest worker process with the ``processes`` scheduler) is its own; the run's own peak of NumPy
allocations in the client process is traced (``tracemalloc``, all threads):

* **lighting**: the illuminance raster (``LightingModel.illuminance``) on the whole grid,
  then tile by tile with the halo equal to the cut-off (60 m): the tiled raster must be
  the whole one to float32 rounding (the table reports the largest relative difference);
* **lighting_path**: the same tiles on the ``processes`` scheduler, but ``map_tiles`` gets the
  saved twin's path: each task reads its own padded window, the client opens nothing of the
  twin (its peak is that of the outputs); the raster must equal ``lighting_processes``'s bit for bit;
* **heat**: a 2003-like heatwave day (``HeatModel.run``), whole grid, then tiled with
  ``--heat-halo``: the table reports the largest and mean differences of the sky-view
  factor (beside the derived bound ``dz^2 / (dz^2 + H^2)``), of Tmrt and UTCI at the
  hottest hour and of the day's highest UTCI.

The wall times are those of the runs alone (the twin is opened first). On a 2-core
machine tiles cannot beat the whole grid (the kernels already use both cores, and the
halos add work: ``((tile + 2 halo) / tile)^2``); what tiling buys is memory per tile and
the means to spread a territory over machines (a ``dask.distributed`` cluster).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from _common import RESULTS, ROOT, machine, print_table, write_results

CASES = ("lighting_whole", "lighting_threads", "lighting_processes", "lighting_path", "heat_whole", "heat_threads", "heat_processes")
HEAT_LAYERS = ("svf", "svf_veg", "svf_north", "svf_east", "svf_south", "svf_west", "tmrt_hottest", "utci_hottest",
               "utci_max", "tmrt_max")


def build_town(size: float, cell: float, path: Path) -> dict:
    """The benchmark town with luminaires, saved at ``path``."""
    import geopandas as gpd
    import shapely

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from synthetic_town import synthetic_town

    t0 = time.perf_counter()
    n_b = int(300 * (size / 1000.0) ** 2)
    twin = synthetic_town(size, cell_size=cell, n_buildings=n_b, n_trees=int(n_b * 1.5))
    pts, orient = [], []
    for r in twin.roads.itertuples():
        (xa, ya), (xb, yb) = r.geometry.coords[0], r.geometry.coords[-1]
        off = r.width / 2 + 0.5
        for s in np.arange(15.0, r.geometry.length, 30.0):
            p = r.geometry.interpolate(s)
            if xa == xb:  # north-south street: lanterns on its east kerb, arms pointing west
                pts.append((p.x + off, p.y))
                orient.append(270.0)
            else:  # east-west: on the south kerb, arms pointing north
                pts.append((p.x, p.y - off))
                orient.append(0.0)
    g = twin.grid
    keep = [k for k, (x, y) in enumerate(pts) if g.contains(x, y)]
    n = len(keep)
    lum = gpd.GeoDataFrame({"id": np.arange(1, n + 1), "mounting_height": np.full(n, 8.0),
                            "orientation": np.array(orient)[keep], "tilt": np.zeros(n),
                            "photometry": ["builtin:road-led"] * n, "power": np.full(n, 40.0),
                            "flux": np.full(n, 6000.0), "cabinet": [f"C{k // 40}" for k in range(n)]},
                           geometry=[shapely.Point(pts[k]) for k in keep], crs=g.crs)
    twin.set_table("luminaires", lum)
    twin.save(path, overwrite=True)
    return {"cells": g.size, "shape": list(g.shape), "cell_size": g.cell_size, "buildings": len(twin.buildings),
            "trees": len(twin.trees), "luminaires": n, "build_seconds": round(time.perf_counter() - t0, 1)}


def run_case(case: str, twin_path: Path, out: Path, args) -> dict:
    """One case in this process: open the twin, run, save the maps; time and peak memory."""
    import warnings

    from twin import Twin

    model_name, mode = case.split("_")
    if mode == "path":  # the tiles read their windows from the saved twin: the client opens nothing of it
        from twin.grid import Window

        twin = Twin.open(twin_path, window=Window(0, 0, 1, 1))  # one cell: the model's parameters only
    else:
        twin = Twin.open(twin_path)
    rss_open = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()  # NumPy's allocations in this process (all threads), from here on
    tiling = {} if mode == "whole" else {"tile_size": args.tile_size, "scheduler": mode}
    info: dict = {}
    if mode == "path":
        import functools

        from simulation.lighting.model import LightingModel, _illuminance_tile
        from twin.tiling import map_tiles

        model = LightingModel(twin, facades=False)
        p = model.params
        func = functools.partial(_illuminance_tile, registry=model.registry, lut_size=model.lut_size,
                                 maintenance_factor=p["maintenance_factor"], cutoff=p["cutoff"],
                                 crown_extinction=p["crown_extinction"], crown_base_fraction=p["crown_base_fraction"])
        t0 = time.perf_counter()
        ds, extras = map_tiles(twin_path, func, tile_size=args.tile_size, halo=p["cutoff"], scheduler="processes",
                               extras=True)
        wall = time.perf_counter() - t0
        np.savez(out, illuminance=ds["illuminance"].values)
        info["evaluations"] = int(sum(n for _, n in extras))
    elif model_name == "lighting":
        from simulation.lighting.model import LightingModel

        model = LightingModel(twin, facades=False, **tiling)
        t0 = time.perf_counter()
        E, n = model.illuminance()
        wall = time.perf_counter() - t0
        np.savez(out, illuminance=E)
        info["evaluations"] = n
    else:
        from simulation.heat.forcing import HEATWAVE_PRESETS, heatwave_day
        from simulation.heat.model import HeatModel

        lat, lon = twin.grid.centre_latlon()
        p = dict(HEATWAVE_PRESETS["2003"])
        day = heatwave_day(date=p.pop("date"), latitude=lat, longitude=lon, **p)
        if tiling:
            tiling["halo"] = args.heat_halo
        model = HeatModel(twin, **tiling)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = model.run(day)
        wall = time.perf_counter() - t0
        np.savez(out, **{n: res[n] for n in HEAT_LAYERS})
        info["hottest"] = str(res.hottest)
        if "tiling" in res.meta:
            info["tiling"] = res.meta["tiling"]
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {"case": case, "wall_s": round(wall, 2), "rss_after_open_MB": round(rss_open, 1),
            "traced_peak_MB": round(traced, 1),
            "peak_rss_MB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "peak_rss_worker_MB": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1), **info}


def _diff(a, b):
    d = np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))
    d = d[np.isfinite(d)]
    return {"max": float(d.max()) if d.size else 0.0, "mean": float(d.mean()) if d.size else 0.0,
            "p99": float(np.percentile(d, 99)) if d.size else 0.0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=float, default=2000.0, help="side of the town [m] (2000)")
    ap.add_argument("--cell", type=float, default=2.0, help="cell size [m] (2)")
    ap.add_argument("--tile-size", type=float, default=500.0, help="tile side [m] (500)")
    ap.add_argument("--heat-halo", type=float, default=100.0, help="halo of the heat runs [m] (100)")
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated cases to run")
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--twin", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:  # a child: one case, its record on stdout
        print(json.dumps(run_case(args.case, Path(args.twin), Path(args.out), args)))
        return 0

    import dask

    import numba

    with tempfile.TemporaryDirectory(prefix="jumeau-bench-tiling-") as tmp:
        tmp = Path(tmp)
        town = build_town(args.size, args.cell, tmp / "town")
        print(f"town: {town}", flush=True)
        records = {}
        for case in args.cases.split(","):
            cmd = [sys.executable, str(Path(__file__).resolve()), "--case", case, "--twin", str(tmp / "town"),
                   "--out", str(tmp / f"{case}.npz"), "--size", str(args.size), "--cell", str(args.cell),
                   "--tile-size", str(args.tile_size), "--heat-halo", str(args.heat_halo)]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ | {"PYTHONWARNINGS": "ignore"})
            if proc.returncode:
                print(proc.stderr, file=sys.stderr)
                raise SystemExit(f"case {case} failed")
            records[case] = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"  {case}: {records[case]['wall_s']} s, peak {records[case]['peak_rss_MB']} MB", flush=True)
        maps = {c: dict(np.load(tmp / f"{c}.npz")) for c in records}

    accuracy = {}
    for mode in ("threads", "processes", "path"):
        whole, tiled = maps.get("lighting_whole"), maps.get(f"lighting_{mode}")
        if whole is not None and tiled is not None:
            E0, E1 = whole["illuminance"], tiled["illuminance"]
            rel = np.abs(E1.astype(np.float64) - E0) / np.maximum(E0, 1e-3)
            accuracy[f"lighting_{mode}"] = {"illuminance_lx": _diff(E0, E1), "max_relative": float(rel.max()),
                                            "bitwise_equal_cells": float(np.mean(E0 == E1))}
        if mode == "path" and "lighting_path" in maps and "lighting_processes" in maps:
            accuracy["lighting_path"]["equals_processes_bitwise"] = bool(np.array_equal(
                maps["lighting_path"]["illuminance"], maps["lighting_processes"]["illuminance"]))
        whole, tiled = maps.get("heat_whole"), maps.get(f"heat_{mode}")
        if whole is not None and tiled is not None:
            acc = {n: _diff(whole[n], tiled[n]) for n in HEAT_LAYERS}
            acc["bound"] = records[f"heat_{mode}"]["tiling"]["error_bound"]
            acc["same_hottest_hour"] = records[f"heat_{mode}"]["hottest"] == records["heat_whole"]["hottest"]
            if mode == "processes" and "heat_threads" in maps:
                acc["threads_equal_processes"] = all(np.array_equal(maps["heat_threads"][n], tiled[n], equal_nan=True)
                                                     for n in HEAT_LAYERS)
            accuracy[f"heat_{mode}"] = acc

    rows = []
    for case, r in records.items():
        base = records.get(case.split("_")[0] + "_whole")
        ratio = f"x{r['wall_s'] / base['wall_s']:.2f} of whole" if base and case != base["case"] else ""
        worker = f", worker {r['peak_rss_worker_MB']:.0f} MB" if case.endswith(("processes", "path")) else ""
        rows.append((case, f"{r['wall_s']:.1f} s", f"run {r['traced_peak_MB']:.0f} MB, peak RSS {r['peak_rss_MB']:.0f} MB "
                     f"(open {r['rss_after_open_MB']:.0f}){worker} {ratio}"))
    for key, a in accuracy.items():
        if key.startswith("lighting"):
            rows.append((f"{key} accuracy", f"{a['max_relative']:.1e}", "largest relative difference of E (float32 "
                         f"rounding), {100 * a['bitwise_equal_cells']:.1f} % of cells bit-equal"))
        else:
            rows.append((f"{key} svf", f"{a['svf']['max']:.4f}", f"max |dSVF| (bound {a['bound']['svf']:.4f}, "
                         f"mean {a['svf']['mean']:.1e})"))
            rows.append((f"{key} tmrt", f"{a['tmrt_hottest']['max']:.3f} K",
                         f"max |dTmrt| at the hottest hour (p99 {a['tmrt_hottest']['p99']:.3f}, "
                         f"mean {a['tmrt_hottest']['mean']:.1e})"))
            rows.append((f"{key} utci", f"{a['utci_hottest']['max']:.3f} K",
                         f"max |dUTCI| at the hottest hour (p99 {a['utci_hottest']['p99']:.3f}); "
                         f"utci_max {a['utci_max']['max']:.3f} K"))
    print_table(f"tiling: {args.size:g} m town at {args.cell:g} m ({town['cells']:,} cells), tiles of "
                f"{args.tile_size:g} m", rows, value_width=10)
    results = {
        "machine": machine(dask=dask.__version__, numba=numba.__version__, numpy=np.__version__,
                           numba_threads=numba.config.NUMBA_NUM_THREADS),
        "town": town, "tile_size_m": args.tile_size, "lighting_halo_m": 60.0, "heat_halo_m": args.heat_halo,
        "tiles": math.ceil(args.size / args.tile_size) ** 2, "runs": records, "accuracy": accuracy,
    }
    write_results(results, RESULTS / "tiling.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
