"""Trees of the demo town outside the plots: street rows, the park, the river banks.

Street trees stand 1.2-1.5 m behind the kerb, skip the poles of the street lights
and the junctions; the park is planted at random with a minimum spacing away
from its pond and paths; the banks carry a riparian row of willows, poplars and
alders (on the west bank between the water and the towpath).
"""

from __future__ import annotations

import numpy as np
import shapely

from importers.demo._content import _tree
from importers.demo._geom import station
from importers.demo._network import Segment
from importers.demo._plan import Plan

#: Street rows: road name -> (species, spacing [m], both sides?, scale)
ROWS = {
    "Boulevard de la République": ("plane", 9.0, True, 1.0),
    "Avenue Jean Jaurès": ("lime", 11.0, True, 1.0),
    "Quai de la Jumelle": ("chestnut", 10.0, False, 1.0),
    "Chemin de la Croix": ("birch", 12.0, True, 0.9),
}


def street_trees(plan: Plan, segments: list[Segment], rng, *, forbidden, poles_xy: np.ndarray, keep_out) -> list:
    """Rows of trees along the streets named in :data:`ROWS`."""
    trees = []
    for seg in segments:
        spec = ROWS.get(seg.name)
        if spec is None:
            continue
        kind, spacing, both, scale = spec
        line = seg.line
        L = line.length
        n = int(L // spacing)
        if n < 1:
            continue
        off = seg.width / 2 + min(1.4, 0.5 * seg.sidewalk + 0.2)
        for i in range(n):
            s = (i + 0.5) * L / n
            c, nrm = station(line, s)
            sides = (1, -1) if both else (1 if seg.name != "Quai de la Jumelle" else -1,)
            for side in sides:
                x, y = c + side * off * nrm
                trees.append((x, y, kind, scale))
    if not trees:
        return []
    xy = np.array([[t[0], t[1]] for t in trees])
    ok = ~forbidden(xy) & ~keep_out(xy)
    if len(poles_xy):
        d2 = ((xy[:, None, :] - poles_xy[None, :, :]) ** 2).sum(-1).min(axis=1)
        ok &= d2 > 4.0 ** 2
    return [_tree(rng, x, y, kind, scale) for (x, y, kind, scale), good in zip(trees, ok) if good]


def _poisson(rng, poly, spacing: float, density: float, *, avoid=None) -> np.ndarray:
    """Random points in ``poly`` at least ``spacing`` apart (dart throwing), about one per ``density`` m2."""
    x0, y0, x1, y1 = poly.bounds
    n_target = int(poly.area / density)
    n_cand = 4 * n_target + 10
    cand = np.column_stack([rng.uniform(x0, x1, n_cand), rng.uniform(y0, y1, n_cand)])
    ok = shapely.contains_xy(poly, cand[:, 0], cand[:, 1])
    if avoid is not None:
        ok &= ~avoid(cand)
    cand = cand[ok]
    kept: list[np.ndarray] = []
    for c in cand:
        if len(kept) >= n_target:
            break
        if kept and (((np.asarray(kept) - c) ** 2).sum(1) < spacing * spacing).any():
            continue
        kept.append(c)
    return np.asarray(kept).reshape(-1, 2)


def park_trees(rng, park, avoid) -> list:
    """Trees of the park: a mix of large species, about one per 160 m2, 7 m apart at least."""
    pts = _poisson(rng, park, 7.0, 160.0, avoid=avoid)
    kinds = ["oak", "lime", "maple", "ash", "cedar", "plane"]
    return [_tree(rng, x, y, kinds[int(rng.integers(len(kinds)))]) for x, y in pts]


def riparian_trees(plan: Plan, rng, *, keep_out) -> list:
    """Willows, poplars and alders along both banks (west bank: between the water and the towpath)."""
    p = plan
    kinds = ["willow", "poplar", "alder"]
    cand = []
    for side in (-1, 1):
        y = float(rng.uniform(0.0, 5.0))
        while y < p.size:
            if side < 0:
                off = float(rng.uniform(1.0, max(1.2, 0.55 * p.riparian - 2.2)))
            else:
                off = float(rng.uniform(1.0, p.riparian - 1.0))
            cand.append((float(p.bank_x(y, side, off)), y, kinds[int(rng.integers(3))]))
            y += float(rng.uniform(6.0, 11.0))
    ok = ~keep_out(np.array([(x, y) for x, y, _ in cand]))
    return [_tree(rng, x, y, k) for (x, y, k), good in zip(cand, ok) if good]
