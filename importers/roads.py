"""IGN BD TOPO v3, layer TRONCON_DE_ROUTE (GeoPackage, Shapefile, GeoJSON) -> the twin's roads table.

Both spellings of the fields are accepted, as for the buildings: the lowercase names of the GeoPackage/WFS
(``nature``, ``largeur_de_chaussee``, ``nombre_de_voies``, ``importance``, ``position_par_rapport_au_sol``,
``etat_de_l_objet``, ``fictif``, ``nom_collaboratif_gauche``...) and the short uppercase names of Shapefile
exports (``NATURE``, ``LARGEUR``, ``NB_VOIES``, ``IMPORTANCE``, ``POS_SOL``, ``ETAT``, ``FICTIF``,
``NOM_COLL_G``, ``NOM_1_G``...).

What is kept
------------
A segment (*tronçon*) is kept when it is at ground level (``position_par_rapport_au_sol`` 0; a ford,
``Gué ou radier``, is at ground level too; bridges 1..4 and tunnels -1..-4 are not), in service
(``etat_de_l_objet`` ``En service``), not fictitious (``fictif``: virtual axes drawn across squares and
through junctions carry no carriageway) and not a ferry link. Each reason is counted. Multi-part lines are
merged, or split into one row per part.

What is read (the ``*_source`` columns say which rule gave each value)
---------------------------------------------------------------------
* ``kind`` from ``nature`` (:data:`NATURES`): motorway, boulevard (dual carriageway), street, lane, path;
* ``width`` (carriageway, kerb to kerb [m]): ``largeur_de_chaussee`` when positive
  (``bdtopo:largeur_de_chaussee``), else ``nombre_de_voies`` x ``lane_width`` (3.5 m, the standard French
  lane: ``nombre_de_voies*3.5m``), else the default of the nature (``default:<nature>``, :data:`NATURES`);
* ``lighting_class``: the EN 13201-2 class the segment needs if it is lit, by :func:`lighting_class_for`
  (``rule:importance`` or ``rule:nature``); BD TOPO says nothing about actual lighting;
* ``name`` from the first non-empty of the left/right name fields (:data:`NAME_FIELDS`);
* ``sidewalk_width`` 0: BD TOPO does not describe sidewalks;
* extras: ``external_id`` (cleabs), ``nature``, ``importance``, ``surface`` (the land-cover code of the
  segment's surface: ROAD for paved roads, SIDEWALK for cycle tracks and stairs, BARE_SOIL for tracks and
  footpaths).

:func:`road_surfaces` buffers each centre line by half its width (flat ends, discs at the nodes where
segments meet, so junctions are filled without overshooting dead ends).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from importers._common import Notes
from importers.bdtopo import _column, _fold, _num, find_layer, read_vector
from twin.errors import TwinFormatError
from twin.layers import Landcover

__all__ = [
    "FIELDS",
    "IMPORTANCE_CLASSES",
    "LANE_WIDTH",
    "NAME_FIELDS",
    "NATURES",
    "ROUNDABOUT_CLASSES",
    "RoadNature",
    "RoadsSource",
    "lighting_class_for",
    "read_roads",
    "road_surfaces",
]

#: Our name -> accepted field names (GeoPackage/WFS first, then Shapefile).
FIELDS = {
    "cleabs": ("cleabs", "ID"),
    "nature": ("nature", "NATURE"),
    "importance": ("importance", "IMPORTANCE"),
    "largeur": ("largeur_de_chaussee", "LARGEUR"),
    "nb_voies": ("nombre_de_voies", "NB_VOIES"),
    "pos_sol": ("position_par_rapport_au_sol", "POS_SOL"),
    "etat": ("etat_de_l_objet", "ETAT"),
    "fictif": ("fictif", "FICTIF"),
}

#: Street-name fields, in order of preference (left then right side of the digitising direction).
NAME_FIELDS = ("nom_collaboratif_gauche", "nom_collaboratif_droite", "nom_voie_ban_gauche", "nom_voie_ban_droite",
               "nom_1_gauche", "nom_1_droite", "NOM_COLL_G", "NOM_COLL_D", "NOM_VOIE_G", "NOM_VOIE_D", "NOM_1_G",
               "NOM_1_D")

#: Standard lane width of French roads [m] (ICTAAL/ARP: 3.5 m lanes).
LANE_WIDTH = 3.5


@dataclass(frozen=True)
class RoadNature:
    """How one BD TOPO ``nature`` becomes a road: twin kind, default carriageway width [m], lighting class
    when the importance is unknown (or always, for non-motorised natures), land-cover class of its surface."""

    kind: str
    width: float
    lighting_class: str
    surface: int
    motorised: bool


#: BD TOPO ``nature`` (compared without accents or case) -> :class:`RoadNature`. Default widths: two lanes per
#: carriageway for motorways and dual carriageways (each carriageway is its own segment), two 2.75 m lanes for
#: a single carriageway, one lane plus margins for a slip road, a roundabout ring of 7 m, 3 m tracks, 2 m cycle
#: tracks (CEREMA: 1.5-2 m one-way, 2.5-3 m two-way), 2 m stairs, 1 m footpaths.
NATURES: dict[str, RoadNature] = {
    "type autoroutier": RoadNature("motorway", 7.0, "M2", Landcover.ROAD, True),
    "route a 2 chaussees": RoadNature("boulevard", 7.0, "M4", Landcover.ROAD, True),
    "route a 1 chaussee": RoadNature("street", 5.5, "M5", Landcover.ROAD, True),
    "bretelle": RoadNature("street", 4.0, "M4", Landcover.ROAD, True),
    "rond-point": RoadNature("street", 7.0, "C3", Landcover.ROAD, True),
    "route empierree": RoadNature("lane", 3.0, "P5", Landcover.BARE_SOIL, False),
    "chemin": RoadNature("lane", 3.0, "P5", Landcover.BARE_SOIL, False),
    "piste cyclable": RoadNature("path", 2.0, "P4", Landcover.SIDEWALK, False),
    "escalier": RoadNature("path", 2.0, "P3", Landcover.SIDEWALK, False),
    "sentier": RoadNature("path", 1.0, "P5", Landcover.BARE_SOIL, False),
}

#: Natures that are not roads on the ground of the twin (ferry links) and are skipped.
FERRIES = frozenset({"bac ou liaison maritime", "bac auto", "bac pieton", "liaison maritime"})

#: Nature of a segment whose nature is missing or unknown (counted and noted).
UNKNOWN_NATURE = RoadNature("street", 5.5, "M5", Landcover.ROAD, True)

#: BD TOPO ``importance`` (1 national network ... 5 local access, 6 tracks) -> EN 13201-2 class of a motorised
#: segment: M classes for traffic roads (CEN/TR 13201-1: higher class for higher traffic and speed), P classes
#: for the local access and residential streets (importance 5) and tracks (6), where pedestrians dominate.
IMPORTANCE_CLASSES = {"1": "M2", "2": "M3", "3": "M4", "4": "M5", "5": "P3", "6": "P4"}

#: Roundabouts are conflict areas: a C class, one step above the comparable class (M_k ~ C_(k-1),
#: CEN/TR 13201-1) of a segment of the same importance.
ROUNDABOUT_CLASSES = {"1": "C0", "2": "C1", "3": "C2", "4": "C3", "5": "C4", "6": "C5"}


def lighting_class_for(nature: str, importance) -> tuple[str, str]:
    """EN 13201-2 lighting class of a BD TOPO segment, and the rule that gave it.

    Motorised natures take their class from ``importance`` (:data:`IMPORTANCE_CLASSES`, roundabouts
    :data:`ROUNDABOUT_CLASSES`), else from the nature (:data:`NATURES`); cycle tracks, stairs, tracks and
    footpaths from the nature. The class is what the segment needs *if* it is lit.

    Returns
    -------
    (class, source) : (str, str)
        e.g. ``("M3", "rule:importance")``, ``("P4", "rule:nature")``.
    """
    nat = NATURES.get(_fold(nature), UNKNOWN_NATURE)
    imp = _importance_key(importance)
    if nat.motorised and imp:
        table = ROUNDABOUT_CLASSES if _fold(nature) == "rond-point" else IMPORTANCE_CLASSES
        return table[imp], "rule:importance"
    return nat.lighting_class, "rule:nature"


def _importance_key(v) -> str:
    """``"1"``..``"6"`` from an importance value (string, integer or float), else ``""`` (NC, NR, missing)."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    t = str(v).strip()
    t = t.removesuffix(".0")
    return t if t in IMPORTANCE_CLASSES else ""


