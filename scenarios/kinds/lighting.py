"""Scenario kind ``lighting``: public lighting today versus retrofits, dimming and switch-off.

Scenario file sections (explicit units)::

    kind = "lighting"
    [forcing]
    year = 2025                          # the nights the energy balance counts
    [parameters]                         # overrides of simulation.lighting.DEFAULTS
    maintenance_factor = 0.8
    cutoff = "60 m"
    price = "0.20 EUR/kWh"
    co2_factor = "0.06 kg/kWh"
    profile = "dim=22:00-06:00@70%"      # base operating profile (default: dusk to dawn, full)
    photometry_dirs = ["photometry"]     # folders of .ldt/.ies files (relative to the scenario file)
    tile_size = "500 m"                  # optional: the illuminance raster tile by tile on dask
    halo = "60 m"                        # default the cutoff: then the same numbers as the whole grid
    [[interventions]]
    type = "led_retrofit"                # led_retrofit | dimming | part_night | remove_luminaires | add_luminaires
    select = { photometry = "builtin:globe-hps" }
    photometry = "builtin:road-led"
    power = "36 W"
    flux = "5000 lm"
    [[interventions]]
    type = "part_night"
    select = { cabinets = ["C2"] }
    window = "23:00-05:00"

Outputs: layers ``illuminance`` [lx], ``en13201_deficit`` [lx], ``trame_noire`` [class];
tables ``segments`` (EN 13201 per road), ``luminaires`` (2018 rules, energy), ``cabinets``;
per-building light trespass; indicators (energy, cost, CO2, compliance counts, lit
area of the trame noire...); a night view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from scenarios.kinds._tiling import TILING_KEYS, parse_tiling
from scenarios.kinds.base import Indicator, Kind, KindResult
from scenarios.units import parse_quantity
from twin.core import Twin, layer_dataarray
from twin.errors import TwinValueError

__all__ = ["KIND", "LightingKind", "LightingConfig"]

_NUM_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


def _quantity(value, units: dict[str, float], *, name: str) -> float:
    """A value with one of ``units`` (e.g. ``"140 lm/W"``), converted by the unit's factor."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and "" in units:
        return float(value) * units[""]
    m = _NUM_UNIT.match(str(value)) if isinstance(value, str) else None
    if not m or m.group(2) not in units:
        shown = ", ".join(u for u in units if u) or "no unit"
        raise TwinValueError(f"invalid {name}: {value!r} (write the value with its unit: {shown})")
    return float(m.group(1)) * units[m.group(2)]


def _length(v, name):
    return parse_quantity(v, "length", name=name)


def _level(v, name):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        lv = float(v)
    else:
        lv = parse_quantity(v, "ratio", name=name)
    if not 0 <= lv <= 1:
        raise TwinValueError(f"invalid {name}: {v!r} (must be within 0..100 %)")
    return lv


_PARAMS = {
    "maintenance_factor": lambda v, n: float(v) if not isinstance(v, str) else _level(v, n),
    "cutoff": _length,
    "crown_extinction": lambda v, n: _quantity(v, {"m-1": 1.0, "1/m": 1.0, "": 1.0}, name=n),
    "crown_base_fraction": _level,
    "price": lambda v, n: parse_quantity(v, "price_energy", name=n),
    "co2_factor": lambda v, n: _quantity(v, {"kg/kWh": 1.0, "kgCO2e/kWh": 1.0, "g/kWh": 1e-3, "gCO2e/kWh": 1e-3},
                                         name=n),
    "built_up": lambda v, n: _bool(v, n),
    "dark": lambda v, n: parse_quantity(v, "illuminance", name=n),
    "lit": lambda v, n: parse_quantity(v, "illuminance", name=n),
    "trespass_limit": lambda v, n: parse_quantity(v, "illuminance", name=n),
    "assign_distance": _length,
    "overlighting_factor": lambda v, n: float(v),
    "tz": lambda v, n: str(v),
}


def _bool(v, name):
    if isinstance(v, bool):
        return v
    raise TwinValueError(f"invalid {name}: {v!r} (true or false)")


@dataclass
class LightingConfig:
    """A parsed lighting scenario."""

    parameters: dict = field(default_factory=dict)
    profile: str = ""
    photometry_dirs: list = field(default_factory=list)
    facades: bool = True
    interventions: list = field(default_factory=list)
    outputs: dict = field(default_factory=dict)
    tiling: dict = field(default_factory=dict)


