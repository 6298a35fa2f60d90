"""A :class:`~scenarios.kinds.base.KindResult` on disk, in open formats, and back.

One result directory (``baseline/`` or ``scenario/`` of a run, or an entry of the
baseline cache) holds::

    result.json          what is there: layers with units, per-building columns and dtypes,
                         tables, indicators, frame times, the kind's meta
    <layer>.tif          one Cloud-Optimised GeoTIFF per result layer (CRS, units, description)
    buildings.csv        per-building results, indexed by building id
    tables.gpkg          the kind's other tables with geometry (one GeoPackage layer each)
    <table>.csv          the kind's tables without geometry
    frames/frames.tif    animation snapshots, one band per time (band description "t=600 s")

Reading back gives the same numbers (lossless GeoTIFF, float repr in CSV). Nothing
is unpickled: JSON, GeoTIFF, CSV and GeoPackage only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
from affine import Affine
from rasterio.errors import RasterioError

from scenarios.kinds.base import Indicator, KindResult
from twin.core import Twin, layer_dataarray
from twin.errors import (
    TwinFileNotFoundError,
    TwinFormatError,
    TwinIOError,
    TwinRuntimeError,
)
from twin.grid import Grid
from twin.io import atomic_output, read_raster, write_raster
from twin.layers import layer_spec

__all__ = [
    "save_result",
    "load_result",
    "twin_hash",
    "twin_digest",
    "digest_changes",
    "to_json",
    "write_json",
    "RESULT_FILE",
]

RESULT_FILE = "result.json"
RESULT_FORMAT = "jumeau-result"
FRAMES_FILE = "frames/frames.tif"


# -- JSON ---------------------------------------------------------------------------------------------
def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _jsonable(dataclasses.asdict(obj))
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (pd.Timestamp, pd.Timedelta)):
        return str(obj)
    return str(obj)


def to_json(obj) -> str:
    """JSON text of ``obj`` (numpy scalars and arrays, paths, dataclasses converted; NaN as null)."""
    return json.dumps(_jsonable(obj), indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def write_json(path, obj) -> Path:
    """Write ``obj`` as JSON, atomically."""
    with atomic_output(path) as tmp:
        Path(tmp).write_text(to_json(obj), encoding="utf-8")
    return Path(path)


# -- hashing ------------------------------------------------------------------------------------------
def twin_digest(twin: Twin) -> dict[str, str]:
    """SHA-256 of each part of a twin that a simulation can read: ``grid``, ``layer:<name>``, ``table:<name>``."""
    out = {}
    g = twin.grid
    out["grid"] = hashlib.sha256(repr((g.crs, g.cell_size, g.xmin, g.ymax, g.nrows, g.ncols)).encode()).hexdigest()
    for name in sorted(twin.layers.data_vars):
        h = hashlib.sha256()
        da = twin.layers[name]
        arr = np.ascontiguousarray(da.values)
        h.update(f"layer:{name}:{arr.dtype.str}:{arr.shape}:{da.attrs.get('units', '')}".encode())
        h.update(arr.tobytes())
        out[f"layer:{name}"] = h.hexdigest()
    for name in sorted(twin.tables):
        h = hashlib.sha256()
        _hash_table(h, name, twin.tables[name])
        out[f"table:{name}"] = h.hexdigest()
    return out


def twin_hash(twin: Twin, digest: dict | None = None) -> str:
    """SHA-256 of everything in a twin that a simulation can read: grid, layers, tables.

    Two twins with the same hash hold byte-identical layers (values, dtypes, units) and
    tables (columns, dtypes, values, geometries). Provenance and names are left out.
    """
    digest = twin_digest(twin) if digest is None else digest
    return hashlib.sha256("\n".join(f"{k}={v}" for k, v in sorted(digest.items())).encode()).hexdigest()


def digest_changes(before: dict, after: dict) -> str:
    """What differs between two :func:`twin_digest` results, in words (``added layer:svf; changed table:trees``)."""
    parts = []
    for label, keys in (
        ("added", sorted(set(after) - set(before))),
        ("removed", sorted(set(before) - set(after))),
        ("changed", sorted(k for k in set(before) & set(after) if before[k] != after[k])),
    ):
        if keys:
            parts.append(f"{label} {', '.join(keys)}")
    return "; ".join(parts) or "nothing"


def _hash_table(h, name: str, table: pd.DataFrame) -> None:
    h.update(f"table:{name}:{len(table)}:{list(map(str, table.columns))}".encode())
    for col in table.columns:
        s = table[col]
        h.update(f"{col}:{s.dtype}".encode())
        if isinstance(s, gpd.GeoSeries) or str(s.dtype) == "geometry":
            wkb = gpd.GeoSeries(s).to_wkb()
            for b in wkb:
                h.update(b if b is not None else b"\0")
        elif s.dtype.kind in "biufc":
            h.update(np.ascontiguousarray(s.to_numpy()).tobytes())
        else:
            h.update("\x1f".join("\x00" if v is None else repr(v) for v in s.tolist()).encode())


def result_hash(result: KindResult) -> str:
    """SHA-256 of a result's numbers (layers, per-building values, indicators): equal hashes, equal results."""
    h = hashlib.sha256()
    for name in sorted(result.layers):
        arr = np.ascontiguousarray(np.asarray(result.layers[name].values))
        h.update(f"{name}:{arr.dtype.str}:{arr.shape}".encode())
        h.update(arr.tobytes())
    if result.buildings is not None:
        _hash_table(h, "buildings", result.buildings.reset_index())
    for ind in result.indicators:
        h.update(f"{ind.name}:{ind.value!r}:{ind.unit}".encode())
    return h.hexdigest()


