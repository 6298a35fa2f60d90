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
from twin.grid import Grid
from twin.layers import LANDCOVER_INFO, layer_spec

__all__ = ["save", "open_twin", "write_raster", "read_raster", "atomic_output", "atomic_dir", "now_iso", "FORMAT", "FORMAT_VERSION"]

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


def open_twin(path, *, verify: bool = True) -> Twin:
    """Open a twin written by :func:`save`.

    Parameters
    ----------
    verify : bool
        Check every file's size and SHA-256 against the manifest (default). A damaged
        twin is refused rather than half loaded.

    Raises
    ------
    TwinFileNotFoundError
        If ``path`` or a file the manifest lists does not exist.
    TwinFormatError
        If ``path`` is not a twin, its manifest is damaged, a file does not match its
        checksum, or a layer does not match the grid.
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
        layer_entries = manifest["layers"]
        table_entries = manifest["tables"]
    except (KeyError, TypeError) as err:
        raise TwinFormatError(f"{mpath}: damaged manifest (missing {err})") from err
    for rel, rec in files.items():
        f = path / rel
        if not f.exists():
            raise TwinFileNotFoundError(f"{f}: missing (the twin is incomplete)")
        if verify:
            size = f.stat().st_size
            if size != rec["bytes"] or _sha256(f) != rec["sha256"]:
                raise TwinFormatError(f"{f}: damaged (size or checksum differs from the manifest)")
    ds = dataset_from_grid(grid)
    for name, entry in layer_entries.items():
        f = path / entry["file"]
        arr, lgrid, _ = read_raster(f)
        if lgrid.shape != grid.shape or not lgrid.transform.almost_equals(grid.transform):
            raise TwinFormatError(f"{f}: its grid ({lgrid}) differs from the twin's ({grid})")
        if str(arr.dtype) != entry["dtype"]:
            raise TwinFormatError(f"{f}: dtype {arr.dtype} differs from the manifest ({entry['dtype']})")
        attrs = dict(entry.get("attrs", {}))
        units = attrs.pop("units", entry.get("units", ""))
        long_name = attrs.pop("long_name", None)
        spec = layer_spec(name)
        ds[name] = layer_dataarray(grid, name, arr, units=None if spec else units, long_name=long_name, **attrs)
    tables = {}
    for name, entry in table_entries.items():
        f = path / entry["file"]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                table = pyogrio.read_dataframe(f, layer=entry["layer"])
        except Exception as err:  # pyogrio raises several unrelated types
            raise TwinFormatError(f"{f}: cannot read table {name!r} ({err})") from err
        if len(table) != entry["rows"]:
            raise TwinFormatError(f"{f}: table {name!r} has {len(table)} rows, the manifest says {entry['rows']}")
        for col, dtype in entry.get("dtypes", {}).items():
            if col in table.columns and str(table[col].dtype) != dtype:
                with contextlib.suppress(TypeError, ValueError):
                    table[col] = table[col].astype(dtype)
        tables[name] = table
    meta = dict(manifest.get("meta", {}))
    meta["name"] = manifest.get("name", path.stem)
    meta["description"] = manifest.get("description", "")
    meta["provenance"] = manifest.get("provenance", [])
    return Twin(ds, tables, meta)
