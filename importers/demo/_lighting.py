"""Public lighting of the demo town: luminaires along the lit segments, grouped on cabinets.

Each road piece has a lighting scheme (the optic, mounting height, spacing and
arrangement its street was equipped with, and when). The optics are named by
the built-in photometries the lighting model implements:

==========================  =====  =====  =======  ==========  ===========  =============
photometry                   CCT    ULR    N3       power       flux         installed
==========================  =====  =====  =======  ==========  ===========  =============
``builtin:road-led``         3000   0 %    99 %     30-60 W     4000-7000    2014-2023
``builtin:globe-hps``        2000   25 %   60 %     112-150 W   9500-14500   1982-1996
``builtin:pedestrian-led``   3000*  1 %    95 %     20-28 W     2000-3200    2014-2021
==========================  =====  =====  =======  ==========  ===========  =============

(* 2700 K in the park.) The boulevard, the avenue east of it, the quai, the
industrial street and the recent hillside streets are on LED; the historic
centre, the square (heritage lanterns), the avenue through the old town, the
Avenue du Général de Gaulle and the south quarter are still on sodium globes, so
that a retrofit scenario has globes to replace. Poles stand 0.5 m behind the
kerb (beside paths for paths), spaced a few mounting heights apart, single-sided
or staggered; each arm points across its road. Cabinets feed contiguous sectors.
"""

from __future__ import annotations

import math

import numpy as np

from importers.demo._geom import station
from importers.demo._network import Segment
from importers.demo._plan import Plan

LED, GLOBE, PED = "builtin:road-led", "builtin:globe-hps", "builtin:pedestrian-led"

#: Lighting schemes: optic, mounting height [m], spacing along one side [m], arrangement, product ranges.
SCHEMES: dict[str, dict] = {
    "blvd-led": dict(photometry=LED, height=10.0, spacing=35.0, arrangement="staggered", power=(54, 60),
                     flux=(6400, 7000), cct=3000.0, ulr=0.0, n3=99.0, installed=(2019, 2022), kind="road"),
    "avenue-led": dict(photometry=LED, height=8.0, spacing=28.0, arrangement="staggered", power=(44, 50),
                       flux=(5400, 6000), cct=3000.0, ulr=0.0, n3=99.0, installed=(2017, 2020), kind="road"),
    "dist-led": dict(photometry=LED, height=8.0, spacing=28.0, arrangement="single", power=(40, 46),
                     flux=(4900, 5500), cct=3000.0, ulr=0.0, n3=99.0, installed=(2015, 2021), kind="road"),
    "street-led": dict(photometry=LED, height=6.0, spacing=22.0, arrangement="single", power=(30, 36),
                       flux=(4000, 4600), cct=3000.0, ulr=0.0, n3=99.0, installed=(2014, 2023), kind="road"),
    "avenue-globe": dict(photometry=GLOBE, height=6.0, spacing=22.0, arrangement="staggered", power=(150, 150),
                         flux=(14000, 14500), cct=2000.0, ulr=25.0, n3=60.0, installed=(1982, 1990), kind="road"),
    "dist-globe": dict(photometry=GLOBE, height=6.0, spacing=21.0, arrangement="single", power=(150, 150),
                       flux=(14000, 14500), cct=2000.0, ulr=25.0, n3=60.0, installed=(1984, 1994), kind="road"),
    "street-globe": dict(photometry=GLOBE, height=5.0, spacing=19.0, arrangement="single", power=(112, 112),
                         flux=(9500, 10500), cct=2000.0, ulr=25.0, n3=60.0, installed=(1983, 1996), kind="road"),
    "square-heritage": dict(photometry=GLOBE, height=4.5, spacing=16.0, arrangement="square", power=(112, 112),
                            flux=(9500, 10000), cct=2000.0, ulr=25.0, n3=60.0, installed=(1988, 1992), kind="heritage"),
    "lane-ped": dict(photometry=PED, height=4.0, spacing=15.0, arrangement="single", power=(22, 28),
                     flux=(2600, 3200), cct=3000.0, ulr=1.0, n3=95.0, installed=(2014, 2021), kind="pedestrian"),
    "park-ped": dict(photometry=PED, height=4.0, spacing=15.0, arrangement="single", power=(20, 24),
                     flux=(2000, 2500), cct=2700.0, ulr=1.0, n3=95.0, installed=(2018, 2020), kind="park"),
}


