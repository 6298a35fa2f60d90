"""Scenario kind ``energy``: a year (or a period) of building energy, today versus retrofitted.

Scenario file sections (see docs/energy.md)::

    [forcing]
    weather = "typical"          # the synthetic typical year of `site` (no file), "heatwave", or an EPW / CSV file
    site = "lyon"                # for "typical": a site of simulation/energy/data/climate_normals.csv
    # weather = "heatwave"       # the heat kind's generated heatwave day (simulation.heat.forcing), repeated:
    # preset = "2003"            #   HEATWAVE_PRESETS; days = 5 (the first day is also replayed as warm-up)
    # weather = "lyon.epw"       # a file, relative to the scenario (CSV: latitude/longitude keys needed)
    start = "07-15"              # optional: simulate only from this day (MM-DD) ...
    end = "07-31"                # ... to this one (a heatwave); the ground stays at the year's mean

    [parameters]                 # EnergyParameters fields, e.g. label_year = 2026, shading = false
    building_data = "bdnb.csv"   # the buildings' own data (keyed by building_id, BDNB-like names)
    archetypes = "mine.csv"      # archetype overrides (period, use, columns)
    prices = { gas = "0.11 EUR/kWh", electricity = "0.22 EUR/kWh" }
    costs = { walls = 150, windows = 650 }      # EUR per unit of each measure (data/retrofit.csv)

    [[interventions]]
    type = "retrofit"
    measures = ["walls", "roof", "windows", "airtightness", "heat_pump"]
    where = "public and year < 1975"            # a rule (simulation.energy.retrofit), or
    # buildings = [1, 4, 7]                     # building ids
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scenarios.kinds.base import Indicator, Kind, KindResult
from scenarios.units import parse_quantity
from simulation.energy.model import EnergyModel, EnergyParameters
from simulation.energy.retrofit import apply_retrofit, building_facts, measures, retrofit_costs, select_buildings
from twin.core import Twin, layer_dataarray
from twin.errors import TwinFileNotFoundError, TwinValueError

__all__ = ["KIND", "EnergyConfig", "EnergyKind"]

_FORCING_KEYS = ("weather", "site", "seed", "start", "end", "latitude", "longitude", "elevation", "timezone", "preset",
                 "days")
_PARAM_FIELDS = tuple(f.name for f in dataclasses.fields(EnergyParameters))
_PARAM_KEYS = _PARAM_FIELDS + ("building_data", "archetypes", "prices", "costs")
_INTERVENTION_KEYS = ("type", "name", "measures", "where", "buildings")

#: Per-building result columns written to buildings.gpkg (see simulation.energy.model.RESULT_UNITS).
BUILDING_COLUMNS = ("use", "year", "floor_area", "heating_need", "heating_need_m2", "cooling_need", "peak_heating",
                    "final_energy", "primary_energy", "ep_m2", "ghg", "ghg_m2", "cost", "dpe_class", "label_kind",
                    "carrier", "overheating_hours", "public", "tertiary_subject", "dt_reference", "dt_gap_2030",
                    "dt_gap_2040", "dt_gap_2050", "pv_potential")


@dataclass
class EnergyConfig:
    """A parsed energy scenario."""

    forcing: dict
    parameters: EnergyParameters
    building_data: Path | None = None
    archetypes: Path | None = None
    prices: dict = field(default_factory=dict)
    costs: dict = field(default_factory=dict)
    interventions: list = field(default_factory=list)
    base_dir: Path = Path(".")
    _weather: Any = field(default=None, repr=False, compare=False)

    def weather(self) -> pd.DataFrame:
        if self._weather is None:
            self._weather = _load_weather(self.forcing)
        return self._weather


def _check_keys(section: str, table, allowed) -> None:
    if not isinstance(table, dict):
        raise TwinValueError(f"[{section}] must be a table")
    for k in table:
        if k not in allowed:
            raise TwinValueError(f"[{section}] unknown key {k!r} (allowed: {', '.join(allowed)})")


def _path(value, base_dir: Path, what: str) -> Path:
    if not isinstance(value, str) or not value:
        raise TwinValueError(f"{what}: {value!r} (a file name)")
    p = Path(value)
    p = p if p.is_absolute() else base_dir / p
    if not p.is_file():
        raise TwinFileNotFoundError(f"{p}: {what} file not found")
    return p


def _month_day(value, what: str) -> str:
    try:
        ts = pd.Timestamp(f"2019-{value}")
    except (ValueError, TypeError):
        raise TwinValueError(f"forcing.{what}: {value!r} (a day as \"MM-DD\", e.g. \"07-15\")") from None
    return ts.strftime("%m-%d")


def _load_weather(forcing: dict) -> pd.DataFrame:
    src = forcing["weather"]
    if src == "heatwave":
        from simulation.energy.climate import typical_year
        from simulation.heat.forcing import HEATWAVE_PRESETS, heatwave_day

        normal = typical_year(forcing.get("site", "lyon"))
        preset = dict(HEATWAVE_PRESETS[forcing.get("preset", "2003")])
        first = pd.Timestamp(preset.pop("date"))
        days = []
        for d in range(int(forcing.get("days", 3))):
            day = heatwave_day(date=(first + pd.Timedelta(days=d)).date().isoformat(),
                               latitude=normal.attrs["latitude"], longitude=normal.attrs["longitude"],
                               elevation=normal.attrs["elevation"], **preset)
            days.append(day)
        w = pd.concat(days)
        w.attrs = dict(days[0].attrs)
        w.attrs["ground_temperature"] = float(normal["air_temperature"].mean())
        return w
    if src == "typical":
        from simulation.energy.climate import typical_year

        w = typical_year(forcing.get("site", "lyon"), seed=int(forcing.get("seed", 0)))
    else:
        path = Path(src)
        try:
            from importers import weather as _w
        except ImportError:
            raise TwinValueError(f"{path}: reading weather files needs importers.weather (not in this version)") from None
        if path.suffix.lower() == ".epw":
            w = _w.read_epw(path)
            y = w.index[0].year
            if len(w) == 8760 and y % 4 == 0 and (y % 100 != 0 or y % 400 == 0):
                # a typical year (8,760 rows, no 29 February) put in a leap year would have a day missing
                w = _w.read_epw(path, year=2019)
        else:
            for key in ("latitude", "longitude"):
                if key not in forcing:
                    raise TwinValueError(f"forcing.{key} is needed to read the CSV weather {path}")
            kw = {k: forcing[k] for k in ("latitude", "longitude", "elevation", "timezone") if k in forcing}
            w = _w.read_weather_csv(path, **kw)
    if "start" in forcing or "end" in forcing:
        year = w.index[0].year
        start = pd.Timestamp(f"{year}-{forcing.get('start', '01-01')}", tz=w.index.tz)
        end = pd.Timestamp(f"{year}-{forcing.get('end', '12-31')}", tz=w.index.tz) + pd.Timedelta("1D")
        sub = w[(w.index >= start) & (w.index < end)]
        if len(sub) < 24:
            raise TwinValueError(f"forcing: the period {forcing.get('start')}..{forcing.get('end')} holds no full day")
        sub.attrs = dict(w.attrs)
        sub.attrs["ground_temperature"] = float(w["air_temperature"].mean())
        w = sub
    return w


class EnergyKind(Kind):
    name = "energy"
    title = {"en": "Building energy and retrofits", "fr": "Énergie des bâtiments et rénovation"}
    views = ("overview", "street", "top")
    sections = {"forcing": _FORCING_KEYS, "parameters": _PARAM_KEYS, "interventions": _INTERVENTION_KEYS,
                "outputs": ()}

    # -- parsing ---------------------------------------------------------------------------------------
    def parse(self, scenario: dict, *, base_dir: Path) -> EnergyConfig:
        base_dir = Path(base_dir)
        forcing = dict(scenario.get("forcing", {}) or {})
        _check_keys("forcing", forcing, _FORCING_KEYS)
        f: dict[str, Any] = {"weather": forcing.get("weather", "typical")}
        if f["weather"] == "heatwave":
            from simulation.energy.climate import climate_sites
            from simulation.heat.forcing import HEATWAVE_PRESETS

            f["site"] = str(forcing.get("site", "lyon"))
            if f["site"] not in climate_sites():
                raise TwinValueError(f"forcing.site: {f['site']!r} (known: {', '.join(climate_sites())})")
            f["preset"] = str(forcing.get("preset", "2003"))
            if f["preset"] not in HEATWAVE_PRESETS:
                raise TwinValueError(f"forcing.preset: {f['preset']!r} (known: {', '.join(HEATWAVE_PRESETS)})")
            days = forcing.get("days", 3)
            if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 31:
                raise TwinValueError(f"forcing.days: {days!r} (a number of days, 1 to 31)")
            f["days"] = days
        elif f["weather"] == "typical":
            from simulation.energy.climate import climate_sites

            site = str(forcing.get("site", "lyon"))
            if site not in climate_sites():
                raise TwinValueError(f"forcing.site: {site!r} (known: {', '.join(climate_sites())})")
            f["site"] = site
            f["seed"] = int(forcing.get("seed", 0))
        else:
            f["weather"] = str(_path(f["weather"], base_dir, "forcing.weather"))
            for key in ("latitude", "longitude", "elevation"):
                if key in forcing:
                    f[key] = float(forcing[key])
            if "timezone" in forcing:
                f["timezone"] = str(forcing["timezone"])
        for key in ("start", "end"):
            if key in forcing:
                f[key] = _month_day(forcing[key], key)
        params = dict(scenario.get("parameters", {}) or {})
        _check_keys("parameters", params, _PARAM_KEYS)
        building_data = _path(params.pop("building_data"), base_dir, "parameters.building_data") \
            if "building_data" in params else None
        archetypes = _path(params.pop("archetypes"), base_dir, "parameters.archetypes") if "archetypes" in params else None
        prices = {}
        for carrier, value in dict(params.pop("prices", {}) or {}).items():
            prices[str(carrier)] = parse_quantity(value, "price_energy", name=f"parameters.prices.{carrier}")
        costs = {}
        known = set(measures().index)
        for m, value in dict(params.pop("costs", {}) or {}).items():
            if m not in known:
                raise TwinValueError(f"parameters.costs: unknown measure {m!r} (known: {', '.join(sorted(known))})")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise TwinValueError(f"parameters.costs.{m}: {value!r} (EUR per unit, a number >= 0)")
            costs[m] = float(value)
        if "storey_range" in params:
            params["storey_range"] = tuple(params["storey_range"])
        try:
            parameters = EnergyParameters(**params)
        except TypeError as err:
            raise TwinValueError(f"[parameters] {err}") from err
        ivs = []
        for i, iv in enumerate(scenario.get("interventions", []) or []):
            _check_keys(f"interventions[{i}]", iv, _INTERVENTION_KEYS)
            if iv.get("type") != "retrofit":
                raise TwinValueError(f"interventions[{i}].type: {iv.get('type')!r} (the energy kind knows: retrofit)")
            ms = iv.get("measures")
            if not isinstance(ms, list) or not ms or not all(isinstance(m, str) for m in ms):
                raise TwinValueError(f"interventions[{i}].measures: a list of measures ({', '.join(sorted(known))})")
            bad = [m for m in ms if m not in known]
            if bad:
                raise TwinValueError(f"interventions[{i}].measures: unknown {bad[0]!r} (known: {', '.join(sorted(known))})")
            if ("where" in iv) == ("buildings" in iv):
                raise TwinValueError(f"interventions[{i}]: give either 'where' (a rule) or 'buildings' (ids)")
            if "where" in iv:
                from simulation.energy.retrofit import parse_rule

                parse_rule(iv["where"])
            else:
                ids = iv["buildings"]
                if not isinstance(ids, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in ids):
                    raise TwinValueError(f"interventions[{i}].buildings: a list of building ids")
            ivs.append(dict(iv))
        return EnergyConfig(forcing=f, parameters=parameters, building_data=building_data, archetypes=archetypes,
                            prices=prices, costs=costs, interventions=ivs, base_dir=base_dir)

    # -- interventions ---------------------------------------------------------------------------------
    def apply_interventions(self, twin: Twin, config: EnergyConfig) -> Twin:
        out = twin.copy()
        if not config.interventions:
            return out
        b = out.buildings
        facts = building_facts(b, archetypes=_archetypes(config), building_data=config.building_data,
                               default_use=config.parameters.default_use,
                               default_period=config.parameters.default_period)
        log = []
        for i, iv in enumerate(config.interventions):
            if "where" in iv:
                chosen = select_buildings(facts, iv["where"])
            else:
                ids = np.asarray(iv["buildings"], dtype=np.int64)
                unknown = sorted(set(ids.tolist()) - set(b["id"].tolist()))
                if unknown:
                    raise TwinValueError(f"interventions[{i}].buildings: no building {unknown[0]} in the twin")
                chosen = np.isin(b["id"].to_numpy(), ids)
            chosen &= facts["conditioned"].to_numpy()
            b = apply_retrofit(b, chosen, iv["measures"])
            log.append({"measures": iv["measures"], "buildings": int(chosen.sum()),
                        "rule": iv.get("where", ""), "ids": b.loc[chosen, "id"].astype(int).tolist()})
        out.set_table("buildings", b)
        out.add_provenance("energy retrofit", interventions=log)
        return out

    # -- simulation ------------------------------------------------------------------------------------
    def simulate(self, twin: Twin, config: EnergyConfig) -> KindResult:
        weather = config.weather()
        p = config.parameters
        if "ground_temperature" in weather.attrs and p.ground_temperature == "mean":
            p = dataclasses.replace(p, ground_temperature=float(weather.attrs["ground_temperature"]))
        model = EnergyModel(twin, weather=weather, parameters=p, building_data=config.building_data,
                            archetypes=config.archetypes, prices=config.prices)
        b = twin.buildings
        has_retrofit = "retrofit_measures" in b.columns and (b["retrofit_measures"].astype(str) != "").any()
        before = None
        if has_retrofit:
            ids = b.loc[b["retrofit_measures"].astype(str) != "", "id"].to_numpy()
            before = model.run(use_retrofit=False, ids=ids)
            res = model.run(reference_final_energy=before.buildings.loc[ids, "final_energy"])
        else:
            res = model.run()
        df = res.buildings[[c for c in BUILDING_COLUMNS if c in res.buildings.columns]].copy()
        df["investment"] = 0.0
        df["savings_kwh"] = 0.0
        df["savings_eur"] = 0.0
        df["savings_co2"] = 0.0
        df["payback_years"] = np.nan
        df["retrofit_measures"] = ""
        if has_retrofit:
            ids = before.buildings.index[before.buildings["simulated"]]
            meas = b.set_index("id").loc[ids, "retrofit_measures"].astype(str)
            quantities = res.buildings.loc[ids, ["opaque_wall_area", "roof_area", "ground_area", "window_area",
                                                 "floor_area", "peak_heating"]]
            costs = retrofit_costs(meas, quantities, costs=config.costs)
            df.loc[ids, "retrofit_measures"] = meas
            df.loc[ids, "investment"] = costs.investment
            df.loc[ids, "savings_kwh"] = before.buildings.loc[ids, "final_energy"] - res.buildings.loc[ids, "final_energy"]
            df.loc[ids, "savings_eur"] = before.buildings.loc[ids, "cost"] - res.buildings.loc[ids, "cost"]
            df.loc[ids, "savings_co2"] = before.buildings.loc[ids, "ghg"] - res.buildings.loc[ids, "ghg"]
            with np.errstate(divide="ignore", invalid="ignore"):
                pay = df.loc[ids, "investment"] / df.loc[ids, "savings_eur"]
            df.loc[ids, "payback_years"] = np.where(df.loc[ids, "savings_eur"] > 0, pay, np.inf)
        df.attrs["units"] = {**res.buildings.attrs.get("units", {}), "investment": "EUR", "savings_kwh": "kWh/yr",
                             "savings_eur": "EUR/yr", "savings_co2": "kgCO2e/yr", "payback_years": "yr"}
        df.index.name = "id"
        indicators = _indicators(df, res)
        layers = _layers(twin, df)
        meta = {"model": res.meta, "report": res.report, "district": res.district,
                "weather": {"source": weather.attrs.get("source", ""), "hours": len(weather)},
                "references": list(EnergyModel.references)}
        months = list(range(1, 13))
        monthly = pd.DataFrame({"month": months,
                                "heating_need_kwh": res.monthly_heating.sum(axis=0).reindex(months).to_numpy(),
                                "cooling_need_kwh": res.monthly_cooling.sum(axis=0).reindex(months).to_numpy()})
        wide = pd.concat([res.monthly_heating.add_prefix("heating_kwh_"), res.monthly_cooling.add_prefix("cooling_kwh_")],
                         axis=1).reset_index().rename(columns={"index": "id"})
        hourly = res.hourly.reset_index().rename(columns={"index": "time", "heating_load": "heating_load_kw",
                                                          "cooling_load": "cooling_load_kw"})
        hourly["time"] = hourly["time"].astype(str)
        tables = {"energy_monthly": monthly, "energy_monthly_buildings": wide, "energy_hourly": hourly}
        return KindResult(layers=layers, buildings=df, tables=tables, indicators=indicators, meta=meta)

    # -- pictures --------------------------------------------------------------------------------------
    def render(self, twin: Twin, result: KindResult, out_dir: Path, *, baseline: KindResult | None = None,
               lang: str = "en", size: tuple[int, int] = (1600, 1000), title: str = "",
               baseline_twin: Twin | None = None, view: str | None = None) -> list[Path]:
        from twin.render import DPE_CLASSES, Scene, side_by_side

        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        label = {"en": "Energy label (DPE; indicative for non-dwellings)",
                 "fr": "Étiquette énergie (DPE ; indicative hors logements)"}
        v = view or "overview"

        def classes(res):
            s = res.buildings["dpe_class"]
            return s[s.astype(str) != ""]

        paths = []
        scene = Scene.of(twin, lang=lang).colour_buildings(classes(result), label=label, classes=DPE_CLASSES)
        p = out_dir / "energy_classes.png"
        scene.screenshot(p, view=v, size=size, title=title or self.title.get(lang, self.title["en"]))
        paths.append(p)
        if baseline is not None and baseline_twin is not None:
            before = Scene.of(baseline_twin, lang=lang).colour_buildings(classes(baseline), label=label,
                                                                          classes=DPE_CLASSES)
            after = Scene.of(twin, lang=lang).colour_buildings(classes(result), label=label, classes=DPE_CLASSES)
            p2 = out_dir / "energy_classes_before_after.png"
            titles = ({"en": "Today", "fr": "Aujourd'hui"}, {"en": "Retrofitted", "fr": "Après rénovation"})
            side_by_side([before, after], p2, titles=[t.get(lang, t["en"]) for t in titles],
                         title=title or self.title.get(lang, self.title["en"]),
                         size=(size[0] // 2 if size[0] >= 1200 else size[0], size[1]))
            paths.append(p2)
        return paths


def _archetypes(config: EnergyConfig):
    from simulation.energy.archetypes import archetype_table

    return archetype_table(config.archetypes)


def _indicators(df: pd.DataFrame, res) -> list[Indicator]:
    s = df[np.isfinite(df["final_energy"])]
    pub = s[s["public"].astype(bool)]
    invest = float(df["investment"].sum())
    save_eur = float(df["savings_eur"].sum())
    payback = invest / save_eur if save_eur > 0 else float("nan")
    tert = s[s["tertiary_subject"].astype(bool)]
    ind = [
        Indicator("final_energy", float(s["final_energy"].sum()), "kWh/yr",
                  {"en": "Final energy, all buildings", "fr": "Énergie finale, tous bâtiments"}, "lower"),
        Indicator("primary_energy", float(s["primary_energy"].sum()), "kWh/yr",
                  {"en": "Primary energy, all buildings", "fr": "Énergie primaire, tous bâtiments"}, "lower"),
        Indicator("heating_need", float(s["heating_need"].sum()), "kWh/yr",
                  {"en": "Heating need", "fr": "Besoin de chauffage"}, "lower"),
        Indicator("energy_cost", float(s["cost"].sum()), "EUR/yr",
                  {"en": "Energy bill, all buildings", "fr": "Facture énergétique, tous bâtiments"}, "lower"),
        Indicator("ghg", float(s["ghg"].sum()) / 1000.0, "tCO2e/yr",
                  {"en": "Greenhouse-gas emissions", "fr": "Émissions de gaz à effet de serre"}, "lower"),
        Indicator("buildings_f_or_g", float(s["dpe_class"].isin(["F", "G"]).sum()), "1",
                  {"en": "Buildings labelled F or G", "fr": "Bâtiments classés F ou G"}, "lower"),
        Indicator("public_final_energy", float(pub["final_energy"].sum()), "kWh/yr",
                  {"en": "Final energy of public buildings", "fr": "Énergie finale des bâtiments publics"}, "lower"),
        Indicator("public_energy_cost", float(pub["cost"].sum()), "EUR/yr",
                  {"en": "Energy bill of public buildings", "fr": "Facture énergétique des bâtiments publics"}, "lower"),
        Indicator("tertiary_gap_2030", float(tert["dt_gap_2030"].clip(lower=0).sum()), "kWh/yr",
                  {"en": "Décret tertiaire: still to cut for 2030", "fr": "Décret tertiaire : reste à économiser pour 2030"},
                  "lower"),
        Indicator("overheating_hours", float(s["overheating_hours"].mean()) if len(s) else 0.0, "h",
                  {"en": "Overheated hours per building (mean)", "fr": "Heures de surchauffe par bâtiment (moyenne)"},
                  "lower"),
        Indicator("investment", invest, "EUR", {"en": "Retrofit investment", "fr": "Investissement de rénovation"}, ""),
        Indicator("annual_savings", save_eur, "EUR/yr", {"en": "Energy bill saved", "fr": "Économies sur la facture"},
                  "higher"),
        Indicator("co2_saved", float(df["savings_co2"].sum()) / 1000.0, "tCO2e/yr",
                  {"en": "Emissions avoided", "fr": "Émissions évitées"}, "higher"),
        Indicator("simple_payback", payback, "yr",
                  {"en": "Simple payback of the retrofits", "fr": "Temps de retour brut des rénovations"}, "lower"),
        Indicator("pv_potential", float(df["pv_potential"].sum()), "kWh/yr",
                  {"en": "Rooftop solar potential", "fr": "Potentiel solaire des toitures"}, ""),
    ]
    return ind


def _layers(twin: Twin, df: pd.DataFrame) -> dict:
    """Per-building values painted on the building cells (for GIS and difference maps)."""
    if "building_id" not in twin:
        return {}
    bid = twin.array("building_id")
    out = {}
    for col, units, long_name in (("ep_m2", "kWh m-2 yr-1", "primary energy per m2 of floor (5 uses)"),
                                  ("heating_need_m2", "kWh m-2 yr-1", "heating need per m2 of floor")):
        vals = df[col].to_numpy(dtype=np.float64)
        ids = df.index.to_numpy(dtype=np.int64)
        lut = np.full(int(max(bid.max(initial=0), ids.max(initial=0))) + 1, np.nan, dtype=np.float32)
        lut[ids] = vals
        arr = np.where(bid > 0, lut[np.clip(bid, 0, len(lut) - 1)], np.nan).astype(np.float32)
        out[f"energy_{col}"] = layer_dataarray(twin.grid, f"energy_{col}", arr, units=units, long_name=long_name)
    return out


KIND = EnergyKind()
