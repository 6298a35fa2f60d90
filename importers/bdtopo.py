"""IGN BD TOPO v3, layer BATIMENT (GeoPackage, Shapefile, GeoJSON) -> a buildings table.

Both spellings of the fields are accepted: the lowercase names of the GeoPackage/WFS
(``hauteur``, ``usage_1``...) and the short uppercase names of Shapefile exports
(``HAUTEUR``, ``USAGE1``...).

What is read
------------
* ``height`` from ``hauteur`` (ground to gutter [m]); 0, negative or missing is unknown (NaN);
* ``roof_height`` = ``altitude_maximale_toit`` - ``altitude_minimale_sol`` when both are known;
* ``ground_z`` from ``altitude_minimale_sol``, else the footprint's z (BD TOPO polygons carry the
  gutter altitude) minus ``hauteur``; -1000 (IGN's "no altimetry") and 9999 are missing;
* ``floors`` from ``nombre_d_etages``, ``dwellings`` from ``nombre_de_logements``;
* ``use`` from ``usage_1`` mapped to :data:`twin.tables.BUILDING_USES` (:data:`USAGE_TO_USE`),
  refined by ``nature`` for churches, chapels, castles and monuments;
* ``year`` from ``date_d_apparition`` (the oldest date the building is attested), except
  placeholder dates (:data:`PLACEHOLDER_DATES`, dates before 1000 or in the future);
* ``light`` (extra column) from ``construction_legere``; buildings ``En projet`` (not built)
  are skipped and counted.

Footprints are kept as 2D polygons in the file's CRS; repairs happen at fusion.
"""

from __future__ import annotations

import datetime as _dt
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from importers._common import Notes, check_file, horizontal_crs, same_crs
from twin.errors import TwinCRSError, TwinFormatError

__all__ = ["FIELDS", "PLACEHOLDER_DATES", "USAGE_TO_USE", "BuildingsSource", "find_layer", "read_bdtopo", "read_vector"]

#: Our name -> accepted field names (GeoPackage/WFS first, then Shapefile).
FIELDS = {
    "cleabs": ("cleabs", "ID"),
    "nature": ("nature", "NATURE"),
    "usage_1": ("usage_1", "USAGE1"),
    "usage_2": ("usage_2", "USAGE2"),
    "construction_legere": ("construction_legere", "LEGER"),
    "etat": ("etat_de_l_objet", "ETAT"),
    "nombre_de_logements": ("nombre_de_logements", "NB_LOGTS"),
    "nombre_d_etages": ("nombre_d_etages", "NB_ETAGES"),
    "hauteur": ("hauteur", "HAUTEUR"),
    "z_min_sol": ("altitude_minimale_sol", "Z_MIN_SOL"),
    "z_max_sol": ("altitude_maximale_sol", "Z_MAX_SOL"),
    "z_min_toit": ("altitude_minimale_toit", "Z_MIN_TOIT"),
    "z_max_toit": ("altitude_maximale_toit", "Z_MAX_TOIT"),
    "date_app": ("date_d_apparition", "DATE_APP"),
    "ids_rnb": ("identifiants_rnb", "IDS_RNB"),
}

#: BD TOPO ``usage_1`` -> twin use (keys compared without accents or case).
USAGE_TO_USE = {
    "residentiel": "housing",
    "commercial et services": "office",
    "industriel": "industrial",
    "agricole": "agricultural",
    "religieux": "religious",
    "sportif": "sports",
    "annexe": "annex",
    "indifferencie": "unknown",
}

#: BD TOPO ``nature`` values that say more than ``usage_1``.
NATURE_TO_USE = {
    "eglise": "religious",
    "chapelle": "religious",
    "chateau": "culture",
    "monument": "culture",
    "arene ou theatre antique": "culture",
    "serre": "agricultural",
    "silo": "agricultural",
}

#: Dates that stand for "unknown" in source databases, never a construction year.
PLACEHOLDER_DATES = frozenset({"0001-01-01", "1000-01-01", "1111-11-11", "1899-12-30", "1900-01-01", "1970-01-01",
                               "2999-12-31", "9999-12-31"})

_MISSING_Z = (-1000.0, 9999.0, -9999.0)


