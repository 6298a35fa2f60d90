"""Benchmark of the public-lighting kernels: luminaire-point evaluations per second, with and without occlusion.

Run from the repository root on a quiet machine::

    python benchmarks/bench_lighting.py                 # 2 km x 2 km at 1 m, 3,000 luminaires, 3 repeats
    python benchmarks/bench_lighting.py --size 1000 --repeat 5 --cutoff 60

It prints a table and writes ``benchmarks/results/lighting.json`` (numbers, machine, versions).

No open town-scale lighting engine publishes timings (peers.md), so the kernels are
measured against the machine, in the same run and on the same inputs:

* the **plain kernel** (no occlusion: each luminaire's disc scanned row by row), the
  baseline a point-by-point road-lighting program does (~1.6e7 evaluations/s quoted);
* the **occlusion kernel** with buildings only, then with buildings and tree crowns
  (exact Beer-Lambert path lengths), on 1 and 2 threads;
* the **memory bandwidth** (a 256 MB NumPy copy), with the bytes each evaluation moves
  (the kernels are compute-bound: they touch 8-16 bytes per evaluation);
* the **accuracy** of the occlusion kernel against the exact per-pair segment traversal
  (the point kernel) on a 400 m x 400 m window;
* the whole model (illuminance, EN 13201, rules, energy, facades) on the demo town.

An "evaluation" is one luminaire-cell pair within the cut-off radius. The scene is a
synthetic town (``--size`` m square at 1 m): a street grid every 80 m, 9 m buildings in
the blocks, street trees along every fourth street, luminaires every 25 m along the
streets (a third sodium globes, the rest LED road lanterns), 8 m high.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
from _common import RESULTS, machine, memory_bandwidth, print_table, timed, timed_cpu, write_results


def synthetic_lit_town(size: float, n_lum: int, *, trees: bool = True):
    """The benchmark town (see the module doc): a Twin with buildings, trees and ``n_lum`` luminaires."""
    import geopandas as gpd
    import shapely

    from twin import Grid, Twin

    L = int(size)
    g = Grid.from_bounds(0, 0, L, L, cell_size=1.0)
    t = Twin.empty(g, terrain=100.0)
    yy, xx = np.mgrid[0:L, 0:L]
    blk = ((xx % 80) > 12) & ((yy % 80) > 12)
    bh = np.zeros(g.shape, np.float32)
    bh[blk & (((xx // 10) + (yy // 10)) % 3 != 0)] = 9.0
    t.set_layer("building_height", bh)
    if trees:
        ch = np.zeros(g.shape, np.float32)
        ch[((xx % 320) > 1) & ((xx % 320) < 6) & ((yy % 20) < 8) & ~blk] = 8.0
        t.set_layer("canopy_height", ch)
    pts = []
    for k in range(0, L, 80):
        for s in np.arange(10, L, 25):
            pts.append((k + 6.3, s))
            pts.append((s, k + 6.3))
    pts = np.array(pts)
    rng = np.random.default_rng(0)
    pts = pts[rng.permutation(len(pts))[:n_lum]]
    n = len(pts)
    lum = gpd.GeoDataFrame({"id": np.arange(1, n + 1), "mounting_height": np.full(n, 8.0),
                            "orientation": rng.choice([0.0, 90.0, 180.0, 270.0], n), "tilt": np.zeros(n),
                            "photometry": np.where(np.arange(n) % 3 == 0, "builtin:globe-hps", "builtin:road-led"),
                            "power": np.full(n, 50.0), "flux": np.full(n, 6000.0)},
                           geometry=shapely.points(pts), crs=g.crs)
    t.set_table("luminaires", lum)
    return t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=float, default=2000.0, help="side of the synthetic town [m] (1 m cells)")
    ap.add_argument("--luminaires", type=int, default=3000)
    ap.add_argument("--cutoff", type=float, default=40.0, help="cut-off radius [m] (peers.md quotes 40 m)")
    ap.add_argument("--repeat", type=int, default=3, help="repeats per timing (median reported)")
    ap.add_argument("--no-demo", action="store_true", help="skip the whole-model row on the demo town")
    ap.add_argument("--out", default=str(RESULTS / "lighting.json"))
    args = ap.parse_args(argv)

    import numba

    from simulation.lighting.illuminance import prepare_scene

    max_threads = numba.config.NUMBA_NUM_THREADS
    threads = [1, 2] if max_threads >= 2 else [1]
    rows: list[tuple[str, str, str]] = []
    res: dict = {"size_m": args.size, "luminaires": args.luminaires, "cutoff_m": args.cutoff, "repeat": args.repeat,
                 "machine": machine()}
    bw = memory_bandwidth()
    res["memory_bandwidth_gb_s"] = bw
    rows.append(("memory bandwidth (NumPy copy)", f"{bw:.1f} GB/s", "the machine's limit"))

    town = synthetic_lit_town(args.size, args.luminaires)
    res["cells"] = town.grid.size
    common = dict(maintenance_factor=0.8, cutoff=args.cutoff, crown_base_fraction=0.25)
    scenes = {"buildings": prepare_scene(town, crown_extinction=0.0, **common),
              "buildings + trees": prepare_scene(town, crown_extinction=0.5, **common)}
    for sc in scenes.values():
        sc.horizontal_illuminance()                       # compile and warm up
        sc.horizontal_illuminance(occlusion=False)
    cases = [("plain (no occlusion)", scenes["buildings"], False),
             ("occlusion: buildings", scenes["buildings"], True),
             ("occlusion: buildings + trees", scenes["buildings + trees"], True)]
    res["kernels"] = {}
    old = numba.get_num_threads()
    try:
        for name, sc, occ in cases:
            for th in threads:
                numba.set_num_threads(th)
                t, c, (E, n) = timed_cpu(lambda sc=sc, occ=occ: sc.horizontal_illuminance(occlusion=occ), args.repeat,
                                         stat=statistics.median)
                rate = n / t
                key = f"{name}, {th} thread{'s' if th > 1 else ''}"
                bytes_per_eval = 8 if not occ else (8 if name.endswith("buildings") else 16)
                res["kernels"][key] = {"seconds": t, "cpu_seconds": c, "evaluations": int(n),
                                       "evaluations_per_s": rate, "evaluations_per_cpu_s": n / c,
                                       "effective_gb_s": rate * bytes_per_eval / 1e9}
                rows.append((key, f"{t:.3f} s", f"{rate:.2e} eval/s, {n / c:.2e} per CPU-s ({n:,} pairs; "
                                                f"{rate * bytes_per_eval / 1e9 / bw:.1%} of bandwidth)"))
    finally:
        numba.set_num_threads(old)
    occl2 = res["kernels"].get("occlusion: buildings, 2 threads") or res["kernels"]["occlusion: buildings, 1 thread"]
    res["target"] = {"evaluations_per_s_with_occlusion": 5e7, "met_buildings": occl2["evaluations_per_s"] >= 5e7,
                     "town_seconds_buildings": occl2["seconds"], "town_target_s": 2.0}
    rows.append(("target: 2 km town, 3,000 luminaires", f"{occl2['seconds']:.2f} s", "< 2 s; >= 5e7 eval/s"))

    # accuracy against the exact per-pair traversal on a window
    w = min(400, int(args.size))
    sub = synthetic_lit_town(w, max(10, int(args.luminaires * (w / args.size) ** 2)))
    sc = prepare_scene(sub, crown_extinction=0.5, **common)
    E, _ = sc.horizontal_illuminance()
    X, Y = np.meshgrid(sub.grid.x, sub.grid.y)
    exact = sc.point_illuminance(X.ravel(), Y.ravel(), sc.hard.ravel().astype(float)).reshape(E.shape)
    within = np.isclose(E, exact, rtol=0.02, atol=0.01).mean()
    res["accuracy"] = {"window_m": w, "cells_within_2pct": float(within),
                       "relative_total_difference": float(E.sum() / exact.sum() - 1),
                       "max_abs_difference_lx": float(np.abs(E - exact).max())}
    rows.append(("accuracy vs exact traversal", f"{within:.4%}", f"cells within 2 % ({w} m window, buildings + trees)"))

    if not args.no_demo:
        try:
            from importers.demo import build_demo_town
        except ImportError:
            rows.append(("demo town, whole model", "skipped", "importers.demo not available"))
        else:
            from simulation.lighting import LightingModel

            demo = build_demo_town(seed=2023, cell_size=1.0, size=1000.0)
            LightingModel(demo).run()
            t, r = timed(lambda: LightingModel(demo).run(), max(1, args.repeat - 1), stat=statistics.median)
            res["demo_model"] = {"seconds": t, "luminaires": len(demo.luminaires), "timings": r.meta["timings"],
                                 "evaluations": r.meta["evaluations"]}
            rows.append(("demo town 1 km, whole model", f"{t:.2f} s",
                         f"{len(demo.luminaires)} luminaires, 60 m cut-off, EN 13201, facades, energy"))

    import numba as nb

    res["versions"] = {"numpy": np.__version__, "numba": nb.__version__}
    print_table(f"lighting benchmark: {args.size:g} m town at 1 m ({town.grid.size:,} cells), {args.luminaires} "
                f"luminaires, cut-off {args.cutoff:g} m; load average {res['machine']['load_average']}", rows)
    write_results(res, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