_INTERVENTION_KEYS = {
    "led_retrofit": ("select", "photometry", "power", "flux", "efficacy", "cct", "year"),
    "dimming": ("select", "steps", "presence"),
    "part_night": ("select", "window", "start", "end"),
    "remove_luminaires": ("select",),
    "add_luminaires": ("points", "road", "spacing", "offset", "mounting_height", "photometry", "power", "flux",
                       "cabinet", "kind", "cct", "tilt", "orientation", "year"),
}


def _parse_intervention(k: int, item: dict) -> dict:
    where = f"interventions[{k}]"
    if not isinstance(item, dict) or "type" not in item:
        raise TwinValueError(f"{where}: each intervention needs a type ({', '.join(_INTERVENTION_KEYS)})")
    typ = item["type"]
    if typ not in _INTERVENTION_KEYS:
        raise TwinValueError(f"{where}: unknown lighting intervention {typ!r} (known: {', '.join(_INTERVENTION_KEYS)})")
    extra = set(item) - set(_INTERVENTION_KEYS[typ]) - {"type", "name"}
    if extra:
        raise TwinValueError(f"{where}: unknown key(s) {', '.join(sorted(extra))} for {typ} "
                             f"(allowed: {', '.join(_INTERVENTION_KEYS[typ])})")
    out: dict[str, Any] = {"type": typ}
    from simulation.lighting.interventions import Selection

    out["select"] = Selection.from_dict(item.get("select"))
    if typ == "led_retrofit":
        if "photometry" not in item:
            raise TwinValueError(f"{where}: led_retrofit needs the new photometry")
        out["photometry"] = str(item["photometry"])
        if "power" in item:
            out["power"] = parse_quantity(item["power"], "power", name=f"{where}.power")
        if "flux" in item:
            out["flux"] = parse_quantity(item["flux"], "flux", name=f"{where}.flux")
        if "efficacy" in item:
            out["efficacy"] = _quantity(item["efficacy"], {"lm/W": 1.0}, name=f"{where}.efficacy")
        if "power" not in out and "efficacy" not in out:
            raise TwinValueError(f"{where}: led_retrofit needs power (\"36 W\") or efficacy (\"140 lm/W\")")
        if "cct" in item:
            out["cct"] = _quantity(item["cct"], {"K": 1.0}, name=f"{where}.cct")
        if "year" in item:
            out["year"] = int(item["year"])
    elif typ == "dimming":
        steps = item.get("steps")
        if not steps:
            raise TwinValueError(f"{where}: dimming needs steps, e.g. [{{window = \"22:00-06:00\", level = \"50 %\"}}]")
        out["steps"] = [(s["window"], _level(s["level"], f"{where}.steps.level")) for s in steps]
        if "presence" in item:
            out["presence_duty"] = _level(item["presence"], f"{where}.presence")
    elif typ == "part_night":
        if "window" in item:
            parts = str(item["window"]).split("-")
            if len(parts) != 2:
                raise TwinValueError(f"{where}: window {item['window']!r} must read like \"23:00-05:00\"")
            out["start"], out["end"] = parts
        elif "start" in item and "end" in item:
            out["start"], out["end"] = item["start"], item["end"]
        else:
            raise TwinValueError(f"{where}: part_night needs window = \"23:00-05:00\"")
    elif typ == "add_luminaires":
        for key in ("mounting_height", "photometry", "power", "flux"):
            if key not in item:
                raise TwinValueError(f"{where}: add_luminaires needs {key}")
        out.pop("select")
        out["mounting_height"] = _length(item["mounting_height"], f"{where}.mounting_height")
        out["photometry"] = str(item["photometry"])
        out["power"] = parse_quantity(item["power"], "power", name=f"{where}.power")
        out["flux"] = parse_quantity(item["flux"], "flux", name=f"{where}.flux")
        if "points" in item:
            out["points"] = [tuple(map(float, p)) for p in item["points"]]
        elif "road" in item and "spacing" in item:
            out["road"] = int(item["road"])
            out["spacing"] = _length(item["spacing"], f"{where}.spacing")
            if "offset" in item:
                out["offset"] = _length(item["offset"], f"{where}.offset")
        else:
            raise TwinValueError(f"{where}: add_luminaires needs points, or road and spacing")
        for key in ("cabinet", "kind"):
            if key in item:
                out[key] = str(item[key])
        if "cct" in item:
            out["cct"] = _quantity(item["cct"], {"K": 1.0}, name=f"{where}.cct")
        for key in ("tilt", "orientation"):
            if key in item:
                out[key] = _quantity(item[key], {"deg": 1.0, "degree": 1.0, "": 1.0}, name=f"{where}.{key}")
        if "year" in item:
            out["year"] = int(item["year"])
    return out