def _fold(s) -> str:
    if s is None or (isinstance(s, float) and np.isnan(s)):
        return ""
    s = unicodedata.normalize("NFKD", str(s))
    return "".join(c for c in s if not unicodedata.combining(c)).strip().lower()


@dataclass
class BuildingsSource:
    """Buildings read from a vector source, before fusion.

    Attributes
    ----------
    path : Path
    crs : str
    buildings : GeoDataFrame
        Columns of the twin buildings table (``height`` NaN where unknown, ``*_source`` filled) plus
        source-specific extras (``light``...). 2D footprints in ``crs``.
    kind : str
        ``bdtopo``, ``cadastre``, ``citygml`` or ``cityjson``.
    counts : dict
        Rows read, skipped and why.
    notes : list of str
    """

    path: Path
    crs: str
    buildings: gpd.GeoDataFrame
    kind: str
    counts: dict = field(default_factory=dict)
    notes: Notes = field(default_factory=Notes)


def find_layer(path: Path, names, *, what: str = "", required: bool = False) -> str | None:
    """The layer of a GeoPackage named one of ``names`` (any case), else None (the file's first layer).

    With ``required``, a GeoPackage of several layers none of which is named so is refused, naming its layers
    (a single-layer file is taken as it is). Files that are not GeoPackages, or unreadable ones (the reader
    reports the damage), give None.
    """
    p = Path(path)
    if p.suffix.lower() != ".gpkg" or not p.is_file() or p.stat().st_size == 0:
        return None
    try:
        layers = [str(n) for n, _ in pyogrio.list_layers(p)]
    except (pyogrio.errors.DataSourceError, OSError):  # let read_vector report the damage
        return None
    lower = [n.lower() for n in layers]
    for want in names:
        if want.lower() in lower:
            return layers[lower.index(want.lower())]
    if required and len(layers) > 1:
        raise TwinFormatError(f"{p}: no {what or names[0]} layer in the GeoPackage (layers: {', '.join(layers[:8])}); "
                              f"give the layer name")
    return None


def read_vector(path, *, layer=None, crs=None, default_crs=None, what="vector file", bbox=None,
                bbox_crs=None) -> tuple[gpd.GeoDataFrame, str, Notes]:
    """Read a vector layer with pyogrio and settle its CRS (shared by BD TOPO and the cadastre).

    ``bbox`` (xmin, ymin, xmax, ymax) in ``bbox_crs`` keeps only the features that intersect it,
    filtered by GDAL while reading (a departement's BD TOPO need not be loaded for one commune).

    Raises
    ------
    TwinFormatError
        If the file cannot be read or has no features.
    TwinCRSError
        If it declares no CRS (a shapefile without ``.prj``) and none is given.
    """
    p = Path(path)
    gz = p.name.lower().endswith(".gz")
    p = check_file(p, what=what)
    notes = Notes()
    src = f"/vsigzip/{p}" if gz else p
    try:
        file_bbox = None
        if bbox is not None:
            info = pyogrio.read_info(src, layer=layer)
            file_crs = crs or info.get("crs") or default_crs
            file_bbox = tuple(bbox)
            if file_crs is not None and bbox_crs is not None and not same_crs(file_crs, bbox_crs):
                from rasterio.warp import transform_bounds

                file_bbox = transform_bounds(bbox_crs, file_crs, *bbox, densify_pts=21)
        gdf = pyogrio.read_dataframe(src, layer=layer, bbox=file_bbox)
    except Exception as err:  # pyogrio raises several unrelated types (DataSourceError, DataLayerError...)
        raise TwinFormatError(f"{p}: not a readable vector file ({str(err).splitlines()[0][:160]})") from err
    if gdf.geometry is None or (len(gdf) == 0 and bbox is None):
        raise TwinFormatError(f"{p}: no features in the file")
    if crs is not None:
        the_crs = horizontal_crs(crs, where=str(p))
        if gdf.crs is not None:
            notes.add(f"{p.name}: CRS set to {the_crs} by the caller (the file said {gdf.crs.to_string()})")
        gdf = gdf.set_crs(the_crs, allow_override=True)
    elif gdf.crs is not None:
        the_crs = horizontal_crs(gdf.crs, where=str(p))
    elif default_crs is not None:
        the_crs = horizontal_crs(default_crs, where=str(p))
        gdf = gdf.set_crs(the_crs)
        notes.add(f"{p.name}: no CRS in the file; assumed {the_crs} as asked")
    else:
        hint = " (a shapefile needs its .prj)" if p.suffix.lower() == ".shp" else ""
        raise TwinCRSError(f"{p}: the file declares no CRS{hint}; give it with --source-crs (Python: crs=...)")
    return gdf, the_crs, notes


