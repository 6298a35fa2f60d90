"""Benchmark of the renderer: how long the pictures and exports of a 1 km2, 1 m twin take.

Run from the repository root::

    python benchmarks/bench_render.py [--size 1600x1000] [--synthetic] [--out DIR]

The twin is the embedded demo town (``importers.demo.build_demo_town``) when it is
available, else a synthetic town of the same size (``benchmarks/synthetic_town.py``:
1000 x 1000 cells, 600 buildings, 1000 trees). Prints a table and writes
``benchmarks/results/render.json`` (numbers, machine, versions, OpenGL renderer).

No open peer publishes comparable timings for this task (a decorated, offscreen
picture of a town twin); the numbers are set against the budget of the issue: the
overview must render in well under 20 s, and ``twin demo`` (build + save + render)
under 60 s on a 2-core machine with Mesa llvmpipe (software OpenGL).
Rendering is also checked to be deterministic (two renders, same pixels).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import RESULTS, machine, write_results

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")


def _town(synthetic: bool):
    if not synthetic:
        try:
            from importers.demo import build_demo_town

            return build_demo_town(), "importers.demo.build_demo_town()"
        except ImportError:
            pass
    from synthetic_town import synthetic_town

    return synthetic_town(), "benchmarks/synthetic_town.py (1 km2, 1 m, 600 buildings, 1000 trees)"


def _gl_renderer() -> str:
    import pyvista as pv

    pl = pv.Plotter(off_screen=True, window_size=(64, 64))
    pl.add_mesh(pv.Sphere())
    pl.screenshot(return_img=True)
    info = pl.ren_win.ReportCapabilities()
    pl.close()
    for line in info.splitlines():
        if "OpenGL renderer string" in line:
            return line.split(":", 1)[1].strip()
    return "unknown"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1600x1000")
    ap.add_argument("--synthetic", action="store_true", help="use the synthetic town even if the demo town exists")
    ap.add_argument("--out", default=None, help="folder for the pictures (default: a temporary folder)")
    args = ap.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="jumeau-bench-render-"))
    out.mkdir(parents=True, exist_ok=True)
    rows = []

    def timed(name, fn):  # once, printed as it goes: the first calls include VTK's start-up
        t0 = time.perf_counter()
        res = fn()
        dt = time.perf_counter() - t0
        rows.append((name, dt))
        print(f"{name:<44s} {dt:8.2f} s", flush=True)
        return res

    t_import = time.perf_counter()
    import pyvista  # noqa: F401

    import twin.render as tr
    from twin.io import save
    rows.append(("import pyvista + twin.render", time.perf_counter() - t_import))
    town, source = timed("build the twin", lambda: _town(args.synthetic))
    timed("save the twin", lambda: save(town, out / "town.twin", overwrite=True))
    timed("render overview (first, VTK start-up included)",
          lambda: tr.render_twin(town, out / "overview.png", size=size, date="2025-01-01"))
    timed("render overview (again)", lambda: tr.render_twin(town, out / "overview2.png", size=size, date="2025-01-01"))
    timed("render top", lambda: tr.render_twin(town, out / "top.png", size=size, view="top", date="2025-01-01"))
    timed("render street", lambda: tr.render_twin(town, out / "street.png", size=size, view="street",
                                                  date="2025-01-01"))
    timed("render overview, French", lambda: tr.render_twin(town, out / "overview_fr.png", size=size, lang="fr",
                                                            date="2025-01-01"))
    from PIL import Image

    with Image.open(out / "overview.png") as ia, Image.open(out / "overview2.png") as ib:
        a, b = np.asarray(ia), np.asarray(ib)
    deterministic = bool(np.array_equal(a, b))
    tz = town.array("terrain")
    level = float(np.nanpercentile(tz, 15))
    frames = [(600.0 * k, np.where(tz < level, (level - tz) * k / 5, np.nan).astype(np.float32)) for k in range(6)]
    timed("animation, 6 frames 960x600 (GIF + MP4)",
          lambda: tr.animate(tr.Scene.of(town), frames, [out / "rise.gif", out / "rise.mp4"], label="depth"))
    timed("export glTF (.glb)", lambda: tr.export_gltf(town, out / "town.glb"))
    try:
        import trame_vtk  # noqa: F401

        timed("export HTML (vtk.js)", lambda: tr.export_html(town, out / "town.html"))
    except ImportError:
        print("export HTML: skipped (trame-vtk not installed)")
    d = dict(rows)
    demo_total = d["build the twin"] + d["save the twin"] + d["render overview (first, VTK start-up included)"]
    print(f"{'twin demo equivalent (build + save + render)':<44s} {demo_total:8.2f} s   (budget 60 s)")
    print(f"{'overview render vs budget':<44s} {d['render overview (again)']:8.2f} s   (budget 20 s)")
    print(f"deterministic: {deterministic}; pictures in {out}")
    import trimesh
    import vtk

    result = {
        "twin": source,
        "grid": list(town.grid.shape),
        "buildings": int(len(town.buildings)),
        "trees": int(len(town.trees)),
        "size": list(size),
        "seconds": {k: round(v, 3) for k, v in rows},
        "twin_demo_equivalent_s": round(demo_total, 3),
        "budget_s": {"overview": 20, "twin_demo": 60},
        "deterministic": deterministic,
        "machine": machine(opengl=_gl_renderer()),
        "versions": {"pyvista": pyvista.__version__, "vtk": vtk.vtkVersion.GetVTKVersion(),
                     "numpy": np.__version__, "trimesh": trimesh.__version__},
    }
    write_results(result, RESULTS / "render.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
