"""IGN BD TOPO v3 water surfaces: layers SURFACE_HYDROGRAPHIQUE and PLAN_D_EAU -> water polygons and levels.

Both field spellings are accepted (``nature``/``NATURE``, ``persistance``/``PERSISTANC``,
``position_par_rapport_au_sol``/``POS_SOL``, ``etat_de_l_objet``/``ETAT``, ``cleabs``/``ID``). A GeoPackage
holding both layers gives both.

What is kept
------------
Surfaces at ground level (``position_par_rapport_au_sol`` 0 or absent: covered channels, -1, are not open
water), not ``En projet``, and permanent (``persistance`` ``Permanent`` or unknown; ``Intermittent`` surfaces
are dry most of the year and are skipped unless asked). Each reason is counted.

Water level
-----------
The altitude of the water surface [m] where the source gives one: an altitude attribute when present
(``altitude_moyenne``/``Z_MOY``), else the z of the polygon's vertices (BD TOPO hydrographic surfaces are
3D; z = -1000, -9999 and 9999 are IGN's "no altimetry"). A polygon whose vertices differ in z by more than
5 cm (a river reach sloping downstream) gets a level per cell interpolated linearly between its vertices
(:func:`water_level_grid`); otherwise the median of its vertices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from importers._common import Notes
from importers.bdtopo import _column, _fold, _num, read_vector
from twin.errors import TwinFormatError

__all__ = ["FIELDS", "LAYERS", "WaterSource", "read_water", "water_level_grid"]

#: Our name -> accepted field names (GeoPackage/WFS first, then Shapefile).
FIELDS = {
    "cleabs": ("cleabs", "ID"),
    "nature": ("nature", "NATURE"),
    "persistance": ("persistance", "PERSISTANC"),
    "pos_sol": ("position_par_rapport_au_sol", "POS_SOL"),
    "etat": ("etat_de_l_objet", "ETAT"),
    "altitude": ("altitude_moyenne", "Z_MOY"),
}

#: GeoPackage layers read (all of those present).
LAYERS = ("surface_hydrographique", "plan_d_eau")

_MISSING_Z = (-1000.0, -9999.0, 9999.0)

#: Vertices of one polygon that differ in z by more than this give a per-cell interpolated level [m].
SLOPED = 0.05


@dataclass
class WaterSource:
    """Water surfaces read from BD TOPO, before fusion.

    Attributes
    ----------
    path : Path
    crs : str
    water : GeoDataFrame
        ``external_id``, ``nature``, ``layer``, ``level`` (median water altitude [m], NaN when unknown),
        ``level_source`` (``bdtopo:altitude_moyenne``, ``bdtopo:z`` or ``""``), 2D polygons in ``crs``;
        ``vertices`` keeps each polygon's valid 3D vertices for the per-cell level of sloping ones.
    counts : dict
    notes : list of str
    """

    path: Path
    crs: str
    water: gpd.GeoDataFrame
    counts: dict = field(default_factory=dict)
    notes: Notes = field(default_factory=Notes)
    kind: str = "water"


def _layers_of(p: Path) -> list:
    if p.suffix.lower() != ".gpkg" or not p.is_file() or p.stat().st_size == 0:
        return [None]
    try:
        layers = [str(n) for n, _ in pyogrio.list_layers(p)]
    except (pyogrio.errors.DataSourceError, OSError):
        return [None]
    found = [name for want in LAYERS for name in layers if name.lower() == want]
    if found:
        return found
    if len(layers) > 1:
        raise TwinFormatError(f"{p}: no surface_hydrographique or plan_d_eau layer in the GeoPackage "
                              f"(layers: {', '.join(layers[:8])}); give the layer name")
    return [None]


def read_water(path, *, layer: str | None = None, crs=None, default_crs=None, bbox=None, bbox_crs=None,
               include_intermittent: bool = False) -> WaterSource:
    """Read BD TOPO SURFACE_HYDROGRAPHIQUE / PLAN_D_EAU polygons (see the module notes for every rule).

    Parameters
    ----------
    path : str or Path
        GeoPackage (both layers when present), Shapefile or GeoJSON.
    layer : str, optional
        One layer of a GeoPackage.
    crs, default_crs, bbox, bbox_crs : optional
        As for :func:`importers.bdtopo.read_bdtopo`.
    include_intermittent : bool
        Keep intermittent water surfaces. Default False.

    Returns
    -------
    WaterSource

    Raises
    ------
    TwinFileNotFoundError
    TwinFormatError
        If the file is unreadable or empty, has none of the BD TOPO hydrography fields, or its geometries
        are not polygons.
    TwinCRSError
    """
    p = Path(path)
    layers = [layer] if layer is not None else _layers_of(p)
    frames = []
    notes = Notes()
    the_crs = None
    for lay in layers:
        gdf, the_crs, nts = read_vector(p, layer=lay, crs=crs, default_crs=default_crs, what="BD TOPO water file",
                                        bbox=bbox, bbox_crs=bbox_crs)
        notes.extend(n for n in nts if n not in notes)
        if all(_column(gdf, k, FIELDS) is None for k in ("nature", "persistance", "cleabs")):
            raise TwinFormatError(f"{p}: not a BD TOPO SURFACE_HYDROGRAPHIQUE or PLAN_D_EAU layer "
                                  f"(no nature/NATURE, persistance/PERSISTANC or cleabs/ID field)")
        gdf = gdf.copy()
        gdf["_layer"] = lay or p.stem
        frames.append(gdf)
    gdf = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    n = len(gdf)
    counts = {"read": n}
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    empty = np.array([g is None or g.is_empty for g in geoms], dtype=bool)
    types = np.array([g.geom_type if g is not None else "" for g in geoms], dtype=object)
    polys = np.isin(types, ("Polygon", "MultiPolygon"))
    if n and not (polys & ~empty).any() and (~empty).any():
        found = ", ".join(sorted(set(types[~empty])))
        raise TwinFormatError(f"{p}: the geometries are {found}, not polygons (is it a SURFACE_HYDROGRAPHIQUE layer?)")
    counts["no_geometry"] = int(empty.sum())
    counts["not_polygons"] = int((~polys & ~empty).sum())
    keep = polys & ~empty
    pos = _num(_column(gdf, "pos_sol", FIELDS), n)
    below = np.isfinite(pos) & (pos != 0)
    counts["not_at_ground"] = int((below & keep).sum())
    keep &= ~below
    etat = _column(gdf, "etat", FIELDS)
    if etat is not None:
        proj = np.array([_fold(v) == "en projet" for v in etat.tolist()], dtype=bool)
        counts["projects"] = int((proj & keep).sum())
        keep &= ~proj
    pers = _column(gdf, "persistance", FIELDS)
    if pers is not None and not include_intermittent:
        inter = np.array([_fold(v) == "intermittent" for v in pers.tolist()], dtype=bool)
        counts["intermittent"] = int((inter & keep).sum())
        keep &= ~inter

    # levels: the attribute, else the vertices' z
    attr = _num(_column(gdf, "altitude", FIELDS), n, missing=_MISSING_Z)
    level = np.full(n, np.nan)
    lsrc = np.full(n, "", dtype=object)
    verts = np.full(n, None, dtype=object)
    for i in np.flatnonzero(keep):
        if np.isfinite(attr[i]):
            level[i], lsrc[i] = attr[i], "bdtopo:altitude_moyenne"
            continue
        c = shapely.get_coordinates(geoms[i], include_z=True)
        if c.shape[1] < 3:
            continue
        ok = np.isfinite(c[:, 2]) & ~np.isin(c[:, 2], _MISSING_Z)
        if ok.sum() == 0:
            continue
        c = c[ok]
        level[i], lsrc[i] = float(np.median(c[:, 2])), "bdtopo:z"
        if np.ptp(c[:, 2]) > SLOPED and len(c) >= 3:
            verts[i] = c
    nat = _column(gdf, "nature", FIELDS)
    ids = _column(gdf, "cleabs", FIELDS)
    table = gpd.GeoDataFrame(
        {
            "external_id": ids.astype(str).to_numpy() if ids is not None else np.array([f"{p.stem}:{i}" for i in range(n)], dtype=object),
            "nature": nat.fillna("").astype(str).to_numpy() if nat is not None else "",
            "layer": gdf["_layer"].astype(str).to_numpy(),
            "level": level,
            "level_source": lsrc,
            "vertices": verts,
        },
        geometry=gpd.GeoSeries(shapely.force_2d(np.where(keep, geoms, None)), crs=the_crs),
        crs=the_crs,
    )
    table = table.iloc[np.flatnonzero(keep)].reset_index(drop=True)
    counts["kept"] = len(table)
    counts["with_level"] = int(np.isfinite(table["level"]).sum())
    return WaterSource(path=p, crs=the_crs, water=table, counts=counts, notes=notes)


def water_level_grid(grid, water: gpd.GeoDataFrame, ids: np.ndarray) -> np.ndarray:
    """The ``water_level`` layer [m]: each water cell the level of its polygon, NaN elsewhere.

    ``ids`` is the grid of 1-based row numbers of ``water`` (0 = none), rasterised with the twin's rule
    (cell centre inside). Sloping polygons (``vertices`` set) are interpolated linearly between their vertices
    (nearest vertex outside their convex hull); the others take their median level.
    """
    from scipy.interpolate import LinearNDInterpolator, NearestNDInterpolator
    from scipy.spatial import QhullError

    out = np.full(grid.shape, np.nan, np.float32)
    if len(water) == 0:
        return out
    level = water["level"].to_numpy(np.float64)
    inside = ids > 0
    out[inside] = level[ids[inside] - 1]
    for k, v in enumerate(water["vertices"].tolist()):
        if v is None:
            continue
        rows, cols = np.nonzero(ids == k + 1)
        if rows.size == 0:
            continue
        xs, ys = grid.xy(rows, cols)
        xy = v[:, :2]
        try:
            z = LinearNDInterpolator(xy, v[:, 2])(xs, ys)
        except (QhullError, ValueError):  # collinear or duplicate vertices: no triangulation
            z = np.full(rows.size, np.nan)
        miss = ~np.isfinite(z)
        if miss.any():
            z[miss] = NearestNDInterpolator(xy, v[:, 2])(xs[miss], ys[miss])
        out[rows, cols] = z.astype(np.float32)
    return out
