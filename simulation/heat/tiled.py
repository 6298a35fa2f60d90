"""The heat model tile by tile on dask (``HeatModel(twin, tile_size=..., halo=...)``).

Each tile runs the whole hourly chain on its padded window (:func:`twin.tiling.map_tiles`)
with the sun of the whole grid's centre; the cores are stitched. Three things reach
beyond a cell, and the halo ``H`` [m] decides how well a tile sees them:

* **Sky views** look at an unbounded horizon. What a tile misses are obstacles farther
  than ``H``, which rise at most ``beta_H = atan(dz / H)`` above a core cell, ``dz`` the
  height of the highest surface outside the padded window above the lowest receiver of
  the core. Horizons count from 0 (an open horizon adds nothing), so for every azimuth
  ``0 <= sin^2 beta_true - sin^2 beta_tile <= sin^2 beta_H`` and

  .. math:: 0 \\le SVF_{tile} - SVF \\le \\sin^2\\beta_H = \\frac{dz^2}{dz^2 + H^2},

  the same for ``svf_veg``; the vertical sky views (``svf_north``...) lose at most
  ``(beta_H + sin beta_H cos beta_H) / (pi / 2)``. A side of a tile whose padded window
  reaches the grid's edge loses nothing (the whole grid ends there too).
* **Shadows** of obstacles beyond ``H`` reach a core cell only when the sun is lower than
  ``beta_H``: at every hour with a higher sun the tiled shadows are exact.
* **The ground a person sees** (``ground_view_radius``, 2.2 m) is exact for ``H`` at least that.

Tmrt and UTCI inherit these errors (through the diffuse and longwave sky terms, the
shadows of low suns, and the surface temperatures that remember them); the run records
``dz``, ``beta_H`` and the SVF bound in ``meta["tiling"]``, and docs/tiling.md gives the
measured differences. The hottest hour is the hour of the highest mean UTCI over the
open cells of the *whole* grid: each tile keeps the maps of its own ``CANDIDATES``
hottest hours and the few tiles whose candidates miss the global one are run again for
that hour. The hourly series' means and areas add up exactly over the tiles; their 95th
percentiles are read from histograms of 0.01 K bins (within 0.005 K).

Memory per tile: what the heat model needs on the padded window (about 150 bytes per
cell plus 48 per cell and kept hour), and ``CANDIDATES`` x 8 bytes per core cell for the
candidate maps.
"""

from __future__ import annotations

import functools
import math
import time
import uuid
import warnings

import numpy as np
import pandas as pd

from simulation.heat.model import SKY_VIEW_LAYERS, HeatModel, HeatResult, _p95
from simulation.heat.utci import heat_stress_class
from simulation.model import require_nonnegative
from simulation.shadows import SkyView, sky_view_factor
from twin.errors import TwinValueError
from twin.tiling import map_tiles, tile_of, tile_plan, tile_twin

__all__ = ["run_tiled", "tiling_options", "halo_error_bound", "DEFAULT_HALO", "CANDIDATES"]

#: halo [m] used when a tiled heat run gives none (recorded in ``meta["tiling"]``)
DEFAULT_HALO = 100.0
#: hottest hours whose maps each tile keeps for the choice of the global hottest hour
CANDIDATES = 3
_HOTTEST = ("tmrt_hottest", "utci_hottest", "heat_stress_hottest")
_HIST_STEP = 0.01  # K, bins of the per-tile histograms the 95th percentiles are read from


def tiling_options(model: HeatModel, *, tile_size, halo, scheduler) -> dict:
    """Check the tiling options of a heat model; the record kept in ``meta["tiling"]``."""
    applied = halo is None
    h = DEFAULT_HALO if applied else require_nonnegative(halo, name="halo")
    tiles = tile_plan(model.grid, tile_size=tile_size, halo=h)  # checks both lengths
    return {"tile_size": float(tile_size), "halo": float(h), "halo_default_applied": applied, "tiles": len(tiles),
            "scheduler": scheduler if scheduler is None or isinstance(scheduler, str) else type(scheduler).__name__,
            "_scheduler": scheduler}


