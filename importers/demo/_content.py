"""What fills the plan: buildings, land cover, trees and parcels.

The town is cut into blocks by the streets, the river and the rail; each block is
filled according to its quarter:

* the historic centre, a grid of rectangular blocks around the market square,
  is built as terraces: corner lots and strips of narrow lots cut from the same
  rectangles, so that neighbours share their party walls exactly;
* the hillside, the south quarter, the north quarter and the floodplain hold
  detached houses on plots walked along the street fronts (ages by quarter);
* the east bank holds the industrial zone; landmark sites (school, care home,
  post-war blocks, farm, sports hall, supermarket) are drawn where the plan puts them.

All coordinates are local metres (see ``_plan``). The random generator decides
lot widths, depths, heights, ages, uses and trees; the plan decides where things are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Polygon, box

from importers.demo._network import Segment
from importers.demo._plan import Plan
from twin.layers import Landcover as LC

NAN = float("nan")

# species: (name, height range [m], crown diameter range [m])
SPECIES = {
    "plane": ("Platanus x acerifolia", (14.0, 20.0), (8.0, 12.0)),
    "lime": ("Tilia cordata", (10.0, 15.0), (6.0, 9.0)),
    "chestnut": ("Aesculus hippocastanum", (11.0, 16.0), (7.0, 10.0)),
    "oak": ("Quercus robur", (14.0, 22.0), (10.0, 15.0)),
    "maple": ("Acer platanoides", (10.0, 16.0), (7.0, 11.0)),
    "ash": ("Fraxinus excelsior", (14.0, 22.0), (8.0, 12.0)),
    "cedar": ("Cedrus atlantica", (16.0, 24.0), (9.0, 13.0)),
    "willow": ("Salix alba", (8.0, 16.0), (6.0, 10.0)),
    "poplar": ("Populus nigra", (18.0, 26.0), (6.0, 9.0)),
    "alder": ("Alnus glutinosa", (10.0, 18.0), (5.0, 8.0)),
    "fruit": ("Prunus avium", (5.0, 9.0), (4.0, 7.0)),
    "birch": ("Betula pendula", (8.0, 14.0), (4.0, 6.0)),
}


@dataclass
class Content:
    buildings: list = field(default_factory=list)
    cover: list = field(default_factory=list)  # (geometry, Landcover) in drawing order: later wins
    trees: list = field(default_factory=list)  # (x, y, height, crown, species)
    parcels: list = field(default_factory=list)  # (geometry, section)


def _b(geom, use, floors, height, year, *, roof=NAN, dwellings=0, name="", key="", zone=""):
    return dict(geometry=geom, use=use, floors=int(floors), height=float(height), roof_height=float(roof),
                year=int(year), dwellings=int(dwellings), name=name, key=key, zone=zone)


def _dwellings(area: float, floors: int, *, flat: float = 65.0) -> int:
    """Dwellings of a housing building: 80 % of its floor area in flats of ``flat`` m2."""
    return max(1, int(round(area * floors * 0.8 / flat)))


def _tree(rng, x, y, kind, scale=1.0):
    name, (h0, h1), (d0, d1) = SPECIES[kind]
    h = round(float(rng.uniform(h0, h1)) * scale, 1)
    d = round(float(rng.uniform(d0, d1)) * scale, 1)
    return (float(x), float(y), h, d, name)


def _rect(x0, y0, x1, y1) -> Polygon:
    return box(round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2))


def _poly(pts) -> Polygon:
    return Polygon([(round(x, 2), round(y, 2)) for x, y in pts])


class _Frame:
    """A lot's frame: origin on the street front, ``t`` along the front, ``n`` into the lot."""

    __slots__ = ("x0", "y0", "tx", "ty", "nx", "ny", "w", "d")

    def __init__(self, p0, t, n, w, d):
        self.x0, self.y0 = float(p0[0]), float(p0[1])
        self.tx, self.ty = float(t[0]), float(t[1])
        self.nx, self.ny = float(n[0]), float(n[1])
        self.w, self.d = w, d

    def pt(self, u, v):
        return (self.x0 + u * self.tx + v * self.nx, self.y0 + u * self.ty + v * self.ny)

    def poly(self, uv) -> Polygon:
        return _poly([self.pt(u, v) for u, v in uv])

    def rect(self, u0, v0, u1, v1) -> Polygon:
        return self.poly([(u0, v0), (u1, v0), (u1, v1), (u0, v1)])

    @property
    def lot(self) -> Polygon:
        return self.rect(0, 0, self.w, self.d)


