"""The glossary of twin tables (GeoDataFrames): buildings, luminaires, roads, parcels...

Each table is declared once, column by column, with dtype, units and meaning.
:func:`conform` checks a GeoDataFrame against its declaration, fills optional
columns with their defaults and casts dtypes, so that every model can rely on
the columns it reads. Tables outside the glossary are allowed and kept as they
are.

Missing values: strings use ``""``, integer codes use the declared sentinel
(0 = unknown), floats use NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from twin.errors import TwinValueError

__all__ = ["Column", "TableSpec", "TABLES", "BUILDING_USES", "VULNERABLE_USES", "conform", "clip_to_grid", "empty", "table_spec"]


@dataclass(frozen=True)
class Column:
    """One column of a table: name, dtype, units, whether required, default and meaning."""

    name: str
    dtype: str
    units: str
    required: bool
    default: object
    doc: str


@dataclass(frozen=True)
class TableSpec:
    """A table: its name, geometry type, key and columns."""

    name: str
    geometry: str
    key: str
    columns: tuple[Column, ...]
    doc: str

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


#: The vocabulary of the buildings table's ``use`` column.
BUILDING_USES = (
    "housing",
    "office",
    "shop",
    "school",
    "care_home",
    "town_hall",
    "health",
    "sports",
    "religious",
    "culture",
    "industrial",
    "agricultural",
    "annex",
    "unknown",
)

#: Uses whose occupants are vulnerable (flood and heat exposure reports count them).
VULNERABLE_USES = ("school", "care_home", "health")

_SOURCE_DOC = "where the value comes from (e.g. 'citygml:measuredHeight', 'lidar:p90', 'floors*3m', 'default')"

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in [
        TableSpec(
            "buildings",
            "Polygon",
            "id",
            (
                Column("id", "int32", "1", True, None, "building id (> 0), the value of the building_id layer"),
                Column("height", "float32", "m", True, None, "height above ground of the top of the walls (gutter)"),
                Column("roof_height", "float32", "m", False, np.nan, "height above ground of the ridge (NaN: flat roof)"),
                Column("ground_z", "float32", "m", False, np.nan, "altitude of the ground at the building"),
                Column("floors", "int16", "1", False, 0, "number of storeys above ground (0 = unknown)"),
                Column("use", "str", "", False, "unknown", "main use, one of twin.tables.BUILDING_USES"),
                Column("year", "int16", "1", False, 0, "construction year (0 = unknown)"),
                Column("dwellings", "int16", "1", False, 0, "number of dwellings (0 = unknown or none)"),
                Column("name", "str", "", False, "", "name of a notable building"),
                Column("external_id", "str", "", False, "", "identifier in the source (BD TOPO cleabs, gml:id...)"),
                Column("lod", "int8", "1", False, 1, "level of detail of the geometry (0, 1, 2)"),
                Column("height_source", "str", "", False, "", "height: " + _SOURCE_DOC),
                Column("floors_source", "str", "", False, "", "floors: " + _SOURCE_DOC),
                Column("use_source", "str", "", False, "", "use: " + _SOURCE_DOC),
                Column("year_source", "str", "", False, "", "year: " + _SOURCE_DOC),
                Column("footprint_source", "str", "", False, "", "footprint: " + _SOURCE_DOC),
            ),
            "Buildings, one row per building, footprint as geometry.",
        ),
        TableSpec(
            "building_surfaces",
            "Polygon",
            "",
            (
                Column("building_id", "int32", "1", True, None, "id of the building the surface bounds"),
                Column("surface", "str", "", True, None, "roof, wall, ground or closure"),
                Column("area", "float32", "m2", False, np.nan, "area of the 3D polygon"),
                Column("slope", "float32", "degree", False, np.nan, "tilt from horizontal (0 flat, 90 vertical)"),
                Column("azimuth", "float32", "degree", False, np.nan, "azimuth of the outward normal, clockwise from north"),
            ),
            "LoD2 semantic surfaces of buildings, 3D polygons (x, y, z) in the twin CRS.",
        ),
        TableSpec(
            "luminaires",
            "Point",
            "id",
            (
                Column("id", "int32", "1", True, None, "luminaire id"),
                Column("mounting_height", "float32", "m", True, None, "height of the light centre above the ground"),
                Column("orientation", "float32", "degree", False, 0.0,
                       "azimuth the arm points to, clockwise from north: the photometry's C90 plane (street side)"),
                Column("tilt", "float32", "degree", False, 0.0, "tilt of the luminaire in its C90-C270 plane"),
                Column("photometry", "str", "", True, None, "photometry reference (file name or built-in optic name)"),
                Column("power", "float32", "W", True, None, "electrical power at full output, gear included"),
                Column("flux", "float32", "lm", True, None, "nominal source flux"),
                Column("cct", "float32", "K", False, np.nan, "correlated colour temperature"),
                Column("ulr", "float32", "%", False, np.nan, "upward light ratio as installed"),
                Column("n3", "float32", "%", False, np.nan, "CIE flux code N3: share of the downward flux within 75.5 deg of nadir"),
                Column("cabinet", "str", "", False, "", "id of the electrical cabinet (armoire) that feeds it"),
                Column("installed", "int16", "1", False, 0, "installation year (0 = unknown)"),
                Column("road_id", "int32", "1", False, 0, "id of the road it lights (0 = none)"),
                Column("kind", "str", "", False, "road", "road, pedestrian, heritage, park, parking"),
            ),
            "Public-lighting luminaires: the per-luminaire data of the arrêté of 27 December 2018, art. 5.",
        ),
        TableSpec(
            "roads",
            "LineString",
            "id",
            (
                Column("id", "int32", "1", True, None, "road segment id"),
                Column("name", "str", "", False, "", "street name"),
                Column("kind", "str", "", False, "street", "motorway, boulevard, street, lane, path, square"),
                Column("width", "float32", "m", False, np.nan, "carriageway width (kerb to kerb)"),
                Column("sidewalk_width", "float32", "m", False, 0.0, "width of each sidewalk"),
                Column("lighting_class", "str", "", False, "", "EN 13201-2 class (M1..M6, C0..C5, P1..P6), '' = unlit"),
            ),
            "Road centre lines, one row per segment.",
        ),
        TableSpec(
            "parcels",
            "Polygon",
            "id",
            (
                Column("id", "str", "", True, None, "cadastral id, 14 characters (INSEE 5 + prefix 3 + section 2 + number 4)"),
                Column("commune", "str", "", False, "", "INSEE code of the commune"),
                Column("section", "str", "", False, "", "cadastral section"),
                Column("numero", "str", "", False, "", "parcel number"),
                Column("contenance", "float32", "m2", False, np.nan, "fiscal area"),
            ),
            "Cadastral parcels.",
        ),
        TableSpec(
            "trees",
            "Point",
            "id",
            (
                Column("id", "int32", "1", True, None, "tree id"),
                Column("height", "float32", "m", True, None, "tree height"),
                Column("crown_diameter", "float32", "m", True, None, "crown diameter"),
                Column("trunk_height", "float32", "m", False, np.nan, "height of the crown base (NaN: 25 % of the height)"),
                Column("species", "str", "", False, "", "species"),
            ),
            "Individual trees (the canopy layer holds all vegetation; this table the trees known one by one).",
        ),
    ]
}


def table_spec(name: str) -> TableSpec | None:
    """The glossary entry of a table, or None for a table outside the glossary."""
    return TABLES.get(name)


def empty(name: str, crs: str) -> gpd.GeoDataFrame:
    """An empty, well-typed table of the glossary."""
    spec = TABLES[name]
    data = {c.name: pd.Series([], dtype=_pandas_dtype(c.dtype)) for c in spec.columns}
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def _pandas_dtype(dtype: str):
    return object if dtype == "str" else dtype


def conform(name: str, table: gpd.GeoDataFrame, *, crs: str | None = None, source: str = "") -> gpd.GeoDataFrame:
    """Check and normalise a table against its glossary entry; return a new GeoDataFrame.

    Required columns must be present without missing values; optional ones are
    added with their defaults; dtypes are cast; the key must be unique. Columns
    outside the glossary are kept. Tables outside the glossary are returned as a copy.

    Raises
    ------
    TwinValueError
        If a required column is missing or holds missing values, a value cannot be
        cast, or the key is not unique. ``source`` (a file name) prefixes the message.
    """
    where = f"{source}: " if source else ""
    if not isinstance(table, gpd.GeoDataFrame):
        raise TwinValueError(f"{where}table {name!r} is not a GeoDataFrame")
    out = table.copy()
    if crs is not None:
        if out.crs is None:
            out = out.set_crs(crs)
        elif not _same_crs(out.crs, crs):
            out = out.to_crs(crs)
    spec = TABLES.get(name)
    if spec is None:
        return out
    for col in spec.columns:
        if col.name not in out.columns:
            if col.required:
                raise TwinValueError(f"{where}table {name!r} lacks the required column {col.name!r}")
            out[col.name] = col.default
        series = out[col.name]
        if col.required and series.isna().any():
            raise TwinValueError(f"{where}table {name!r}: column {col.name!r} has {int(series.isna().sum())} missing values")
        try:
            if col.dtype == "str":
                out[col.name] = series.fillna(col.default if col.default is not None else "").astype(str).astype(object)
            elif col.dtype.startswith("int"):
                filled = series.fillna(col.default if col.default is not None else 0)
                out[col.name] = filled.astype(col.dtype)
            else:
                out[col.name] = series.astype(col.dtype)
        except (TypeError, ValueError) as err:
            raise TwinValueError(f"{where}table {name!r}: column {col.name!r} cannot be read as {col.dtype}: {err}") from err
    if spec.key and out[spec.key].duplicated().any():
        dup = out.loc[out[spec.key].duplicated(), spec.key].iloc[0]
        dup = dup.item() if hasattr(dup, "item") else dup
        raise TwinValueError(f"{where}table {name!r}: duplicate {spec.key} {dup!r}")
    if name == "buildings" and len(out):
        if (out["id"] <= 0).any():
            raise TwinValueError(f"{where}table 'buildings': ids must be positive (0 means 'no building' in building_id)")
        bad = sorted(set(out["use"]) - set(BUILDING_USES))
        if bad:
            raise TwinValueError(f"{where}table 'buildings': unknown use {bad[0]!r}; expected one of {', '.join(BUILDING_USES)}")
    ordered = [c.name for c in spec.columns] + [c for c in out.columns if c not in {s.name for s in spec.columns}]
    return out[ordered]


def clip_to_grid(table, grid):
    """The rows of a table that touch a grid's extent: the row rule of tiles and windowed opens.

    A point is kept when its cell is in the grid (the grid's rule: west and north edges in,
    east and south out), so a point on the line between two tiles belongs to one of them;
    any other geometry is kept when it intersects the grid's rectangle (edges included), whole.
    Rows without geometry are dropped. The rule looks at each row alone, so clipping a table
    and clipping any superset of its rows keep the same rows. Rows keep their order and index;
    tables that are not GeoDataFrames come back whole.
    """
    import shapely

    if not isinstance(table, gpd.GeoDataFrame) or len(table) == 0:
        return table
    geoms = table.geometry.values
    points = np.asarray(shapely.get_type_id(geoms) == 0)
    keep = np.zeros(len(table), dtype=bool)
    if points.any():
        with np.errstate(invalid="ignore"):
            keep[points] = np.asarray(grid.contains(shapely.get_x(geoms[points]), shapely.get_y(geoms[points])))
    if not points.all():
        hit = table.sindex.query(shapely.box(*grid.bounds), predicate="intersects")
        keep[hit[~points[hit]]] = True
    return table.iloc[np.flatnonzero(keep)]


def _same_crs(a, b) -> bool:
    from pyproj import CRS

    return CRS.from_user_input(a) == CRS.from_user_input(b)
