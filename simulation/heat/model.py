"""The heat model: sky views, hourly radiation budget, Tmrt and UTCI on the twin.

``HeatModel(twin, parameters=...)`` declares what it reads and writes; ``.sky_view()``
computes the sky-view factors once per model (reused from the twin when it holds them with a
matching hash of the inputs; ``.sky_view(store=True)`` writes them there, the one call that
changes the twin); ``.run(weather)`` steps hour by hour and returns a :class:`HeatResult`.

The chain (SOLWEIG-like, Lindberg et al. 2008, doi:10.1007/s00484-008-0162-7):
sun position and direct/diffuse split -> shadows with trees (``simulation.shadows``)
-> surface temperature by land cover, force-restore with thermal lag -> shortwave and
longwave from six directions -> Tmrt at 1.1 m for a standing person -> UTCI (Bröde 2012).
"""

from __future__ import annotations

import hashlib
import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import constants, ndimage

from simulation.heat import _kernels as _k
from simulation.heat.forcing import prepare_forcing
from simulation.heat.parameters import HeatParameters, surface_tables
from simulation.heat.utci import HEAT_STRESS_THRESHOLDS, heat_stress_class, utci_coefficients_in_dtmrt, vapour_pressure
from simulation.model import Field, Model
from simulation.shadows import SkyView, sky_view_factor, sunlit_fraction
from twin.errors import TwinValueError
from twin.progress import progress

__all__ = ["HeatModel", "HeatResult", "SKY_VIEW_LAYERS"]

SIGMA = constants.sigma
T0 = constants.zero_Celsius

SKY_VIEW_LAYERS = ("svf", "svf_veg", "svf_north", "svf_east", "svf_south", "svf_west")
_SVF_DOC = {
    "svf": "sky-view factor, buildings and terrain",
    "svf_veg": "sky-view factor with tree crowns",
    "svf_north": "sky view of a vertical surface facing north",
    "svf_east": "sky view of a vertical surface facing east",
    "svf_south": "sky view of a vertical surface facing south",
    "svf_west": "sky view of a vertical surface facing west",
}


@dataclass
class HeatResult:
    """What a heat run produces.

    Attributes
    ----------
    layers : dict name -> (array, units, long_name)
        Maps on the twin grid (float32; NaN on buildings for pedestrian quantities).
    hourly : dict Timestamp -> dict name -> array
        ``tmrt`` and ``utci`` [degC] at the hours asked for (``keep_hours``).
    series : DataFrame
        One row per hour: forcing and map statistics over the open (non-building) cells.
    hottest : Timestamp, the hour with the highest mean UTCI over open cells.
    meta : dict, JSON-ready: models and references, parameters, notes, timings, checks.
    """

    layers: dict[str, tuple[np.ndarray, str, str]] = field(default_factory=dict)
    hourly: dict = field(default_factory=dict)
    series: pd.DataFrame | None = None
    hottest: pd.Timestamp | None = None
    meta: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.layers[name][0]


def _p95(values: np.ndarray) -> float:
    """95th percentile (nearest rank) of finite values, by partition (NaN if empty)."""
    if values.size == 0:
        return float("nan")
    k = min(values.size - 1, int(math.ceil(0.95 * values.size)) - 1)
    return float(np.partition(values, k)[k])


def _hash_arrays(*arrays, extra: str = "") -> str:
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        if a is None:
            h.update(b"none")
            continue
        a = np.ascontiguousarray(a)
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    h.update(extra.encode())
    return h.hexdigest()


