"""The energy model: hourly heating and cooling needs of every building of a twin, and what follows.

``EnergyModel(twin, weather=df).run()`` chains, for all buildings at once:

1. archetypes (:mod:`~simulation.energy.archetypes`): parameters by use and period, overridden by the
   buildings' own data and by retrofit columns;
2. geometry (:mod:`~simulation.energy.geometry`): floor areas, facades per orientation, party walls, roofs;
3. the ISO 13790 5R1C network of each building (:func:`building_network`);
4. solar irradiance per facade orientation (:mod:`~simulation.energy.solar`) and its shading by the
   neighbouring buildings and trees (:mod:`~simulation.energy.shading`, the shared shadow engine);
5. the hourly simulation (:mod:`~simulation.energy._kernels`, numba, parallel over buildings);
6. final and primary energy, CO2, cost, DPE class, décret tertiaire targets, rooftop PV potential.

References
----------
ISO 13790:2008, Energy performance of buildings - Calculation of energy use for space heating and
cooling, Annex C (5R1C hourly method).
Jayathissa, P. et al. (2017), Optimising building net energy demand with dynamic BIPV shading,
Applied Energy 202, 726-735, doi:10.1016/j.apenergy.2017.05.179 (RC_BuildingSimulator, the peer).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import ClassVar

import numba
import numpy as np
import pandas as pd
from scipy import constants

from simulation.energy import _kernels
from simulation.energy.archetypes import load_table, resolve_buildings
from simulation.energy.geometry import BuildingGeometry, building_geometry
from simulation.energy.labels import (
    HIGH_ALTITUDE_ZONES,
    TERTIARY_AREA_THRESHOLD,
    conversion_factors,
    dpe_class,
    tertiary_targets,
)
from simulation.energy.schedules import closed_mask, schedule_arrays
from simulation.energy.solar import TRANSPOSITION_MODELS, facade_irradiance, plane_irradiance, sky_directions
from simulation.energy.weather import Forcing, prepare_forcing
from simulation.model import Field, Model, require_nonnegative, require_positive, require_range
from twin.core import Twin
from twin.errors import TwinValueError

__all__ = [
    "COUPLINGS",
    "MASS_CLASSES",
    "RESULT_UNITS",
    "EnergyModel",
    "EnergyParameters",
    "EnergyResult",
    "building_network",
    "simulate_energy",
]

#: Volumetric heat capacity of air, rho_a c_a [J m-3 K-1] (ISO 13790, 9.3.1).
AIR_HEAT_CAPACITY = 1200.0
#: Heat transfer coefficient between the internal surface and the air node, h_is [W m-2 K-1] (ISO 13790 7.2.2.2).
H_IS = 3.45
#: Ratio of the internal surface area to the floor area, Lambda_at (ISO 13790 7.2.2.2).
LAMBDA_AT = 4.5
#: Heat transfer coefficient between the mass and the surface node, h_ms [W m-2 K-1] (ISO 13790 12.2.2).
H_MS = 9.1

#: ISO 13790 table 12: effective mass area A_m / A_f [1] and internal heat capacity C_m / A_f [J m-2 K-1].
MASS_CLASSES: dict[str, tuple[float, float]] = {
    "very_light": (2.5, 80_000.0),
    "light": (2.5, 110_000.0),
    "medium": (2.5, 165_000.0),
    "heavy": (3.0, 260_000.0),
    "very_heavy": (3.5, 370_000.0),
}


def _coupling_iso13790(*, h_op, h_w, h_is, h_ms):
    """The standard's network: H_tr,w = H_w and 1/H_tr,em = 1/H_op - 1/H_tr,ms (ISO 13790 12.2.2).

    Its steady-state loss is ``H_ve + 1 / (1/H_tr,is + 1/(H_w + H_op))``: a little below sum(U A) because
    H_tr,is adds in series.
    """
    h_em = 1.0 / (1.0 / h_op - 1.0 / h_ms)
    return h_w, h_em


def _coupling_ua(*, h_op, h_w, h_is, h_ms):
    """The standard's network with H_w and H_op scaled by s = H_is / (H_is - H_w - H_op).

    The series of H_tr,is with the scaled (H_w + H_op) then equals H_w + H_op exactly, so the
    steady-state loss is sum(U A) + H_ve: the U-values, which include the internal surface
    resistance, are honoured exactly. Dynamics and gain splits are the standard's.
    """
    g = h_op + h_w
    s = h_is / (h_is - g)
    h_em = 1.0 / (1.0 / (s * h_op) - 1.0 / h_ms)
    return s * h_w, h_em


#: How the U-values map onto the 5R1C conductances; a registry, see the two functions.
COUPLINGS = {"ua": _coupling_ua, "iso13790": _coupling_iso13790}

#: Units of the per-building result columns.
RESULT_UNITS: dict[str, str] = {
    "floor_area": "m2", "gross_floor_area": "m2", "heating_need": "kWh/yr", "cooling_need": "kWh/yr",
    "heating_need_m2": "kWh/m2/yr", "cooling_need_m2": "kWh/m2/yr", "peak_heating": "kW", "peak_cooling": "kW",
    "dhw_need": "kWh/yr", "final_heating": "kWh/yr", "final_cooling": "kWh/yr", "final_dhw": "kWh/yr",
    "final_lighting": "kWh/yr", "final_auxiliary": "kWh/yr", "final_energy": "kWh/yr", "primary_energy": "kWh/yr",
    "ep_m2": "kWh/m2/yr", "ghg": "kgCO2e/yr", "ghg_m2": "kgCO2e/m2/yr", "cost": "EUR/yr",
    "overheating_hours": "h", "mean_air_temperature": "degC", "dt_reference": "kWh/yr", "dt_target_2030": "kWh/yr",
    "dt_target_2040": "kWh/yr", "dt_target_2050": "kWh/yr", "dt_gap_2030": "kWh/yr", "dt_gap_2040": "kWh/yr",
    "dt_gap_2050": "kWh/yr", "dt_reduction": "1", "pv_area": "m2", "pv_potential": "kWh/yr",
    "facade_area": "m2", "party_area": "m2", "window_area": "m2", "opaque_wall_area": "m2", "roof_area": "m2",
    "ground_area": "m2", "h_transmission": "W/K", "h_ventilation": "W/K",
}


@dataclass(frozen=True)
class EnergyParameters:
    """Parameters of the energy model; every value here is recorded in the result's meta.

    Attributes
    ----------
    n_orientations : int
        Facade azimuth bins (8: N, NE, E... ).
    party_tolerance : float
        Gap under which footprints touch [m].
    storey_range : tuple
        Plausible storey heights [m]; floors outside contradict the height.
    min_area : float
        Smallest simulated footprint [m2].
    default_use, default_period : str
        Assumed when unknown (counted in the report).
    net_floor_ratio : float
        Conditioned (net, "surface habitable"-like) floor area / gross floor area [1] (check).
    coupling : str
        A key of :data:`COUPLINGS` (``"ua"`` honours sum(U A) exactly; ``"iso13790"`` is the standard's network).
    transposition : str
        A key of :data:`simulation.energy.solar.TRANSPOSITION_MODELS`.
    albedo : float
        Ground reflectance [1].
    frame_fraction : float
        Frame area fraction of windows, F_F [1] (ISO 13790 11.4.5).
    glazing_correction : float
        F_w, correction of g for non-normal incidence [1] (ISO 13790 11.4.2: 0.9).
    opaque_absorptance : float
        Solar absorptance of opaque surfaces [1] (ISO 13790 11.4.6: 0.6 default).
    external_surface_resistance : float
        R_se [m2 K W-1] (EN ISO 6946: 0.04).
    sky_temperature_difference : float
        Delta theta_er, outdoor air minus sky temperature [K] (ISO 13790 11.4.6: 11 K in mid-latitudes).
    emissivity : float
        Thermal emissivity of external surfaces [1].
    opaque_solar : bool
        Count solar gains and sky losses of opaque elements (ISO 13790 11.3); False keeps windows only.
    b_unconditioned : float
        ISO 13789 b-factor of walls shared with unconditioned buildings [1] (check).
    ground_temperature : float or "mean"
        Temperature under the ground floor [degC]; "mean" is the mean air temperature of the weather.
    overheating_threshold : float
        Operative temperature above which an occupied hour is overheated [degC].
    warmup_hours : int
        Leading hours replayed before the recorded run, so the mass starts in a realistic state.
    heating_capacity : float
        Heating power per m2 of conditioned floor [W m-2] (inf: unlimited, an ideal system).
    cooling : str
        ``"archetype"`` (cooling where the use has a cooling set-point), ``"none"``, or ``"all"``
        (every conditioned building cooled at ``cooling_setpoint``).
    cooling_setpoint : float
        Used with ``cooling = "all"`` [degC].
    label_year : int
        Year whose conversion factors apply (electricity PEF 1.9 from 2026, check).
    climate_zone : str
        French climate zone (H1a..H3); selects the high-altitude DPE scale above 800 m.
    pv_efficiency, pv_performance_ratio, pv_usable_fraction : float
        Module efficiency, system performance ratio and share of the roof area usable [1].
    pv_flat_tilt : float
        Tilt of modules on flat roofs, facing south [degree].
    max_gap_hours : int
        Longest weather gap interpolated [h].
    shading : bool
        Shade facades and roofs with the shared shadow engine (needs the ``surface`` layer).
    shading_spacing : float
        Distance between facade sample points along an edge [m].
    sky_azimuths : int
        Azimuth sectors of the sky partition used for shading.
    tree_transmissivity : float
        Share of the direct beam crossing a tree crown [1] (0.03 in leaf; leafless crowns, ~0.5, are not modelled).
    window_opening_ach : float
        Extra air change [h-1] when occupants open windows: in an occupied hour of a building without
        cooling, when the air was above ``window_opening_temperature`` [degC] the hour before and the
        outdoor air is cooler (0: never) (check).
    blinds_transmission : float
        Share of the window solar gains kept when blinds or shutters are closed, F_sh,with (ISO 13790
        11.4.3; 0.3 for external shutters, check); closed when the air was above ``blinds_temperature``
        [degC] the hour before and the irradiance on the facade exceeds ``blinds_irradiance`` [W m-2]
        (1: no blinds).
    """

    n_orientations: int = 8
    party_tolerance: float = 0.3
    storey_range: tuple = (2.0, 5.0)
    min_area: float = 1.0
    default_use: str = "housing"
    default_period: str = "1948_1974"
    net_floor_ratio: float = 0.82
    coupling: str = "ua"
    transposition: str = "haydavies"
    albedo: float = 0.2
    frame_fraction: float = 0.25
    glazing_correction: float = 0.9
    opaque_absorptance: float = 0.6
    external_surface_resistance: float = 0.04
    sky_temperature_difference: float = 11.0
    emissivity: float = 0.9
    opaque_solar: bool = True
    b_unconditioned: float = 0.8
    ground_temperature: float | str = "mean"
    overheating_threshold: float = 28.0
    warmup_hours: int = 168
    heating_capacity: float = math.inf
    cooling: str = "archetype"
    cooling_setpoint: float = 26.0
    label_year: int = 2026
    climate_zone: str = "H1c"
    pv_efficiency: float = 0.20
    pv_performance_ratio: float = 0.80
    pv_usable_fraction: float = 0.6
    pv_flat_tilt: float = 10.0
    max_gap_hours: int = 3
    shading: bool = True
    shading_spacing: float = 5.0
    sky_azimuths: int = 24
    tree_transmissivity: float = 0.03
    window_opening_ach: float = 3.0
    window_opening_temperature: float = 25.0
    blinds_transmission: float = 0.3
    blinds_temperature: float = 24.0
    blinds_irradiance: float = 300.0

    def __post_init__(self):
        if int(self.n_orientations) != self.n_orientations or self.n_orientations < 4:
            raise TwinValueError(f"invalid n_orientations: {self.n_orientations!r} (an integer >= 4)")
        require_positive(self.party_tolerance, name="party_tolerance")
        require_range(self.net_floor_ratio, 0.3, 1.0, name="net_floor_ratio")
        if self.coupling not in COUPLINGS:
            raise TwinValueError(f"invalid coupling: {self.coupling!r}; expected one of {', '.join(COUPLINGS)}")
        if self.transposition not in TRANSPOSITION_MODELS:
            raise TwinValueError(f"invalid transposition: {self.transposition!r}; expected one of "
                                 f"{', '.join(TRANSPOSITION_MODELS)}")
        for name in ("albedo", "frame_fraction", "glazing_correction", "opaque_absorptance", "emissivity",
                     "b_unconditioned", "pv_efficiency", "pv_performance_ratio", "pv_usable_fraction"):
            require_range(getattr(self, name), 0.0, 1.0, name=name)
        require_nonnegative(self.external_surface_resistance, name="external_surface_resistance")
        require_nonnegative(self.sky_temperature_difference, name="sky_temperature_difference")
        if self.ground_temperature != "mean":
            require_range(self.ground_temperature, -30.0, 40.0, name="ground_temperature")
        require_range(self.overheating_threshold, 0.0, 60.0, name="overheating_threshold")
        if int(self.warmup_hours) != self.warmup_hours or self.warmup_hours < 0:
            raise TwinValueError(f"invalid warmup_hours: {self.warmup_hours!r} (an integer >= 0)")
        if not self.heating_capacity > 0:
            raise TwinValueError(f"invalid heating_capacity: {self.heating_capacity!r} (must be > 0 W/m2, or inf)")
        if self.cooling not in ("archetype", "none", "all"):
            raise TwinValueError(f"invalid cooling: {self.cooling!r}; expected archetype, none or all")
        require_range(self.cooling_setpoint, 10.0, 40.0, name="cooling_setpoint")
        require_range(self.pv_flat_tilt, 0.0, 60.0, name="pv_flat_tilt")
        require_positive(self.shading_spacing, name="shading_spacing")
        require_range(self.tree_transmissivity, 0.0, 1.0, name="tree_transmissivity")
        require_nonnegative(self.window_opening_ach, name="window_opening_ach")
        require_range(self.window_opening_temperature, 10.0, 40.0, name="window_opening_temperature")
        require_range(self.blinds_transmission, 0.0, 1.0, name="blinds_transmission")
        require_range(self.blinds_temperature, 10.0, 40.0, name="blinds_temperature")
        require_nonnegative(self.blinds_irradiance, name="blinds_irradiance")
        lo, hi = self.storey_range
        if not 0 < lo < hi:
            raise TwinValueError(f"invalid storey_range: {self.storey_range!r}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["storey_range"] = list(self.storey_range)
        d["heating_capacity"] = None if math.isinf(self.heating_capacity) else self.heating_capacity
        return d


@dataclass
class EnergyResult:
    """What :meth:`EnergyModel.run` returns.

    Attributes
    ----------
    buildings : DataFrame
        One row per building (indexed by id), columns with units in :data:`RESULT_UNITS` (also in
        ``buildings.attrs["units"]``).
    monthly_heating, monthly_cooling : DataFrame
        Needs per building (rows) and month (columns 1..12) [kWh].
    hourly : DataFrame
        District heating and cooling loads per hour [kW], indexed by time.
    district : dict
        District totals, JSON-ready.
    report : dict
        Defaults applied and data problems, counted.
    meta : dict
        Parameters, references, timings.
    trace : ndarray or None
        Hourly node temperatures and flows of the first buildings (``trace=n`` in :meth:`EnergyModel.run`),
        columns :data:`simulation.energy._kernels.TRACE_COLUMNS`.
    """

    buildings: pd.DataFrame
    monthly_heating: pd.DataFrame
    monthly_cooling: pd.DataFrame
    hourly: pd.DataFrame
    district: dict
    report: dict
    meta: dict
    trace: np.ndarray | None = None
    network: np.ndarray | None = field(default=None, repr=False)
    geometry: BuildingGeometry | None = field(default=None, repr=False)


def building_network(geometry: BuildingGeometry, params: pd.DataFrame, parameters: EnergyParameters):
    """The 5R1C network of each building (ISO 13790 7-12) and its solar apertures.

    Parameters
    ----------
    geometry : BuildingGeometry
    params : DataFrame
        Per-building parameters (:func:`~simulation.energy.archetypes.resolve_buildings`), same order.
    parameters : EnergyParameters

    Returns
    -------
    records : ndarray of :data:`~simulation.energy._kernels.BUILDING_DTYPE`
    apertures : ndarray, shape (n, K)
        Solar aperture per facade bin [m2]: windows ``A_w g F_w (1 - F_F)`` plus opaque walls
        ``alpha R_se U A`` (ISO 13790 11.3.4).
    extra : DataFrame
        ``floor_area`` A_f [m2], ``window_area`` [m2], ``h_transmission`` sum(U A) [W K-1] (ground and
        unconditioned walls included), ``h_ventilation`` [W K-1] (infiltration + ventilation when on),
        ``a_t`` [m2], ``at_guard`` (A_t raised to the envelope area).
    profiles : list of str
        Schedule profiles, in the order of the records' ``profile`` index.
    windows : ndarray, shape (n, K)
        The windows' part of the apertures [m2].
    """
    p = parameters
    t = geometry.table
    n = len(t)
    a_f = t["gross_floor_area"].to_numpy() * p.net_floor_ratio
    fac = geometry.facades
    unc = geometry.unconditioned_facades
    glz = params["glazing_ratio"].to_numpy(dtype=float)[:, None]
    win = fac * glz
    opq = fac - win
    u_wall = params["u_wall"].to_numpy(dtype=float)
    u_roof = params["u_roof"].to_numpy(dtype=float)
    u_floor = params["u_floor"].to_numpy(dtype=float)
    u_win = params["u_window"].to_numpy(dtype=float)
    g_win = params["g_window"].to_numpy(dtype=float)
    roof = t["roof_loss_area"].to_numpy()
    ground = t["ground_area"].to_numpy()
    h_w = u_win * win.sum(axis=1)
    h_ground = u_floor * ground
    h_op = u_wall * (opq.sum(axis=1) + p.b_unconditioned * unc.sum(axis=1)) + u_roof * roof + h_ground
    masses = params["thermal_mass"].astype(str).to_numpy()
    am_ratio = np.array([MASS_CLASSES[m][0] for m in masses])
    cm_ratio = np.array([MASS_CLASSES[m][1] for m in masses])
    a_m = am_ratio * a_f
    c_m = cm_ratio * a_f
    a_env = fac.sum(axis=1) + unc.sum(axis=1) + t["party_area"].to_numpy() + roof + ground
    a_t = np.maximum(LAMBDA_AT * a_f, a_env)
    at_guard = a_env > LAMBDA_AT * a_f
    h_is = H_IS * a_t
    h_ms = H_MS * a_m
    valid = t["valid"].to_numpy() & params["conditioned"].to_numpy(dtype=bool) & (a_f > 0)
    safe = np.where(valid, 1.0, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        h_tr_w, h_tr_em = COUPLINGS[p.coupling](h_op=h_op * safe, h_w=h_w * safe, h_is=h_is * safe, h_ms=h_ms * safe)
    bad = valid & ~(np.isfinite(h_tr_em) & (h_tr_em > 0) & np.isfinite(h_tr_w))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise TwinValueError(f"building {int(t.index[i])}: the envelope conductance ({h_op[i] + h_w[i]:.0f} W/K) "
                             f"is too large for its floor area ({a_f[i]:.0f} m2) in the 5R1C network")
    storey = params["storey_height"].to_numpy(dtype=float)
    volume = a_f * storey
    rho_c = AIR_HEAT_CAPACITY / constants.hour
    h_inf = rho_c * params["infiltration_ach"].to_numpy(dtype=float) * volume
    h_mech = (rho_c * params["ventilation"].to_numpy(dtype=float) * a_f
              * (1.0 - params["heat_recovery"].to_numpy(dtype=float)))
    # solar apertures (ISO 13790 11.3.4) and sky radiation (11.3.5, 11.4.6)
    f_sh_win = g_win * p.glazing_correction * (1.0 - p.frame_fraction)
    ap = win * f_sh_win[:, None]
    ap_win = ap.copy()
    r_se = p.external_surface_resistance
    h_r = 4.0 * p.emissivity * constants.sigma * (constants.zero_Celsius + 10.0) ** 3
    if p.opaque_solar:
        ap = ap + p.opaque_absorptance * r_se * u_wall[:, None] * opq
        ap_roof = p.opaque_absorptance * r_se * u_roof * roof
        phi_sky = r_se * h_r * p.sky_temperature_difference * (
            0.5 * (u_wall * opq.sum(axis=1) + u_win * win.sum(axis=1)) + 1.0 * u_roof * roof)
    else:
        ap_roof = np.zeros(n)
        phi_sky = np.zeros(n)
    th_on = params["heating_setpoint"].to_numpy(dtype=float)
    th_off = params["heating_setback"].to_numpy(dtype=float)
    tc = params["cooling_setpoint"].to_numpy(dtype=float)
    if p.cooling == "none":
        tc = np.full(n, np.inf)
    elif p.cooling == "all":
        tc = np.full(n, float(p.cooling_setpoint))
    tc = np.where(np.isfinite(tc), tc, np.inf)
    profiles = sorted(set(params["profile"].astype(str)))
    rec = np.zeros(n, dtype=_kernels.BUILDING_DTYPE)
    rec["h_inf"] = np.where(valid, h_inf, 0.0)
    rec["h_mech"] = np.where(valid, h_mech, 0.0)
    rec["h_tr_w"] = np.where(valid, h_tr_w, 0.0)
    rec["h_tr_em"] = np.where(valid, h_tr_em, 0.0)
    rec["h_tr_is"] = np.where(valid, h_is, 1.0)
    rec["h_tr_ms"] = np.where(valid, h_ms, 1.0)
    rec["c_m"] = np.where(valid, c_m, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rec["f_m"] = np.where(valid, a_m / a_t, 0.0)
        rec["f_st"] = np.where(valid, 1.0 - a_m / a_t - h_tr_w / (H_MS * a_t), 0.0)
        rec["w_g"] = np.where(valid & (h_op > 0), h_ground / h_op, 0.0)
    rec["gains"] = np.where(valid, params["internal_gains"].to_numpy(dtype=float) * a_f, 0.0)
    rec["th_on"] = np.where(valid, th_on, 0.0)
    rec["th_off"] = np.where(valid, th_off, 0.0)
    rec["tc"] = tc
    rec["phi_h_max"] = p.heating_capacity * a_f if math.isfinite(p.heating_capacity) else np.inf
    rec["phi_c_max"] = np.inf
    rec["ap_roof"] = np.where(valid, ap_roof, 0.0)
    rec["phi_sky"] = np.where(valid, phi_sky, 0.0)
    rec["theta_m0"] = np.where(valid, th_on, 20.0)
    rec["floor_area"] = np.where(valid, a_f, 0.0)
    rec["profile"] = pd.Categorical(params["profile"].astype(str), categories=profiles).codes
    closed_u, closed_inv = np.unique(params["closed_months"].astype(str).to_numpy(), return_inverse=True)
    rec["closed"] = closed_mask(closed_u)[closed_inv.ravel()]
    rec["vent_cont"] = (params["ventilation_schedule"].astype(str).to_numpy() == "continuous").astype(np.int32)
    rec["active"] = valid.astype(np.int32)
    rec["h_win"] = np.where(valid, rho_c * p.window_opening_ach * volume, 0.0)
    rec["blind_cut"] = 1.0 - p.blinds_transmission
    no_air = valid & ~(rec["h_inf"] > 0)
    if no_air.any():
        i = int(np.flatnonzero(no_air)[0])
        raise TwinValueError(f"building {int(t.index[i])}: infiltration_ach must be > 0 (the 5R1C network needs an "
                             f"air change at every hour)")
    apertures = np.where(valid[:, None], ap, 0.0)
    windows = np.where(valid[:, None], ap_win, 0.0)
    extra = pd.DataFrame({
        "floor_area": np.where(t["valid"].to_numpy(), a_f, 0.0),
        "window_area": win.sum(axis=1),
        "h_transmission": np.where(valid, h_op + h_w, np.nan),
        "h_ventilation": np.where(valid, h_inf + h_mech, np.nan),
        "a_t": a_t,
        "at_guard": at_guard & valid,
    }, index=t.index)
    return rec, np.ascontiguousarray(apertures), extra, profiles, np.ascontiguousarray(windows)


class EnergyModel(Model):
    """Hourly energy needs of every building of a twin (ISO 13790 5R1C), with labels and targets.

    Parameters
    ----------
    twin : Twin
        Needs the ``buildings`` table; ``building_surfaces`` (LoD2 roofs) is used when present and the
        ``surface`` layer (terrain + buildings + canopy) for shading.
    weather : DataFrame
        Hourly weather (:mod:`twin.weather`), a year or a shorter period (a heatwave).
    parameters : EnergyParameters, optional
    building_data : path or DataFrame, optional
        The buildings' own data (see :func:`~simulation.energy.archetypes.read_building_data`).
    archetypes : path or DataFrame, optional
        Overrides of the archetype table (see :func:`~simulation.energy.archetypes.archetype_table`).
    prices : dict, optional
        Energy prices by carrier [EUR kWh-1] replacing those of ``factors.csv``.

    Examples
    --------
    >>> res = EnergyModel(twin, weather=weather).run()            # doctest: +SKIP
    >>> res.buildings[["heating_need_m2", "dpe_class"]].head()  # doctest: +SKIP
    """

    fields: ClassVar[tuple[Field, ...]] = (
        Field("surface", "in", "m", optional=True, doc="terrain + buildings + canopy: shades facades and roofs"),
        Field("terrain", "in", "m", optional=True, doc="ground altitude under the facade points; smooth ground for rays"),
        Field("canopy_height", "in", "m", optional=True, doc="tree crowns let the tree transmissivity through"),
        Field("building_id", "in", "1", dtype="int32", optional=True,
              doc="buildings in the surface (shading needs them) and the cells the result layers are painted on"),
    )
    #: Table columns the model reads (``retrofit_<parameter>`` columns of the buildings table too).
    table_columns: ClassVar[dict[str, tuple[str, ...]]] = {
        "buildings": ("id", "geometry", "height", "floors", "use", "year", "roof_height", "ground_z", "dwellings"),
        "building_surfaces": ("building_id", "surface", "area", "slope", "azimuth", "geometry"),
    }
    references: ClassVar[tuple[str, ...]] = (
        "ISO 13790:2008, Annex C, the 5R1C hourly method",
        "ISO 13789:2017, transmission heat transfer coefficients (b-factor of unheated spaces)",
        "Hay & Davies (1980), circumsolar and isotropic diffuse on inclined surfaces",
        "Arrêté of 31 March 2021 (DPE 3CL-2021): labels, conversion factors",
        "Décret 2019-771 (décret tertiaire)",
    )

    def __init__(self, twin: Twin, *, weather: pd.DataFrame, parameters: EnergyParameters | None = None,
                 building_data=None, archetypes=None, prices: dict | None = None):
        super().__init__(twin)
        carriers = set(load_table("factors")["carrier"])
        self.prices = {}
        for key, value in (prices or {}).items():
            if key not in carriers:
                raise TwinValueError(f"prices: unknown carrier {key!r}; expected one of {', '.join(sorted(carriers))}")
            self.prices[key] = require_nonnegative(value, name=f"price of {key}")
        self.parameters = parameters if parameters is not None else EnergyParameters()
        if not isinstance(self.parameters, EnergyParameters):
            raise TwinValueError("parameters must be an EnergyParameters")
        self.weather = weather
        self.building_data = building_data
        from simulation.energy.archetypes import archetype_table

        self.archetypes = archetype_table(archetypes)
        self._forcing: Forcing | None = None

    @property
    def forcing(self) -> Forcing:
        if self._forcing is None:
            self._forcing = prepare_forcing(self.weather, max_gap_hours=self.parameters.max_gap_hours)
        return self._forcing

    def run(self, *, use_retrofit: bool = True, ids=None, trace: int = 0, reference_final_energy=None) -> EnergyResult:
        """Simulate the buildings and summarise.

        Parameters
        ----------
        use_retrofit : bool
            Apply the buildings table's ``retrofit_*`` columns (False: the state before interventions).
        ids : array_like, optional
            Simulate only these building ids (the others still shade and share walls).
        trace : int
            Keep the hourly node temperatures and flows of the first ``trace`` simulated buildings.
        reference_final_energy : Series, optional
            Décret tertiaire reference [kWh yr-1] by building id (default: the building data's
            ``reference_final_energy``, else this run's final energy).

        Returns
        -------
        EnergyResult
        """
        p = self.parameters
        timings = {}
        t0 = time.perf_counter()
        forcing = self.forcing
        buildings = self.twin.buildings
        if len(buildings) == 0:
            raise TwinValueError("the twin has no buildings")
        resolved = resolve_buildings(buildings, archetypes=self.archetypes, building_data=self.building_data,
                                     default_use=p.default_use, default_period=p.default_period,
                                     use_retrofit=use_retrofit)
        params = resolved.params
        timings["archetypes"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        b = buildings
        if "data_floors" in params or "data_height" in params:
            b = buildings.copy()
            for col in ("floors", "height"):
                if f"data_{col}" in params:
                    v = params[f"data_{col}"].to_numpy(dtype=float)
                    b[col] = np.where(np.isfinite(v), v, b[col].to_numpy(dtype=float))
        roof_type = params["roof_type"].astype(str).to_numpy()
        geom = building_geometry(
            b, storey_height=params["storey_height"].to_numpy(dtype=float),
            conditioned=params["conditioned"].to_numpy(dtype=bool),
            surfaces=self.twin.tables.get("building_surfaces"), roof_type=roof_type,
            roof_pitch=params["roof_pitch"].to_numpy(dtype=float), n_orientations=p.n_orientations,
            party_tolerance=p.party_tolerance, storey_range=p.storey_range, min_area=p.min_area)
        timings["geometry"] = time.perf_counter() - t1
        sel = np.ones(len(b), dtype=bool) if ids is None else np.isin(b["id"].to_numpy(), np.asarray(ids))
        t2 = time.perf_counter()
        rec, apertures, extra, profiles, windows = building_network(geom, params, p)
        rec["active"] &= sel.astype(np.int32)
        timings["network"] = time.perf_counter() - t2
        t3 = time.perf_counter()
        kern_in, shade_meta = self._solar_inputs(geom, rec, forcing)
        timings["solar_and_shading"] = time.perf_counter() - t3
        occ, com = schedule_arrays(forcing.times, profiles)
        t4 = time.perf_counter()
        out = run_kernel(rec, apertures, windows=windows, occ=occ, comfort=com, trace=trace,
                         warmup=min(p.warmup_hours, len(forcing)), **behaviour(p), **kern_in)
        timings["kernel"] = time.perf_counter() - t4
        n_active = int(rec["active"].sum())
        timings["building_hours_per_second"] = (n_active * (len(forcing) + min(p.warmup_hours, len(forcing)))
                                                / max(timings["kernel"], 1e-9))
        t5 = time.perf_counter()
        result = _summarise(self, buildings, params, geom, extra, out, forcing, rec, reference_final_energy)
        timings["summary"] = time.perf_counter() - t5
        timings["total"] = time.perf_counter() - t0
        report = {"archetypes": resolved.report, "geometry": geom.report, "weather": forcing.report,
                  "not_conditioned": int((~params["conditioned"].to_numpy(dtype=bool)).sum()),
                  "at_raised_to_envelope": int(extra["at_guard"].sum()), "simulated": n_active}
        meta = {"model": "ISO 13790 5R1C hourly (jumeau simulation.energy)", "references": list(self.references),
                "parameters": p.to_dict(), "shading": shade_meta, "timings": timings, "threads": numba.get_num_threads(),
                "period": [str(forcing.times[0]), str(forcing.times[-1])], "hours": len(forcing),
                "ground_temperature": float(kern_in["hours"]["theta_g"][0]) if len(forcing) else None}
        result.report = report
        result.meta = meta
        result.trace = out["trace"] if trace else None
        result.network = rec
        result.geometry = geom
        return result

    # -- solar inputs ----------------------------------------------------------------------------------
    def _solar_inputs(self, geom: BuildingGeometry, rec, forcing: Forcing):
        p = self.parameters
        n = len(rec)
        k = p.n_orientations
        beam, diffuse, beam_h, diff_h = facade_irradiance(
            azimuths=geom.azimuths, sun_azimuth=forcing.sun_azimuth, sun_altitude=forcing.sun_altitude,
            dni=forcing.dni, dhi=forcing.dhi, ghi=forcing.ghi, dni_extra=forcing.dni_extra, albedo=p.albedo,
            model=p.transposition)
        hours = np.zeros(len(forcing), dtype=_kernels.HOUR_DTYPE)
        hours["theta_e"] = forcing.theta_e
        tg = float(np.mean(forcing.theta_e)) if p.ground_temperature == "mean" else float(p.ground_temperature)
        hours["theta_g"] = tg
        hours["beam_roof"] = beam_h
        hours["diff_roof"] = diff_h
        hours["month"] = forcing.month
        sky = sky_directions(n_azimuth=p.sky_azimuths)
        sun_cell = sky.index(forcing.sun_azimuth, forcing.sun_altitude)
        shade_meta: dict = {"enabled": False}
        shading = None
        no_buildings_in_dsm = ("building_id" in self.twin and len(geom.table)
                               and not np.any(self.twin.array("building_id") > 0))
        if p.shading and "surface" in self.twin and no_buildings_in_dsm:
            shade_meta = {"enabled": False, "reason": "the surface layer holds no building (building_id is empty): "
                                                      "rasterize the buildings to shade them"}
        elif p.shading and "surface" in self.twin:
            from simulation.energy import shading as _shading

            if _shading.shading_available():
                shading = _shading.shading_factors(
                    self.twin, geom, sky, sun_cell, sun_azimuth=forcing.sun_azimuth, sun_altitude=forcing.sun_altitude,
                    active=rec["active"].astype(bool), spacing=p.shading_spacing,
                    transmissivity=p.tree_transmissivity)
                shade_meta = shading.meta
            else:
                shade_meta = {"enabled": False, "reason": "the shared shadow engine (simulation.shadows) is missing"}
        elif p.shading:
            shade_meta = {"enabled": False, "reason": "the twin has no 'surface' layer"}
        else:
            shade_meta = {"enabled": False, "reason": "shading = false"}
        if shading is None:
            used = np.unique(sun_cell[sun_cell >= 0])
            sun = np.where(sun_cell >= 0, 0, -1).astype(np.int32)
            shade = np.ones((n, 1, k), dtype=np.float32)
            sky_f = np.ones((n, k), dtype=np.float32)
            shade_roof = np.ones((n, 1), dtype=np.float32)
            sky_roof = np.ones(n, dtype=np.float32)
            n_planes = len(geom.roof_planes)
            plane_beam = np.ones((n_planes, 1), dtype=np.float32)
            plane_sky = np.ones(n_planes, dtype=np.float32)
            shade_meta["sun_cells"] = len(used)
        else:
            sun, shade, sky_f, shade_roof, sky_roof = (shading.sun_index, shading.facade_beam, shading.facade_sky,
                                                       shading.roof_beam, shading.roof_sky)
            plane_beam, plane_sky = shading.plane_beam, shading.plane_sky
        hours["sun"] = sun
        self._last_solar = {"beam": beam, "diffuse": diffuse, "beam_h": beam_h, "diff_h": diff_h, "sun": sun,
                            "plane_beam": plane_beam, "plane_sky": plane_sky}
        return ({"hours": hours, "beam": beam, "diffuse": diffuse, "shade": shade, "sky": sky_f,
                 "shade_roof": shade_roof, "sky_roof": sky_roof}, shade_meta)


def behaviour(p: EnergyParameters) -> dict:
    """The kernel's keyword thresholds from the parameters."""
    return {"overheat_threshold": p.overheating_threshold, "window_open_above": p.window_opening_temperature,
            "blinds_above": p.blinds_temperature, "blinds_irradiance": p.blinds_irradiance}


def run_kernel(rec, apertures, *, windows, hours, beam, diffuse, shade, sky, shade_roof, sky_roof, occ, comfort,
               warmup, overheat_threshold, window_open_above, blinds_above, blinds_irradiance, trace=0,
               chunk_size=None):
    """Check the shapes, allocate the outputs and run :func:`~simulation.energy._kernels.simulate_5r1c`.

    Raises
    ------
    TwinValueError
        When an array does not match the buildings, the hours or the orientation bins.
    """
    n = len(rec)
    n_t = len(hours)
    n_k = apertures.shape[1] if np.ndim(apertures) == 2 else -1
    n_dir = np.shape(shade)[1] if np.ndim(shade) == 3 else -1
    expected = {"apertures": (n, n_k), "windows": (n, n_k), "beam": (n_t, n_k), "diffuse": (n_t, n_k), "shade": (n, n_dir, n_k),
                "sky": (n, n_k), "shade_roof": (n, n_dir), "sky_roof": (n,), "comfort": np.shape(occ)}
    arrays = {"apertures": apertures, "windows": windows, "beam": beam, "diffuse": diffuse, "shade": shade, "sky": sky,
              "shade_roof": shade_roof, "sky_roof": sky_roof, "comfort": comfort}
    for name, shape in expected.items():
        if np.shape(arrays[name]) != shape:
            raise TwinValueError(f"energy kernel: {name} has shape {np.shape(arrays[name])}, expected {shape}")
    if np.ndim(occ) != 2 or np.shape(occ)[1] != n_t or int(rec["profile"].max(initial=0)) >= np.shape(occ)[0]:
        raise TwinValueError("energy kernel: occupancy must be (n_profiles, n_hours) covering every profile")
    sun = hours["sun"]
    if n_t and (sun.max() >= n_dir or sun.min() < -1):
        raise TwinValueError("energy kernel: a sun-direction index is outside the shading arrays")
    if not 0 <= warmup <= n_t:
        raise TwinValueError(f"energy kernel: warmup {warmup} must be within 0..{n_t}")
    hours = hours.copy()
    hours["lit"] = ((np.asarray(beam) != 0).any(axis=1) | (np.asarray(diffuse) != 0).any(axis=1)).astype(np.int32)
    if chunk_size is None:
        chunk_size = max(1, -(-n // (4 * numba.get_num_threads())))
    n_chunks = max(1, -(-n // chunk_size))
    out = {
        "monthly": np.zeros((n, 12, 2)),
        "peak": np.zeros((n, 2)),
        "overheat": np.zeros(n),
        "hourly": np.zeros((n_chunks, n_t, 2)),
        "mean_air": np.full(n, np.nan),
        "trace": np.full((min(int(trace), n), n_t, len(_kernels.TRACE_COLUMNS)), np.nan),
    }
    _kernels.simulate_5r1c(
        rec, hours, np.ascontiguousarray(beam, dtype=np.float64), np.ascontiguousarray(diffuse, dtype=np.float64),
        np.ascontiguousarray(apertures, dtype=np.float64), np.ascontiguousarray(windows, dtype=np.float64),
        np.ascontiguousarray(shade, dtype=np.float32),
        np.ascontiguousarray(sky, dtype=np.float32), np.ascontiguousarray(shade_roof, dtype=np.float32),
        np.ascontiguousarray(sky_roof, dtype=np.float32), np.ascontiguousarray(occ, dtype=np.float32),
        np.ascontiguousarray(comfort, dtype=np.uint8), dt=float(constants.hour), warmup=int(warmup),
        overheat_threshold=float(overheat_threshold), window_open_above=float(window_open_above),
        blinds_above=float(blinds_above), blinds_irradiance=float(blinds_irradiance), chunk_size=int(chunk_size), out_monthly=out["monthly"],
        out_peak=out["peak"], out_overheat=out["overheat"], out_hourly=out["hourly"], out_mean_air=out["mean_air"],
        trace=out["trace"])
    return out


def _summarise(model: EnergyModel, buildings, params, geom, extra, out, forcing, rec, reference_final_energy):
    p = model.parameters
    ids = geom.table.index
    n = len(ids)
    active = rec["active"].astype(bool)
    cond = params["conditioned"].to_numpy(dtype=bool) & geom.table["valid"].to_numpy()
    a_f = extra["floor_area"].to_numpy()
    monthly = out["monthly"] / 1000.0
    heat = monthly[:, :, 0].sum(axis=1)
    cool = monthly[:, :, 1].sum(axis=1)
    systems = load_table("systems").set_index("system")
    sysname = params["heating_system"].astype(str).to_numpy()
    known = np.isin(sysname, systems.index)
    sysname = np.where(known, sysname, systems.index[0])
    eff = systems.loc[sysname, "efficiency"].to_numpy(dtype=float)
    eff_dhw = systems.loc[sysname, "dhw_efficiency"].to_numpy(dtype=float)
    eer = systems.loc[sysname, "cooling_eer"].to_numpy(dtype=float)
    carrier = systems.loc[sysname, "carrier"].to_numpy(dtype=object)
    factors = conversion_factors(p.label_year).copy()
    for carrier_name, price in model.prices.items():
        factors.loc[carrier_name, "price"] = price
    sim = active
    dhw_need = np.where(sim, params["dhw_need"].to_numpy(dtype=float) * a_f, 0.0)
    f_heat = np.where(sim, heat / eff, 0.0)
    f_dhw = np.where(sim, dhw_need / eff_dhw, 0.0)
    f_cool = np.where(sim, cool / eer, 0.0)
    f_light = np.where(sim, params["lighting"].to_numpy(dtype=float) * a_f, 0.0)
    f_aux = np.where(sim, params["auxiliary"].to_numpy(dtype=float) * a_f, 0.0)
    final = f_heat + f_dhw + f_cool + f_light + f_aux
    fc = factors.reindex(carrier)
    fe = factors.loc["electricity"]
    pef_c = fc["pef"].to_numpy(dtype=float)
    ep = (f_heat + f_dhw) * pef_c + (f_cool + f_light + f_aux) * fe["pef"]
    ghg = (f_heat * fc["co2_heating"].to_numpy(dtype=float) + f_dhw * fc["co2_dhw"].to_numpy(dtype=float)
           + f_cool * fe["co2_cooling"] + f_light * fe["co2_lighting"] + f_aux * fe["co2_auxiliary"])
    cost = (f_heat + f_dhw) * fc["price"].to_numpy(dtype=float) + (f_cool + f_light + f_aux) * fe["price"]
    with np.errstate(divide="ignore", invalid="ignore"):
        ep_m2 = np.where(sim & (a_f > 0), ep / a_f, np.nan)
        ghg_m2 = np.where(sim & (a_f > 0), ghg / a_f, np.nan)
        heat_m2 = np.where(sim & (a_f > 0), heat / a_f, np.nan)
        cool_m2 = np.where(sim & (a_f > 0), cool / a_f, np.nan)
    ground_z = buildings["ground_z"].to_numpy(dtype=float) if "ground_z" in buildings else np.full(n, np.nan)
    high = (ground_z > 800.0) & (p.climate_zone in HIGH_ALTITUDE_ZONES)
    scale = np.where(high, "high_altitude", "standard")
    dpe = dpe_class(ep_m2, ghg_m2, scale=scale)
    use = params["use"].astype(str).to_numpy()
    housing = params["family"].astype(str).to_numpy() == "residential"
    label_kind = np.where(~sim, "", np.where(housing, "DPE", "indicative"))
    dwellings = buildings["dwellings"].to_numpy(dtype=float) if "dwellings" in buildings else np.zeros(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        small = housing & sim & (dwellings > 0) & (a_f / np.where(dwellings > 0, dwellings, 1) < 40.0)
    tertiary = params["tertiary"].to_numpy(dtype=bool)
    gross = geom.table["gross_floor_area"].to_numpy()
    subject = tertiary & sim & (gross >= TERTIARY_AREA_THRESHOLD)
    ref = final.copy()
    if "data_reference_final_energy" in params:
        v = params["data_reference_final_energy"].to_numpy(dtype=float)
        ref = np.where(np.isfinite(v), v, ref)
    if reference_final_energy is not None:
        v = pd.Series(reference_final_energy).reindex(ids).to_numpy(dtype=float)
        ref = np.where(np.isfinite(v), v, ref)
    dt = tertiary_targets(final, ref, subject=subject)
    public = params["public"].to_numpy(dtype=bool)
    if "data_public" in params:
        v = params["data_public"]
        public = np.where(v.notna().to_numpy(), v.fillna(False).astype(bool).to_numpy(), public)
    if "public" in buildings.columns:
        public = buildings["public"].fillna(False).astype(bool).to_numpy()
    pv_area, pv_kwh = _pv_potential(model, geom, forcing)
    df = pd.DataFrame({
        "use": use,
        "period": params["period"].to_numpy(),
        "year": params["year"].to_numpy(),
        "conditioned": cond,
        "simulated": sim,
        "public": public,
        "floor_area": a_f,
        "gross_floor_area": gross,
        "floors": geom.table["floors"].to_numpy(),
        "facade_area": geom.table["facade_area"].to_numpy(),
        "party_area": geom.table["party_area"].to_numpy(),
        "window_area": extra["window_area"].to_numpy(),
        "opaque_wall_area": geom.table["facade_area"].to_numpy() - extra["window_area"].to_numpy(),
        "roof_area": geom.table["roof_loss_area"].to_numpy(),
        "ground_area": geom.table["ground_area"].to_numpy(),
        "h_transmission": extra["h_transmission"].to_numpy(),
        "h_ventilation": extra["h_ventilation"].to_numpy(),
        "heating_need": np.where(sim, heat, np.nan),
        "cooling_need": np.where(sim, cool, np.nan),
        "heating_need_m2": heat_m2,
        "cooling_need_m2": cool_m2,
        "peak_heating": np.where(sim, out["peak"][:, 0] / 1000.0, np.nan),
        "peak_cooling": np.where(sim, out["peak"][:, 1] / 1000.0, np.nan),
        "dhw_need": np.where(sim, dhw_need, np.nan),
        "heating_system": np.where(sim, sysname, ""),
        "carrier": np.where(sim, carrier, ""),
        "final_heating": np.where(sim, f_heat, np.nan),
        "final_cooling": np.where(sim, f_cool, np.nan),
        "final_dhw": np.where(sim, f_dhw, np.nan),
        "final_lighting": np.where(sim, f_light, np.nan),
        "final_auxiliary": np.where(sim, f_aux, np.nan),
        "final_energy": np.where(sim, final, np.nan),
        "primary_energy": np.where(sim, ep, np.nan),
        "ep_m2": ep_m2,
        "ghg": np.where(sim, ghg, np.nan),
        "ghg_m2": ghg_m2,
        "cost": np.where(sim, cost, np.nan),
        "dpe_class": dpe,
        "label_kind": label_kind,
        "small_dwellings": small,
        "overheating_hours": np.where(sim, out["overheat"], np.nan),
        "mean_air_temperature": out["mean_air"],
        "tertiary_subject": subject,
        "dt_reference": np.where(subject, ref, np.nan),
        "dt_target_2030": dt["target_2030"].to_numpy(),
        "dt_target_2040": dt["target_2040"].to_numpy(),
        "dt_target_2050": dt["target_2050"].to_numpy(),
        "dt_gap_2030": dt["gap_2030"].to_numpy(),
        "dt_gap_2040": dt["gap_2040"].to_numpy(),
        "dt_gap_2050": dt["gap_2050"].to_numpy(),
        "dt_reduction": dt["reduction"].to_numpy(),
        "pv_area": pv_area,
        "pv_potential": pv_kwh,
    }, index=ids)
    df.attrs["units"] = {k: v for k, v in RESULT_UNITS.items() if k in df.columns}
    months = list(range(1, 13))
    mh = pd.DataFrame(np.where(sim[:, None], monthly[:, :, 0], np.nan), index=ids, columns=months)
    mc = pd.DataFrame(np.where(sim[:, None], monthly[:, :, 1], np.nan), index=ids, columns=months)
    hourly = pd.DataFrame({"heating_load": out["hourly"][:, :, 0].sum(axis=0) / 1000.0,
                           "cooling_load": out["hourly"][:, :, 1].sum(axis=0) / 1000.0}, index=forcing.times)
    hourly.attrs["units"] = {"heating_load": "kW", "cooling_load": "kW"}
    district = _district(df, hourly)
    return EnergyResult(buildings=df, monthly_heating=mh, monthly_cooling=mc, hourly=hourly, district=district,
                        report={}, meta={})


def _district(df: pd.DataFrame, hourly: pd.DataFrame) -> dict:
    s = df[df["simulated"]]
    counts = s["dpe_class"].value_counts().to_dict()
    return {
        "buildings": len(df),
        "simulated": len(s),
        "floor_area_m2": float(s["floor_area"].sum()),
        "heating_need_kwh": float(s["heating_need"].sum()),
        "cooling_need_kwh": float(s["cooling_need"].sum()),
        "final_energy_kwh": float(s["final_energy"].sum()),
        "primary_energy_kwh": float(s["primary_energy"].sum()),
        "ghg_kg": float(s["ghg"].sum()),
        "cost_eur": float(s["cost"].sum()),
        "peak_heating_kw": float(hourly["heating_load"].max()) if len(hourly) else 0.0,
        "peak_cooling_kw": float(hourly["cooling_load"].max()) if len(hourly) else 0.0,
        "dpe_classes": {k: int(counts.get(k, 0)) for k in ("A", "B", "C", "D", "E", "F", "G")},
        "buildings_f_or_g": int(s["dpe_class"].isin(["F", "G"]).sum()),
        "public_final_energy_kwh": float(s.loc[s["public"], "final_energy"].sum()),
        "overheating_hours_mean": float(s["overheating_hours"].mean()) if len(s) else 0.0,
        "pv_potential_kwh": float(df["pv_potential"].sum()),
        "tertiary_subject": int(s["tertiary_subject"].sum()),
        "tertiary_gap_2030_kwh": float(s.loc[s["tertiary_subject"], "dt_gap_2030"].clip(lower=0).sum()),
    }


def _pv_potential(model: EnergyModel, geom: BuildingGeometry, forcing: Forcing):
    """Rooftop PV potential per building from roof planes, their orientation and their shading.

    Planes facing north of east-west (more than 90 degrees from south) are left out; flat roofs carry
    modules tilted ``pv_flat_tilt`` to the south. Yield = usable area x plane irradiation (beam shaded by
    the building's roof sunlit fractions) x efficiency x performance ratio.
    """
    p = model.parameters
    n = len(geom.table)
    planes = geom.roof_planes
    area = np.zeros(n)
    kwh = np.zeros(n)
    if len(planes) == 0:
        return area, kwh
    solar = model._last_solar
    slope = planes["slope"].to_numpy(dtype=float)
    az = planes["azimuth"].to_numpy(dtype=float)
    flat = slope < 5.0
    tilt = np.where(flat, p.pv_flat_tilt, slope)
    azim = np.where(flat, 180.0, az)
    ok = flat | (np.abs(((azim - 180.0 + 180.0) % 360.0) - 180.0) <= 90.0)
    bld = planes["building"].to_numpy()
    a = planes["area"].to_numpy(dtype=float) * p.pv_usable_fraction * ok
    # plane irradiation by unique rounded orientation (beam part shaded per building below)
    key_t = np.round(tilt / 5.0) * 5.0
    key_a = np.round(azim / 10.0) * 10.0
    keys = np.stack([key_t, key_a], axis=1)
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    inv = inv.ravel()
    sun = solar["sun"]
    plane_beam = solar["plane_beam"]
    plane_sky = solar["plane_sky"]
    up = sun >= 0
    # beam per direction index: sum over hours with the sun in that index
    n_dir = plane_beam.shape[1]
    beam_by_dir = np.zeros((len(uniq), n_dir))
    diff_tot = np.zeros(len(uniq))
    for j, (t, azk) in enumerate(uniq):
        bm, df = plane_irradiance(tilt=t, surface_azimuth=azk, sun_azimuth=forcing.sun_azimuth,
                                  sun_altitude=forcing.sun_altitude, dni=forcing.dni, dhi=forcing.dhi, ghi=forcing.ghi,
                                  dni_extra=forcing.dni_extra, albedo=p.albedo, model=p.transposition)
        beam_by_dir[j] = np.bincount(sun[up], weights=bm[up], minlength=n_dir)[:n_dir]
        diff_tot[j] = df.sum()
    irr = (np.einsum("pd,pd->p", beam_by_dir[inv], plane_beam.astype(float)) + diff_tot[inv] * plane_sky) / 1000.0
    np.add.at(area, bld, a)
    np.add.at(kwh, bld, a * irr * p.pv_efficiency * p.pv_performance_ratio)
    valid = geom.table["valid"].to_numpy()
    return np.where(valid, area, 0.0), np.where(valid, kwh, 0.0)


def simulate_energy(twin: Twin, weather: pd.DataFrame, **kwargs) -> EnergyResult:
    """Shortcut: ``EnergyModel(twin, weather=weather, **kwargs).run()``."""
    run_kw = {k: kwargs.pop(k) for k in ("use_retrofit", "ids", "trace", "reference_final_energy") if k in kwargs}
    return EnergyModel(twin, weather=weather, **kwargs).run(**run_kw)