def halo_error_bound(twin, *, tile_size: float, halo: float) -> dict:
    """The derived bound of the sky-view error of a tiled run (see the module doc).

    Returns
    -------
    dict: ``dz`` [m] (largest rise, over the tiles, of the surface outside a padded window above
    the lowest receiver of its core), ``halo_m`` [m] (the halo in whole cells), ``beta`` [degree]
    (``atan(dz / H)``: above this sun altitude shadows are exact), ``svf`` [1] (bound of
    ``|SVF_tile - SVF|`` and ``|svf_veg_tile - svf_veg|``), ``svf_vertical`` [1] (bound of the
    vertical sky views), ``exact`` (no tile misses anything: one tile, or padded windows
    covering the grid).
    """
    g = twin.grid
    tiles = tile_plan(g, tile_size=tile_size, halo=halo)
    surface = np.asarray(twin.array("surface"), np.float64)
    canopy = np.nan_to_num(np.asarray(twin.array("canopy_height"), np.float64)) if "canopy_height" in twin else 0.0
    solid = surface - canopy
    top = [np.nanmax(surface[t.window.slices], initial=-np.inf) for t in tiles]
    low = [np.nanmin(solid[t.window.slices], initial=np.inf) for t in tiles]
    dz = 0.0
    h_m = math.inf
    for i, t in enumerate(tiles):
        p = t.padded
        # the cores not inside this padded window: what lies (partly) beyond its halo
        outside = [top[j] for j, u in enumerate(tiles)
                   if not (u.window.row_off >= p.row_off and u.window.col_off >= p.col_off
                           and u.window.row_off + u.window.height <= p.row_off + p.height
                           and u.window.col_off + u.window.width <= p.col_off + p.width)]
        if not outside:
            continue
        dz = max(dz, max(outside) - low[i])
        h_m = min(h_m, (t.window.row_off - p.row_off) * g.cell_size if p.row_off > 0 else math.inf,
                  (t.window.col_off - p.col_off) * g.cell_size if p.col_off > 0 else math.inf,
                  (p.row_off + p.height - t.window.row_off - t.window.height) * g.cell_size
                  if p.row_off + p.height < g.nrows else math.inf,
                  (p.col_off + p.width - t.window.col_off - t.window.width) * g.cell_size
                  if p.col_off + p.width < g.ncols else math.inf)
    if not math.isfinite(h_m) or dz <= 0:
        return {"dz": float(max(dz, 0.0)), "halo_m": h_m if math.isfinite(h_m) else None, "beta": 0.0, "svf": 0.0,
                "svf_vertical": 0.0, "exact": not math.isfinite(h_m)}
    beta = math.atan2(dz, h_m)
    return {"dz": float(dz), "halo_m": float(h_m), "beta": math.degrees(beta), "svf": dz * dz / (dz * dz + h_m * h_m),
            "svf_vertical": (beta + math.sin(beta) * math.cos(beta)) / (math.pi / 2), "exact": False}


