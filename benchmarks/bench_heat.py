"""Heat benchmark: jumeau's sky view, shadows and Tmrt + UTCI, side by side with the `solweig` package.

Run:  python benchmarks/bench_heat.py [--size 1000] [--peer-python /tmp/peers-solweig/bin/python] [--peer-aniso]

Peer set-up (a separate venv, never a project dependency; solweig is GPL-3):
    python -m venv /tmp/peers-solweig && /tmp/peers-solweig/bin/pip install solweig
The peer runs in a subprocess through benchmarks/_peer_solweig.py (found with --peer-python or
$JUMEAU_PEER_SOLWEIG); without it only jumeau's numbers and the machine's bandwidth are printed.

What is measured, on the same inputs in the same run:
* accuracy of the sky-view factor on the analytic canyon (H/W = 1, W = 21 m, 1 m cells):
  |SVF - W / sqrt(W^2 + 4 H^2)| at the centre line;
* sky-view factor of a synthetic 1 km x 1 km town at 1 m (cells per second);
* one shadow mask of that town (sun at azimuth 215, altitude 30 degrees);
* one full hour of Tmrt + UTCI (15:00 of a 2003-like day), the sky views already computed;
* a full 24-hour day including the sky views (jumeau only).
Writes benchmarks/results/heat.json (numbers, machine, versions).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np
from _common import RESULTS, ROOT, machine, memory_bandwidth, print_table, timed, write_results
from scipy import ndimage

from simulation.heat.forcing import HEATWAVE_PRESETS, heatwave_day
from simulation.heat.model import HeatModel
from simulation.shadows import sky_view_factor, sunlit_fraction
from twin import Grid, Twin
from twin.layers import Landcover
from twin.rasterize import compose_surface

X0, Y0 = 842000.0, 6519000.0


def town(n: int, seed: int = 7):
    """A deterministic synthetic town: street grid, perimeter blocks with courtyards, street trees."""
    rng = np.random.default_rng(seed)
    bh = np.zeros((n, n), np.float32)
    ch = np.zeros((n, n), np.float32)
    y = 0
    while y < n:
        block_h = int(rng.integers(50, 90))
        street = int(rng.integers(10, 24))
        x = 0
        while x < n:
            block_w = int(rng.integers(50, 110))
            r0, r1, c0, c1 = y + street // 2, min(n, y + block_h), x + street // 2, min(n, x + block_w)
            if r1 - r0 > 12 and c1 - c0 > 12:
                h = rng.uniform(7, 24)
                bh[r0:r1, c0:c1] = h + rng.uniform(-2, 2)
                depth = int(rng.integers(10, 16))
                if r1 - r0 > 2 * depth + 6 and c1 - c0 > 2 * depth + 6:
                    bh[r0 + depth:r1 - depth, c0 + depth:c1 - depth] = 0.0  # courtyard
                # trees along the block's south street
                for xc in range(c0 + 4, c1 - 4, 9):
                    rr = min(n - 3, r1 + 3)
                    ch[rr - 2:rr + 3, xc - 2:xc + 3] = np.maximum(ch[rr - 2:rr + 3, xc - 2:xc + 3], 9.0)
            x += block_w
        y += block_h
    ch[bh > 0] = 0.0
    return bh, ch


def town_twin(n: int) -> Twin:
    g = Grid(xmin=X0, ymax=Y0 + n, nrows=n, ncols=n, cell_size=1.0)
    t = Twin.empty(g, terrain=170.0)
    bh, ch = town(n)
    bid, _ = ndimage.label(bh > 0)
    t.set_layer("building_id", bid.astype(np.int32))
    t.set_layer("building_height", bh)
    t.set_layer("canopy_height", ch)
    t.set_layer("surface", compose_surface(t.array("terrain"), bh, ch))
    lc = np.full(g.shape, Landcover.ROAD, np.uint8)
    lc[ndimage.binary_dilation(bid > 0, iterations=3) & (bid == 0)] = Landcover.SIDEWALK
    lc[bid > 0] = Landcover.BUILDING
    t.set_layer("landcover", lc)
    return t


def canyon(cs: float = 1.0, w_cells: int = 21, hw: float = 1.0, length_m: float = 600.0):
    W = w_cells * cs
    H = hw * W
    depth = int(round(3 * H / cs)) + 3
    z = np.zeros((w_cells + 2 * depth, int(round(length_m / cs)) | 1), np.float32)
    z[:depth] = H
    z[depth + w_cells:] = H
    return z, depth + w_cells // 2, z.shape[1] // 2, W / math.sqrt(W * W + 4 * H * H)


def peer(python: str, task: str, **arrays):
    with tempfile.TemporaryDirectory() as d:
        inp, out = Path(d) / "in.npz", Path(d) / "out.npz"
        np.savez(inp, **arrays)
        p = subprocess.run([python, str(ROOT / "benchmarks" / "_peer_solweig.py"), task, str(inp), str(out)],
                           capture_output=True, text=True, timeout=7200, check=False)
        if p.returncode != 0:
            raise RuntimeError(f"peer {task} failed: {p.stderr[-2000:]}")
        line = [ln for ln in p.stdout.splitlines() if ln.startswith("{")][-1]
        return json.loads(line), dict(np.load(out))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1000, help="town side in cells (1 m): default 1000 (1 M cells)")
    ap.add_argument("--peer-python", default=os.environ.get("JUMEAU_PEER_SOLWEIG"),
                    help="python of the solweig venv (or $JUMEAU_PEER_SOLWEIG)")
    ap.add_argument("--peer-aniso", action="store_true", help="also time solweig's anisotropic-sky hour")
    ap.add_argument("--out", default=str(RESULTS / "heat.json"))
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    n = args.size
    res: dict = {"machine": machine(), "size": n}
    import numba
    import pvlib

    res["versions"] = {"numpy": np.__version__, "numba": numba.__version__, "pvlib": pvlib.__version__}
    res["bandwidth_GBps"] = round(memory_bandwidth(), 2)
    rows = []

    # warm-up: compile the kernels on small inputs so that timings exclude compilation
    tw = town_twin(120)
    p = dict(HEATWAVE_PRESETS["2003"])
    date = p.pop("date")
    day = heatwave_day(date=date, latitude=45.76, longitude=4.84, **p)
    HeatModel(tw).run(day.iloc[14:16])
    sky_view_factor(surface=tw.array("surface"), cell_size=1.0, n_azimuths=16)

    # 1. canyon accuracy
    z, r, c, exact = canyon()
    acc = {}
    for naz in (16, 32, 64):
        t, sv = timed(lambda naz=naz: sky_view_factor(surface=z, cell_size=1.0, n_azimuths=naz))
        acc[f"jumeau_{naz}"] = {"error": float(abs(sv["svf"][r, c] - exact)), "cells_per_s": z.size / t}
    if args.peer_python:
        info, out = peer(args.peer_python, "svf", dsm=z, cell_size=1.0, patch_option=2)
        acc["solweig_153"] = {"error": float(abs(out["svf"][r, c] - exact)), "cells_per_s": z.size / info["seconds"]}
    res["canyon_svf"] = {"exact": exact, **acc}
    for k, v in acc.items():
        rows.append((f"canyon SVF H/W=1 error, {k}", f"{v['error']:.4f}", f"{v['cells_per_s']:.3g} cells/s"))

    # 2. town sky view, shadow, hour
    twin = town_twin(n)
    surf, ch, ter = twin.array("surface"), twin.array("canopy_height"), twin.array("terrain")
    t32, _ = timed(lambda: sky_view_factor(surface=surf, cell_size=1.0, n_azimuths=32, terrain=ter))
    t64, _ = timed(lambda: sky_view_factor(surface=surf, cell_size=1.0, n_azimuths=64, canopy_height=ch, terrain=ter,
                                            directional=True))
    res["town_svf"] = {"jumeau_32_seconds": t32, "jumeau_64_trees_directional_seconds": t64, "cells": surf.size}
    rows.append(("town SVF, jumeau 32 azimuths", f"{t32:.2f} s", f"{surf.size / t32:.3g} cells/s"))
    rows.append(("town SVF, jumeau 64 az. + trees + 4 vertical views", f"{t64:.2f} s",
                 f"{surf.size / t64:.3g} cells/s"))
    tsh, _ = timed(lambda: sunlit_fraction(surface=surf, cell_size=1.0, sun_azimuth=215.0, sun_altitude=30.0,
                                           terrain=ter), repeat=3)
    tsh_v, _ = timed(lambda: sunlit_fraction(surface=surf, cell_size=1.0, sun_azimuth=215.0, sun_altitude=30.0,
                                             canopy_height=ch, terrain=ter), repeat=3)
    res["town_shadow"] = {"jumeau_seconds": tsh, "jumeau_trees_seconds": tsh_v}
    rows.append(("shadow mask (215, 30 deg), jumeau", f"{tsh * 1e3:.0f} ms", f"with trees {tsh_v * 1e3:.0f} ms"))
    model = HeatModel(twin)
    timed(model.sky_view)  # fills the model's sky-view cache for the one-hour timing below
    one = day.iloc[[15]]
    thour, hres = timed(lambda: model.run(one), repeat=2)
    res["town_hour"] = {"jumeau_seconds": thour, "tmrt_mean": float(np.nanmean(hres["tmrt_max"])),
                        "utci_mean": float(np.nanmean(hres["utci_max"]))}
    rows.append(("one hour Tmrt + UTCI (SVF cached), jumeau", f"{thour:.2f} s",
                 f"Tmrt mean {res['town_hour']['tmrt_mean']:.1f} C"))
    fresh = HeatModel(town_twin(n))
    tday, dres = timed(lambda: fresh.run(day))
    res["town_day"] = {"jumeau_seconds_including_svf": tday, "breakdown": dres.meta["seconds"],
                       "svf_seconds": dres.meta["sky_view"].get("seconds")}
    rows.append(("24-hour day incl. SVF, jumeau", f"{tday:.1f} s", f"target < 60 s; {dres.meta['seconds']}"))

    if args.peer_python:
        info, out = peer(args.peer_python, "svf", dsm=surf, cell_size=1.0, patch_option=2)
        res["town_svf"]["solweig_153_seconds"] = info["seconds"]
        res["town_svf"]["speedup_32_vs_solweig"] = info["seconds"] / t32
        res["town_svf"]["speedup_64_trees_directional_vs_solweig"] = info["seconds"] / t64
        rows.append(("town SVF, solweig 153 patches", f"{info['seconds']:.2f} s",
                     f"jumeau 32 az. is {info['seconds'] / t32:.1f}x faster, 64 az.+trees {info['seconds'] / t64:.1f}x"))
        info, out = peer(args.peer_python, "shadow", dsm=surf, cell_size=1.0, azimuth=215.0, altitude=30.0)
        ours = sunlit_fraction(surface=surf, cell_size=1.0, sun_azimuth=215.0, sun_altitude=30.0, terrain=ter)
        agree = float(np.mean((ours > 0.5) == (out["sunlit"] > 0.5)))
        res["town_shadow"].update({"solweig_seconds": info["seconds"], "agreement": agree})
        rows.append(("shadow mask, solweig", f"{info['seconds'] * 1e3:.0f} ms",
                     f"ratio {info['seconds'] / tsh:.2f}; cells agreeing {agree:.4f}"))
        row = day.iloc[15]
        info, out = peer(args.peer_python, "hour", dsm=surf, cell_size=1.0, latitude=45.76, longitude=4.84,
                         ta=row["air_temperature"], rh=row["relative_humidity"], ghi=row["global_horizontal"],
                         ws=row["wind_speed"], aniso=int(args.peer_aniso))
        res["town_hour"].update({f"solweig_{k}": v for k, v in info.items() if k not in ("task", "cells")})
        iso = info["hour_seconds_isotropic"]
        rows.append(("one hour Tmrt + UTCI, solweig isotropic", f"{iso:.2f} s",
                     f"jumeau {iso / thour:.1f}x faster; solweig Tmrt mean {info['tmrt_mean']:.1f} C"))
        if "hour_seconds_anisotropic" in info:
            rows.append(("one hour, solweig anisotropic", f"{info['hour_seconds_anisotropic']:.2f} s", ""))
        rows.append(("SVF inside solweig.compute_svf", f"{info['svf_seconds']:.1f} s", ""))

    rows.append(("memory bandwidth (numpy copy)", f"{res['bandwidth_GBps']} GB/s", ""))
    print_table(f"heat benchmark, {n} x {n} cells at 1 m ({os.cpu_count()} cpus)", rows, value_width=12)
    write_results(res, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
