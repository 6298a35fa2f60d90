"""The flood model: local inertial shallow water on the twin grid, with losses and exposure outputs.

Equations (per face, unit discharge q [m2 s-1], flow depth h_f [m], water surface eta [m]):

    q_new = [theta q + (1 - theta)/2 (q_up + q_down) - g h_f dt d(eta)/dx]
            / (1 + g dt n^2 |q| / h_f^(7/3))

with ``h_f = max(eta_a, eta_b) - max(z_a, z_b)`` and no flux when ``h_f <= h_min``
(Bates et al. 2010; q-centred smoothing of de Almeida et al. 2012, plain Bates where the
smoothed update points uphill; |q| the vector norm with the perpendicular discharge
averaged to the face; |q| capped at Froude ``froude_max``). Continuity per cell:
``h += dt/dx (sum in - sum out) + rain dt - losses``, with each cell's outgoing fluxes
scaled by ``min(1, h / outgoing)`` so that depths stay >= 0 without creating water. The
time step is ``alpha dx / sqrt(g h_max)`` (alpha 0.5, capped by ``dt_max``), truncated at every
forcing breakpoint and output time.

Buildings (``building_id > 0``) are walls: no flux crosses their faces. Rain on roofs
goes down the drainpipes to the street cells around each building (``roof_rain =
"street"``) or into the drainage network (``"drain"``); it is booked either way.

State is float32; every volume is booked in float64 (rain, inflow, boundary in/out,
held cells, infiltration, initial loss, drainage, roof drainage) and checked against
the storage change at every output time: the relative error is reported.

Memory: 73 bytes per cell in the kernels (+16 with Green-Ampt; see :mod:`simulation.flood._kernels`), plus
the terrain/landcover/building inputs read once, plus 4 bytes per cell per depth snapshot.

References
----------
- Bates, P. D., Horritt, M. S. & Fewtrell, T. J. (2010). A simple inertial formulation of the
  shallow water equations for efficient two-dimensional flood inundation modelling.
  J. Hydrol. 387, 33-45. https://doi.org/10.1016/j.jhydrol.2010.03.027
- de Almeida, G. A. M., Bates, P., Freer, J. E. & Souvignet, M. (2012). Improving the stability
  of a simple formulation of the shallow water equations for 2-D flood modeling. Water
  Resour. Res. 48, W05528. https://doi.org/10.1029/2011WR011570
- Néelz, S. & Pender, G. (2013). Benchmarking the latest generation of 2D hydraulic modelling
  packages. Environment Agency report SC120002.
"""

from __future__ import annotations

import signal
import threading
import time as _time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
import pandas as pd
import scipy.constants
import xarray as xr

from simulation.flood import _kernels as K
from simulation.flood.forcing import EDGES, MM_PER_H, Forcing, LevelBoundary
from simulation.flood.parameters import (
    DEBRIS_FACTOR,
    DEBRIS_THRESHOLDS,
    GREEN_AMPT_SOIL,
    INFILTRATION,
    INFILTRATION_MODELS,
    SOIL_TEXTURES,
    MANNING_N,
    PAVED,
    merge_table,
)
from simulation.model import Field, Model, require_nonnegative, require_positive, require_range
from twin.core import Twin, layer_dataarray
from twin.errors import TwinRuntimeError, TwinValueError
from twin.grid import Grid
from twin.layers import Landcover
from twin.progress import status

__all__ = ["LEDGER_TERMS", "REFERENCES", "FloodModel", "FloodResult"]

G = scipy.constants.g

REFERENCES = (
    "Bates, Horritt & Fewtrell (2010), J. Hydrol. 387, 33-45, doi:10.1016/j.jhydrol.2010.03.027",
    "de Almeida, Bates, Freer & Souvignet (2012), Water Resour. Res. 48, W05528, doi:10.1029/2011WR011570",
    "Defra/EA (2006) FD2320/TR2 Flood Risks to People; FD2321/IR1 (2008) hazard rating",
)

#: Volume ledger terms [m3]; ``residual = storage - initial_storage - (sources - sinks)``.
LEDGER_TERMS = {
    "rain": +1, "inflow": +1, "boundary_in": +1, "held_cells": +1, "clamp": +1,
    "boundary_out": -1, "infiltration": -1, "initial_loss": -1, "drainage": -1, "roof_drainage": -1,
}

_CONT_TO_LEDGER = {
    K.L_RAIN: "rain", K.L_INFIL: "infiltration", K.L_INITIAL: "initial_loss", K.L_DRAIN: "drainage",
    K.L_BND_IN: "boundary_in", K.L_BND_OUT: "boundary_out", K.L_CLAMP: "clamp",
}

#: How rain falling on roofs is handled; the value says where it goes.
ROOF_RAIN = {
    "street": "down the drainpipes onto the open cells around each building (shared equally)",
    "drain": "into the drainage network (leaves the model, booked as roof_drainage)",
}

_NODATA = {
    "refuse": "refuse terrain with missing values",
    "fill": "fill missing terrain with the nearest valid value",
    "wall": "treat missing terrain as walls",
}


class _Interrupt:
    """Turns SIGINT into a flag checked between time steps (main thread only)."""

    def __init__(self):
        self.flag = False
        self._old = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._old = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame):
        self.flag = True

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        return False