class _Ring:
    """Arc-length positions on a closed ring (NumPy, no GEOS calls)."""

    def __init__(self, coords):
        self.xy = np.asarray(coords, dtype=np.float64)
        self.seg = np.diff(self.xy, axis=0)
        self.seglen = np.hypot(self.seg[:, 0], self.seg[:, 1])
        self.cum = np.concatenate([[0.0], np.cumsum(self.seglen)])
        self.length = float(self.cum[-1])

    def at(self, s: float):
        i = int(np.searchsorted(self.cum, s, side="right")) - 1
        i = min(max(i, 0), len(self.seglen) - 1)
        f = (s - self.cum[i]) / self.seglen[i] if self.seglen[i] > 0 else 0.0
        return self.xy[i] + f * self.seg[i]


def walk_frontage(block: Polygon, rng, near_road, *, width, depth, gap=0.0, step=2.5):
    """Lots along the outline of ``block`` whose front faces a road, as frames (never overlapping).

    ``width`` and ``depth`` are ranges [m]; a lot is kept when it lies inside the block,
    its front midpoint is within reach of a road, and it overlaps no earlier lot.
    """
    block = shapely.geometry.polygon.orient(block, 1.0)
    ring = _Ring(block.exterior.coords)
    length = ring.length
    inside = block.buffer(0.01)
    shapely.prepare(inside)
    frames: list[_Frame] = []
    lots: list[Polygon] = []
    s = float(rng.uniform(0.0, step))
    while s < length:
        w = float(rng.uniform(*width))
        d = float(rng.uniform(*depth))
        a = ring.at(s)
        b = ring.at(min(s + w, length))
        chord = float(np.hypot(*(b - a)))
        if chord < 0.97 * w:
            s += step
            continue
        t = (b - a) / chord
        f = _Frame(a, t, (-t[1], t[0]), w, d)  # the interior is on the left of a counter-clockwise ring
        if not near_road(f.pt(w / 2, -0.3)):
            s += step
            continue
        lot = f.lot  # rounded to the centimetre, as it will be stored
        ok = bool(shapely.contains(inside, lot))
        overlap = False
        if ok and lots:
            recent = np.asarray(lots[-40:], dtype=object)
            hit = shapely.intersects(recent, lot)
            if hit.any():
                overlap = shapely.area(shapely.intersection(recent[hit], lot)).max() > 0.0
                ok = not overlap
        if ok:
            frames.append(f)
            lots.append(lot)
            s += w + gap
        else:  # a lot that overlaps the previous one on a curved street moves on a little only
            s += 0.5 if overlap else step
    return frames


