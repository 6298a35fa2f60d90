"""What the benchmark scripts share: this checkout on ``sys.path``, the machine, the memory-bandwidth
yardstick, timings, the printed table and the results file.

Every ``benchmarks/bench_<area>.py`` imports it before the project (``from _common import ...``
works because a script run as ``python benchmarks/bench_<area>.py`` has this folder on
``sys.path``). Importing it puts the repository root first on ``sys.path``, so that the checkout
is measured rather than an installed copy.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
if sys.path[0] != str(ROOT):
    sys.path.insert(0, str(ROOT))

__all__ = ["ROOT", "RESULTS", "machine", "memory_bandwidth", "timed", "timed_cpu", "print_table", "write_results"]


def timed(fn: Callable, repeat: int = 1, *, stat: Callable = min) -> tuple[float, object]:
    """Wall time [s] of ``fn()`` over ``repeat`` calls, reduced by ``stat`` (``min`` or
    ``statistics.median``), and the last call's result."""
    walls, out = [], None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t0)
    return stat(walls), out


def timed_cpu(fn: Callable, repeat: int = 1, *, stat: Callable = min) -> tuple[float, float, object]:
    """Like :func:`timed`, with the CPU time [s] of the process (all threads) beside the wall time:
    ``(wall, cpu, result)``. CPU time is less sensitive to other jobs on a shared machine."""
    walls, cpus, out = [], [], None
    for _ in range(max(1, repeat)):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return stat(walls), stat(cpus), out


def memory_bandwidth(n_bytes: int = 256 * 2**20, repeat: int = 5) -> float:
    """The machine's memory bandwidth [GB/s]: a plain NumPy copy of ``n_bytes``, bytes read +
    written over the fastest of ``repeat`` copies. The yardstick of memory-bound kernels."""
    a = np.ones(n_bytes // 8)
    b = np.empty_like(a)
    best, _ = timed(lambda: np.copyto(b, a), repeat)
    return 2 * a.nbytes / best / 1e9


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def machine(**extra) -> dict:
    """The machine a benchmark ran on: platform, Python, CPU model, cores, load average (1, 5 and
    15 min: a loaded machine gives slower numbers), and any ``extra`` entries."""
    try:
        load = [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        load = None
    return {"platform": platform.platform(), "python": platform.python_version(), "cpu": _cpu_model(),
            "cores": os.cpu_count(), "load_average": load, **extra}


def print_table(title: str, rows: Iterable[tuple[str, str, str]], *, value_width: int = 10) -> None:
    """Print ``title`` and rows ``(what, value, note)`` in aligned columns."""
    rows = list(rows)
    width = max((len(r[0]) for r in rows), default=0)
    print(title)
    for what, value, note in rows:
        print(f"  {what:<{width}}  {value:>{value_width}}  {note}")


def write_results(results: dict, path) -> Path:
    """Write ``results`` as indented JSON to ``path`` (NumPy numbers as floats), atomically, and say where."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=2, default=float) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    print(f"wrote {path}")
    return path