def _azimuth(vx: float, vy: float) -> float:
    """Azimuth of a direction, clockwise from north [degree]."""
    return round(math.degrees(math.atan2(vx, vy)) % 360.0, 1)


def place_luminaires(plan: Plan, segments: list[Segment], rng, *, forbidden) -> list[dict]:
    """Luminaires along the lit segments; candidates where ``forbidden(xy)`` is true are dropped."""
    pieces = plan.roads
    products = []
    for piece in pieces:  # one product and one campaign per road piece
        sc = SCHEMES.get(piece.scheme)
        if sc is None:
            products.append(None)
            continue
        side = piece.side or (1 if rng.random() < 0.5 else -1)
        products.append(dict(
            power=float(rng.integers(sc["power"][0], sc["power"][1] + 1)),
            flux=float(round(rng.uniform(*sc["flux"]) / 50.0) * 50.0),
            installed=int(rng.integers(sc["installed"][0], sc["installed"][1] + 1)),
            side=side,
        ))
    sx0, sy0, sx1, sy1 = plan.square
    scx, scy = 0.5 * (sx0 + sx1), 0.5 * (sy0 + sy1)
    out = []
    for seg in segments:
        piece = pieces[seg.piece]
        sc = SCHEMES.get(piece.scheme)
        if sc is None or not seg.lighting_class:
            continue
        prod = products[seg.piece]
        line = seg.line
        L = line.length
        sp = sc["spacing"]
        if sc["arrangement"] == "staggered":
            n = max(1, int(round(2.0 * L / sp)))
        else:
            n = max(1, int(round(L / sp)))
        offset = seg.width / 2 + 0.5
        for i in range(n):
            s = (i + 0.5) * L / n
            c, nrm = station(line, s)
            if sc["arrangement"] == "staggered":
                side = 1 if i % 2 == 0 else -1
            elif sc["arrangement"] == "square":  # on the square's side of its street
                side = 1 if (scx - c[0]) * nrm[0] + (scy - c[1]) * nrm[1] > 0 else -1
            else:
                side = prod["side"]
            pos = c + side * offset * nrm
            out.append(dict(
                x=round(float(pos[0]), 2), y=round(float(pos[1]), 2),
                mounting_height=sc["height"], orientation=_azimuth(*(-side * nrm)), tilt=0.0,
                photometry=sc["photometry"], power=prod["power"], flux=prod["flux"], cct=sc["cct"], ulr=sc["ulr"],
                n3=sc["n3"], installed=prod["installed"], road_id=seg.id, kind=sc["kind"],
            ))
    if not out:
        return out
    xy = np.array([[o["x"], o["y"]] for o in out])
    bad = forbidden(xy)
    return [o for o, drop in zip(out, bad) if not drop]


def assign_cabinets(size: float, luminaires: list[dict]) -> None:
    """Group luminaires on cabinets ``A01``, ``A02``... each feeding one rectangular sector of the town.

    Sectors are numbered from the north-west, row by row; empty sectors get no cabinet.
    """
    kx = max(2, int(round(size / 250.0)))
    ky = max(2, int(round(size / 330.0)))
    sector = []
    for o in luminaires:
        col = min(kx - 1, max(0, int(o["x"] / size * kx)))
        row = min(ky - 1, max(0, int((size - o["y"]) / size * ky)))
        sector.append(row * kx + col)
    labels = {s: f"A{k + 1:02d}" for k, s in enumerate(sorted(set(sector)))}
    for o, s in zip(luminaires, sector):
        o["cabinet"] = labels[s]
