"""The plan of the demo town: where the river, the streets, the square and the landmarks are.

The plan depends on the town's ``size`` only, never on the seed: every seed gives
the same river, streets, square, depression, pond and landmark sites, so that
scenario files (dike lines, tree rows, retrofit zones) written against one seed
hold for all. The seed varies what fills the plan: lots, heights, ages, trees,
the micro-relief.

Everything here is in *local* metres: x eastwards and y northwards from the
south-west corner of the town. Positions scale with the size; widths of streets,
sizes of buildings and of the square do not (a 300 m town is a smaller town, not
a shrunken one), which is why several anchors are clipped to a minimum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: Road styles: carriageway width [m], sidewalk width [m] (each side), EN 13201 class, kind.
STYLES: dict[str, tuple[float, float, str, str]] = {
    "boulevard": (12.0, 3.5, "M3", "boulevard"),
    "avenue": (9.0, 3.0, "M4", "boulevard"),
    "distributor": (7.0, 2.0, "M5", "street"),
    "centre": (6.0, 1.5, "P2", "street"),
    "street": (6.0, 1.5, "P3", "street"),
    "lane": (4.5, 1.0, "P4", "lane"),
    "square": (6.0, 1.5, "C3", "square"),
    "park_path": (3.0, 0.0, "P5", "path"),
    "track": (3.0, 0.0, "", "path"),
}


def half_width(style: str) -> float:
    """Half of the total width (carriageway and sidewalks) of a road style [m]."""
    w, sw, _, _ = STYLES[style]
    return w / 2 + sw


@dataclass
class RoadPiece:
    """One named stretch of road with one style and one lighting scheme (split at junctions later)."""

    name: str
    style: str
    scheme: str  # lighting scheme name in importers.demo._lighting.SCHEMES, or "" (unlit)
    coords: list  # [(x, y), ...] local metres
    side: int = 0  # single-sided lighting: +1 left of the drawing direction, -1 right, 0 = chosen by seed


@dataclass
class Site:
    """A reserved site for a landmark (its buildings are drawn by the content module)."""

    key: str
    box: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax (local)


@dataclass
class Plan:
    size: float
    # river
    river_x0: float
    river_amp: float
    river_freq: float
    river_phase: float
    river_width: float
    river_depth: float
    riparian: float
    level0: float
    level_slope: float
    # valley
    x_blvd: float
    scarp_x0: float
    scarp_width: float
    scarp_height: float
    hill_foot: float
    hill_top: float
    hill_height: float
    terrace_slope: float
    # centre
    cols: list  # x of the N-S centre lines, east to west (cols[0] = boulevard)
    rows: list  # y of the E-W centre lines, south to north
    square: tuple  # (x0, y0, x1, y1) of the square cell (street centre lines)
    square_col: int
    square_row: int
    # depression, pond, park
    depression: tuple  # (x, y)
    depression_sigma: float
    depression_depth: float
    pond: tuple  # (x, y)
    pond_axes: tuple  # (a, b) semi-axes [m]
    pond_angle: float  # [rad]
    park_y0: float
    # east bank and rail
    x_industry: float
    x_rail: float
    rail_width: float
    rail_margin: float
    # streets
    y_avenue: float
    y_gaulle: float
    x_schools: float
    x_crop: float
    roads: list = field(default_factory=list)
    sites: dict = field(default_factory=dict)

    # -- river geometry (vectorised) -------------------------------------------------------
    def river_x(self, y):
        """x of the river axis at ``y`` [m]."""
        k = 2 * np.pi * self.river_freq / self.size
        return self.river_x0 + self.river_amp * np.sin(k * np.asarray(y) + self.river_phase)

    def river_dxdy(self, y):
        k = 2 * np.pi * self.river_freq / self.size
        return self.river_amp * k * np.cos(k * np.asarray(y) + self.river_phase)

    def river_level(self, y):
        """Normal water level of the river at ``y`` [m NGF] (it flows south)."""
        return self.level0 + self.level_slope * (np.asarray(y) - self.size / 2)

    def across(self, x, y):
        """Signed distance across the river axis [m] (negative on the west bank)."""
        return (np.asarray(x) - self.river_x(y)) / np.sqrt(1.0 + self.river_dxdy(y) ** 2)

    def river_axis(self, step: float = 5.0) -> np.ndarray:
        """The river axis as an (n, 2) array of local points, south to north."""
        n = int(math.ceil(self.size / step))
        y = np.linspace(-10.0, self.size + 10.0, n + 3)
        return np.column_stack([self.river_x(y), y])

    def bank_x(self, y, side: int = -1, offset: float = 0.0):
        """x at ``offset`` metres beyond the water's edge on one bank (side -1 west, +1 east)."""
        return self.river_x(y) + side * (self.river_width / 2 + offset) * np.sqrt(1.0 + self.river_dxdy(y) ** 2)

    @property
    def centre_box(self) -> tuple[float, float, float, float]:
        return (self.cols[-1], self.rows[0], self.cols[0], self.rows[-1])