@dataclass
class RoadsSource:
    """Road segments read from BD TOPO, before fusion.

    Attributes
    ----------
    path : Path
    crs : str
    roads : GeoDataFrame
        Columns of the twin roads table but ``id`` (given at fusion), plus ``external_id``, ``nature``,
        ``importance``, ``width_source``, ``lighting_class_source``, ``surface``. 2D lines in ``crs``.
    counts : dict
        Segments read, kept, and skipped by reason.
    notes : list of str
    """

    path: Path
    crs: str
    roads: gpd.GeoDataFrame
    counts: dict = field(default_factory=dict)
    notes: Notes = field(default_factory=Notes)
    kind: str = "roads"


def _ground_level(series, n) -> tuple[np.ndarray, int]:
    """Whether each segment is at ground level (0, or a ford); and how many are fords."""
    if series is None:
        return np.ones(n, bool), 0
    out = np.zeros(n, bool)
    fords = 0
    for i, v in enumerate(series.tolist()):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            out[i] = True  # unknown: assumed at ground
            continue
        try:
            out[i] = float(str(v).strip().replace(",", ".")) == 0.0
        except ValueError:
            if _fold(v).startswith("gue"):
                out[i] = True
                fords += 1
    return out, fords


def _truthy(v) -> bool:
    return _fold(v) in ("oui", "true", "1", "vrai", "yes", "t")