# -- saving ---------------------------------------------------------------------------------------------
def write_cogs(jobs, grid: Grid, *, workers: int | None = None) -> None:
    """Write several rasters as Cloud-Optimised GeoTIFFs, in parallel threads (GDAL releases the GIL).

    ``jobs`` are ``(path, array, units, description, tags)``. An error in any write is raised
    once all writes have stopped.
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    jobs = list(jobs)
    if not jobs:
        return
    n = workers or min(len(jobs), os.cpu_count() or 1, 4)

    def one(job):
        p, arr, units, description, tags = job
        write_raster(p, arr, grid, units=units, description=description, cog=True, tags=tags)

    if n <= 1:
        for job in jobs:
            one(job)
        return
    with ThreadPoolExecutor(max_workers=n) as pool:
        for fut in [pool.submit(one, job) for job in jobs]:
            fut.result()


def _layer_array(name: str, da, grid: Grid) -> np.ndarray:
    arr = np.asarray(getattr(da, "values", da))
    if arr.shape != grid.shape:
        raise TwinRuntimeError(f"result layer {name!r} has shape {arr.shape}, the twin grid {grid.shape}")
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    return arr


def save_result(result: KindResult, path, grid: Grid, *, tags: dict | None = None, layers=None) -> dict:
    """Write ``result`` into the (new or empty) directory ``path``; return the ``result.json`` record.

    Parameters
    ----------
    grid : Grid
        The twin's grid (result layers must match it).
    tags : dict, optional
        Extra GeoTIFF metadata (scenario name, run part...).
    layers : iterable of str, optional
        Only these layers (default: all).

    Raises
    ------
    TwinRuntimeError
        If a layer has no units or does not match the grid (a bug in the kind).
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    record: dict = {
        "format": RESULT_FORMAT,
        "format_version": 1,
        "layers": {},
        "buildings": None,
        "tables": {},
        "frames": None,
    }
    names = list(result.layers) if layers is None else [n for n in result.layers if n in set(layers)]
    jobs = []
    for name in names:
        da = result.layers[name]
        units = getattr(da, "attrs", {}).get("units")
        if units is None:
            raise TwinRuntimeError(f"result layer {name!r} has no units (the kind must set them)")
        long_name = da.attrs.get("long_name", name)
        arr = _layer_array(name, da, grid)
        jobs.append((path / f"{name}.tif", arr, units, long_name, {**(tags or {}), "layer": name}))
        record["layers"][name] = {
            "file": f"{name}.tif",
            "units": units,
            "long_name": long_name,
            "dtype": str(arr.dtype),
        }
    write_cogs(jobs, grid)
    if result.buildings is not None:
        df = result.buildings
        with atomic_output(path / "buildings.csv") as tmp:
            df.to_csv(tmp, index_label="id")
        record["buildings"] = {
            "file": "buildings.csv",
            "rows": int(len(df)),
            "index_dtype": str(df.index.dtype),
            "dtypes": {str(c): str(t) for c, t in df.dtypes.items()},
            "units": dict(df.attrs.get("units", {})),
        }
    for name, table in result.tables.items():
        if isinstance(table, gpd.GeoDataFrame) and table.geometry.name in table.columns:
            gpkg = path / "tables.gpkg"
            try:
                pyogrio.write_dataframe(table, gpkg, layer=name, driver="GPKG", append=gpkg.exists())
            except Exception as err:  # pyogrio raises several unrelated types
                raise TwinIOError(f"{gpkg}: cannot write table {name!r}: {err}") from err
            record["tables"][name] = {"file": "tables.gpkg", "layer": name, "rows": int(len(table))}
        else:
            with atomic_output(path / f"{name}.csv") as tmp:
                pd.DataFrame(table).to_csv(tmp, index=False)
            record["tables"][name] = {
                "file": f"{name}.csv",
                "rows": int(len(table)),
                "dtypes": {str(c): str(t) for c, t in table.dtypes.items()},
            }
    if result.frames:
        record["frames"] = _save_frames(result.frames, path, grid)
    record["indicators"] = [
        {"name": i.name, "value": i.value, "unit": i.unit, "label": dict(i.label), "better": i.better}
        for i in result.indicators
    ]
    record["meta"] = result.meta
    record["hash"] = result_hash(result)
    write_json(path / RESULT_FILE, record)
    return json.loads(to_json(record))