def _clip(v, lo, hi):
    return float(min(max(v, lo), hi))


#: Smallest and largest supported town sizes [m].
MIN_SIZE = 300.0
MAX_SIZE = 2000.0


def make_plan(size: float) -> Plan:
    """The layout of a town of ``size`` x ``size`` metres (see the module docstring)."""
    S = float(size)
    big = S >= 600
    river_width = _clip(0.022 * S, 14.0, 24.0)
    river_amp = (0.02 if big else 0.015) * S
    riparian = _clip(0.01 * S, 5.0, 10.0)
    x_blvd = 0.60 * S
    hb = half_width("boulevard")
    scarp_width = _clip(0.025 * S, 10.0, 25.0)
    scarp_height = _clip(0.0025 * S, 1.2, 2.5)
    hill_height = _clip(0.025 * S, 8.0, 25.0)

    # -- the centre: a grid of cells around the market square ---------------------------------
    bw = _clip(0.058 * S, 46.0, 58.0)  # block column width (centre line to centre line)
    bh = _clip(0.055 * S, 44.0, 55.0)
    sqw = _clip(0.084 * S, 66.0, 84.0)
    sqh = _clip(0.064 * S, 52.0, 64.0)
    cy = 0.56 * S
    west_limit = x_blvd - max(0.22 * S, bw + sqw)
    cols = [x_blvd, x_blvd - bw, x_blvd - bw - sqw]
    while cols[-1] - bw >= west_limit - 1e-9:
        cols.append(cols[-1] - bw)
    half_h = max(0.12 * S, sqh / 2 + bh)
    rows = [cy - sqh / 2, cy + sqh / 2]
    while rows[0] - bh >= cy - half_h - 1e-9:
        rows.insert(0, rows[0] - bh)
    while rows[-1] + bh <= cy + half_h + 1e-9:
        rows.append(rows[-1] + bh)
    cols = [round(c, 2) for c in cols]
    rows = [round(r, 2) for r in rows]
    square_col = 1  # between cols[1] (east) and cols[2] (west)
    square_row = rows.index(round(cy - sqh / 2, 2))
    square = (cols[2], rows[square_row], cols[1], rows[square_row + 1])
    x_cw = cols[-1]
    y_avenue = rows[square_row]

    hill_foot = 0.38 * S
    # Rue des Écoles: the centre line nearest to 0.45 S that stands on the terrace
    candidates = [c for c in cols[1:] if hill_foot + 10 <= c <= x_blvd - 30] or [cols[1]]
    x_schools = min(candidates, key=lambda c: (abs(c - 0.45 * S), c))
    y_gaulle = round(0.20 * S, 2)

    # -- river, east bank, rail --------------------------------------------------------------
    river_x0 = 0.78 * S
    river_phase, river_freq = 0.9, 0.8
    x_rail = round(0.97 * S, 2)
    rail_width, rail_margin = 8.0, 3.0
    east_bank_max = river_x0 + river_amp + river_width / 2 + riparian
    if big:
        x_industry = round(0.88 * S, 2)
    else:
        x_industry = round(east_bank_max + half_width("distributor") + 1.5, 2)

    # -- park and pond (west floodplain, north) ------------------------------------------------
    park_y0 = round(max(0.66 * S, rows[-1] + 10), 2)
    pond_a = _clip(0.028 * S, 10.0, 28.0)
    pond_b = _clip(0.018 * S, 7.0, 18.0)
    pond_y = round(park_y0 + max(0.42 * (S - park_y0), pond_b + 18), 2)
    scarp_foot = x_blvd + hb + 0.5 + scarp_width
    plan_tmp = Plan(
        size=S, river_x0=river_x0, river_amp=river_amp, river_freq=river_freq, river_phase=river_phase,
        river_width=river_width, river_depth=2.5, riparian=riparian, level0=164.0, level_slope=0.0004,
        x_blvd=x_blvd, scarp_x0=x_blvd + hb + 0.5, scarp_width=scarp_width, scarp_height=scarp_height,
        hill_foot=hill_foot, hill_top=0.03 * S, hill_height=hill_height, terrace_slope=0.01,
        cols=cols, rows=rows, square=square, square_col=square_col, square_row=square_row,
        depression=(x_schools, y_gaulle), depression_sigma=_clip(0.03 * S, 15.0, 30.0), depression_depth=2.0,
        pond=(0.0, 0.0), pond_axes=(pond_a, pond_b), pond_angle=math.radians(20.0), park_y0=park_y0,
        x_industry=x_industry, x_rail=x_rail, rail_width=rail_width, rail_margin=rail_margin,
        y_avenue=y_avenue, y_gaulle=y_gaulle, x_schools=x_schools, x_crop=0.0,
    )
    bank_w = float(plan_tmp.bank_x(pond_y, -1, riparian))
    pond_x = round(0.5 * (scarp_foot + bank_w) + (0.1 * pond_a if big else 0.0), 2)
    plan_tmp.pond = (pond_x, pond_y)

    roads = _roads(plan_tmp, big)
    plan_tmp.roads = roads
    hill_streets = [r for r in roads
                    if r.style == "street" and r.coords[0][0] == r.coords[-1][0] and r.coords[0][0] < x_cw]
    x_west_street = min([x_cw] + [p.coords[0][0] for p in hill_streets])
    plan_tmp.x_crop = round(x_west_street - half_width("street") - 36.0, 2)
    plan_tmp.sites = _sites(plan_tmp, big)
    return plan_tmp


