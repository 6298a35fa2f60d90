"""Scenario kind ``heat``: a heatwave day on the twin, with trees, cool surfaces, greening, shade.

Scenario file sections (units explicit, see docs/heat.md)::

    [forcing]
    type = "heatwave"            # or "epw", "csv"
    preset = "2003"              # optional: HEATWAVE_PRESETS; the keys below override it
    date = "2003-08-13"
    t_min = "22 C"
    t_max = "39.5 C"
    relative_humidity = "25 %"   # at the time of t_max
    wind_speed = "1.5 m/s"       # at 10 m
    sky = "hazy"                 # or "clear"
    # type = "epw": file = "lyon.epw", date = "2004-08-22" or "hottest"
    # type = "csv": file = "obs.csv", date = ..., timezone = "Europe/Paris"

    [parameters]                 # HeatParameters overrides, e.g. transmissivity = 0.03,
    surfaces.road.albedo = 0.12  # or per land-cover class surface properties
    tile_size = "500 m"          # optional: tile by tile on dask, with
    halo = "100 m"               # this halo (docs/tiling.md: the error bound it gives)

    [[interventions]]
    type = "trees"               # trees | cool_roofs | cool_pavements | greening | shade
    along = "roads"              # or points = [[x, y], ...], or file = "new_trees.gpkg"
    road_kinds = ["street"]
    spacing = "8 m"
    height = "10 m"
    crown_diameter = "7 m"

    [outputs]
    hours = [12, 15, 18]         # local hours whose Tmrt and UTCI maps are written
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scenarios.kinds._tiling import TILING_KEYS, parse_tiling
from scenarios.kinds.base import Indicator, Kind, KindResult
from scenarios.units import parse_quantity
from simulation.heat import interventions as _iv
from simulation.heat.forcing import HEATWAVE_PRESETS, heatwave_day
from simulation.heat.model import HeatModel
from simulation.heat.parameters import HeatParameters
from simulation.heat.summaries import building_summary, street_summary
from twin.core import Twin, layer_dataarray
from twin.errors import TwinValueError
from twin.layers import Landcover

__all__ = ["KIND", "HeatKind", "HeatConfig"]

_FORCING_KEYS = ("type", "preset", "date", "t_min", "t_max", "relative_humidity", "wind_speed", "sky", "timezone",
                 "peak_hour", "file", "latitude", "longitude", "elevation", "time_column")
_INTERVENTION_KEYS = ("type", "name", "along", "road_kinds", "road_names", "road_ids", "side", "points", "file",
                      "spacing", "height", "crown_diameter", "species", "albedo", "emissivity", "landcover",
                      "buildings", "uses", "landcover_from", "to")
_INTERVENTION_TYPES = ("trees", "cool_roofs", "cool_pavements", "greening", "shade")

#: the layers written for each run (others stay in memory)
OUTPUT_LAYERS = ("svf", "svf_veg", "tmrt_max", "utci_max", "tmrt_hottest", "utci_hottest", "heat_stress_hottest",
                 "hours_utci_above_26", "hours_utci_above_32", "hours_utci_above_38", "sun_hours", "shade_hours",
                 "tmrt_night", "utci_night", "surface_temperature_max")


@dataclass
class HeatConfig:
    """A parsed heat scenario."""

    forcing: dict
    parameters: HeatParameters
    interventions: list[dict] = field(default_factory=list)
    hours: tuple[int, ...] = (15,)
    base_dir: Path = Path(".")
    tiling: dict = field(default_factory=dict)


def _qty(section: str, key: str, value, dimension: str) -> float:
    return parse_quantity(value, dimension, name=f"{section}.{key}")


def _check_keys(section: str, table: dict, allowed) -> None:
    if not isinstance(table, dict):
        raise TwinValueError(f"[{section}] must be a table")
    for k in table:
        if k not in allowed:
            raise TwinValueError(f"[{section}] unknown key {k!r} (allowed: {', '.join(allowed)})")


class HeatKind(Kind):
    name = "heat"
    title = {"en": "Heatwave and urban heat island", "fr": "Canicule et îlot de chaleur urbain"}
    sections = {
        "forcing": _FORCING_KEYS,
        "parameters": tuple(f for f in HeatParameters.__dataclass_fields__) + TILING_KEYS,
        "interventions": _INTERVENTION_KEYS,
        "outputs": ("hours",),
    }

    # -- parsing ---------------------------------------------------------------------------------
    def parse(self, scenario: dict, *, base_dir: Path) -> HeatConfig:
        base_dir = Path(base_dir)
        forcing = dict(scenario.get("forcing", {}) or {})
        _check_keys("forcing", forcing, _FORCING_KEYS)
        ftype = forcing.get("type", "heatwave")
        if ftype not in ("heatwave", "epw", "csv"):
            raise TwinValueError(f"forcing.type: {ftype!r} (use heatwave, epw or csv)")
        f: dict[str, Any] = {"type": ftype}
        if ftype == "heatwave":
            preset = forcing.get("preset")
            if preset is not None:
                if str(preset) not in HEATWAVE_PRESETS:
                    raise TwinValueError(f"forcing.preset: {preset!r} (known: {', '.join(HEATWAVE_PRESETS)})")
                f.update(HEATWAVE_PRESETS[str(preset)])
                f["preset"] = str(preset)
            if "date" in forcing:
                f["date"] = str(forcing["date"])
            for key, dim, scale in (("t_min", "temperature", 1.0), ("t_max", "temperature", 1.0),
                                    ("relative_humidity", "ratio", 100.0), ("wind_speed", "speed", 1.0)):
                if key in forcing:
                    f[key] = _qty("forcing", key, forcing[key], dim) * scale
            for key in ("sky", "timezone"):
                if key in forcing:
                    f[key] = str(forcing[key])
            if "peak_hour" in forcing:
                f["peak_hour"] = float(forcing["peak_hour"])
            missing = [k for k in ("date", "t_min", "t_max", "relative_humidity", "wind_speed") if k not in f]
            if missing:
                raise TwinValueError(f"forcing: a heatwave day needs {', '.join(missing)} (or a preset)")
        else:
            if "file" not in forcing:
                raise TwinValueError(f"forcing: type {ftype!r} needs file = \"...\"")
            path = (base_dir / str(forcing["file"])).resolve()
            if not path.is_file():
                raise TwinValueError(f"forcing.file: {path} does not exist")
            f["file"] = path
            if "date" not in forcing:
                raise TwinValueError("forcing: give date = \"YYYY-MM-DD\" (or \"hottest\") to choose the day")
            f["date"] = str(forcing["date"])
            for key in ("timezone", "time_column"):
                if key in forcing:
                    f[key] = str(forcing[key])
            for key in ("latitude", "longitude", "elevation"):
                if key in forcing:
                    f[key] = float(forcing[key])
        params = dict(scenario.get("parameters", {}) or {})
        tiling = parse_tiling(params)
        parameters = HeatParameters.from_dict(params)
        ivs = []
        for k, iv in enumerate(scenario.get("interventions", []) or []):
            ivs.append(self._parse_intervention(k, iv, base_dir))
        outputs = scenario.get("outputs", {}) or {}
        _check_keys("outputs", outputs, ("hours",))
        hours = outputs.get("hours", [15])
        if not isinstance(hours, list) or not all(isinstance(h, int) and 0 <= h <= 23 for h in hours):
            raise TwinValueError(f"outputs.hours: {hours!r} (a list of local hours 0..23)")
        hours = tuple(sorted(set(hours) | {15}))
        return HeatConfig(forcing=f, parameters=parameters, interventions=ivs, hours=hours, base_dir=base_dir,
                          tiling=tiling)

    def _parse_intervention(self, k: int, iv: dict, base_dir: Path) -> dict:
        where = f"interventions[{k}]"
        _check_keys(where, iv, _INTERVENTION_KEYS)
        t = iv.get("type")
        if t not in _INTERVENTION_TYPES:
            raise TwinValueError(f"{where}.type: {t!r} (use {', '.join(_INTERVENTION_TYPES)})")
        out: dict[str, Any] = {"type": t, "name": str(iv.get("name", t))}
        if "file" in iv:
            path = (base_dir / str(iv["file"])).resolve()
            if not path.is_file():
                raise TwinValueError(f"{where}.file: {path} does not exist")
            out["file"] = path
        for key, dim in (("spacing", "length"), ("height", "length"), ("crown_diameter", "length")):
            if key in iv:
                out[key] = _qty(where, key, iv[key], dim)
        for key in ("albedo", "emissivity"):
            if key in iv:
                v = iv[key]
                out[key] = _qty(where, key, v, "ratio") if isinstance(v, str) else float(v)
                if not 0.0 <= out[key] <= 1.0:
                    raise TwinValueError(f"{where}.{key}: {v!r} (must be within 0..1)")
        for key in ("road_kinds", "road_names", "road_ids", "landcover", "buildings", "uses", "landcover_from"):
            if key in iv:
                if not isinstance(iv[key], list):
                    raise TwinValueError(f"{where}.{key} must be a list")
                out[key] = list(iv[key])
        for key in ("along", "side", "species", "to"):
            if key in iv:
                out[key] = str(iv[key])
        if "points" in iv:
            pts = np.asarray(iv["points"], float)
            if pts.ndim != 2 or pts.shape[1] != 2 or not np.isfinite(pts).all():
                raise TwinValueError(f"{where}.points must be a list of [x, y] pairs")
            out["points"] = pts
        if t == "trees":
            if not any(k in out for k in ("points", "file")) and out.get("along") != "roads":
                raise TwinValueError(f"{where}: trees need points, file, or along = \"roads\"")
            for key in ("height", "crown_diameter"):
                if key not in out:
                    raise TwinValueError(f"{where}: trees need {key} (e.g. \"10 m\")")
        if t in ("cool_roofs", "cool_pavements") and "albedo" not in out:
            raise TwinValueError(f"{where}: {t} needs albedo (e.g. 0.6)")
        if t == "shade" and "file" not in out:
            raise TwinValueError(f"{where}: shade needs file = polygons of the structures")
        if t == "greening" and "file" not in out and "landcover_from" not in out:
            raise TwinValueError(f"{where}: greening needs file (polygons) or landcover_from")
        return out

    # -- interventions --------------------------------------------------------------------------
    def apply_interventions(self, twin: Twin, config: HeatConfig) -> Twin:
        out = twin.copy()
        for iv in config.interventions:
            out = self._apply_one(out, iv)
        return out

    @staticmethod
    def _read_geoms(path, crs):
        import geopandas as gpd

        gdf = gpd.read_file(path)
        if gdf.crs is None:
            raise TwinValueError(f"{path}: no CRS")
        return gdf.to_crs(crs).geometry.values

    def _apply_one(self, twin: Twin, iv: dict) -> Twin:
        t = iv["type"]
        crs = twin.grid.crs
        if t == "trees":
            xs, ys, polys = [], [], None
            if "points" in iv:
                xs.append(iv["points"][:, 0])
                ys.append(iv["points"][:, 1])
            if "file" in iv:
                geoms = self._read_geoms(iv["file"], crs)
                pts = [g for g in geoms if g.geom_type == "Point"]
                polys = [g for g in geoms if g.geom_type in ("Polygon", "MultiPolygon")] or None
                if pts:
                    xs.append(np.array([p.x for p in pts]))
                    ys.append(np.array([p.y for p in pts]))
            if iv.get("along") == "roads":
                x, y = _iv.street_tree_positions(twin, spacing=iv.get("spacing", 8.0), road_kinds=iv.get("road_kinds"),
                                                 road_names=iv.get("road_names"), road_ids=iv.get("road_ids"),
                                                 side=iv.get("side", "both"))
                xs.append(x)
                ys.append(y)
            x = np.concatenate(xs) if xs else None
            y = np.concatenate(ys) if ys else None
            return _iv.plant_trees(twin, x=x, y=y, polygons=polys, spacing=iv.get("spacing", 8.0), height=iv["height"],
                                   crown_diameter=iv["crown_diameter"], species=iv.get("species", ""), note=iv["name"])
        if t == "cool_roofs":
            buildings = iv.get("buildings")
            if "uses" in iv:
                b = twin.buildings
                ids = b.loc[b["use"].isin(iv["uses"]), "id"].tolist()
                buildings = ids if buildings is None else sorted(set(buildings) & set(ids))
            return _iv.cool_surfaces(twin, albedo=iv["albedo"], emissivity=iv.get("emissivity"), landcover=["building"],
                                     buildings=buildings, note=iv["name"])
        if t == "cool_pavements":
            polys = self._read_geoms(iv["file"], crs) if "file" in iv else None
            return _iv.cool_surfaces(twin, albedo=iv["albedo"], emissivity=iv.get("emissivity"),
                                     landcover=iv.get("landcover", ["road", "sidewalk", "square", "parking"]),
                                     polygons=polys, note=iv["name"])
        if t == "greening":
            polys = self._read_geoms(iv["file"], crs) if "file" in iv else None
            return _iv.greening(twin, polygons=polys, landcover_from=iv.get("landcover_from"), to=iv.get("to", "grass"),
                                note=iv["name"])
        if t == "shade":
            return _iv.shade_structures(twin, polygons=self._read_geoms(iv["file"], crs), height=iv.get("height", 4.0),
                                        note=iv["name"])
        raise TwinValueError(f"unknown heat intervention {t!r}")

    # -- simulation -----------------------------------------------------------------------------
    def weather(self, twin: Twin, config: HeatConfig) -> pd.DataFrame:
        """The forcing day as a weather table."""
        f = dict(config.forcing)
        lat, lon = twin.grid.centre_latlon()
        if f["type"] == "heatwave":
            args = {k: f[k] for k in ("date", "t_min", "t_max", "relative_humidity", "wind_speed")}
            for k in ("sky", "timezone", "peak_hour"):
                if k in f:
                    args[k] = f[k]
            return heatwave_day(latitude=lat, longitude=lon, **args)
        from importers.weather import read_epw, read_weather_csv

        if f["type"] == "epw":
            w = read_epw(f["file"])
        else:
            w = read_weather_csv(f["file"], latitude=f.get("latitude", lat), longitude=f.get("longitude", lon),
                                 elevation=f.get("elevation", 0.0), timezone=f.get("timezone"),
                                 time_column=f.get("time_column", "time"))
        if f["date"] == "hottest":
            day = w["air_temperature"].resample("D").max().idxmax()
        else:
            try:
                day = pd.Timestamp(f["date"]).tz_localize(w.index.tz)
            except (ValueError, TypeError):
                raise TwinValueError(f"forcing.date: {f['date']!r} is not a date") from None
            if "year_coerced" in w.attrs:  # a typical year: its days are found by month and day
                day = day.replace(year=int(w.attrs["year_coerced"]))
        sel = w.loc[(w.index >= day) & (w.index < day + pd.Timedelta(days=1))]
        if len(sel) != 24:
            raise TwinValueError(f"forcing: {f['file'].name} has {len(sel)} hours on {day.date()}, expected 24")
        sel.attrs = dict(w.attrs)
        sel.attrs["source"] = f"{w.attrs.get('source', '')}, day {day.date()}"
        return sel

    def simulate(self, twin: Twin, config: HeatConfig) -> KindResult:
        weather = self.weather(twin, config)
        model = HeatModel(twin, parameters=config.parameters, **config.tiling)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = model.run(weather, keep_hours=config.hours)
        grid = twin.grid
        layers = {}
        for name in OUTPUT_LAYERS:
            if name in res.layers:
                arr, units, long_name = res.layers[name]
                layers[name] = layer_dataarray(grid, name, arr, units=units, long_name=long_name)
        for ts, maps in res.hourly.items():
            for q in ("tmrt", "utci"):
                name = f"{q}_{ts.hour:02d}h"
                layers[name] = layer_dataarray(grid, name, maps[q], units="degC",
                                               long_name=f"{'Tmrt' if q == 'tmrt' else 'UTCI'} at {ts.hour:02d}:00-{ts.hour + 1:02d}:00")
        buildings = building_summary(twin, res.layers)
        streets = street_summary(twin, res.layers)
        tables = {"streets": streets} if len(streets) else {}
        meta = dict(res.meta)
        meta["hourly"] = [{"time": str(i), **{k: (None if isinstance(v, float) and not math.isfinite(v) else
                                                  round(float(v), 3)) for k, v in r.items()}}
                          for i, r in res.series.iterrows()]
        meta["warnings"] = [str(w.message) for w in caught]
        return KindResult(layers=layers, buildings=buildings, tables=tables,
                          indicators=self.indicators(twin, res, buildings), meta=meta)

    def indicators(self, twin: Twin, res, buildings: pd.DataFrame) -> list[Indicator]:
        """The headline numbers of a heat run."""
        bid = twin.array("building_id")
        lc = twin.array("landcover")
        open_ = bid == 0
        walk = open_ & (lc == Landcover.SIDEWALK)
        walk_label = "sidewalks"
        if walk.sum() == 0:
            walk = open_ & np.isin(lc, [Landcover.SIDEWALK, Landcover.SQUARE, Landcover.ROAD, Landcover.PARKING])
            walk_label = "streets"
        if walk.sum() == 0:
            walk = open_
            walk_label = "open ground"
        cell_area = twin.grid.cell_area

        def mean(a, m):
            v = a[m]
            v = v[np.isfinite(v)]
            return float(v.mean()) if v.size else float("nan")

        inds = []
        u_hot = res["utci_hottest"] if "utci_hottest" in res.layers else None
        hh = res.hottest.strftime("%H:%M") if res.hottest is not None else "-"
        if u_hot is not None:
            inds.append(Indicator("area_strong_heat_stress_hottest", float(np.count_nonzero(open_ & (u_hot >= 32.0)) * cell_area),
                                  "m2", {"en": f"area in strong heat stress or worse (UTCI >= 32 C) at the hottest hour ({hh})",
                                         "fr": f"surface en fort stress thermique ou pire (UTCI >= 32 C) à l'heure la plus chaude ({hh})"},
                                  "lower"))
            for thr, key, en, fr in ((38.0, "very_strong", "very strong heat stress or worse (UTCI >= 38 C)",
                                      "très fort stress thermique ou pire (UTCI >= 38 C)"),
                                     (46.0, "extreme", "extreme heat stress (UTCI >= 46 C)",
                                      "stress thermique extrême (UTCI >= 46 C)")):
                inds.append(Indicator(f"area_{key}_heat_stress_hottest",
                                      float(np.count_nonzero(open_ & (u_hot >= thr)) * cell_area), "m2",
                                      {"en": f"area in {en} at the hottest hour ({hh})",
                                       "fr": f"surface en {fr} à l'heure la plus chaude ({hh})"}, "lower"))
            inds.append(Indicator("utci_hottest_mean", mean(u_hot, open_), "degC",
                                  {"en": f"mean UTCI outdoors at the hottest hour ({hh})",
                                   "fr": f"UTCI moyen en extérieur à l'heure la plus chaude ({hh})"}, "lower"))
        h15 = next((ts for ts in res.hourly if ts.hour == 15), None)
        if h15 is not None:
            inds.append(Indicator("utci_sidewalks_15h", mean(res.hourly[h15]["utci"], walk), "degC",
                                  {"en": f"mean UTCI on {walk_label} at 15:00",
                                   "fr": f"UTCI moyen sur les {'trottoirs' if walk_label == 'sidewalks' else 'rues'} à 15 h"},
                                  "lower"))
        inds.append(Indicator("tmrt_max_mean", mean(res["tmrt_max"], open_), "degC",
                              {"en": "mean over outdoor cells of the day's highest mean radiant temperature",
                               "fr": "moyenne en extérieur de la température moyenne radiante maximale"}, "lower"))
        inds.append(Indicator("hours_utci_above_32_mean", mean(res["hours_utci_above_32"], open_), "h",
                              {"en": "mean hours of strong heat stress (UTCI >= 32 C) outdoors",
                               "fr": "nombre moyen d'heures de fort stress thermique (UTCI >= 32 C) en extérieur"}, "lower"))
        inds.append(Indicator("hours_utci_above_38_mean", mean(res["hours_utci_above_38"], open_), "h",
                              {"en": "mean hours of very strong heat stress (UTCI >= 38 C) outdoors",
                               "fr": "nombre moyen d'heures de très fort stress thermique (UTCI >= 38 C) en extérieur"},
                              "lower"))
        inds.append(Indicator("shade_hours_sidewalks", mean(res["shade_hours"], walk), "h",
                              {"en": f"mean hours of shade on {walk_label} while the sun is up",
                               "fr": f"nombre moyen d'heures d'ombre sur les {'trottoirs' if walk_label == 'sidewalks' else 'rues'}"},
                              "higher"))
        inds.append(Indicator("utci_night_mean", mean(res["utci_night"], open_), "degC",
                              {"en": "mean night-time UTCI outdoors", "fr": "UTCI moyen la nuit en extérieur"}, "lower"))
        roofs = bid > 0
        if roofs.any():
            inds.append(Indicator("roof_temperature_max_mean", mean(res["surface_temperature_max"], roofs), "degC",
                                  {"en": "mean highest roof surface temperature",
                                   "fr": "température maximale moyenne des toitures"}, "lower"))
        vul = buildings[buildings["vulnerable"]] if len(buildings) and "vulnerable" in buildings else buildings.iloc[0:0]
        if len(vul) and "utci_hottest_around" in vul:
            inds.append(Indicator("vulnerable_sites_strong_heat_stress",
                                  float((vul["utci_hottest_around"] >= 32.0).sum()), "1",
                                  {"en": "schools, care homes and health sites in strong heat stress at the hottest hour",
                                   "fr": "écoles, EHPAD et sites de santé en fort stress thermique à l'heure la plus chaude"},
                                  "lower"))
            inds.append(Indicator("vulnerable_sites_utci_hottest", float(np.nanmean(vul["utci_hottest_around"])), "degC",
                                  {"en": "mean UTCI around schools, care homes and health sites at the hottest hour",
                                   "fr": "UTCI moyen aux abords des écoles, EHPAD et sites de santé à l'heure la plus chaude"},
                                  "lower"))
        ta = res.series["air_temperature"].max() if res.series is not None else float("nan")
        inds.append(Indicator("air_temperature_max", float(ta), "degC",
                              {"en": "highest air temperature of the day (forcing)",
                               "fr": "température de l'air maximale du jour (forçage)"}, ""))
        return inds

    # -- pictures -------------------------------------------------------------------------------
    def render(self, twin: Twin, result: KindResult, out_dir: Path, *, baseline: KindResult | None = None,
               baseline_twin: Twin | None = None, view: str | None = None, lang: str = "en",
               size: tuple[int, int] = (1600, 1000), title: str = "") -> list[Path]:
        from scenarios.kinds._heat_maps import render_heat_maps

        out_dir = Path(out_dir)
        paths = render_heat_maps(twin, result, out_dir, baseline=baseline, lang=lang, size=size, title=title)
        if "utci_hottest" not in result.layers:
            return paths
        from twin.render import UTCI_CLASSES, Scene, side_by_side

        hh = next((h["time"][11:16] for h in result.meta.get("hourly", []) if h["time"] == result.meta.get("hottest_hour")),
                  "")
        label = {"en": f"UTCI at {hh}", "fr": f"UTCI à {hh}"}

        def scene(t, res, classes=True):
            values = res.layers["utci_hottest"].values
            if classes:
                return Scene.of(t, lang=lang).drape(values, label=label, units="°C", classes=UTCI_CLASSES)
            # before/after: a continuous scale shows changes that stay within one stress class
            return Scene.of(t, lang=lang).drape(values, label=label, units="°C", cmap="RdYlBu_r", clim=(30.0, 50.0))

        t_main = title or {"en": "Heatwave: thermal stress at the hottest hour",
                           "fr": "Canicule : stress thermique à l'heure la plus chaude"}[lang if lang == "fr" else "en"]
        paths.append(scene(twin, result).screenshot(out_dir / "heat_overview.png", view="overview", size=size,
                                                     title=t_main))
        if baseline is not None and "utci_hottest" in baseline.layers:
            before = baseline_twin if baseline_twin is not None else twin
            titles = {"en": ["Today", "With the scenario"], "fr": ["Aujourd'hui", "Avec le scénario"]}[
                "fr" if lang == "fr" else "en"]
            paths.append(side_by_side([scene(before, baseline, False), scene(twin, result, False)],
                                      out_dir / "heat_before_after.png",
                                      titles=titles, title=t_main, size=(max(600, size[0] // 2), size[1]),
                                      view="overview"))
        return paths


KIND = HeatKind()
