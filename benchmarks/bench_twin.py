"""Benchmark of the twin foundation on the demo town: build, save, open, bytes per cell, render.

Run from the repository root on a quiet machine::

    python benchmarks/bench_twin.py            # 1 km town at 1 m, 3 repeats
    python benchmarks/bench_twin.py --repeat 5 --half-metre

It prints a table and writes ``benchmarks/results/twin.json`` (numbers, machine, versions).

There is no peer for building a twin; the limits it is measured against are the
machine's own, taken in the same run:

* **open** is compared with the floor of reading the same files with rasterio and
  pyogrio alone (what any reader must do), and with the memory bandwidth (a plain
  NumPy copy of a large array), expressed as decompressed MB/s;
* **bytes per cell** is the sum of the layers' item sizes (in memory) and the
  layers' files divided by the cell count (on disk, lossless DEFLATE).

The render row runs ``twin.render.render_twin`` when it exists (the render issue
builds it); otherwise the row says it was skipped.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

import numpy as np
from _common import RESULTS, machine, memory_bandwidth, print_table, timed, write_results


def _median_time(fn, repeat: int) -> tuple[float, object]:
    return timed(fn, repeat, stat=statistics.median)


def _raw_read(path: Path) -> int:
    """Read every file of a saved twin with rasterio and pyogrio only; return the decompressed bytes."""
    import pyogrio
    import rasterio

    total = 0
    for tif in sorted((path / "layers").glob("*.tif")):
        with rasterio.open(tif) as src:
            total += src.read(1).nbytes
    gpkg = path / "tables.gpkg"
    for name, _ in pyogrio.list_layers(gpkg):
        pyogrio.read_dataframe(gpkg, layer=name)
    return total


def _versions() -> dict:
    import geopandas
    import pyogrio
    import rasterio
    import shapely
    import xarray

    return {"numpy": np.__version__, "shapely": shapely.__version__, "rasterio": rasterio.__version__,
            "gdal": rasterio.__gdal_version__, "pyogrio": pyogrio.__version__, "geopandas": geopandas.__version__,
            "xarray": xarray.__version__}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="repeats per timing (median reported)")
    ap.add_argument("--size", type=float, default=1000.0, help="side of the demo town [m]")
    ap.add_argument("--half-metre", action="store_true", help="also time the build at 0.5 m cells")
    ap.add_argument("--out", default=str(RESULTS / "twin.json"))
    args = ap.parse_args(argv)

    from importers.demo import build_demo_town
    from twin import Twin
    from twin.io import open_twin

    rows: list[tuple[str, str, str]] = []
    results: dict = {"size_m": args.size, "repeat": args.repeat}

    build_demo_town(size=300.0)  # imports and first-call costs out of the way
    t_build, town = _median_time(lambda: build_demo_town(seed=2023, cell_size=1.0, size=args.size), args.repeat)
    cells = town.grid.size
    results["build_s"] = t_build
    results["cells"] = cells
    results["buildings"] = len(town.buildings)
    results["luminaires"] = len(town.luminaires)
    rows.append(("demo build, 1 m", f"{t_build:.2f} s", f"{len(town.buildings)} buildings, target < 10 s"))
    if args.half_metre:
        t_half, half = _median_time(lambda: build_demo_town(seed=2023, cell_size=0.5, size=args.size), args.repeat)
        results["build_half_metre_s"] = t_half
        rows.append(("demo build, 0.5 m", f"{t_half:.2f} s", f"{half.grid.size:,} cells"))
        del half

    tmp = Path(tempfile.mkdtemp(prefix="bench-twin-"))
    try:
        path = tmp / "town.twin"
        t_save, _ = _median_time(lambda: town.save(path, overwrite=True), args.repeat)
        results["save_s"] = t_save
        rows.append(("save", f"{t_save:.2f} s", "GeoTIFF (DEFLATE) + GeoPackage + manifest with SHA-256"))

        t_open, back = _median_time(lambda: Twin.open(path), max(args.repeat, 5))
        t_open_nv, _ = _median_time(lambda: open_twin(path, verify=False), max(args.repeat, 5))
        t_raw, raw_bytes = _median_time(lambda: _raw_read(path), max(args.repeat, 5))
        bw = memory_bandwidth()
        results.update(open_s=t_open, open_noverify_s=t_open_nv, raw_read_s=t_raw, memory_bandwidth_GBps=bw,
                       open_over_raw=t_open / t_raw)
        rows.append(("open (verified)", f"{t_open:.3f} s", f"target < 1 s; {t_open / t_raw:.2f} x raw reads"))
        rows.append(("open (no checksums)", f"{t_open_nv:.3f} s", f"{t_open_nv / t_raw:.2f} x raw reads"))
        rows.append(("raw reads (floor)", f"{t_raw:.3f} s",
                     f"{raw_bytes / t_raw / 1e6:.0f} MB/s decompressed; memory copy {bw:.1f} GB/s"))

        mem = sum(da.dtype.itemsize for da in town.layers.data_vars.values())
        layer_bytes = sum(f.stat().st_size for f in (path / "layers").glob("*.tif"))
        table_bytes = (path / "tables.gpkg").stat().st_size
        disk = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        results.update(bytes_per_cell_memory=mem, bytes_per_cell_disk_layers=layer_bytes / cells,
                       tables_bytes=table_bytes, twin_bytes=disk)
        n_layers = len(town.layers.data_vars)
        rows.append(("bytes per cell, memory", f"{mem} B",
                     f"{n_layers} layers; {mem * cells / 1e6:.0f} MB per km2 at 1 m"))
        rows.append(("bytes per cell, disk", f"{layer_bytes / cells:.2f} B",
                     f"layers only; tables {table_bytes / 1e6:.2f} MB; twin {disk / 1e6:.2f} MB"))
        assert back.grid == town.grid

        try:
            from twin.render import render_twin
        except ImportError:
            render_twin = None
        if render_twin is None:
            results["render_s"] = None
            rows.append(("render overview", "skipped", "twin.render.render_twin is not on this branch yet"))
        else:
            png = tmp / "overview.png"
            t_render, _ = _median_time(lambda: render_twin(town, png, size=(1600, 1000), view="overview"), args.repeat)
            results["render_s"] = t_render
            rows.append(("render overview", f"{t_render:.2f} s", "1600 x 1000 PNG, offscreen"))
            total = t_build + t_save + t_render
            results["demo_total_s"] = total
            rows.append(("build + save + render", f"{total:.2f} s", "target < 60 s"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    results["machine"] = machine()
    results["versions"] = _versions()
    print_table(f"twin benchmark: demo town {args.size:g} m, {cells:,} cells, median of {args.repeat}", rows)
    write_results(results, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