_HILL_STREETS = ("Rue du Belvédère", "Chemin des Vignes", "Rue des Cerisiers", "Chemin des Amandiers",
                 "Rue des Genêts", "Chemin du Plateau")


def _names(first: list[str], fallback: str):
    """The names of ``first``, then ``fallback`` numbered (for towns larger than the default)."""
    yield from first
    k = 1
    while True:
        yield f"{fallback} {k}"
        k += 1


def _roads(p: Plan, big: bool) -> list[RoadPiece]:
    S = p.size
    roads: list[RoadPiece] = []
    cols, rows = p.cols, p.rows
    x_cw, y_cs, y_cn = cols[-1], rows[0], rows[-1]
    sx0, sy0, sx1, sy1 = p.square

    # Boulevard along the foot of the old town, the whole height of the town
    roads.append(RoadPiece("Boulevard de la République", "boulevard", "blvd-led", [(p.x_blvd, 0.0), (p.x_blvd, S)]))

    # Avenue Jean Jaurès: west edge -> square -> boulevard -> bridge -> Rue de l'Industrie
    y = p.y_avenue
    roads.append(RoadPiece("Avenue Jean Jaurès", "avenue", "avenue-globe", [(0.0, y), (p.x_blvd, y)]))
    roads.append(RoadPiece("Avenue Jean Jaurès", "avenue", "avenue-led", [(p.x_blvd, y), (p.x_industry, y)]))

    # centre rows other than the avenue; the square's north side is the Place du Marché
    north_names = _names(["Rue du Marché", "Rue Pasteur", "Rue des Remparts", "Rue Neuve"], "Rue Haute")
    south_names = _names(["Rue Gambetta", "Rue de la Poste", "Rue des Tanneurs"], "Rue Basse")
    for j, yr in enumerate(rows):
        if j == p.square_row:
            continue
        name = next(north_names) if yr > y else next(south_names)
        if j == p.square_row + 1:  # north side of the square
            pieces = [((x_cw, yr), (sx0, yr), name, "centre", "street-globe"),
                      ((sx0, yr), (sx1, yr), "Place du Marché", "square", "square-heritage"),
                      ((sx1, yr), (p.x_blvd, yr), name, "centre", "street-globe")]
        else:
            pieces = [((x_cw, yr), (p.x_blvd, yr), name, "centre", "street-globe")]
        for a, b, n, st, sc in pieces:
            if b[0] - a[0] > 0.5:
                roads.append(RoadPiece(n, st, sc, [a, b]))

    # centre columns (N-S) between boulevard and the west edge of the centre
    col_names = {1: "Rue Victor Hugo", 2: "Rue de l'Église"}
    extra = _names(["Rue Voltaire", "Rue des Capucins", "Rue Saint-Jean"], "Traverse")
    for i, xc in enumerate(cols[1:], start=1):
        if i == len(cols) - 1:
            name = "Rue des Coteaux"
        else:
            name = col_names.get(i) or next(extra)
        style = "street" if name == "Rue des Coteaux" else "centre"
        scheme = "street-globe"
        y0 = 0.0 if name == "Rue des Coteaux" else y_cs
        y1 = S if name in ("Rue des Coteaux", "Rue Victor Hugo") else y_cn
        if i in (1, 2):  # a side of the square
            segs = [((xc, y0), (xc, sy0), name, style), ((xc, sy0), (xc, sy1), "Place du Marché", "square"),
                    ((xc, sy1), (xc, y1), name, style)]
        else:
            segs = [((xc, y0), (xc, y1), name, style)]
        for a, b, n, st in segs:
            if b[1] - a[1] > 0.5:
                roads.append(RoadPiece(n, st, "square-heritage" if st == "square" else scheme, [a, b]))

    # Rue des Écoles: from the south edge up to the centre, through the depression
    if p.x_schools not in (x_cw,):
        roads.append(RoadPiece("Rue des Écoles", "street", "street-globe", [(p.x_schools, 0.0), (p.x_schools, y_cs)]))
    # Avenue du Général de Gaulle: from the hill down to the boulevard, across the depression
    roads.append(RoadPiece("Avenue du Général de Gaulle", "distributor", "dist-globe",
                           [(0.0, p.y_gaulle), (p.x_blvd, p.y_gaulle)]))
    # Rue des Lilas (south quarter) when there is room
    y_lilas = round(0.5 * (p.y_gaulle + y_cs), 2)
    if y_cs - y_lilas >= 60:
        roads.append(RoadPiece("Rue des Lilas", "street", "street-globe", [(x_cw, y_lilas), (p.x_blvd, y_lilas)]))

    # hill streets following the contours, every 110 m west of the centre
    xh = x_cw - 110.0
    names = _names(list(_HILL_STREETS), "Chemin du Coteau")
    while xh >= 0.15 * S:
        nm = next(names)
        roads.append(RoadPiece(nm, "street", "street-led" if nm != "Rue du Belvédère" else "street-globe",
                               [(round(xh, 2), 0.0), (round(xh, 2), S)]))
        xh -= 110.0
    # hill lanes climbing the slope, where they leave 60 m to the other cross streets
    y_croix = round(0.86 * S, 2)
    cross = [y, p.y_gaulle] + ([y_croix] if y_croix - y_cn >= 60 else [])
    for yl, nm in ((0.38 * S, "Montée des Tilleuls"), (0.72 * S, "Montée du Fort")):
        yl = round(yl, 2)
        if min(abs(yl - c) for c in cross) >= 60:
            roads.append(RoadPiece(nm, "lane", "lane-ped", [(0.0, yl), (x_cw, yl)]))
    # north: Chemin de la Croix across the hill and the north quarter
    if y_croix - y_cn >= 60:
        roads.append(RoadPiece("Chemin de la Croix", "street", "street-led", [(0.0, y_croix), (p.x_blvd, y_croix)]))
    # hill-top track between the fields (unlit)
    if big:
        roads.append(RoadPiece("Chemin des Crêtes", "track", "", [(round(0.06 * S, 2), 0.0), (round(0.06 * S, 2), S)]))

    # west floodplain: the quai follows the river to the park, then turns to the boulevard
    if big:
        ys = np.arange(0.0, p.park_y0, 10.0).tolist() + [p.park_y0]
        qx = [float(p.bank_x(yy, -1, p.riparian + 18.0)) for yy in ys]
        coords = [(round(xx, 2), round(yy, 2)) for xx, yy in zip(qx, ys)] + [(p.x_blvd, p.park_y0)]
        roads.append(RoadPiece("Quai de la Jumelle", "distributor", "dist-led", coords, side=-1))
    # towpath along the west bank (unlit) and park paths (lit, pedestrian)
    ys = np.arange(0.0, S + 0.1, 5.0)
    tx = [float(p.bank_x(yy, -1, 0.55 * p.riparian)) for yy in ys]
    roads.append(RoadPiece("Chemin de halage", "track", "", [(round(a, 2), round(b, 2)) for a, b in zip(tx, ys)]))
    px, py = p.pond
    a, b = p.pond_axes
    x_path = round(px - a - 6.0, 2)
    y_path = round(min(py + b + 12.0, S - 8.0), 2)
    south_end = p.park_y0 if big else p.park_y0
    roads.append(RoadPiece("Allée des Cygnes", "park_path", "park-ped", [(x_path, south_end), (x_path, S)]))
    x_tow = float(p.bank_x(y_path, -1, 0.55 * p.riparian))
    roads.append(RoadPiece("Allée du Parc", "park_path", "park-ped", [(p.x_blvd, y_path), (round(x_tow, 2), y_path)]))

    # east bank
    roads.append(RoadPiece("Rue de l'Industrie", "distributor", "dist-led", [(p.x_industry, 0.0), (p.x_industry, S)]))
    if big:
        yu = round(0.25 * S, 2)
        roads.append(RoadPiece("Rue des Usines", "street", "street-led",
                               [(p.x_industry, yu), (p.x_rail - p.rail_width / 2 - p.rail_margin - 1.0, yu)]))
    return roads


