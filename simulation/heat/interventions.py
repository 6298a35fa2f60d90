"""Heat interventions on a twin: trees, cool roofs and pavements, greening, shade structures.

Each function returns a modified **copy** of the twin (the original is never touched)
and records what it did in the copy's provenance. The layers stay consistent with the
twin's one rule (``surface = terrain + max(building_height, canopy_height)``, via
:mod:`twin.rasterize`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

from twin.errors import TwinValueError
from twin.layers import Landcover
from twin.rasterize import compose_surface, rasterize_values, tree_canopy

__all__ = ["plant_trees", "street_tree_positions", "cool_surfaces", "greening", "shade_structures",
           "points_in_polygons"]


def _positive(v, name):
    v = float(v)
    if not np.isfinite(v) or v <= 0:
        raise TwinValueError(f"invalid {name}: {v!r} (must be > 0)")
    return v


def points_in_polygons(polygons, *, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Points on a square lattice of ``spacing`` [m] inside polygons (at least one per polygon, its centroid)."""
    spacing = _positive(spacing, "spacing")
    xs, ys = [], []
    for poly in polygons:
        if poly is None or poly.is_empty:
            continue
        x0, y0, x1, y1 = poly.bounds
        gx = np.arange(x0 + spacing / 2, x1, spacing)
        gy = np.arange(y0 + spacing / 2, y1, spacing)
        px, py = np.meshgrid(gx, gy)
        px, py = px.ravel(), py.ravel()
        inside = shapely.contains_xy(poly, px, py) if px.size else np.zeros(0, bool)
        if not inside.any():
            c = poly.representative_point()
            px, py, inside = np.array([c.x]), np.array([c.y]), np.array([True])
        xs.append(px[inside])
        ys.append(py[inside])
    if not xs:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(xs), np.concatenate(ys)