def _names(gdf: pd.DataFrame) -> np.ndarray:
    lower = {c.lower(): c for c in gdf.columns}
    cols = [lower[f.lower()] for f in NAME_FIELDS if f.lower() in lower]
    names = np.full(len(gdf), "", dtype=object)
    for c in reversed(cols):  # the first field wins: written last
        v = gdf[c].to_numpy(dtype=object)
        ok = np.array([x is not None and not (isinstance(x, float) and np.isnan(x)) and str(x).strip() != "" for x in v],
                      dtype=bool)
        names[ok] = [str(x).strip() for x in v[ok]]
    return names


def read_roads(path, *, layer: str | None = None, crs=None, default_crs=None, bbox=None, bbox_crs=None,
               lane_width: float = LANE_WIDTH) -> RoadsSource:
    """Read the TRONCON_DE_ROUTE layer of BD TOPO v3 into a roads table (see the module notes for every rule).

    Parameters
    ----------
    path : str or Path
        GeoPackage (layer ``troncon_de_route`` when present), Shapefile or GeoJSON.
    layer : str, optional
        Layer name in a GeoPackage.
    crs, default_crs : optional
        CRS overriding the file's / assumed when it declares none.
    bbox, bbox_crs : optional
        Read only the segments that intersect this box (filtered by GDAL while reading).
    lane_width : float
        Width of a lane for widths from ``nombre_de_voies`` [m].

    Returns
    -------
    RoadsSource

    Raises
    ------
    TwinFileNotFoundError
    TwinFormatError
        If the file is unreadable or empty, has none of the BD TOPO road fields, or its geometries are not lines.
    TwinCRSError
        If no CRS is declared or given.
    """
    p = Path(path)
    if layer is None:
        layer = find_layer(p, ("troncon_de_route",), what="troncon_de_route", required=True)
    gdf, the_crs, notes = read_vector(p, layer=layer, crs=crs, default_crs=default_crs, what="BD TOPO road file",
                                      bbox=bbox, bbox_crs=bbox_crs)
    if all(_column(gdf, k, FIELDS) is None for k in ("nature", "largeur", "nb_voies")):
        raise TwinFormatError(f"{p}: not a BD TOPO TRONCON_DE_ROUTE layer (no nature/NATURE, "
                              f"largeur_de_chaussee/LARGEUR or nombre_de_voies/NB_VOIES field)")
    n = len(gdf)
    counts = {"read": n}
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    empty = np.array([g is None or g.is_empty for g in geoms], dtype=bool)
    types = np.array([g.geom_type if g is not None else "" for g in geoms], dtype=object)
    lines = np.isin(types, ("LineString", "MultiLineString", "LinearRing"))
    if n and not (lines & ~empty).any() and (~empty).any():
        found = ", ".join(sorted(set(types[~empty])))
        raise TwinFormatError(f"{p}: the geometries are {found}, not lines (is it a TRONCON_DE_ROUTE layer?)")
    counts["no_geometry"] = int(empty.sum())
    counts["not_lines"] = int((~lines & ~empty).sum())
    keep = lines & ~empty

    ground, fords = _ground_level(_column(gdf, "pos_sol", FIELDS), n)
    counts["not_at_ground"] = int((~ground & keep).sum())
    counts["fords"] = fords
    keep &= ground
    etat = _column(gdf, "etat", FIELDS)
    if etat is not None:
        in_service = np.array([_fold(v) in ("en service", "") for v in etat.tolist()], dtype=bool)
        counts["not_in_service"] = int((~in_service & keep).sum())
        keep &= in_service
    fictif = _column(gdf, "fictif", FIELDS)
    if fictif is not None:
        fict = np.array([_truthy(v) for v in fictif.tolist()], dtype=bool)
        counts["fictitious"] = int((fict & keep).sum())
        keep &= ~fict
    nature_col = _column(gdf, "nature", FIELDS)
    natures = [str(v) if v is not None and not (isinstance(v, float) and np.isnan(v)) else ""
               for v in (nature_col.tolist() if nature_col is not None else [""] * n)]
    folded = [_fold(v) for v in natures]
    ferry = np.array([f in FERRIES for f in folded], dtype=bool)
    counts["ferries"] = int((ferry & keep).sum())
    keep &= ~ferry
    unknown = sorted({natures[i] for i in np.flatnonzero(keep) if folded[i] not in NATURES})
    if unknown:
        counts["unknown_nature"] = int(sum(1 for i in np.flatnonzero(keep) if folded[i] not in NATURES))
        notes.add(f"{p.name}: road natures not recognised, taken as a 5.5 m street: {', '.join(repr(u) for u in unknown[:5])}")

    largeur = _num(_column(gdf, "largeur", FIELDS), n)
    nb_voies = _num(_column(gdf, "nb_voies", FIELDS), n)
    imp_col = _column(gdf, "importance", FIELDS)
    importance = [_importance_key(v) for v in (imp_col.tolist() if imp_col is not None else [None] * n)]
    width = np.full(n, np.nan)
    wsrc = np.full(n, "", dtype=object)
    has_w = np.isfinite(largeur) & (largeur > 0)
    width[has_w] = largeur[has_w]
    wsrc[has_w] = "bdtopo:largeur_de_chaussee"
    has_l = ~has_w & np.isfinite(nb_voies) & (nb_voies > 0)
    width[has_l] = nb_voies[has_l] * lane_width
    wsrc[has_l] = f"nombre_de_voies*{lane_width:g}m"
    kinds, classes, csrc, surf = [], [], [], []
    for i in range(n):
        nat = NATURES.get(folded[i], UNKNOWN_NATURE)
        if not (has_w[i] or has_l[i]):
            width[i] = nat.width
            wsrc[i] = f"default:{natures[i] or 'unknown'}:{nat.width:g}m"
        kinds.append(nat.kind)
        c, s = lighting_class_for(natures[i], importance[i])
        classes.append(c)
        csrc.append(s)
        surf.append(int(nat.surface))
    ids = _column(gdf, "cleabs", FIELDS)
    ext = ids.astype(str).to_numpy() if ids is not None else np.array([f"{p.stem}:{i}" for i in range(n)], dtype=object)
    flat = shapely.force_2d(np.where(keep, geoms, None))
    table = gpd.GeoDataFrame(
        {
            "name": _names(gdf),
            "kind": kinds,
            "width": width.astype(np.float32),
            "sidewalk_width": np.float32(0.0),
            "lighting_class": classes,
            "external_id": ext,
            "nature": natures,
            "importance": importance,
            "width_source": wsrc,
            "lighting_class_source": csrc,
            "surface": np.array(surf, np.uint8),
        },
        geometry=gpd.GeoSeries(flat, crs=the_crs),
        crs=the_crs,
    )
    table = table.iloc[np.flatnonzero(keep)].reset_index(drop=True)
    # multi-part lines: merged when they join, else one row per part
    multi = table.geometry.geom_type.to_numpy() == "MultiLineString"
    if multi.any():
        merged = shapely.line_merge(table.geometry.values[multi])
        table.loc[multi, "geometry"] = merged
        still = table.geometry.geom_type.to_numpy() == "MultiLineString"
        counts["multipart_split"] = int(still.sum())
        if still.any():
            table = table.explode(index_parts=False).reset_index(drop=True)
    short = shapely.length(table.geometry.values) <= 0.0
    counts["zero_length"] = int(short.sum())
    table = table[~short].reset_index(drop=True)
    counts["kept"] = len(table)
    return RoadsSource(path=p, crs=the_crs, roads=table, counts=counts, notes=notes)


