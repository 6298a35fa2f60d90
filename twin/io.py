"""Saving and opening twins; writing single rasters; atomic file output.

A twin on disk is a directory of open formats that QGIS opens as they are::

    town.twin/
        twin.json          manifest: format version, grid, layers, tables, checksums, provenance
        layers/<name>.tif  one GeoTIFF per layer (tiled, DEFLATE, lossless), with CRS, nodata, units
        tables.gpkg        one GeoPackage, one layer per table

Writes are atomic: the twin is written to a hidden temporary directory beside the
target, then renamed; a failure leaves nothing at the target. On opening, every
file the manifest lists must be present with its recorded size and SHA-256, so
a damaged or partial twin is refused with a message naming the file, never half
loaded.

Set ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) to make the
written bytes independent of the clock.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pyogrio
import rasterio
from rasterio.errors import RasterioError

from twin.core import Twin, dataset_from_grid, layer_dataarray
from twin.errors import TwinExistsError, TwinFileNotFoundError, TwinFormatError, TwinIOError
from twin.grid import Grid, Window
from twin.layers import LANDCOVER_INFO, layer_spec

__all__ = ["save", "open_twin", "open_window", "read_manifest", "write_raster", "read_raster", "atomic_output", "atomic_dir", "now_iso", "FORMAT", "FORMAT_VERSION"]

FORMAT = "jumeau-twin"
FORMAT_VERSION = 1
MANIFEST = "twin.json"
TABLES_FILE = "tables.gpkg"


def now_iso() -> str:
    """Current UTC time in ISO 8601, or ``SOURCE_DATE_EPOCH`` when that is set (reproducible outputs)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        t = _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc)
    else:
        t = _dt.datetime.now(_dt.timezone.utc)
    return t.replace(microsecond=0).isoformat()


# -- atomic output -------------------------------------------------------------------------------
@contextlib.contextmanager
def atomic_output(path, *, overwrite: bool = True):
    """Yield a temporary file path beside ``path``; on success rename it to ``path``.

    On an exception the temporary file is removed and ``path`` is untouched.

    Raises
    ------
    TwinExistsError
        If ``path`` exists and ``overwrite`` is false.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise TwinExistsError(f"{path}: exists (use --overwrite to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part" + path.suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # writers such as GDAL want to create the file themselves
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path, *, overwrite: bool = False):
    """Yield a temporary directory beside ``path``; on success it replaces ``path``.

    Raises
    ------
    TwinExistsError
        If ``path`` exists and ``overwrite`` is false.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise TwinExistsError(f"{path}: exists (use --overwrite to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    try:
        yield tmp
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.rmdir(old)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# -- single rasters ---------------------------------------------------------------------------------
def _predictor(dtype: np.dtype) -> int:
    return 3 if dtype.kind == "f" else 2


def write_raster(
    path,
    values,
    grid: Grid,
    *,
    units: str,
    description: str = "",
    nodata=None,
    cog: bool = False,
    tags: dict | None = None,
    colormap: dict | None = None,
    overwrite: bool = True,
) -> Path:
    """Write one band as a GeoTIFF (atomically) with CRS, nodata, units and description.

    Parameters
    ----------
    values : array of shape ``grid.shape``
    units : str
        Units written to the band (GDAL ``units``, read by QGIS) and as a tag.
    cog : bool
        Write a Cloud-Optimised GeoTIFF (with overviews) instead of a plain tiled one.

    Compression is lossless (DEFLATE with a predictor).
    """
    arr = np.asarray(values)
    if arr.shape != grid.shape:
        raise TwinIOError(f"{path}: array shape {arr.shape} does not match the grid {grid.shape}")
    if arr.dtype == np.float16 or arr.dtype == bool:
        arr = arr.astype(np.float32 if arr.dtype == np.float16 else np.uint8)
    if nodata is None and arr.dtype.kind == "f":
        nodata = float("nan")
    profile = dict(
        driver="COG" if cog else "GTiff",
        width=grid.ncols,
        height=grid.nrows,
        count=1,
        dtype=arr.dtype.name,
        crs=grid.pyproj_crs.to_wkt(),
        transform=grid.transform,
        compress="deflate",
        predictor=_predictor(arr.dtype),
        nodata=nodata,
    )
    if cog:  # the COG driver always tiles; it takes BLOCKSIZE, not TILED/BLOCKXSIZE
        profile.update(blocksize=512, overview_resampling="average" if arr.dtype.kind == "f" else "nearest")
    elif grid.nrows >= 256 and grid.ncols >= 256:  # smaller rasters stay in strips
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    with atomic_output(path, overwrite=overwrite) as tmp:
        try:
            with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(tmp, "w", **profile) as dst:
                dst.write(arr, 1)
                dst.units = (units,)
                if description:
                    dst.descriptions = (description,)
                dst.update_tags(1, units=units, **({"long_name": description} if description else {}))
                if tags:
                    dst.update_tags(**{k: str(v) for k, v in tags.items()})
                if colormap:
                    dst.write_colormap(1, colormap)
        except RasterioError as err:
            raise TwinIOError(f"{path}: cannot write GeoTIFF: {err}") from err
    return Path(path)


def read_raster(path) -> tuple[np.ndarray, Grid, dict]:
    """Read band 1 of a raster: ``(array, grid, info)`` with ``info`` holding units, nodata and tags.

    Raises
    ------
    TwinFileNotFoundError, TwinFormatError
    """
    path = Path(path)
    if not path.exists():
        raise TwinFileNotFoundError(f"{path}: no such file")
    try:
        with rasterio.open(path) as src:
            arr = src.read(1)
            if src.crs is None:
                raise TwinFormatError(f"{path}: the raster has no CRS")
            grid = Grid.from_transform(src.transform, (src.height, src.width), src.crs.to_wkt())
            info = {"units": (src.units[0] if src.units else "") or src.tags(1).get("units", ""),
                    "nodata": src.nodata, "description": src.descriptions[0] or "", "tags": src.tags(), "band_tags": src.tags(1)}
    except RasterioError as err:
        raise TwinFormatError(f"{path}: not a readable raster ({err})") from err
    return arr, grid, info


# -- twins ---------------------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _landcover_colormap() -> dict:
    return {int(code): (*rgb, 255) for code, (_, _, rgb) in LANDCOVER_INFO.items()}


def _json_attrs(attrs: dict) -> dict:
    out = {}
    for k, v in attrs.items():
        if k in ("grid_mapping",):
            continue
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, (str, int, float, bool)) or v is None:
            out[k] = v
        elif isinstance(v, (list, tuple)):
            out[k] = [x.item() if isinstance(x, np.generic) else x for x in v]
    return out