def street_tree_positions(twin, *, spacing: float, road_ids=None, road_names=None, road_kinds=None,
                          side: str = "both", setback: float | None = None, clearance: float = 1.5,
                          min_distance: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Positions for street trees along road centre lines, on the sidewalks.

    Trees go every ``spacing`` metres, 1 m behind the kerb (``width / 2 + min(1,
    sidewalk_width / 2)`` from the centre line, or ``setback``), on ``side`` ("both",
    "left", "right"). Positions on or
    within ``clearance`` metres of a building, outside the grid, or closer than
    ``min_distance`` (default: ``spacing / 2``) to an existing crown are dropped.
    """
    spacing = _positive(spacing, "spacing")
    if side not in ("both", "left", "right"):
        raise TwinValueError(f"invalid side: {side!r} (use both, left or right)")
    roads = twin.roads
    if len(roads) == 0:
        raise TwinValueError("the twin has no roads to plant street trees along")
    sel = np.ones(len(roads), bool)
    if road_ids is not None:
        sel &= roads["id"].isin(list(road_ids)).to_numpy()
    if road_names is not None:
        sel &= roads["name"].isin(list(road_names)).to_numpy()
    if road_kinds is not None:
        sel &= roads["kind"].isin(list(road_kinds)).to_numpy()
    if not sel.any():
        raise TwinValueError("no road matches the selection for street trees")
    xs, ys = [], []
    for _, road in roads[sel].iterrows():
        line = road.geometry
        if line is None or line.is_empty or line.length < spacing:
            continue
        w = road["width"] if np.isfinite(road.get("width", np.nan)) else 6.0
        sw = road["sidewalk_width"] if np.isfinite(road.get("sidewalk_width", np.nan)) else 0.0
        off = float(setback) if setback is not None else 0.5 * w + min(1.0, 0.5 * max(sw, 1.0))
        sides = {"both": (off, -off), "left": (off,), "right": (-off,)}[side]
        for o in sides:
            par = line.offset_curve(o)
            if par.is_empty:
                continue
            n = int(par.length // spacing)
            for k in range(n):
                pt = par.interpolate((k + 0.5) * spacing)
                xs.append(pt.x)
                ys.append(pt.y)
    x, y = np.asarray(xs), np.asarray(ys)
    if x.size == 0:
        raise TwinValueError("no room for street trees along the selected roads")
    g = twin.grid
    keep = g.contains(x, y)
    x, y = x[keep], y[keep]
    bid = twin.array("building_id")
    ch = twin.array("canopy_height")
    # distance to the nearest building cell and to the nearest existing crown, from raster distance maps
    from scipy import ndimage

    dist_b = ndimage.distance_transform_edt(bid == 0, sampling=g.cell_size)
    dist_c = ndimage.distance_transform_edt(~(ch > 0), sampling=g.cell_size)
    r, c = g.rowcol(x, y)
    md = spacing / 2 if min_distance is None else float(min_distance)
    ok = (dist_b[r, c] > clearance) & (dist_c[r, c] >= md)
    x, y = x[ok], y[ok]
    # thin points closer than spacing / 2 to each other (road ends, crossings)
    chosen: list[int] = []
    pts = np.column_stack([x, y])
    for i in range(len(pts)):
        if all(np.hypot(*(pts[i] - pts[j])) >= spacing / 2 for j in chosen[-200:]):
            chosen.append(i)
    return x[chosen], y[chosen]


def plant_trees(twin, *, x=None, y=None, polygons=None, spacing: float = 8.0, height: float = 10.0,
                crown_diameter: float = 7.0, species: str = "", note: str = "trees"):
    """Plant trees at points, or on a lattice inside polygons; return a new twin.

    Updates ``canopy_height`` (max with the crowns of :func:`twin.rasterize.tree_canopy`,
    never on building cells), ``surface`` (recomposed) and the ``trees`` table. The
    land cover under the crowns is unchanged (a street tree stands on its sidewalk).

    Parameters
    ----------
    x, y : arrays [m], tree positions; or ``polygons`` (shapely) with ``spacing`` [m].
    height, crown_diameter : float [m].
    """
    height = _positive(height, "tree height")
    crown_diameter = _positive(crown_diameter, "crown diameter")
    if polygons is not None:
        px, py = points_in_polygons(polygons, spacing=spacing)
        x = np.concatenate([np.asarray(x, float).ravel(), px]) if x is not None else px
        y = np.concatenate([np.asarray(y, float).ravel(), py]) if y is not None else py
    if x is None or y is None:
        raise TwinValueError("plant_trees needs x and y, or polygons")
    x = np.asarray(x, float).ravel()
    y = np.asarray(y, float).ravel()
    if x.shape != y.shape or not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise TwinValueError("plant_trees: x and y must be finite and of the same length")
    out = twin.copy()
    g = out.grid
    inside = g.contains(x, y)
    if not inside.any():
        raise TwinValueError("plant_trees: no tree position falls inside the twin")
    x, y = x[inside], y[inside]
    crowns = tree_canopy(g, x, y, np.full(x.size, height), np.full(x.size, crown_diameter))
    bid = out.array("building_id")
    crowns[bid > 0] = 0.0
    ch = np.maximum(out.array("canopy_height"), crowns).astype(np.float32)
    out.set_layer("canopy_height", ch)
    out.set_layer("surface", compose_surface(out.array("terrain"), out.array("building_height"), ch))
    trees = out.trees
    start = int(trees["id"].max()) + 1 if len(trees) else 1
    new = pd.DataFrame({
        "id": np.arange(start, start + x.size, dtype=np.int32),
        "height": np.full(x.size, height, np.float32),
        "crown_diameter": np.full(x.size, crown_diameter, np.float32),
        "trunk_height": np.full(x.size, np.nan, np.float32),
        "species": [species] * x.size,
    })
    import geopandas as gpd

    new = gpd.GeoDataFrame(new, geometry=[Point(a, b) for a, b in zip(x, y)], crs=g.crs)
    both = pd.concat([trees, new], ignore_index=True) if len(trees) else new
    out.set_table("trees", gpd.GeoDataFrame(both, geometry="geometry", crs=g.crs))
    out.add_provenance("intervention", kind="heat", type=note, trees=int(x.size), height=height,
                       crown_diameter=crown_diameter, crown_cells=int((crowns > 0).sum()))
    return out


def _class_codes(names) -> list[int]:
    codes = []
    for n in names:
        key = str(n).upper()
        if key not in Landcover.__members__:
            raise TwinValueError(f"unknown land-cover class {n!r} (known: {', '.join(m.lower() for m in Landcover.__members__)})")
        codes.append(int(Landcover[key]))
    return codes


def cool_surfaces(twin, *, albedo: float, emissivity: float | None = None, landcover=None, polygons=None,
                  buildings=None, note: str = "cool surfaces"):
    """Raise the albedo (and optionally set the emissivity) of chosen cells; return a new twin.

    The cells: those of the ``landcover`` classes (e.g. ``["building"]`` for cool roofs,
    ``["road", "sidewalk", "square", "parking"]`` for cool pavements), restricted to
    ``polygons`` and/or the building ids ``buildings`` when given. Writes the per-cell
    ``albedo``/``emissivity`` layers the heat model reads over its land-cover table
    (created from that table's defaults where absent).
    """
    from simulation.heat.parameters import HeatParameters, surface_tables

    if not 0.0 <= float(albedo) <= 1.0:
        raise TwinValueError(f"invalid albedo: {albedo!r} (must be within 0..1)")
    if emissivity is not None and not 0.0 <= float(emissivity) <= 1.0:
        raise TwinValueError(f"invalid emissivity: {emissivity!r} (must be within 0..1)")
    out = twin.copy()
    lc = out.array("landcover")
    mask = np.ones(out.grid.shape, bool)
    if landcover is not None:
        mask &= np.isin(lc, _class_codes(landcover))
    if polygons is not None:
        mask &= rasterize_values(out.grid, list(polygons), [1] * len(list(polygons)), fill=0, dtype="uint8") > 0
    if buildings is not None:
        mask &= np.isin(out.array("building_id"), np.asarray(list(buildings), np.int64))
    n = int(mask.sum())
    if n == 0:
        raise TwinValueError(f"{note}: no cell matches (land cover {landcover}, polygons, buildings)")
    tables = surface_tables(HeatParameters())
    for name, value in (("albedo", albedo), ("emissivity", emissivity)):
        if value is None:
            continue
        base = out.array(name).astype(np.float32) if name in out else tables[name][lc].astype(np.float32)
        base = base.copy()
        base[mask] = float(value)
        out.set_layer(name, base, units="1", long_name=f"surface {name} (per cell, over the land-cover table)")
    out.add_provenance("intervention", kind="heat", type=note, cells=n, albedo=float(albedo),
                       emissivity=None if emissivity is None else float(emissivity))
    return out


def greening(twin, *, polygons=None, landcover_from=None, to: str = "grass", note: str = "greening"):
    """Turn open cells into ``to`` (grass by default) inside polygons and/or of classes ``landcover_from``."""
    out = twin.copy()
    lc = out.array("landcover").copy()
    mask = out.array("building_id") == 0
    if polygons is None and landcover_from is None:
        raise TwinValueError("greening needs polygons or landcover_from")
    if polygons is not None:
        polys = list(polygons)
        mask &= rasterize_values(out.grid, polys, [1] * len(polys), fill=0, dtype="uint8") > 0
    if landcover_from is not None:
        mask &= np.isin(lc, _class_codes(landcover_from))
    n = int(mask.sum())
    if n == 0:
        raise TwinValueError(f"{note}: no open cell matches")
    lc[mask] = _class_codes([to])[0]
    out.set_layer("landcover", lc)
    for name in ("albedo", "emissivity"):  # per-cell overrides no longer apply to the new surface
        if name in out:
            arr = out.array(name).astype(np.float32).copy()
            arr[mask] = np.nan
            out.set_layer(name, arr, units="1", long_name=out[name].attrs.get("long_name", name))
    out.add_provenance("intervention", kind="heat", type=note, cells=n, to=to)
    return out


def shade_structures(twin, *, polygons, height: float = 4.0, note: str = "shade structures"):
    """Shade sails or canopies over open cells inside polygons; return a new twin.

    Modelled as tree-like canopies of ``height`` (they cast shade with the crown
    transmissivity and hide sky like a crown; the trunk zone lets a low sun under).
    """
    height = _positive(height, "shade height")
    out = twin.copy()
    polys = list(polygons)
    mask = rasterize_values(out.grid, polys, [1] * len(polys), fill=0, dtype="uint8") > 0
    mask &= out.array("building_id") == 0
    n = int(mask.sum())
    if n == 0:
        raise TwinValueError(f"{note}: no open cell inside the polygons")
    ch = out.array("canopy_height").copy()
    ch[mask] = np.maximum(ch[mask], height)
    out.set_layer("canopy_height", ch)
    out.set_layer("surface", compose_surface(out.array("terrain"), out.array("building_height"), ch))
    out.add_provenance("intervention", kind="heat", type=note, cells=n, height=height)
    return out
