"""Lighting interventions: each returns a *new* twin with its luminaires table changed.

* :func:`led_retrofit` - new photometry, power and flux (and CCT) for a selection;
* :func:`dimming` - dimming steps (and presence detection) in the selection's operating profile;
* :func:`part_night` - a part-night switch-off window in the selection's operating profile;
* :func:`remove_luminaires`, :func:`add_luminaires`.

Selections pick luminaires by id, cabinet, kind, photometry reference, road or a zone
(bounding box or polygon); criteria combine with AND. The operating profile of each
luminaire is kept as text in the luminaires table's ``profile`` column (see
:meth:`OperatingProfile.to_spec`; empty = the scenario's base profile), so that a saved
twin carries it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from simulation.lighting.energy import DimmingStep, OperatingProfile, format_clock
from simulation.lighting.registry import PhotometryRegistry
from twin.errors import TwinValueError

__all__ = ["Selection", "led_retrofit", "dimming", "part_night", "remove_luminaires", "add_luminaires",
           "PROFILE_COLUMN"]

PROFILE_COLUMN = "profile"


def _tuple(v, cast):
    if v is None:
        return None
    if isinstance(v, (str, int, float)):
        v = [v]
    return tuple(cast(x) for x in v)


@dataclass(frozen=True)
class Selection:
    """Which luminaires an intervention touches (criteria combine with AND; none = all).

    Attributes
    ----------
    ids : tuple of int
    cabinets : tuple of str
    kinds : tuple of str
        Luminaire kinds (road, pedestrian, heritage, park, parking).
    photometry : tuple of str
        Photometry references (e.g. ``"builtin:globe-hps"``).
    roads : tuple of int
        Road ids (the luminaires' ``road_id``).
    zone : tuple (xmin, ymin, xmax, ymax) or shapely geometry
        Area [m] in the twin CRS.
    """

    ids: tuple | None = None
    cabinets: tuple | None = None
    kinds: tuple | None = None
    photometry: tuple | None = None
    roads: tuple | None = None
    zone: object = None

    @classmethod
    def from_dict(cls, d: dict | None) -> Selection:
        """From a scenario table: keys ``ids``, ``cabinets`` (or ``cabinet``), ``kinds`` (``kind``),
        ``photometry``, ``roads``, ``zone`` ([xmin, ymin, xmax, ymax])."""
        d = dict(d or {})
        alias = {"cabinet": "cabinets", "kind": "kinds", "id": "ids", "road": "roads"}
        d = {alias.get(k, k): v for k, v in d.items()}
        unknown = set(d) - {"ids", "cabinets", "kinds", "photometry", "roads", "zone"}
        if unknown:
            raise TwinValueError(f"unknown selection key(s) {', '.join(sorted(unknown))} "
                                 "(use ids, cabinets, kinds, photometry, roads, zone)")
        zone = d.get("zone")
        if zone is not None and not hasattr(zone, "geom_type"):
            if len(zone) != 4:
                raise TwinValueError(f"invalid selection zone {zone!r} (expected [xmin, ymin, xmax, ymax])")
            zone = tuple(float(v) for v in zone)
        return cls(ids=_tuple(d.get("ids"), int), cabinets=_tuple(d.get("cabinets"), str), kinds=_tuple(d.get("kinds"), str),
                   photometry=_tuple(d.get("photometry"), str), roads=_tuple(d.get("roads"), int), zone=zone)

    def mask(self, luminaires: gpd.GeoDataFrame) -> np.ndarray:
        n = len(luminaires)
        m = np.ones(n, bool)
        if self.ids is not None:
            m &= luminaires["id"].isin(self.ids).to_numpy()
        if self.cabinets is not None:
            m &= luminaires["cabinet"].astype(str).isin(self.cabinets).to_numpy()
        if self.kinds is not None:
            m &= luminaires["kind"].astype(str).isin(self.kinds).to_numpy()
        if self.photometry is not None:
            m &= luminaires["photometry"].astype(str).str.strip().isin(self.photometry).to_numpy()
        if self.roads is not None:
            m &= luminaires["road_id"].isin(self.roads).to_numpy()
        if self.zone is not None:
            zone = shapely.box(*self.zone) if isinstance(self.zone, tuple) else self.zone
            m &= shapely.contains_xy(zone, luminaires.geometry.x.to_numpy(), luminaires.geometry.y.to_numpy()) \
                if n else np.zeros(0, bool)
        return m

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in self.__dict__.items() if v is not None]
        return ", ".join(parts) or "all luminaires"


def _select(twin, select: Selection | dict | None, what: str) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    sel = select if isinstance(select, Selection) else Selection.from_dict(select)
    lum = twin.luminaires.copy()
    if PROFILE_COLUMN not in lum.columns:
        lum[PROFILE_COLUMN] = ""
    m = sel.mask(lum)
    if not m.any():
        raise TwinValueError(f"{what}: the selection ({sel.describe()}) matches no luminaire of the twin")
    return lum, m


def _result(twin, lum, step: str, record: dict):
    out = twin.copy()
    out.set_table("luminaires", lum)
    out.add_provenance(step, **record)
    return out, record


def led_retrofit(twin, select=None, *, photometry: str, power: float | None = None, flux: float | None = None,
                 efficacy: float | None = None, cct: float | None = None, year: int | None = None,
                 registry: PhotometryRegistry | None = None):
    """Replace the heads of the selected luminaires.

    Parameters
    ----------
    photometry : str
        The new photometry reference (checked now).
    power : float, optional
        New electrical power per luminaire [W].
    flux : float, optional
        New source flux [lm] (default: unchanged).
    efficacy : float, optional
        Source efficacy [lm/W]: power = flux / efficacy when ``power`` is not given.
    cct : float, optional
        New colour temperature [K] (default: the photometry's).
    year : int, optional
        Installation year written to ``installed``.

    Returns
    -------
    (Twin, dict)
        The changed copy and a record: count, power and flux before and after.

    Raises
    ------
    TwinValueError
        If neither power nor efficacy is given, values are not positive, the photometry
        cannot be resolved, or the selection is empty.
    """
    lum, m = _select(twin, select, "led_retrofit")
    phot = (registry or PhotometryRegistry()).resolve(photometry)
    new_flux = lum.loc[m, "flux"].to_numpy(float) if flux is None else np.full(m.sum(), float(flux))
    if flux is not None and not flux > 0:
        raise TwinValueError(f"led_retrofit: invalid flux {flux!r} lm (must be > 0)")
    if power is not None:
        if not power > 0:
            raise TwinValueError(f"led_retrofit: invalid power {power!r} W (must be > 0)")
        new_power = np.full(m.sum(), float(power))
    elif efficacy is not None:
        if not efficacy > 0:
            raise TwinValueError(f"led_retrofit: invalid efficacy {efficacy!r} lm/W (must be > 0)")
        new_power = new_flux / float(efficacy)
    else:
        raise TwinValueError("led_retrofit: give the new power (W) or the source efficacy (lm/W)")
    before = {"power_w": float(lum.loc[m, "power"].sum()), "flux_lm": float(lum.loc[m, "flux"].sum())}
    lum.loc[m, "photometry"] = photometry
    lum.loc[m, "flux"] = new_flux.astype(np.float32)
    lum.loc[m, "power"] = new_power.astype(np.float32)
    c = float(cct) if cct is not None else phot.cct
    lum.loc[m, "cct"] = np.float32(c)
    lum.loc[m, "ulr"] = np.float32(100 * phot.ulr)
    lum.loc[m, "n3"] = np.float32(100 * phot.n3)
    lum.loc[m, "tilt"] = np.float32(0.0)
    if year is not None:
        lum.loc[m, "installed"] = int(year)
    rec = {"intervention": "led_retrofit", "luminaires": int(m.sum()), "photometry": photometry,
           "power_before_w": before["power_w"], "power_after_w": float(new_power.sum()),
           "flux_before_lm": before["flux_lm"], "flux_after_lm": float(new_flux.sum()),
           "ids": lum.loc[m, "id"].astype(int).tolist()}
    return _result(twin, lum, "lighting: led_retrofit", rec)


def _profiles(lum, m, base: OperatingProfile, change) -> list[str]:
    specs = lum[PROFILE_COLUMN].fillna("").astype(str).to_numpy()
    cache: dict[str, str] = {}
    for k in np.flatnonzero(m):
        spec = specs[k]
        if spec not in cache:
            prof = OperatingProfile.from_spec(spec) if spec else base
            cache[spec] = change(prof).to_spec()
        specs[k] = cache[spec]
    return specs.tolist()


def dimming(twin, select=None, *, steps, presence_duty: float | None = None,
            base: OperatingProfile | None = None):
    """Dim the selected luminaires: ``steps`` is a list of ``(window, level)`` such as
    ``("22:00-06:00", 0.5)`` or :class:`DimmingStep` values; ``presence_duty`` [1] adds
    presence detection (share of dimmed time raised to full)."""
    from simulation.lighting.energy import _window

    lum, m = _select(twin, select, "dimming")
    parsed = []
    for s in steps:
        if isinstance(s, DimmingStep):
            parsed.append(s)
        else:
            win, level = s
            h0, h1 = _window(win, name="dimming window")
            parsed.append(DimmingStep(h0, h1, float(level)))
    lum[PROFILE_COLUMN] = _profiles(lum, m, base or OperatingProfile(), lambda p: p.with_dimming(parsed, presence_duty))
    rec = {"intervention": "dimming", "luminaires": int(m.sum()),
           "steps": [f"{format_clock(s.start)}-{format_clock(s.end)}@{100 * s.level:g}%" for s in parsed],
           "presence_duty": presence_duty, "ids": lum.loc[m, "id"].astype(int).tolist()}
    return _result(twin, lum, "lighting: dimming", rec)


def part_night(twin, select=None, *, start, end, base: OperatingProfile | None = None):
    """Switch the selected luminaires off between two clock times (e.g. ``"23:00"``, ``"05:00"``)."""
    from simulation.lighting.energy import parse_clock

    h0, h1 = parse_clock(start, name="switch-off start"), parse_clock(end, name="switch-off end")
    if h0 == h1:
        raise TwinValueError(f"part_night: empty switch-off window {start!r}-{end!r}")
    lum, m = _select(twin, select, "part_night")
    lum[PROFILE_COLUMN] = _profiles(lum, m, base or OperatingProfile(), lambda p: p.with_switch_off(h0, h1))
    rec = {"intervention": "part_night", "luminaires": int(m.sum()), "window": f"{format_clock(h0)}-{format_clock(h1)}",
           "cabinets": sorted(set(lum.loc[m, "cabinet"].astype(str))), "ids": lum.loc[m, "id"].astype(int).tolist()}
    return _result(twin, lum, "lighting: part_night", rec)


def remove_luminaires(twin, select=None):
    """Remove the selected luminaires."""
    lum, m = _select(twin, select, "remove_luminaires")
    rec = {"intervention": "remove_luminaires", "luminaires": int(m.sum()), "power_removed_w": float(lum.loc[m, "power"].sum()),
           "ids": lum.loc[m, "id"].astype(int).tolist()}
    return _result(twin, lum.loc[~m].reset_index(drop=True), "lighting: remove_luminaires", rec)


def add_luminaires(twin, *, points=None, road: int | None = None, spacing: float | None = None, offset: float = 0.0,
                   mounting_height: float, photometry: str, power: float, flux: float, cabinet: str = "",
                   kind: str = "road", cct: float | None = None, tilt: float = 0.0, orientation: float | None = None,
                   year: int | None = None, registry: PhotometryRegistry | None = None):
    """Add luminaires at ``points`` [(x, y), ...] or every ``spacing`` [m] along road ``road``
    (first at half a spacing, ``offset`` [m] to the left of the centre line, the arm pointing
    across the road toward its centre line, unless ``orientation`` [degree] is given).

    Raises
    ------
    TwinValueError
        If neither points nor a road and spacing are given, the road does not exist, or values are invalid.
    """
    phot = (registry or PhotometryRegistry()).resolve(photometry)
    for name, v in (("mounting_height", mounting_height), ("power", power), ("flux", flux)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise TwinValueError(f"add_luminaires: invalid {name} {v!r} (must be > 0)")
    lum = twin.luminaires.copy()
    if PROFILE_COLUMN not in lum.columns:
        lum[PROFILE_COLUMN] = ""
    orient = []
    road_ids = []
    if points is not None:
        pts = [shapely.Point(float(x), float(y)) for x, y in points]
        orient = [float(orientation or 0.0)] * len(pts)
        road_ids = [int(road or 0)] * len(pts)
    elif road is not None and spacing is not None:
        roads = twin.roads
        row = roads.loc[roads["id"] == int(road)]
        if row.empty:
            raise TwinValueError(f"add_luminaires: the twin has no road {road}")
        if not spacing > 0:
            raise TwinValueError(f"add_luminaires: invalid spacing {spacing!r} m (must be > 0)")
        line = row.geometry.iloc[0]
        n = max(1, int(line.length // spacing))
        s = (np.arange(n) + 0.5) * line.length / n
        p = shapely.line_interpolate_point(line, s)
        q = shapely.line_interpolate_point(line, np.minimum(s + 0.5, line.length))
        r = shapely.line_interpolate_point(line, np.maximum(s - 0.5, 0))
        tx = shapely.get_x(q) - shapely.get_x(r)
        ty = shapely.get_y(q) - shapely.get_y(r)
        tn = np.hypot(tx, ty)
        tn[tn == 0] = 1
        nx, ny = -ty / tn, tx / tn
        pts = list(shapely.points(shapely.get_x(p) + offset * nx, shapely.get_y(p) + offset * ny))
        side = -1.0 if offset > 0 else 1.0  # the arm points back to the centre line (a pole on the line: leftward)
        az = np.degrees(np.arctan2(side * nx, side * ny)) % 360.0
        orient = az.tolist() if orientation is None else [float(orientation)] * n
        road_ids = [int(road)] * n
    else:
        raise TwinValueError("add_luminaires: give points, or a road and a spacing")
    start = int(lum["id"].max()) + 1 if len(lum) else 1
    new = gpd.GeoDataFrame({
        "id": np.arange(start, start + len(pts), dtype=np.int32), "mounting_height": float(mounting_height),
        "orientation": orient, "tilt": float(tilt), "photometry": photometry, "power": float(power),
        "flux": float(flux), "cct": float(cct) if cct is not None else phot.cct, "ulr": 100 * phot.ulr,
        "n3": 100 * phot.n3, "cabinet": cabinet, "installed": int(year or 0), "road_id": road_ids, "kind": kind,
        PROFILE_COLUMN: "",
    }, geometry=gpd.GeoSeries(pts, crs=twin.grid.crs), crs=twin.grid.crs)
    out_tab = pd.concat([lum, new], ignore_index=True) if len(lum) else new
    rec = {"intervention": "add_luminaires", "luminaires": len(pts), "power_added_w": float(power) * len(pts),
           "ids": new["id"].astype(int).tolist()}
    return _result(twin, gpd.GeoDataFrame(out_tab, geometry="geometry", crs=twin.grid.crs), "lighting: add_luminaires",
                   rec)