_LABELS = {
    "annual_energy": ("Annual electricity", "Électricité annuelle", "lower"),
    "annual_cost": ("Annual electricity bill", "Facture annuelle d'électricité", "lower"),
    "annual_co2": ("Annual emissions", "Émissions annuelles", "lower"),
    "installed_power": ("Installed power", "Puissance installée", "lower"),
    "luminaires": ("Luminaires", "Points lumineux", ""),
    "segments_compliant": ("Road segments meeting their EN 13201 class", "Tronçons conformes à leur classe EN 13201",
                           "higher"),
    "segments_failing": ("Road segments below their EN 13201 class", "Tronçons sous leur classe EN 13201", "lower"),
    "segments_judged": ("Road segments with a lighting class", "Tronçons avec une classe d'éclairage", ""),
    "segments_overlit": ("Over-lit road segments", "Tronçons sur-éclairés", "lower"),
    "segments_falling_below": ("Segments that fall below their class", "Tronçons qui passent sous leur classe",
                               "lower"),
    "luminaires_noncompliant_2018": ("Luminaires not meeting the 2018 rules", "Luminaires non conformes à l'arrêté 2018",
                                     "lower"),
    "luminaires_ulr_over_50": ("Luminaires with ULR > 50 % (to replace)", "Luminaires à ULR > 50 % (à remplacer)",
                               "lower"),
    "trame_noire_lit_area": ("Lit area in ecological corridors (> 1 lx)", "Surface éclairée de la trame noire (> 1 lx)",
                             "lower"),
    "trame_noire_dim_area": ("Dimly lit area in corridors (0.1-1 lx)", "Surface faiblement éclairée de la trame noire",
                             "lower"),
    "trame_noire_dark_area": ("Dark area in corridors (< 0.1 lx)", "Surface sombre de la trame noire (< 0.1 lx)",
                              "higher"),
    "buildings_light_trespass": ("Buildings with light trespass at windows", "Bâtiments avec lumière intrusive",
                                 "lower"),
    "hours_switched_off": ("Mean hours switched off per luminaire", "Heures d'extinction moyennes par point lumineux",
                           ""),
}


