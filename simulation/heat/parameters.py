"""Parameters of the heat model: surface properties by land cover, walls, person, trees.

Every value here is a documented default: a run records the parameters it used in its
meta, and a scenario's ``[parameters]`` overrides them (``surfaces.road.albedo = 0.3``).
Values are typical literature figures, not site calibration: see docs/heat.md.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from twin.errors import TwinValueError
from twin.layers import Landcover

__all__ = ["SurfaceProperties", "SURFACE_PROPERTIES", "HeatParameters", "surface_tables"]


@dataclass(frozen=True)
class SurfaceProperties:
    """Radiative and thermal properties of a land-cover class.

    Attributes
    ----------
    albedo : float [1], shortwave reflectance.
    emissivity : float [1], longwave emissivity.
    heat_capacity : float [J m-2 K-1], effective areal heat capacity of the surface layer
        (force-restore, Deardorff 1978, doi:10.1029/JC083iC04p01889).
    restore : float [W m-2 K-1], conductance to the deep (daily mean) temperature.
    evaporation : float [1], share of a positive net radiation spent on evaporation.
    """

    albedo: float
    emissivity: float
    heat_capacity: float
    restore: float
    evaporation: float


#: class -> properties. Albedo/emissivity: Oke et al. (2017) Urban Climates, table 4.2 (typical values);
#: asphalt 0.05-0.20, concrete 0.10-0.35, grass 0.16-0.26, water 0.03-0.10; heat capacities from
#: volumetric heat capacity x an effective daily penetration depth of a few cm.
SURFACE_PROPERTIES: dict[Landcover, SurfaceProperties] = {
    Landcover.UNKNOWN: SurfaceProperties(0.15, 0.95, 1.0e5, 12.0, 0.0),
    Landcover.BUILDING: SurfaceProperties(0.18, 0.90, 3.0e4, 3.0, 0.0),  # roofs: thin, insulated below
    Landcover.ROAD: SurfaceProperties(0.10, 0.95, 1.2e5, 15.0, 0.0),  # asphalt
    Landcover.SIDEWALK: SurfaceProperties(0.20, 0.95, 1.2e5, 15.0, 0.0),  # asphalt or concrete slabs
    Landcover.SQUARE: SurfaceProperties(0.30, 0.95, 1.3e5, 15.0, 0.0),  # light stone paving
    Landcover.PARKING: SurfaceProperties(0.10, 0.95, 1.2e5, 15.0, 0.0),
    Landcover.RAIL: SurfaceProperties(0.15, 0.92, 8.0e4, 10.0, 0.0),
    Landcover.WATER: SurfaceProperties(0.08, 0.98, 4.0e6, 60.0, 0.8),
    Landcover.GRASS: SurfaceProperties(0.22, 0.98, 6.0e4, 8.0, 0.6),  # watered lawn
    Landcover.TREES: SurfaceProperties(0.18, 0.98, 6.0e4, 8.0, 0.5),  # ground under trees
    Landcover.BARE_SOIL: SurfaceProperties(0.20, 0.94, 8.0e4, 10.0, 0.2),
    Landcover.CROPLAND: SurfaceProperties(0.20, 0.98, 6.0e4, 8.0, 0.5),
}


@dataclass
class HeatParameters:
    """Every parameter of the heat model, with its default.

    Attributes
    ----------
    transmissivity : float [1], direct sun let through by a crown (0.03 in leaf, ~0.5 leafless;
        Konarska et al. 2014, doi:10.1007/s00484-013-0745-9).
    trunk_ratio : float [1], trunk height / tree height (0.25, SOLWEIG).
    n_azimuths : int, azimuths of the sky-view factor (64).
    absorption_shortwave : float [1], of the human body (0.70, SOLWEIG).
    absorption_longwave : float [1], emissivity of the human body (0.97).
    posture : str, "standing": angular factors 0.06 up/down, 0.22 sides (Fanger 1970; Höppe 1992).
    wall_albedo, wall_emissivity : float [1] (0.20, 0.90).
    wall_conductance : float [W m-2 K-1], heat loss of a sunlit wall's surface (15).
    wall_lag : float [h], time constant of wall surface temperatures (3).
    wall_sunlit_share : float [1], share of the walls facing the sun that is not shaded (0.5).
    convection_a, convection_b : float, convective conductance h = a + b u10 [W m-2 K-1] (6, 2.5).
    decomposition : str, global -> direct + diffuse model when the forcing lacks them ("reindl").
    ground_view_radius : float [m], radius of the ground a standing person sees from below (2.2 m: about
        80 % of the ground's view factor from 1.1 m); 0 uses the person's own cell only.
    surfaces : dict of class name -> SurfaceProperties (overridable per field).
    """

    transmissivity: float = 0.03
    trunk_ratio: float = 0.25
    n_azimuths: int = 64
    absorption_shortwave: float = 0.70
    absorption_longwave: float = 0.97
    posture: str = "standing"
    wall_albedo: float = 0.20
    wall_emissivity: float = 0.90
    wall_conductance: float = 15.0
    wall_lag: float = 3.0
    wall_sunlit_share: float = 0.5
    convection_a: float = 6.0
    convection_b: float = 2.5
    decomposition: str = "reindl"
    ground_view_radius: float = 2.2
    surfaces: dict = field(default_factory=lambda: {lc.name.lower(): p for lc, p in SURFACE_PROPERTIES.items()})

    #: posture -> (factor up/down, factor for each side)
    POSTURES = {"standing": (0.06, 0.22), "sitting": (0.166666, 0.166666)}

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        def rng(name, lo, hi):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not np.isfinite(v) or not lo <= v <= hi:
                raise TwinValueError(f"invalid heat parameter {name}: {v!r} (must be within {lo:g}..{hi:g})")

        for name in ("transmissivity", "absorption_shortwave", "absorption_longwave", "wall_albedo",
                     "wall_emissivity", "wall_sunlit_share"):
            rng(name, 0.0, 1.0)
        rng("trunk_ratio", 0.0, 0.95)
        rng("wall_conductance", 1.0, 200.0)
        rng("wall_lag", 0.01, 100.0)
        rng("convection_a", 0.0, 100.0)
        rng("convection_b", 0.0, 50.0)
        rng("ground_view_radius", 0.0, 50.0)
        if self.posture not in self.POSTURES:
            raise TwinValueError(f"invalid heat parameter posture: {self.posture!r} (use {', '.join(self.POSTURES)})")
        if int(self.n_azimuths) != self.n_azimuths or self.n_azimuths < 8 or self.n_azimuths % 2:
            raise TwinValueError(f"invalid heat parameter n_azimuths: {self.n_azimuths!r} (an even integer >= 8)")
        for name, p in self.surfaces.items():
            if name.upper() not in Landcover.__members__:
                raise TwinValueError(f"invalid heat parameter surfaces.{name}: unknown land-cover class "
                                     f"(known: {', '.join(m.lower() for m in Landcover.__members__)})")
            for f in ("albedo", "emissivity", "evaporation"):
                v = getattr(p, f)
                if not 0.0 <= v <= 1.0:
                    raise TwinValueError(f"invalid heat parameter surfaces.{name}.{f}: {v!r} (must be within 0..1)")
            if not p.heat_capacity > 0 or not p.restore >= 0:
                raise TwinValueError(f"invalid heat parameter surfaces.{name}: heat_capacity must be > 0, restore >= 0")

    @classmethod
    def from_dict(cls, overrides: dict | None) -> HeatParameters:
        """Defaults with ``overrides`` applied; ``surfaces`` may override single fields of a class.

        Raises
        ------
        TwinValueError
            On an unknown name or a value out of range.
        """
        p = cls()
        overrides = copy.deepcopy(dict(overrides or {}))
        known = {f.name for f in fields(cls)}
        surf = overrides.pop("surfaces", {}) or {}
        for k, v in overrides.items():
            if k not in known:
                raise TwinValueError(f"unknown heat parameter {k!r} (known: {', '.join(sorted(known))})")
            setattr(p, k, v)
        if not isinstance(surf, dict):
            raise TwinValueError("heat parameter surfaces must be a table of land-cover classes")
        for name, vals in surf.items():
            key = str(name).lower()
            if key not in p.surfaces:
                raise TwinValueError(f"invalid heat parameter surfaces.{name}: unknown land-cover class")
            if not isinstance(vals, dict):
                raise TwinValueError(f"heat parameter surfaces.{name} must be a table (e.g. albedo = 0.3)")
            base = asdict(p.surfaces[key])
            for f, v in vals.items():
                if f not in base:
                    raise TwinValueError(f"unknown heat parameter surfaces.{name}.{f} (known: {', '.join(base)})")
                base[f] = float(v)
            p.surfaces[key] = SurfaceProperties(**base)
        p.validate()
        return p

    def to_dict(self) -> dict:
        d = asdict(self)
        d["surfaces"] = {k: asdict(v) for k, v in self.surfaces.items()}
        return d


def surface_tables(params: HeatParameters) -> dict[str, np.ndarray]:
    """Per-class arrays (indexed by land-cover code, 256 long) of every surface property."""
    out = {f: np.zeros(256, np.float64) for f in ("albedo", "emissivity", "heat_capacity", "restore", "evaporation")}
    unknown = params.surfaces["unknown"]
    for f in out:
        out[f][:] = getattr(unknown, f)
    for name, p in params.surfaces.items():
        code = int(Landcover[name.upper()])
        for f in out:
            out[f][code] = getattr(p, f)
    return out