class HeatModel(Model):
    """Street-level heat on a twin: Tmrt and UTCI hour by hour.

    Parameters
    ----------
    twin : Twin
    parameters : HeatParameters or dict, optional
        Overrides of the documented defaults (see :class:`~simulation.heat.parameters.HeatParameters`).

    Examples
    --------
    >>> model = HeatModel(twin)                                   # doctest: +SKIP
    >>> day = heatwave_day(date="2003-08-13", latitude=45.76, longitude=4.84, t_min=22, t_max=39.5,
    ...                    relative_humidity=25, wind_speed=1.5, sky="hazy")  # doctest: +SKIP
    >>> result = model.run(day, keep_hours=(15,))                  # doctest: +SKIP
    >>> result["utci_max"]                                         # doctest: +SKIP
    """

    fields = (
        Field("surface", "in", "m", doc="surface model: terrain + buildings + canopy"),
        Field("terrain", "in", "m", doc="bare ground"),
        Field("canopy_height", "in", "m", optional=True, doc="tree crowns (let `transmissivity` through)"),
        Field("building_id", "in", "1", dtype="int32", doc="buildings: no pedestrian there"),
        Field("landcover", "in", "1", dtype="uint8", doc="surface properties by class"),
        Field("albedo", "in", "1", optional=True, doc="per-cell albedo overriding the land-cover table (cool roofs, pavements)"),
        Field("emissivity", "in", "1", optional=True, doc="per-cell emissivity overriding the land-cover table"),
        Field("svf", "out", "1", doc=_SVF_DOC["svf"]),
        Field("svf_veg", "out", "1", doc=_SVF_DOC["svf_veg"]),
        Field("svf_north", "out", "1", doc=_SVF_DOC["svf_north"]),
        Field("svf_east", "out", "1", doc=_SVF_DOC["svf_east"]),
        Field("svf_south", "out", "1", doc=_SVF_DOC["svf_south"]),
        Field("svf_west", "out", "1", doc=_SVF_DOC["svf_west"]),
        Field("tmrt_max", "out", "degC", doc="highest hourly mean radiant temperature at 1.1 m"),
        Field("utci_max", "out", "degC", doc="highest hourly UTCI"),
        Field("tmrt_hottest", "out", "degC", doc="Tmrt at the hottest hour"),
        Field("utci_hottest", "out", "degC", doc="UTCI at the hottest hour"),
        Field("heat_stress_hottest", "out", "1", dtype="uint8", doc="UTCI heat-stress class at the hottest hour"),
        Field("hours_utci_above_26", "out", "h", doc="hours with UTCI >= 26 C (moderate heat stress or worse)"),
        Field("hours_utci_above_32", "out", "h", doc="hours with UTCI >= 32 C (strong heat stress or worse)"),
        Field("hours_utci_above_38", "out", "h", doc="hours with UTCI >= 38 C (very strong heat stress or worse)"),
        Field("sun_hours", "out", "h", doc="hours of direct sun at the ground (fractions under trees)"),
        Field("shade_hours", "out", "h", doc="hours of shade at the ground while the sun is up"),
        Field("tmrt_night", "out", "degC", doc="mean Tmrt over the hours with the sun below the horizon"),
        Field("utci_night", "out", "degC", doc="mean UTCI over the hours with the sun below the horizon"),
        Field("surface_temperature_max", "out", "degC", doc="highest surface temperature (roofs included)"),
    )
    references = (
        "Lindberg, Holmer & Thorsson (2008), SOLWEIG 1.0, Int. J. Biometeorol. 52, 697-713, doi:10.1007/s00484-008-0162-7",
        "Lindberg & Grimmond (2011), Theor. Appl. Climatol. 105, 311-323, doi:10.1007/s00704-010-0382-8",
        "Bröde et al. (2012), UTCI operational procedure, Int. J. Biometeorol. 56, 481-494, doi:10.1007/s00484-011-0454-1",
        "Reindl, Beckman & Duffie (1990), Solar Energy 45, 1-7, doi:10.1016/0038-092X(90)90060-P",
        "Deardorff (1978), force-restore, J. Geophys. Res. 83, 1889-1903, doi:10.1029/JC083iC04p01889",
        "Reda & Andreas (2004), NREL SPA, Solar Energy 76, 577-589, doi:10.1016/j.solener.2003.12.003",
    )

    def __init__(self, twin, *, parameters: HeatParameters | dict | None = None,
                 location: tuple[float, float] | None = None, tile_size: float | None = None,
                 halo: float | None = None, scheduler=None):
        super().__init__(twin)
        self.params = parameters if isinstance(parameters, HeatParameters) else HeatParameters.from_dict(parameters)
        self._svf: SkyView | None = None
        self._location = None
        if location is not None:
            lat, lon = (float(v) for v in location)
            if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 360.0):
                raise TwinValueError(f"invalid location: {location!r} (latitude, longitude in degrees)")
            self._location = (lat, lon)
        self.tiling = None
        if tile_size is not None:
            from simulation.heat.tiled import tiling_options

            self.tiling = tiling_options(self, tile_size=tile_size, halo=halo, scheduler=scheduler)
        elif halo is not None or scheduler is not None:
            raise TwinValueError("HeatModel: halo and scheduler need tile_size")

    # -- static inputs -------------------------------------------------------------------------
    def location(self) -> tuple[float, float]:
        """Latitude and longitude [degrees] of the sun's computations: the grid's centre unless given."""
        return self._location if self._location is not None else self.grid.centre_latlon()

    def _canopy(self):
        return self.read("canopy_height") if "canopy_height" in self.twin else None

    def _svf_hash(self) -> str:
        p = self.params
        return _hash_arrays(self.read("surface"), self._canopy(), self.read("terrain"),
                            extra=f"{self.grid.cell_size}|{p.n_azimuths}|{p.transmissivity}|{p.trunk_ratio}|v1")

    def sky_view(self, *, store: bool = False) -> SkyView:
        """The sky-view factors of the twin's surface, computed once per model.

        Reused when the twin already holds ``svf*`` layers whose ``input_hash`` attribute
        matches its current surface, canopy, terrain and parameters; otherwise computed.
        The twin is left as it is unless ``store`` is true: then the layers ``svf``,
        ``svf_veg``, ``svf_north``... are written into it (with their ``input_hash``), so
        that a saved twin carries them and later models skip the computation.
        """
        if self._svf is None:
            key = self._svf_hash()
            if all(n in self.twin for n in SKY_VIEW_LAYERS) and all(
                    self.twin[n].attrs.get("input_hash") == key for n in SKY_VIEW_LAYERS):
                sv = SkyView({n: self.read(n, "float32") for n in SKY_VIEW_LAYERS})
                sv.meta = {"cached": True, "input_hash": key}
            else:
                t = time.perf_counter()
                sv = sky_view_factor(surface=self.read("surface"), cell_size=self.grid.cell_size,
                                     canopy_height=self._canopy(), terrain=self.read("terrain"),
                                     transmissivity=self.params.transmissivity, n_azimuths=self.params.n_azimuths,
                                     directional=True)
                sv.meta.update({"cached": False, "input_hash": key, "seconds": round(time.perf_counter() - t, 3)})
            self._svf = sv
        sv = self._svf
        if store and not sv.meta["cached"]:
            for n in SKY_VIEW_LAYERS:
                self.twin.set_layer(n, sv[n], units="1", long_name=_SVF_DOC[n], input_hash=sv.meta["input_hash"])
        return sv

    def use_sky_view(self, sv: SkyView) -> None:
        """Use these sky views instead of computing them (a tile of a tiled run; views read elsewhere).

        Raises
        ------
        TwinValueError
            If a sky view is missing or its shape is not the grid's.
        """
        for n in SKY_VIEW_LAYERS:
            if n not in sv or np.shape(sv[n]) != self.grid.shape:
                raise TwinValueError(f"use_sky_view: {n!r} missing or not of the grid's shape {self.grid.shape}")
        if not hasattr(sv, "meta"):
            sv.meta = {}
        sv.meta.setdefault("cached", True)
        self._svf = sv

    def surface_properties(self) -> dict[str, np.ndarray]:
        """Per-cell albedo and emissivity (twin layers where present, else the land-cover table)."""
        tables = surface_tables(self.params)
        lc = self.read("landcover")
        out = {}
        for name in ("albedo", "emissivity"):
            if name in self.twin:
                arr = self.read(name, "float32")
                bad = ~np.isfinite(arr)
                if bad.any():
                    arr = np.where(bad, tables[name][lc], arr).astype(np.float32)
                if ((arr < 0) | (arr > 1)).any():
                    raise TwinValueError(f"the twin's {name} layer has values outside 0..1")
                out[name] = arr
            else:
                out[name] = tables[name][lc].astype(np.float32)
        return out

    # -- the run -----------------------------------------------------------------------------
    def run(self, weather: pd.DataFrame, *, keep_hours=(), progress_label: str | None = "heat: hours",
            on_hour=None) -> HeatResult:
        """Step through the weather table hour by hour.

        Parameters
        ----------
        weather : DataFrame, the twin's weather table (:mod:`twin.weather`), hourly, tz-aware.
        keep_hours : iterable of int (local hour of day) or Timestamps: hours whose full
            Tmrt and UTCI maps are kept in ``result.hourly``.
        progress_label : str or None, the progress bar's label (None: no bar).
        on_hour : callable, optional, called after each hour of the run as
            ``on_hour(index, time, tmrt=..., utci=..., surface_temperature=...)`` with the maps of
            that hour ([degC], float32; the arrays are reused: copy what you keep).

        Returns
        -------
        HeatResult

        With ``tile_size`` the run goes tile by tile (:mod:`simulation.heat.tiled`).
        """
        if self.tiling is not None:
            if on_hour is not None:
                raise TwinValueError("HeatModel.run: on_hour is not available on a tiled run")
            from simulation.heat.tiled import run_tiled

            return run_tiled(self, weather, keep_hours=keep_hours)
        t_start = time.perf_counter()
        p = self.params
        if len(weather) < 1:
            raise TwinValueError("the weather table is empty")
        steps = np.diff(weather.index).astype("timedelta64[ms]").astype(np.float64) / 1e3
        if len(weather) > 1 and not np.allclose(steps, 3600.0):
            raise TwinValueError("the weather table must be hourly without missing rows")
        dt = 3600.0
        lat, lon = self.location()
        forcing, notes = prepare_forcing(weather, latitude=lat, longitude=lon,
                                         elevation=float(weather.attrs.get("elevation", 0.0) or 0.0),
                                         decomposition=p.decomposition)
        sv = self.sky_view()
        svf_b, svf_v = sv["svf"], sv["svf_veg"]
        fv = np.ascontiguousarray(np.stack([sv[n] for n in SKY_VIEW_LAYERS[2:]]), dtype=np.float32)
        props = self.surface_properties()
        tables = surface_tables(p)
        lc = self.read("landcover")
        bid = self.read("building_id")
        is_building = (bid > 0).astype(np.uint8)
        open_cells = (bid == 0) & np.isfinite(svf_b)
        n_open = int(open_cells.sum())
        if n_open == 0:
            raise TwinValueError("the twin has no open (non-building) cell: nothing to compute for pedestrians")
        surface, terrain, canopy = self.read("surface"), self.read("terrain"), self._canopy()
        f_up, f_side = p.POSTURES[p.posture]
        shape = self.grid.shape

        # shadows: computed once per daytime hour; those of the spin-up day are kept (uint8, 1/255 steps)
        # for the second pass, the others are computed when needed (a year of hours never sits in memory)
        n_spin = min(24, len(forcing))
        alts = forcing["sun_altitude"].to_numpy()
        sunlit_cache: dict[int, np.ndarray] = {}
        t_sh = [0.0]

        def sunlit_of(i: int) -> np.ndarray:
            if i in sunlit_cache:
                return sunlit_cache.pop(i) if i < n_spin and pass_no[0] == 2 else sunlit_cache[i]
            t0 = time.perf_counter()
            s = sunlit_fraction(surface=surface, cell_size=self.grid.cell_size,
                                sun_azimuth=forcing["sun_azimuth"].iat[i], sun_altitude=alts[i],
                                canopy_height=canopy, terrain=terrain, transmissivity=p.transmissivity,
                                trunk_ratio=p.trunk_ratio)
            q = np.round(np.nan_to_num(s) * 255).astype(np.uint8)
            t_sh[0] += time.perf_counter() - t0
            if i < n_spin and pass_no[0] == 1:
                sunlit_cache[i] = q
            return q

        pass_no = [1]
        zeros = np.zeros(shape, np.float32)

        def wall_state(i, tw):
            """Wall surface temperatures [K] and exitances seen towards N, E, S, W for hour i."""
            row = forcing.iloc[i]
            ta_k = row["ta"] + T0
            alt = math.radians(max(row["sun_altitude"], 0.0))
            az = math.radians(row["sun_azimuth"])
            dni = row["dni"] if row["sun_altitude"] > 0 else 0.0
            dhi = row["dhi"]
            sw_in = np.array([dni * math.cos(alt) * max(0.0, -math.cos(az - 0.5 * math.pi * k)) * p.wall_sunlit_share
                              + 0.5 * dhi for k in range(4)])
            t_eq = ta_k + (1.0 - p.wall_albedo) * sw_in / p.wall_conductance
            tw = t_eq + (tw - t_eq) * math.exp(-dt / (p.wall_lag * 3600.0))
            lw = p.wall_emissivity * SIGMA * tw ** 4 + (1.0 - p.wall_emissivity) * row["l_sky"]
            return tw, lw, p.wall_albedo * sw_in

        def step(i, ts, td, tw, tmrt, want):
            row = forcing.iloc[i]
            tw, lw, sw = wall_state(i, tw)
            up = row["sun_altitude"] > 0
            alt = math.radians(max(row["sun_altitude"], 0.0))
            sf = (sunlit_of(i).astype(np.float32) / np.float32(255.0)) if up else zeros
            dni = float(row["dni"]) if up else 0.0
            sin_a, ta_k = math.sin(alt), float(row["ta"] + T0)
            _k.ground_step(sf, svf_b, svf_v, props["albedo"], props["emissivity"], lc, ts, td, e_lw, e_sw,
                           tables["heat_capacity"], tables["restore"], tables["evaporation"], dni=dni,
                           dhi=float(row["dhi"]), sin_alt=sin_a, ta=ta_k, l_sky=float(row["l_sky"]), dt=dt,
                           h_conv=p.convection_a + p.convection_b * float(row["wind"]), wall_lw_mean=float(lw.mean()),
                           wall_sw_mean=float(sw.mean()), sigma=SIGMA)
            if want:
                up_lw, up_sw = ground_seen(e_lw), ground_seen(e_sw)
                _k.tmrt_step(sf, svf_b, svf_v, fv, is_building, up_lw, up_sw, tmrt, dni=dni, dhi=float(row["dhi"]),
                             sin_alt=sin_a, cos_alt=math.cos(alt), sun_az=math.radians(row["sun_azimuth"]), ta=ta_k,
                             l_sky=float(row["l_sky"]), wall_lw=lw, wall_sw=sw, ak=p.absorption_shortwave,
                             al=p.absorption_longwave, f_up=f_up, f_side=f_side, sigma=SIGMA)
            # the deep temperature follows the surface with a one-day memory
            td += (ts - td) * np.float32(dt / 86400.0)
            return tw, sf

        # the ground a person sees: the open cells within ground_view_radius, equally weighted (about 80 %
        # of the view factor of the ground from 1.1 m lies within 2.2 m); roofs are not seen from the street
        e_lw = np.empty(shape, np.float32)
        e_sw = np.empty(shape, np.float32)
        k_rad = int(round(p.ground_view_radius / self.grid.cell_size))
        seen_mask = (~is_building.astype(bool)) & np.isfinite(svf_b)
        if k_rad >= 1:
            size = 2 * k_rad + 1
            weight = ndimage.uniform_filter(seen_mask.astype(np.float32), size=size, mode="nearest")
            weight = np.where(weight > 0, weight, np.float32(1.0)).astype(np.float32)

        def ground_seen(e):
            if k_rad < 1:
                return e
            v = np.where(seen_mask, e, np.float32(0.0)).astype(np.float32)
            out = ndimage.uniform_filter(v, size=size, mode="nearest") / weight
            return np.where(seen_mask, out, e).astype(np.float32)

        # pass 1: spin-up over the first day (a periodic day settles in one cycle)
        t_ta0 = float(forcing["ta"].iloc[: min(24, len(forcing))].mean() + T0)
        ts = np.full(shape, t_ta0, np.float32)
        td = np.full(shape, t_ta0, np.float32)
        tw = np.full(4, t_ta0)
        tmrt = np.empty(shape, np.float32)
        ts_sum = np.zeros(shape, np.float64)
        for i in range(n_spin):
            tw, _ = step(i, ts, td, tw, tmrt, False)
            ts_sum += ts
        td[:] = (ts_sum / n_spin).astype(np.float32)
        pass_no[0] = 2

        # pass 2: the run
        keep = set()
        for h in keep_hours:
            if isinstance(h, (int, np.integer)):
                keep.update(np.flatnonzero(forcing.index.hour == int(h)).tolist())
            else:
                ts_h = pd.Timestamp(h)
                if ts_h.tzinfo is None:
                    ts_h = ts_h.tz_localize(forcing.index.tz)
                idx = np.flatnonzero(forcing.index == ts_h)
                if not idx.size:
                    raise TwinValueError(f"keep_hours: {h!r} is not a time of the weather table")
                keep.update(idx.tolist())
        nanmap = lambda: np.full(shape, np.nan, np.float32)
        acc = {
            "tmrt_max": nanmap(), "utci_max": nanmap(), "surface_temperature_max": nanmap(),
            "sun_hours": np.zeros(shape, np.float32), "shade_hours": np.zeros(shape, np.float32),
        }
        above = {thr: np.zeros(shape, np.float32) for thr in HEAT_STRESS_THRESHOLDS[:3]}
        night_tmrt = np.zeros(shape, np.float64)
        night_utci = np.zeros(shape, np.float64)
        n_night = 0
        utci = np.empty(shape, np.float32)
        rows = []
        hourly = {}
        best = (-np.inf, None, None, None)
        out_of_range = 0
        t_hours = time.perf_counter()
        hours = range(len(forcing))
        for i in (progress(hours, progress_label) if progress_label else hours):
            row = forcing.iloc[i]
            tw, sf = step(i, ts, td, tw, tmrt, True)
            pa = float(vapour_pressure(row["ta"], row["rh"]))
            b = utci_coefficients_in_dtmrt(air_temperature=row["ta"], wind_speed=row["wind"], vapour_pressure_kpa=pa)
            out_of_range += int(_k.utci_from_dtmrt(tmrt, b, utci, ta_c=float(row["ta"])))
            if on_hour is not None:
                on_hour(i, forcing.index[i], tmrt=tmrt, utci=utci, surface_temperature=ts - np.float32(T0))
            np.fmax(acc["tmrt_max"], tmrt, out=acc["tmrt_max"])
            np.fmax(acc["utci_max"], utci, out=acc["utci_max"])
            np.fmax(acc["surface_temperature_max"], ts - np.float32(T0), out=acc["surface_temperature_max"])
            for thr, a in above.items():
                a += (utci >= thr).astype(np.float32) * np.float32(dt / 3600.0)
            if row["sun_altitude"] > 0:
                acc["sun_hours"] += sf * np.float32(dt / 3600.0)
                acc["shade_hours"] += (1.0 - sf) * np.float32(dt / 3600.0)
            else:
                night_tmrt += np.nan_to_num(tmrt)
                night_utci += np.nan_to_num(utci)
                n_night += 1
            u_open = utci[open_cells]
            t_open = tmrt[open_cells]
            u_fin = u_open[np.isfinite(u_open)]
            t_fin = t_open[np.isfinite(t_open)]
            mean_u = float(u_fin.mean()) if u_fin.size else np.nan
            rows.append({
                "time": forcing.index[i], "air_temperature": row["ta"], "relative_humidity": row["rh"],
                "wind_speed": row["wind_measured"], "sun_altitude": row["sun_altitude"], "sun_azimuth": row["sun_azimuth"],
                "global_horizontal": row["ghi"], "direct_normal": row["dni"], "diffuse_horizontal": row["dhi"],
                "longwave_down": row["l_sky"],
                "tmrt_mean": float(t_fin.mean()) if t_fin.size else np.nan,
                "tmrt_p95": float(_p95(t_fin)), "utci_mean": mean_u, "utci_p95": float(_p95(u_fin)),
                "area_utci_above_32": float(np.count_nonzero(u_fin >= 32.0)) * self.grid.cell_area,
                "area_utci_above_38": float(np.count_nonzero(u_fin >= 38.0)) * self.grid.cell_area,
                "surface_temperature_mean": float(ts[open_cells].mean()) - T0,
            })
            if np.isfinite(mean_u) and mean_u > best[0]:
                best = (mean_u, i, tmrt.copy(), utci.copy())
            if i in keep:
                hourly[forcing.index[i]] = {"tmrt": tmrt.copy(), "utci": utci.copy()}
        t_hours = time.perf_counter() - t_hours

        building = is_building.astype(bool)
        for name in ("sun_hours", "shade_hours"):
            acc[name][building] = np.nan
        layers: dict[str, tuple[np.ndarray, str, str]] = {}
        for n in SKY_VIEW_LAYERS:
            layers[n] = (sv[n], "1", _SVF_DOC[n])
        doc = {f.name: f.doc for f in self.fields}
        for name, arr in acc.items():
            layers[name] = (arr, "h" if name.endswith("_hours") else "degC", doc[name])
        for thr, a in above.items():
            a[building] = np.nan
            layers[f"hours_utci_above_{int(thr)}"] = (a, "h", doc[f"hours_utci_above_{int(thr)}"])
        if n_night:
            tn = (night_tmrt / n_night).astype(np.float32)
            un = (night_utci / n_night).astype(np.float32)
            tn[building] = np.nan
            un[building] = np.nan
        else:
            tn = un = nanmap()
        layers["tmrt_night"] = (tn, "degC", doc["tmrt_night"])
        layers["utci_night"] = (un, "degC", doc["utci_night"])
        hottest = None
        if best[1] is not None:
            hottest = forcing.index[best[1]]
            layers["tmrt_hottest"] = (best[2], "degC", doc["tmrt_hottest"])
            layers["utci_hottest"] = (best[3], "degC", doc["utci_hottest"])
            layers["heat_stress_hottest"] = (heat_stress_class(best[3]), "1", doc["heat_stress_hottest"])
        series = pd.DataFrame(rows).set_index("time")
        if notes.get("wind_clamped"):
            warnings.warn(f"heat: {notes['wind_clamped']} ({notes['wind_clamped_hours']} hour(s))", stacklevel=2)
        if out_of_range:
            warnings.warn(f"heat: {out_of_range} cell-hour(s) outside the UTCI range (Tmrt - Ta outside -30..70 K) "
                          "left as NaN", stacklevel=2)
        meta = {
            "model": "jumeau heat (SOLWEIG-like)",
            "references": list(self.references),
            "parameters": p.to_dict(),
            "location": {"latitude": lat, "longitude": lon},
            "forcing": {"source": weather.attrs.get("source", ""), "hours": len(forcing),
                        "start": str(forcing.index[0]), "end": str(forcing.index[-1]), **notes},
            "sky_view": {k: v for k, v in sv.meta.items() if k != "input_hash"},
            "hottest_hour": str(hottest) if hottest is not None else None,
            "utci_out_of_range_cell_hours": out_of_range,
            "open_cells": n_open,
            "seconds": {"shadows": round(t_sh[0], 3), "hours": round(t_hours, 3),
                        "total": round(time.perf_counter() - t_start, 3)},
        }
        return HeatResult(layers=layers, hourly=hourly, series=series, hottest=hottest, meta=meta)
