"""The public-lighting model: illuminance, EN 13201 compliance, light-nuisance rules, energy.

>>> from simulation.lighting import LightingModel
>>> result = LightingModel(twin).run()                     # doctest: +SKIP
>>> result.indicators["annual_energy"], result.segments    # doctest: +SKIP

Every parameter has a documented default; the defaults that were applied are listed in
``result.meta["defaults_applied"]`` (no silent physical defaults).
"""

from __future__ import annotations

import functools
import time
import warnings
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from simulation.lighting.en13201 import (
    OVERLIGHTING_FACTOR,
    assign_luminaires,
    deficit_raster,
    evaluate_segments,
)
from simulation.lighting.energy import DUSK_TO_DAWN, OperatingProfile, annual_hours, sun_times
from simulation.lighting.illuminance import LUT_SIZE, facade_points, prepare_scene
from simulation.lighting.interventions import PROFILE_COLUMN
from simulation.lighting.registry import PhotometryRegistry
from simulation.lighting.rules import dsfli, luminaire_checks, trame_noire
from simulation.model import Field, Model, require_nonnegative, require_positive, require_range
from twin.errors import TwinValueError
from twin.tiling import map_tiles, tile_plan

__all__ = ["LightingModel", "LightingResult", "DEFAULTS"]

#: Documented defaults of :class:`LightingModel` (value, unit, why).
DEFAULTS: dict[str, tuple[object, str, str]] = {
    "maintenance_factor": (0.8, "1", "MF of LED road lighting, 0.8-0.9 (physics.md section 3); lower for old HPS"),
    "cutoff": (60.0, "m", "radius beyond which a luminaire is ignored; the bound of what is left out is reported"),
    "crown_extinction": (0.5, "m-1", "Beer-Lambert k = G x LAD, G = 0.5, leaf area density ~1 m2/m3 (leafy urban trees)"),
    "crown_base_fraction": (0.25, "1", "crown base at 25 % of the canopy height (the trees table's convention)"),
    "year": (2025, "1", "year whose nights the energy balance counts"),
    "price": (0.20, "EUR/kWh", "electricity price of a French commune, all taxes (check)"),
    "co2_factor": (0.06, "kgCO2e/kWh", "French grid mix at night in winter, ADEME Base Carbone order of magnitude (check)"),
    "built_up": (True, "1", "inside an agglomeration (DSFLI limit 35 lm/m2 for roads)"),
    "dark": (0.1, "lx", "trame noire: below this a corridor cell is dark"),
    "lit": (1.0, "lx", "trame noire: above this a corridor cell is lit"),
    "trespass_limit": (5.0, "lx", "vertical illuminance at windows, CIE 150:2017 zone E2 pre-curfew (check)"),
    "assign_distance": (25.0, "m", "a luminaire without road_id lights the nearest road within this distance"),
    "overlighting_factor": (OVERLIGHTING_FACTOR, "1", "Ē above this multiple of the class value is over-lighting (check)"),
    "tz": ("Europe/Paris", "", "legal time of the operating profiles"),
}


@dataclass
class LightingResult:
    """What :meth:`LightingModel.run` returns.

    Attributes
    ----------
    illuminance : ndarray (float32)
        Maintained horizontal illuminance at full output [lx], ground (roofs on building cells).
    en13201_deficit : ndarray (float32)
        ``max(0, point minimum of the class - E)`` [lx] on classed road fields, NaN elsewhere.
    trame_noire : ndarray (uint8)
        0 outside corridors, 1 dark, 2 dim, 3 lit.
    segments : GeoDataFrame
        Per road segment EN 13201 compliance, D_P, D_E, DSFLI.
    luminaires : GeoDataFrame
        Per luminaire: 2018 rule checks, profile, annual hours, kWh, EUR, CO2.
    cabinets : DataFrame
        Per cabinet: luminaires, power, kWh, EUR, CO2, DSFLI.
    facades : DataFrame
        Per building (index id): window points, Ev max and mean [lx], over the trespass limit.
    indicators : dict of str to (value, unit)
    meta : dict
    """

    illuminance: np.ndarray
    en13201_deficit: np.ndarray
    trame_noire: np.ndarray
    segments: gpd.GeoDataFrame
    luminaires: gpd.GeoDataFrame
    cabinets: pd.DataFrame
    facades: pd.DataFrame
    indicators: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)


