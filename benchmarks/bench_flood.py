"""Benchmark of the flood model, side by side with landlab's OverlandFlow and against the machine's memory bandwidth.

Peer setup (a separate virtual environment, never a project dependency)::

    python -m venv /tmp/peers-landlab
    /tmp/peers-landlab/bin/pip install landlab "requireit==0.8.0"

Run from the repository root on a quiet machine::

    python benchmarks/bench_flood.py --peer-python /tmp/peers-landlab/bin/python
    python benchmarks/bench_flood.py --size 300 --demo          # bigger comparison, and the demo thunderstorm

(``$JUMEAU_PEER_LANDLAB`` may name the peer's python instead of ``--peer-python``.) It prints a table
and writes ``benchmarks/results/flood.json`` (numbers, machine, versions).

What is measured:

1. **Same DEM, rain and roughness** as landlab's ``OverlandFlow`` (de Almeida et al. 2012 in numpy):
   a smooth synthetic terrain of ``size`` x ``size`` cells at 1 m with closed edges, 60 mm/h for
   10 min, 15 min simulated, n = 0.03, no infiltration, theta 0.8, alpha 0.7, no Froude cap in either
   model. Cell-updates per second (cells x time steps / wall time) of jumeau on 1 and 2 threads and of
   landlab (one process; numpy is single-threaded here), the difference of the final and of the
   maximum depths, and each model's volume error.
2. **Kernel throughput** on 1000 x 1000 cells with rain everywhere (every tile active), 1 and 2
   threads, as cell-updates per second and as an effective memory bandwidth: the three passes stream
   :data:`BYTES_PER_UPDATE` bytes per cell update, compared with a plain NumPy copy measured in the
   same run.
3. **Per pass**: nanoseconds per cell of the momentum, positivity and continuity passes on one thread
   (500 x 500, every tile active).
4. **Cost versus wet area**: a point inflow spreading on a dry 600 x 600 plain; milliseconds per step
   against the fraction of cells wet and of tiles computed (dry tiles are skipped).
5. **Static screening** on 1000 x 1000 cells: priority-flood filling, fill-spill of 50 mm of runoff and a
   bathtub map, in cells per second (peers.md: a numba priority-flood does 7-9e6 cells/s).
6. With ``--demo``: the demo town's thunderstorm (scenarios/library/thunderstorm.toml, baseline run)
   through the scenario kind, its wall time and throughput.

Timings on a machine shared with other jobs are noisy: compare the ratios, rerun on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: Bytes moved per cell update by the three passes (momentum 36, positivity 20, continuity 105: the arrays
#: each pass reads and writes once, write-allocate of the output-only arrays included; the continuity reads
#: the debris factors as two float32 per cell so that its tracker loop vectorises).
BYTES_PER_UPDATE = 161

RAIN_MM_H = 60.0
RAIN_S = 600.0
DURATION_S = 900.0
MANNING = 0.03

PEER_SCRIPT = textwrap.dedent('''
    import json, sys, time
    import numpy as np
    from landlab import RasterModelGrid
    from landlab.components import OverlandFlow

    z = np.load(sys.argv[1]); out = sys.argv[2]
    rain, rain_s, duration, n = (float(v) for v in sys.argv[3:7])
    ny, nx = z.shape
    grid = RasterModelGrid((ny + 2, nx + 2), xy_spacing=1.0)
    topo = grid.add_zeros("topographic__elevation", at="node")
    topo.reshape(ny + 2, nx + 2)[1:-1, 1:-1] = z[::-1]  # landlab rows go north from the south
    topo.reshape(ny + 2, nx + 2)[0, :] = topo.reshape(ny + 2, nx + 2)[-1, :] = 1e3
    topo.reshape(ny + 2, nx + 2)[:, 0] = topo.reshape(ny + 2, nx + 2)[:, -1] = 1e3
    grid.set_closed_boundaries_at_grid_edges(True, True, True, True)
    grid.add_zeros("surface_water__depth", at="node")
    of = OverlandFlow(grid, mannings_n=n, rainfall_intensity=rain / 3.6e6, theta=0.8, alpha=0.7)
    steps = [0]
    calc = of.calc_time_step
    def counted():
        steps[0] += 1
        return calc()
    of.calc_time_step = counted
    h = grid.at_node["surface_water__depth"]
    core = grid.core_nodes
    h0 = float(h[core].sum())
    hmax = np.zeros(core.size)
    t = 0.0
    t0 = time.perf_counter()
    while t < duration - 1e-9:
        if t >= rain_s:
            of.rainfall_intensity = 0.0
        stop = min(t + 10.0, rain_s if t < rain_s else duration)
        of.run_one_step(dt=stop - t)
        t = stop
        np.maximum(hmax, h[core], out=hmax)
    wall = time.perf_counter() - t0
    hfin = h[core].reshape(ny, nx)[::-1]
    rain_vol = rain / 3.6e6 * rain_s * ny * nx
    np.save(out + "_final.npy", hfin)
    np.save(out + "_max.npy", hmax.reshape(ny, nx)[::-1])
    import landlab
    json.dump({"wall_s": wall, "steps": steps[0] - 10 * 0, "nodes": int(core.size),
               "volume_error": abs(float(h[core].sum()) - h0 - rain_vol) / rain_vol,
               "version": landlab.__version__}, open(out + ".json", "w"))
''')


def bandwidth(n_bytes: int = 256 * 2**20, repeat: int = 5) -> float:
    """Memory bandwidth of a plain NumPy copy [GB/s] (bytes read + written)."""
    a = np.ones(n_bytes // 8)
    b = np.empty_like(a)
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t0)
    return 2 * a.nbytes / best / 1e9


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "load_average_1min": load}


def smooth_dem(size: int, seed: int = 7) -> np.ndarray:
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    z = ndimage.gaussian_filter(rng.random((size, size)), 6) * 40.0
    z += np.linspace(1.0, 0.0, size)[None, :]
    return (z - z.min()).astype(np.float32)


def run_jumeau(z: np.ndarray, threads: int) -> dict:
    from simulation.flood import FloodModel, Forcing, Rain
    from twin import Grid, Twin
    from twin.layers import Landcover

    ny, nx = z.shape
    tw = Twin.empty(Grid(xmin=0.0, ymax=float(ny), nrows=ny, ncols=nx, cell_size=1.0), terrain=z)
    f = Forcing(duration=DURATION_S, rain=Rain.constant(RAIN_MM_H, duration=RAIN_S))
    m = FloodModel(tw, forcing=f, manning={c: MANNING for c in Landcover}, infiltration={c: (0, 0) for c in Landcover},
                   froude_max=0.0, threads=threads)
    r = m.run(output_interval=DURATION_S / 10, quiet=True)
    return {"threads": threads, "wall_s": r.wall_time, "steps": r.steps, "cell_updates": r.cell_updates,
            "cell_updates_per_s": r.cell_updates / r.wall_time, "volume_error": r.volume_error,
            "final": r.depth, "max": r.max_depth}


def compare_with_landlab(size: int, peer: str | None) -> dict:
    z = smooth_dem(size)
    out: dict = {"size": size, "cells": size * size, "rain_mm_h": RAIN_MM_H, "rain_s": RAIN_S,
                 "duration_s": DURATION_S, "manning_n": MANNING}
    runs = [run_jumeau(z, t) for t in (1, 2)]
    for r in runs:
        out[f"jumeau_{r['threads']}_threads"] = {k: v for k, v in r.items() if k not in ("final", "max")}
    if not peer:
        out["landlab"] = "skipped: give --peer-python or $JUMEAU_PEER_LANDLAB (see this script's docstring)"
        return out
    with tempfile.TemporaryDirectory() as tmp:
        dem = Path(tmp) / "dem.npy"
        np.save(dem, z)
        script = Path(tmp) / "peer_landlab.py"
        script.write_text(PEER_SCRIPT)
        base = str(Path(tmp) / "ll")
        subprocess.run([peer, str(script), str(dem), base, str(RAIN_MM_H), str(RAIN_S), str(DURATION_S), str(MANNING)],
                       check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        ll = json.loads(Path(base + ".json").read_text())
        ll_final = np.load(base + "_final.npy")
        ll_max = np.load(base + "_max.npy")
    ll["cell_updates_per_s"] = ll["steps"] * ll["nodes"] / ll["wall_s"]
    out["landlab"] = ll
    j = runs[0]
    for what, a, b in (("final_depth", j["final"], ll_final), ("max_depth", j["max"], ll_max)):
        wet = (a > 0.01) | (b > 0.01)
        d = np.abs(a.astype(np.float64) - b)[wet]
        out[f"{what}_difference"] = {
            "wet_cells": int(wet.sum()), "mean_abs_m": float(d.mean()), "p99_abs_m": float(np.percentile(d, 99)),
            "max_abs_m": float(d.max()), "largest_depth_jumeau_m": float(a.max()), "largest_depth_landlab_m": float(b.max()),
            "correlation": float(np.corrcoef(a[wet], b[wet])[0, 1]),
        }
    for t in (1, 2):
        out[f"speedup_{t}_threads_vs_landlab"] = out[f"jumeau_{t}_threads"]["cell_updates_per_s"] / ll["cell_updates_per_s"]
    return out


def kernel_throughput(copy_gbs: float, size: int = 1000, steps: int = 40) -> dict:
    """Rain everywhere on a wet 1000 x 1000 grid: every tile is computed every step."""
    from simulation.flood import FloodModel, Forcing, Rain
    from twin import Grid, Twin

    z = smooth_dem(size, seed=3)
    tw = Twin.empty(Grid(xmin=0.0, ymax=float(size), nrows=size, ncols=size, cell_size=1.0), terrain=z)
    tw.set_layer("water_level", z + 0.05)  # wet from the start
    out = {"cells": size * size, "bytes_per_update": BYTES_PER_UPDATE}
    for threads in (1, 2):
        f = Forcing(duration=3600.0, rain=Rain.constant(60.0, duration=3600.0))
        m = FloodModel(tw, forcing=f, threads=threads, dt_max=0.2, initial_water=True)
        m.run_one_step(0.4)  # warm-up (compilation is cached)
        t0 = time.perf_counter()
        n0, c0 = m.steps, m.cell_updates
        m.run_one_step(0.2 * steps)
        wall = time.perf_counter() - t0
        rate = (m.cell_updates - c0) / wall
        gbs = rate * BYTES_PER_UPDATE / 1e9
        out[f"{threads}_threads"] = {"steps": m.steps - n0, "wall_s": wall, "cell_updates_per_s": rate,
                                     "effective_GB_s": gbs, "fraction_of_copy_bandwidth": gbs / copy_gbs}
    return out


def per_pass(size: int = 500, repeat: int = 7) -> dict:
    """Nanoseconds per cell of each pass on one thread (every tile active), best of ``repeat`` x 10 calls.

    CPU time of the process (``time.process_time``) as well as wall time: on a machine shared with other
    jobs the CPU time of a one-thread run is the steadier of the two.
    """
    import numba

    from simulation.flood import FloodModel, Forcing, Rain
    from simulation.flood import _kernels as K
    from simulation.flood.parameters import DEBRIS_THRESHOLDS
    from twin import Grid, Twin

    z = smooth_dem(size, seed=3)
    tw = Twin.empty(Grid(xmin=0.0, ymax=float(size), nrows=size, ncols=size, cell_size=1.0), terrain=z)
    tw.set_layer("water_level", z + 0.05)
    m = FloodModel(tw, forcing=Forcing(duration=3600.0, rain=Rain.constant(60.0, duration=3600.0)), threads=1,
                   dt_max=0.2)
    m.run_one_step(1.0)
    numba.set_num_threads(1)
    ny, nx = m.shape
    act = np.ones_like(m.act)
    bc = m._bc
    dt, dx = 0.1, m.dx
    kw = dict(dt=dt, dx=dx)

    def momentum():
        K.momentum(m.h, m.z, m.nman, m.qx, m.qy, m.qxn, m.qyn, *bc, act, m.tr, m.tc, 0, ny, 0, m.nb,
                   g=9.80665, theta=0.8, h_min=1e-3, froude_max=1.0, fallback=True, **kw)

    def positivity():
        K.outflow_factor(m.h, m.qxn, m.qyn, m.fac, act, m.tr, m.tc, 0, ny, 0, m.nb, **kw)

    def continuity():
        K.continuity(m.h, m.hlo, m.flags, m.inf_rate, m.drn_rate, m.dfmid, m.dfhigh, m.qxn, m.qyn, m.fac, m.qx, m.qy,
                     m.initial_loss, m.rain_field, m.ga_k, m.ga_s, m.ga_f, m.max_depth, m.max_speed, m.max_hazard, m.arrival, m.ledger_rows,
                     m.rowmax, act, m.tr, m.tc, 0, ny, 0, m.nb, rain_rate=1e-5, use_rain_field=False, green_ampt=False, t_end=10.0,
                     arrival_depth=0.1, speed_depth=0.01, d_mid=DEBRIS_THRESHOLDS["d_mid"],
                     d_high=DEBRIS_THRESHOLDS["d_high"], v_high=DEBRIS_THRESHOLDS["v_high"], **kw)

    out = {"cells": ny * nx, "tile": [m.tr, m.tc]}
    for name, fn in (("momentum", momentum), ("positivity", positivity), ("continuity", continuity)):
        fn()
        cpu, wall = np.inf, np.inf
        for _ in range(repeat):
            c0, w0 = time.process_time(), time.perf_counter()
            for _ in range(10):
                fn()
            cpu = min(cpu, (time.process_time() - c0) / 10)
            wall = min(wall, (time.perf_counter() - w0) / 10)
        out[name] = {"cpu_ns_per_cell": cpu * 1e9 / (ny * nx), "wall_ns_per_cell": wall * 1e9 / (ny * nx)}
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    return out


def cost_vs_wet_area(size: int = 600, duration: float = 1800.0) -> dict:
    from simulation.flood import FloodModel, Forcing, Inflow
    from twin import Grid, Twin

    tw = Twin.empty(Grid(xmin=0.0, ymax=float(size), nrows=size, ncols=size, cell_size=1.0),
                    terrain=np.zeros((size, size), np.float32))
    c = size / 2 + 0.5
    f = Forcing(duration=duration, inflows=[Inflow([(0, 5.0), (duration, 5.0)], (c, c), name="source")])
    m = FloodModel(tw, forcing=f)
    rows = []
    last = {"t": time.perf_counter(), "steps": 0, "cu": 0.0}

    def record(model):
        now = time.perf_counter()
        dsteps = model.steps - last["steps"]
        if dsteps:
            rows.append({"time_s": model.t, "wet_fraction": float((model.h > 0).mean()),
                         "computed_fraction": float((model.cell_updates - last["cu"]) / dsteps / model.h.size),
                         "ms_per_step": (now - last["t"]) / dsteps * 1e3})
        last.update(t=now, steps=model.steps, cu=model.cell_updates)

    m.run_one_step(1.0)  # warm-up
    last.update(t=time.perf_counter(), steps=m.steps, cu=m.cell_updates)
    m.run(output_interval=duration / 12, on_output=record, quiet=True)
    return {"cells": size * size, "inflow_m3_s": 5.0, "rows": rows}


def screening(size: int = 1000) -> dict:
    from simulation.flood.screening import bathtub, fill_depressions, fill_spill

    z = smooth_dem(size, seed=11).astype(np.float64)
    fill_depressions(z[:50, :50])
    fill_spill(z[:50, :50], cell_size=1.0, water=0.05)
    bathtub(z[:50, :50], 1.0, seeds="edges")
    out = {"cells": size * size}
    for name, fn in (("priority_flood", lambda: fill_depressions(z)),
                     ("fill_spill", lambda: fill_spill(z, cell_size=1.0, water=0.05)),
                     ("bathtub", lambda: bathtub(z, float(np.percentile(z, 30)), seeds="edges"))):
        t0 = time.perf_counter()
        fn()
        wall = time.perf_counter() - t0
        out[name] = {"wall_s": wall, "cells_per_s": size * size / wall}
    return out


def demo_thunderstorm() -> dict:
    import tomllib

    from importers.demo import build_demo_town
    from scenarios.kinds import get_kind

    path = ROOT / "scenarios" / "library" / "thunderstorm.toml"
    sc = tomllib.loads(path.read_text())
    kind = get_kind("flood")
    cfg = kind.parse(sc, base_dir=path.parent)
    town = build_demo_town(seed=2023, cell_size=1.0)
    t0 = time.perf_counter()
    res = kind.simulate(town, cfg)
    wall = time.perf_counter() - t0
    return {"scenario": sc["name"], "model_cell_size_m": res.meta["model_cell_size_m"], "wall_s": wall,
            "run_s": res.meta["run_wall_time_s"], "steps": res.meta["steps"],
            "cell_updates_per_s": res.meta["cell_updates"] / res.meta["run_wall_time_s"],
            "volume_error": res.meta["volume_error"],
            "indicators": {i.name: i.value for i in res.indicators}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer-python", default=os.environ.get("JUMEAU_PEER_LANDLAB"),
                    help="python of a venv with landlab (default: $JUMEAU_PEER_LANDLAB)")
    ap.add_argument("--size", type=int, default=200, help="side of the comparison DEM in cells (default 200)")
    ap.add_argument("--demo", action="store_true", help="also time the demo thunderstorm")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "flood.json"))
    args = ap.parse_args(argv)

    import numba

    import simulation.flood  # noqa: F401  (sets the OpenMP wait policy before any parallel kernel)

    res: dict = {"machine": machine(), "versions": {"numpy": np.__version__, "numba": numba.__version__}}
    # compile everything once on a tiny grid so that no timing below includes compilation
    t0 = time.perf_counter()
    run_jumeau(smooth_dem(32), 1)
    res["compile_s"] = time.perf_counter() - t0
    copy = bandwidth()
    res["copy_bandwidth_GB_s"] = copy
    print(f"memory bandwidth (numpy copy): {copy:.1f} GB/s; first compile {res['compile_s']:.0f} s")
    res["same_dem"] = compare_with_landlab(args.size, args.peer_python)
    sd = res["same_dem"]
    print(f"\nsame DEM {args.size} x {args.size} at 1 m, {RAIN_MM_H:g} mm/h for {RAIN_S:g} s, {DURATION_S:g} s simulated")
    print(f"{'model':<22}{'steps':>8}{'wall s':>10}{'cell-updates/s':>18}{'volume error':>15}")
    for key in ("jumeau_1_threads", "jumeau_2_threads", "landlab"):
        r = sd.get(key)
        if isinstance(r, dict):
            print(f"{key:<22}{r['steps']:>8}{r['wall_s']:>10.2f}{r['cell_updates_per_s']:>18.3g}{r['volume_error']:>15.2e}")
        else:
            print(f"{key:<22}{r}")
    for t in (1, 2):
        k = f"speedup_{t}_threads_vs_landlab"
        if k in sd:
            print(f"speed-up on {t} thread(s): {sd[k]:.1f} x landlab (target >= 10)")
    for what in ("final_depth", "max_depth"):
        d = sd.get(f"{what}_difference")
        if d:
            print(f"{what}: mean |diff| {d['mean_abs_m'] * 1000:.1f} mm, p99 {d['p99_abs_m'] * 1000:.1f} mm, "
                  f"max {d['max_abs_m'] * 1000:.0f} mm over {d['wet_cells']} wet cells, r = {d['correlation']:.4f}")
    res["kernel"] = kernel_throughput(copy)
    print(f"\nkernel on 1000 x 1000, every tile wet, {BYTES_PER_UPDATE} bytes per cell update")
    for t in (1, 2):
        k = res["kernel"][f"{t}_threads"]
        print(f"{t} thread(s): {k['cell_updates_per_s']:.3g} cell-updates/s, {k['effective_GB_s']:.2f} GB/s = "
              f"{100 * k['fraction_of_copy_bandwidth']:.0f} % of the copy bandwidth")
    res["per_pass"] = per_pass()
    pp = res["per_pass"]
    print(f"\nper pass, 1 thread, {pp['cells']} cells, every tile active (ns per cell: CPU time / wall time)")
    for k in ("momentum", "positivity", "continuity"):
        print(f"{k:<12}{pp[k]['cpu_ns_per_cell']:>8.2f}{pp[k]['wall_ns_per_cell']:>8.2f}")
    res["wet_area"] = cost_vs_wet_area()
    print("\ncost vs wet area (point inflow on a dry 600 x 600 plain)")
    print(f"{'t s':>8}{'wet %':>8}{'computed %':>12}{'ms/step':>10}")
    for r in res["wet_area"]["rows"]:
        print(f"{r['time_s']:>8.0f}{100 * r['wet_fraction']:>8.1f}{100 * r['computed_fraction']:>12.1f}"
              f"{r['ms_per_step']:>10.2f}")
    res["screening"] = screening()
    print("\nstatic screening on 1000 x 1000 cells")
    for k in ("priority_flood", "fill_spill", "bathtub"):
        r = res["screening"][k]
        print(f"{k:<16}{r['wall_s']:>8.2f} s{r['cells_per_s']:>12.3g} cells/s")
    if args.demo:
        res["demo_thunderstorm"] = demo_thunderstorm()
        d = res["demo_thunderstorm"]
        print(f"\ndemo thunderstorm (baseline, {d['model_cell_size_m']:g} m): {d['wall_s']:.0f} s "
              f"({d['steps']} steps, {d['cell_updates_per_s']:.3g} cell-updates/s, volume error {d['volume_error']:.1e})")
    res["machine"]["load_average_1min_end"] = machine()["load_average_1min"]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2, default=float))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
