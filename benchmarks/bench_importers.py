"""Benchmarks of the importers: CityGML streaming, a 1 km2 twin build, LAZ to rasters.

Run from the project root::

    python benchmarks/bench_importers.py [--sizes 50,200,400] [--tmp /tmp/jumeau-bench] [--quick]

It prints a table and writes ``benchmarks/results/importers.json``. Every input is generated
into ``--tmp`` (never committed): CityGML files of several hundred MB made by repeating the real
buildings of ``../shared/data/citygml`` (Lyon LoD2 houses with textures, the OGC/SIG3D LoD2, garage and
LoD3 buildings) with new ids; four LiDAR-HD-sized terrain tiles (2000 x 2000 at 0.5 m) and 2,500
BD-TOPO-like buildings; a LAZ of several million classified points.

Peers and limits, measured in the same run:

* CityGML: a bare ``lxml.etree.iterparse`` pass over the same file (the floor of any lxml reader),
  both as is (the whole tree stays in memory) and clearing each element (the floor of a reader with
  bounded memory). Each pass runs in a fresh process, so that its peak resident memory (``VmHWM``,
  libxml2's tree included) is its own.
* The machine's memory bandwidth: a plain copy of a 256 MB array.

Timings on a shared machine are noisy: each figure is the best of ``--repeat`` runs, CPU time of the
process (wall time also given).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _common import RESULTS, ROOT, machine, memory_bandwidth, write_results

SHARED = Path(os.environ.get("JUMEAU_SHARED_DATA", ROOT.parent / "shared" / "data"))

# -- helpers ---------------------------------------------------------------------------------------------------


def run_child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON line; add its peak resident memory."""
    wrapper = code + (
        "\nimport json as _j\n"
        "_hwm = int([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]) * 1024\n"
        "RESULT['peak_rss'] = _hwm\nprint(_j.dumps(RESULT))\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *args], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def best(code: str, *args: str, repeat: int = 3) -> dict:
    runs = [run_child(code, *args) for _ in range(repeat)]
    b = min(runs, key=lambda r: r["cpu"])
    b["wall_best"] = min(r["wall"] for r in runs)
    return b


# -- CityGML -----------------------------------------------------------------------------------------------------
_SAMPLES = ["lyon_lod2/LYON_1ER_BATI_2015_small_house.gml", "lyon_lod2/LYON_2EME_BATI_2015_small_house.gml",
            "ogc_v2/Building_LOD2-EPSG25832.gml", "ogc_v2/Building_and_garage_LOD2-EPSG25832.gml",
            "ogc_v2/Building_LOD3-EPSG25832.gml"]
_ID = re.compile(r'(gml:id="|xlink:href="#|uri="#)([^"]+)"')


def generate_citygml(path: Path, megabytes: float) -> int:
    """A CityGML 2.0 file of about ``megabytes`` MB: the sample buildings repeated, each copy with new ids."""
    from lxml import etree

    members = []
    for name in _SAMPLES:
        root = etree.parse(str(SHARED / "citygml" / name)).getroot()
        for m in root:
            if isinstance(m.tag, str) and etree.QName(m).localname == "cityObjectMember" and m.find(".//{*}Building") is not None:
                members.append(etree.tostring(m, encoding="unicode"))
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n<CityModel xmlns="http://www.opengis.net/citygml/2.0" '
            'xmlns:gml="http://www.opengis.net/gml" xmlns:bldg="http://www.opengis.net/citygml/building/2.0" '
            'xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:app="http://www.opengis.net/citygml/appearance/2.0" '
            'xmlns:gen="http://www.opengis.net/citygml/generics/2.0">\n<gml:boundedBy><gml:Envelope srsName="EPSG:3946" '
            'srsDimension="3"><gml:lowerCorner>0 0 0</gml:lowerCorner><gml:upperCorner>1 1 1</gml:upperCorner>'
            '</gml:Envelope></gml:boundedBy>\n')
    n = 0
    k = 0
    size = len(head)
    tmp = path.with_suffix(".part")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(head)
        while size < megabytes * 1e6:
            suffix = f"_{k}"
            for m in members:
                s = _ID.sub(lambda mm, sfx=suffix: f'{mm.group(1)}{mm.group(2)}{sfx}"', m)
                f.write(s)
                f.write("\n")
                size += len(s) + 1
                n += 1
            k += 1
        f.write("</CityModel>\n")
    os.replace(tmp, path)
    return n


