"""French building archetypes: what a building is likely made of when the twin only knows its use and age.

The tables ship with the package as commented CSV files in ``simulation/energy/data``
(each value cited, approximate values flagged ``approximate = 1``):

* ``envelope.csv``: U-values, glazing g-value, infiltration, thermal mass class, roof type,
  storey height and usual heating system, by construction period and envelope family
  (residential / tertiary);
* ``uses.csv``: internal gains, occupancy profile, set-points, ventilation, hot water, lighting
  and auxiliaries by use (the vocabulary of :data:`twin.tables.BUILDING_USES`);
* ``glazing.csv``: window-to-facade ratio by use and period;
* ``systems.csv``: heating systems (carrier, seasonal efficiencies);
* ``factors.csv``: primary-energy and CO2 conversion factors and prices per carrier;
* ``schedules.csv``: hourly occupancy and set-point schedules by profile;
* ``retrofit.csv``: retrofit measures, their target values and costs.

:func:`archetype_table` joins the first three into one row per (period, use): the table a
user reads and overrides (``overrides=`` a CSV or DataFrame keyed by ``period`` and ``use``
carrying any subset of the columns). :func:`resolve_buildings` gives every building its
parameters: archetype first, then the building's own data (a CSV keyed by building id with
the same column names, or BDNB-like names, see :data:`BDNB_ALIASES`), then retrofit columns
(``retrofit_<parameter>``) written by interventions. Every default applied (unknown use,
unknown year) is counted in the returned report, never silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from twin.errors import TwinFileNotFoundError, TwinFormatError, TwinValueError
from twin.tables import BUILDING_USES

__all__ = [
    "BDNB_ALIASES",
    "PARAMETERS",
    "PERIODS",
    "PERIOD_BOUNDS",
    "ResolvedBuildings",
    "archetype_table",
    "load_table",
    "period_of",
    "read_building_data",
    "resolve_buildings",
]

#: Construction periods (key, first year, last year), following the French thermal regulations.
PERIOD_BOUNDS: tuple[tuple[str, int, int], ...] = (
    ("before_1948", -10_000, 1947),
    ("1948_1974", 1948, 1974),
    ("1975_1988", 1975, 1988),
    ("1989_2000", 1989, 2000),
    ("2001_2012", 2001, 2012),
    ("after_2012", 2013, 10_000),
)
PERIODS: tuple[str, ...] = tuple(p for p, _, _ in PERIOD_BOUNDS)

#: Per-building parameters (column name -> (dtype kind, units, meaning)). Each can come from the archetype,
#: the building's own data, or a retrofit (``retrofit_<name>`` column of the buildings table).
PARAMETERS: dict[str, tuple[str, str, str]] = {
    "u_wall": ("f", "W m-2 K-1", "U-value of the exposed opaque walls"),
    "u_roof": ("f", "W m-2 K-1", "U-value of the roof (top-floor ceiling)"),
    "u_floor": ("f", "W m-2 K-1", "equivalent U-value of the ground floor to the ground"),
    "u_window": ("f", "W m-2 K-1", "U-value of the windows (frame included)"),
    "g_window": ("f", "1", "total solar energy transmittance of the glazing at normal incidence"),
    "glazing_ratio": ("f", "1", "window area / exposed facade area"),
    "infiltration_ach": ("f", "h-1", "infiltration air change rate"),
    "ventilation": ("f", "m3 h-1 m-2", "hygienic ventilation rate per m2 of conditioned floor"),
    "ventilation_schedule": ("s", "", "continuous or occupancy"),
    "heat_recovery": ("f", "1", "efficiency of heat recovery on the mechanical ventilation"),
    "thermal_mass": ("s", "", "ISO 13790 mass class: very_light, light, medium, heavy, very_heavy"),
    "internal_gains": ("f", "W m-2", "sensible internal gains at full occupancy"),
    "profile": ("s", "", "occupancy and set-point schedule (schedules.csv)"),
    "closed_months": ("s", "", "months with no occupancy, space separated"),
    "heating_setpoint": ("f", "degC", "air set-point when occupied"),
    "heating_setback": ("f", "degC", "air set-point when not occupied"),
    "cooling_setpoint": ("f", "degC", "cooling air set-point (NaN: no cooling system)"),
    "heating_system": ("s", "", "heating and hot-water system (systems.csv)"),
    "dhw_need": ("f", "kWh m-2 yr-1", "domestic hot water need"),
    "lighting": ("f", "kWh m-2 yr-1", "lighting electricity"),
    "auxiliary": ("f", "kWh m-2 yr-1", "auxiliary electricity (fans, pumps)"),
    "storey_height": ("f", "m", "floor-to-floor height"),
    "roof_type": ("s", "", "flat or pitched (when the twin has no roof geometry)"),
    "roof_pitch": ("f", "degree", "roof slope when pitched and not known from the twin"),
    "conditioned": ("b", "1", "whether the building is heated"),
}

#: BDNB-like column names accepted in a building-data CSV, mapped to jumeau names.
BDNB_ALIASES: dict[str, str] = {
    "batiment_groupe_id": "external_id",
    "annee_construction": "year",
    "nb_niveau": "floors",
    "nb_log": "dwellings",
    "hauteur": "height",
    "hauteur_mean": "height",
    "type_energie_chauffage": "carrier",
    "type_generateur_chauffage": "heating_system",
    "u_mur_exterieur": "u_wall",
    "u_plancher_haut": "u_roof",
    "u_plancher_bas": "u_floor",
    "u_baie_vitree": "u_window",
    "conso_reelle_kwh": "reference_final_energy",
}

#: French carrier names (BDNB ``type_energie_chauffage``) -> the system assumed for them.
_CARRIER_SYSTEMS: dict[str, str] = {
    "gaz": "gas_boiler_standard",
    "gas": "gas_boiler_standard",
    "electricite": "electric_joule",
    "électricité": "electric_joule",
    "electricity": "electric_joule",
    "fioul": "fuel_oil_boiler",
    "fuel_oil": "fuel_oil_boiler",
    "bois": "wood_boiler",
    "wood": "wood_boiler",
    "reseau de chaleur": "district_heat",
    "réseau de chaleur": "district_heat",
    "district_heat": "district_heat",
    "pac": "heat_pump_air_water",
    "heat_pump": "heat_pump_air_water",
}

_TABLES = ("envelope", "uses", "glazing", "systems", "factors", "schedules", "retrofit", "climate_normals")


def period_of(year) -> np.ndarray:
    """The construction-period key of each year (``""`` where the year is unknown, i.e. <= 0 or NaN).

    >>> period_of([1900, 1948, 1974, 1975, 2013, 0]).tolist()
    ['before_1948', '1948_1974', '1948_1974', '1975_1988', 'after_2012', '']
    """
    y = np.asarray(year, dtype=np.float64)
    out = np.full(y.shape, "", dtype=object)
    known = np.isfinite(y) & (y > 0)
    for key, lo, hi in PERIOD_BOUNDS:
        out[known & (y >= lo) & (y <= hi)] = key
    return out


@cache
def _read_shipped(name: str) -> pd.DataFrame:
    ref = resources.files("simulation.energy").joinpath("data", f"{name}.csv")
    with resources.as_file(ref) as path:
        return pd.read_csv(path, comment="#", skipinitialspace=True, keep_default_na=True)


def load_table(name: str) -> pd.DataFrame:
    """One of the shipped tables (a copy): envelope, uses, glazing, systems, factors, schedules, retrofit."""
    if name not in _TABLES:
        raise TwinValueError(f"unknown energy table {name!r}; expected one of {', '.join(_TABLES)}")
    return _read_shipped(name).copy()


def _read_csv(path, *, what: str) -> pd.DataFrame:
    p = Path(path)
    if not p.is_file():
        raise TwinFileNotFoundError(f"{p}: {what} file not found")
    try:
        return pd.read_csv(p, comment="#", skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
        raise TwinFormatError(f"{p}: cannot read the {what} CSV ({err})") from err


def archetype_table(overrides=None) -> pd.DataFrame:
    """The archetypes: one row per (period, use), every parameter of :data:`PARAMETERS` plus sources.

    Parameters
    ----------
    overrides : path or DataFrame, optional
        Rows keyed by ``period`` and ``use`` (either may be ``*`` for all) with any subset of the
        parameter columns; their non-missing values replace the shipped ones.

    Returns
    -------
    DataFrame indexed by (period, use).

    Raises
    ------
    TwinValueError
        On an unknown period, use or column in the overrides.
    """
    env = load_table("envelope")
    uses = load_table("uses")
    glz = load_table("glazing").set_index("use")
    rows = []
    for _, u in uses.iterrows():
        for period in PERIODS:
            e = env[(env["period"] == period) & (env["family"] == u["family"])]
            if len(e) != 1:
                raise TwinFormatError(f"envelope.csv: no single row for period {period!r}, family {u['family']!r}")
            e = e.iloc[0]
            row = {"period": period, "use": u["use"]}
            for col in ("u_wall", "u_roof", "u_floor", "u_window", "g_window", "infiltration_ach", "thermal_mass",
                        "roof_type", "roof_pitch", "storey_height", "heating_system"):
                row[col] = e[col]
            for col in ("conditioned", "family", "tertiary", "public", "internal_gains", "profile", "heating_setpoint",
                        "heating_setback", "cooling_setpoint", "ventilation", "ventilation_schedule", "heat_recovery",
                        "dhw_need", "lighting", "auxiliary", "closed_months"):
                row[col] = u[col]
            row["glazing_ratio"] = float(glz.loc[u["use"], period])
            row["source"] = f"envelope: {e['source']}; use: {u['source']}"
            row["approximate"] = bool(e["approximate"]) or bool(u["approximate"])
            rows.append(row)
    table = pd.DataFrame(rows)
    table["closed_months"] = table["closed_months"].fillna("").astype(str)
    for col in ("conditioned", "tertiary", "public"):
        table[col] = table[col].astype(bool)
    table = table.set_index(["period", "use"]).sort_index()
    if overrides is not None:
        table = _apply_overrides(table, overrides)
    return table


def _apply_overrides(table: pd.DataFrame, overrides) -> pd.DataFrame:
    src = str(overrides) if not isinstance(overrides, pd.DataFrame) else "archetype overrides"
    ov = overrides if isinstance(overrides, pd.DataFrame) else _read_csv(overrides, what="archetype overrides")
    for col in ("period", "use"):
        if col not in ov.columns:
            raise TwinValueError(f"{src}: archetype overrides need a {col!r} column")
    allowed = set(PARAMETERS) | {"source", "approximate", "public", "tertiary"}
    bad = [c for c in ov.columns if c not in allowed | {"period", "use"}]
    if bad:
        raise TwinValueError(f"{src}: unknown archetype column {bad[0]!r}; expected some of {', '.join(sorted(allowed))}")
    out = table.copy()
    uses = sorted(set(out.index.get_level_values("use")))
    for i, r in ov.iterrows():
        periods = PERIODS if str(r["period"]) == "*" else (str(r["period"]),)
        us = uses if str(r["use"]) == "*" else (str(r["use"]),)
        for p in periods:
            if p not in PERIODS:
                raise TwinValueError(f"{src}: row {i + 1}: unknown period {p!r}; expected one of {', '.join(PERIODS)}")
            for u in us:
                if u not in uses:
                    raise TwinValueError(f"{src}: row {i + 1}: unknown use {u!r}; expected one of {', '.join(uses)}")
                for c in ov.columns:
                    if c in ("period", "use") or pd.isna(r[c]):
                        continue
                    out.loc[(p, u), c] = r[c]
    return out


def read_building_data(path) -> pd.DataFrame:
    """A building-data CSV (one row per building id) with BDNB-like names mapped to jumeau's.

    The CSV needs a ``building_id`` (or ``id``) column; other recognised columns are the
    parameters of :data:`PARAMETERS`, ``year``, ``floors``, ``use``, ``height``, ``carrier``
    (gas, electricity, fuel_oil, wood, district_heat or their French names), ``public`` and
    ``reference_final_energy`` [kWh yr-1] (the décret tertiaire reference). Unrecognised columns
    are refused, so that a typo is not silently ignored.

    Raises
    ------
    TwinFileNotFoundError, TwinFormatError, TwinValueError
    """
    df = _read_csv(path, what="building data")
    return _normalise_building_data(df, source=str(path))


_DATA_COLUMNS = set(PARAMETERS) | {"year", "floors", "use", "height", "carrier", "public", "reference_final_energy",
                                   "dwellings", "external_id", "name"}


def _normalise_building_data(df: pd.DataFrame, *, source: str) -> pd.DataFrame:
    df = df.rename(columns={k: v for k, v in BDNB_ALIASES.items() if k in df.columns})
    if "building_id" not in df.columns:
        if "id" in df.columns:
            df = df.rename(columns={"id": "building_id"})
        else:
            raise TwinValueError(f"{source}: building data needs a 'building_id' column")
    bad = [c for c in df.columns if c not in _DATA_COLUMNS | {"building_id"}]
    if bad:
        raise TwinValueError(f"{source}: unknown building-data column {bad[0]!r}; expected some of "
                             f"{', '.join(sorted(_DATA_COLUMNS))}")
    if df["building_id"].isna().any():
        raise TwinValueError(f"{source}: building_id has missing values")
    df = df.copy()
    df["building_id"] = df["building_id"].astype(np.int64)
    if df["building_id"].duplicated().any():
        raise TwinValueError(f"{source}: duplicate building_id {int(df.loc[df['building_id'].duplicated(), 'building_id'].iloc[0])}")
    if "carrier" in df.columns:
        sys = []
        for i, c in enumerate(df["carrier"]):
            if pd.isna(c) or str(c).strip() == "":
                sys.append(np.nan)
                continue
            key = str(c).strip().lower()
            if key not in _CARRIER_SYSTEMS:
                raise TwinValueError(f"{source}: row {i + 1}: unknown carrier {c!r}; expected one of "
                                     f"{', '.join(sorted(set(_CARRIER_SYSTEMS)))}")
            sys.append(_CARRIER_SYSTEMS[key])
        carrier_sys = pd.Series(sys, index=df.index)
        if "heating_system" in df.columns:
            df["heating_system"] = df["heating_system"].where(df["heating_system"].notna(), carrier_sys)
        else:
            df["heating_system"] = carrier_sys
        df = df.drop(columns="carrier")
    return df.set_index("building_id")


@dataclass
class ResolvedBuildings:
    """Per-building energy parameters and the record of how they were obtained.

    Attributes
    ----------
    params : DataFrame
        Indexed by building id: ``use``, ``year``, ``period`` (after defaults) and every column of
        :data:`PARAMETERS`, plus ``family``, ``tertiary``, ``public``, ``source`` flags.
    report : dict
        Counts of defaults applied (``unknown_use``, ``unknown_year``), overrides taken from the
        building data and from retrofits, and warnings, JSON-ready.
    """

    params: pd.DataFrame
    report: dict = field(default_factory=dict)


def resolve_buildings(buildings: pd.DataFrame, *, archetypes: pd.DataFrame | None = None, building_data=None,
                      default_use: str = "housing", default_period: str = "1948_1974",
                      use_retrofit: bool = True) -> ResolvedBuildings:
    """Give every building its energy parameters: archetype, then its own data, then retrofits.

    Parameters
    ----------
    buildings : DataFrame
        The twin's buildings table (``id``, ``use``, ``year``, and any ``retrofit_<parameter>`` columns).
    archetypes : DataFrame, optional
        From :func:`archetype_table` (the shipped one by default).
    building_data : path or DataFrame, optional
        The buildings' own data keyed by ``building_id`` (see :func:`read_building_data`).
    default_use : str
        Use assumed where it is ``unknown`` (counted in the report).
    default_period : str
        Period assumed where the year is unknown (counted in the report).
    use_retrofit : bool
        Apply ``retrofit_<parameter>`` columns (False gives the state before the interventions).

    Raises
    ------
    TwinValueError
        On an unknown default, use, system or profile name.
    """
    arch = archetype_table() if archetypes is None else archetypes
    if default_period not in PERIODS:
        raise TwinValueError(f"invalid default_period: {default_period!r}; expected one of {', '.join(PERIODS)}")
    known_uses = set(arch.index.get_level_values("use"))
    if default_use not in known_uses:
        raise TwinValueError(f"invalid default_use: {default_use!r}; expected one of {', '.join(sorted(known_uses))}")
    ids = buildings["id"].to_numpy(dtype=np.int64)
    n = len(ids)
    use = buildings["use"].astype(str).to_numpy(dtype=object) if "use" in buildings else np.full(n, "unknown", object)
    year = buildings["year"].to_numpy(dtype=np.float64) if "year" in buildings else np.zeros(n)
    data = None
    if building_data is not None:
        data = building_data if isinstance(building_data, pd.DataFrame) else read_building_data(building_data)
        if isinstance(building_data, pd.DataFrame) and data.index.name != "building_id":
            data = _normalise_building_data(building_data, source="building data")
        data = data.reindex(ids)
        if "use" in data.columns:
            u = data["use"].to_numpy(dtype=object)
            has = pd.notna(u)
            bad = sorted({str(x) for x in u[has]} - set(BUILDING_USES))
            if bad:
                raise TwinValueError(f"building data: unknown use {bad[0]!r}; expected one of {', '.join(BUILDING_USES)}")
            use = np.where(has, u, use)
        if "year" in data.columns:
            y = data["year"].to_numpy(dtype=np.float64)
            year = np.where(np.isfinite(y), y, year)
    report: dict = {}
    unknown_use = ~np.isin(use, list(known_uses))
    report["unknown_use"] = int(unknown_use.sum())
    use = np.where(unknown_use, default_use, use)
    period = period_of(year)
    unknown_year = period == ""
    report["unknown_year"] = int(unknown_year.sum())
    period = np.where(unknown_year, default_period, period)
    report["defaults"] = {"use": default_use, "period": default_period}
    keys = pd.MultiIndex.from_arrays([period, use], names=["period", "use"])
    params = arch.reindex(keys).reset_index()
    params.index = pd.Index(ids, name="id")
    params["year"] = year
    params["year_known"] = ~unknown_year
    params["use_known"] = ~unknown_use
    overridden: dict[str, int] = {}
    if data is not None:
        for col in data.columns:
            if col in PARAMETERS:
                vals = data[col].to_numpy()
                has = pd.notna(vals)
                if has.any():
                    params[col] = params[col].astype(object).where(~has, vals).infer_objects()
                    overridden[col] = int(has.sum())
        for col in ("public", "reference_final_energy", "floors", "height"):
            if col in data.columns:
                params[f"data_{col}"] = data[col].to_numpy()
    report["building_data"] = overridden
    retro: dict[str, int] = {}
    if use_retrofit:
        for col in buildings.columns:
            if col.startswith("retrofit_") and col[len("retrofit_"):] in PARAMETERS:
                name = col[len("retrofit_"):]
                vals = buildings[col].to_numpy()
                has = pd.notna(vals) & (vals != "")
                if has.any():
                    params[name] = params[name].astype(object).where(~has, vals).infer_objects()
                    retro[name] = int(has.sum())
        for col in buildings.columns:
            if col.startswith("retrofit_scale_") and col[len("retrofit_scale_"):] in PARAMETERS:
                name = col[len("retrofit_scale_"):]
                if PARAMETERS[name][0] != "f":
                    raise TwinValueError(f"{col}: only numeric parameters can be scaled")
                f = buildings[col].to_numpy(dtype=np.float64)
                has = np.isfinite(f)
                if has.any():
                    params[name] = np.where(has, pd.to_numeric(params[name], errors="coerce").to_numpy() * np.where(has, f, 1.0),
                                            pd.to_numeric(params[name], errors="coerce").to_numpy())
                    retro[f"scale_{name}"] = int(has.sum())
    report["retrofit"] = retro
    _check_params(params)
    return ResolvedBuildings(params=params, report=report)


def _check_params(params: pd.DataFrame) -> None:
    systems = set(load_table("systems")["system"])
    bad = sorted(set(params.loc[params["conditioned"].astype(bool), "heating_system"].astype(str)) - systems)
    if bad:
        raise TwinValueError(f"unknown heating_system {bad[0]!r}; expected one of {', '.join(sorted(systems))}")
    profiles = set(load_table("schedules")["profile"])
    bad = sorted(set(params["profile"].astype(str)) - profiles)
    if bad:
        raise TwinValueError(f"unknown schedule profile {bad[0]!r}; expected one of {', '.join(sorted(profiles))}")
    masses = {"very_light", "light", "medium", "heavy", "very_heavy"}
    bad = sorted(set(params["thermal_mass"].astype(str)) - masses)
    if bad:
        raise TwinValueError(f"unknown thermal_mass {bad[0]!r}; expected one of {', '.join(sorted(masses))}")
    for col, (kind, units, _) in PARAMETERS.items():
        if kind != "f":
            continue
        v = pd.to_numeric(params[col], errors="coerce").to_numpy(dtype=np.float64)
        params[col] = v
        if col == "cooling_setpoint":
            continue
        cond = params["conditioned"].astype(bool).to_numpy()
        if col in ("heating_setpoint", "heating_setback"):
            v = v[cond]
        if (~np.isfinite(v)).any() or (v < 0).any():
            raise TwinValueError(f"invalid {col}: missing or negative values in the archetypes or building data [{units}]")
    for col in ("g_window", "glazing_ratio", "heat_recovery"):
        v = params[col].to_numpy()
        if ((v < 0) | (v > 1)).any():
            raise TwinValueError(f"invalid {col}: values must be within 0..1")
    params["conditioned"] = params["conditioned"].astype(bool)
