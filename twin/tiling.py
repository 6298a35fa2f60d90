"""Tile-by-tile runs on dask: cut a twin into padded windows, run a function on each, stitch the cores.

A territory too large for one computation (or one machine) is cut into tiles of
``tile_size`` metres; each tile is read with a ``halo`` of neighbouring cells so that a
model whose influence reaches ``halo`` metres (a luminaire's cut-off, a shadow, the
horizon of a sky view) sees what it needs. The function runs on the padded sub-twin;
only the tile's core is kept, and the cores, which partition the grid, are stitched
into full-grid layers with their units.

>>> from twin.tiling import map_tiles
>>> def slope_free(sub):                                            # doctest: +SKIP
...     return {"relief": (sub.array("surface") - sub.array("terrain"), "m")}
>>> layers = map_tiles(twin, slope_free, tile_size=500.0, halo=0.0)  # doctest: +SKIP

Each tile is one ``dask.delayed`` task; ``scheduler`` chooses where the tasks run:
``"threads"``, ``"processes"``, ``"synchronous"``, a ``concurrent.futures`` executor or a
``dask.distributed.Client`` (jumeau does not depend on ``distributed``: a user with a
cluster passes their own client). The stitched result does not depend on the scheduler:
every core is written once, by the task of its tile, and tasks are independent.

Memory per tile: the padded window's layers (a view with threads, a copy with
processes or a cluster: ``(tile + 2 halo)^2 / cell_size^2`` cells times the bytes per
cell of the twin's layers), the rows of the tables that intersect the padded window,
whatever ``func`` allocates for that many cells, and its outputs on the core. The
client holds the stitched outputs (their bytes per cell times the grid's cells) and the
results of the tasks until they are stitched: about twice the outputs' size at the end
of :func:`map_tiles`.

Given the *path* of a saved twin instead of a Twin, each task reads its own padded window
from disk (:func:`open_tile`, :func:`twin.io.open_window`): the client then holds none of
the twin, only the stitched outputs, and a territory larger than its memory can run.
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from twin.core import Twin, dataset_from_grid, layer_dataarray, spatial_ref_coord
from twin.errors import TwinError, TwinRuntimeError, TwinValueError
from twin.grid import Grid, Tile, Window
from twin.layers import layer_spec
from twin.tables import clip_to_grid

__all__ = ["map_tiles", "tile_plan", "tile_twin", "open_tile", "tile_of", "tile_cells", "SCHEDULERS"]

#: the scheduler names :func:`map_tiles` accepts (besides an executor or a dask.distributed Client)
SCHEDULERS = ("threads", "processes", "synchronous", "sync", "single-threaded")


def tile_cells(grid: Grid, *, tile_size: float, halo: float) -> tuple[int, int]:
    """Tile side and halo in cells for lengths in metres.

    The tile side is rounded to the nearest whole number of cells (at least one); the
    halo is rounded *up*, so that it always covers at least ``halo`` metres.

    Raises
    ------
    TwinValueError
        If ``tile_size`` is not a positive number or ``halo`` is negative.
    """
    try:
        ts = float(tile_size)
        h = float(halo)
    except (TypeError, ValueError):
        raise TwinValueError(f"invalid tile_size/halo: {tile_size!r}, {halo!r} (numbers of metres)") from None
    if not (math.isfinite(ts) and ts > 0):
        raise TwinValueError(f"invalid tile_size: {tile_size!r} (must be a positive length in metres)")
    if not math.isfinite(h) or h < 0:
        raise TwinValueError(f"invalid halo: {halo!r} (must be a length >= 0 in metres)")
    cs = grid.cell_size
    return max(1, int(round(ts / cs))), int(math.ceil(h / cs - 1e-9))


def tile_plan(grid: Grid, *, tile_size: float, halo: float) -> list[Tile]:
    """The tiles of a run, row-major from the north-west: cores partition the grid."""
    n, k = tile_cells(grid, tile_size=tile_size, halo=halo)
    return list(grid.tiles(n, halo=k))


def _label(index: int, tile: Tile) -> str:
    w = tile.window
    return (f"tile {index} (rows {w.row_off}-{w.row_off + w.height - 1}, "
            f"cols {w.col_off}-{w.col_off + w.width - 1})")


def tile_twin(twin: Twin, tile: Tile, *, index: int = 0) -> Twin:
    """The padded sub-twin of a tile: layers on the padded window, tables clipped to it.

    Layers are views of the twin's arrays (no copy); tables keep the rows whose geometry
    intersects the padded window (points: whose cell lies in it), so a tile never carries
    the whole territory's tables. ``meta["tile"]`` records the tile (see :func:`tile_of`).
    Tables that are not GeoDataFrames are kept whole.
    """
    sub_grid = twin.grid.subgrid(tile.padded)
    rows, cols = tile.padded.slices
    ds = twin.layers.isel(y=rows, x=cols)
    ds = ds.assign_coords(spatial_ref=spatial_ref_coord(sub_grid))
    out = Twin.__new__(Twin)  # the parts were checked when they were set on the whole twin
    out.grid = sub_grid
    out.layers = ds
    out.tables = {name: clip_to_grid(t, sub_grid) for name, t in twin.tables.items()}
    out.meta = _tile_meta(twin.meta, tile, index)
    return out


def _tile_meta(meta: dict, tile: Tile, index: int) -> dict:
    out = {k: v for k, v in meta.items() if k != "provenance"}
    out["provenance"] = []
    w, p = tile.window, tile.padded
    out["tile"] = {"index": int(index), "window": [w.row_off, w.col_off, w.height, w.width],
                   "padded": [p.row_off, p.col_off, p.height, p.width]}
    return out


def open_tile(path, tile: Tile, *, index: int = 0) -> Twin:
    """The padded sub-twin of a tile read from a saved twin: what :func:`tile_twin` cuts from it in memory.

    Only the padded window of each layer and the table rows that touch it are read
    (:func:`twin.io.open_window`; file sizes are checked, not checksums). The layers,
    tables (rows, order, index, dtypes) and ``meta`` equal those of
    ``tile_twin(Twin.open(path), tile, index=index)``; the arrays are the tile's own.
    """
    from twin.io import open_window

    sub = open_window(path, tile.padded)
    sub.meta = _tile_meta(sub.meta, tile, index)
    return sub


def tile_of(sub_twin: Twin) -> Tile:
    """The :class:`~twin.grid.Tile` (in the whole grid's indices) a sub-twin of :func:`tile_twin` was cut for.

    ``tile_of(sub).inner`` selects the core from the sub-twin's arrays.
    """
    rec = sub_twin.meta.get("tile")
    if not rec:
        raise TwinValueError("this twin is not a tile (no meta['tile']): make it with twin.tiling.tile_twin")
    return Tile(window=Window(*rec["window"]), padded=Window(*rec["padded"]))


def _normalise_layers(out, where: str, shape: tuple[int, int]) -> dict[str, tuple[np.ndarray, dict]]:
    """``{name: (array, attrs)}`` from what a tile function returned; checks shapes and units."""
    if isinstance(out, xr.Dataset):
        items = {str(k): v for k, v in out.data_vars.items()}
    elif isinstance(out, Mapping):
        items = dict(out)
    else:
        raise TwinValueError(f"{where}: the tile function returned {type(out).__name__}; "
                             "expected an xarray.Dataset or a dict of layers")
    layers = {}
    for name, v in items.items():
        attrs: dict = {}
        if isinstance(v, xr.DataArray):
            attrs = dict(v.attrs)
            arr = v.values
        elif isinstance(v, tuple):
            if not 2 <= len(v) <= 3:
                raise TwinValueError(f"{where}: layer {name!r}: a tuple must be (array, units) or "
                                     "(array, units, long_name)")
            arr = np.asarray(v[0])
            attrs["units"] = str(v[1])
            if len(v) == 3 and v[2]:
                attrs["long_name"] = str(v[2])
        else:
            arr = np.asarray(v)
        spec = layer_spec(name)
        if "units" not in attrs:
            if spec is None:
                raise TwinValueError(f"{where}: layer {name!r} has no units (return (array, units) or a "
                                     "DataArray with a units attribute)")
            attrs["units"] = spec.units
        attrs.pop("grid_mapping", None)
        if arr.shape != shape:
            raise TwinValueError(f"{where}: layer {name!r} has shape {arr.shape}, the padded tile is {shape}")
        layers[name] = (arr, attrs)
    return layers


def _raise_prefixed(err: TwinError, where: str):
    try:
        wrapped = type(err)(f"{where}: {err}")
    except Exception:  # an error class with another signature
        raise err from None
    raise wrapped from err


def _run_tile(func, sub: Twin | str, tile: Tile, index: int, extras: bool):
    """One task: run ``func`` on the padded sub-twin (or open it from a saved twin's path), keep the core."""
    where = _label(index, tile)
    if isinstance(sub, str):  # a saved twin: this task reads its own padded window
        try:
            sub = open_tile(sub, tile, index=index)
        except TwinError as err:
            _raise_prefixed(err, where)
    try:
        res = func(sub)
    except TwinError as err:
        _raise_prefixed(err, where)
    except Exception as err:
        raise TwinRuntimeError(f"{where}: {type(err).__name__}: {err}") from err
    extra = None
    if extras:
        if not (isinstance(res, tuple) and len(res) == 2):
            raise TwinValueError(f"{where}: with extras=True the tile function must return (layers, extra)")
        res, extra = res
    layers = _normalise_layers(res, where, tile.padded.shape)
    inner = tile.inner
    core = {name: (np.array(arr[inner]), attrs) for name, (arr, attrs) in layers.items()}
    return core, extra


def _check_scheduler(scheduler):
    if scheduler is None or callable(scheduler) or isinstance(scheduler, Executor):
        return scheduler
    if isinstance(scheduler, str):
        if scheduler.lower() not in SCHEDULERS:
            raise TwinValueError(f"invalid scheduler: {scheduler!r} (use {', '.join(SCHEDULERS[:3])}, "
                                 "an executor or a dask.distributed Client)")
        return scheduler.lower()
    if "Client" in type(scheduler).__name__ and hasattr(scheduler, "get"):
        return scheduler
    raise TwinValueError(f"invalid scheduler: {scheduler!r} (use {', '.join(SCHEDULERS[:3])}, "
                         "an executor or a dask.distributed Client)")


def map_tiles(twin: Twin | str | os.PathLike, func: Callable[[Twin], Any], *, tile_size: float, halo: float,
              scheduler=None, num_workers: int | None = None, extras: bool = False, verify: bool = True):
    """Run ``func`` tile by tile on dask and stitch its layers on the whole grid.

    Parameters
    ----------
    twin : Twin or path of a saved twin
        A path (``Twin.save``'s directory) runs out of core: each task reads its own padded
        window from disk (:func:`open_tile`), so only the path and the window travel to the
        workers and the client never holds the twin's layers or tables. The path must be
        readable by the workers (a shared file system on a cluster). The result is the same
        as that of the opened twin, bit for bit.
    func : callable ``func(sub_twin) -> layers``
        Runs on the padded sub-twin of each tile (:func:`tile_twin`; ``tile_of(sub_twin)``
        tells which tile). Returns its layers on the padded grid: an ``xarray.Dataset`` with
        ``units`` attributes, or a dict mapping names to DataArrays, ``(array, units)`` or
        ``(array, units, long_name)`` tuples, or bare arrays for glossary layers. Every tile
        must return the same layers. With ``processes`` or a cluster, ``func`` is pickled:
        a module-level function or a ``functools.partial`` of one.
    tile_size : float
        Side of a tile's core [m], rounded to whole cells (the last tiles of a row or column
        are smaller).
    halo : float
        Width [m] of the neighbourhood read around each core, rounded up to whole cells. Each
        model states the halo that makes its tiled run exact or its error bound
        (docs/tiling.md).
    scheduler : None, str, executor or dask.distributed.Client
        ``"threads"``, ``"processes"``, ``"synchronous"`` (one tile after the other, in this
        process), a ``concurrent.futures`` executor or a distributed ``Client``; None uses
        dask's configured default (threads for delayed tasks, or an active Client).
    num_workers : int, optional
        Threads or processes of the local schedulers (default: one per core).
    extras : bool
        When true, ``func`` returns ``(layers, extra)``; ``extra`` (anything picklable: per-tile
        sums, tables) is returned beside the layers, one per tile in tile order.
    verify : bool
        With a path: hash every file of the saved twin once on the client against the
        manifest's SHA-256 before any tile runs (reads the files through in 1 MiB chunks:
        constant memory, the time of one full read). The tasks check file sizes only.
        False skips the hashing (sizes are still checked).

    Returns
    -------
    xarray.Dataset
        The stitched layers on ``twin.grid`` with their units and attributes, dtype the
        common type of the tiles' arrays (glossary layers: the glossary's dtype). With
        ``extras``: ``(Dataset, [(tile, extra), ...])``.

    Raises
    ------
    TwinValueError
        If the tile size or halo is invalid, the scheduler unknown, or a tile returns a layer
        of the wrong shape, without units, or a set of layers other tiles do not return (the
        message names the tile: ``tile 3 (rows 500-999, cols 0-499): ...``).
    TwinError
        Whatever ``func`` raises, the same class, its message prefixed with the tile.

    Notes
    -----
    Memory per tile: the padded window's layers (views with threads; a copy with processes
    or a cluster), the table rows intersecting the padded window, ``func``'s own memory for
    ``(tile_size + 2 halo)^2 / cell_size^2`` cells, and the core of its outputs. The client
    holds the stitched outputs and, until they are stitched, the tasks' core outputs (so up
    to twice the outputs' bytes per cell times the grid's cells); with a path, nothing of
    the twin itself.
    """
    import dask

    if isinstance(twin, (str, os.PathLike)):
        from twin.io import read_manifest

        source = str(Path(twin).resolve())  # workers may not share the client's working directory
        grid = read_manifest(source, checksums=bool(verify))[1]
        base_attrs = dict(dataset_from_grid(grid).attrs)
    elif isinstance(twin, Twin):
        source = None
        grid = twin.grid
        base_attrs = dict(twin.layers.attrs)
    else:
        raise TwinValueError(f"map_tiles needs a Twin or the path of a saved twin, got {type(twin).__name__}")
    if not callable(func):
        raise TwinValueError(f"map_tiles: func {func!r} is not callable")
    scheduler = _check_scheduler(scheduler)
    tiles = tile_plan(grid, tile_size=tile_size, halo=halo)
    run = uuid.uuid4().hex[:12]  # keys unique per call: a shared cluster may run several at once
    tasks = []
    for i, tile in enumerate(tiles):
        sub = source if source is not None else tile_twin(twin, tile, index=i)
        tasks.append(dask.delayed(_run_tile, pure=False)(func, sub, tile, i, extras,
                                                         dask_key_name=f"jumeau-tile-{run}-{i}"))
    kw = {}
    if scheduler is not None:
        kw["scheduler"] = scheduler
    if num_workers is not None:
        kw["num_workers"] = int(num_workers)
    results = list(dask.compute(*tasks, **kw))
    del tasks
    names = list(results[0][0])
    for i, (tile, (core, _)) in enumerate(zip(tiles, results)):
        if list(core) != names:
            raise TwinValueError(f"{_label(i, tile)}: the tile function returned the layers {sorted(core)}, "
                                 f"tile 0 returned {sorted(names)}")
    ds = dataset_from_grid(grid, attrs=base_attrs)
    out_extras = []
    for name in names:
        dtype = np.result_type(*[r[0][name][0].dtype for r in results])
        spec = layer_spec(name)
        if spec is not None:
            dtype = spec.np_dtype
        attrs = dict(results[0][0][name][1])
        full = np.empty(grid.shape, dtype)
        for i, (tile, (core, _)) in enumerate(zip(tiles, results)):
            arr, a = core[name]
            if a.get("units") != attrs.get("units"):
                raise TwinValueError(f"{_label(i, tile)}: layer {name!r} is in {a.get('units')!r}, "
                                     f"tile 0 gave {attrs.get('units')!r}")
            full[tile.window.slices] = arr
        units = attrs.pop("units")
        long_name = attrs.pop("long_name", None)
        ds[name] = layer_dataarray(grid, name, full, units=units, long_name=long_name, **attrs)
        for _, (core, _) in zip(tiles, results):
            core.pop(name)
    if extras:
        out_extras = [(tile, extra) for tile, (_, extra) in zip(tiles, results)]
        return ds, out_extras
    return ds
