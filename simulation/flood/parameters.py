"""Documented default parameters of the flood model, one overridable table each.

Every table is keyed by :class:`twin.layers.Landcover`. A model run records the tables
it used (defaults and overrides) in its result's ``meta``, so that no physical default
is applied silently. Values marked *(check)* come from secondary sources or are
typical values that a local study should replace.

References
----------
- Chow, V. T. (1959). *Open-Channel Hydraulics*, McGraw-Hill, Table 5-6 (Manning n).
- Arcement, G. J. & Schneider, V. R. (1989). Guide for selecting Manning's roughness
  coefficients for natural channels and flood plains. USGS Water-Supply Paper 2339.
  https://doi.org/10.3133/wsp2339
- Ball, J. et al. (eds.) (2019). *Australian Rainfall and Runoff*, Book 5 ch. 3: initial
  loss / continuing loss model; urban impervious initial loss 1-1.5 mm.
- USDA NRCS (2009). *National Engineering Handbook* part 630 ch. 7: minimum
  infiltration rates by hydrologic soil group (A > 7.6, B 3.8-7.6, C 1.3-3.8,
  D < 1.3 mm/h).
- Rawls, W. J., Brakensiek, D. L. & Miller, N. (1983). Green-Ampt infiltration parameters
  from soils data. J. Hydraul. Eng. 109(1), 62-70.
  https://doi.org/10.1061/(ASCE)0733-9429(1983)109:1(62) (Green-Ampt parameters by soil
  texture class, from about 5,000 soil horizons).
- Defra/Environment Agency (2006). *Flood Risks to People*, FD2320/TR2, and the 2008
  supplementary note (FD2321/IR1): hazard rating ``HR = d (v + 0.5) + DF``, debris
  factors and hazard classes.
"""

from __future__ import annotations

from collections.abc import Mapping

from twin.errors import TwinValueError
from twin.layers import Landcover

__all__ = [
    "DEBRIS_FACTOR",
    "DEBRIS_THRESHOLDS",
    "GREEN_AMPT_SOIL",
    "HAZARD_CLASSES",
    "INFILTRATION",
    "INFILTRATION_MODELS",
    "SOIL_TEXTURES",
    "MANNING_N",
    "PAVED",
    "merge_table",
]

L = Landcover

#: Manning roughness n [s m-1/3] per land-cover class (Chow 1959 Table 5-6; Arcement &
#: Schneider 1989). Buildings are walls in the model; their value is used only if a
#: caller turns walls off.
MANNING_N: dict[Landcover, float] = {
    L.UNKNOWN: 0.035,  # treated as short grass (check)
    L.BUILDING: 0.015,
    L.ROAD: 0.016,  # asphalt 0.013-0.016
    L.SIDEWALK: 0.016,  # concrete 0.013-0.017
    L.SQUARE: 0.018,  # stone paving, cobbles (check)
    L.PARKING: 0.016,
    L.RAIL: 0.035,  # ballast, gravel (check)
    L.WATER: 0.030,  # clean natural channel 0.025-0.033
    L.GRASS: 0.035,  # short grass 0.025-0.035
    L.TREES: 0.100,  # trees with undergrowth, flood stage below branches 0.08-0.12
    L.BARE_SOIL: 0.025,  # cultivated area, no crop 0.020-0.030
    L.CROPLAND: 0.035,  # mature row crops 0.025-0.045
}

#: Infiltration per land-cover class: (constant rate [mm h-1], initial loss [mm]).
#: Initial loss stands for interception and depression storage (ARR 2019: urban
#: impervious 1-1.5 mm); rates are NRCS minimum infiltration rates of a B/C soil
#: (check: replace with local soil data). Unknown land cover is treated as impervious,
#: the conservative choice for flooding.
INFILTRATION: dict[Landcover, tuple[float, float]] = {
    L.UNKNOWN: (0.0, 1.0),
    L.BUILDING: (0.0, 0.0),  # roof rain is routed (see roof_rain), not infiltrated
    L.ROAD: (0.0, 1.0),
    L.SIDEWALK: (0.0, 1.0),
    L.SQUARE: (0.0, 1.0),
    L.PARKING: (0.0, 1.0),
    L.RAIL: (7.5, 5.0),
    L.WATER: (0.0, 0.0),
    L.GRASS: (7.5, 10.0),
    L.TREES: (10.0, 15.0),
    L.BARE_SOIL: (3.8, 5.0),
    L.CROPLAND: (5.0, 10.0),
}

#: Infiltration models of :class:`~simulation.flood.FloodModel` (``infiltration_model=``); the value says
#: what each does. Both keep the initial loss of :data:`INFILTRATION`.
INFILTRATION_MODELS: dict[str, str] = {
    "constant": "initial loss, then the constant rate of the INFILTRATION table",
    "green_ampt": ("initial loss, then Green-Ampt: capacity K (1 + psi dtheta / F) with F the cumulative "
                   "infiltration (Rawls, Brakensiek & Miller 1983 parameters by soil texture, GREEN_AMPT_SOIL)"),
}