@dataclass
class FloodResult:
    """What a flood run produced.

    Attributes
    ----------
    grid : Grid
    max_depth : ndarray
        Largest depth reached [m] (float32).
    max_speed : ndarray
        Largest depth-averaged speed [m s-1], where depth >= ``speed_depth``.
    hazard : ndarray
        Largest hazard rating ``d (v + 0.5) + DF`` over time [1] (FD2320).
    arrival_time : ndarray
        Time of first wetting above ``arrival_depth`` [s]; NaN where never.
    depth : ndarray
        Depth at the end [m].
    time : float
        Simulated time reached [s] (less than ``duration`` if interrupted).
    duration : float
        Simulated time asked for [s].
    interrupted : bool
    steps : int
    ledger : dict
        Volumes [m3]: ``initial_storage``, ``storage`` and every :data:`LEDGER_TERMS` term.
    volume_error : float
        ``|residual| / (initial storage + all sources)`` at the end [1].
    checks : DataFrame
        The ledger at every output time, with the relative error.
    gauges : DataFrame
        Depth [m] at the gauges (columns) over time (index, [s]).
    snapshots : list of (float, ndarray)
        Depth rasters at the snapshot interval [s, m].
    wall_time : float
        Seconds of computation.
    cell_updates : float
        Cells times steps actually computed (active tiles only).
    meta : dict
        Parameters, defaults applied, forcing summary, references, warnings.
    """

    grid: Grid
    max_depth: np.ndarray
    max_speed: np.ndarray
    hazard: np.ndarray
    arrival_time: np.ndarray
    depth: np.ndarray
    time: float
    duration: float
    interrupted: bool
    steps: int
    ledger: dict
    volume_error: float
    checks: pd.DataFrame
    gauges: pd.DataFrame
    snapshots: list = field(default_factory=list)
    wall_time: float = 0.0
    cell_updates: float = 0.0
    meta: dict = field(default_factory=dict)

    def layers(self) -> dict[str, xr.DataArray]:
        """The output layers with units: max_depth [m], max_speed [m s-1], hazard [1], arrival_time [s]."""
        g = self.grid
        return {
            "max_depth": layer_dataarray(g, "max_depth", self.max_depth, units="m", long_name="maximum flood depth"),
            "max_speed": layer_dataarray(g, "max_speed", self.max_speed, units="m s-1", long_name="maximum flow speed"),
            "hazard": layer_dataarray(g, "hazard", self.hazard, units="1",
                                      long_name="maximum flood hazard rating d(v+0.5)+DF (FD2320)"),
            "arrival_time": layer_dataarray(g, "arrival_time", self.arrival_time, units="s",
                                            long_name="time of first wetting above the arrival depth"),
        }

    def summary(self) -> str:
        done = 100.0 * self.time / self.duration if self.duration else 100.0
        s = (f"{self.steps} steps, {self.time:.0f} of {self.duration:.0f} s ({done:.0f} %), "
             f"max depth {float(np.nanmax(self.max_depth)):.2f} m, volume error {self.volume_error:.2e}, "
             f"{self.wall_time:.1f} s")
        return ("INTERRUPTED: " if self.interrupted else "") + s


def _edge_coords(grid: Grid, edge: str) -> np.ndarray:
    """Coordinates along an edge of its cells: y for west/east, x for north/south."""
    return grid.y if edge in ("west", "east") else grid.x


def _edge_cells(grid: Grid, edge: str) -> tuple[np.ndarray, np.ndarray]:
    ny, nx = grid.shape
    if edge == "west":
        return np.arange(ny), np.zeros(ny, np.int64)
    if edge == "east":
        return np.arange(ny), np.full(ny, nx - 1)
    if edge == "north":
        return np.zeros(nx, np.int64), np.arange(nx)
    return np.full(nx, ny - 1), np.arange(nx)