_BARE = """
import sys, time
from lxml import etree
t0, c0 = time.perf_counter(), time.process_time()
n = 0
for _, el in etree.iterparse(sys.argv[1]):
    n += 1
RESULT = {"cpu": time.process_time() - c0, "wall": time.perf_counter() - t0, "elements": n}
"""
_BARE_CLEAR = """
import sys, time
from lxml import etree
t0, c0 = time.perf_counter(), time.process_time()
n = 0
for _, el in etree.iterparse(sys.argv[1]):
    n += 1
    el.clear()
    p = el.getparent()
    if p is not None and p.getparent() is None:
        while el.getprevious() is not None:
            del p[0]
RESULT = {"cpu": time.process_time() - c0, "wall": time.perf_counter() - t0, "elements": n}
"""
_STREAM = """
import sys, time
from importers.citygml import CityGMLStream
from importers._kernels import parse_rings, powers_of_ten_128
import numpy as np
parse_rings(np.frombuffer(b"0 0 0 1 0 0 1 1 0 0 0 0", np.uint8), np.array([3]), np.zeros(1, np.uint8),
            *powers_of_ten_128())  # numba cache loaded first
t0, c0 = time.perf_counter(), time.process_time()
n = sum(1 for _ in CityGMLStream(sys.argv[1]))
RESULT = {"cpu": time.process_time() - c0, "wall": time.perf_counter() - t0, "buildings": n}
"""
_READ = """
import sys, time
from importers.citygml import read_citygml
from importers._kernels import parse_rings, powers_of_ten_128
import numpy as np
parse_rings(np.frombuffer(b"0 0 0 1 0 0 1 1 0 0 0 0", np.uint8), np.array([3]), np.zeros(1, np.uint8),
            *powers_of_ten_128())  # numba cache loaded first
t0, c0 = time.perf_counter(), time.process_time()
m = read_citygml(sys.argv[1], surfaces=sys.argv[2] == "1")
RESULT = {"cpu": time.process_time() - c0, "wall": time.perf_counter() - t0, "buildings": len(m.buildings),
          "surfaces": len(m.surfaces)}
"""


_IMPORTS = """
import time
t0, c0 = time.perf_counter(), time.process_time()
import importers.citygml, importers._kernels  # noqa: F401
RESULT = {"cpu": time.process_time() - c0, "wall": time.perf_counter() - t0}
"""