def _save_frames(frames, path: Path, grid: Grid) -> dict:
    times = [float(t) for t, _ in frames]
    arrays = [np.asarray(a) for _, a in frames]
    shape = arrays[0].shape
    if any(a.shape != shape for a in arrays) or len(shape) != 2:
        raise TwinRuntimeError("animation frames must be 2D arrays of one shape")
    dtype = np.float32 if arrays[0].dtype.kind == "f" else arrays[0].dtype
    # frames may be coarser than the grid (kinds may subsample): georeference them on the same extent
    cs_x = grid.ncols * grid.cell_size / shape[1]
    transform = Affine(cs_x, 0.0, grid.xmin, 0.0, -grid.nrows * grid.cell_size / shape[0], grid.ymax)
    profile = dict(
        driver="GTiff",
        width=shape[1],
        height=shape[0],
        count=len(arrays),
        dtype=np.dtype(dtype).name,
        crs=grid.pyproj_crs.to_wkt(),
        transform=transform,
        compress="deflate",
        predictor=3 if np.dtype(dtype).kind == "f" else 2,
        interleave="band",
    )
    if shape[0] >= 256 and shape[1] >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    (path / "frames").mkdir(exist_ok=True)
    with atomic_output(path / FRAMES_FILE) as tmp:
        try:
            with rasterio.open(tmp, "w", **profile) as dst:
                for k, (t, a) in enumerate(zip(times, arrays), start=1):
                    dst.write(a.astype(dtype, copy=False), k)
                    dst.set_band_description(k, f"t={t:g} s")
                dst.update_tags(times=",".join(repr(t) for t in times), units="s")
        except RasterioError as err:
            raise TwinIOError(f"{path / FRAMES_FILE}: cannot write: {err}") from err
    return {"file": FRAMES_FILE, "times": times, "shape": list(shape)}


# -- loading ---------------------------------------------------------------------------------------------
def load_result(path) -> tuple[KindResult, dict]:
    """Read a result directory written by :func:`save_result`: ``(KindResult, record)``.

    Raises
    ------
    TwinFileNotFoundError
        If the directory or a file it lists is missing.
    TwinFormatError
        If ``result.json`` is damaged or a file cannot be read.
    """
    path = Path(path)
    rpath = path / RESULT_FILE
    if not rpath.is_file():
        raise TwinFileNotFoundError(f"{path}: not a result directory (no {RESULT_FILE})")
    try:
        record = json.loads(rpath.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TwinFormatError(f"{rpath}: damaged ({err})") from err
    if not isinstance(record, dict) or record.get("format") != RESULT_FORMAT:
        raise TwinFormatError(f"{rpath}: not a jumeau result record")
    result = KindResult(meta=record.get("meta") or {})
    for name, entry in record.get("layers", {}).items():
        arr, grid, info = read_raster(path / entry["file"])
        units = None if layer_spec(name) else entry.get("units", info["units"])
        result.layers[name] = layer_dataarray(grid, name, arr, units=units, long_name=entry.get("long_name"))
    b = record.get("buildings")
    if b:
        f = path / b["file"]
        if not f.is_file():
            raise TwinFileNotFoundError(f"{f}: missing")
        df = pd.read_csv(f, index_col=0, keep_default_na=True)
        for col, dtype in b.get("dtypes", {}).items():
            if col in df.columns:
                try:
                    df[col] = df[col].fillna("").astype(str) if dtype == "object" else df[col].astype(dtype)
                except (TypeError, ValueError):
                    pass
        df.index.name = "id"
        if b.get("index_dtype"):
            df.index = df.index.astype(b["index_dtype"])
        if b.get("units"):
            df.attrs["units"] = dict(b["units"])
        result.buildings = df
    for name, entry in record.get("tables", {}).items():
        f = path / entry["file"]
        if not f.is_file():
            raise TwinFileNotFoundError(f"{f}: missing")
        if entry["file"].endswith(".gpkg"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                result.tables[name] = pyogrio.read_dataframe(f, layer=entry["layer"])
        else:
            result.tables[name] = pd.read_csv(f)
    fr = record.get("frames")
    if fr:
        f = path / fr["file"]
        try:
            with rasterio.open(f) as src:
                result.frames = [(t, src.read(k + 1)) for k, t in enumerate(fr["times"])]
        except RasterioError as err:
            raise TwinFormatError(f"{f}: not a readable GeoTIFF ({err})") from err
    result.indicators = [
        Indicator(
            name=i["name"],
            value=(float("nan") if i["value"] is None else i["value"]),
            unit=i["unit"],
            label=dict(i.get("label", {})),
            better=i.get("better", ""),
        )
        for i in record.get("indicators", [])
    ]
    return result, record