class LightingModel(Model):
    """Public lighting on a twin (see the package documentation for the physics).

    Parameters
    ----------
    twin : Twin
        Layers ``terrain``, ``building_height`` (``canopy_height``, ``landcover`` optional) and the
        ``luminaires`` table; the ``roads`` table for EN 13201.
    registry : PhotometryRegistry, optional
        Resolves photometry references (default: built-ins and file paths, plus ``photometry_dirs``).
    photometry_dirs : sequence of path-like
        Folders where relative photometry files are found.
    profile : OperatingProfile or str
        Base operating profile of luminaires whose ``profile`` column is empty (default dusk to dawn).
    facades : bool
        Compute vertical illuminance at the windows of every building (light trespass).
    tile_size : float, optional
        Compute the illuminance raster tile by tile on dask (:func:`twin.tiling.map_tiles`), tiles of
        this side [m]. The road, luminaire, cabinet and facade results still use the whole twin.
    halo : float, optional
        Neighbourhood read around each tile [m]; default the ``cutoff``. With ``halo >= cutoff`` the
        tiled raster equals the whole-grid one (to float32 rounding: the luminaires add up in
        another order); a smaller halo drops the light of luminaires farther than ``halo`` from a
        cell (warned, and recorded in ``meta["tiling"]``).
    scheduler : str or dask.distributed.Client, optional
        Where the tiles run (``"threads"``, ``"processes"``, ``"synchronous"``, a Client).
    Other keyword parameters and their defaults: :data:`DEFAULTS`.
    """

    fields = (
        Field("terrain", "in", "m", doc="ground altitude"),
        Field("building_height", "in", "m", doc="buildings block light"),
        Field("canopy_height", "in", "m", optional=True, doc="tree crowns attenuate light"),
        Field("landcover", "in", "1", dtype="uint8", optional=True, doc="corridors of the trame noire"),
        Field("illuminance", "out", "lx", doc="maintained horizontal illuminance at full output"),
        Field("en13201_deficit", "out", "lx", doc="illuminance missing to the class point minimum on classed roads"),
        Field("trame_noire", "out", "1", dtype="uint8", doc="0 outside corridors, 1 dark, 2 dim, 3 lit"),
    )
    references = (
        "EN 13201-2:2015, -3:2015, -5:2015 Road lighting (classes, calculation, energy indicators)",
        "Arrêté du 27 décembre 2018 relatif à la prévention, à la réduction et à la limitation des nuisances lumineuses",
        "Franklin & Ray 1994, Higher isn't necessarily better: visibility algorithms and experiments (XDraw)",
        "Amanatides & Woo 1987, A fast voxel traversal algorithm for ray tracing (Eurographics)",
        "Monsi & Saeki 1953/2005, On the factor light in plant communities, doi:10.1093/aob/mci052",
        "Reda & Andreas 2004, Solar position algorithm, doi:10.1016/j.solener.2003.12.003",
    )

    def __init__(self, twin, *, registry: PhotometryRegistry | None = None, photometry_dirs=(), profile=None,
                 facades: bool = True, lut_size: int = LUT_SIZE, tile_size: float | None = None,
                 halo: float | None = None, scheduler=None, **parameters):
        super().__init__(twin)
        unknown = set(parameters) - set(DEFAULTS)
        if unknown:
            raise TwinValueError(f"LightingModel: unknown parameter(s) {', '.join(sorted(unknown))} "
                                 f"(known: {', '.join(DEFAULTS)})")
        self.defaults_applied = {k: v[0] for k, v in DEFAULTS.items() if k not in parameters}
        p = {k: parameters.get(k, v[0]) for k, v in DEFAULTS.items()}
        p["maintenance_factor"] = require_range(p["maintenance_factor"], 0.01, 1.0, name="maintenance_factor")
        p["cutoff"] = require_positive(p["cutoff"], name="cutoff")
        p["crown_base_fraction"] = require_range(p["crown_base_fraction"], 0.0, 1.0, name="crown_base_fraction")
        p["price"] = require_nonnegative(p["price"], name="price")
        p["co2_factor"] = require_nonnegative(p["co2_factor"], name="co2_factor")
        p["trespass_limit"] = require_nonnegative(p["trespass_limit"], name="trespass_limit")
        p["assign_distance"] = require_nonnegative(p["assign_distance"], name="assign_distance")
        p["year"] = int(p["year"])
        self.params = p
        self.registry = (registry or PhotometryRegistry()).with_dirs(*photometry_dirs)
        if profile is None:
            self.profile = DUSK_TO_DAWN
            self.defaults_applied["profile"] = DUSK_TO_DAWN.to_spec()
        else:
            self.profile = profile if isinstance(profile, OperatingProfile) else OperatingProfile.from_spec(profile)
        self.facades = bool(facades)
        self.lut_size = int(lut_size)
        self.tiling = None
        if tile_size is not None:
            h = p["cutoff"] if halo is None else require_nonnegative(halo, name="halo")
            tiles = tile_plan(self.grid, tile_size=tile_size, halo=h)  # checks both lengths
            self.tiling = {"tile_size": float(tile_size), "halo": float(h), "tiles": len(tiles),
                           "scheduler": scheduler if scheduler is None or isinstance(scheduler, str)
                           else type(scheduler).__name__, "exact": bool(h >= p["cutoff"])}
            self._scheduler = scheduler
            if halo is None:
                self.defaults_applied["halo"] = h
            if h < p["cutoff"]:
                warnings.warn(f"lighting: halo {h:g} m < cutoff {p['cutoff']:g} m: the tiled illuminance misses the "
                              "light of luminaires farther than the halo from a cell", stacklevel=2)
        elif halo is not None or scheduler is not None:
            raise TwinValueError("LightingModel: halo and scheduler need tile_size")

    # ------------------------------------------------------------------------------------------
    def scene(self, luminaires=None):
        p = self.params
        return prepare_scene(self.twin, luminaires=luminaires, registry=self.registry,
                             maintenance_factor=p["maintenance_factor"], cutoff=p["cutoff"],
                             crown_extinction=p["crown_extinction"], crown_base_fraction=p["crown_base_fraction"],
                             lut_size=self.lut_size)

    def run(self) -> LightingResult:
        """Compute everything; see :class:`LightingResult`."""
        t0 = time.perf_counter()
        twin = self.twin
        g = twin.grid
        p = self.params
        timings = {}
        lum_table = twin.luminaires
        if PROFILE_COLUMN not in lum_table.columns:
            lum_table = lum_table.assign(**{PROFILE_COLUMN: ""})
        sc = self.scene(lum_table)
        t = time.perf_counter()
        E, evaluations = self.illuminance(lum_table, scene=sc)
        timings["illuminance_s"] = time.perf_counter() - t
        # EN 13201
        roads = twin.roads
        assignment = assign_luminaires(lum_table, roads, max_distance=p["assign_distance"])
        t = time.perf_counter()
        segments = evaluate_segments(sc, roads, assignment=assignment, overlighting_factor=p["overlighting_factor"])
        deficit = deficit_raster(g, roads, E)
        timings["en13201_s"] = time.perf_counter() - t
        # rules and trame noire
        checks = luminaire_checks(lum_table, sc.lum.photometries, sc.lum.lut)
        seg_dsfli, cab_dsfli = dsfli(lum_table, roads, assignment, built_up=bool(p["built_up"]))
        lc = twin.array("landcover") if "landcover" in twin else None
        ch = twin.array("canopy_height") if "canopy_height" in twin else None
        tn, tn_areas = trame_noire(E, lc, ch, dark=float(p["dark"]), lit=float(p["lit"]), cell_area=g.cell_area)
        # energy
        t = time.perf_counter()
        lat, lon = g.centre_latlon()
        nights = sun_times(p["year"], lat, lon, tz=p["tz"])
        specs = lum_table[PROFILE_COLUMN].fillna("").astype(str).to_numpy() if len(lum_table) else np.zeros(0, str)
        hours = {}
        for spec in sorted(set(specs.tolist())):
            prof = OperatingProfile.from_spec(spec) if spec else self.profile
            hours[spec] = (prof, annual_hours(prof, nights, tz=p["tz"]))
        power = lum_table["power"].to_numpy(float) if len(lum_table) else np.zeros(0)
        full_h = np.array([hours[s][1].full_equivalent for s in specs]) if len(specs) else np.zeros(0)
        lit_h = np.array([hours[s][1].lit for s in specs]) if len(specs) else np.zeros(0)
        kwh = power * full_h / 1000.0
        timings["energy_s"] = time.perf_counter() - t
        lum_out = checks.copy()
        lum_out["road_assigned"] = assignment
        lum_out["profile"] = [hours[s][0].to_spec() for s in specs]
        lum_out["power"] = power
        lum_out["flux"] = lum_table["flux"].to_numpy(float) if len(lum_table) else np.zeros(0)
        lum_out["hours_lit"] = lit_h
        lum_out["hours_full_equivalent"] = full_h
        lum_out["energy_kwh"] = kwh
        lum_out["cost_eur"] = kwh * p["price"]
        lum_out["co2_kg"] = kwh * p["co2_factor"]
        # cabinets
        cab = pd.DataFrame({"cabinet": lum_out["cabinet"], "luminaires": 1, "power_w": power, "energy_kwh": kwh})
        cab = cab.groupby("cabinet", as_index=False).sum(numeric_only=True)
        cab["cost_eur"] = cab["energy_kwh"] * p["price"]
        cab["co2_kg"] = cab["energy_kwh"] * p["co2_factor"]
        cab = cab.merge(cab_dsfli[["cabinet", "area", "dsfli", "limit", "ok"]].rename(
            columns={"area": "lit_area_m2", "limit": "dsfli_limit", "ok": "dsfli_ok"}), on="cabinet", how="left")
        # EN 13201-5 and DSFLI per segment
        seg_power = pd.Series(power).groupby(assignment).sum() if len(power) else pd.Series(dtype=float)
        seg_wh = pd.Series(kwh * 1000.0).groupby(assignment).sum() if len(power) else pd.Series(dtype=float)
        segments["power_w"] = segments["road_id"].map(seg_power).fillna(0.0).astype(float)
        segments["dp"] = np.where((segments["e_avg"] > 0) & (segments["area"] > 0),
                                  segments["power_w"] / (segments["e_avg"] * segments["area"]), np.nan)
        segments["de"] = np.where(segments["area"] > 0,
                                  segments["road_id"].map(seg_wh).fillna(0.0) / segments["area"].replace(0, np.nan),
                                  np.nan)
        segments = segments.merge(seg_dsfli[["road_id", "dsfli", "limit", "ok"]].rename(
            columns={"limit": "dsfli_limit", "ok": "dsfli_ok"}), on="road_id", how="left")
        # baseline comparison when an intervention kept the luminaires it replaced
        if "luminaires_baseline" in twin.tables:
            base_tab = twin.tables["luminaires_baseline"]
            base_sc = self.scene(base_tab)
            base_assign = assign_luminaires(base_tab, roads, max_distance=p["assign_distance"])
            base_seg = evaluate_segments(base_sc, roads, assignment=base_assign,
                                         overlighting_factor=p["overlighting_factor"])
            segments["baseline_status"] = segments["road_id"].map(base_seg.set_index("road_id")["status"])
            segments["baseline_e_avg"] = segments["road_id"].map(base_seg.set_index("road_id")["e_avg"])
            segments["falls_below"] = (segments["baseline_status"] == "pass") & (segments["status"] == "fail")
        # facades
        t = time.perf_counter()
        facades = self._facades(sc)
        timings["facades_s"] = time.perf_counter() - t
        # indicators
        judged = segments["status"].isin(["pass", "fail"])
        ind = {
            "annual_energy": (float(kwh.sum()), "kWh/yr"),
            "annual_cost": (float(kwh.sum() * p["price"]), "EUR/yr"),
            "annual_co2": (float(kwh.sum() * p["co2_factor"]), "kgCO2e/yr"),
            "installed_power": (float(power.sum() / 1000.0), "kW"),
            "luminaires": (float(len(lum_table)), "1"),
            "segments_compliant": (float((segments["status"] == "pass").sum()), "1"),
            "segments_failing": (float((segments["status"] == "fail").sum()), "1"),
            "segments_judged": (float(judged.sum()), "1"),
            "segments_overlit": (float(segments["overlit"].sum()), "1"),
            "luminaires_noncompliant_2018": (float((~checks["compliant"]).sum()) if len(checks) else 0.0, "1"),
            "luminaires_ulr_over_50": (float(checks["replace_by_2025"].sum()) if len(checks) else 0.0, "1"),
            "trame_noire_lit_area": (tn_areas["lit"], "m2"),
            "trame_noire_dim_area": (tn_areas["dim"], "m2"),
            "trame_noire_dark_area": (tn_areas["dark"], "m2"),
            "buildings_light_trespass": (float(facades["over_limit"].sum()) if len(facades) else 0.0, "1"),
            "hours_switched_off": (float(np.mean([hours[s][1].switched_off for s in specs])) if len(specs) else 0.0,
                                   "h/yr"),
        }
        if "falls_below" in segments:
            ind["segments_falling_below"] = (float(segments["falls_below"].sum()), "1")
        meta = {
            "model": "LightingModel", "references": list(self.references),
            "parameters": {k: v for k, v in p.items()}, "profile": self.profile.to_spec(),
            "defaults_applied": self.defaults_applied, "evaluations": int(evaluations),
            "cutoff_bound_lx": sc.cutoff_bound(), "latitude": lat, "longitude": lon,
            "photometries": {ref: {"name": ph.name, "lor": ph.lor, "ulr": ph.ulr, "n3": ph.n3}
                             for ref, ph in zip(sc.lum.refs, sc.lum.photometries)},
            "profiles": {(s or "base"): {"spec": hours[s][0].to_spec(), "hours_lit": hours[s][1].lit,
                                         "hours_full_equivalent": hours[s][1].full_equivalent,
                                         "hours_switched_off": hours[s][1].switched_off} for s in hours},
            "timings": timings | {"total_s": time.perf_counter() - t0},
            "tiling": self.tiling,
            "notes": ["illuminance at full output, maintained (x MF); dimming and switch-off change energy, "
                      "not the map", "M classes judged on illuminance through q0 = 0.07 (R3), see en13201"],
        }
        return LightingResult(illuminance=E, en13201_deficit=deficit, trame_noire=tn, segments=segments,
                              luminaires=lum_out, cabinets=cab, facades=facades, indicators=ind, meta=meta)

    def illuminance(self, luminaires=None, *, scene=None) -> tuple[np.ndarray, int]:
        """The maintained horizontal illuminance raster [lx] (float32) and the luminaire-cell pairs evaluated.

        Tile by tile when the model has a ``tile_size`` (the pairs then include the halos'), else on the
        whole grid (from ``scene`` when given). ``luminaires`` defaults to the twin's table.
        """
        lum_table = self.twin.luminaires if luminaires is None else luminaires
        if self.tiling is not None:
            return self._tiled_illuminance(lum_table)
        sc = scene if scene is not None else self.scene(lum_table)
        return sc.horizontal_illuminance()

    def _tiled_illuminance(self, lum_table) -> tuple[np.ndarray, int]:
        """The illuminance raster tile by tile; evaluations counted on the padded tiles (halos included)."""
        p = self.params
        twin = self.twin.copy(deep=False)
        twin.tables["luminaires"] = lum_table
        func = functools.partial(_illuminance_tile, registry=self.registry, lut_size=self.lut_size,
                                 maintenance_factor=p["maintenance_factor"], cutoff=p["cutoff"],
                                 crown_extinction=p["crown_extinction"], crown_base_fraction=p["crown_base_fraction"])
        ds, extras = map_tiles(twin, func, tile_size=self.tiling["tile_size"], halo=self.tiling["halo"],
                               scheduler=self._scheduler, extras=True)
        return np.ascontiguousarray(ds["illuminance"].values, np.float32), int(sum(n for _, n in extras))

    def _facades(self, sc) -> pd.DataFrame:
        cols = ["points", "ev_max", "ev_mean", "over_limit"]
        b = self.twin.buildings
        if not self.facades or len(b) == 0 or len(sc.lum) == 0:
            return pd.DataFrame(columns=cols, index=pd.Index([], name="id"))
        bid, x, y, z, nx, ny = facade_points(b, terrain_at=sc.ground_altitude)
        inside = self.grid.contains(x, y)
        bid, x, y, z, nx, ny = (a[inside] for a in (bid, x, y, z, nx, ny))
        normals = np.column_stack([nx, ny, np.zeros_like(nx)])
        ev = sc.point_illuminance(x, y, z, normals, skip_near=1.5)
        df = pd.DataFrame({"id": bid, "ev": ev})
        out = df.groupby("id")["ev"].agg(points="size", ev_max="max", ev_mean="mean")
        out["over_limit"] = out["ev_max"] > self.params["trespass_limit"]
        return out[cols]


def _illuminance_tile(sub, *, registry, lut_size, maintenance_factor, cutoff, crown_extinction, crown_base_fraction):
    """One tile of the illuminance raster (see :meth:`LightingModel._tiled_illuminance`)."""
    sc = prepare_scene(sub, registry=registry, maintenance_factor=maintenance_factor, cutoff=cutoff,
                       crown_extinction=crown_extinction, crown_base_fraction=crown_base_fraction, lut_size=lut_size)
    E, n = sc.horizontal_illuminance()
    return {"illuminance": (E, "lx", "maintained horizontal illuminance at full output")}, n