class FloodModel(Model):
    """Local inertial flood model on a twin (Bates et al. 2010, de Almeida et al. 2012).

    Parameters
    ----------
    twin : Twin
        Needs ``terrain`` [m], ``building_id``, ``landcover``; uses ``water_level`` [m]
        (initial rivers and ponds) and the optional per-cell overrides ``manning_n``
        [s m-1/3], ``infiltration_rate`` [mm h-1], ``initial_loss`` [mm] and
        ``drainage_capacity`` [mm h-1] where they are finite.
    forcing : Forcing
        Duration, rain, inflows, boundary levels, free outflows.
    manning : mapping, optional
        Manning n [s m-1/3] per land-cover class, overriding :data:`~simulation.flood.parameters.MANNING_N`.
    infiltration : mapping, optional
        (rate [mm h-1], initial loss [mm]) per class, overriding
        :data:`~simulation.flood.parameters.INFILTRATION`.
    infiltration_model : str
        ``"constant"`` (default: initial loss then the constant rate of ``infiltration``) or
        ``"green_ampt"`` (initial loss then Green-Ampt with the Rawls, Brakensiek & Miller (1983)
        parameters of the soil under each class, see ``soil``); :data:`~simulation.flood.parameters.INFILTRATION_MODELS`.
    soil : mapping, optional
        Soil texture (a key of :data:`~simulation.flood.parameters.SOIL_TEXTURES`, or None for
        impervious) per land-cover class, overriding :data:`~simulation.flood.parameters.GREEN_AMPT_SOIL`.
    initial_saturation : float
        Green-Ampt: initial effective saturation Se of the soil [1]; the moisture deficit is
        ``(1 - Se) theta_e``. Default 0.3 (recorded when used).
    drainage : float
        Capacity of the urban drainage network [mm h-1] on paved cells (``paved`` classes).
        Default 0 (no drainage), recorded.
    paved : sequence of Landcover
        Classes drained by the network.
    debris : mapping, optional
        Debris factors (mid, high) per class, overriding :data:`~simulation.flood.parameters.DEBRIS_FACTOR`.
    theta : float
        q-centred weighting, 0.7-1 (1 = plain Bates). Default 0.8.
    alpha : float
        CFL coefficient of the time step. Default 0.5: 0.7 is 99 % of the 2-D stability limit
        (1/sqrt(2)) of this forward-backward scheme, and deep ponds on smooth streets fed by
        jets oscillated by metres at 0.7 and 0.65 in our tests, not at 0.6 or 0.5.
    h_min : float
        Flow depth below which a face carries no flux [m]. Default 1e-3.
    froude_max : float
        Cap on the Froude number of face fluxes (steep slopes); 0 disables. Default 1.
    uphill_fallback : bool
        Use the plain Bates update on a face where the q-centred one points up the
        water-surface slope. Default True.
    dt_max : float
        Largest time step [s]. Default 10.
    dt : float, optional
        A fixed time step [s] instead of the adaptive one; refused when it would break the
        CFL condition during the run.
    roof_rain : str
        ``"street"`` or ``"drain"`` (see :data:`ROOF_RAIN`).
    arrival_depth : float
        Depth that counts as "wet" for the arrival time [m]. Default 0.1.
    speed_depth : float
        Depth below which no speed is computed [m] (thin films). Default 0.01.
    nodata : str
        Terrain cells without data: ``"refuse"`` (default), ``"fill"`` or ``"wall"``.
    tile : (int, int)
        Tile size (rows, columns) of the dry-tile skipping. Default (16, 32).
    initial_water : bool
        Start from the ``water_level`` layer when present. Default True.
    threads : int, optional
        Threads of the kernels. Default: numba's thread count when more than
        ``parallel_min_cells`` cells are active, else 1 (waking threads costs more than
        it saves on small areas). Results do not depend on it.
    parallel_min_cells : int
        See ``threads``. Default 16384.
    """

    fields = (
        Field("terrain", "in", "m", "float32", doc="ground altitude"),
        Field("building_id", "in", "1", "int32", doc="buildings, walls to the flow"),
        Field("landcover", "in", "1", "uint8", doc="land cover, for roughness, infiltration and drainage"),
        Field("water_level", "in", "m", "float32", optional=True, doc="permanent water surface, the initial state"),
        Field("manning_n", "in", "s m-1/3", "float32", optional=True, doc="Manning n overriding the land-cover table"),
        Field("infiltration_rate", "in", "mm h-1", "float32", optional=True,
              doc="constant infiltration rate overriding the land-cover table"),
        Field("initial_loss", "in", "mm", "float32", optional=True, doc="initial loss overriding the land-cover table"),
        Field("drainage_capacity", "in", "mm h-1", "float32", optional=True,
              doc="drainage network capacity overriding the paved-cell default"),
        Field("max_depth", "out", "m", doc="maximum flood depth"),
        Field("max_speed", "out", "m s-1", doc="maximum depth-averaged speed"),
        Field("hazard", "out", "1", doc="maximum hazard rating d(v+0.5)+DF (FD2320)"),
        Field("arrival_time", "out", "s", doc="time of first wetting above arrival_depth"),
    )
    references = REFERENCES

    def __init__(self, twin: Twin, *, forcing: Forcing, manning: Mapping | None = None,
                 infiltration: Mapping | None = None, drainage: float = 0.0,
                 paved: tuple = PAVED, debris: Mapping | None = None,
                 theta: float = 0.8, alpha: float = 0.5, h_min: float = 1e-3, froude_max: float = 1.0,
                 uphill_fallback: bool = True,
                 dt_max: float = 10.0, dt: float | None = None, roof_rain: str = "street",
                 arrival_depth: float = 0.1, speed_depth: float = 0.01, nodata: str = "refuse",
                 tile: tuple[int, int] = (16, 32), initial_water: bool = True, threads: int | None = None,
                 parallel_min_cells: int = 16384, infiltration_model: str = "constant",
                 soil: Mapping | None = None, initial_saturation: float | None = None):
        super().__init__(twin)
        if not isinstance(forcing, Forcing):
            raise TwinValueError(f"forcing must be a simulation.flood.Forcing, got {type(forcing).__name__}")
        self.forcing = forcing
        self.theta = require_range(theta, 0.0, 1.0, name="theta")
        self.alpha = require_range(alpha, 1e-3, 1.0, name="alpha")
        self.h_min = require_positive(h_min, name="h_min")
        self.froude_max = require_nonnegative(froude_max, name="froude_max")
        self.uphill_fallback = bool(uphill_fallback)
        self.dt_max = require_positive(dt_max, name="dt_max")
        self.dt_fixed = None if dt is None else require_positive(dt, name="dt")
        self.arrival_depth = require_positive(arrival_depth, name="arrival_depth")
        self.speed_depth = require_positive(speed_depth, name="speed_depth")
        self.drainage_mm_h = require_nonnegative(drainage, name="drainage")
        if roof_rain not in ROOF_RAIN:
            raise TwinValueError(f"invalid roof_rain {roof_rain!r} (use one of: {', '.join(ROOF_RAIN)})")
        self.roof_rain = roof_rain
        if nodata not in _NODATA:
            raise TwinValueError(f"invalid nodata {nodata!r} (use one of: {', '.join(_NODATA)})")
        tr, tc = (int(v) for v in tile)
        if tr < 1 or tc < 1:
            raise TwinValueError(f"invalid tile {tile!r} (rows and columns >= 1)")
        self.tr, self.tc = tr, tc
        if threads is not None and (int(threads) != threads or not 1 <= threads <= numba.config.NUMBA_NUM_THREADS):
            raise TwinValueError(f"invalid threads {threads!r} (1..{numba.config.NUMBA_NUM_THREADS})")
        self.threads = None if threads is None else int(threads)
        self.parallel_min_cells = int(parallel_min_cells)
        if infiltration_model not in INFILTRATION_MODELS:
            raise TwinValueError(f"invalid infiltration_model {infiltration_model!r} "
                                 f"(use one of: {', '.join(INFILTRATION_MODELS)})")
        self.infiltration_model = infiltration_model
        self.green_ampt = infiltration_model == "green_ampt"
        self.soil_table = dict(GREEN_AMPT_SOIL)
        for key, texture in (soil or {}).items():
            try:
                cls = Landcover[key.upper()] if isinstance(key, str) else Landcover(int(key))
            except (KeyError, ValueError):
                raise TwinValueError(f"invalid soil table key {key!r} (use a twin.layers.Landcover name or code)") from None
            if texture is not None and texture not in SOIL_TEXTURES:
                raise TwinValueError(f"invalid soil[{cls.name}]: {texture!r} (use one of: {', '.join(SOIL_TEXTURES)}, "
                                     f"or None for impervious)")
            self.soil_table[cls] = texture
        if initial_saturation is None:
            self.initial_saturation = 0.3
        else:
            self.initial_saturation = require_range(initial_saturation, 0.0, 1.0, name="initial_saturation")
        self.manning_table = merge_table(MANNING_N, manning, name="manning")
        self.infiltration_table = merge_table(INFILTRATION, infiltration, name="infiltration", arity=2)
        self.debris_table = merge_table(DEBRIS_FACTOR, debris, name="debris", arity=2)
        self.paved = tuple(Landcover(int(c)) for c in paved)
        self.warnings: list[str] = []
        self.defaults: dict[str, Any] = {}

        grid = self.grid
        self.dx = float(grid.cell_size)
        self.area = self.dx * self.dx
        ny, nx = grid.shape
        self.shape = (ny, nx)

        # -- terrain, walls, land cover -----------------------------------------------
        z = self.read("terrain").astype(np.float32, copy=True)
        bid = self.read("building_id")
        wall = bid > 0
        bad = ~np.isfinite(z)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            x, y = grid.xy(r, c)
            where = f"{int(bad.sum())} terrain cell(s) without data (first at row {r}, col {c}, x {float(x):.1f}, y {float(y):.1f})"
            if nodata == "refuse":
                raise TwinValueError(f"{where}; fill the terrain, or pass nodata='fill' or nodata='wall'")
            if nodata == "fill":
                from scipy import ndimage

                if bad.all():
                    raise TwinValueError("terrain has no valid cell")
                idx = ndimage.distance_transform_edt(bad, return_distances=False, return_indices=True)
                z = z[tuple(idx)]
            else:
                wall = wall | bad
                z = np.where(bad, np.float32(0.0), z)
            self.warnings.append(f"{where}: {_NODATA[nodata]}")
            warnings.warn(f"flood model: {where}: {_NODATA[nodata]}", stacklevel=2)
        self.z = np.ascontiguousarray(z, dtype=np.float32)
        self.wall = wall
        self.building_id = bid
        lc = self.read("landcover")
        known = np.isin(lc, [int(c) for c in Landcover])
        if not known.all():
            bad_code = int(lc[~known][0])
            raise TwinValueError(f"landcover layer has code {bad_code}, which is not a twin.layers.Landcover class")
        self.landcover = lc
        if (lc == Landcover.UNKNOWN).any():
            n_unk = int((lc == Landcover.UNKNOWN).sum())
            self.defaults["unknown_landcover_cells"] = n_unk

        # -- per-cell parameters ------------------------------------------------------------
        self._build_parameters()

        # -- state -------------------------------------------------------------------------
        self.h = np.zeros((ny, nx), np.float32)
        if initial_water and "water_level" in twin:
            wl = self.read("water_level")
            ok = np.isfinite(wl) & ~self.wall
            self.h[ok] = np.maximum(wl[ok] - self.z[ok], 0.0).astype(np.float32)
            # the ground under standing water has no initial loss left
            self.initial_loss[self.h > 0] = 0.0
        self.hlo = np.zeros((ny, nx), np.float32)  # float32 rounding remainder of the depth (compensated sum)
        self.qx = np.zeros((ny, nx + 1), np.float32)
        self.qy = np.zeros((ny + 1, nx), np.float32)
        self.qxn = np.zeros_like(self.qx)
        self.qyn = np.zeros_like(self.qy)
        self.fac = np.ones((ny + 2, nx + 2), np.float32)  # padded: a frame of ghost cells at 1
        self.max_depth = self.h.copy()
        self.max_speed = np.zeros((ny, nx), np.float32)
        self.max_hazard = np.zeros((ny, nx), np.float32)
        self.arrival = np.full((ny, nx), np.nan, np.float32)
        self.arrival[self.h > self.arrival_depth] = 0.0
        self.t = 0.0
        self.steps = 0
        self.cell_updates = 0.0

        # -- tiles ---------------------------------------------------------------------------
        self.nb = -(-nx // tc)
        self.nty = -(-ny // tr)
        self.ledger_rows = np.zeros((ny, self.nb, K.L_NCOLS), np.float64)
        self.rowmax = np.zeros((ny, self.nb), np.float64)
        _block_max(self.h, tc, self.rowmax)
        self.act = np.zeros((self.nty, self.nb), np.uint8)
        self.act_prev = np.zeros_like(self.act)
        self.base_always = np.zeros_like(self.act)

        # -- forcing ---------------------------------------------------------------------
        self._bind_forcing()

        # -- ledger ----------------------------------------------------------------------
        self.ledger_acc = np.zeros(K.T_NTERMS, np.float64)
        self._st = None
        self._stop = None
        self.initial_storage = self._storage()
        self.hmax = float(self.rowmax.max()) if self.rowmax.size else 0.0

    # ------------------------------------------------------------------------------------------
    def _build_parameters(self) -> None:
        """Per-cell parameters from the land-cover tables and the override layers."""
        lc = self.landcover
        tab_n = np.zeros(256)
        tab_inf = np.zeros(256)
        tab_ini = np.zeros(256)
        tab_drn = np.zeros(256)
        tab_dfm = np.zeros(256)
        tab_dfh = np.zeros(256)
        for cls in Landcover:
            tab_n[cls] = self.manning_table[cls]
            r, il = self.infiltration_table[cls]
            tab_inf[cls] = r * MM_PER_H
            tab_ini[cls] = il * 1e-3
            tab_dfm[cls], tab_dfh[cls] = self.debris_table[cls]
            if cls in self.paved:
                tab_drn[cls] = self.drainage_mm_h * MM_PER_H
        n = tab_n[lc]
        inf = tab_inf[lc]
        ini = tab_ini[lc]
        drn = tab_drn[lc]
        overrides = {}
        for name, arr, factor in (("manning_n", n, 1.0), ("infiltration_rate", inf, MM_PER_H),
                                  ("initial_loss", ini, 1e-3), ("drainage_capacity", drn, MM_PER_H)):
            if name in self.twin:
                v = self.read(name).astype(np.float64)
                ok = np.isfinite(v)
                if np.any(v[ok] < 0):
                    raise TwinValueError(f"layer {name!r} has negative values (min {float(v[ok].min()):g})")
                if name == "manning_n" and np.any(v[ok] == 0):
                    raise TwinValueError("layer 'manning_n' has zero values (Manning n must be > 0)")
                arr[ok] = v[ok] * factor
                overrides[name] = int(ok.sum())
        self.defaults["override_layers"] = overrides
        # walls: no infiltration, no drainage, no initial loss
        inf[self.wall] = 0.0
        ini[self.wall] = 0.0
        drn[self.wall] = 0.0
        self.flags = (self.wall.astype(np.uint8) | (self._held_mask().astype(np.uint8) << 1))
        self.inf_rate = inf.astype(np.float32)
        self._build_green_ampt(lc, overrides)
        self.drn_rate = drn.astype(np.float32)
        self.dfmid = np.ascontiguousarray(tab_dfm[lc], dtype=np.float32)  # debris factors per cell (mid, high)
        self.dfhigh = np.ascontiguousarray(tab_dfh[lc], dtype=np.float32)
        self.initial_loss = ini.astype(np.float32)
        self.nman = np.where(self.wall, -1.0, n).astype(np.float32)  # Manning n per cell, negative = wall

    def _build_green_ampt(self, lc: np.ndarray, overrides: dict) -> None:
        """Per-cell Green-Ampt conductivity K [m s-1], S = psi (1 - Se) theta_e [m] and cumulative
        infiltration F [m] (float64); 1 x 1 placeholders with the constant-rate model.

        Cells with an ``infiltration_rate`` override layer keep that constant rate (K = rate, S = 0).
        """
        if not self.green_ampt:
            self.ga_k = np.zeros((1, 1), np.float32)
            self.ga_s = np.zeros((1, 1), np.float32)
            self.ga_f = np.zeros((1, 1), np.float64)
            return
        se = self.initial_saturation
        tab_k = np.zeros(256)
        tab_s = np.zeros(256)
        for cls in Landcover:
            texture = self.soil_table.get(cls)
            if texture is not None:
                _phi, theta_e, psi_cm, k_cm_h = SOIL_TEXTURES[texture]
                tab_k[cls] = k_cm_h / 100.0 / 3600.0
                tab_s[cls] = psi_cm / 100.0 * (1.0 - se) * theta_e
        k = tab_k[lc]
        s_ = tab_s[lc]
        if "infiltration_rate" in overrides:
            v = self.read("infiltration_rate").astype(np.float64)
            ok = np.isfinite(v)
            k[ok] = v[ok] * MM_PER_H
            s_[ok] = 0.0
        k[self.wall] = 0.0
        s_[self.wall] = 0.0
        self.ga_k = k.astype(np.float32)
        self.ga_s = s_.astype(np.float32)
        self.ga_f = np.zeros(lc.shape, np.float64)
        self.inf_rate[...] = 0.0
        self.defaults["green_ampt_initial_saturation"] = se

    def _held_mask(self) -> np.ndarray:
        """Cells held by level boundaries given as cell masks (before the forcing is bound)."""
        m = np.zeros(self.shape, bool)
        for lv in self.forcing.levels:
            if lv.cells is not None:
                c = np.asarray(lv.cells, bool)
                if c.shape == self.shape:
                    m |= c
        return m & ~self.wall

    # ------------------------------------------------------------------------------------------
    def _bind_forcing(self) -> None:
        grid = self.grid
        ny, nx = self.shape
        f = self.forcing
        wall = self.wall
        # rain
        self.rain = f.rain
        self.rain_field = np.zeros((1, 1), np.float32)
        self.use_rain_field = False
        self._frame = -1
        self._build_roof_routing()
        if f.rain is not None and f.rain.frames is not None:
            if f.rain.frames.shape[1:] != self.shape:
                raise TwinValueError(f"rain frames have shape {f.rain.frames.shape[1:]}, the grid is {self.shape}")
            self.use_rain_field = True
            self.rain_field = np.zeros(self.shape, np.float32)
        # inflows
        self.inflow_cells = []
        for q in f.inflows:
            self.inflow_cells.append(q.cells(grid, wall, self.building_id))
        # boundaries: per edge face mode, base level (for relative levels), series index
        self.bc_mode = {e: np.zeros(ny if e in ("west", "east") else nx, np.int8) for e in EDGES}
        self.bc_val = {e: np.zeros(ny if e in ("west", "east") else nx, np.float32) for e in EDGES}
        self.bc_owner = {e: np.full(ny if e in ("west", "east") else nx, -1, np.int64) for e in EDGES}
        self.edge_levels: list[tuple[str, np.ndarray, np.ndarray, LevelBoundary]] = []
        self.held: list[tuple[np.ndarray, np.ndarray, LevelBoundary, np.ndarray]] = []
        wl = self.read("water_level") if "water_level" in self.twin else None
        for k, lv in enumerate(f.levels):
            if lv.relative and wl is None:
                raise TwinValueError(f"level boundary {lv.name!r} is relative to the water_level layer, which the twin lacks")
            if lv.edge is not None:
                rows, cols = _edge_cells(grid, lv.edge)
                sel = np.ones(rows.size, bool)
                if lv.span is not None:
                    coord = _edge_coords(grid, lv.edge)
                    sel &= (coord >= lv.span[0]) & (coord <= lv.span[1])
                base = np.zeros(rows.size)
                if lv.relative:
                    w = wl[rows, cols].astype(np.float64)
                    sel &= np.isfinite(w)
                    base = np.where(np.isfinite(w), w, 0.0)
                sel &= ~wall[rows, cols]
                if not sel.any():
                    raise TwinValueError(f"level boundary {lv.name!r}: no open cell on the {lv.edge} edge"
                                         + (" within the span" if lv.span else "")
                                         + (" has a water_level" if lv.relative else ""))
                idx = np.flatnonzero(sel)
                taken = self.bc_owner[lv.edge][idx] >= 0
                if taken.any():
                    raise TwinValueError(f"level boundary {lv.name!r} overlaps another boundary on the {lv.edge} edge")
                self.bc_owner[lv.edge][idx] = k
                self.bc_mode[lv.edge][idx] = K.BC_LEVEL
                self.edge_levels.append((lv.edge, idx, base[idx], lv))
                self._mark_always(rows[idx], cols[idx])
            else:
                cells = np.asarray(lv.cells, bool)
                if cells.shape != self.shape:
                    raise TwinValueError(f"level boundary {lv.name!r}: cells mask of shape {cells.shape}, grid {self.shape}")
                cells = cells & ~wall
                base = np.zeros(self.shape)
                if lv.relative:
                    cells &= np.isfinite(wl)
                    base = np.where(np.isfinite(wl), wl, 0.0)
                if not cells.any():
                    raise TwinValueError(f"level boundary {lv.name!r}: no open cell in the mask")
                r, c = np.nonzero(cells)
                self.held.append(((r * nx + c).astype(np.int64), base[r, c].astype(np.float64), lv,
                                  self._open_ground_around(cells, r, c)))
                self._mark_always(r, c)
        for o in f.outflows:
            rows, cols = _edge_cells(grid, o.edge)
            sel = ~wall[rows, cols]
            if o.span is not None:
                coord = _edge_coords(grid, o.edge)
                sel &= (coord >= o.span[0]) & (coord <= o.span[1])
            idx = np.flatnonzero(sel)
            if (self.bc_owner[o.edge][idx] >= 0).any():
                raise TwinValueError(f"free outflow {o.name!r} overlaps a level boundary on the {o.edge} edge")
            self.bc_owner[o.edge][idx] = 10_000
            self.bc_mode[o.edge][idx] = K.BC_FREE
            self.bc_val[o.edge][idx] = o.slope
        for idx in self.inflow_cells:
            self._mark_always(idx // nx, idx % nx)
        self.breakpoints = f.breakpoints()

    def _open_ground_around(self, cells, r, c) -> np.ndarray:
        """Per held cell, the lowest ground of its open, non-held 4-neighbours (+inf if none): the depth
        of the CFL condition at a held cell is its level above that ground."""
        z = self.z.astype(np.float64)
        ny, nx = self.shape
        zb = np.full(r.size, np.inf)
        for di, dj in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            rr, cc = r + di, c + dj
            ok = (rr >= 0) & (rr < ny) & (cc >= 0) & (cc < nx)
            ok[ok] &= ~cells[rr[ok], cc[ok]] & ~self.wall[rr[ok], cc[ok]]
            zb[ok] = np.minimum(zb[ok], z[rr[ok], cc[ok]])
        return zb

    def _mark_always(self, rows, cols) -> None:
        self.base_always[np.asarray(rows) // self.tr, np.asarray(cols) // self.tc] = 1

    def _build_roof_routing(self) -> None:
        """Ring cells of every building (open 4-neighbours of its cells), for roof rain.

        With ``roof_rain="street"`` the rain on a building's roof is shared equally by
        its ring cells; a building with no open neighbour (or every roof with
        ``"drain"``) sends its rain to the drainage network, booked as roof drainage.
        """
        ny, nx = self.shape
        wall = self.wall
        bid = np.where(wall, self.building_id, 0).astype(np.int64)
        bid[wall & (bid == 0)] = -1  # walls without a building id (terrain without data)
        pb, pc = [], []
        if self.roof_rain == "street":
            for di, dj in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                nb_id = np.zeros_like(bid)  # building id of the neighbour at (i+di, j+dj)
                nb_id[max(0, -di):ny - max(0, di), max(0, -dj):nx - max(0, dj)] = \
                    bid[max(0, di):ny - max(0, -di), max(0, dj):nx - max(0, -dj)]
                r, c = np.nonzero(~wall & (nb_id != 0))
                pb.append(nb_id[r, c])
                pc.append(r * nx + c)
        pb = np.concatenate(pb) if pb else np.zeros(0, np.int64)
        pc = np.concatenate(pc) if pc else np.zeros(0, np.int64)
        pairs = np.unique(np.stack([pb, pc], axis=1), axis=0) if pb.size else np.zeros((0, 2), np.int64)
        ring_ids, pair_group, nring = np.unique(pairs[:, 0], return_inverse=True, return_counts=True)
        roof_cells = np.flatnonzero(wall.ravel())
        roof_bid = bid.ravel()[roof_cells]
        pos = np.searchsorted(ring_ids, roof_bid)
        pos = np.clip(pos, 0, max(ring_ids.size - 1, 0))
        routed = (ring_ids.size > 0) & (ring_ids[pos] == roof_bid) if ring_ids.size else np.zeros(roof_bid.size, bool)
        self._roof_cells = roof_cells
        self._roof_group = np.where(routed, pos, -1)
        self._pair_group = pair_group.reshape(-1)
        self._nring = nring
        self.ring_cells, self._pair_cell = np.unique(pairs[:, 1], return_inverse=True)
        self.ring_cells = self.ring_cells.astype(np.int64)
        self._pair_cell = self._pair_cell.reshape(-1)
        self.roof_cells = int(roof_cells.size)
        self.roof_unrouted_cells = int((~routed).sum())
        self.ring_weight, self.roof_unrouted = self._roof_weights(None)
        if self.roof_rain == "street" and self.roof_unrouted_cells:
            self.warnings.append(f"{self.roof_unrouted_cells} roof cells have no open cell around their building: "
                                 f"their rain goes to the drainage network (booked as roof_drainage)")

    def _roof_weights(self, frame: np.ndarray | None) -> tuple[np.ndarray, float]:
        """Per ring cell, the roof rain it receives per unit rain rate; and the unrouted roof total.

        ``frame`` is a rain raster (any units; None = 1 everywhere): ring weights are in
        frame units x roof cells / ring cells.
        """
        fr = np.ones(self._roof_cells.size) if frame is None else frame.reshape(-1)[self._roof_cells]
        g = self._roof_group
        ok = g >= 0
        unrouted = float(fr[~ok].sum())
        if self.ring_cells.size == 0:
            return np.zeros(0, np.float64), unrouted
        roof_sum = np.bincount(g[ok], weights=fr[ok], minlength=self._nring.size)
        per_pair = roof_sum[self._pair_group] / self._nring[self._pair_group]
        w = np.bincount(self._pair_cell, weights=per_pair, minlength=self.ring_cells.size)
        return w.astype(np.float64), unrouted

    # ------------------------------------------------------------------------------------------
    def _storage(self) -> float:
        return float(np.sum(K.storage(self.h, self.hlo))) * self.area

    def _update_rain_frame(self, t0: float) -> None:
        """Load the rain raster of the frame covering t0 (and its roof routing) into the packed arrays."""
        r = self.rain
        k = int(np.searchsorted(r.frame_times, t0, side="right")) - 1
        if k == self._frame:
            return
        self._frame = k
        frame = np.zeros(self.shape) if k < 0 else r.frames[k].astype(np.float64) * MM_PER_H
        self.rain_field[...] = np.where(self.wall, 0.0, frame).astype(np.float32)
        w, unrouted = self._roof_weights(frame)
        self.ring_weight[...] = w
        self._roof_unrouted[0] = unrouted
        tiles = self._rain_tiles
        tiles[...] = 0
        r_, c_ = np.nonzero((frame > 0) & ~self.wall)
        tiles[r_ // self.tr, c_ // self.tc] = 1
        r_, c_ = np.divmod(self.ring_cells[self.ring_weight > 0], self.shape[1])
        tiles[r_ // self.tr, c_ // self.tc] = 1

    def _pack(self) -> None:
        """Arrays the compiled time loop (:func:`simulation.flood._kernels.advance`) works on."""
        ny, nx = self.shape
        rows = np.minimum(np.arange(1, self.nty + 1) * self.tr, ny) - np.arange(self.nty) * self.tr
        cols = np.minimum(np.arange(1, self.nb + 1) * self.tc, nx) - np.arange(self.nb) * self.tc
        self._tile_cells = np.outer(rows, cols).astype(np.float64)
        self._rain_tiles = np.ones_like(self.act)
        self._roof_unrouted = np.array([self.roof_unrouted], np.float64)
        if self.rain is None:
            rain_t = np.zeros(0)
            rain_v = np.zeros(0)
        else:
            rain_t = self.rain.intensity.times.copy()
            rain_v = self.rain.intensity.values * (MM_PER_H if self.rain.frames is None else 1.0)
            if self.rain.frames is not None:
                self._rain_tiles[...] = 0
        cat = _concat
        off = _offsets
        inf_cells = self.inflow_cells
        inf_ser = [q.discharge for q in self.forcing.inflows]
        held_cells = [c for c, _b, _lv, _zb in self.held]
        held_base = [b for _c, b, _lv, _zb in self.held]
        held_zb = [zb for _c, _b, _lv, zb in self.held]
        held_ser = [lv.level for _c, _b, lv, _zb in self.held]
        el_edge = np.array([EDGES.index(e) for e, _i, _b, _lv in self.edge_levels], np.int8)
        el_face = [i for _e, i, _b, _lv in self.edge_levels]
        el_base = [b for _e, _i, b, _lv in self.edge_levels]
        el_ser = [lv.level for _e, _i, _b, lv in self.edge_levels]
        self._fo = (
            np.asarray(self.breakpoints, np.float64), rain_t, rain_v, bool(self.use_rain_field),
            self.ring_cells, self.ring_weight, self._roof_unrouted[0:1],
            cat(inf_cells, np.int64), off(inf_cells), cat([s_.times for s_ in inf_ser], np.float64),
            cat([s_.values for s_ in inf_ser], np.float64), off([s_.times for s_ in inf_ser]),
            cat(held_cells, np.int64), cat(held_base, np.float64), cat(held_zb, np.float64), off(held_cells),
            cat([s_.times for s_ in held_ser], np.float64), cat([s_.values for s_ in held_ser], np.float64),
            off([s_.times for s_ in held_ser]),
            el_edge, cat(el_face, np.int64), cat(el_base, np.float64), off(el_face),
            cat([s_.times for s_ in el_ser], np.float64), cat([s_.values for s_ in el_ser], np.float64),
            off([s_.times for s_ in el_ser]),
        )
        self._st = (self.h, self.hlo, self.z, self.nman, self.flags, self.inf_rate, self.drn_rate, self.dfmid, self.dfhigh, self.qx, self.qy, self.qxn, self.qyn, self.fac,
                    self.initial_loss, self.rain_field, self.max_depth, self.max_speed, self.max_hazard,
                    self.arrival, self.ledger_rows, self.rowmax, self.act, self.act_prev, self.base_always,
                    self._rain_tiles, self._tile_cells, self.ga_k, self.ga_s, self.ga_f)
        bc, bv = self.bc_mode, self.bc_val
        self._bc = (bc["west"], bv["west"], bc["east"], bv["east"], bc["north"], bv["north"], bc["south"], bv["south"])
        self._max_steps = max(1, int(2e7 // max(1, ny * nx)))

    def _advance(self, t_stop: float) -> bool:
        """Step until ``t_stop`` [s] (in chunks, so that Ctrl-C is seen); return False if interrupted."""
        if self._st is None:
            self._pack()
            self._max_threads = numba.get_num_threads()
        while self.t < t_stop - 1e-9:
            if self._stop is not None and self._stop.flag:
                return False
            if self.use_rain_field:
                self._update_rain_frame(self.t)
                # stop at the next frame change so that the raster is refreshed in time
                ft = self.rain.frame_times
                k = int(np.searchsorted(ft, self.t, side="right"))
                stop = min(t_stop, ft[k]) if k < ft.size else t_stop
            else:
                stop = t_stop
            # threads for this chunk: all of them on large wet areas, one on small ones
            n_active = float(np.sum(self.act * self._tile_cells)) if self.steps else float(self.h.size)
            want = self.threads or (self._max_threads if n_active >= self.parallel_min_cells else 1)
            numba.set_num_threads(want)
            try:
                t, steps, hmax, cu, code, info = K.advance(
                self._st, self._bc, self._fo, self.ledger_acc, self.t, stop, self._max_steps, self.hmax,
                dt_max=self.dt_max, dt_fixed=self.dt_fixed or 0.0, alpha=self.alpha, dx=self.dx, g=G,
                theta=self.theta, h_min=self.h_min, froude_max=self.froude_max, fallback=self.uphill_fallback,
                arrival_depth=self.arrival_depth,
                speed_depth=self.speed_depth, d_mid=DEBRIS_THRESHOLDS["d_mid"], d_high=DEBRIS_THRESHOLDS["d_high"],
                v_high=DEBRIS_THRESHOLDS["v_high"], tr=self.tr, tc=self.tc, green_ampt=self.green_ampt)
            finally:
                numba.set_num_threads(self._max_threads)
            self.t, self.hmax = float(t), float(hmax)
            self.steps += int(steps)
            self.cell_updates += float(cu)
            if code == 1:
                raise TwinRuntimeError(
                    f"flood model became unstable at t = {self.t:.1f} s (depth {info:g} m); "
                    f"lower alpha (now {self.alpha:g}) or dt_max (now {self.dt_max:g} s)")
            if code == 2:
                raise TwinValueError(
                    f"dt = {self.dt_fixed:g} s is unstable: the CFL limit alpha*dx/sqrt(g*h) is {info:.3g} s at "
                    f"t = {self.t:.0f} s (depth {self.hmax:.2f} m); use a smaller dt or leave dt unset")
            if self._stop is not None and self._stop.flag:
                return False
        return True

    # ------------------------------------------------------------------------------------------
    def ledger_check(self) -> dict:
        """The volume ledger now [m3] with the residual and the relative error."""
        storage = self._storage()
        led = {k: float(v) for k, v in zip(LEDGER_TERMS, self.ledger_acc)}
        net = sum(sign * led[k] for k, sign in LEDGER_TERMS.items())
        residual = storage - self.initial_storage - net
        scale = self.initial_storage + sum(led[k] for k, s in LEDGER_TERMS.items() if s > 0)
        rel = abs(residual) / scale if scale > 0 else 0.0
        out = {"time": self.t, "initial_storage": self.initial_storage, "storage": storage}
        out.update(led)
        out["residual"] = residual
        out["relative_error"] = rel
        return out

    def run_one_step(self, dt: float) -> float:
        """Advance by ``dt`` [s] with adaptive sub-steps; return the time advanced [s]."""
        dt = require_positive(dt, name="dt")
        t0 = self.t
        self._advance(self.t + dt)
        return self.t - t0

    def run(self, *, output_interval: float | None = None, snapshot_interval: float | None = None,
            gauges: Mapping[str, tuple[float, float]] | None = None, gauge_interval: float | None = None,
            on_output: Callable[[FloodModel], None] | None = None, quiet: bool = False) -> FloodResult:
        """Run to the end of the forcing; return a :class:`FloodResult`.

        Parameters
        ----------
        output_interval : float, optional
            Interval of the ledger checks [s] (default: duration / 50).
        snapshot_interval : float, optional
            Interval of the depth snapshots [s] (none by default).
        gauges : mapping of name to (x, y), optional
            Points where the depth is recorded [m, twin CRS].
        gauge_interval : float, optional
            Interval of the gauge records [s] (default: min(60 s, output_interval)).
        on_output : callable, optional
            Called with the model at every output time.

        Ctrl-C stops the run between two time steps: the result then holds the outputs
        of the steps completed (``interrupted=True``, ``time`` says how far it got).
        """
        duration = self.forcing.duration
        out_dt = require_positive(output_interval, name="output_interval") if output_interval else duration / 50.0
        snap_dt = require_positive(snapshot_interval, name="snapshot_interval") if snapshot_interval else None
        g_dt = require_positive(gauge_interval, name="gauge_interval") if gauge_interval else min(60.0, out_dt)
        gauge_names, gauge_idx = self._gauge_cells(gauges or {})
        checks = [self.ledger_check()]
        snaps = [(0.0, self.h.copy())] if snap_dt else []
        g_times = [0.0]
        g_vals = [self.h.reshape(-1)[gauge_idx].astype(np.float64)]
        events = [np.arange(out_dt, duration + 0.5 * out_dt, out_dt), np.arange(g_dt, duration + 0.5 * g_dt, g_dt)]
        if snap_dt:
            events.append(np.arange(snap_dt, duration + 0.5 * snap_dt, snap_dt))
        events = np.unique(np.minimum(np.concatenate(events + [[duration]]), duration))
        t_wall = _time.perf_counter()
        interrupted = False
        next_status = t_wall + 10.0
        with _Interrupt() as stop:
            self._stop = stop
            for te in events:
                if not self._advance(te):
                    interrupted = True
                    break
                if _is_multiple(te, g_dt, duration):
                    g_times.append(self.t)
                    g_vals.append(self.h.reshape(-1)[gauge_idx].astype(np.float64))
                if snap_dt and _is_multiple(te, snap_dt, duration):
                    snaps.append((self.t, self.h.copy()))
                if _is_multiple(te, out_dt, duration):
                    checks.append(self.ledger_check())
                    if on_output is not None:
                        on_output(self)
                    now = _time.perf_counter()
                    if not quiet and now > next_status:
                        status(f"flood: t = {self.t:.0f} / {duration:.0f} s, {self.steps} steps, "
                               f"max depth {float(self.max_depth.max()):.2f} m")
                        next_status = now + 10.0
        self._stop = None
        wall_time = _time.perf_counter() - t_wall
        final = self.ledger_check()
        if checks[-1]["time"] != final["time"]:
            checks.append(final)
        if interrupted:
            g_times.append(self.t)
            g_vals.append(self.h.reshape(-1)[gauge_idx].astype(np.float64))
            msg = (f"flood run interrupted at t = {self.t:.0f} s of {duration:.0f} s "
                   f"({100 * self.t / duration:.0f} %, {self.steps} steps): outputs cover the steps completed")
            self.warnings.append(msg)
            warnings.warn(msg, stacklevel=2)
            if not quiet:
                status(msg)
        gdf = pd.DataFrame(np.array(g_vals).reshape(len(g_times), len(gauge_names)),
                           index=pd.Index(g_times, name="time_s"), columns=gauge_names)
        if final["relative_error"] > 1e-4:
            msg = f"flood model: relative volume error {final['relative_error']:.2e} exceeds 1e-4"
            self.warnings.append(msg)
            warnings.warn(msg, stacklevel=2)
        return FloodResult(
            grid=self.grid, max_depth=self.max_depth.copy(), max_speed=self.max_speed.copy(),
            hazard=self.max_hazard.copy(), arrival_time=self.arrival.copy(), depth=self.h.copy(),
            time=self.t, duration=duration, interrupted=interrupted, steps=self.steps,
            ledger={k: final[k] for k in ["initial_storage", "storage", *LEDGER_TERMS, "residual"]},
            volume_error=final["relative_error"], checks=pd.DataFrame(checks), gauges=gdf, snapshots=snaps,
            wall_time=wall_time, cell_updates=self.cell_updates, meta=self.describe(),
        )

    def _gauge_cells(self, gauges: Mapping[str, tuple[float, float]]) -> tuple[list[str], np.ndarray]:
        names = []
        idx = []
        for name, xy in gauges.items():
            try:
                x, y = (float(v) for v in xy)
            except (TypeError, ValueError):
                raise TwinValueError(f"gauge {name!r}: expected (x, y), got {xy!r}") from None
            if not self.grid.contains(x, y):
                raise TwinValueError(f"gauge {name!r}: point ({x:.1f}, {y:.1f}) is outside the grid")
            r, c = self.grid.rowcol(x, y)
            if self.wall[r, c]:
                raise TwinValueError(f"gauge {name!r}: point ({x:.1f}, {y:.1f}) is inside a building")
            names.append(str(name))
            idx.append(int(r) * self.shape[1] + int(c))
        return names, np.asarray(idx, dtype=np.int64)

    def describe(self) -> dict:
        """Parameters, defaults and references of this run (JSON-ready)."""
        return {
            "model": "local inertial shallow water (Bates 2010, de Almeida 2012)",
            "references": list(self.references),
            "parameters": {
                "theta": self.theta, "uphill_fallback": self.uphill_fallback, "alpha": self.alpha, "h_min_m": self.h_min, "froude_max": self.froude_max,
                "dt_max_s": self.dt_max, "dt_fixed_s": self.dt_fixed, "roof_rain": self.roof_rain,
                "roof_rain_means": ROOF_RAIN[self.roof_rain], "arrival_depth_m": self.arrival_depth,
                "speed_depth_m": self.speed_depth, "drainage_mm_h": self.drainage_mm_h,
                "paved": [c.name.lower() for c in self.paved], "tile": [self.tr, self.tc],
                "cell_size_m": self.dx,
            },
            "infiltration_model": self.infiltration_model,
            "infiltration_model_means": INFILTRATION_MODELS[self.infiltration_model],
            "tables": {
                "manning_n": {c.name.lower(): v for c, v in self.manning_table.items()},
                "infiltration_mm_h_and_initial_loss_mm": {c.name.lower(): list(v) for c, v in self.infiltration_table.items()},
                "debris_factor": {c.name.lower(): list(v) for c, v in self.debris_table.items()},
                "debris_thresholds": dict(DEBRIS_THRESHOLDS),
                **({"green_ampt_soil": {c.name.lower(): v for c, v in self.soil_table.items()},
                    "soil_textures_porosity_effective_porosity_suction_cm_conductivity_cm_h":
                        {k: list(v) for k, v in SOIL_TEXTURES.items()},
                    "initial_saturation": self.initial_saturation} if self.green_ampt else {}),
            },
            "defaults": dict(self.defaults),
            "forcing": self.forcing.describe(),
            "warnings": list(self.warnings),
            "bytes_per_cell": 73 + (4 if self.use_rain_field else 0) + (16 if self.green_ampt else 0),
        }

    def write(self, result: FloodResult, twin: Twin | None = None) -> Twin:
        """Set the output layers (max_depth, max_speed, hazard, arrival_time) on ``twin`` (default: the model's)."""
        twin = twin or self.twin
        for name, da in result.layers().items():
            twin.set_layer(name, da.values, units=da.attrs["units"], long_name=da.attrs.get("long_name"))
        return twin


def _is_multiple(t: float, step: float, end: float) -> bool:
    """Whether output time ``t`` is a multiple of ``step`` (or the end of the run)."""
    return abs(t / step - round(t / step)) < 1e-9 or t >= end


def _concat(arrs, dtype) -> np.ndarray:
    return np.concatenate(arrs).astype(dtype) if arrs else np.zeros(0, dtype)


def _offsets(arrs) -> np.ndarray:
    return np.concatenate([[0], np.cumsum([len(a) for a in arrs])]).astype(np.int64)


def _block_max(h: np.ndarray, tc: int, out: np.ndarray) -> None:
    nx = h.shape[1]
    for b in range(out.shape[1]):
        blk = h[:, b * tc:min((b + 1) * tc, nx)]
        out[:, b] = blk.max(axis=1) if blk.size else 0.0