class _HourStats:
    """Per hour, what the series needs from a tile's core: sums, counts, histograms; the candidate maps."""

    def __init__(self, inner, open_core, k):
        self.inner = inner
        self.open = open_core
        self.k = k
        self.rows = {}
        self.candidates = {}  # index -> (mean, tmrt core, utci core)
        self.out_of_range = 0

    def __call__(self, i, time_, *, tmrt, utci, surface_temperature):
        t_core = tmrt[self.inner]
        u_core = utci[self.inner]
        self.out_of_range += int(np.count_nonzero(np.isfinite(t_core) & ~np.isfinite(u_core)))
        t = t_core[self.open]
        u = u_core[self.open]
        t = t[np.isfinite(t)].astype(np.float64)
        u = u[np.isfinite(u)].astype(np.float64)
        self.rows[i] = {
            "tmrt_sum": float(t.sum()), "tmrt_n": int(t.size), "utci_sum": float(u.sum()), "utci_n": int(u.size),
            "utci_32": int(np.count_nonzero(u >= 32.0)), "utci_38": int(np.count_nonzero(u >= 38.0)),
            "ts_sum": float(surface_temperature[self.inner][self.open].astype(np.float64).sum()),
            "tmrt_hist": np.unique(np.round(t / _HIST_STEP).astype(np.int64), return_counts=True),
            "utci_hist": np.unique(np.round(u / _HIST_STEP).astype(np.int64), return_counts=True),
        }
        mean = u.mean() if u.size else -np.inf
        worst = min(self.candidates, key=lambda j: (self.candidates[j][0], -j)) if self.candidates else None
        if len(self.candidates) < self.k or mean > self.candidates[worst][0]:
            if len(self.candidates) >= self.k:
                del self.candidates[worst]
            self.candidates[i] = (mean, t_core.copy(), u_core.copy())


def _tile_model(sub, *, parameters, location, svf_from_layers):
    model = HeatModel(sub, parameters=parameters, location=location)
    padded = tile_of(sub).padded
    p = model.params
    if svf_from_layers:
        sv = SkyView({n: model.read(n, "float32") for n in SKY_VIEW_LAYERS})
        sv.meta = {"cached": True, "seconds": 0.0}
    else:
        t = time.perf_counter()
        # a flat padded window is legitimate in a tile (the whole grid was checked for flatness)
        sv = sky_view_factor(surface=model.read("surface"), cell_size=model.grid.cell_size,
                             canopy_height=model._canopy(), terrain=model.read("terrain"),
                             transmissivity=p.transmissivity, n_azimuths=p.n_azimuths, directional=True,
                             allow_flat=True, grid_offset=(padded.row_off, padded.col_off))
        sv.meta.update({"cached": False, "seconds": round(time.perf_counter() - t, 3)})
    model.use_sky_view(sv)
    return model


def _heat_tile(sub, *, parameters, weather, keep_hours, location, svf_from_layers):
    """One tile of a tiled heat run: the layers on the padded window, the core's hourly statistics."""
    tile = tile_of(sub)
    model = _tile_model(sub, parameters=parameters, location=location, svf_from_layers=svf_from_layers)
    sv = model.sky_view()
    open_core = (model.read("building_id")[tile.inner] == 0) & np.isfinite(sv["svf"][tile.inner])
    stats = _HourStats(tile.inner, open_core, CANDIDATES)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = model.run(weather, keep_hours=keep_hours, progress_label=None, on_hour=stats)
    layers = {n: v for n, v in res.layers.items() if n not in _HOTTEST}
    hourly = sorted(res.hourly)
    for k, ts in enumerate(hourly):
        for q in ("tmrt", "utci"):
            layers[f"hourly:{k}:{q}"] = (res.hourly[ts][q], "degC")
    extra = {
        "rows": stats.rows, "candidates": {i: c[1:] for i, c in stats.candidates.items()},
        "out_of_range": stats.out_of_range, "open_cells": int(open_core.sum()), "hourly": hourly,
        "forcing": res.series[["air_temperature", "relative_humidity", "wind_speed", "sun_altitude", "sun_azimuth",
                               "global_horizontal", "direct_normal", "diffuse_horizontal", "longwave_down"]],
        "meta": res.meta, "sky_view": dict(sv.meta),
        "warnings": [str(w.message) for w in caught if "outside the UTCI range" not in str(w.message)],
    }
    return layers, extra