def _column(gdf: pd.DataFrame, key: str, fields: dict | None = None):
    """The column of ``gdf`` for ``key``: the first of its accepted names present (any case), or None."""
    lower = {c.lower(): c for c in gdf.columns}
    for name in (fields or FIELDS)[key]:
        if name in gdf.columns:
            return gdf[name]
        if name.lower() in lower:
            return gdf[lower[name.lower()]]
    return None


def _num(series, n, *, missing=()) -> np.ndarray:
    if series is None:
        return np.full(n, np.nan)
    v = np.array(pd.to_numeric(series, errors="coerce"), dtype=np.float64)
    for m in missing:
        v[v == m] = np.nan
    return v


def _years(series, n) -> tuple[np.ndarray, int]:
    """Construction years from a date column; placeholder dates give 0. Returns (years, placeholders)."""
    if series is None:
        return np.zeros(n, np.int16), 0
    years = np.zeros(n, np.int16)
    placeholders = 0
    this_year = _dt.date.today().year
    for i, v in enumerate(series.tolist()):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
            continue
        text = str(v)[:10]
        try:
            d = pd.Timestamp(v)
        except (ValueError, TypeError):
            continue
        if pd.isna(d):
            continue
        if text in PLACEHOLDER_DATES or d.year < 1000 or d.year > this_year:
            placeholders += 1
            continue
        years[i] = d.year
    return years, placeholders