# -- quarters ----------------------------------------------------------------------------------------------
class Builder:
    def __init__(self, plan: Plan, segments: list[Segment], road_total, rng_for):
        self.p = plan
        self.segments = segments
        self.rng_for = rng_for
        self.c = Content()
        self.road_union = shapely.union_all(road_total)
        self._near = self.road_union.buffer(1.5)
        shapely.prepare(self._near)

    def near_road(self, xy) -> bool:
        return bool(shapely.contains_xy(self._near, xy[0], xy[1]))

    # .. helpers ................................................................................................
    def zone_of(self, x: float, y: float) -> str:
        p = self.p
        x0, y0, x1, y1 = p.centre_box
        if x > float(p.river_x(y)):
            return "east"
        if x > p.x_blvd:
            return "floodplain"
        if x0 < x < x1 and y0 < y < y1:
            return "centre"
        if x < x0:
            return "hill"
        return "south" if y < y0 else "north"

    def side_half(self, a, b) -> float:
        """Half width of the road that runs along the side from ``a`` to ``b`` of a centre cell."""
        mid = shapely.Point((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        best = 0.0
        for s in self.segments:
            if s.line.distance(mid) < 0.05:
                best = max(best, s.width / 2 + s.sidewalk)
        return best

    def side_style(self, a, b) -> str:
        mid = shapely.Point((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        for s in self.segments:
            if s.line.distance(mid) < 0.05:
                return s.kind
        return ""

    # .. the centre ...............................................................................................
    def centre(self) -> None:
        p = self.p
        rng = self.rng_for("centre")
        cols = p.cols
        rows = p.rows
        specials = {
            (p.square_col, p.square_row + 1, "S"): dict(
                width=22.0, use="town_hall", floors=3, height=12.6, roof=17.5, year=1868, name="Mairie", key="mairie"),
            (p.square_col - 1, p.square_row, "W"): dict(
                width=18.0, use="culture", floors=2, height=8.4, roof=NAN, year=2008, name="Médiathèque Louise Labé",
                key="mediatheque"),
            (p.square_col - 1, p.square_row, "E"): dict(
                width=16.0, use="health", floors=3, height=10.2, roof=NAN, year=2015,
                name="Maison de santé de la République", key="sante"),
        }
        for j in range(len(rows) - 1):
            for i in range(len(cols) - 1):
                xw, xe = cols[i + 1], cols[i]
                ys, yn = rows[j], rows[j + 1]
                x0 = xw + self.side_half((xw, ys), (xw, yn))
                x1 = xe - self.side_half((xe, ys), (xe, yn))
                y0 = ys + self.side_half((xw, ys), (xe, ys))
                y1 = yn - self.side_half((xw, yn), (xe, yn))
                sides = {
                    "N": self.side_style((xw, yn), (xe, yn)), "S": self.side_style((xw, ys), (xe, ys)),
                    "W": self.side_style((xw, ys), (xw, yn)), "E": self.side_style((xe, ys), (xe, yn)),
                }
                if (i, j) == (p.square_col, p.square_row):
                    self.market_square(x0, y0, x1, y1, rng)
                else:
                    sp = {side: v for (ii, jj, side), v in specials.items() if (ii, jj) == (i, j)}
                    self.terraces(x0, y0, x1, y1, rng, sides, sp)

    def market_square(self, x0, y0, x1, y1, rng) -> None:
        p = self.p
        self.c.cover.append((_rect(x0, y0, x1, y1), LC.SQUARE))
        cy = 0.5 * (y0 + y1)
        nave = min(max(0.032 * p.size, 22.0), 32.0)
        tx = x0 + 5.0
        tower = _rect(tx, cy - 4.0, tx + 8.0, cy + 4.0)
        body = _rect(tx + 8.0, cy - 6.5, tx + 8.0 + nave, cy + 6.5)
        self.c.buildings.append(_b(body, "religious", 0, 14.0, 1512, roof=21.5, name="Église Saint-Vincent",
                                   key="church", zone="centre"))
        self.c.buildings.append(_b(tower, "religious", 0, 30.0, 1520, roof=42.0,
                                   name="Clocher de l'église Saint-Vincent", key="belfry", zone="centre"))
        # the market part: two rows of plane trees east of the church
        mx0 = tx + 8.0 + nave + 5.0
        if x1 - 3.0 - mx0 >= 8.0:
            xs = np.arange(mx0, x1 - 3.0 + 1e-6, 8.0)
            for yy in (y0 + 6.0, y1 - 6.0):
                for xx in xs:
                    self.c.trees.append(_tree(rng, xx, yy, "plane", 0.85))

    def terraces(self, x0, y0, x1, y1, rng, sides, specials) -> None:
        W, H = x1 - x0, y1 - y0
        D = float(rng.uniform(10.0, 13.0))
        D = min(D, (min(W, H) - 6.0) / 2.0)
        main = {"square", "boulevard"}
        lots = []  # (rect, depth-side, facing-main)
        # four corner lots, full depth on both streets
        for (ax, ay) in ((x0, y1 - D), (x1 - D, y1 - D), (x0, y0), (x1 - D, y0)):
            lots.append(((ax, ay, ax + D, ay + D), None, True))
        strips = {
            "N": (x0 + D, x1 - D), "S": (x0 + D, x1 - D), "W": (y0 + D, y1 - D), "E": (y0 + D, y1 - D),
        }
        for side, (a0, a1) in strips.items():
            facing = sides.get(side, "") in main
            cuts = self._cuts(a0, a1, rng, specials.get(side))
            for (c0, c1, spec) in cuts:
                d = D if spec is not None else float(rng.uniform(0.75 * D, D))
                if side == "N":
                    r = (c0, y1 - d, c1, y1)
                elif side == "S":
                    r = (c0, y0, c1, y0 + d)
                elif side == "W":
                    r = (x0, c0, x0 + d, c1)
                else:
                    r = (x1 - d, c0, x1, c1)
                lots.append((r, spec, facing))
        for r, spec, facing in lots:
            geom = _rect(*r)
            if spec:
                self.c.buildings.append(_b(geom, spec["use"], spec["floors"], spec["height"], spec["year"],
                                           roof=spec["roof"], name=spec["name"], key=spec["key"], zone="centre"))
            else:
                self.c.buildings.append(self._terraced(geom, facing, rng))
            self.c.parcels.append((geom, "AB"))
        # a tree in the larger courtyards
        if W - 2 * D >= 10 and H - 2 * D >= 10 and rng.random() < 0.6:
            self.c.trees.append(_tree(rng, 0.5 * (x0 + x1), 0.5 * (y0 + y1), "lime", 0.8))

    @staticmethod
    def _cuts(a0, a1, rng, special):
        """Cut ``[a0, a1]`` into lots 5.5-10 m wide (with ``special`` in the middle if given)."""

        def run(u0, u1):
            out, u = [], u0
            while u1 - u > 1e-9:
                w = float(rng.uniform(5.5, 10.0))
                if u1 - (u + w) < 4.5:
                    w = u1 - u
                out.append((u, u + w, None))
                u += w
            if len(out) >= 2 and out[-1][1] - out[-1][0] < 4.5:
                last = out.pop()
                out[-1] = (out[-1][0], last[1], None)
            return out

        if special is None or a1 - a0 < 8.0:
            return run(a0, a1)
        if a1 - a0 < special["width"] + 10.0:  # a short strip: the special takes all of it
            return [(a0, a1, special)]
        mid = 0.5 * (a0 + a1)
        s0, s1 = mid - special["width"] / 2, mid + special["width"] / 2
        return run(a0, s0) + [(s0, s1, special)] + run(s1, a1)

    def _terraced(self, geom, facing, rng):
        r = rng.random()
        if r < 0.80:
            period = rng.choice(4, p=[0.15, 0.35, 0.35, 0.15])
            lo, hi = [(1650, 1789), (1790, 1869), (1870, 1913), (1914, 1947)][period]
            year = int(rng.integers(lo, hi + 1))
            flat = False
        elif r < 0.93:
            year = int(rng.integers(1950, 1976))
            flat = True
        else:
            year = int(rng.integers(1990, 2021))
            flat = rng.random() < 0.5
        if facing:
            floors = int(rng.choice([3, 4, 5], p=[0.35, 0.45, 0.2]))
        else:
            floors = int(rng.choice([2, 3, 4], p=[0.3, 0.45, 0.25]))
        if flat and year < 1980:
            floors += 1
        height = 3.0 * floors + float(rng.uniform(0.3, 0.9))
        roof = NAN if flat else height + float(rng.uniform(2.5, 4.0))
        u = rng.random()
        if facing:
            use = "shop" if u < 0.55 else ("housing" if u < 0.9 else "office")
        else:
            use = "housing" if u < 0.8 else ("shop" if u < 0.9 else "office")
        area = geom.area
        dw = _dwellings(area, floors) if use == "housing" else (
            max(0, int(round(area * (floors - 1) * 0.8 / 65.0))) if use == "shop" else 0)
        return _b(geom, use, floors, round(height, 2), year, roof=round(roof, 2), dwellings=dw, zone="centre")

    # .. houses .....................................................................................................
    def houses(self, block, rng, *, years, zone, section, plot_w=(16.0, 24.0), plot_d=(26.0, 34.0),
               floors_p=(0.35, 0.65), site_prob=0.0) -> None:
        for f in walk_frontage(block, rng, self.near_road, width=plot_w, depth=plot_d):
            self.c.parcels.append((f.lot, section))
            if rng.random() < site_prob:  # a plot being built
                self.c.cover.append((f.lot, LC.BARE_SOIL))
                continue
            self.house(f, rng, years=years, zone=zone, floors_p=floors_p)

    def house(self, f: _Frame, rng, *, years, zone, floors_p) -> None:
        w, d = f.w, f.d
        sb = float(rng.uniform(4.0, 7.0))
        hw = min(float(rng.uniform(8.5, 12.0)), w - 6.0)
        hd = min(float(rng.uniform(8.0, 11.0)), d - sb - 6.0)
        u0 = float(rng.uniform(3.0, w - 3.0 - hw))
        year = int(rng.integers(years[0], years[1] + 1))
        floors = int(rng.choice([1, 2], p=list(floors_p)))
        height = 3.0 * floors - 0.3 + float(rng.uniform(0.0, 0.6))
        roof = height + float(rng.uniform(2.2, 3.5))
        if rng.random() < 0.3 and d - sb - hd > 14:
            ww = float(rng.uniform(4.0, 0.6 * hw))
            wd = float(rng.uniform(3.5, 6.0))
            if rng.random() < 0.5:
                uv = [(u0, sb), (u0 + hw, sb), (u0 + hw, sb + hd), (u0 + ww, sb + hd), (u0 + ww, sb + hd + wd),
                      (u0, sb + hd + wd)]
            else:
                uv = [(u0, sb), (u0 + hw, sb), (u0 + hw, sb + hd + wd), (u0 + hw - ww, sb + hd + wd),
                      (u0 + hw - ww, sb + hd), (u0, sb + hd)]
            geom = f.poly(uv)
            back = sb + hd + wd
        else:
            geom = f.rect(u0, sb, u0 + hw, sb + hd)
            back = sb + hd
        self.c.buildings.append(_b(geom, "housing", floors, round(height, 2), year, roof=round(roof, 2),
                                   dwellings=2 if rng.random() < 0.06 else 1, zone=zone))
        annex = None
        if rng.random() < 0.12 and d - back > 9 and w > 9:
            au = float(rng.uniform(1.0, w - 4.0))
            annex = (au + 1.5, d - 2.25)
            shed = f.rect(au, d - 3.5, au + 3.0, d - 1.0)
            self.c.buildings.append(_b(shed, "annex", 1, round(float(rng.uniform(2.2, 2.8)), 2),
                                       min(2023, year + int(rng.integers(0, 25))), zone=zone))
        for _ in range(int(rng.choice([0, 1, 2], p=[0.3, 0.45, 0.25]))):
            if d - back < 8:
                break
            u, v = float(rng.uniform(2.0, w - 2.0)), float(rng.uniform(back + 4.0, d - 2.0))
            if annex is not None and math.hypot(u - annex[0], v - annex[1]) < 4.0:
                continue
            self.c.trees.append(_tree(rng, *f.pt(u, v), "fruit" if rng.random() < 0.6 else "birch"))

    # .. industry and offices .........................................................................................
    def industry(self, block, rng) -> None:
        mrr = np.asarray(shapely.minimum_rotated_rectangle(block).exterior.coords)
        short = float(min(np.hypot(*(mrr[1] - mrr[0])), np.hypot(*(mrr[2] - mrr[1]))))
        if short < 17.0:
            return
        depth = (min(28.0, short - 2.0), min(48.0, short - 2.0))
        for f in walk_frontage(block, rng, self.near_road, width=(30.0, 55.0), depth=depth, gap=2.0):
            self.c.parcels.append((f.lot, "ZA"))
            self.c.cover.append((f.lot, LC.PARKING if rng.random() < 0.5 else LC.BARE_SOIL))
            sd = min(f.d - 9.0, 35.0)
            shed = f.rect(3.0, 6.0, f.w - 3.0, 6.0 + sd)
            year = int(rng.integers(1965, 2016))
            h = round(float(rng.uniform(6.5, 11.0)), 2)
            self.c.buildings.append(_b(shed, "industrial", 1, h, year, zone="east"))
            if rng.random() < 0.35 and f.w > 24:  # offices against the shed's front
                ow = float(rng.uniform(8.0, 14.0))
                off = f.rect(3.0, 6.0 - 7.0, 3.0 + ow, 6.0)
                h = round(6.4 + float(rng.uniform(0, 0.6)), 2)
                self.c.buildings.append(_b(off, "office", 2, h, year, zone="east"))

    def offices(self, block, rng) -> None:
        for f in walk_frontage(block, rng, self.near_road, width=(30.0, 44.0), depth=(30.0, 40.0), gap=3.0):
            self.c.parcels.append((f.lot, "AE"))
            bd = float(rng.uniform(14.0, 18.0))
            self.c.cover.append((f.rect(2.0, 6.0 + bd + 1.0, f.w - 2.0, f.d - 1.0), LC.PARKING))
            floors = int(rng.integers(3, 6))
            geom = f.rect(4.0, 6.0, f.w - 4.0, 6.0 + bd)
            self.c.buildings.append(_b(geom, "office", floors, round(3.3 * floors + float(rng.uniform(0.3, 0.8)), 2),
                                       int(rng.integers(1988, 2021)), zone="north"))
            self.c.trees.append(_tree(rng, *f.pt(f.w / 2, 3.0), "maple", 0.8))

    # .. landmark sites ..........................................................................................
    def site_school(self, bx, rng) -> None:
        x0, y0, x1, y1 = bx
        self.c.cover.append((_rect(x0, y0, x1, y1), LC.SQUARE))
        bar = min(11.0, 0.3 * (x1 - x0))
        wing = min(10.0, 0.35 * (y1 - y0))
        geom = _poly([(x0 + 2, y0 + 3), (x0 + 2 + bar, y0 + 3), (x0 + 2 + bar, y1 - 3 - wing), (x1 - 3, y1 - 3 - wing),
                      (x1 - 3, y1 - 3), (x0 + 2, y1 - 3)])
        self.c.buildings.append(_b(geom, "school", 2, 7.6, 1962, name="École Jean Moulin", key="school", zone="south"))
        self.c.parcels.append((_rect(x0, y0, x1, y1), "AD"))
        yx0, yx1 = x0 + 2 + bar + 5, x1 - 4
        yy0, yy1 = y0 + 5, y1 - 3 - wing - 5
        for xx in np.arange(yx0, yx1 + 1e-6, 9.0):
            for yy in np.arange(yy0, yy1 + 1e-6, 9.0):
                self.c.trees.append(_tree(rng, xx, yy, "plane", 0.8))

    def site_care_home(self, bx, rng) -> None:
        x0, y0, x1, y1 = bx
        W, H = x1 - x0, y1 - y0
        self.c.parcels.append((_rect(x0, y0, x1, y1), "AH"))
        self.c.cover.append((_rect(x0 + 2, y0 + 2, x0 + 0.45 * W, y0 + 0.45 * H), LC.PARKING))
        bar = min(14.0, 0.4 * H)
        geom = _poly([(x0 + 3, y1 - 3 - bar), (x1 - 3 - bar, y1 - 3 - bar), (x1 - 3 - bar, y0 + 0.3 * H),
                      (x1 - 3, y0 + 0.3 * H), (x1 - 3, y1 - 3), (x0 + 3, y1 - 3)])
        self.c.buildings.append(_b(geom, "care_home", 3, 9.9, 1978, name="EHPAD Les Tilleuls", key="care_home",
                                   zone="floodplain"))
        for k in range(3):
            tx, ty = x0 + 0.55 * W + 4.0 * k - 6.0 * (k == 2), y0 + 5.0 + 5.0 * (k == 2)
            self.c.trees.append(_tree(rng, tx, ty, "lime", 0.9))

    def site_slabs(self, bx, rng, *, name, key, years, zone, section, along_x=True) -> None:
        x0, y0, x1, y1 = bx
        W, H = x1 - x0, y1 - y0
        self.c.parcels.append((_rect(x0, y0, x1, y1), section))
        park = W >= 55
        if park:
            self.c.cover.append((_rect(x1 - 18.0, y0 + 2.0, x1 - 2.0, y1 - 2.0), LC.PARKING))
            x1b = x1 - 20.0
        else:
            x1b = x1
        year = int(rng.integers(*years))
        length = min(64.0, x1b - x0 - 8.0)
        depth, pitch = 11.5, 34.0
        ny = max(1, int((H - 8.0 - depth) // pitch) + 1)
        y_start = y0 + 0.5 * (H - (ny - 1) * pitch - depth)
        letters = "ABCDEFGH"
        for k in range(ny):
            yy = y_start + k * pitch
            floors = int(rng.integers(4, 8))
            geom = _rect(x0 + 4.0, yy, x0 + 4.0 + length, yy + depth)
            stairs = max(1, int(round(length / 14.0)))
            self.c.buildings.append(_b(geom, "housing", floors, round(2.9 * floors + float(rng.uniform(0.3, 0.8)), 2),
                                       year + int(rng.integers(0, 3)), dwellings=2 * stairs * floors,
                                       name=f"{name}, bâtiment {letters[k]}", key=f"{key}_{letters[k].lower()}",
                                       zone=zone))
            if k < ny - 1:
                for xx in np.arange(x0 + 8.0, x0 + 4.0 + length, 11.0):
                    self.c.trees.append(_tree(rng, xx, yy + depth + pitch / 2 - depth / 2, "maple"))

    def site_farm(self, bx, rng) -> None:
        x0, y0, x1, y1 = bx
        self.c.cover.append((_rect(x0, y0, x1, y1), LC.BARE_SOIL))
        self.c.parcels.append((_rect(x0, y0, x1, y1), "ZB"))
        self.c.buildings.append(_b(_rect(x0 + 1, y0 + 13, x0 + 15, y0 + 23), "housing", 2, 6.4, 1885, roof=10.2,
                                   dwellings=1, name="Ferme du Crêt", key="farm", zone="hill"))
        self.c.buildings.append(_b(_rect(x0 + 3, y0 + 1, x0 + 27, y0 + 11), "agricultural", 1, 7.0, 1955, roof=10.5,
                                   name="Grange du Crêt", key="barn", zone="hill"))
        self.c.trees.append(_tree(rng, x0 + 22, y0 + 19, "oak"))
        self.c.trees.append(_tree(rng, x1 + 4, y0 + 14, "ash"))

    def site_gym(self, bx, rng) -> None:
        x0, y0, x1, y1 = bx
        self.c.parcels.append((_rect(x0, y0, x1, y1), "ZA"))
        self.c.cover.append((_rect(x0, y0, x1, y0 + 24.0), LC.PARKING))
        w = min(44.0, x1 - x0 - 6.0)
        self.c.buildings.append(_b(_rect(x0 + 3, y1 - 3 - 27, x0 + 3 + w, y1 - 3), "sports", 1, 9.5, 1986,
                                   name="Gymnase Pierre de Coubertin", key="gym", zone="east"))
        for xx in np.arange(x0 + 6, x1 - 3, 10.0):
            self.c.trees.append(_tree(rng, xx, y0 + 12.0, "maple", 0.8))

    def site_supermarket(self, bx, rng) -> None:
        x0, y0, x1, y1 = bx
        self.c.parcels.append((_rect(x0, y0, x1, y1), "ZA"))
        self.c.cover.append((_rect(x0, y0, x1, y0 + 40.0), LC.PARKING))
        w = min(48.0, x1 - x0 - 6.0)
        self.c.buildings.append(_b(_rect(x0 + 3, y1 - 3 - 34, x0 + 3 + w, y1 - 3), "shop", 1, 7.0, 1996,
                                   name="Supermarché des Rives", key="supermarket", zone="east"))
        for xx in np.arange(x0 + 8, x1 - 4, 12.0):
            self.c.trees.append(_tree(rng, xx, y0 + 20.0, "lime", 0.7))


def fill_town(plan: Plan, segments, road_total, river_area, rail_area, park_area, crop_area, rng_for) -> Content:
    """Build everything that stands in the town (see the module docstring)."""
    p = plan
    S = p.size
    B = Builder(plan, segments, road_total, rng_for)
    B.centre()
    town = box(0.0, 0.0, S, S)
    cbox = box(*p.centre_box)
    rest = shapely.difference(town, shapely.union_all([B.road_union, river_area, rail_area, park_area, cbox]))
    blocks = [g for g in getattr(rest, "geoms", [rest]) if g.area > 150.0]
    blocks.sort(key=lambda g: (-round(g.representative_point().y, 1), round(g.representative_point().x, 1)))
    sites = p.sites
    site_polys = {k: box(*s.box) for k, s in sites.items()}
    rng_sites = rng_for("sites")
    builders = {
        "school": lambda bx: B.site_school(bx, rng_sites),
        "care_home": lambda bx: B.site_care_home(bx, rng_sites),
        "peupliers": lambda bx: B.site_slabs(bx, rng_sites, name="Résidence des Peupliers", key="peupliers",
                                             years=(1958, 1968), zone="south", section="AD"),
        "parc": lambda bx: B.site_slabs(bx, rng_sites, name="Résidence du Parc", key="parc", years=(1966, 1972),
                                        zone="floodplain", section="AH"),
        "farm": lambda bx: B.site_farm(bx, rng_sites),
        "gym": lambda bx: B.site_gym(bx, rng_sites),
        "supermarket": lambda bx: B.site_supermarket(bx, rng_sites),
    }
    for key in ("school", "care_home", "peupliers", "farm", "gym", "supermarket", "parc"):
        if key in sites:
            builders[key](sites[key].box)
    reserved = shapely.union_all([g.buffer(1.0, join_style="mitre") for g in site_polys.values()] + [crop_area])
    rng_h = rng_for("houses")
    rng_i = rng_for("industry")
    x_cw = p.cols[-1]
    for blk in blocks:
        rp = blk.representative_point()
        zone = B.zone_of(rp.x, rp.y)
        free = shapely.difference(blk, reserved)
        parts = [g for g in getattr(free, "geoms", [free]) if isinstance(g, Polygon) and g.area > 150.0]
        for part in parts:
            q = part.representative_point()
            if zone == "hill":
                dx = x_cw - q.x
                if q.y > 0.7 * S:
                    years, fp, site = (2013, 2023), (0.3, 0.7), 0.05
                elif dx < 110:
                    years, fp, site = ((1948, 1975) if q.y < p.y_avenue else (1960, 1990)), (0.5, 0.5), 0.0
                elif dx < 220:
                    years, fp, site = (1975, 2005), (0.4, 0.6), 0.0
                else:
                    years, fp, site = (1995, 2012), (0.3, 0.7), 0.02
                B.houses(part, rng_h, years=years, zone="hill", section="AC", floors_p=fp, site_prob=site)
            elif zone == "south":
                B.houses(part, rng_h, years=(1949, 1978), zone="south", section="AD", plot_w=(15.0, 21.0))
            elif zone == "north":
                if S >= 600 and q.x > p.cols[1]:
                    B.offices(part, rng_h)
                else:
                    B.houses(part, rng_h, years=(2013, 2023), zone="north", section="AE", plot_w=(14.0, 18.0),
                             plot_d=(22.0, 28.0), floors_p=(0.3, 0.7), site_prob=0.06)
            elif zone == "floodplain":
                B.houses(part, rng_h, years=(1920, 1975), zone="floodplain", section="AH", plot_w=(14.0, 20.0),
                         plot_d=(22.0, 30.0))
            elif zone == "east":
                B.industry(part, rng_i)
    return B.c
