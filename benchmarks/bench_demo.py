"""Benchmark of the whole ``twin demo``: wall time, and where the time goes.

Runs ``twin demo`` (build the town, save it, render the overview, run every ready scenario
with all its pictures and reports) in a fresh temporary folder with an empty baseline cache,
then reads the timings each run recorded in its ``run.json`` (twin, baseline, interventions,
scenario, checks, write, render, report) and sums them per step and per scenario.
With ``--warm`` it runs the demo a second time on the same cache (baselines reused).

There is no peer for this measure (no other open tool runs these four fields end to end);
the machine's memory bandwidth (a large numpy copy, measured in the same run) is reported
beside it so that numbers from different machines can be put in proportion.

Usage::

    python benchmarks/bench_demo.py [--cell-size 1] [--scenarios a,b] [--warm] [--no-render]

Prints a table and writes ``benchmarks/results/demo.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import RESULTS, machine, memory_bandwidth, write_results


def run_demo(out: Path, args) -> float:
    from scenarios.cli.main import main

    argv = ["--quiet", "demo", "--out", str(out), "--cell-size", str(args.cell_size), "--overwrite"]
    if args.scenarios:
        argv += ["--scenarios", args.scenarios]
    if args.no_render:
        argv.append("--no-render")
    t0 = time.perf_counter()
    code = main(argv)
    wall = time.perf_counter() - t0
    if code not in (0, 1):
        raise SystemExit(f"twin demo exited with {code}")
    return wall


def collect(out: Path) -> dict:
    index = json.loads((out / "index.json").read_text())
    per_scenario, per_step = {}, {}
    for e in index["scenarios"]:
        if e["status"] != "ok":
            per_scenario[e["name"]] = {"status": e["status"], "message": e["message"]}
            continue
        rec = json.loads((out / e["name"] / "run.json").read_text())
        t = rec["timings"]
        per_scenario[e["name"]] = {
            "status": "ok",
            "kind": rec["kind"],
            "total_s": round(sum(t.values()), 3),
            "steps_s": t,
            "baseline_reused": rec["baseline"]["reused"],
            "cells": int(np.prod(rec["twin"]["summary"]["shape"])),
        }
        for k, v in t.items():
            per_step[k] = round(per_step.get(k, 0.0) + v, 3)
    return {
        "build_town_s": index.get("timings", {}).get("build_town"),
        "per_scenario": per_scenario,
        "per_step_s": dict(sorted(per_step.items(), key=lambda kv: -kv[1])),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell-size", type=float, default=1.0)
    parser.add_argument("--scenarios", help="comma-separated subset of the ready scenarios")
    parser.add_argument("--warm", action="store_true", help="run a second time with the baselines cached")
    parser.add_argument("--no-render", action="store_true")
    parser.add_argument("--out", default=str(RESULTS / "demo.json"))
    args = parser.parse_args()
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    from scenarios.runner import versions

    bw = memory_bandwidth()
    results: dict = {
        "machine": machine(memory_bandwidth_GBps=round(bw, 2)),
        "versions": versions(),
        "cell_size": args.cell_size,
        "render": not args.no_render,
        "runs": {},
    }
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        tmp = Path(tmp)
        os.environ["JUMEAU_CACHE_DIR"] = str(tmp / "cache")
        passes = ["cold"] + (["warm"] if args.warm else [])
        for name in passes:
            wall = run_demo(tmp / "demo", args)
            results["runs"][name] = {"wall_s": round(wall, 3), **collect(tmp / "demo")}
    print(f"memory bandwidth (numpy copy): {bw:.1f} GB/s")
    for name, r in results["runs"].items():
        print(f"\n== {name}: twin demo {r['wall_s']:.1f} s wall (town built in {r['build_town_s']} s)")
        print(f"{'scenario':<28} {'kind':<9} {'total s':>8}  steps")
        for sc, v in r["per_scenario"].items():
            if v["status"] != "ok":
                print(f"{sc:<28} {'':<9} {'':>8}  {v['status']}: {v['message']}")
                continue
            steps = ", ".join(f"{k} {s:.2f}" for k, s in sorted(v["steps_s"].items(), key=lambda kv: -kv[1])[:4])
            print(f"{sc:<28} {v['kind']:<9} {v['total_s']:>8.2f}  {steps}")
        print("per step (all scenarios): " + ", ".join(f"{k} {v:.2f} s" for k, v in r["per_step_s"].items()))
    write_results(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
