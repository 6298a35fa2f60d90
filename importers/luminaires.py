"""Import a public-lighting inventory (CSV, GeoJSON, GeoPackage) as the twin's luminaires table.

Columns (case-insensitive; French aliases accepted, the first name is the table's):

=================  ===========================================================  ==========
column             aliases                                                      units
=================  ===========================================================  ==========
id                 identifiant, numero, num, id_pl, point_lumineux              integer
mounting_height    hauteur, hauteur_feu, hauteur_de_feu, hauteur_mat            m
z                  altitude, altitude_feu (light centre altitude; with terrain)  m
orientation        azimut, azimut_crosse, direction_crosse, arm_azimuth          degree
tilt               inclinaison                                                  degree
photometry         photometrie, fichier_photometrique, ldt, ies, optique        text
power              puissance, puissance_w                                       W
flux               flux_lumineux, flux_lm, flux_source                          lm
cct                temperature_couleur, tcc, temperature_de_couleur             K
ulr                ulor                                                         %
n3                 code_flux, code_flux_cie_3, code_flux_cie3                   %
cabinet            armoire, armoire_id, id_armoire                              text
installed          annee_pose, annee, date_pose (a year or a date)              year
road_id            voie_id, id_voie, troncon                                    integer
kind               type, usage                                                  text
x, y               coord_x, coord_y, lambert_x, lambert_y (CSV without geometry)  m
=================  ===========================================================  ==========

Required: a point geometry (or x/y), ``photometry``, ``power``, ``flux``, and
``mounting_height`` (or ``z`` with the terrain). ``orientation`` is the azimuth the arm
points to (clockwise from north, toward the street it lights), where road photometry puts
its street side (the C90 plane). ``kind`` values: road, pedestrian, heritage, park, parking (French: voirie,
pietonnier, patrimoine, parc, parking).

Errors name the file, the row and the luminaire: a missing column, a row without
photometry, a photometry file that does not exist, a luminaire outside the grid, a
mounting height <= 0 or a light centre below the ground.

This module works at table level (it does not read photometry files): the lighting
model resolves and checks the optics.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.errors import TwinFileNotFoundError, TwinFormatError, TwinValueError
from twin.tables import conform

__all__ = ["read_luminaires", "import_luminaires", "ALIASES", "KIND_ALIASES"]

ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("identifiant", "numero", "num", "id_pl", "point_lumineux"),
    "mounting_height": ("hauteur", "hauteur_feu", "hauteur_de_feu", "hauteur_mat"),
    "z": ("altitude", "altitude_feu"),
    "orientation": ("azimut", "azimut_crosse", "direction_crosse", "arm_azimuth"),
    "tilt": ("inclinaison",),
    "photometry": ("photometrie", "fichier_photometrique", "ldt", "ies", "optique"),
    "power": ("puissance", "puissance_w"),
    "flux": ("flux_lumineux", "flux_lm", "flux_source"),
    "cct": ("temperature_couleur", "tcc", "temperature_de_couleur"),
    "ulr": ("ulor",),
    "n3": ("code_flux", "code_flux_cie_3", "code_flux_cie3"),
    "cabinet": ("armoire", "armoire_id", "id_armoire"),
    "installed": ("annee_pose", "annee", "date_pose"),
    "road_id": ("voie_id", "id_voie", "troncon"),
    "kind": ("type", "usage"),
    "x": ("coord_x", "lambert_x"),
    "y": ("coord_y", "lambert_y"),
}

KIND_ALIASES = {"voirie": "road", "route": "road", "rue": "road", "pietonnier": "pedestrian", "piéton": "pedestrian",
                "pieton": "pedestrian", "patrimoine": "heritage", "parc": "park", "jardin": "park",
                "stationnement": "parking"}

_KINDS = ("road", "pedestrian", "heritage", "park", "parking")
_FORMATS = {".csv": "csv", ".txt": "csv", ".geojson": "ogr", ".json": "ogr", ".gpkg": "ogr", ".shp": "ogr"}


def _norm(name: str) -> str:
    import unicodedata

    s = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", s.strip().lower()).strip("_")


def _rename(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    lookup = {}
    for canon, aliases in ALIASES.items():
        for a in (canon,) + aliases:
            lookup[_norm(a)] = canon
    mapping = {}
    seen = {}
    for col in df.columns:
        if col == "geometry":
            continue
        canon = lookup.get(_norm(col))
        if canon is None:
            continue
        if canon in seen:
            raise TwinFormatError(f"{path}: columns {seen[canon]!r} and {col!r} both give {canon!r}: keep one")
        seen[canon] = col
        mapping[col] = canon
    return df.rename(columns=mapping)


def _read_table(path: Path, layer=None) -> gpd.GeoDataFrame | pd.DataFrame:
    kind = _FORMATS.get(path.suffix.lower())
    if kind is None:
        raise TwinFormatError(f"{path}: unknown inventory format {path.suffix!r} (CSV, GeoJSON, GeoPackage, Shapefile)")
    if not path.exists():
        raise TwinFileNotFoundError(f"{path}: luminaire inventory not found")
    if kind == "csv":
        try:
            raw = path.read_bytes()
            text = raw.decode("utf-8-sig") if raw[:3] == b"\xef\xbb\xbf" else _decode(raw)
            first = text.splitlines()[0] if text else ""
            sep = ";" if first.count(";") > first.count(",") else ","
            import io

            return pd.read_csv(io.StringIO(text), sep=sep, decimal="," if sep == ";" else ".", dtype=str,
                               keep_default_na=False)
        except (pd.errors.ParserError, UnicodeDecodeError, IndexError) as err:
            raise TwinFormatError(f"{path}: cannot read the CSV ({err})") from err
    try:
        return gpd.read_file(path, layer=layer)
    except Exception as err:  # pyogrio raises its own errors; report them as a format problem
        raise TwinFormatError(f"{path}: cannot read the inventory ({err})") from err


def _text(v) -> str:
    """A cell as stripped text; missing values (None, NaN, NA) as ""."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
        return ""
    t = str(v).strip()
    return "" if t in ("nan", "None", "<NA>", "NaN") else t


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _numbers(df, col, path, *, required: bool, rows) -> np.ndarray:
    if col not in df.columns:
        if required:
            names = ", ".join((col,) + ALIASES.get(col, ()))
            raise TwinValueError(f"{path}: missing column {col!r} (or one of: {names})")
        return np.full(len(df), np.nan)
    s = df[col]
    if not pd.api.types.is_numeric_dtype(s):
        s = s.astype(str).str.strip().str.replace(",", ".", regex=False).replace({"": np.nan, "nan": np.nan})
    vals = np.array(pd.to_numeric(s, errors="coerce"), dtype=float)  # a writable copy
    missing = df[col].isna().to_numpy()
    raw = np.array([str(v).strip() for v in df[col].to_numpy()], dtype=object)
    bad = np.isnan(vals) & ~missing & ~np.isin(raw, ["", "nan", "None", "NaN", "<NA>"])
    if bad.any():
        k = int(np.argmax(bad))
        raise TwinValueError(f"{path}: row {rows[k]}: {col} {raw[k]!r} is not a number")
    if required and np.isnan(vals).any():
        k = int(np.argmax(np.isnan(vals)))
        raise TwinValueError(f"{path}: row {rows[k]}: no {col}")
    return vals