def _sites(p: Plan, big: bool) -> dict[str, Site]:
    S = p.size
    sites: dict[str, Site] = {}
    hs, hd, hb, ha = half_width("street"), half_width("distributor"), half_width("boulevard"), half_width("avenue")
    hc = half_width("centre")
    y_cs = p.rows[0]
    # school: north-east corner of the crossroads in the depression
    x0 = p.x_schools + hs + 1.5
    y0 = p.y_gaulle + hd + 1.5
    x1 = min(x0 + _clip(0.06 * S, 30.0, 60.0), p.x_blvd - hb - 1.5)
    y1 = min(y0 + _clip(0.05 * S, 27.0, 45.0), y_cs - hc - 1.5)
    sites["school"] = Site("school", (x0, y0, x1, y1))
    # care home: south-east corner of boulevard x avenue, in the west floodplain
    x0 = p.x_blvd + hb + 3.0
    x1 = x0 + _clip(0.05 * S, 26.0, 50.0)
    y1 = p.y_avenue - ha - 3.0
    y0 = y1 - _clip(0.045 * S, 24.0, 45.0)
    sites["care_home"] = Site("care_home", (x0, y0, x1, y1))
    # post-war blocks south-east of the depression (between Rue des Écoles and the boulevard)
    x0 = p.x_schools + hs + 1.5
    x1 = p.x_blvd - hb - 1.5
    y1 = p.y_gaulle - hd - 1.5
    y0 = max(4.0, y1 - _clip(0.12 * S, 50.0, 120.0))
    sites["peupliers"] = Site("peupliers", (x0, y0, x1, y1))
    # farm on the hill top, among the fields, between two cross streets
    if big:
        fx, fy = max(0.06 * S + half_width("track") + 6.0, 0.5 * p.x_crop - 14.0), 0.45 * S
    else:
        fx, fy = 4.0, 0.5 * (p.y_gaulle + p.y_avenue) - 12.0
    sites["farm"] = Site("farm", (fx, fy, fx + 30.0, fy + 24.0))
    if big:
        east_x0 = float(np.max(p.bank_x(np.linspace(0, S, 201), +1, p.riparian))) + 2.0
        east_x1 = p.x_industry - hd - 2.0
        y1 = p.y_avenue - ha - 3.0
        sites["gym"] = Site("gym", (east_x0, y1 - 70.0, east_x1, y1))
        y0 = p.y_avenue + ha + 3.0
        sites["supermarket"] = Site("supermarket", (east_x0, y0, east_x1, y0 + 80.0))
        # post-war blocks in the west floodplain, south of the care home
        x0 = p.x_blvd + hb + 0.5 + p.scarp_width + 2.0
        quai = np.min(p.bank_x(np.linspace(0.12 * S, 0.36 * S, 50), -1, p.riparian + 18.0))
        x1 = float(quai) - half_width("distributor") - 2.0
        sites["parc"] = Site("parc", (x0, 0.20 * S, x1, 0.34 * S))
    return sites