def _geometry_type(table) -> str:
    types = set(table.geometry.geom_type.dropna())
    if len(types) == 1:
        t = types.pop()
        has_z = bool(table.geometry.has_z.any())
        return f"{t} Z" if has_z else t
    return "Unknown"


def save(twin: Twin, path, *, overwrite: bool = False) -> Path:
    """Write ``twin`` to the directory ``path`` (atomically).

    Raises
    ------
    TwinExistsError
        If ``path`` exists and ``overwrite`` is false.
    TwinIOError
        If a file cannot be written.
    """
    path = Path(path)
    grid = twin.grid
    manifest: dict = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": twin.name,
        "description": twin.meta.get("description", ""),
        "saved": now_iso(),
        "grid": {
            "crs": grid.crs,
            "crs_wkt": grid.pyproj_crs.to_wkt(),
            "cell_size": grid.cell_size,
            "xmin": grid.xmin,
            "ymax": grid.ymax,
            "nrows": grid.nrows,
            "ncols": grid.ncols,
        },
        "layers": {},
        "tables": {},
        "meta": {k: v for k, v in twin.meta.items() if k not in ("name", "description", "provenance")},
        "provenance": twin.meta.get("provenance", []),
    }
    with atomic_dir(path, overwrite=overwrite) as tmp:
        (tmp / "layers").mkdir()
        for name, da in twin.layers.data_vars.items():
            rel = f"layers/{name}.tif"
            spec = layer_spec(name)
            write_raster(
                tmp / rel, da.values, grid,
                units=da.attrs.get("units", ""),
                description=da.attrs.get("long_name", name),
                nodata=(spec.fill if spec is not None else None) if da.dtype.kind != "f" else float("nan"),
                colormap=_landcover_colormap() if name == "landcover" else None,
            )
            manifest["layers"][name] = {
                "file": rel,
                "dtype": str(da.dtype),
                "units": da.attrs.get("units", ""),
                "attrs": _json_attrs(da.attrs),
            }
        if twin.tables:
            gpkg = tmp / TABLES_FILE
            with _fixed_gpkg_date():
                for name, table in twin.tables.items():
                    _check_storable(name, table, path)
                    try:
                        pyogrio.write_dataframe(
                            table, gpkg, layer=name, driver="GPKG", append=gpkg.exists(),
                            geometry_type=_geometry_type(table), promote_to_multi=False,
                        )
                    except Exception as err:  # pyogrio raises several unrelated types
                        raise TwinIOError(f"{path}: cannot write table {name!r}: {err}") from err
                    manifest["tables"][name] = {
                        "file": TABLES_FILE,
                        "layer": name,
                        "rows": int(len(table)),
                        "dtypes": {c: str(t) for c, t in table.dtypes.items() if c != table.geometry.name},
                    }
        files = sorted({e["file"] for e in manifest["layers"].values()} | {e["file"] for e in manifest["tables"].values()})
        manifest["files"] = {f: {"bytes": (tmp / f).stat().st_size, "sha256": _sha256(tmp / f)} for f in files}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _check_storable(name: str, table, path: Path) -> None:
    """Refuse columns whose values GeoPackage would silently turn into text (lossy round trip)."""
    for col in table.columns:
        if col == table.geometry.name or table[col].dtype != object:
            continue
        kinds = {type(v) for v in table[col].dropna()}
        if not kinds <= {str}:
            bad = sorted(k.__name__ for k in kinds - {str})
            raise TwinIOError(
                f"{path}: table {name!r} column {col!r} holds {', '.join(bad)} values; a twin stores numbers, text and dates"
            )