def _years(df, path, rows) -> np.ndarray:
    if "installed" not in df.columns:
        return np.zeros(len(df), int)
    out = np.zeros(len(df), int)
    for k, v in enumerate(_text(x) for x in df["installed"].to_numpy()):
        if v in ("", "NaT", "0"):
            continue
        m = re.search(r"(1[89]\d\d|20\d\d)", v)
        if not m:
            raise TwinValueError(f"{path}: row {rows[k]}: installation {v!r} is not a year or a date")
        out[k] = int(m.group(1))
    return out


def read_luminaires(path, *, grid=None, terrain=None, layer=None, crs=None, photometry_dirs=()) -> gpd.GeoDataFrame:
    """Read a luminaire inventory into a luminaires table (twin glossary), checked.

    Parameters
    ----------
    path : path-like
        CSV (``,`` or ``;`` separated, ``x``/``y`` columns or a WKT ``geometry`` column),
        GeoJSON, GeoPackage or Shapefile.
    grid : twin.Grid, optional
        The twin's grid: luminaires must lie inside it; the table is reprojected to its CRS.
    terrain : ndarray, optional
        The twin's terrain [m] on ``grid``, needed when heights come as altitudes (``z``).
    layer : str, optional
        Layer of a GeoPackage.
    crs : CRS, optional
        CRS of a CSV's coordinates (default: the grid's, else EPSG:2154).
    photometry_dirs : sequence of path-like
        Folders where relative photometry files are looked up (the inventory's folder first).

    Returns
    -------
    GeoDataFrame
        The luminaires table (``twin.tables.TABLES["luminaires"]`` columns, extra columns kept).

    Raises
    ------
    TwinFileNotFoundError
        If the file, or a photometry file it references, does not exist.
    TwinFormatError
        If the file cannot be read.
    TwinValueError
        If a column is missing, a value is invalid, a luminaire lies outside the grid, or
        its light centre is not above the ground; naming the file and the row.
    """
    path = Path(path)
    df = _rename(_read_table(path, layer), path)
    n = len(df)
    if n == 0:
        raise TwinValueError(f"{path}: the inventory has no luminaire")
    header_rows = 2 if path.suffix.lower() in (".csv", ".txt") else 1
    rows = np.arange(n) + header_rows  # CSV: line numbers; other formats: feature numbers (1-based)
    target_crs = grid.crs if grid is not None else (crs or "EPSG:2154")
    # geometry
    if isinstance(df, gpd.GeoDataFrame) and df.geometry.notna().any():
        gdf = df
        if gdf.crs is None:
            gdf = gdf.set_crs(crs or target_crs)
    else:
        if "x" in df.columns and "y" in df.columns:
            x = _numbers(df, "x", path, required=True, rows=rows)
            y = _numbers(df, "y", path, required=True, rows=rows)
            geom = shapely.points(x, y)
        elif "geometry" in df.columns or "wkt" in df.columns:
            col = "geometry" if "geometry" in df.columns else "wkt"
            try:
                geom = shapely.from_wkt(df[col].astype(str).to_numpy())
            except shapely.errors.GEOSException as err:
                raise TwinValueError(f"{path}: column {col!r} is not WKT ({err})") from None
        else:
            raise TwinValueError(f"{path}: no geometry: give x and y columns (or coord_x/coord_y) or a WKT geometry")
        gdf = gpd.GeoDataFrame(df.drop(columns=[c for c in ("geometry", "wkt") if c in df.columns]),
                               geometry=gpd.GeoSeries(geom), crs=crs or target_crs)
    bad = gdf.geometry.isna() | (gdf.geometry.geom_type != "Point")
    if bad.any():
        k = int(np.argmax(bad.to_numpy()))
        raise TwinValueError(f"{path}: row {rows[k]}: the geometry is not a point")
    gdf = gdf.to_crs(target_crs)
    out = gpd.GeoDataFrame(geometry=gdf.geometry.values, crs=target_crs)
    ids = _numbers(gdf, "id", path, required=False, rows=rows)
    if np.isnan(ids).all():
        ids = np.arange(1, n + 1, dtype=float)
    elif np.isnan(ids).any():
        k = int(np.argmax(np.isnan(ids)))
        raise TwinValueError(f"{path}: row {rows[k]}: no id (give every luminaire an id, or none)")
    out["id"] = ids.astype(np.int64)
    dup = out["id"].duplicated()
    if dup.any():
        k = int(np.argmax(dup.to_numpy()))
        raise TwinValueError(f"{path}: row {rows[k]}: duplicate id {int(ids[k])}")
    label = [f"row {r} (luminaire {int(i)})" for r, i in zip(rows, ids)]
    # position in the grid
    xs = out.geometry.x.to_numpy()
    ys = out.geometry.y.to_numpy()
    if grid is not None:
        inside = grid.contains(xs, ys)
        if not inside.all():
            k = int(np.argmin(inside))
            raise TwinValueError(f"{path}: {label[k]} at ({xs[k]:.1f}, {ys[k]:.1f}) lies outside the twin's grid "
                                 f"{tuple(round(v, 1) for v in grid.bounds)}")
    # heights
    mh = _numbers(gdf, "mounting_height", path, required=False, rows=rows)
    z = _numbers(gdf, "z", path, required=False, rows=rows)
    if "mounting_height" not in gdf.columns and "z" not in gdf.columns:
        raise TwinValueError(f"{path}: missing column 'mounting_height' (or one of: "
                             f"{', '.join(ALIASES['mounting_height'])}), or the light altitude 'z'")
    need_z = np.isnan(mh)
    if need_z.any():
        if terrain is None or grid is None:
            k = int(np.argmax(need_z))
            raise TwinValueError(f"{path}: {label[k]}: no mounting height (an altitude z needs the twin's terrain)")
        r, c = grid.rowcol(xs[need_z], ys[need_z])
        ground = np.asarray(terrain, float)[r, c]
        zz = z[need_z]
        if np.isnan(zz).any():
            k = int(np.flatnonzero(need_z)[int(np.argmax(np.isnan(zz)))])
            raise TwinValueError(f"{path}: {label[k]}: no mounting height and no altitude")
        mh[need_z] = zz - ground
        below = zz <= ground
        if below.any():
            k = int(np.flatnonzero(need_z)[int(np.argmax(below))])
            raise TwinValueError(f"{path}: {label[k]}: light centre at z = {z[k]:.2f} m is not above the ground "
                                 f"({ground[int(np.argmax(below))]:.2f} m)")
    bad = ~(mh > 0)
    if bad.any():
        k = int(np.argmax(bad))
        raise TwinValueError(f"{path}: {label[k]}: mounting height {mh[k]:g} m must be > 0 (the light is above the ground)")
    out["mounting_height"] = mh
    # orientation
    orient = _numbers(gdf, "orientation", path, required=False, rows=rows)
    out["orientation"] = np.nan_to_num(orient, nan=0.0) % 360.0
    out["tilt"] = np.nan_to_num(_numbers(gdf, "tilt", path, required=False, rows=rows), nan=0.0)
    # photometry
    if "photometry" not in gdf.columns:
        raise TwinValueError(f"{path}: missing column 'photometry' (or one of: {', '.join(ALIASES['photometry'])})")
    refs = np.array([_text(v) for v in gdf["photometry"].to_numpy()], dtype=object)
    dirs = [path.parent] + [Path(d) for d in photometry_dirs]
    for k, ref in enumerate(refs):
        if not ref:
            raise TwinValueError(f"{path}: {label[k]}: no photometry (give a .ldt/.ies file or a built-in optic)")
        if ref.startswith("builtin:"):
            continue
        p = Path(ref).expanduser()
        found = p if p.is_absolute() and p.is_file() else next((d / p for d in dirs if (d / p).is_file()), None)
        if found is None:
            raise TwinFileNotFoundError(f"{path}: {label[k]}: photometry file {ref!r} not found "
                                        f"(looked in {', '.join(str(d) for d in dirs)})")
        refs[k] = str(found.resolve())
    out["photometry"] = refs
    out["power"] = _numbers(gdf, "power", path, required=True, rows=rows)
    out["flux"] = _numbers(gdf, "flux", path, required=True, rows=rows)
    for col, what in (("power", "W"), ("flux", "lm")):
        bad = ~(out[col].to_numpy() >= 0)
        if bad.any():
            k = int(np.argmax(bad))
            raise TwinValueError(f"{path}: {label[k]}: {col} {out[col].iloc[k]:g} {what} must be >= 0")
    out["cct"] = _numbers(gdf, "cct", path, required=False, rows=rows)
    out["ulr"] = _numbers(gdf, "ulr", path, required=False, rows=rows)
    out["n3"] = _numbers(gdf, "n3", path, required=False, rows=rows)
    out["cabinet"] = [_text(v) for v in gdf["cabinet"].to_numpy()] if "cabinet" in gdf else ""
    out["installed"] = _years(gdf, path, rows)
    rid = _numbers(gdf, "road_id", path, required=False, rows=rows)
    out["road_id"] = np.nan_to_num(rid, nan=0.0).astype(np.int64)
    if "kind" in gdf.columns:
        kinds = [KIND_ALIASES.get(_norm(_text(v)), _norm(_text(v))) or "road" for v in gdf["kind"].to_numpy()]
        bad = [k for k in kinds if k not in _KINDS]
        if bad:
            k = kinds.index(bad[0])
            raise TwinValueError(f"{path}: {label[k]}: unknown kind {bad[0]!r} (expected {', '.join(_KINDS)})")
        out["kind"] = kinds
    else:
        out["kind"] = "road"
    return conform("luminaires", out, crs=target_crs, source=str(path))


def import_luminaires(twin, path, **kwargs):
    """A copy of ``twin`` whose luminaires table is read from ``path`` (see :func:`read_luminaires`)."""
    terrain = twin.array("terrain") if "terrain" in twin else None
    table = read_luminaires(path, grid=twin.grid, terrain=terrain, **kwargs)
    out = twin.copy()
    out.set_table("luminaires", table)
    out.add_provenance("import luminaires", source=str(path), luminaires=int(len(table)))
    return out