#: Green-Ampt parameters by USDA soil texture class (Rawls, Brakensiek & Miller 1983, class means,
#: as reproduced in Chow, Maidment & Mays 1988 Table 4.3.1): (total porosity [1], effective porosity
#: theta_e [1], wetting-front suction head psi [cm], saturated hydraulic conductivity K [cm h-1]).
SOIL_TEXTURES: dict[str, tuple[float, float, float, float]] = {
    "sand": (0.437, 0.417, 4.95, 11.78),
    "loamy_sand": (0.437, 0.401, 6.13, 2.99),
    "sandy_loam": (0.453, 0.412, 11.01, 1.09),
    "loam": (0.463, 0.434, 8.89, 0.34),
    "silt_loam": (0.501, 0.486, 16.68, 0.65),
    "sandy_clay_loam": (0.398, 0.330, 21.85, 0.15),
    "clay_loam": (0.464, 0.309, 20.88, 0.10),
    "silty_clay_loam": (0.471, 0.432, 27.30, 0.10),
    "sandy_clay": (0.430, 0.321, 23.90, 0.06),
    "silty_clay": (0.479, 0.423, 29.22, 0.05),
    "clay": (0.475, 0.385, 31.63, 0.03),
}

#: Soil texture under each land-cover class for the Green-Ampt model; ``None`` = impervious (no
#: infiltration). Typical urban choices (check: replace with the local soil map): lawns and parks on
#: a loam, woods on a sandy loam, fields on a silt loam, bare ground compacted (sandy clay loam),
#: rail ballast over a loamy sand. Unknown land cover is impervious, the conservative choice.
GREEN_AMPT_SOIL: dict[Landcover, str | None] = {
    L.UNKNOWN: None,
    L.BUILDING: None,
    L.ROAD: None,
    L.SIDEWALK: None,
    L.SQUARE: None,
    L.PARKING: None,
    L.RAIL: "loamy_sand",
    L.WATER: None,
    L.GRASS: "loam",
    L.TREES: "sandy_loam",
    L.BARE_SOIL: "sandy_clay_loam",
    L.CROPLAND: "silt_loam",
}

#: Classes drained by the urban drainage network (the ``drainage`` capacity applies here).
PAVED: tuple[Landcover, ...] = (L.ROAD, L.SIDEWALK, L.SQUARE, L.PARKING)

#: Debris factor DF per land-cover class: (DF when d_mid < d <= d_high, DF when d > d_high
#: or v > v_high); DF = 0 below d_mid. FD2321/IR1 (2008) Table 1: pasture/arable 0 / 0.5,
#: woodland 0.5 / 1, urban 1 / 1 (check).
DEBRIS_FACTOR: dict[Landcover, tuple[float, float]] = {
    L.UNKNOWN: (1.0, 1.0),
    L.BUILDING: (1.0, 1.0),
    L.ROAD: (1.0, 1.0),
    L.SIDEWALK: (1.0, 1.0),
    L.SQUARE: (1.0, 1.0),
    L.PARKING: (1.0, 1.0),
    L.RAIL: (1.0, 1.0),
    L.WATER: (0.0, 0.5),
    L.GRASS: (0.0, 0.5),
    L.TREES: (0.5, 1.0),
    L.BARE_SOIL: (0.0, 0.5),
    L.CROPLAND: (0.0, 0.5),
}

#: Depth and speed thresholds of the debris factor: d_mid [m], d_high [m], v_high [m s-1].
DEBRIS_THRESHOLDS: dict[str, float] = {"d_mid": 0.25, "d_high": 0.75, "v_high": 2.0}

#: FD2320 hazard classes: upper bounds of HR [1] and labels (en, fr). Above the last bound: extreme.
HAZARD_CLASSES: tuple[tuple[float, str, str], ...] = (
    (0.75, "low", "faible"),
    (1.25, "moderate (danger for some)", "modéré (danger pour certains)"),
    (2.0, "significant (danger for most)", "important (danger pour la plupart)"),
    (float("inf"), "extreme (danger for all)", "extrême (danger pour tous)"),
)


def merge_table(default: Mapping, overrides: Mapping | None, *, name: str, arity: int = 1) -> dict:
    """``default`` updated with ``overrides`` (keys: Landcover, its int code or its name).

    Raises
    ------
    TwinValueError
        On an unknown class or a value of the wrong shape or sign.
    """
    out = dict(default)
    for key, value in (overrides or {}).items():
        try:
            if isinstance(key, str):
                cls = Landcover[key.upper()]
            else:
                cls = Landcover(int(key))
        except (KeyError, ValueError):
            raise TwinValueError(f"invalid {name} table key {key!r} (use a twin.layers.Landcover name or code)") from None
        vals = value if isinstance(value, (tuple, list)) else (value,)
        if len(vals) != arity:
            raise TwinValueError(f"invalid {name}[{cls.name}]: {value!r} (expected {arity} number(s))")
        try:
            vals = tuple(float(v) for v in vals)
        except (TypeError, ValueError):
            raise TwinValueError(f"invalid {name}[{cls.name}]: {value!r} (not a number)") from None
        if any(not (v >= 0.0) or v == float("inf") for v in vals):
            raise TwinValueError(f"invalid {name}[{cls.name}]: {value!r} (must be finite and >= 0)")
        out[cls] = vals if arity > 1 else vals[0]
    return out