def bench_citygml(tmp: Path, sizes: list[float], repeat: int) -> list[dict]:
    base = run_child(_IMPORTS)
    print(f"  resident memory after importing the readers (numpy, lxml, shapely, geopandas, numba): "
          f"{base['peak_rss'] / 1e6:.0f} MB", file=sys.stderr)
    rows = []
    for mb in sizes:
        path = tmp / f"city_{int(mb)}MB.gml"
        if not path.exists():
            t0 = time.perf_counter()
            generate_citygml(path, mb)
            print(f"  generated {path} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        size = path.stat().st_size / 1e6
        r = {"file_MB": round(size, 1), "import_rss_MB": round(base["peak_rss"] / 1e6, 1)}
        for name, code, args in (("bare_iterparse", _BARE, ()), ("bare_iterparse_clear", _BARE_CLEAR, ()),
                                 ("citygml_stream", _STREAM, ()), ("read_citygml_footprints", _READ, ("0",)),
                                 ("read_citygml_surfaces", _READ, ("1",))):
            res = best(code, str(path), *args, repeat=repeat)
            r[name] = {"cpu_s": round(res["cpu"], 3), "wall_s": round(res["wall_best"], 3),
                       "MB_per_s": round(size / res["cpu"], 1), "peak_rss_MB": round(res["peak_rss"] / 1e6, 1)}
            for k in ("buildings", "surfaces", "elements"):
                if k in res:
                    r[name][k] = res[k]
        for name in ("citygml_stream", "read_citygml_footprints", "read_citygml_surfaces"):
            r[name]["x_bare"] = round(r[name]["cpu_s"] / r["bare_iterparse"]["cpu_s"], 2)
            r[name]["x_bare_clear"] = round(r[name]["cpu_s"] / r["bare_iterparse_clear"]["cpu_s"], 2)
        rows.append(r)
    return rows


# -- a 1 km2 twin -------------------------------------------------------------------------------------------------
def generate_tiles_and_buildings(tmp: Path, *, n_buildings: int = 2500, seed: int = 7):
    """Four 1 km LiDAR-HD-like MNT tiles around (843 km, 6520 km) and BD-TOPO-like buildings in the central km2."""
    import geopandas as gpd
    import rasterio
    import shapely
    from affine import Affine

    rng = np.random.default_rng(seed)
    tiles = []
    for xkm, ykm in ((842, 6521), (843, 6521), (842, 6520), (843, 6520)):
        name = tmp / f"LHD_FXX_{xkm:04d}_{ykm:04d}_MNT_O_0M50_LAMB93_IGN69.tif"
        tiles.append(name)
        if name.exists():
            continue
        x = xkm * 1000 + 0.5 * np.arange(2000)
        y = ykm * 1000 - 0.5 * np.arange(2000)
        X, Y = np.meshgrid(x, y)
        z = (150 + 0.01 * (X - 842000) + 5 * np.sin(X / 300.0) * np.cos(Y / 250.0)
             + rng.normal(0, 0.05, X.shape)).astype(np.float32)
        z[rng.random(z.shape) < 1e-4] = -9999.0
        with rasterio.open(name, "w", driver="GTiff", width=2000, height=2000, count=1, dtype="float32", crs="EPSG:2154",
                           transform=Affine(0.5, 0, xkm * 1000 - 0.25, 0, -0.5, ykm * 1000 + 0.25), nodata=-9999.0,
                           compress="deflate", predictor=3, tiled=True) as dst:
            dst.write(z, 1)
    bpath = tmp / "batiment_2500.gpkg"
    if not bpath.exists():
        cx = rng.uniform(842520, 843480, n_buildings)
        cy = rng.uniform(6519520, 6520480, n_buildings)
        w = rng.uniform(6, 20, n_buildings)
        h = rng.uniform(6, 15, n_buildings)
        ang = rng.uniform(0, 180, n_buildings)
        geoms = [shapely.affinity.rotate(shapely.box(x - a / 2, y - b / 2, x + a / 2, y + b / 2), t)
                 for x, y, a, b, t in zip(cx, cy, w, h, ang)]
        hauteur = rng.uniform(3, 25, n_buildings).round(1)
        hauteur[rng.random(n_buildings) < 0.1] = np.nan
        gdf = gpd.GeoDataFrame({"cleabs": [f"BATIMENT{i:016d}" for i in range(n_buildings)], "hauteur": hauteur,
                                "usage_1": rng.choice(["Résidentiel", "Commercial et services", "Annexe"], n_buildings),
                                "nombre_d_etages": rng.integers(1, 8, n_buildings)}, geometry=geoms, crs="EPSG:2154")
        gdf.to_file(bpath, layer="batiment", driver="GPKG")
    return tiles, bpath


_BUILD = """
import sys, time, json
from importers.build import build_twin
from twin.io import save
tiles = sys.argv[1].split(',')
t0, c0 = time.perf_counter(), time.process_time()
twin, rep = build_twin(terrain=tiles, buildings=sys.argv[2], extent=(842500, 6519500, 843500, 6520500))
t1, c1 = time.perf_counter(), time.process_time()
save(twin, sys.argv[3], overwrite=True)
RESULT = {"cpu": c1 - c0, "wall": t1 - t0, "save_wall": time.perf_counter() - t1, "cells": twin.grid.size,
          "buildings": len(twin.buildings), "height_sources": rep.buildings.get("height_source", {})}
"""


def bench_build(tmp: Path, repeat: int) -> dict:
    tiles, bpath = generate_tiles_and_buildings(tmp)
    res = best(_BUILD, ",".join(map(str, tiles)), str(bpath), str(tmp / "bench.twin"), repeat=repeat)
    return {"cells": res["cells"], "buildings": res["buildings"], "build_cpu_s": round(res["cpu"], 2),
            "build_wall_s": round(res["wall_best"], 2), "save_wall_s": round(res["save_wall"], 2),
            "peak_rss_MB": round(res["peak_rss"] / 1e6, 1), "target_s": 15.0, "height_sources": res["height_sources"]}


# -- LAZ ------------------------------------------------------------------------------------------------------------
def generate_laz(path: Path, n: int, seed: int = 3) -> None:
    import laspy
    from pyproj import CRS

    rng = np.random.default_rng(seed)
    h = laspy.LasHeader(point_format=6, version="1.4")
    h.scales = [0.01, 0.01, 0.01]
    h.offsets = [842000.0, 6519000.0, 0.0]
    h.add_crs(CRS.from_epsg(2154))
    with laspy.open(path, mode="w", header=h) as w:
        done = 0
        while done < n:
            m = min(2_000_000, n - done)
            x = rng.uniform(842000, 843000, m)
            y = rng.uniform(6519000, 6520000, m)
            g = 150 + 0.01 * (x - 842000)
            cls = rng.choice(np.array([2, 2, 2, 3, 4, 5, 6, 6, 9, 1], np.uint8), m)
            z = g + np.where(cls == 6, 12.0, np.where(cls == 5, rng.uniform(2, 20, m), 0.0))
            rec = laspy.ScaleAwarePointRecord.zeros(m, header=h)
            rec.x, rec.y, rec.z, rec.classification = x, y, z, cls
            w.write_points(rec)
            done += m


_LAZ = """
import sys, time
from twin import Grid
from importers.pointcloud import rasterize_pointcloud, open_pointcloud
src = open_pointcloud(sys.argv[1])
b = src.bounds
grid = Grid.from_bounds(*b, cell_size=1.0)
rasterize_pointcloud(src, Grid.from_bounds(b[0], b[1], b[0] + 2, b[1] + 2), chunk_size=1000)  # numba cache loaded
import scipy.interpolate  # noqa: F401  (imported by the gap filling; not part of the timing)
t0, c0 = time.perf_counter(), time.process_time()
pc = rasterize_pointcloud(src, grid)
RESULT = {"cpu": time.process_time() - c0, "wall": time.perf_counter() - t0, "points": pc.points_read, "cells": grid.size}
"""


def bench_laz(tmp: Path, n_points: int, repeat: int) -> list[dict]:
    rows = []
    files = [SHARED / "lidar_ign_tile_77055" / "test_data_77055_627760_LA93_IGN69.laz"]
    big = tmp / f"synthetic_{n_points // 1_000_000}M.laz"
    if not big.exists():
        t0 = time.perf_counter()
        generate_laz(big, n_points)
        print(f"  generated {big} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    files.append(big)
    for f in files:
        res = best(_LAZ, str(f), repeat=repeat)
        rows.append({"file": f.name, "points": res["points"], "cells": res["cells"], "cpu_s": round(res["cpu"], 3),
                     "wall_s": round(res["wall_best"], 3), "points_per_s": round(res["points"] / res["wall_best"]),
                     "peak_rss_MB": round(res["peak_rss"] / 1e6, 1)})
    return rows


def print_citygml(rows) -> None:
    print(f"{'':>6} {'MB/s':>7} {'x bare':>7} {'x clear':>8} {'peak RSS MB':>12}   (CPU time; RSS of a fresh process, "
          f"{rows[0]['import_rss_MB']:.0f} MB after imports)")
    for r in rows:
        print(f"{r['file_MB']:.0f} MB file")
        for name, label in (("bare_iterparse", "lxml iterparse, tree kept"), ("bare_iterparse_clear", "lxml iterparse, cleared"),
                            ("citygml_stream", "CityGMLStream (pieces)"), ("read_citygml_footprints", "read_citygml footprints"),
                            ("read_citygml_surfaces", "read_citygml + surfaces")):
            x = r[name]
            xb = f"{x['x_bare']:>7.2f}" if "x_bare" in x else f"{'':>7}"
            xc = f"{x['x_bare_clear']:>8.2f}" if "x_bare_clear" in x else f"{'':>8}"
            print(f"  {label:<26} {x['MB_per_s']:>7.1f} {xb} {xc} {x['peak_rss_MB']:>12.0f}")


# -- main -----------------------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="50,200,400", help="CityGML file sizes in MB (default: 50,200,400)")
    ap.add_argument("--tmp", default="/tmp/jumeau-bench-importers", help="where generated inputs go")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--laz-points", type=int, default=10_000_000)
    ap.add_argument("--quick", action="store_true", help="small sizes, one repeat (a smoke test)")
    ap.add_argument("--only", choices=("citygml", "build", "laz"), help="run one part (merged into the existing results)")
    args = ap.parse_args(argv)
    if not SHARED.is_dir():
        print(f"shared data not found at {SHARED} (set JUMEAU_SHARED_DATA)", file=sys.stderr)
        return 2
    tmp = Path(args.tmp)
    tmp.mkdir(parents=True, exist_ok=True)
    sizes = [float(s) for s in args.sizes.split(",")]
    repeat = args.repeat
    laz_points = args.laz_points
    if args.quick:
        sizes, repeat, laz_points = [5.0, 20.0], 1, 1_000_000
    import laspy
    import lxml.etree
    import numba
    import rasterio
    import shapely

    out = RESULTS / "importers.json"
    result = json.loads(out.read_text()) if (args.only and out.exists()) else {}
    result.update({
        "machine": machine(memory_bandwidth_GB_s=round(memory_bandwidth(), 1)),
        "versions": {"numpy": np.__version__, "lxml": ".".join(map(str, lxml.etree.LXML_VERSION)),
                     "libxml2": ".".join(map(str, lxml.etree.LIBXML_VERSION)), "numba": numba.__version__,
                     "rasterio": rasterio.__version__, "gdal": rasterio.__gdal_version__, "laspy": laspy.__version__,
                     "shapely": shapely.__version__},
    })
    if args.only in (None, "citygml"):
        print("CityGML streaming (best CPU time of", repeat, "runs, each in a fresh process)")
        result["citygml"] = bench_citygml(tmp, sizes, repeat)
        print_citygml(result["citygml"])
    if args.only in (None, "build"):
        print("\n1 km2 twin at 1 m from four 2000 x 2000 MNT tiles (0.5 m) + 2,500 buildings")
        result["build_1km2"] = bench_build(tmp, repeat)
        b = result["build_1km2"]
        print(f"  build {b['build_wall_s']:.2f} s wall ({b['build_cpu_s']:.2f} s CPU), save {b['save_wall_s']:.2f} s, "
              f"peak {b['peak_rss_MB']:.0f} MB; target {b['target_s']:.0f} s")
    if args.only in (None, "laz"):
        print("\nLAZ to rasters (terrain, surface, canopy, classes) at 1 m")
        result["laz"] = bench_laz(tmp, laz_points, repeat)
    for r in result.get("laz", []) if args.only in (None, "laz") else []:
        print(f"  {r['file']:<45} {r['points']:>11,} points {r['wall_s']:>7.2f} s  {r['points_per_s'] / 1e6:>6.2f} M points/s  "
              f"peak {r['peak_rss_MB']:.0f} MB")
    print(f"\nmemory bandwidth (numpy copy): {result['machine']['memory_bandwidth_GB_s']} GB/s; "
          f"load average {result['machine']['load_average']}")
    write_results(result, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