def read_bdtopo(path, *, layer: str | None = None, crs=None, default_crs=None, include_projects: bool = False,
                bbox=None, bbox_crs=None) -> BuildingsSource:
    """Read the BATIMENT layer of BD TOPO v3 into a buildings table.

    Parameters
    ----------
    path : str or Path
        GeoPackage (layer ``batiment`` by default when present), Shapefile or GeoJSON.
    layer : str, optional
        Layer name in a GeoPackage.
    crs : optional
        CRS of the file, overriding what it declares.
    default_crs : optional
        CRS assumed when the file declares none (a Shapefile without ``.prj``).
    include_projects : bool
        Keep buildings whose state is ``En projet`` (not built yet). Default False.
    bbox, bbox_crs : optional
        Read only the buildings that intersect this box (filtered by GDAL while reading).

    Returns
    -------
    BuildingsSource

    Raises
    ------
    TwinFileNotFoundError
    TwinFormatError
        If the file is unreadable, empty, or has none of the BD TOPO height/use fields.
    TwinCRSError
        If no CRS is declared or given.
    """
    p = Path(path)
    if layer is None:
        layer = find_layer(p, ("batiment",))
    gdf, the_crs, notes = read_vector(p, layer=layer, crs=crs, default_crs=default_crs, what="BD TOPO file",
                                      bbox=bbox, bbox_crs=bbox_crs)
    p = Path(path)
    if _column(gdf, "hauteur") is None and _column(gdf, "usage_1") is None and _column(gdf, "cleabs") is None:
        raise TwinFormatError(f"{p}: not a BD TOPO BATIMENT layer (no hauteur/HAUTEUR, usage_1/USAGE1 or cleabs/ID field)")
    n = len(gdf)
    counts = {"read": n}
    etat = _column(gdf, "etat")
    keep = np.ones(n, bool)
    if etat is not None and not include_projects:
        projected = np.array([_fold(v) == "en projet" for v in etat.tolist()], dtype=bool)
        keep &= ~projected
        counts["skipped_projects"] = int(projected.sum())
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    missing_geom = np.array([g is None or g.is_empty for g in geoms], dtype=bool)
    counts["no_geometry"] = int(missing_geom.sum())
    keep &= ~missing_geom

    hauteur = _num(_column(gdf, "hauteur"), n)
    hauteur[~(hauteur > 0)] = np.nan
    zmin_sol = _num(_column(gdf, "z_min_sol"), n, missing=_MISSING_Z)
    zmax_toit = _num(_column(gdf, "z_max_toit"), n, missing=_MISSING_Z)
    # BD TOPO polygons carry the gutter altitude as z: ground = lowest z - hauteur when the attribute is missing
    # (z = -1000 is IGN's "no altimetry")
    need = np.isnan(zmin_sol) & ~missing_geom & np.isfinite(hauteur)
    for i in np.flatnonzero(need):
        c = shapely.get_coordinates(geoms[i], include_z=True)
        if c.shape[1] == 3:
            z = c[:, 2]
            z = z[np.isfinite(z) & ~np.isin(z, _MISSING_Z)]
            if z.size:
                zmin_sol[i] = z.min() - hauteur[i]
    roof = zmax_toit - zmin_sol
    roof[~(roof > 0)] = np.nan
    floors = _num(_column(gdf, "nombre_d_etages"), n)
    dwell = _num(_column(gdf, "nombre_de_logements"), n)
    usage = _column(gdf, "usage_1")
    nature = _column(gdf, "nature")
    uses = []
    use_src = []
    unmapped = set()
    for i in range(n):
        u = _fold(usage.iloc[i]) if usage is not None else ""
        nat = _fold(nature.iloc[i]) if nature is not None else ""
        if nat in NATURE_TO_USE:
            uses.append(NATURE_TO_USE[nat])
            use_src.append("bdtopo:nature")
        elif u in USAGE_TO_USE:
            uses.append(USAGE_TO_USE[u])
            use_src.append("bdtopo:usage_1")
        else:
            if u:
                unmapped.add(str(usage.iloc[i]))
            uses.append("unknown")
            use_src.append("")
    if unmapped:
        notes.add(f"{p.name}: usage_1 values not mapped to a use: {', '.join(sorted(unmapped)[:5])}")
    years, placeholders = _years(_column(gdf, "date_app"), n)
    if placeholders:
        counts["placeholder_dates"] = placeholders
        notes.add(f"{p.name}: {placeholders} placeholder dates (e.g. 1900-01-01) not taken as construction years")
    legere = _column(gdf, "construction_legere")
    light = np.array([_fold(v) in ("oui", "true", "1") for v in legere.tolist()], dtype=bool) if legere is not None else np.zeros(n, bool)
    ids = _column(gdf, "cleabs")
    ext = ids.astype(str).to_numpy() if ids is not None else np.array([f"{p.stem}:{i}" for i in range(n)], dtype=object)
    rnb = _column(gdf, "ids_rnb")
    floors_i = np.where(np.isfinite(floors) & (floors > 0), floors, 0).astype(np.int16)
    dwell_i = np.where(np.isfinite(dwell) & (dwell > 0), dwell, 0).astype(np.int16)
    table = gpd.GeoDataFrame(
        {
            "height": hauteur.astype(np.float32),
            "roof_height": roof.astype(np.float32),
            "ground_z": zmin_sol.astype(np.float32),
            "floors": floors_i,
            "use": uses,
            "year": years,
            "dwellings": dwell_i,
            "name": "",
            "external_id": ext,
            "lod": np.int8(1),
            "height_source": np.where(np.isfinite(hauteur), "bdtopo:hauteur", ""),
            "floors_source": np.where(floors_i > 0, "bdtopo:nombre_d_etages", ""),
            "use_source": use_src,
            "year_source": np.where(years > 0, "bdtopo:date_d_apparition", ""),
            "footprint_source": "bdtopo",
            "light": light,
            "rnb": rnb.fillna("").astype(str).to_numpy() if rnb is not None else "",
        },
        geometry=gpd.GeoSeries(shapely.force_2d(geoms), crs=the_crs),
        crs=the_crs,
    )
    table = table.iloc[np.flatnonzero(keep)].reset_index(drop=True)
    counts["kept"] = len(table)
    counts["light"] = int(table["light"].sum())
    counts["with_height"] = int(np.isfinite(table["height"]).sum())
    return BuildingsSource(path=p, crs=the_crs, buildings=table, kind="bdtopo", counts=counts, notes=notes)