def _heat_tile_hour(sub, *, parameters, weather, location, svf_from_layers, hour):
    """The core's Tmrt and UTCI at one hour (a tile whose candidates missed the global hottest hour)."""
    tile = tile_of(sub)
    model = _tile_model(sub, parameters=parameters, location=location, svf_from_layers=svf_from_layers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.run(weather, keep_hours=(hour,), progress_label=None)
    maps = res.hourly[hour]
    return maps["tmrt"][tile.inner].copy(), maps["utci"][tile.inner].copy()


def _merged_p95(hists) -> float:
    """Nearest-rank 95th percentile of the union of (values, counts) histograms (bins of _HIST_STEP)."""
    hists = [h for h in hists if h[0].size]
    if not hists:
        return float("nan")
    v = np.concatenate([h[0] for h in hists])
    c = np.concatenate([h[1] for h in hists])
    order = np.argsort(v, kind="stable")
    v, c = v[order], np.cumsum(c[order])
    n = int(c[-1])
    k = min(n - 1, int(math.ceil(0.95 * n)) - 1)
    return float(v[np.searchsorted(c, k + 1)] * _HIST_STEP)


def run_tiled(model: HeatModel, weather: pd.DataFrame, *, keep_hours=()) -> HeatResult:
    """:meth:`HeatModel.run` tile by tile (the model's ``tiling`` options); see the module doc."""
    import dask

    t_start = time.perf_counter()
    opts = model.tiling
    twin = model.twin
    p = model.params
    if len(weather) < 1:
        raise TwinValueError("the weather table is empty")
    key = model._svf_hash()
    svf_from_layers = all(n in twin for n in SKY_VIEW_LAYERS) and all(
        twin[n].attrs.get("input_hash") == key for n in SKY_VIEW_LAYERS)
    if not svf_from_layers:
        surface = model.read("surface")
        relief = float(np.nanmax(surface) - np.nanmin(surface)) if np.isfinite(surface).any() else 0.0
        canopy = model._canopy()
        if relief < 0.1 and not (canopy is not None and (np.nan_to_num(canopy) > 0).any()):
            raise TwinValueError(
                f"the surface is flat (heights within {relief:.3f} m, no canopy): the sky-view factor would be 1 "
                "everywhere; does the surface lack buildings?")
    bound = halo_error_bound(twin, tile_size=opts["tile_size"], halo=opts["halo"])
    if svf_from_layers:  # the whole grid's sky views, read from the twin: only shadows of low suns differ
        bound.update(svf=0.0, svf_vertical=0.0)
    location = model.location()
    common = dict(parameters=p, weather=weather, location=location, svf_from_layers=svf_from_layers)
    func = functools.partial(_heat_tile, keep_hours=tuple(keep_hours), **common)
    ds, extras = map_tiles(twin, func, tile_size=opts["tile_size"], halo=opts["halo"], scheduler=opts["_scheduler"],
                           extras=True)
    tiles = [t for t, _ in extras]
    ex = [e for _, e in extras]
    forcing = ex[0]["forcing"]
    times = forcing.index
    n_open = sum(e["open_cells"] for e in ex)
    if n_open == 0:
        raise TwinValueError("the twin has no open (non-building) cell: nothing to compute for pedestrians")
    cell_area = model.grid.cell_area

    # the series: sums over the tiles' cores
    rows = []
    means = np.full(len(times), -np.inf)
    for i, ts in enumerate(times):
        r = [e["rows"][i] for e in ex]
        tn, un = sum(x["tmrt_n"] for x in r), sum(x["utci_n"] for x in r)
        mean_u = sum(x["utci_sum"] for x in r) / un if un else np.nan
        if np.isfinite(mean_u):
            means[i] = mean_u
        rows.append({
            "time": ts, **forcing.iloc[i].to_dict(),
            "tmrt_mean": sum(x["tmrt_sum"] for x in r) / tn if tn else np.nan,
            "tmrt_p95": _merged_p95([x["tmrt_hist"] for x in r]), "utci_mean": mean_u,
            "utci_p95": _merged_p95([x["utci_hist"] for x in r]),
            "area_utci_above_32": float(sum(x["utci_32"] for x in r)) * cell_area,
            "area_utci_above_38": float(sum(x["utci_38"] for x in r)) * cell_area,
            "surface_temperature_mean": sum(x["ts_sum"] for x in r) / n_open,
        })
    series = pd.DataFrame(rows).set_index("time")

    layers = {}
    for name in ds.data_vars:
        if not name.startswith("hourly:"):
            da = ds[name]
            layers[name] = (da.values, da.attrs["units"], da.attrs.get("long_name", ""))
    hourly = {}
    for k, ts in enumerate(ex[0]["hourly"]):
        hourly[ts] = {q: ds[f"hourly:{k}:{q}"].values for q in ("tmrt", "utci")}

    # the hottest hour of the whole grid, and its maps from the tiles' candidates (or a second run)
    hottest = None
    reruns = 0
    if np.isfinite(means).any() and means.max() > -np.inf:
        best = int(np.argmax(means))  # the first of equal means, as the whole-grid run
        hottest = times[best]
        shape = model.grid.shape
        tmrt_h = np.empty(shape, np.float32)
        utci_h = np.empty(shape, np.float32)
        missing = [j for j, e in enumerate(ex) if best not in e["candidates"]]
        for j, e in enumerate(ex):
            if best in e["candidates"]:
                tmrt_h[tiles[j].window.slices], utci_h[tiles[j].window.slices] = e["candidates"][best]
        if missing:
            reruns = len(missing)
            f1 = functools.partial(_heat_tile_hour, hour=hottest, **common)
            run = uuid.uuid4().hex[:12]
            tasks = [dask.delayed(f1, pure=False)(tile_twin(twin, tiles[j], index=j),
                                                  dask_key_name=f"jumeau-heat-hottest-{run}-{j}") for j in missing]
            kw = {"scheduler": opts["_scheduler"]} if opts["_scheduler"] is not None else {}
            for j, (t_core, u_core) in zip(missing, dask.compute(*tasks, **kw)):
                tmrt_h[tiles[j].window.slices], utci_h[tiles[j].window.slices] = t_core, u_core
        doc = {f.name: f.doc for f in HeatModel.fields}
        layers["tmrt_hottest"] = (tmrt_h, "degC", doc["tmrt_hottest"])
        layers["utci_hottest"] = (utci_h, "degC", doc["utci_hottest"])
        layers["heat_stress_hottest"] = (heat_stress_class(utci_h), "1", doc["heat_stress_hottest"])

    out_of_range = sum(e["out_of_range"] for e in ex)
    for msg in dict.fromkeys(m for e in ex for m in e["warnings"]):
        warnings.warn(msg, stacklevel=3)
    if out_of_range:
        warnings.warn(f"heat: {out_of_range} cell-hour(s) outside the UTCI range (Tmrt - Ta outside -30..70 K) "
                      "left as NaN", stacklevel=3)
    meta = dict(ex[0]["meta"])
    svf_seconds = sum(e["sky_view"].get("seconds", 0.0) for e in ex)
    meta["sky_view"] = {k: v for k, v in ex[0]["sky_view"].items() if k not in ("input_hash", "seconds")}
    meta["sky_view"]["seconds"] = round(svf_seconds, 3)
    meta["hottest_hour"] = str(hottest) if hottest is not None else None
    meta["utci_out_of_range_cell_hours"] = out_of_range
    meta["open_cells"] = n_open
    meta["seconds"] = {"tiles_sum": {k: round(sum(e["meta"]["seconds"][k] for e in ex), 3)
                                     for k in ex[0]["meta"]["seconds"]},
                       "total": round(time.perf_counter() - t_start, 3)}
    meta["tiling"] = {k: v for k, v in opts.items() if not k.startswith("_")} | {
        "hottest_hour_reruns": reruns, "sky_view_from_twin": svf_from_layers,
        "error_bound": bound}
    return HeatResult(layers=layers, hourly=hourly, series=series, hottest=hottest, meta=meta)