def road_surfaces(roads: gpd.GeoDataFrame, *, node_tolerance: float = 0.01) -> gpd.GeoSeries:
    """The surface of each road: its centre line buffered by half its ``width`` [m], flat at the ends.

    Where two or more segments meet (end points within ``node_tolerance`` [m]), the widest one also gets a
    disc of its half width at the node, so that junctions and bends between segments are filled while dead
    ends stop at the line's end (a round cap would add a half disc there). A straight segment of length L
    and width W covers exactly L x W.

    Returns
    -------
    GeoSeries of (Multi)Polygons, aligned with ``roads``.
    """
    n = len(roads)
    if n == 0:
        return gpd.GeoSeries([], crs=roads.crs)
    lines = roads.geometry.values
    half = np.maximum(roads["width"].to_numpy(np.float64), 0.0) / 2.0
    polys = shapely.buffer(lines, half, cap_style="flat", join_style="round")
    starts = shapely.get_point(lines, 0)
    ends = shapely.get_point(lines, -1)
    pts = np.concatenate([shapely.get_coordinates(starts), shapely.get_coordinates(ends)])
    owner = np.concatenate([np.arange(n), np.arange(n)])
    key = np.round(pts / node_tolerance).astype(np.int64)
    df = pd.DataFrame({"kx": key[:, 0], "ky": key[:, 1], "owner": owner, "half": half[owner], "x": pts[:, 0], "y": pts[:, 1]})
    deg = df.groupby(["kx", "ky"])["owner"].transform("size")
    nodes = df[deg >= 2]
    if len(nodes):
        widest = nodes.loc[nodes.groupby(["kx", "ky"])["half"].idxmax()]
        widest = widest[widest["half"] > 0]
        discs = shapely.buffer(shapely.points(widest["x"].to_numpy(), widest["y"].to_numpy()), widest["half"].to_numpy())
        for o, d in zip(widest["owner"].to_numpy(), discs):
            polys[o] = shapely.union(polys[o], d)
    return gpd.GeoSeries(polys, index=roads.index, crs=roads.crs)