@contextlib.contextmanager
def _fixed_gpkg_date():
    """Make GeoPackage timestamps follow SOURCE_DATE_EPOCH (reproducible bytes)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        yield
        return
    stamp = _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": stamp})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def read_manifest(path, *, checksums: bool = False) -> tuple[dict, Grid]:
    """The checked manifest of a saved twin and its grid, reading no layer or table.

    Every file the manifest lists must exist with its recorded size; with ``checksums``
    each is also read through (in 1 MiB chunks: constant memory, time proportional to the
    twin's bytes) and its SHA-256 compared with the manifest's.

    Raises
    ------
    TwinFileNotFoundError
        If ``path`` or a file the manifest lists does not exist.
    TwinFormatError
        If ``path`` is not a twin, its manifest is damaged, or a file's size (or checksum)
        differs from the manifest's.
    """
    path = Path(path)
    if not path.exists():
        raise TwinFileNotFoundError(f"{path}: no such twin")
    mpath = path / MANIFEST
    if not path.is_dir() or not mpath.exists():
        raise TwinFormatError(f"{path}: not a twin (no {MANIFEST})")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TwinFormatError(f"{mpath}: damaged manifest ({err})") from err
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise TwinFormatError(f"{mpath}: not a jumeau twin manifest")
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise TwinFormatError(
            f"{mpath}: format version {manifest.get('format_version')} is newer than this jumeau reads ({FORMAT_VERSION})"
        )
    try:
        g = manifest["grid"]
        grid = Grid(xmin=g["xmin"], ymax=g["ymax"], nrows=g["nrows"], ncols=g["ncols"], cell_size=g["cell_size"], crs=g["crs"])
        files = manifest["files"]
        _ = (manifest["layers"], manifest["tables"])
        _ = [(rec["bytes"], rec["sha256"]) for rec in files.values()]
    except (KeyError, TypeError) as err:
        raise TwinFormatError(f"{mpath}: damaged manifest (missing {err})") from err
    for rel, rec in files.items():
        f = path / rel
        if not f.exists():
            raise TwinFileNotFoundError(f"{f}: missing (the twin is incomplete)")
        if f.stat().st_size != rec["bytes"] or (checksums and _sha256(f) != rec["sha256"]):
            raise TwinFormatError(f"{f}: damaged (size or checksum differs from the manifest)")
    return manifest, grid


def _layer_attrs(name: str, entry: dict) -> tuple[str | None, str | None, dict]:
    attrs = dict(entry.get("attrs", {}))
    units = attrs.pop("units", entry.get("units", ""))
    long_name = attrs.pop("long_name", None)
    return (None if layer_spec(name) else units), long_name, attrs


def _read_table(f: Path, name: str, entry: dict, *, bbox=None):
    """One table of the GeoPackage (all rows, or those whose envelope meets ``bbox``), dtypes restored.

    A ``bbox`` read keeps the index the rows have in a full read (their GeoPackage
    feature id minus one: ``save`` writes ids 1..n in order).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if bbox is None:
                table = pyogrio.read_dataframe(f, layer=entry["layer"])
            else:
                table = pyogrio.read_dataframe(f, layer=entry["layer"], bbox=tuple(bbox), fid_as_index=True)
    except Exception as err:  # pyogrio raises several unrelated types
        raise TwinFormatError(f"{f}: cannot read table {name!r} ({err})") from err
    if bbox is None:
        if len(table) != entry["rows"]:
            raise TwinFormatError(f"{f}: table {name!r} has {len(table)} rows, the manifest says {entry['rows']}")
    else:
        table = table.sort_index()
        table.index = (table.index.to_numpy(np.int64) - 1).astype(np.int64)
        table.index.name = None
        if len(table) and (table.index.min() < 0 or table.index.max() >= entry["rows"]):
            raise TwinFormatError(f"{f}: table {name!r} has feature ids outside 1..{entry['rows']} (the manifest's rows)")
    for col, dtype in entry.get("dtypes", {}).items():
        if col in table.columns and str(table[col].dtype) != dtype:
            with contextlib.suppress(TypeError, ValueError):
                table[col] = table[col].astype(dtype)
    return table


def _twin_meta(manifest: dict, path: Path) -> dict:
    meta = dict(manifest.get("meta", {}))
    meta["name"] = manifest.get("name", path.stem)
    meta["description"] = manifest.get("description", "")
    meta["provenance"] = manifest.get("provenance", [])
    return meta


def open_twin(path, *, verify: bool = True) -> Twin:
    """Open a twin written by :func:`save`.

    Parameters
    ----------
    verify : bool
        Check every file's size and SHA-256 against the manifest (default). A damaged
        twin is refused rather than half loaded. Without it, sizes are still checked.

    Raises
    ------
    TwinFileNotFoundError
        If ``path`` or a file the manifest lists does not exist.
    TwinFormatError
        If ``path`` is not a twin, its manifest is damaged, a file does not match its
        checksum, or a layer does not match the grid.
    """
    path = Path(path)
    manifest, grid = read_manifest(path, checksums=verify)
    ds = dataset_from_grid(grid)
    for name, entry in manifest["layers"].items():
        f = path / entry["file"]
        arr, lgrid, _ = read_raster(f)
        if lgrid.shape != grid.shape or not lgrid.transform.almost_equals(grid.transform):
            raise TwinFormatError(f"{f}: its grid ({lgrid}) differs from the twin's ({grid})")
        if str(arr.dtype) != entry["dtype"]:
            raise TwinFormatError(f"{f}: dtype {arr.dtype} differs from the manifest ({entry['dtype']})")
        units, long_name, attrs = _layer_attrs(name, entry)
        ds[name] = layer_dataarray(grid, name, arr, units=units, long_name=long_name, **attrs)
    tables = {name: _read_table(path / entry["file"], name, entry) for name, entry in manifest["tables"].items()}
    return Twin(ds, tables, _twin_meta(manifest, path))


def open_window(path, window: Window | None = None, *, bounds=None, verify: bool = False) -> Twin:
    """Open the part of a saved twin inside a window, reading only that part from disk.

    Each layer's GeoTIFF is read on the window alone (GDAL decodes only the 256 x 256
    blocks it touches), and each table only on the rows whose geometry meets the window's
    extent (a ``bbox`` read through the GeoPackage's R-tree, then the row rule of tiles,
    :func:`twin.tables.clip_to_grid`: points whose cell is in the window, other geometries
    intersecting it, whole). The result equals ``Twin.open(path).window(window)`` with its
    tables clipped by that rule (same values, dtypes, coordinates, table rows and index),
    and its memory is that of the window.

    Parameters
    ----------
    window : Window, optional
        Cells of the twin's grid (clipped to it).
    bounds : (xmin, ymin, xmax, ymax), optional
        A world extent instead [m], snapped outward to whole cells (:meth:`Grid.window`).
    verify : bool
        What is checked before reading. Always: the manifest (format, version, grid), that
        every file it lists exists with its recorded byte size, that each layer's GeoTIFF
        has the twin's grid and the manifest's dtype, and the blocks read decode (DEFLATE
        checks their integrity). **Not checked by default: the SHA-256 checksums**, which
        need every byte of every file, the whole territory, read for any window (a byte
        changed in place, the size kept, in a block outside the window or in a table row
        outside it goes unseen). ``verify=True`` hashes every file (time of a full read,
        constant memory); :func:`twin.tiling.map_tiles` on a path does that once on the
        client before any tile is read. Nor is the table row count checked (only the rows
        read exist). :func:`open_twin` (a full open) verifies everything, as before.

    Returns
    -------
    Twin
        On the window's grid; its provenance ends with an ``open_window`` record
        (the window and the whole grid's shape).

    Raises
    ------
    TwinValueError
        If neither or both of ``window`` and ``bounds`` are given, or they do not overlap the grid.
    TwinFileNotFoundError, TwinFormatError
        As :func:`open_twin`, for the manifest, files and the parts read.
    """
    from rasterio.windows import Window as RioWindow

    from twin.errors import TwinValueError
    from twin.tables import clip_to_grid

    path = Path(path)
    if (window is None) == (bounds is None):
        raise TwinValueError(f"{path}: open_window needs a window or bounds (one of them)")
    manifest, grid = read_manifest(path, checksums=verify)
    if bounds is not None:
        try:
            xmin, ymin, xmax, ymax = (float(v) for v in bounds)
        except (TypeError, ValueError):
            raise TwinValueError(f"{path}: invalid bounds {bounds!r} (xmin, ymin, xmax, ymax in metres)") from None
        if not (xmax > xmin and ymax > ymin):
            raise TwinValueError(f"{path}: empty bounds {tuple(bounds)!r}")
        w = grid.window(xmin, ymin, xmax, ymax)
    else:
        if not isinstance(window, Window):
            raise TwinValueError(f"{path}: window must be a twin.grid.Window, got {type(window).__name__}")
        w = window.intersection(grid.full_window)
    if w.height == 0 or w.width == 0:
        raise TwinValueError(f"{path}: the window {bounds if bounds is not None else window!r} does not overlap "
                             f"the twin {tuple(grid.bounds)}")
    sub = grid.subgrid(w)
    rows, cols = w.slices
    ds = dataset_from_grid(sub)  # coordinates sliced from the whole grid's, as a selection has them
    ds = ds.assign_coords(x=ds["x"].copy(data=grid.x[cols]), y=ds["y"].copy(data=grid.y[rows]))
    rio_w = RioWindow(w.col_off, w.row_off, w.width, w.height)
    for name, entry in manifest["layers"].items():
        f = path / entry["file"]
        try:
            with rasterio.open(f) as src:
                lgrid = Grid.from_transform(src.transform, (src.height, src.width), grid.crs)
                if lgrid.shape != grid.shape or not lgrid.transform.almost_equals(grid.transform):
                    raise TwinFormatError(f"{f}: its grid ({lgrid}) differs from the twin's ({grid})")
                if src.dtypes[0] != entry["dtype"]:
                    raise TwinFormatError(f"{f}: dtype {src.dtypes[0]} differs from the manifest ({entry['dtype']})")
                arr = src.read(1, window=rio_w)
        except RasterioError as err:
            raise TwinFormatError(f"{f}: not a readable raster ({err})") from err
        units, long_name, attrs = _layer_attrs(name, entry)
        ds[name] = layer_dataarray(sub, name, arr, units=units, long_name=long_name, **attrs)
    # the R-tree holds float32 envelopes rounded outward; a cell more makes the read a sure superset
    pad = grid.cell_size
    xmin, ymin, xmax, ymax = sub.bounds
    bbox = (xmin - pad, ymin - pad, xmax + pad, ymax + pad)
    tables = {}
    for name, entry in manifest["tables"].items():
        table = _read_table(path / entry["file"], name, entry, bbox=bbox)
        tables[name] = clip_to_grid(table, sub)
    meta = _twin_meta(manifest, path)
    out = Twin(ds, tables, meta)
    out.add_provenance("open_window", window=[w.row_off, w.col_off, w.height, w.width],
                       grid_shape=list(grid.shape), bounds=[float(v) for v in sub.bounds])
    return out
