"""What drives a flood run: rain, inflow hydrographs, boundary water levels.

Every forcing carries explicit units and is checked against the grid before a run:

- :class:`Rain`: a hyetograph [mm h-1] uniform over the grid, or rain rasters [mm h-1]
  over time (radar-like). Intensities hold over their interval (step function); after
  the last time the rain stops.
- :class:`Inflow`: a hydrograph [m3 s-1] entering at points or along a line (split
  equally over the cells the line crosses); linear between breakpoints, zero after.
- :class:`LevelBoundary`: a water-level time series [m] imposed on an edge of the grid
  (river stage, sea level + surge) or held on a set of cells; linear between
  breakpoints, and it must cover the whole run. Levels may be given relative to the
  twin's ``water_level`` layer (a river rising by so many metres along its whole length).
- :class:`FreeOutflow`: an edge where water leaves at normal depth for a given slope.
- :class:`Forcing`: the duration and all of the above.

A run truncates its time steps at every breakpoint, so that rain and inflow volumes
are integrated exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPoint, Point
from shapely.geometry.base import BaseGeometry

from twin.errors import TwinValueError
from twin.grid import Grid

__all__ = ["EDGES", "MM_PER_H", "Forcing", "FreeOutflow", "Inflow", "LevelBoundary", "Rain", "TimeSeries"]

#: Metres per second in one millimetre per hour.
MM_PER_H = 1e-3 / 3600.0

EDGES = ("west", "east", "north", "south")


@dataclass(frozen=True)
class TimeSeries:
    """Values at times, with units, and how to read between times.

    Parameters
    ----------
    times : array_like
        Increasing times from the start of the run [s].
    values : array_like
        Values at ``times``, in ``units``.
    units : str
        e.g. ``"mm h-1"``, ``"m3 s-1"``, ``"m"``.
    kind : str
        ``"step"`` (a value holds until the next time; used for rain) or ``"linear"``.
    name : str
        What the series is, for messages.
    nonnegative : bool
        Refuse negative values.
    """

    times: np.ndarray
    values: np.ndarray
    units: str
    kind: str = "linear"
    name: str = "series"
    nonnegative: bool = True

    def __post_init__(self):
        try:
            t = np.asarray(self.times, dtype=np.float64).reshape(-1)
            v = np.asarray(self.values, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise TwinValueError(f"{self.name}: times and values must be numbers") from None
        if t.size == 0 or t.size != v.size:
            raise TwinValueError(f"{self.name}: {t.size} times for {v.size} values (need as many, at least one)")
        if not np.all(np.isfinite(t)):
            raise TwinValueError(f"{self.name}: a time is missing or not finite")
        if np.any(np.diff(t) <= 0):
            k = int(np.argmax(np.diff(t) <= 0))
            raise TwinValueError(f"{self.name}: times must increase (time {t[k + 1]:g} s follows {t[k]:g} s)")
        bad = ~np.isfinite(v)
        if bad.any():
            k = int(np.argmax(bad))
            raise TwinValueError(f"{self.name}: missing value (NaN) at {t[k]:g} s")
        if self.nonnegative and np.any(v < 0):
            k = int(np.argmax(v < 0))
            raise TwinValueError(f"{self.name}: value {v[k]:g} {self.units} at {t[k]:g} s is negative")
        if self.kind not in ("step", "linear"):
            raise TwinValueError(f"{self.name}: kind must be 'step' or 'linear', not {self.kind!r}")
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "values", v)

    @classmethod
    def constant(cls, value: float, *, start: float = 0.0, end: float, units: str, kind: str = "step",
                 name: str = "series", nonnegative: bool = True) -> TimeSeries:
        """``value`` from ``start`` to ``end`` [s], zero after (for a step series)."""
        if kind == "step":
            return cls([start, end], [value, 0.0], units, kind, name, nonnegative)
        return cls([start, end], [value, value], units, kind, name, nonnegative)

    @property
    def start(self) -> float:
        return float(self.times[0])

    @property
    def end(self) -> float:
        return float(self.times[-1])

    def at(self, t: float) -> float:
        """The value at time ``t`` [s]: zero before the first time and, for a step series, from the
        last time on (the last time ends it); a linear series is zero after its last time."""
        ts, vs = self.times, self.values
        if t < ts[0] or t > ts[-1]:
            return 0.0
        if self.kind == "step":
            if t >= ts[-1]:
                return 0.0
            k = int(np.searchsorted(ts, t, side="right")) - 1
            return float(vs[k])
        return float(np.interp(t, ts, vs))

    def integral(self, t0: float, t1: float) -> float:
        """Integral of the series over ``[t0, t1]`` (zero outside its times) [units x s]."""
        ts, vs = self.times, self.values
        if self.kind == "step":
            edges = np.append(ts, np.inf)
            total = 0.0
            for k in range(len(ts) - 1):
                a, b = max(t0, edges[k]), min(t1, edges[k + 1])
                if b > a:
                    total += vs[k] * (b - a)
            return total
        grid = np.unique(np.clip(np.concatenate([[t0, t1], ts]), t0, t1))
        vals = np.where((grid >= ts[0]) & (grid <= ts[-1]), np.interp(grid, ts, vs), 0.0)
        return float(np.trapezoid(vals, grid)) if hasattr(np, "trapezoid") else float(np.trapz(vals, grid))

    def scaled(self, factor: float, *, units: str) -> TimeSeries:
        return TimeSeries(self.times, self.values * factor, units, self.kind, self.name, self.nonnegative)


def _series(obj, *, units: str, kind: str, name: str, nonnegative: bool = True) -> TimeSeries:
    """Accept a TimeSeries or a sequence of (time [s], value) pairs."""
    if isinstance(obj, TimeSeries):
        if obj.units != units:
            raise TwinValueError(f"{name}: series in {obj.units!r}, expected {units!r}")
        return TimeSeries(obj.times, obj.values, units, kind, name, nonnegative)
    try:
        arr = np.asarray(obj, dtype=np.float64)
    except (TypeError, ValueError):
        raise TwinValueError(f"{name}: expected (time [s], value) pairs, got {obj!r}") from None
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise TwinValueError(f"{name}: expected (time [s], value) pairs, got an array of shape {arr.shape}")
    return TimeSeries(arr[:, 0], arr[:, 1], units, kind, name, nonnegative)


@dataclass(frozen=True)
class Rain:
    """Rain on the grid.

    Parameters
    ----------
    intensity : TimeSeries
        Rain intensity [mm h-1] (a step series: each value holds until the next time;
        the rain stops after the last time). For raster rain, a multiplier [1] of the frames.
    frames : ndarray, optional
        ``(T, nrows, ncols)`` rain intensity rasters [mm h-1], frame ``k`` from
        ``frame_times[k]`` to the next; ``intensity`` then scales them.
    frame_times : array_like, optional
        Start time of each frame [s].
    """

    intensity: TimeSeries
    frames: np.ndarray | None = None
    frame_times: np.ndarray | None = None

    def __post_init__(self):
        units = "1" if self.frames is not None else "mm h-1"
        s = _series(self.intensity, units=units, kind="step", name="rain series")
        object.__setattr__(self, "intensity", s)
        if self.frames is not None:
            f = np.asarray(self.frames, dtype=np.float32)
            if f.ndim != 3:
                raise TwinValueError(f"rain frames: expected a (time, rows, cols) array, got shape {f.shape}")
            if not np.all(np.isfinite(f)):
                raise TwinValueError("rain frames: missing values (NaN) in the rain rasters")
            if np.any(f < 0):
                raise TwinValueError(f"rain frames: negative intensity {float(f.min()):g} mm/h")
            ft = np.asarray(self.frame_times, dtype=np.float64).reshape(-1)
            if ft.size != f.shape[0] or np.any(np.diff(ft) <= 0):
                raise TwinValueError("rain frames: frame_times must be increasing, one per frame")
            object.__setattr__(self, "frames", f)
            object.__setattr__(self, "frame_times", ft)

    @classmethod
    def constant(cls, rate_mm_h: float, *, duration: float, start: float = 0.0) -> Rain:
        """``rate_mm_h`` [mm h-1] from ``start`` for ``duration`` [s]."""
        rate = float(rate_mm_h)
        if not np.isfinite(rate) or rate < 0:
            raise TwinValueError(f"rain: invalid intensity {rate_mm_h!r} mm/h (must be >= 0)")
        if not duration > 0:
            raise TwinValueError(f"rain: invalid duration {duration!r} s (must be > 0)")
        return cls(TimeSeries([start, start + duration], [rate, 0.0], "mm h-1", "step", "rain series"))

    @classmethod
    def hyetograph(cls, times_s: Sequence[float], rates_mm_h: Sequence[float]) -> Rain:
        """Intensities ``rates_mm_h`` [mm h-1] from each of ``times_s`` [s] to the next; the last one ends the rain."""
        return cls(TimeSeries(times_s, rates_mm_h, "mm h-1", "step", "rain series"))

    @classmethod
    def raster(cls, frame_times_s: Sequence[float], frames_mm_h, *, end: float) -> Rain:
        """Rain rasters [mm h-1] starting at ``frame_times_s`` [s]; the rain stops at ``end`` [s]."""
        ft = np.asarray(frame_times_s, dtype=np.float64)
        series = TimeSeries(np.append(ft[:1], [end]), [1.0, 0.0], "1", "step", "rain series")
        return cls(series, frames=frames_mm_h, frame_times=ft)

    @property
    def breakpoints(self) -> np.ndarray:
        bp = self.intensity.times
        if self.frame_times is not None:
            bp = np.union1d(bp, self.frame_times)
        return bp

    def depth_mm(self) -> float:
        """Total rain depth [mm] of a uniform rain (NaN for rasters)."""
        if self.frames is not None:
            return float("nan")
        return self.intensity.integral(-np.inf, np.inf) / 3600.0


def _geometry(where, *, name: str) -> BaseGeometry:
    if isinstance(where, BaseGeometry):
        return where
    try:
        arr = np.asarray(where, dtype=np.float64)
    except (TypeError, ValueError):
        raise TwinValueError(f"{name}: expected a point (x, y), a list of points or a shapely geometry") from None
    if arr.shape == (2,):
        return Point(arr)
    if arr.ndim == 2 and arr.shape[1] == 2 and arr.shape[0] >= 1:
        return MultiPoint(arr) if arr.shape[0] == 1 else LineString(arr)
    raise TwinValueError(f"{name}: expected a point (x, y) or a line [(x, y), ...], got shape {arr.shape}")


def line_cells(grid: Grid, geom: BaseGeometry) -> tuple[np.ndarray, np.ndarray, list[tuple[float, float]]]:
    """Rows and columns of the cells a point, points or line falls in (in order, unique), and the points outside."""
    pts: list[tuple[float, float]] = []
    for part in getattr(geom, "geoms", [geom]):
        if isinstance(part, Point):
            pts.append((part.x, part.y))
        elif isinstance(part, LineString):
            length = part.length
            n = max(2, int(np.ceil(length / (grid.cell_size / 4.0))) + 1)
            d = np.linspace(0.0, length, n)
            p = shapely.line_interpolate_point(part, d)
            pts.extend(zip(shapely.get_x(p), shapely.get_y(p)))
        else:
            raise TwinValueError(f"unsupported geometry {part.geom_type} (use points or lines)")
    xy = np.asarray(pts, dtype=np.float64)
    inside = grid.contains(xy[:, 0], xy[:, 1])
    outside = [tuple(p) for p in xy[~inside]]
    r, c = grid.rowcol(xy[inside, 0], xy[inside, 1])
    flat = r * grid.ncols + c
    _, first = np.unique(flat, return_index=True)
    keep = np.sort(first)
    return r[keep], c[keep], outside


@dataclass(frozen=True)
class Inflow:
    """A hydrograph entering the grid at points or along a line.

    Parameters
    ----------
    discharge : TimeSeries or sequence of (time [s], Q [m3 s-1])
        Linear between breakpoints, zero before the first and after the last.
    where : (x, y), [(x, y), ...] or shapely geometry
        A point, or a line (the discharge is split equally over the cells it crosses),
        in the twin's CRS [m].
    name : str
    """

    discharge: TimeSeries
    where: object
    name: str = "inflow"

    def __post_init__(self):
        object.__setattr__(self, "discharge", _series(self.discharge, units="m3 s-1", kind="linear",
                                                      name=f"inflow {self.name!r}"))
        object.__setattr__(self, "where", _geometry(self.where, name=f"inflow {self.name!r}"))

    def cells(self, grid: Grid, wall: np.ndarray, building_id: np.ndarray | None = None) -> np.ndarray:
        """Flat indices of the inflow cells.

        Raises
        ------
        TwinValueError
            If a point lies outside the grid or inside a building.
        """
        r, c, outside = line_cells(grid, self.where)
        if outside:
            x, y = outside[0]
            raise TwinValueError(f"inflow {self.name!r}: point ({x:.1f}, {y:.1f}) is outside the grid "
                                 f"(x {grid.xmin:.1f}..{grid.xmax:.1f}, y {grid.ymin:.1f}..{grid.ymax:.1f})")
        inb = wall[r, c]
        if inb.any():
            k = int(np.argmax(inb))
            x, y = grid.xy(r[k], c[k])
            bid = f" {int(building_id[r[k], c[k]])}" if building_id is not None else ""
            raise TwinValueError(f"inflow {self.name!r}: cell at ({float(x):.1f}, {float(y):.1f}) is inside building{bid} "
                                 f"(buildings are walls); move the inflow to open ground")
        return (r * grid.ncols + c).astype(np.int64)


@dataclass(frozen=True)
class LevelBoundary:
    """A water level imposed on a grid edge (or part of it), or held on a set of cells.

    Parameters
    ----------
    level : TimeSeries or sequence of (time [s], level [m])
        Linear between breakpoints; must cover the whole run. Absolute altitude [m], or
        a rise above the twin's ``water_level`` when ``relative=True``.
    edge : str, optional
        ``"west"``, ``"east"``, ``"north"`` or ``"south"``: the level acts through the
        faces of that edge (water flows in and out by the momentum equation).
    span : (float, float), optional
        Along the edge, the coordinate range (y for west/east, x for north/south) [m]
        where the level applies; the whole edge by default.
    cells : ndarray of bool, optional
        Instead of an edge: cells held at the level (their depth is set every step and
        the exchanged volume booked).
    relative : bool
        Levels are rises above the ``water_level`` layer (only where it is defined).
    name : str
    """

    level: TimeSeries
    edge: str | None = None
    span: tuple[float, float] | None = None
    cells: np.ndarray | None = None
    relative: bool = False
    name: str = "level"

    def __post_init__(self):
        object.__setattr__(self, "level", _series(self.level, units="m", kind="linear",
                                                  name=f"level boundary {self.name!r}", nonnegative=False))
        if (self.edge is None) == (self.cells is None):
            raise TwinValueError(f"level boundary {self.name!r}: give either an edge or cells")
        if self.edge is not None and self.edge not in EDGES:
            raise TwinValueError(f"level boundary {self.name!r}: edge {self.edge!r} is not one of {', '.join(EDGES)}")
        if self.span is not None:
            a, b = (float(v) for v in self.span)
            if not b > a:
                raise TwinValueError(f"level boundary {self.name!r}: span {self.span!r} must be (low, high)")
            object.__setattr__(self, "span", (a, b))

    def check_covers(self, duration: float) -> None:
        s = self.level
        if s.start > 0.0 or s.end < duration:
            raise TwinValueError(
                f"level boundary {self.name!r}: the series covers {s.start:g}..{s.end:g} s but the run lasts "
                f"0..{duration:g} s; extend the series to cover the whole run")


@dataclass(frozen=True)
class FreeOutflow:
    """An edge (or part of it) where water leaves freely at normal depth for ``slope`` [1].

    The ghost cell beyond the edge is ``slope * dx`` lower than the edge cell; no water
    enters. ``slope`` should be the bed slope of the valley or street leaving the grid.
    """

    edge: str
    slope: float = 0.001
    span: tuple[float, float] | None = None
    name: str = "free outflow"

    def __post_init__(self):
        if self.edge not in EDGES:
            raise TwinValueError(f"free outflow {self.name!r}: edge {self.edge!r} is not one of {', '.join(EDGES)}")
        s = float(self.slope)
        if not np.isfinite(s) or s < 0:
            raise TwinValueError(f"free outflow {self.name!r}: invalid slope {self.slope!r} (must be >= 0)")
        object.__setattr__(self, "slope", s)


@dataclass
class Forcing:
    """Everything that drives a run.

    Parameters
    ----------
    duration : float
        Simulated time [s].
    rain : Rain, optional
    inflows : list of Inflow
    levels : list of LevelBoundary
    outflows : list of FreeOutflow
    """

    duration: float
    rain: Rain | None = None
    inflows: list[Inflow] = field(default_factory=list)
    levels: list[LevelBoundary] = field(default_factory=list)
    outflows: list[FreeOutflow] = field(default_factory=list)

    def __post_init__(self):
        d = float(self.duration)
        if not np.isfinite(d) or d <= 0:
            raise TwinValueError(f"invalid duration {self.duration!r} s (must be > 0)")
        self.duration = d
        self.inflows = list(self.inflows)
        self.levels = list(self.levels)
        self.outflows = list(self.outflows)
        for lv in self.levels:
            lv.check_covers(d)

    def breakpoints(self) -> np.ndarray:
        """Times [s] where a forcing changes slope or value, within the run."""
        bps = [np.array([0.0, self.duration])]
        if self.rain is not None:
            bps.append(self.rain.breakpoints)
        for q in self.inflows:
            bps.append(q.discharge.times)
        for lv in self.levels:
            bps.append(lv.level.times)
        allb = np.unique(np.concatenate(bps))
        return allb[(allb >= 0.0) & (allb <= self.duration)]

    def describe(self) -> dict:
        """A JSON-ready summary (recorded in a result's meta)."""
        out: dict = {"duration_s": self.duration}
        if self.rain is not None:
            if self.rain.frames is None:
                out["rain"] = {"kind": "uniform", "depth_mm": self.rain.depth_mm(),
                               "peak_mm_h": float(self.rain.intensity.values.max()),
                               "ends_s": self.rain.intensity.end}
            else:
                out["rain"] = {"kind": "raster", "frames": int(self.rain.frames.shape[0])}
        out["inflows"] = [{"name": q.name, "peak_m3_s": float(q.discharge.values.max()),
                           "volume_m3": q.discharge.integral(0.0, self.duration)} for q in self.inflows]
        out["levels"] = [{"name": lv.name, "edge": lv.edge, "relative": lv.relative,
                          "min_m": float(lv.level.values.min()), "max_m": float(lv.level.values.max())}
                         for lv in self.levels]
        out["outflows"] = [{"name": o.name, "edge": o.edge, "slope": o.slope} for o in self.outflows]
        return out
