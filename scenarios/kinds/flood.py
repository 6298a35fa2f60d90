"""The ``flood`` scenario kind: a storm, a river in spate or the sea, and what gets wet.

Scenario file sections (explicit units everywhere)::

    [forcing]
    duration = "1h30min"                 # simulated time
    rain = "60 mm/h"                     # a constant intensity...
    rain_duration = "1h"                 # ...for this long (default: the whole run)
    rain_series = [["0min", "10 mm/h"], ["20min", "80 mm/h"], ["40min", "0 mm/h"]]  # or a hyetograph
    permanent_water = "held"             # rivers and ponds of the twin: "held" at their level (they carry
                                         # runoff away; the default with rain only), "free" (they are water
                                         # like any other; the default with a river rise), or "none"
    water_rise = [["0min", "0 m"], ["30min", "1 m"], ["2h", "1 m"]]  # held water that touches a grid edge
                                         # (the sea, a river) raised above its normal level along its whole
                                         # course; closed ponds stay at their level
    static_rise = "1 m"                  # bathtub from the same water
    river_rise = [["0h", "0 m"], ["1h", "2 m"], ["3h", "2 m"]]  # stage rise above the normal level, imposed
    river_edges = ["north", "south"]     # where the river crosses the grid edges (default: all it crosses)
    sea_level = "1.0 m"                  # absolute sea level on an edge, plus an optional surge series
    surge = [["0h", "0 m"], ["3h", "0.8 m"], ["6h", "0 m"]]
    sea_edge = "east"
    mode = "dynamic"                     # "dynamic", "static" (bathtub only) or "both"
    static_rise = "1 m"                  # bathtub: rise above the permanent water...
    static_level = "166.5 m"             # ...or an absolute level (from the permanent water or sea_edge)
    [[forcing.inflows]]
    name = "culvert"
    at = [842500.0, 6519300.0]           # or line = [[x, y], [x, y]]
    hydrograph = [["0min", "0 m3/s"], ["10min", "4 m3/s"], ["1h", "0 m3/s"]]

    [parameters]                         # model parameters, defaults in simulation.flood.parameters
    cell_size = "2 m"                    # model grid (a whole multiple of the twin's cell size)
    drainage = "20 mm/h"                 # drainage network capacity on paved cells
    manning = { grass = 0.04 }           # per land-cover class
    infiltration = { grass = ["10 mm/h", "10 mm"] }
    infiltration_model = "green_ampt"    # or "constant" (default): Green-Ampt with Rawls et al. (1983) soils
    soil = { grass = "silt_loam" }       # soil texture per class (Green-Ampt), "none" = impervious
    initial_saturation = 0.5             # Green-Ampt initial effective saturation (default 0.3)
    theta, alpha, h_min ("1 mm"), froude_max, dt_max ("10s"), roof_rain ("street"/"drain"),
    arrival_depth ("0.1 m"), speed_depth, flood_threshold ("0.1 m"), deep_threshold ("0.5 m")

    [[interventions]]
    type = "dike"                        # or "raised_ground": line = [[x, y], ...] or road = "Chemin de halage",
                                         # crest ("167 m") or height ("1 m"), width ("3 m")
    type = "retention_basin"             # or "lowered_ground": polygon or around = "<building>" + radius,
                                         # depth or bottom
    type = "drainage"                    # capacity ("40 mm/h"), optional polygon or around + radius
    type = "permeable_paving"            # infiltration ("30 mm/h"), optional polygon or around + radius, classes

    [outputs]
    snapshot_interval = "5min"           # depth frames for animations
    gauges = { crossroads = [842458.0, 6519200.0], school = "École Jean Moulin" }  # a point, or the
                                         # open cell nearest to a building (by name or landmark key)
    animation = true                     # render an animated GIF of the depth

Results: layers ``max_depth`` [m], ``max_speed`` [m s-1], ``hazard`` [1], ``arrival_time``
[s] (and ``bathtub_depth`` [m] in static mode), the per-building exposure, the flooded
road segments, indicators (including the relative volume error of the run) and frames.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from scenarios.kinds.base import Indicator, Kind, KindResult
from scenarios.units import parse_duration, parse_quantity
from simulation.flood import FloodModel, Forcing, Inflow, LevelBoundary, Rain, TimeSeries
from simulation.flood import interventions as iv
from simulation.flood.exposure import (
    RESIDENTS_RULE,
    building_exposure,
    exposure_summary,
    flooded_road_length,
)
from simulation.flood.forcing import EDGES
from simulation.flood.model import REFERENCES as MODEL_REFERENCES
from simulation.flood.parameters import HAZARD_CLASSES
from simulation.flood.resample import coarsen_for_flood, refine
from simulation.flood.screening import bathtub_map
from twin.core import Twin, layer_dataarray
from twin.errors import TwinValueError
from twin.layers import Landcover

__all__ = ["KIND", "FloodConfig", "FloodKind"]

_FORCING_KEYS = ("duration", "rain", "rain_duration", "rain_series", "permanent_water", "water_rise", "river_rise",
                 "river_edges",
                 "sea_level", "surge", "sea_edge", "inflows", "mode", "static_rise", "static_level")
_PARAM_KEYS = ("cell_size", "drainage", "manning", "infiltration", "theta", "alpha", "h_min", "froude_max", "dt_max",
               "roof_rain", "arrival_depth", "speed_depth", "flood_threshold", "deep_threshold",
               "infiltration_model", "soil", "initial_saturation")
#: keys of each intervention type (besides ``type``), for the runner's checks
_INTERVENTION_SPEC = {
    "dike": ("name", "line", "road", "crest", "height", "width"),
    "raised_ground": ("name", "line", "road", "crest", "height", "width"),
    "retention_basin": ("name", "polygon", "around", "radius", "depth", "bottom"),
    "lowered_ground": ("name", "polygon", "around", "radius", "depth", "bottom"),
    "drainage": ("name", "capacity", "polygon", "around", "radius"),
    "permeable_paving": ("name", "infiltration", "polygon", "around", "radius", "classes"),
}
_OUTPUT_KEYS = ("snapshot_interval", "gauges", "animation")
_INFLOW_KEYS = ("name", "at", "line", "hydrograph")

_INTERVENTION_TYPES = {
    "dike": "raise the ground along a line to a crest",
    "raised_ground": "raise the ground along a line to a crest",
    "retention_basin": "lower the ground inside a polygon",
    "lowered_ground": "lower the ground inside a polygon",
    "drainage": "set the drainage capacity of paved cells",
    "permeable_paving": "make paved cells permeable",
}

REFERENCES = MODEL_REFERENCES + (
    "Barnes, Lehman & Mulla (2014), Computers & Geosciences 62, 117-127, doi:10.1016/j.cageo.2013.04.024",
    "Neelz & Pender (2013), Benchmarking the latest generation of 2D hydraulic modelling packages, EA SC120002",
)


@dataclass
class FloodConfig:
    """A validated flood scenario (see the module docstring for the file format)."""

    duration: float
    rain: Rain | None = None
    permanent_water: str = "held"
    water_rise: TimeSeries | None = None
    river_rise: TimeSeries | None = None
    river_edges: tuple[str, ...] | None = None
    sea: TimeSeries | None = None
    sea_edge: str | None = None
    inflows: list[dict] = field(default_factory=list)
    mode: str = "dynamic"
    static_rise: float | None = None
    static_level: float | None = None
    cell_size: float | None = None
    model: dict = field(default_factory=dict)
    flood_threshold: float = 0.1
    deep_threshold: float = 0.5
    interventions: list[dict] = field(default_factory=list)
    snapshot_interval: float | None = None
    gauges: dict = field(default_factory=dict)
    animation: bool = False
    defaults: dict = field(default_factory=dict)


def _where(section: str, key: str) -> str:
    return f"[{section}] {key}"


def _check_keys(table: dict, allowed, section: str) -> None:
    if not isinstance(table, dict):
        raise TwinValueError(f"[{section}] must be a table")
    for k in table:
        if k not in allowed:
            raise TwinValueError(f"[{section}] unknown key {k!r} (allowed: {', '.join(allowed)})")


def _series(value, dimension: str, *, name: str, kind: str, units: str, nonnegative: bool = True) -> TimeSeries:
    """``[["0min", "10 mm/h"], ...]`` -> TimeSeries (times [s], values in the canonical unit)."""
    if not isinstance(value, list) or not value or not all(isinstance(p, list) and len(p) == 2 for p in value):
        raise TwinValueError(f"{name}: expected a list of [time, value] pairs, e.g. [[\"0min\", \"1 m\"], ...]")
    times = [parse_duration(t, name=f"{name} time") for t, _ in value]
    vals = [parse_quantity(v, dimension, name=f"{name} value") for _, v in value]
    return TimeSeries(times, vals, units, kind=kind, name=name, nonnegative=nonnegative)


def _xy_list(value, *, name: str, min_points: int) -> list[tuple[float, float]]:
    try:
        pts = [(float(p[0]), float(p[1])) for p in value]
    except (TypeError, ValueError, IndexError):
        raise TwinValueError(f"{name}: expected a list of [x, y] points in the twin's CRS") from None
    if len(pts) < min_points:
        raise TwinValueError(f"{name}: expected at least {min_points} [x, y] points")
    return pts


class FloodKind(Kind):
    """Flood scenarios: local inertial shallow water + static screening + exposure."""

    name = "flood"
    title = {"en": "Flood", "fr": "Inondation"}
    sections = {
        "forcing": _FORCING_KEYS,
        "parameters": _PARAM_KEYS,
        "interventions": _INTERVENTION_SPEC,
        "outputs": _OUTPUT_KEYS,
    }

    # -- parse ---------------------------------------------------------------------------------
    def parse(self, scenario: dict, *, base_dir: Path) -> FloodConfig:
        f = scenario.get("forcing")
        if f is None:
            raise TwinValueError("[forcing] is missing: a flood scenario needs at least a duration")
        _check_keys(f, _FORCING_KEYS, "forcing")
        if "duration" not in f:
            raise TwinValueError("[forcing] duration is missing (e.g. duration = \"1h30min\")")
        duration = parse_duration(f["duration"], name=_where("forcing", "duration"))
        if duration <= 0:
            raise TwinValueError("[forcing] duration must be > 0")
        cfg = FloodConfig(duration=duration)
        # rain
        if "rain" in f and "rain_series" in f:
            raise TwinValueError("[forcing] give either rain (a constant intensity) or rain_series, not both")
        if "rain" in f:
            rate = parse_quantity(f["rain"], "rain_rate", name=_where("forcing", "rain"))
            if rate < 0:
                raise TwinValueError(f"[forcing] rain: intensity {f['rain']!r} is negative")
            rd = parse_duration(f.get("rain_duration", f["duration"]), name=_where("forcing", "rain_duration"))
            if rd <= 0:
                raise TwinValueError("[forcing] rain_duration must be > 0")
            cfg.rain = Rain.constant(rate, duration=rd)
        elif "rain_series" in f:
            s = _series(f["rain_series"], "rain_rate", name="[forcing] rain_series", kind="step", units="mm h-1")
            cfg.rain = Rain(s)
        elif "rain_duration" in f:
            raise TwinValueError("[forcing] rain_duration without rain")
        # river
        if "river_rise" in f:
            cfg.river_rise = _series(f["river_rise"], "length", name="[forcing] river_rise", kind="linear",
                                     units="m", nonnegative=False)
        if "river_edges" in f:
            edges = f["river_edges"]
            if not isinstance(edges, list) or not all(e in EDGES for e in edges):
                raise TwinValueError(f"[forcing] river_edges: expected a list of {', '.join(EDGES)}")
            cfg.river_edges = tuple(edges)
        # sea
        if "sea_level" in f or "surge" in f:
            if "sea_edge" not in f or f["sea_edge"] not in EDGES:
                raise TwinValueError(f"[forcing] sea_edge: say which edge the sea is on ({', '.join(EDGES)})")
            cfg.sea_edge = f["sea_edge"]
            base = parse_quantity(f.get("sea_level", "0 m"), "length", name=_where("forcing", "sea_level"))
            if "surge" in f:
                s = _series(f["surge"], "length", name="[forcing] surge", kind="linear", units="m", nonnegative=False)
                cfg.sea = TimeSeries(s.times, s.values + base, "m", "linear", "sea level + surge", nonnegative=False)
            else:
                cfg.sea = TimeSeries([0.0, duration], [base, base], "m", "linear", "sea level", nonnegative=False)
        elif "sea_edge" in f:
            raise TwinValueError("[forcing] sea_edge without sea_level or surge")
        # inflows
        for k, q in enumerate(f.get("inflows", [])):
            _check_keys(q, _INFLOW_KEYS, f"forcing.inflows[{k}]")
            name = str(q.get("name", f"inflow {k + 1}"))
            if ("at" in q) == ("line" in q):
                raise TwinValueError(f"[[forcing.inflows]] {name!r}: give either at = [x, y] or line = [[x, y], ...]")
            where = _xy_list([q["at"]], name=f"inflow {name!r} at", min_points=1)[0] if "at" in q else \
                _xy_list(q["line"], name=f"inflow {name!r} line", min_points=2)
            if "hydrograph" not in q:
                raise TwinValueError(f"[[forcing.inflows]] {name!r}: hydrograph is missing")
            hyd = _series(q["hydrograph"], "discharge", name=f"inflow {name!r} hydrograph", kind="linear",
                          units="m3 s-1")
            cfg.inflows.append({"name": name, "where": where, "hydrograph": hyd})
        # permanent water
        default_pw = "free" if cfg.river_rise is not None else "held"
        pw = f.get("permanent_water", default_pw)
        if pw not in ("held", "free", "none"):
            raise TwinValueError(f"[forcing] permanent_water: {pw!r} is not one of held, free, none")
        if "permanent_water" not in f:
            cfg.defaults["permanent_water"] = pw
        if pw == "held" and cfg.river_rise is not None:
            raise TwinValueError("[forcing] permanent_water = \"held\" contradicts river_rise (the river must move)")
        cfg.permanent_water = pw
        if "water_rise" in f:
            if pw != "held":
                raise TwinValueError("[forcing] water_rise raises the held permanent water: it needs "
                                     "permanent_water = \"held\"")
            cfg.water_rise = _series(f["water_rise"], "length", name="[forcing] water_rise", kind="linear",
                                     units="m", nonnegative=False)
        # static screening
        mode = f.get("mode", "dynamic")
        if mode not in ("dynamic", "static", "both"):
            raise TwinValueError(f"[forcing] mode: {mode!r} is not one of dynamic, static, both")
        cfg.mode = mode
        if "static_rise" in f and "static_level" in f:
            raise TwinValueError("[forcing] give either static_rise or static_level, not both")
        if "static_rise" in f:
            cfg.static_rise = parse_quantity(f["static_rise"], "length", name=_where("forcing", "static_rise"))
        if "static_level" in f:
            cfg.static_level = parse_quantity(f["static_level"], "length", name=_where("forcing", "static_level"))
        if mode in ("static", "both") and cfg.static_rise is None and cfg.static_level is None:
            raise TwinValueError(f"[forcing] mode = {mode!r} needs static_rise or static_level")
        if mode in ("dynamic", "both") and cfg.rain is None and cfg.river_rise is None and cfg.sea is None \
                and not cfg.inflows and cfg.water_rise is None:
            raise TwinValueError("[forcing] nothing drives the flood: give rain, rain_series, river_rise, sea_level "
                                 "or inflows (or mode = \"static\")")
        # parameters
        p = scenario.get("parameters", {})
        _check_keys(p, _PARAM_KEYS, "parameters")
        self._parse_parameters(p, cfg)
        # interventions
        for k, item in enumerate(scenario.get("interventions", [])):
            cfg.interventions.append(self._parse_intervention(item, k))
        # outputs
        o = scenario.get("outputs", {})
        _check_keys(o, _OUTPUT_KEYS, "outputs")
        if "snapshot_interval" in o:
            cfg.snapshot_interval = parse_duration(o["snapshot_interval"], name=_where("outputs", "snapshot_interval"))
            if cfg.snapshot_interval <= 0:
                raise TwinValueError("[outputs] snapshot_interval must be > 0")
        for gname, xy in o.get("gauges", {}).items():
            if isinstance(xy, str):
                cfg.gauges[str(gname)] = xy  # a building: the gauge goes on the open cell nearest to it
            else:
                cfg.gauges[str(gname)] = _xy_list([xy], name=f"[outputs] gauges.{gname}", min_points=1)[0]
        cfg.animation = bool(o.get("animation", False))
        if cfg.animation and cfg.snapshot_interval is None:
            cfg.snapshot_interval = cfg.duration / 12.0
            cfg.defaults["snapshot_interval_s"] = cfg.snapshot_interval
        return cfg

    def _parse_parameters(self, p: dict, cfg: FloodConfig) -> None:
        m: dict[str, Any] = {}
        if "cell_size" in p:
            cfg.cell_size = parse_quantity(p["cell_size"], "length", name=_where("parameters", "cell_size"))
            if cfg.cell_size <= 0:
                raise TwinValueError("[parameters] cell_size must be > 0")
        if "drainage" in p:
            m["drainage"] = parse_quantity(p["drainage"], "rain_rate", name=_where("parameters", "drainage"))
        if "manning" in p:
            if not isinstance(p["manning"], dict):
                raise TwinValueError("[parameters] manning: a table of land-cover class = n, e.g. { grass = 0.04 }")
            m["manning"] = dict(p["manning"])
        if "infiltration" in p:
            tab = p["infiltration"]
            if not isinstance(tab, dict):
                raise TwinValueError("[parameters] infiltration: a table of class = [\"rate mm/h\", \"initial mm\"]")
            out = {}
            for cls, v in tab.items():
                if not isinstance(v, list) or len(v) != 2:
                    raise TwinValueError(f"[parameters] infiltration.{cls}: expected [\"rate mm/h\", \"initial loss mm\"]")
                out[cls] = (parse_quantity(v[0], "rain_rate", name=f"[parameters] infiltration.{cls} rate"),
                            parse_quantity(v[1], "rain_depth", name=f"[parameters] infiltration.{cls} initial loss"))
            m["infiltration"] = out
        if "infiltration_model" in p:
            m["infiltration_model"] = str(p["infiltration_model"])
        if "soil" in p:
            if not isinstance(p["soil"], dict):
                raise TwinValueError("[parameters] soil: a table of land-cover class = soil texture, e.g. "
                                     "{ grass = \"silt_loam\" }")
            m["soil"] = {k: (None if str(v).lower() == "none" else str(v)) for k, v in p["soil"].items()}
        for key in ("theta", "alpha", "froude_max", "initial_saturation"):
            if key in p:
                if isinstance(p[key], bool) or not isinstance(p[key], (int, float)):
                    raise TwinValueError(f"[parameters] {key}: a number, got {p[key]!r}")
                m[key] = float(p[key])
        for key in ("h_min", "arrival_depth", "speed_depth"):
            if key in p:
                m[key] = parse_quantity(p[key], "length", name=_where("parameters", key))
        if "dt_max" in p:
            m["dt_max"] = parse_duration(p["dt_max"], name=_where("parameters", "dt_max"))
        if "roof_rain" in p:
            m["roof_rain"] = p["roof_rain"]
        if "flood_threshold" in p:
            cfg.flood_threshold = parse_quantity(p["flood_threshold"], "length", name=_where("parameters", "flood_threshold"))
        if "deep_threshold" in p:
            cfg.deep_threshold = parse_quantity(p["deep_threshold"], "length", name=_where("parameters", "deep_threshold"))
        cfg.model = m

    def _parse_intervention(self, item: dict, k: int) -> dict:
        t = item.get("type")
        if t not in _INTERVENTION_TYPES:
            raise TwinValueError(f"[[interventions]] {k + 1}: type {t!r} is not a flood intervention "
                                 f"({', '.join(_INTERVENTION_TYPES)})")
        _check_keys(item, ("type", *_INTERVENTION_SPEC[t]), f"interventions[{k}] ({t})")
        name = str(item.get("name", t.replace("_", " ")))
        out: dict[str, Any] = {"type": t, "name": name}
        where = f"[[interventions]] {name!r}"
        if t in ("dike", "raised_ground"):
            if ("line" in item) == ("road" in item):
                raise TwinValueError(f"{where}: give either line = [[x, y], ...] or road = \"<street name>\"")
            if "line" in item:
                out["line"] = _xy_list(item["line"], name=f"{where} line", min_points=2)
            else:
                out["road"] = str(item["road"])
            if ("crest" in item) == ("height" in item):
                raise TwinValueError(f"{where}: give either crest (an altitude, \"167 m\") or height (\"1.5 m\")")
            if "crest" in item:
                out["crest"] = parse_quantity(item["crest"], "length", name=f"{where} crest")
            else:
                out["height"] = parse_quantity(item["height"], "length", name=f"{where} height")
            out["width"] = parse_quantity(item.get("width", "3 m"), "length", name=f"{where} width")
        elif t in ("retention_basin", "lowered_ground"):
            if "polygon" not in item and "around" not in item:
                raise TwinValueError(f"{where}: polygon = [[x, y], ...] or around = \"<building>\" is missing")
            if ("depth" in item) == ("bottom" in item):
                raise TwinValueError(f"{where}: give either depth (\"1.5 m\") or bottom (an altitude)")
            if "depth" in item:
                out["depth"] = parse_quantity(item["depth"], "length", name=f"{where} depth")
            else:
                out["bottom"] = parse_quantity(item["bottom"], "length", name=f"{where} bottom")
        elif t == "drainage":
            if "capacity" not in item:
                raise TwinValueError(f"{where}: capacity (\"40 mm/h\") is missing")
            out["capacity"] = parse_quantity(item["capacity"], "rain_rate", name=f"{where} capacity")
        elif t == "permeable_paving":
            if "infiltration" not in item:
                raise TwinValueError(f"{where}: infiltration (\"30 mm/h\") is missing")
            out["infiltration"] = parse_quantity(item["infiltration"], "rain_rate", name=f"{where} infiltration")
            if "classes" in item:
                try:
                    out["classes"] = tuple(Landcover[str(c).upper()] for c in item["classes"])
                except KeyError as err:
                    raise TwinValueError(f"{where}: unknown land-cover class {err.args[0]!r}") from None
        if t not in ("dike", "raised_ground"):
            if "polygon" in item and "around" in item:
                raise TwinValueError(f"{where}: give either polygon or around, not both")
            if "polygon" in item:
                out["polygon"] = _xy_list(item["polygon"], name=f"{where} polygon", min_points=3)
            if "around" in item:
                out["around"] = str(item["around"])
                out["radius"] = parse_quantity(item.get("radius", "50 m"), "length", name=f"{where} radius")
                if out["radius"] <= 0:
                    raise TwinValueError(f"{where}: radius must be > 0")
            elif "radius" in item:
                raise TwinValueError(f"{where}: radius without around")
        return out

    # -- interventions -----------------------------------------------------------------------------
    def apply_interventions(self, twin: Twin, config: FloodConfig) -> Twin:
        out = twin.copy()
        for item in config.interventions:
            t = item["type"]
            if t in ("dike", "raised_ground"):
                line = item["line"] if "line" in item else _road_line(twin, item["road"], item["name"])
                iv.raise_ground_along_line(out, line, width=item["width"], crest=item.get("crest"),
                                           height=item.get("height"), name=item["name"])
                continue
            polygon = item.get("polygon")
            if "around" in item:
                polygon = _building_point(twin, item["around"], item["name"]).buffer(item["radius"])
            if t in ("retention_basin", "lowered_ground"):
                if polygon is None:
                    raise TwinValueError(f"[[interventions]] {item['name']!r}: polygon or around is missing")
                item["volume_m3"] = iv.lower_ground_in_polygon(out, polygon, depth=item.get("depth"),
                                                               bottom=item.get("bottom"), name=item["name"])
            elif t == "drainage":
                iv.set_drainage_capacity(out, item["capacity"], polygon=polygon, name=item["name"])
            elif t == "permeable_paving":
                kw = {"classes": item["classes"]} if "classes" in item else {}
                iv.set_permeable_paving(out, item["infiltration"], polygon=polygon, name=item["name"], **kw)
        return out

    # -- forcing on a (model) twin ------------------------------------------------------------------
    def forcing(self, twin: Twin, config: FloodConfig) -> Forcing:
        """The model forcing of ``config`` on ``twin`` (river edges and held water found from its layers)."""
        levels: list[LevelBoundary] = []
        wl = twin.array("water_level") if "water_level" in twin else None
        if config.river_rise is not None:
            if wl is None:
                raise TwinValueError("[forcing] river_rise: the twin has no water_level layer (no river to raise)")
            edges = config.river_edges or tuple(e for e in EDGES if np.isfinite(_edge(wl, e)).any())
            if not edges:
                raise TwinValueError("[forcing] river_rise: no permanent water touches a grid edge")
            rise = config.river_rise
            if rise.start > 0.0 or rise.end < config.duration:
                raise TwinValueError(f"[forcing] river_rise covers {rise.start:g}..{rise.end:g} s but the run lasts "
                                     f"0..{config.duration:g} s")
            for e in edges:
                if not np.isfinite(_edge(wl, e)).any():
                    raise TwinValueError(f"[forcing] river_edges: no permanent water on the {e} edge")
                levels.append(LevelBoundary(rise, edge=e, relative=True, name=f"river ({e})"))
        if config.sea is not None:
            levels.append(LevelBoundary(config.sea, edge=config.sea_edge, name=f"sea ({config.sea_edge})"))
        if config.permanent_water == "held" and wl is not None and np.isfinite(wl).any():
            still = TimeSeries([0.0, config.duration], [0.0, 0.0], "m", name="held water")
            water = np.isfinite(wl)
            if config.water_rise is None:
                levels.append(LevelBoundary(still, cells=water, relative=True, name="permanent water (held)"))
            else:
                rise = config.water_rise
                if rise.start > 0.0 or rise.end < config.duration:
                    raise TwinValueError(f"[forcing] water_rise covers {rise.start:g}..{rise.end:g} s but the run "
                                         f"lasts 0..{config.duration:g} s")
                open_water = _open_water(wl)
                if not open_water.any():
                    raise TwinValueError("[forcing] water_rise: no permanent water touches a grid edge (the rise "
                                         "applies to the sea and rivers that cross the edges, not to closed ponds)")
                levels.append(LevelBoundary(rise, cells=open_water, relative=True, name="open water (held, rising)"))
                if (water & ~open_water).any():
                    levels.append(LevelBoundary(still, cells=water & ~open_water, relative=True,
                                                name="closed ponds (held at their level)"))
        inflows = [Inflow(q["hydrograph"], q["where"], name=q["name"]) for q in config.inflows]
        return Forcing(duration=config.duration, rain=config.rain, inflows=inflows, levels=levels)

    # -- simulate ----------------------------------------------------------------------------------
    def simulate(self, twin: Twin, config: FloodConfig) -> KindResult:
        t0 = time.perf_counter()
        grid = twin.grid
        layers = {}
        meta: dict[str, Any] = {"kind": "flood", "references": list(REFERENCES), "defaults": dict(config.defaults),
                                "models": [],
                                "interventions": [{k: v for k, v in it.items() if k not in ("line", "polygon")}
                                                  for it in config.interventions]}
        result = None
        frames: list = []
        factor = 1
        if config.mode in ("dynamic", "both"):
            if config.cell_size is not None:
                ratio = config.cell_size / grid.cell_size
                factor = int(round(ratio))
                if factor < 1 or abs(ratio - factor) > 1e-6:
                    raise TwinValueError(f"[parameters] cell_size {config.cell_size:g} m is not a whole multiple of "
                                         f"the twin's {grid.cell_size:g} m")
            mtwin = coarsen_for_flood(twin, factor)
            model = FloodModel(mtwin, forcing=self.forcing(mtwin, config),
                               initial_water=config.permanent_water != "none", **config.model)
            gauges = {k: (_gauge_near(mtwin, v, k) if isinstance(v, str) else v) for k, v in config.gauges.items()}
            result = model.run(snapshot_interval=config.snapshot_interval, gauges=gauges or None,
                               output_interval=min(config.duration / 20.0, 600.0), quiet=True)
            for name, da in result.layers().items():
                layers[name] = layer_dataarray(grid, name, refine(da.values, factor, grid),
                                               units=da.attrs["units"], long_name=da.attrs.get("long_name"))
            frames = [(t, refine(d, factor, grid)) for t, d in result.snapshots]
            meta["model"] = result.meta
            meta["assumptions"] = _assumptions(result.meta, config)
            meta["models"].append({"name": "local inertial shallow water (simulation.flood.FloodModel)",
                                   "references": list(MODEL_REFERENCES)})
            meta["model_cell_size_m"] = grid.cell_size * factor
            meta["volume_error"] = result.volume_error
            meta["ledger_m3"] = result.ledger
            meta["steps"] = result.steps
            meta["simulated_s"] = result.time
            meta["interrupted"] = result.interrupted
            meta["cell_updates"] = result.cell_updates
            meta["run_wall_time_s"] = result.wall_time
            if result.gauges.shape[1]:
                meta["gauges"] = {c: {"time_s": result.gauges.index.tolist(), "depth_m": result.gauges[c].tolist()}
                                  for c in result.gauges.columns}
        if config.mode in ("static", "both"):
            if config.static_rise is not None:
                if "water_level" not in twin:
                    raise TwinValueError("[forcing] static_rise: the twin has no water_level layer")
                ow = _open_water(twin.array("water_level"))
                if not ow.any():
                    raise TwinValueError("[forcing] static_rise: no permanent water touches a grid edge")
                bt = bathtub_map(twin, rise=config.static_rise, seeds=ow)
            else:
                seeds = "water_level" if "water_level" in twin else (config.sea_edge or "edges")
                bt = bathtub_map(twin, level=config.static_level, seeds=seeds)
            layers["bathtub_depth"] = bt
            meta["models"].append({"name": "bathtub: connected cells below the level (simulation.flood.screening)",
                                   "references": [REFERENCES[-2]]})
            meta["static"] = {"rise_m": config.static_rise, "level_m": config.static_level,
                              "method": "priority-queue bathtub from the permanent water (buildings are walls)"}
        # exposure on the twin's own grid
        if result is not None:
            md = layers["max_depth"].values
            hz = layers["hazard"].values
            sp = layers["max_speed"].values
            at = layers["arrival_time"].values
        else:
            md = layers["bathtub_depth"].values
            sp = np.zeros(grid.shape, np.float32)
            from simulation.flood.exposure import hazard_rating

            hz = hazard_rating(md, sp).astype(np.float32)
            at = None
        # permanent water is not a flood: depths over it (on the twin's grid, and over the coarse cells the
        # model treated as permanent water) do not count
        perm = np.isfinite(twin.array("water_level")) if "water_level" in twin else np.zeros(grid.shape, bool)
        if result is not None and factor > 1 and "water_level" in mtwin:
            perm |= refine(np.isfinite(mtwin.array("water_level")), factor, grid)
        flood_depth = np.where(perm, 0.0, md)
        exposure = building_exposure(twin, max_depth=flood_depth, hazard=np.where(perm, 0.0, hz), max_speed=sp,
                                     arrival_time=at, thresholds=(config.flood_threshold, config.deep_threshold))
        roads = twin.roads
        road_len = flooded_road_length(roads, flood_depth, grid, threshold=config.flood_threshold)
        tables = {}
        if len(roads):
            rt = gpd.GeoDataFrame({"id": roads["id"].to_numpy(), "name": roads["name"].to_numpy(),
                                   "flooded_length_m": road_len.to_numpy(),
                                   "length_m": roads.geometry.length.to_numpy()},
                                  geometry=roads.geometry.values, crs=roads.crs)
            tables["roads_flooded"] = rt
        summary = exposure_summary(exposure, road_length_m=float(road_len.sum()))
        area_ha = float((flood_depth > config.flood_threshold).sum()) * grid.cell_area / 1e4
        meta["exposure"] = summary
        meta["residents_rule"] = RESIDENTS_RULE
        meta["models"].append({"name": "exposure: depth and FD2320 hazard at building walls (simulation.flood.exposure)",
                               "references": ["Defra/EA (2006) FD2320/TR2; FD2321/IR1 (2008)"]})
        meta["flooded_area_ha"] = area_ha
        wall = time.perf_counter() - t0
        meta["wall_time_s"] = wall
        ind = self._indicators(summary, area_ha, float(np.max(flood_depth)) if flood_depth.size else 0.0,
                               result.volume_error if result is not None else 0.0, wall, config)
        if result is not None and "bathtub_depth" in layers:
            # both answers: the static bathtub's counts beside the dynamic ones
            bt = np.where(perm, 0.0, layers["bathtub_depth"].values)
            e_bt = building_exposure(twin, max_depth=bt, hazard=bt, thresholds=(config.flood_threshold,
                                                                                config.deep_threshold))
            n_bt = int(e_bt["flooded"].sum())
            a_bt = float((bt > config.flood_threshold).sum()) * grid.cell_area / 1e4
            meta["static"]["buildings_flooded"] = n_bt
            meta["static"]["flooded_area_ha"] = a_bt
            th = config.flood_threshold
            ind += [
                Indicator("buildings_flooded_bathtub", n_bt, "1",
                          {"en": f"Buildings with more than {th * 100:.0f} cm of water at their walls (bathtub map)",
                           "fr": f"Bâtiments avec plus de {th * 100:.0f} cm d'eau au pied des murs (carte "
                                 f"« baignoire »)"}, "lower"),
                Indicator("flooded_area_bathtub", round(a_bt, 3), "ha",
                          {"en": f"Area under more than {th * 100:.0f} cm of water (bathtub map)",
                           "fr": f"Surface sous plus de {th * 100:.0f} cm d'eau (carte « baignoire »)"}, "lower"),
            ]
        return KindResult(layers=layers, buildings=exposure, tables=tables, indicators=ind, frames=frames, meta=meta)

    def _indicators(self, s: dict, area_ha: float, max_depth: float, verr: float, wall: float,
                    config: FloodConfig) -> list[Indicator]:
        th, deep = config.flood_threshold, config.deep_threshold
        return [
            Indicator("buildings_flooded", s["buildings_flooded"], "1",
                      {"en": f"Buildings with more than {th * 100:.0f} cm of water at their walls",
                       "fr": f"Bâtiments avec plus de {th * 100:.0f} cm d'eau au pied des murs"}, "lower"),
            Indicator("buildings_flooded_deep", s["buildings_flooded_deep"], "1",
                      {"en": f"Buildings with more than {deep * 100:.0f} cm of water at their walls",
                       "fr": f"Bâtiments avec plus de {deep * 100:.0f} cm d'eau au pied des murs"}, "lower"),
            Indicator("vulnerable_sites_flooded", s["vulnerable_sites_flooded"], "1",
                      {"en": "Schools, care homes and health buildings flooded",
                       "fr": "Écoles, EHPAD et établissements de santé inondés"}, "lower"),
            Indicator("residents_affected", round(s["residents_affected"], 1), "1",
                      {"en": "Residents of flooded buildings (estimate)",
                       "fr": "Habitants des bâtiments inondés (estimation)"}, "lower"),
            Indicator("flooded_road_length", round(s["flooded_road_km"], 3), "km",
                      {"en": f"Road length under more than {th * 100:.0f} cm of water",
                       "fr": f"Longueur de voirie sous plus de {th * 100:.0f} cm d'eau"}, "lower"),
            Indicator("max_depth", round(max_depth, 3), "m",
                      {"en": "Largest flood depth (outside rivers and ponds)",
                       "fr": "Hauteur d'eau maximale (hors rivière et plans d'eau)"}, "lower"),
            Indicator("flooded_area", round(area_ha, 3), "ha",
                      {"en": f"Area under more than {th * 100:.0f} cm of water",
                       "fr": f"Surface sous plus de {th * 100:.0f} cm d'eau"}, "lower"),
            Indicator("volume_error", float(f"{verr:.3g}"), "1",
                      {"en": "Relative volume error of the simulation", "fr": "Erreur relative de volume du calcul"},
                      ""),
            Indicator("wall_time", round(wall, 2), "s",
                      {"en": "Computing time", "fr": "Temps de calcul"}, ""),
        ]

    # -- render ------------------------------------------------------------------------------------
    def render(self, twin: Twin, result: KindResult, out_dir: Path, *, baseline: KindResult | None = None,
               lang: str = "en", size: tuple[int, int] = (1600, 1000), title: str = "",
               baseline_twin: Twin | None = None, view: str | None = None) -> list[Path]:
        from twin.render import EXPOSURE_CLASSES, Classes, Scene, animate, side_by_side

        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths: list[Path] = []
        label = {"en": "Maximum water depth", "fr": "Hauteur d'eau maximale"}
        key = "max_depth" if "max_depth" in result.layers else "bathtub_depth"

        def depth_of(r: KindResult) -> np.ndarray:
            d = r.layers[key].values.astype(np.float32)
            return np.where(d > 0.05, d, np.nan)  # films under 5 cm are not drawn

        flood = depth_of(result)
        if "water_level" in twin:  # the colour scale follows the flood, not the depth of the river
            flood = np.where(np.isfinite(twin.array("water_level")), np.nan, flood)
        clim = (0.0, max(0.5, float(np.nanpercentile(flood, 99))) if np.isfinite(flood).any() else 1.0)

        def scene(tw: Twin, r: KindResult) -> Scene:
            s = Scene.of(tw, lang=lang).drape(depth_of(r), label=label, units="m", cmap="water", clim=clim,
                                              as_water=True)
            if r.buildings is not None and len(r.buildings):
                s = s.colour_buildings(r.buildings["flooded"].astype(bool), classes=EXPOSURE_CLASSES)
            return s

        p = out_dir / "flood_depth.png"
        scene(twin, result).screenshot(p, size=size, title=title or label, view="overview")
        paths.append(p)
        if "hazard" in result.layers:
            hz = result.layers["hazard"].values.astype(np.float32)
            edges = [1e-6] + [c[0] for c in HAZARD_CLASSES[:-1]] + [1e9]
            classes = Classes(edges=edges, colors=["#fde725", "#fdae61", "#f46d43", "#a50026"],
                              labels=[{"en": c[1], "fr": c[2]} for c in HAZARD_CLASSES],
                              title={"en": "Flood hazard (FD2320)", "fr": "Aléa (FD2320)"})
            p = out_dir / "flood_hazard.png"
            Scene.of(twin, lang=lang).drape(np.where(hz > 0.05, hz, np.nan), label={"en": "Hazard rating",
                                                                                   "fr": "Niveau d'aléa"},
                                            classes=classes).screenshot(p, size=size, view="top",
                                                                        title=title or "Flood hazard")
            paths.append(p)
        if baseline is not None and key in baseline.layers:
            p = out_dir / "flood_comparison.png"
            side_by_side([scene(baseline_twin or twin, baseline), scene(twin, result)], p, title=title or label,
                         size=(size[0] // 2 + 200, size[1]))
            paths.append(p)
        if result.frames and len(result.frames) > 1:
            p = out_dir / "flood_rise.gif"
            animate(Scene.of(twin, lang=lang), result.frames, [p], label={"en": "Water depth", "fr": "Hauteur d'eau"},
                    units="m", cmap="water", clim=clim, threshold=0.05, size=(size[0] * 3 // 5, size[1] * 3 // 5),
                    title=title or label)
            paths.append(p)
        return paths


def _assumptions(m: dict, config: FloodConfig) -> list[str]:
    """The physical defaults a run applied, in a few readable lines (the report lists them)."""
    p, t = m["parameters"], m["tables"]
    given = set(config.model)
    out = []
    if "manning" not in given:
        out.append("Manning n by land cover (Chow 1959): " + ", ".join(
            f"{k} {v:g}" for k, v in t["manning_n"].items() if k not in ("unknown", "building")))
    if "infiltration" not in given:
        out.append("infiltration by land cover [mm/h after an initial loss in mm] (typical, check): " + ", ".join(
            f"{k} {v[0]:g} after {v[1]:g}" for k, v in t["infiltration_mm_h_and_initial_loss_mm"].items()
            if k not in ("building", "water") and (v[0] or v[1])))
    if "drainage" not in given:
        out.append(f"drainage network capacity {p['drainage_mm_h']:g} mm/h on paved cells")
    if "roof_rain" not in given:
        out.append(f"roof rain {p['roof_rain_means']}")
    out.append(f"local inertial scheme: theta {p['theta']:g}, CFL alpha {p['alpha']:g}, no flux below "
               f"{p['h_min_m'] * 1000:g} mm, Froude cap {p['froude_max']:g}, model grid {p['cell_size_m']:g} m")
    out.append(f"hazard d(v+0.5)+DF with FD2321 debris factors; arrival at {p['arrival_depth_m']:g} m; "
               f"speeds where deeper than {p['speed_depth_m']:g} m")
    out.append(f"flooded building: more than {config.flood_threshold:g} m of water on the ring of cells around it")
    out.extend(m.get("warnings", []))
    return out


def _road_line(twin: Twin, road: str, name: str):
    """The centre line of the road segments named ``road`` (merged)."""
    import shapely

    roads = twin.roads
    sel = roads[roads["name"] == road] if len(roads) else roads
    if len(sel) == 0:
        known = ", ".join(sorted(set(roads["name"]) - {""})[:12]) if len(roads) else "none"
        raise TwinValueError(f"[[interventions]] {name!r}: the twin has no road named {road!r} (roads: {known})")
    return shapely.line_merge(shapely.union_all(sel.geometry.values))


def _find_building(twin: Twin, what: str, name: str):
    b = twin.buildings
    for col in ("name", "landmark", "external_id"):
        if col in b and (b[col] == what).any():
            return b[b[col] == what].iloc[0]
    raise TwinValueError(f"{name}: the twin has no building named {what!r}")


def _building_point(twin: Twin, what: str, name: str):
    """The centroid of the building whose name (or landmark key) is ``what``."""
    return _find_building(twin, what, f"[[interventions]] {name!r}").geometry.centroid


def _gauge_near(twin: Twin, what: str, gname: str) -> tuple[float, float]:
    """The centre of the open cell nearest to a building's centroid (a gauge at its door)."""
    p = _find_building(twin, what, f"[outputs] gauges.{gname}").geometry.centroid
    g = twin.grid
    open_ = twin.array("building_id") == 0
    r, c = np.nonzero(open_)
    x, y = g.xy(r, c)
    k = int(np.argmin((x - p.x) ** 2 + (y - p.y) ** 2))
    return float(x[k]), float(y[k])


def _open_water(wl: np.ndarray) -> np.ndarray:
    """Permanent water connected (4-neighbours) to a grid edge: the sea or rivers crossing the town, which a
    sea-level or river rise raises; closed ponds are not."""
    from scipy import ndimage

    water = np.isfinite(wl)
    lab, _ = ndimage.label(water)
    edge = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
    return np.isin(lab, edge[edge > 0])


def _edge(a: np.ndarray, edge: str) -> np.ndarray:
    return {"west": a[:, 0], "east": a[:, -1], "north": a[0, :], "south": a[-1, :]}[edge]


KIND = FloodKind()
