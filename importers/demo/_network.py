"""The street network: road pieces split into segments at junctions, with EN 13201 classes.

Segments end at every junction. Where two roads of the motorised classes (M)
cross, the stretch within ``JUNCTION_RADIUS`` of the crossing becomes its own
segment of class C2 (EN 13201-1 treats such conflict areas with the C classes);
the Place du Marché carries C3 (its style); lanes and paths carry P classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Point
from shapely.ops import substring

from importers.demo._plan import STYLES, Plan, RoadPiece

#: Radius of the conflict area around a crossing of two M-class roads [m].
JUNCTION_RADIUS = 15.0
JUNCTION_CLASS = "C2"
_TOL = 0.05


@dataclass
class Segment:
    id: int
    piece: int  # index into plan.roads
    name: str
    kind: str
    width: float
    sidewalk: float
    lighting_class: str
    line: LineString


def _is_m(piece: RoadPiece) -> bool:
    return STYLES[piece.style][2].startswith("M")


def junctions(pieces: list[RoadPiece]) -> list[tuple[Point, set]]:
    """Points where roads meet, each with the indices of the pieces that meet there."""
    lines = [LineString(p.coords) for p in pieces]
    found: list[tuple[Point, set]] = []

    def add(pt: Point, i: int, j: int) -> None:
        for q, members in found:
            if q.distance(pt) < 0.5:
                members.update((i, j))
                return
        found.append((pt, {i, j}))

    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            a, b = lines[i], lines[j]
            if a.distance(b) > _TOL:
                continue
            inter = a.intersection(b)
            pts = [g for g in getattr(inter, "geoms", [inter]) if isinstance(g, Point)]
            if not pts:  # an end that stops on the other line within the tolerance
                for end in (Point(a.coords[0]), Point(a.coords[-1]), Point(b.coords[0]), Point(b.coords[-1])):
                    if a.distance(end) < _TOL and b.distance(end) < _TOL:
                        pts.append(end)
            for pt in pts:
                add(pt, i, j)
    return found


def split_network(plan: Plan) -> list[Segment]:
    """The road pieces of ``plan`` as segments between junctions, with their lighting classes."""
    pieces = plan.roads
    joints = junctions(pieces)
    major = []
    for pt, members in joints:
        names = {pieces[k].name for k in members if _is_m(pieces[k])}
        if len(names) >= 2:
            major.append(pt)
    segments: list[Segment] = []
    for k, piece in enumerate(pieces):
        line = LineString(piece.coords)
        length = line.length
        cuts = {0.0, length}
        for pt, members in joints:
            if k in members:
                cuts.add(float(line.project(pt)))
        lit_m = _is_m(piece)
        if lit_m:
            for pt in major:
                if line.distance(pt) < _TOL:
                    s = float(line.project(pt))
                    cuts.update((s - JUNCTION_RADIUS, s + JUNCTION_RADIUS))
        cuts = sorted(c for c in cuts if -1e-9 <= c <= length + 1e-9)
        # merge cuts closer than half a metre
        merged = [cuts[0]]
        for c in cuts[1:]:
            if c - merged[-1] >= 0.5:
                merged.append(c)
            else:
                merged[-1] = max(merged[-1], c) if merged[-1] != 0.0 else 0.0
        merged[-1] = length
        w, sw, cls, kind = STYLES[piece.style]
        for a, b in zip(merged[:-1], merged[1:]):
            seg = substring(line, a, b)
            if seg.length < 0.5:
                continue
            c = cls
            if lit_m and major:
                mid = seg.interpolate(0.5, normalized=True)
                if min(mid.distance(pt) for pt in major) < JUNCTION_RADIUS:
                    c = JUNCTION_CLASS
            coords = np.round(np.asarray(seg.coords), 2)
            segments.append(Segment(len(segments) + 1, k, piece.name, kind, w, sw, c, LineString(coords)))
    return segments


def road_areas(plan: Plan, segments: list[Segment]):
    """``(total, carriageway)``: per segment, the polygon of the road with and without its sidewalks."""
    lines = np.array([s.line for s in segments], dtype=object)
    half_total = np.array([s.width / 2 + s.sidewalk for s in segments])
    half_carr = np.array([s.width / 2 for s in segments])
    total = shapely.buffer(lines, half_total, cap_style="flat", join_style="mitre")
    carr = shapely.buffer(lines, half_carr, cap_style="flat", join_style="mitre")
    return total, carr
