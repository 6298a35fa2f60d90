"""Etalab cadastre (cadastre.data.gouv.fr) GeoJSON: parcels and buildings, reprojected from WGS84.

The files are per commune or departement, ``.json`` or ``.json.gz``, one layer each
(``parcelles``, ``batiments``...). :func:`read_cadastre` recognises the layer from its fields.

* **parcelles**: ``id`` (14 characters: INSEE 5 + prefix 3 + section 2 + number 4), ``commune``,
  ``prefixe``, ``section``, ``numero``, ``contenance`` (fiscal area [m2], may be missing; it differs
  from the geometric area by about 1 %). Ids that are not 14 characters are counted; a parcel
  repeated (the same id twice, where sheets meet) is kept once and counted.
* **batiments**: ``type`` "01" (solid, *bâti dur*) or "02" (light, *bâti léger*; older files use
  integers 1/2), ``nom``, ``commune``. No id and no height. The files juxtapose cadastral sheets
  without topological correction, so the same building appears twice where sheets meet: such
  duplicates (intersection over union > 0.95), slivers and invalid rings are repaired or dropped
  and counted (:func:`importers._geometry.clean_footprints`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from importers._common import Notes, horizontal_crs
from importers._geometry import clean_footprints
from importers.bdtopo import BuildingsSource, read_vector
from twin.errors import TwinFormatError

__all__ = ["CadastreSource", "read_cadastre"]


@dataclass
class CadastreSource:
    """What a cadastre file holds, in the target CRS.

    Attributes
    ----------
    path : Path
    layer : str
        ``parcelles`` or ``batiments``.
    parcels : GeoDataFrame or None
        Columns of the twin parcels table (id, commune, section, numero, contenance) plus ``prefixe``.
    buildings : BuildingsSource or None
        Footprints with ``light`` (type 02) and ``height`` NaN.
    counts : dict
    notes : list of str
    """

    path: Path
    layer: str
    parcels: gpd.GeoDataFrame | None
    buildings: BuildingsSource | None
    counts: dict = field(default_factory=dict)
    notes: Notes = field(default_factory=Notes)


def _str_col(gdf, name, n):
    if name not in gdf.columns:
        return np.full(n, "", dtype=object)
    return gdf[name].fillna("").astype(str).to_numpy(dtype=object)


def read_cadastre(path, *, to_crs="EPSG:2154", crs=None, bbox=None) -> CadastreSource:
    """Read an Etalab cadastre GeoJSON (parcels or buildings) and reproject it.

    Parameters
    ----------
    path : str or Path
        ``cadastre-<code>-parcelles.json[.gz]`` or ``cadastre-<code>-batiments.json[.gz]``.
    to_crs : optional
        Target CRS (projected, in metres), the twin's. Default Lambert-93.
    crs : optional
        CRS of the file if it is not the WGS84 GeoJSON standard.
    bbox : optional
        Read only the features that intersect this box, given in ``to_crs``.

    Returns
    -------
    CadastreSource

    Raises
    ------
    TwinFileNotFoundError
    TwinFormatError
        If the file is unreadable, empty, or neither parcels nor buildings.
    """
    target = horizontal_crs(to_crs)
    gdf, _, notes = read_vector(path, crs=crs, default_crs="EPSG:4326", what="cadastre file", bbox=bbox, bbox_crs=target)
    p = Path(path)
    cols = set(gdf.columns)
    n = len(gdf)
    counts: dict = {"read": n}
    gdf = gdf.to_crs(target)
    if {"section", "numero"} <= cols or "contenance" in cols:
        ids = _str_col(gdf, "id", n)
        bad = np.array([len(i) != 14 for i in ids], dtype=bool)
        counts["bad_ids"] = int(bad.sum())
        if bad.any():
            notes.add(f"{p.name}: {int(bad.sum())} parcel ids are not 14 characters (e.g. {ids[bad][0]!r})")
        contenance = pd.to_numeric(gdf["contenance"], errors="coerce").to_numpy(np.float64) if "contenance" in cols else np.full(n, np.nan)
        counts["no_contenance"] = int(np.isnan(contenance).sum())
        parcels = gpd.GeoDataFrame(
            {
                "id": ids,
                "commune": _str_col(gdf, "commune", n),
                "section": _str_col(gdf, "section", n),
                "numero": _str_col(gdf, "numero", n),
                "contenance": contenance.astype(np.float32),
                "prefixe": _str_col(gdf, "prefixe", n),
            },
            geometry=gdf.geometry.values, crs=target,
        )
        empty = parcels.geometry.isna() | parcels.geometry.is_empty
        counts["no_geometry"] = int(empty.sum())
        parcels = parcels[~empty]
        invalid = ~parcels.geometry.is_valid
        counts["repaired"] = int(invalid.sum())
        if invalid.any():
            parcels.loc[invalid, "geometry"] = parcels.geometry[invalid].make_valid()
        dup = parcels["id"].duplicated() & (parcels["id"] != "")
        counts["duplicates"] = int(dup.sum())
        parcels = parcels[~dup].reset_index(drop=True)
        counts["kept"] = len(parcels)
        return CadastreSource(p, "parcelles", parcels, None, counts, notes)
    if "type" in cols:
        raw = gdf["type"]
        codes = np.array([_type_code(v) for v in raw.tolist()], dtype=object)
        unknown = codes == ""
        counts["unknown_type"] = int(unknown.sum())
        table = gpd.GeoDataFrame(
            {
                "height": np.float32(np.nan),
                "name": _str_col(gdf, "nom", n),
                "external_id": [f"{p.name.split('.')[0]}:{i}" for i in range(n)],
                "lod": np.int8(0),
                "height_source": "",
                "footprint_source": "cadastre",
                "use": "unknown",
                "light": codes == "02",
                "commune": _str_col(gdf, "commune", n),
            },
            geometry=gdf.geometry.values, crs=target,
        )
        table, repairs = clean_footprints(table)
        counts.update(repairs.as_dict())
        counts["kept"] = len(table)
        counts["light"] = int(table["light"].sum())
        if repairs.dropped_duplicates:
            notes.add(f"{p.name}: {repairs.dropped_duplicates} duplicated building polygons removed (sheets juxtaposed)")
        b = BuildingsSource(p, target, table.reset_index(drop=True), "cadastre", counts, notes)
        return CadastreSource(p, "batiments", None, b, counts, notes)
    raise TwinFormatError(f"{p}: not an Etalab cadastre parcels or buildings layer (no section/numero/contenance or type field)")


def _type_code(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    s = str(v).strip()
    if s in ("1", "01", "1.0"):
        return "01"
    if s in ("2", "02", "2.0"):
        return "02"
    return ""