class LightingKind(Kind):
    """Public lighting: today's installation versus LED retrofits, dimming and switch-off."""

    name = "lighting"
    title = {"en": "Public lighting", "fr": "Éclairage public"}
    sections = {
        "forcing": ("year",),
        "parameters": tuple(_PARAMS) + ("profile", "photometry_dirs", "facades") + TILING_KEYS,
        "interventions": tuple(sorted({k for v in _INTERVENTION_KEYS.values() for k in v} | {"type", "name"})),
        "outputs": ("layers", "pictures"),
    }

    def parse(self, scenario: dict, *, base_dir: Path) -> LightingConfig:
        cfg = LightingConfig()
        forcing = dict(scenario.get("forcing", {}) or {})
        unknown = set(forcing) - set(self.sections["forcing"])
        if unknown:
            raise TwinValueError(f"[forcing]: unknown key(s) {', '.join(sorted(unknown))} for a lighting scenario (year)")
        if "year" in forcing:
            y = forcing["year"]
            if not isinstance(y, int) or isinstance(y, bool) or not 1900 <= y <= 2200:
                raise TwinValueError(f"[forcing] year: {y!r} must be a year such as 2025")
            cfg.parameters["year"] = y
        params = dict(scenario.get("parameters", {}) or {})
        cfg.tiling = parse_tiling(params)
        for key, value in params.items():
            if key in _PARAMS:
                cfg.parameters[key] = _PARAMS[key](value, f"parameters.{key}")
            elif key == "profile":
                from simulation.lighting.energy import OperatingProfile

                OperatingProfile.from_spec(str(value))  # validate now
                cfg.profile = str(value)
            elif key == "photometry_dirs":
                dirs = [value] if isinstance(value, str) else list(value)
                cfg.photometry_dirs = [(Path(base_dir) / d).resolve() for d in dirs]
            elif key == "facades":
                cfg.facades = _bool(value, "parameters.facades")
            else:
                raise TwinValueError(f"[parameters]: unknown key {key!r} for a lighting scenario "
                                     f"(known: {', '.join(self.sections['parameters'])})")
        if "maintenance_factor" in cfg.parameters:
            from simulation.model import require_range

            require_range(cfg.parameters["maintenance_factor"], 0.01, 1.0, name="parameters.maintenance_factor")
        cfg.interventions = [_parse_intervention(k, it) for k, it in enumerate(scenario.get("interventions", []) or [])]
        cfg.outputs = dict(scenario.get("outputs", {}) or {})
        return cfg

    def apply_interventions(self, twin: Twin, config: LightingConfig) -> Twin:
        from simulation.lighting import interventions as iv
        from simulation.lighting.energy import OperatingProfile
        from simulation.lighting.registry import PhotometryRegistry

        if not config.interventions:
            return twin.copy()
        registry = PhotometryRegistry(config.photometry_dirs)
        base = OperatingProfile.from_spec(config.profile) if config.profile else OperatingProfile()
        out = twin.copy()
        out.tables["luminaires_baseline"] = twin.luminaires.copy()
        records = []
        for it in config.interventions:
            kw = {k: v for k, v in it.items() if k not in ("type", "select")}
            typ = it["type"]
            if typ == "led_retrofit":
                out, rec = iv.led_retrofit(out, it["select"], registry=registry, **kw)
            elif typ == "dimming":
                out, rec = iv.dimming(out, it["select"], base=base, **kw)
            elif typ == "part_night":
                out, rec = iv.part_night(out, it["select"], base=base, **kw)
            elif typ == "remove_luminaires":
                out, rec = iv.remove_luminaires(out, it["select"])
            else:
                out, rec = iv.add_luminaires(out, registry=registry, **kw)
            rec = {k: v for k, v in rec.items() if k != "ids"} | {"selection": it.get("select").describe()
                                                                    if it.get("select") is not None else ""}
            records.append(rec)
        out.meta["lighting_interventions"] = records
        return out

    def simulate(self, twin: Twin, config: LightingConfig) -> KindResult:
        from simulation.lighting.model import LightingModel
        from simulation.lighting.rules import TRAME_NOIRE_CLASSES

        model = LightingModel(twin, photometry_dirs=config.photometry_dirs, profile=config.profile or None,
                              facades=config.facades, **config.tiling, **config.parameters)
        res = model.run()
        g = twin.grid
        layers = {
            "illuminance": layer_dataarray(g, "illuminance", res.illuminance, units="lx",
                                           long_name="maintained horizontal illuminance at full output"),
            "en13201_deficit": layer_dataarray(g, "en13201_deficit", res.en13201_deficit, units="lx",
                                               long_name="illuminance missing to the EN 13201 class point minimum"),
            "trame_noire": layer_dataarray(
                g, "trame_noire", res.trame_noire, units="1", long_name="trame noire class",
                flag_values=list(TRAME_NOIRE_CLASSES), flag_meanings=" ".join(
                    v[0].replace(" ", "_") for v in TRAME_NOIRE_CLASSES.values())),
        }
        lum = res.luminaires
        cab = res.cabinets.copy()
        if len(lum):
            cents = lum.dissolve(by="cabinet").geometry.centroid
            cab_geom = cab["cabinet"].map(cents)
        else:
            cab_geom = pd.Series([], dtype=object)
        cabinets = gpd.GeoDataFrame(cab, geometry=gpd.GeoSeries(list(cab_geom.values), crs=g.crs), crs=g.crs)
        indicators = []
        for name, (value, unit) in res.indicators.items():
            en, fr, better = _LABELS.get(name, (name, name, ""))
            indicators.append(Indicator(name, float(value), unit, {"en": en, "fr": fr}, better))
        meta = dict(res.meta)
        meta["interventions"] = twin.meta.get("lighting_interventions", [])
        buildings = res.facades.rename(columns={"points": "window_points", "ev_max": "ev_max_lx",
                                                "ev_mean": "ev_mean_lx", "over_limit": "light_trespass"})
        return KindResult(layers=layers, buildings=buildings,
                          tables={"segments": res.segments, "luminaires": lum, "cabinets": cabinets},
                          indicators=indicators, meta=meta)

    def render(self, twin: Twin, result: KindResult, out_dir: Path, *, baseline: KindResult | None = None,
               baseline_twin: Twin | None = None, view: str | None = None, lang: str = "en",
               size: tuple[int, int] = (1600, 1000), title: str = "") -> list[Path]:
        from scenarios.kinds._lighting_render import render_night

        return render_night(twin, result, Path(out_dir), baseline=baseline, lang=lang, size=size, title=title)


KIND = LightingKind()
