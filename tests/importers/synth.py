"""Writers of the small synthetic files the importer tests make for themselves."""

from __future__ import annotations

from pathlib import Path

import laspy
import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS


def write_tif(path: Path, values, *, x0: float, y0: float, res: float, crs="EPSG:2154", nodata=None) -> Path:
    """A single-band float32 GeoTIFF with its north-west corner at (x0, y0)."""
    values = np.asarray(values, dtype=np.float32)
    profile = dict(driver="GTiff", width=values.shape[1], height=values.shape[0], count=1, dtype="float32",
                   transform=Affine(res, 0, x0, 0, -res, y0), nodata=nodata)
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
    return path


def write_asc(path: Path, values, *, xll: float, yll: float, res: float, nodata: float = -99999.0) -> Path:
    """An ESRI ASCII grid (corner-registered header, as RGE ALTI)."""
    values = np.asarray(values, dtype=np.float64)
    lines = [f"ncols {values.shape[1]}", f"nrows {values.shape[0]}", f"xllcorner {xll}", f"yllcorner {yll}",
             f"cellsize {res}", f"NODATA_value {nodata}"]
    lines += [" ".join(f"{v:.3f}" for v in row) for row in values]
    path.write_text("\n".join(lines) + "\n")
    return path


def plane(x, y):
    """The analytic terrain of the synthetic tests [m]."""
    return 100.0 + 0.01 * (x - 990000.0) - 0.02 * (y - 6300000.0)


def write_las(path: Path, x, y, z, classes, *, crs=2154, version="1.4", point_format=6) -> Path:
    h = laspy.LasHeader(point_format=point_format, version=version)
    h.scales = [0.001, 0.001, 0.001]
    h.offsets = [float(np.floor(np.min(x))), float(np.floor(np.min(y))), 0.0]
    if crs is not None:
        h.add_crs(CRS.from_user_input(crs))
    las = laspy.LasData(h)
    las.x, las.y, las.z = np.asarray(x, float), np.asarray(y, float), np.asarray(z, float)
    las.classification = np.asarray(classes, np.uint8)
    las.write(path)
    return path


#: BD TOPO TRONCON_DE_ROUTE: GeoPackage/WFS field -> Shapefile field.
ROAD_FIELDS_UPPER = {"cleabs": "ID", "nature": "NATURE", "importance": "IMPORTANCE", "largeur_de_chaussee": "LARGEUR",
                     "nombre_de_voies": "NB_VOIES", "position_par_rapport_au_sol": "POS_SOL",
                     "etat_de_l_objet": "ETAT", "fictif": "FICTIF", "nom_collaboratif_gauche": "NOM_COLL_G",
                     "nom_collaboratif_droite": "NOM_COLL_D"}


def write_troncons(path: Path, rows: list, *, crs="EPSG:2154", upper: bool = False, layer="troncon_de_route",
                   driver=None) -> Path:
    """BD TOPO road segments (dicts with BD TOPO field names and a ``geometry``), as GeoPackage, Shapefile or
    GeoJSON (by suffix); ``upper`` renames the fields to the Shapefile spelling and writes booleans as Oui/Non."""
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    if upper:
        if "fictif" in gdf:
            gdf["fictif"] = gdf["fictif"].map({True: "Oui", False: "Non"})
        gdf = gdf.rename(columns=ROAD_FIELDS_UPPER)
    suffix = path.suffix.lower()
    if suffix == ".gpkg":
        gdf.to_file(path, layer=layer, driver="GPKG")
    elif suffix == ".shp":
        gdf.to_file(path, driver="ESRI Shapefile")
    else:
        gdf.to_file(path, driver=driver or "GeoJSON")
    return path
