"""Fusion: build a twin from whatever sources are at hand, and say how.

:func:`build_twin` takes any sensible subset of terrain/surface/height rasters, point clouds,
BD TOPO, Etalab cadastre, CityGML and CityJSON, and returns a :class:`~twin.core.Twin` and a
:class:`BuildReport`.

Rules
-----
Grid
    ``extent`` (in the twin CRS) at ``resolution``; by default the union of the terrain-like
    sources (rasters, point clouds), else of the buildings and parcels plus 5 m. Raster edges
    are rounded to the nearest cell line (IGN tiles, offset by a quarter metre, give whole km).
    An extent that misses every input is an error.
Terrain
    The best source present, each filling what the previous left empty: terrain rasters
    (MNT, RGE ALTI), then the point clouds' terrain points, then surface minus height rasters
    (MNS - MNH). Without any, a flat terrain at the buildings' median ground altitude (0 m when
    unknown), with a warning. Cells no source covers stay NaN and are reported.
Height model (above ground)
    Height rasters (MNH), else surface rasters minus the terrain, else the point clouds'
    surface minus terrain. Used for building heights and, without a point cloud, the canopy.
Buildings
    From CityGML/CityJSON, else BD TOPO, else cadastre footprints; a building of a lower source is
    added where the higher ones have none (less than half of its footprint covered), and gives its
    attributes (use, floors, year, dwellings, height) to the building it overlaps most when that one
    lacks them. Footprints are repaired or dropped (invalid rings and self-intersections made valid,
    slivers under 2 m2 or 0.5 m wide, duplicates with intersection over union above 0.95) and
    counted. Buildings that do not touch the grid are left out.
Building heights (``height_source`` says which, per building)
    1. the building's own data (CityGML/CityJSON geometry or height attribute, BD TOPO ``hauteur``);
    2. the LiDAR height model: the 90th percentile of (surface - terrain) over the cells whose centre
       is inside the footprint (``lidar:p90``; at least 2 cells above 1 m);
    3. floors x ``storey_height`` (``floors*3m``);
    4. ``default_height`` (``default:6m``), with a warning.
Layers
    ``building_id`` and ``building_height`` by :func:`twin.rasterize.rasterize_buildings` (cell centre
    inside the footprint); LoD2 roofs then give each cell its own roof height (roof plane at the cell
    centre minus the building's ground). ``canopy_height``: the point clouds' vegetation (3-5), else the
    height model outside buildings (one cell away from them), 0 under buildings. ``landcover``, each
    rule over the previous: water, trees (canopy >= 2 m) and grass (low vegetation) where a classified
    point cloud says so; road surfaces (BD TOPO centre lines buffered by half their width: ROAD, SIDEWALK
    for cycle tracks and stairs, BARE_SOIL for tracks and footpaths); BD TOPO water surfaces; buildings
    where ``building_id`` > 0; unknown elsewhere. ``water_level`` where a water source gives an altitude.
    ``surface`` = :func:`twin.rasterize.compose_surface`.
Roads
    BD TOPO TRONCON_DE_ROUTE segments at ground level, in service, not fictitious, touching the grid
    (:mod:`importers.roads`): the ``roads`` table with ids 1..n, widths and EN 13201 classes by documented
    rules, each rule recorded per road (``width_source``, ``lighting_class_source``) and counted in the report.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio import features

from importers import _kernels as K
from importers._common import Notes, as_paths, horizontal_crs, same_crs
from importers._geometry import RepairCounts, clean_footprints
from importers.bdtopo import BuildingsSource, read_bdtopo
from importers.cadastre import CadastreSource, read_cadastre
from importers.citygml import CityModel, read_citygml
from importers.cityjson import read_cityjson
from importers.pointcloud import PointCloudSource, open_pointcloud, rasterize_pointcloud
from importers.rasters import RasterSource, open_raster, resample_to_grid
from importers.roads import RoadsSource, read_roads, road_surfaces
from importers.water import WaterSource, read_water, water_level_grid
from twin.core import Twin, dataset_from_grid, layer_dataarray
from twin.errors import TwinValueError
from twin.grid import Grid, normalize_crs
from twin.layers import Landcover
from twin.rasterize import compose_surface, rasterize_buildings, rasterize_values
from twin.tables import conform

__all__ = ["BuildReport", "build_twin", "parse_extent"]

#: Largest grid :func:`build_twin` accepts without an explicit extent [cells].
MAX_CELLS = 400_000_000


@dataclass
class BuildReport:
    """What :func:`build_twin` used, assumed, repaired and could not do.

    Attributes
    ----------
    grid : dict
        CRS, cell size, shape and bounds.
    sources : list of dict
        Each input: ``kind``, ``path``, ``crs``, what it gave.
    layers : dict
        Per layer, where its values come from.
    buildings : dict
        Counts: total, by footprint source, by height source, added/merged across sources.
    repairs : dict
        Footprints repaired or dropped, by reason.
    parcels : int
    roads : dict
        Segments kept, skipped by reason, widths and lighting classes by rule, cells of road surface.
    water : dict
        Water surfaces kept, skipped by reason, with a level, cells.
    quality : dict
        Cross-checks (terrain vs point cloud, attribute vs LiDAR heights, surface vs observed surface).
    warnings : list of str
        Defaults applied, gaps, refusals worth a look.
    notes : list of str
        Everything the readers noted.
    missing : list of str
        What the twin lacks and how to get it.
    seconds : float
    """

    grid: dict = field(default_factory=dict)
    sources: list = field(default_factory=list)
    layers: dict = field(default_factory=dict)
    buildings: dict = field(default_factory=dict)
    repairs: dict = field(default_factory=dict)
    parcels: int = 0
    roads: dict = field(default_factory=dict)
    water: dict = field(default_factory=dict)
    quality: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("grid", "sources", "layers", "buildings", "repairs", "parcels", "roads",
                                               "water", "quality", "warnings", "notes", "missing", "seconds")}

    def format(self) -> str:
        """A short human report (the end of ``twin build``)."""
        g = self.grid
        lines = [(f"grid      {g['shape'][0]} x {g['shape'][1]} cells at {g['cell_size']:g} m, {g['crs']}, "
                 f"x {g['bounds'][0]:.1f}..{g['bounds'][2]:.1f}, y {g['bounds'][1]:.1f}..{g['bounds'][3]:.1f}")]
        lines.append("sources")
        for s in self.sources:
            what = f" -> {s['gave']}" if s.get("gave") else ""
            lines.append(f"  {s['kind']:<11} {Path(s['path']).name}{what}")
        lines.append("layers")
        for k, v in self.layers.items():
            lines.append(f"  {k:<16} {v}")
        b = self.buildings
        if b.get("total"):
            hs = ", ".join(f"{k} {v}" for k, v in b.get("height_source", {}).items())
            fs = ", ".join(f"{k} {v}" for k, v in b.get("footprint_source", {}).items())
            lines.append(f"buildings {b['total']} (footprints: {fs}; heights: {hs})")
            if b.get("merged"):
                lines.append(f"          {b['merged']} matched across sources, attributes completed")
        rep = {k: v for k, v in self.repairs.items() if v}
        if rep:
            lines.append("repairs   " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in rep.items()))
        if self.parcels:
            lines.append(f"parcels   {self.parcels}")
        r = self.roads
        if r.get("total") is not None:
            ws = ", ".join(f"{k} {v}" for k, v in r.get("width_source", {}).items())
            lc = ", ".join(f"{k} {v}" for k, v in r.get("lighting_class", {}).items())
            lines.append(f"roads     {r['total']} segments (widths: {ws or '-'}; classes: {lc or '-'})")
            sk = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in r.get("skipped", {}).items() if v)
            if sk:
                lines.append(f"          skipped: {sk}")
        w = self.water
        if w.get("total") is not None:
            sk = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in w.get("skipped", {}).items() if v)
            lines.append(f"water     {w['total']} surfaces, {w.get('with_level', 0)} with a level"
                         + (f"; skipped: {sk}" if sk else ""))
        if self.quality:
            lines.append("checks    " + "; ".join(f"{k} {v}" for k, v in self.quality.items()))
        for w in self.warnings:
            lines.append(f"warning   {w}")
        for m in self.missing:
            lines.append(f"missing   {m}")
        lines.append(f"built in {self.seconds:.1f} s")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


def parse_extent(text) -> tuple[float, float, float, float]:
    """``"xmin,ymin,xmax,ymax"`` (or a 4-sequence) -> floats.

    Raises
    ------
    TwinValueError
        If there are not four finite numbers with xmin < xmax and ymin < ymax.
    """
    if isinstance(text, str):
        parts = [p for p in text.replace(";", ",").split(",") if p.strip()]
    else:
        parts = list(text)
    try:
        vals = tuple(float(p) for p in parts)
    except (TypeError, ValueError):
        raise TwinValueError(f"invalid extent {text!r}: expected xmin,ymin,xmax,ymax") from None
    if len(vals) != 4 or not all(math.isfinite(v) for v in vals):
        raise TwinValueError(f"invalid extent {text!r}: expected four numbers xmin,ymin,xmax,ymax")
    if vals[2] <= vals[0] or vals[3] <= vals[1]:
        raise TwinValueError(f"invalid extent {text!r}: xmax must exceed xmin and ymax exceed ymin")
    return vals


# -- opening the inputs --------------------------------------------------------------------------------
def _open_rasters(items, source_crs):
    return [x if isinstance(x, RasterSource) else open_raster(x, default_crs=source_crs) for x in as_paths(items)]


def _open_pointclouds(items, source_crs):
    return [x if isinstance(x, PointCloudSource) else open_pointcloud(x, default_crs=source_crs) for x in as_paths(items)]


def _open_buildings(items, source_crs, crs, bbox=None):
    out = []
    for x in as_paths(items):
        if isinstance(x, BuildingsSource):
            out.append(x)
        elif isinstance(x, gpd.GeoDataFrame):
            if x.crs is None:
                raise TwinValueError("a buildings GeoDataFrame has no CRS")
            t = x.copy()
            if "height" not in t.columns:
                t["height"] = np.nan
            t["height_source"] = np.where(np.isfinite(t["height"].astype(float)), "table:height", "")
            t["footprint_source"] = "table"
            out.append(BuildingsSource(Path("<table>"), horizontal_crs(x.crs), t, "table", {"read": len(t)}))
        else:
            out.append(read_bdtopo(x, default_crs=source_crs, bbox=bbox, bbox_crs=crs))
    return out


def _open_cadastre(items, crs, bbox=None):
    return [x if isinstance(x, CadastreSource) else read_cadastre(x, to_crs=crs, bbox=bbox) for x in as_paths(items)]


def _open_models(items, reader, source_crs, crs):
    return [x if isinstance(x, CityModel) else reader(x, default_crs=source_crs, to_crs=crs) for x in as_paths(items)]


def _union_bounds(bounds):
    b = [x for x in bounds if x is not None]
    if not b:
        return None
    return (min(x[0] for x in b), min(x[1] for x in b), max(x[2] for x in b), max(x[3] for x in b))


def _intersects(a, b) -> bool:
    return a[0] < b[2] and a[2] > b[0] and a[1] < b[3] and a[3] > b[1]


def _gdf_bounds(gdf, crs):
    if gdf is None or len(gdf) == 0:
        return None
    g = gdf if same_crs(gdf.crs, crs) else gdf.to_crs(crs)
    b = g.total_bounds
    return tuple(float(v) for v in b) if np.all(np.isfinite(b)) else None


# -- the build -----------------------------------------------------------------------------------------
def build_twin(
    *,
    terrain=(),
    surface=(),
    height=(),
    pointcloud=(),
    buildings=(),
    cadastre=(),
    citygml=(),
    cityjson=(),
    roads=(),
    water=(),
    extent=None,
    resolution: float = 1.0,
    crs="EPSG:2154",
    source_crs=None,
    storey_height: float = 3.0,
    default_height: float = 6.0,
    max_gap_area: float = 400.0,
    name: str = "twin",
) -> tuple[Twin, BuildReport]:
    """Build a twin from the sources given; see the module notes for every rule.

    Parameters
    ----------
    terrain, surface, height : path, RasterSource, or a list of them
        Terrain (MNT, RGE ALTI), surface (MNS) and height-above-ground (MNH) rasters.
    pointcloud : path, PointCloudSource, or a list
        Classified LAS/LAZ/COPC.
    buildings : path, BuildingsSource, GeoDataFrame, or a list
        BD TOPO BATIMENT layers (or a GeoDataFrame of footprints with an optional ``height``).
    cadastre : path, CadastreSource, or a list
        Etalab cadastre parcels and/or buildings.
    citygml, cityjson : path, CityModel, or a list
    roads : path, RoadsSource, or a list
        BD TOPO TRONCON_DE_ROUTE layers (:func:`importers.roads.read_roads`).
    water : path, WaterSource, or a list
        BD TOPO SURFACE_HYDROGRAPHIQUE / PLAN_D_EAU layers (:func:`importers.water.read_water`).
    extent : (xmin, ymin, xmax, ymax) or "xmin,ymin,xmax,ymax", optional
        In the twin CRS [m].
    resolution : float
        Cell size [m].
    crs : optional
        CRS of the twin (projected, metres).
    source_crs : optional
        CRS of inputs that declare none (ESRI ASCII grids, shapefiles without .prj, CityGML without
        srsName...). It never overrides a declared CRS.
    storey_height : float
        Storey height for heights from floors [m].
    default_height : float
        Height of buildings nothing else informs [m] (light constructions: 2.5 m).
    max_gap_area : float
        Largest raster gap filled by interpolation [m2].
    name : str
        Name of the twin.

    Returns
    -------
    (Twin, BuildReport)

    Raises
    ------
    TwinValueError
        If nothing is given, the resolution or extent is invalid, the extent misses every input, or
        the grid would be too large.
    TwinFileNotFoundError, TwinFormatError, TwinCRSError
        From the readers (each names its file).
    """
    t0 = time.perf_counter()
    if not (isinstance(resolution, (int, float)) and math.isfinite(resolution) and resolution > 0):
        raise TwinValueError(f"invalid resolution: {resolution!r} (must be a positive number of metres)")
    for v, nm in ((storey_height, "storey_height"), (default_height, "default_height")):
        if not (math.isfinite(v) and v > 0):
            raise TwinValueError(f"invalid {nm}: {v!r} (must be a positive number of metres)")
    crs = normalize_crs(crs)
    if source_crs is not None:
        source_crs = horizontal_crs(source_crs)
    report = BuildReport()
    notes = Notes()
    the_extent = parse_extent(extent) if extent is not None else None

    # 1. open everything (rasters and point clouds: headers only)
    t_src = _open_rasters(terrain, source_crs)
    s_src = _open_rasters(surface, source_crs)
    h_src = _open_rasters(height, source_crs)
    pc_src = _open_pointclouds(pointcloud, source_crs)
    # with an extent, vector layers are filtered while reading (a margin keeps the buildings that straddle it)
    vbox = None
    if the_extent is not None:
        m = 200.0
        vbox = (the_extent[0] - m, the_extent[1] - m, the_extent[2] + m, the_extent[3] + m)
    bd_src = _open_buildings(buildings, source_crs, crs, vbox)
    cad_src = _open_cadastre(cadastre, crs, vbox)
    gml_src = _open_models(citygml, read_citygml, source_crs, crs)
    cj_src = _open_models(cityjson, read_cityjson, source_crs, crs)
    rd_src = [x if isinstance(x, RoadsSource) else read_roads(x, default_crs=source_crs, bbox=vbox, bbox_crs=crs)
              for x in as_paths(roads)]
    wt_src = [x if isinstance(x, WaterSource) else read_water(x, default_crs=source_crs, bbox=vbox, bbox_crs=crs)
              for x in as_paths(water)]
    if not any((t_src, s_src, h_src, pc_src, bd_src, cad_src, gml_src, cj_src, rd_src, wt_src)):
        raise TwinValueError("nothing to build from: give at least one input (terrain, surface, height, point cloud, "
                             "buildings, cadastre, CityGML, CityJSON, roads or water)")
    for kind, group in (("terrain", t_src), ("surface", s_src), ("height", h_src)):
        for s in group:
            if s.kind and s.kind != kind:
                notes.add(f"{s.path.name}: the IGN name says {s.kind}, it was given as {kind}")

    # 2. the grid
    raster_like = [s.bounds_in(crs) for s in (*t_src, *s_src, *h_src, *pc_src)]
    vector_like = ([_gdf_bounds(b.buildings, crs) for b in bd_src] + [_gdf_bounds(m.buildings, crs) for m in (*gml_src, *cj_src)]
                   + [_gdf_bounds(c.parcels, crs) for c in cad_src] + [_gdf_bounds(c.buildings.buildings, crs) for c in cad_src if c.buildings]
                   + [_gdf_bounds(r.roads, crs) for r in rd_src] + [_gdf_bounds(w.water, crs) for w in wt_src])
    all_bounds = [b for b in raster_like + vector_like if b is not None]
    cover = _union_bounds(all_bounds)
    if the_extent is not None:
        if cover is None or not any(_intersects(the_extent, b) for b in all_bounds):
            where = (f"the inputs cover x {cover[0]:.0f}..{cover[2]:.0f}, y {cover[1]:.0f}..{cover[3]:.0f} in {crs}"
                     if cover else "no feature of the vector inputs lies within 200 m of it")
            raise TwinValueError(f"extent {the_extent} misses every input ({where})")
        grid = Grid.from_bounds(*the_extent, cell_size=resolution, crs=crs)
    else:
        if raster_like:
            b = _union_bounds(raster_like)
            r = resolution
            x0, y0 = round(b[0] / r) * r, round(b[1] / r) * r
            x1, y1 = round(b[2] / r) * r, round(b[3] / r) * r
            if x1 <= x0:
                x0, x1 = math.floor(b[0] / r) * r, math.ceil(b[2] / r) * r
            if y1 <= y0:
                y0, y1 = math.floor(b[1] / r) * r, math.ceil(b[3] / r) * r
            grid = Grid.from_bounds(x0, y0, x1, y1, cell_size=r, crs=crs)
        elif cover is not None:
            m = 5.0
            grid = Grid.from_bounds(cover[0] - m, cover[1] - m, cover[2] + m, cover[3] + m, cell_size=resolution, crs=crs)
        else:
            raise TwinValueError("the inputs hold no located data (no raster, no point, no building, no parcel)")
    if grid.size > MAX_CELLS:
        raise TwinValueError(f"the grid would have {grid.size:,} cells ({grid.nrows} x {grid.ncols}); "
                             f"give a smaller --extent or a coarser --resolution")
    report.grid = {"crs": grid.crs, "cell_size": grid.cell_size, "shape": list(grid.shape), "bounds": list(grid.bounds)}

    # 3. terrain
    terrain_arr = np.full(grid.shape, np.nan, np.float32)
    terrain_from: dict[str, int] = {}
    pc = None
    if t_src:
        rr = resample_to_grid(t_src, grid, max_gap_area=max_gap_area)
        terrain_arr = rr.values
        terrain_from["terrain rasters"] = int(np.isfinite(terrain_arr).sum())
        notes.extend(rr.notes)
        for s in t_src:
            report.sources.append({"kind": "terrain", "path": str(s.path), "crs": s.crs,
                                   "gave": "terrain" + (f" ({rr.method.get(s.path.name, 'outside')})" if s in rr.sources else " (outside the grid)")})
    if pc_src:
        pc = rasterize_pointcloud(pc_src, grid)
        notes.extend(pc.notes)
        take = np.isnan(terrain_arr) & np.isfinite(pc.terrain)
        if take.any():
            terrain_arr[take] = pc.terrain[take]
            terrain_from["point cloud ground"] = int(take.sum())
        for s in pc_src:
            report.sources.append({"kind": "pointcloud", "path": str(s.path), "crs": s.crs,
                                   "gave": f"{'terrain, ' if take.any() else ''}surface, canopy, classes ({pc.points_used:,} points)"})
        if t_src:
            both = np.isfinite(pc.terrain) & ~pc.terrain_filled & np.isfinite(rr.values)
            if both.any():
                d = np.abs(pc.terrain[both] - rr.values[both])
                report.quality["terrain point cloud vs raster"] = (f"median |diff| {np.median(d):.3f} m, "
                                                                  f"p95 {np.percentile(d, 95):.3f} m")
    surface_rr = resample_to_grid(s_src, grid, max_gap_area=max_gap_area) if s_src else None
    height_rr = resample_to_grid(h_src, grid, max_gap_area=max_gap_area) if h_src else None
    for rr_, grp, kind in ((surface_rr, s_src, "surface"), (height_rr, h_src, "height")):
        if rr_ is not None:
            notes.extend(rr_.notes)
            for s in grp:
                report.sources.append({"kind": kind, "path": str(s.path), "crs": s.crs,
                                       "gave": "height model" if s in rr_.sources else "(outside the grid)"})
    if surface_rr is not None and height_rr is not None:
        derived = surface_rr.values - height_rr.values
        take = np.isnan(terrain_arr) & np.isfinite(derived)
        if take.any():
            terrain_arr[take] = derived[take]
            terrain_from["surface - height rasters"] = int(take.sum())

    # 4. buildings
    sets = []
    for m in (*gml_src, *cj_src):
        report.sources.append({"kind": m.kind, "path": str(m.path), "crs": m.crs,
                               "gave": f"{m.counts.get('rows', len(m.buildings))} buildings, {len(m.surfaces)} surfaces"})
        notes.extend(m.notes)
    for b in bd_src:
        report.sources.append({"kind": b.kind, "path": str(b.path), "crs": b.crs, "gave": f"{len(b.buildings)} buildings"})
        notes.extend(b.notes)
        if b.counts.get("no_geometry"):
            report.repairs["dropped_empty"] = report.repairs.get("dropped_empty", 0) + b.counts["no_geometry"]
    cad_buildings = []
    parcels = []
    for c in cad_src:
        notes.extend(c.notes)
        if c.buildings is not None:
            cad_buildings.append(c.buildings)
            report.sources.append({"kind": "cadastre", "path": str(c.path), "crs": crs, "gave": f"{len(c.buildings.buildings)} buildings"})
        if c.parcels is not None:
            parcels.append(c.parcels)
            report.sources.append({"kind": "cadastre", "path": str(c.path), "crs": crs, "gave": f"{len(c.parcels)} parcels"})
        for k in ("dropped_duplicates",):
            if c.counts.get(k):
                report.repairs["cadastre_duplicates"] = report.repairs.get("cadastre_duplicates", 0) + c.counts[k]
    if gml_src or cj_src:
        sets.append(("3d", [m.buildings for m in (*gml_src, *cj_src)]))
    if bd_src:
        sets.append(("bdtopo", [b.buildings for b in bd_src]))
    if cad_buildings:
        sets.append(("cadastre", [c.buildings for c in cad_buildings]))
    table, merged, repairs, outside = _fuse_buildings(sets, grid)
    report.repairs.update({k: report.repairs.get(k, 0) + v for k, v in repairs.as_dict().items()})
    if outside:
        report.repairs["outside_grid"] = outside

    # 5. terrain fallback, height model
    if not np.isfinite(terrain_arr).any():
        gz = table["ground_z"].to_numpy(np.float64) if len(table) else np.array([])
        gz = gz[np.isfinite(gz)]
        level = float(np.median(gz)) if gz.size else 0.0
        terrain_arr[:] = level
        terrain_from = {f"flat default at {level:.2f} m": grid.size}
        report.warnings.append(f"no terrain source: flat terrain at {level:.2f} m "
                               f"({'the buildings median ground altitude' if gz.size else 'no ground altitude known'})")
        flat_terrain = True
    else:
        flat_terrain = False
    missing_terrain = int(np.isnan(terrain_arr).sum())
    if missing_terrain:
        report.warnings.append(f"{missing_terrain} cells have no terrain (outside every source or large gaps): left NaN")
    report.layers["terrain"] = ", ".join(f"{k} ({v} cells)" for k, v in terrain_from.items())
    hm = None
    hm_from = ""
    if height_rr is not None:
        hm, hm_from = height_rr.values.copy(), "height rasters"
    # the first source present gives the height model; the next ones fill its gaps
    for surf, label in ((surface_rr.values if surface_rr is not None else None, "surface rasters - terrain"),
                        (pc.surface if pc is not None else None, "point cloud surface - terrain")):
        if surf is None:
            continue
        d = surf - terrain_arr
        if hm is None:
            hm, hm_from = d, label
        else:
            take = np.isnan(hm) & np.isfinite(d)
            hm[take] = d[take]

    # 6. heights
    ids_provisional = rasterize_values(grid, table.geometry.values, np.arange(1, len(table) + 1, dtype=np.int32),
                                       fill=0, dtype="int32") if len(table) else np.zeros(grid.shape, np.int32)
    _complete_heights(table, ids_provisional, hm, terrain_arr, report, storey_height=storey_height,
                      default_height=default_height, flat_terrain=flat_terrain)
    table["id"] = np.arange(1, len(table) + 1, dtype=np.int32)
    report.buildings["merged"] = merged

    # 7. rasterise
    buildings_tbl = conform("buildings", table[_building_columns(table)], crs=grid.crs) if len(table) else None
    if buildings_tbl is not None:
        bid, bh = rasterize_buildings(grid, buildings_tbl)
    else:
        bid, bh = np.zeros(grid.shape, np.int32), np.zeros(grid.shape, np.float32)
    surfaces_tbl = _surfaces_table(gml_src + cj_src, table, grid)
    roof_cells = 0
    if surfaces_tbl is not None and len(surfaces_tbl):
        roof_cells = _apply_roofs(grid, surfaces_tbl, table, bid, bh)
    report.layers["building_id"] = (f"{int((bid > 0).sum())} cells, centre inside the footprint" if len(table) else "no building")
    report.layers["building_height"] = (f"table heights; LoD2 roof planes on {roof_cells} cells" if roof_cells
                                        else ("table heights" if len(table) else "0"))

    # 8. canopy and land cover
    landcover = np.zeros(grid.shape, np.uint8)
    if pc is not None:
        canopy = pc.canopy_height.copy()
        canopy_from = "point cloud vegetation (classes 3-5)"
    elif hm is not None:
        from scipy import ndimage

        near = ndimage.binary_dilation(bid > 0, structure=np.ones((3, 3), bool))
        canopy = np.where(~near & np.isfinite(hm) & (hm >= 0.5), hm, 0.0).astype(np.float32)
        canopy_from = f"{hm_from} outside buildings (all above-ground objects, no classes)"
        report.warnings.append("canopy from a height model without classes: it holds every object above 0.5 m outside "
                               "the footprints (trees, but also cars, walls, kiosks); give a classified point cloud for "
                               "vegetation only")
    else:
        canopy = np.zeros(grid.shape, np.float32)
        canopy_from = "none (0)"
    canopy[bid > 0] = 0.0
    canopy = np.nan_to_num(canopy, nan=0.0).astype(np.float32)
    report.layers["canopy_height"] = canopy_from
    lc_from = ["building from building_id"] if len(table) else []
    if pc is not None:
        water = (pc.water_fraction >= 0.5) & (bid == 0)
        landcover[water] = Landcover.WATER
        trees = (canopy >= 2.0) & (bid == 0) & ~water
        landcover[trees] = Landcover.TREES
        veg_low = (canopy > 0) & (canopy < 2.0) & (bid == 0) & ~water
        landcover[veg_low] = Landcover.GRASS
        lc_from.append("water, trees (canopy >= 2 m) and grass from the point cloud classes")
    roads_tbl, _road_cells = _roads(rd_src, grid, landcover, report, notes)
    if roads_tbl is not None:
        lc_from.append("road surfaces from BD TOPO (centre lines buffered by half their width)")
    water_level, water_cells = _water(wt_src, grid, landcover, report, notes)
    if water_cells:
        lc_from.append("water from BD TOPO surfaces")
    landcover[bid > 0] = Landcover.BUILDING
    known = float((landcover > 0).mean())
    report.layers["landcover"] = (", ".join(lc_from) or "unknown") + f" ({known:.0%} of cells classified)"
    if pc is not None:
        lidar_bldg = (pc.building_fraction >= 0.5) & (bid == 0)
        if lidar_bldg.sum() > 0:
            report.quality["LiDAR building cells outside footprints"] = int(lidar_bldg.sum())

    # 9. surface
    surface_arr = compose_surface(np.nan_to_num(terrain_arr, nan=np.nan), bh, canopy)
    observed = surface_rr.values if surface_rr is not None else (pc.surface if pc is not None else None)
    if observed is not None:
        ok = np.isfinite(observed) & np.isfinite(surface_arr)
        on_b = ok & (bid > 0)
        if on_b.any():
            d = surface_arr[on_b] - observed[on_b]
            report.quality["surface vs observed on buildings"] = f"median {np.median(d):+.2f} m, median |diff| {np.median(np.abs(d)):.2f} m"
    report.layers["surface"] = "terrain + max(building_height, canopy_height)"

    # 10. assemble the twin
    ds = dataset_from_grid(grid)
    layers = [("terrain", terrain_arr), ("surface", surface_arr), ("building_id", bid),
              ("building_height", bh), ("canopy_height", canopy), ("landcover", landcover)]
    if water_level is not None:
        layers.append(("water_level", water_level))
    for lname, arr in layers:
        ds[lname] = layer_dataarray(grid, lname, arr)
    tables = {}
    if roads_tbl is not None:
        tables["roads"] = roads_tbl
    if buildings_tbl is not None:
        tables["buildings"] = buildings_tbl
    if surfaces_tbl is not None and len(surfaces_tbl):
        tables["building_surfaces"] = surfaces_tbl
    if parcels:
        p = pd.concat(parcels, ignore_index=True)
        p = gpd.GeoDataFrame(p, geometry="geometry", crs=parcels[0].crs)
        dup = p["id"].duplicated() & (p["id"] != "")
        if dup.any():
            report.repairs["parcel_duplicates"] = int(dup.sum())
            p = p[~dup]
        box = shapely.box(*grid.bounds)
        p = p[p.intersects(box)].reset_index(drop=True)
        tables["parcels"] = conform("parcels", p, crs=grid.crs)
        report.parcels = len(p)
    twin = Twin(ds, tables, {"name": name, "description": f"built by jumeau from {len(report.sources)} source(s)"})

    # 11. report
    if len(table):
        report.buildings["total"] = len(table)
        report.buildings["footprint_source"] = {k.split(":")[0]: int(v) for k, v in
                                                table["footprint_source"].map(lambda s: s.split(":")[0]).value_counts().items()}
        report.buildings["height_source"] = {k: int(v) for k, v in table["height_source"].value_counts().items()}
        report.buildings["light"] = int(table["light"].sum()) if "light" in table else 0
    else:
        report.buildings["total"] = 0
        report.missing.append("buildings: none (give --citygml, --cityjson, --buildings (BD TOPO) or --cadastre)")
    if not (t_src or pc_src or (s_src and h_src)):
        report.missing.append("terrain: no source (give --terrain MNT/RGE ALTI or --pointcloud)")
    if pc is None and hm is None:
        report.missing.append("vegetation: canopy 0 (give --pointcloud or --height MNH)")
    if pc is None:
        report.missing.append("vegetation land cover (trees, grass): needs a classified point cloud (--pointcloud)")
    if not rd_src:
        report.missing.append("roads: none (give --roads, BD TOPO TRONCON_DE_ROUTE)")
    if not wt_src and pc is None:
        report.missing.append("water: none (give --water, BD TOPO SURFACE_HYDROGRAPHIQUE, or --pointcloud)")
    if not parcels:
        report.missing.append("parcels: none (give --cadastre cadastre-XXXXX-parcelles.json)")
    for s in report.sources:
        s.setdefault("gave", "")
    report.notes = list(dict.fromkeys(notes))
    report.seconds = round(time.perf_counter() - t0, 3)
    twin.add_provenance(
        "build", tool="importers.build_twin", resolution=grid.cell_size, crs=grid.crs,
        sources=[{"kind": s["kind"], "path": str(s["path"])} for s in report.sources],
        buildings=report.buildings.get("total", 0), height_sources=report.buildings.get("height_source", {}),
        roads=report.roads.get("total", 0), water_surfaces=report.water.get("total", 0),
        repairs={k: v for k, v in report.repairs.items() if v}, warnings=report.warnings,
    )
    return twin, report


# -- roads and water ---------------------------------------------------------------------------------------
def _roads(sources, grid: Grid, landcover: np.ndarray, report: BuildReport, notes: Notes):
    """The roads table of the segments touching the grid, and their surfaces burnt into ``landcover``.

    Road surfaces overwrite the point cloud's classes (the ground under a tree over a street is the street);
    water and buildings are applied after them and take precedence.
    """
    if not sources:
        return None, 0
    frames = []
    skipped: dict[str, int] = {}
    for r in sources:
        notes.extend(r.notes)
        report.sources.append({"kind": "roads", "path": str(r.path), "crs": r.crs, "gave": f"{len(r.roads)} road segments"})
        for k in ("not_at_ground", "not_in_service", "fictitious", "ferries", "not_lines", "no_geometry", "zero_length"):
            if r.counts.get(k):
                skipped[k] = skipped.get(k, 0) + r.counts[k]
        if r.counts.get("multipart_split"):
            report.repairs["road_multiparts_split"] = report.repairs.get("road_multiparts_split", 0) + r.counts["multipart_split"]
        if r.counts.get("zero_length") or r.counts.get("no_geometry"):
            report.repairs["road_empty_dropped"] = (report.repairs.get("road_empty_dropped", 0) + r.counts.get("zero_length", 0)
                                                    + r.counts.get("no_geometry", 0))
        if len(r.roads):
            frames.append(r.roads if same_crs(r.roads.crs, grid.crs) else r.roads.to_crs(grid.crs))
    if frames:
        t = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=grid.crs)
    else:
        t = gpd.GeoDataFrame(sources[0].roads.iloc[0:0].drop(columns="geometry"),
                             geometry=gpd.GeoSeries([], crs=grid.crs), crs=grid.crs)
    box = shapely.box(*grid.bounds)
    touch = t.intersects(box).to_numpy() if len(t) else np.zeros(0, bool)
    if (~touch).any():
        skipped["outside_grid"] = int((~touch).sum())
    t = t[touch].reset_index(drop=True)
    t.insert(0, "id", np.arange(1, len(t) + 1, dtype=np.int32))
    table = conform("roads", t, crs=grid.crs)
    cells = 0
    if len(table):
        surf = road_surfaces(table)
        codes = table["surface"].to_numpy(np.uint8)
        # paved carriageways burn last: they win where a footpath's or a track's surface overlaps them
        order = np.argsort(codes == Landcover.ROAD, kind="stable")
        burnt = rasterize_values(grid, surf.values[order], codes[order], fill=0, dtype="uint8")
        on = burnt > 0
        landcover[on] = burnt[on]
        cells = int(on.sum())
    ws = table["width_source"].astype(str).map(lambda v: "default (nature)" if v.startswith("default") else v)
    report.roads = {
        "total": len(table),
        "width_source": {k: int(v) for k, v in ws.value_counts().items()},
        "lighting_class": {k: int(v) for k, v in table["lighting_class"].value_counts().sort_index().items()},
        "lighting_class_source": {k: int(v) for k, v in table["lighting_class_source"].astype(str).value_counts().items()},
        "skipped": skipped,
        "cells": cells,
    }
    report.layers["roads"] = f"{len(table)} segments, {cells} cells of road surface (centre inside the buffered line)"
    if len(table):
        notes.add("roads: BD TOPO has no sidewalks: sidewalk_width 0; lighting classes are those the roads need "
                  "if lit (BD TOPO does not say which are)")
    return table, cells


def _water(sources, grid: Grid, landcover: np.ndarray, report: BuildReport, notes: Notes):
    """Water surfaces burnt into ``landcover`` (over roads and point-cloud classes); the ``water_level`` layer
    where the sources give an altitude (None when none does)."""
    if not sources:
        return None, 0
    frames = []
    skipped: dict[str, int] = {}
    for w in sources:
        notes.extend(w.notes)
        report.sources.append({"kind": "water", "path": str(w.path), "crs": w.crs, "gave": f"{len(w.water)} water surfaces"})
        for k in ("not_at_ground", "projects", "intermittent", "not_polygons", "no_geometry"):
            if w.counts.get(k):
                skipped[k] = skipped.get(k, 0) + w.counts[k]
        if len(w.water):
            g = w.water if same_crs(w.water.crs, grid.crs) else _reproject_water(w.water, grid.crs)
            frames.append(g)
    if not frames:
        report.water = {"total": 0, "with_level": 0, "skipped": skipped, "cells": 0}
        return None, 0
    t = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=grid.crs)
    invalid = ~t.is_valid.to_numpy()
    if invalid.any():
        t.loc[invalid, "geometry"] = shapely.make_valid(t.geometry.values[invalid])
        report.repairs["water_made_valid"] = report.repairs.get("water_made_valid", 0) + int(invalid.sum())
    t = t[t.intersects(shapely.box(*grid.bounds)).to_numpy()].reset_index(drop=True)
    ids = rasterize_values(grid, t.geometry.values, np.arange(1, len(t) + 1, dtype=np.int32), fill=0, dtype="int32") \
        if len(t) else np.zeros(grid.shape, np.int32)
    wet = ids > 0
    landcover[wet] = Landcover.WATER
    level = None
    if len(t) and np.isfinite(t["level"].to_numpy(np.float64)).any():
        level = water_level_grid(grid, t, ids)
        report.layers["water_level"] = (f"BD TOPO water altitudes on {int(np.isfinite(level).sum())} cells "
                                        f"(attribute, else the polygons' z; sloping surfaces interpolated)")
    report.water = {"total": len(t), "with_level": int(np.isfinite(t["level"].to_numpy(np.float64)).sum()),
                    "skipped": skipped, "cells": int(wet.sum())}
    return level, int(wet.sum())


def _reproject_water(w: gpd.GeoDataFrame, crs) -> gpd.GeoDataFrame:
    """Water polygons and their 3D vertices in another CRS."""
    from pyproj import Transformer

    out = w.to_crs(crs)
    tr = Transformer.from_crs(w.crs, crs, always_xy=True)
    verts = []
    for v in w["vertices"].tolist():
        if v is None:
            verts.append(None)
            continue
        x, y = tr.transform(v[:, 0], v[:, 1])
        verts.append(np.column_stack([x, y, v[:, 2]]))
    out["vertices"] = verts
    return out


# -- buildings fusion ----------------------------------------------------------------------------------
_EXTRA = ["light", "parent_id"]


def _building_columns(table) -> list[str]:
    from twin.tables import TABLES

    cols = [c.name for c in TABLES["buildings"].columns]
    return cols + [c for c in _EXTRA if c in table.columns] + ["geometry"]


def _standardise(gdf: gpd.GeoDataFrame, grid: Grid, rank: int) -> gpd.GeoDataFrame:
    g = gdf if same_crs(gdf.crs, grid.crs) else gdf.to_crs(grid.crs)
    g = g.copy()
    n = len(g)
    defaults = {"height": np.nan, "roof_height": np.nan, "ground_z": np.nan, "floors": 0, "use": "unknown", "year": 0,
                "dwellings": 0, "name": "", "external_id": "", "lod": 1, "height_source": "", "floors_source": "",
                "use_source": "", "year_source": "", "footprint_source": "", "light": False}
    for c, v in defaults.items():
        if c not in g.columns:
            g[c] = v
    g["height"] = g["height"].astype(np.float64)
    if "building" in g.columns:
        g["parent_id"] = np.where(g["building"].astype(str) != g["external_id"].astype(str), g["building"].astype(str), "")
    elif "parent_id" not in g.columns:
        g["parent_id"] = ""
    g["light"] = g["light"].fillna(False).astype(bool)
    g["_rank"] = rank
    g["_order"] = np.arange(n)
    return g


def _fuse_buildings(sets, grid: Grid):
    """Fuse the building sets (highest priority first); returns (table, merged, repairs, outside)."""
    repairs = RepairCounts()
    merged = 0
    outside = 0
    fused = None
    box = shapely.box(*grid.bounds)
    for rank, (_label, frames) in enumerate(sets):
        frames = [_standardise(f, grid, rank) for f in frames if len(f)]
        if not frames:
            continue
        cur = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=grid.crs)
        cur, rc = clean_footprints(cur)
        repairs += rc
        touch = cur.intersects(box).to_numpy()
        outside += int((~touch).sum())
        cur = cur[touch].reset_index(drop=True)
        if fused is None or len(fused) == 0:
            fused = cur
            continue
        if len(cur) == 0:
            continue
        added, n_merged = _merge_lower(fused, cur)
        merged += n_merged
        fused = gpd.GeoDataFrame(pd.concat([fused, added], ignore_index=True), geometry="geometry", crs=grid.crs)
    if fused is None:
        fused = _standardise(gpd.GeoDataFrame({"height": []}, geometry=gpd.GeoSeries([], crs=grid.crs), crs=grid.crs), grid, 0)
    return fused.reset_index(drop=True), merged, repairs, outside


def _merge_lower(high: gpd.GeoDataFrame, low: gpd.GeoDataFrame):
    """Buildings of ``low`` not covered by ``high`` (to add); attributes of matched ones completed in ``high``."""
    hg = high.geometry.values
    lg = low.geometry.values
    tree = shapely.STRtree(hg)
    li, hi = tree.query(lg, predicate="intersects")
    if len(li) == 0:
        return low, 0
    inter = shapely.area(shapely.intersection(lg[li], hg[hi]))
    pairs = pd.DataFrame({"l": li, "h": hi, "a": inter})
    covered = pairs.groupby("l")["a"].sum()
    best = pairs.loc[pairs.groupby("l")["a"].idxmax()].set_index("l")["h"]
    larea = shapely.area(lg)
    frac = np.zeros(len(low))
    frac[covered.index.to_numpy()] = covered.to_numpy() / np.maximum(larea[covered.index.to_numpy()], 1e-9)
    matched = frac >= 0.5
    n = 0
    for l_idx in np.flatnonzero(matched):
        h_idx = int(best.loc[l_idx])
        src = low.iloc[l_idx]
        tgt = high.index[h_idx]
        changed = False
        if high.at[tgt, "use"] == "unknown" and src["use"] != "unknown":
            high.at[tgt, "use"], high.at[tgt, "use_source"] = src["use"], src["use_source"]
            changed = True
        for col in ("floors", "year", "dwellings"):
            if (high.at[tgt, col] in (0, None) or pd.isna(high.at[tgt, col])) and src[col] not in (0, None) and not pd.isna(src[col]):
                high.at[tgt, col] = src[col]
                if f"{col}_source" in high.columns:
                    high.at[tgt, f"{col}_source"] = src.get(f"{col}_source", "")
                changed = True
        if not np.isfinite(high.at[tgt, "height"]) and np.isfinite(src["height"]):
            high.at[tgt, "height"], high.at[tgt, "height_source"] = src["height"], src["height_source"]
            changed = True
        if not high.at[tgt, "name"] and src["name"]:
            high.at[tgt, "name"] = src["name"]
        n += int(changed)
    return low[~matched], int(matched.sum())


def _complete_heights(table, ids, hm, terrain, report: BuildReport, *, storey_height, default_height, flat_terrain) -> None:
    n = len(table)
    if n == 0:
        return
    height = table["height"].to_numpy(np.float64).copy()
    src = table["height_source"].astype(str).to_numpy(dtype=object).copy()
    p90 = np.full(n, np.nan)
    if hm is not None:
        vals, cnt = K.percentile_by_label(ids.ravel(), hm.ravel(), n, q=90.0)
        p90 = vals[1:]
        cnt = cnt[1:]
        credible = (cnt >= 2) & (p90 > 1.0)
        p90 = np.where(credible, p90, np.nan)
        known = np.isfinite(height) & np.isfinite(p90)
        if known.any():
            d = height[known] - p90[known]
            report.quality["own height vs LiDAR p90"] = (f"median {np.median(d):+.2f} m, median |diff| {np.median(np.abs(d)):.2f} m "
                                                        f"over {int(known.sum())} buildings, {int((np.abs(d) > 5).sum())} differ by > 5 m")
        use = ~np.isfinite(height) & np.isfinite(p90)
        height[use] = p90[use]
        src[use] = "lidar:p90"
    floors = table["floors"].to_numpy(np.float64)
    use = ~np.isfinite(height) & (floors > 0)
    height[use] = floors[use] * storey_height
    src[use] = f"floors*{storey_height:g}m"
    use = ~np.isfinite(height)
    if use.any():
        light = table["light"].to_numpy(bool) if "light" in table else np.zeros(n, bool)
        h_light = min(2.5, default_height)
        height[use & light] = h_light
        src[use & light] = f"default-light:{h_light:g}m"
        height[use & ~light] = default_height
        src[use & ~light] = f"default:{default_height:g}m"
        report.warnings.append(f"{int(use.sum())} buildings have no height from their source, LiDAR or floors: "
                               f"default {default_height:g} m ({h_light:g} m for light constructions)")
    table["height"] = height.astype(np.float32)
    table["height_source"] = src
    # ground altitude from the terrain when the source gave none
    gz = table["ground_z"].to_numpy(np.float64).copy()
    need = ~np.isfinite(gz)
    if need.any() and not flat_terrain and np.isfinite(terrain).any():
        med, _ = K.percentile_by_label(ids.ravel(), terrain.ravel(), n, q=50.0)
        gz[need] = med[1:][need]
        table["ground_z"] = gz.astype(np.float32)
    rh = table["roof_height"].to_numpy(np.float64)
    bad = np.isfinite(rh) & (rh < height)
    if bad.any():
        rh[bad] = height[bad]
        table["roof_height"] = rh.astype(np.float32)


def _surfaces_table(models, table, grid: Grid):
    """The building_surfaces table of the kept buildings (building_id from external_id)."""
    frames = [m.surfaces for m in models if len(m.surfaces)]
    if not frames or len(table) == 0:
        return None
    s = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=frames[0].crs)
    if not same_crs(s.crs, grid.crs):
        s = s.to_crs(grid.crs)
    rank0 = table[table["_rank"] == 0]
    lookup = dict(zip(rank0["external_id"].astype(str), rank0["id"].astype(np.int32)))
    bid = s["external_id"].astype(str).map(lookup)
    s = s[bid.notna()].copy()
    s["building_id"] = bid[bid.notna()].astype(np.int32)
    return conform("building_surfaces", s, crs=grid.crs)


def _apply_roofs(grid: Grid, surfaces, table, bid: np.ndarray, bh: np.ndarray) -> int:
    """Per-cell roof heights from LoD2 roof planes: roof z at the cell centre minus the building's ground."""
    roofs = surfaces[(surfaces["surface"] == "roof") & (surfaces["lod"] >= 2)] if "lod" in surfaces else surfaces[surfaces["surface"] == "roof"]
    if len(roofs) == 0:
        return 0
    ground = dict(zip(table["id"].astype(np.int64), table["ground_z"].astype(np.float64)))
    geoms = roofs.geometry.values
    coords = [shapely.get_coordinates(shapely.get_exterior_ring(g), include_z=True) for g in geoms]
    planes = []
    for c in coords:
        if c.shape[1] < 3 or not np.isfinite(c[:, 2]).all():
            planes.append(None)
            continue
        r = c - c[0]
        x, y, z = r[:, 0], r[:, 1], r[:, 2]
        xn, yn, zn = np.roll(x, -1), np.roll(y, -1), np.roll(z, -1)
        n = np.array([((y - yn) * (z + zn)).sum(), ((z - zn) * (x + xn)).sum(), ((x - xn) * (y + yn)).sum()])
        norm = np.linalg.norm(n)
        if norm == 0 or abs(n[2]) < 0.1 * norm:
            planes.append(None)
            continue
        cen = c.mean(axis=0)
        planes.append((n, cen))
    order = np.argsort([np.nanmax(c[:, 2]) if c.shape[1] == 3 else -np.inf for c in coords])
    shapes = [(shapely.force_2d(geoms[i]), int(i) + 1) for i in order if planes[i] is not None]
    if not shapes:
        return 0
    idx = features.rasterize(shapes, out_shape=grid.shape, transform=grid.transform, fill=0, all_touched=False, dtype="int32")
    rows, cols = np.nonzero(idx)
    if rows.size == 0:
        return 0
    xs, ys = grid.xy(rows, cols)
    k = idx[rows, cols] - 1
    owner = roofs["building_id"].to_numpy(np.int64)[k]
    ok = owner == bid[rows, cols]
    count = 0
    nz = np.array([planes[i][0][2] if planes[i] is not None else np.nan for i in range(len(planes))])
    nx = np.array([planes[i][0][0] if planes[i] is not None else np.nan for i in range(len(planes))])
    ny = np.array([planes[i][0][1] if planes[i] is not None else np.nan for i in range(len(planes))])
    cx = np.array([planes[i][1][0] if planes[i] is not None else np.nan for i in range(len(planes))])
    cy = np.array([planes[i][1][1] if planes[i] is not None else np.nan for i in range(len(planes))])
    cz = np.array([planes[i][1][2] if planes[i] is not None else np.nan for i in range(len(planes))])
    zroof = cz[k] - (nx[k] * (xs - cx[k]) + ny[k] * (ys - cy[k])) / nz[k]
    g = np.array([ground.get(int(o), np.nan) for o in owner])
    h = zroof - g
    ok &= np.isfinite(h) & (h > 0.1)
    bh[rows[ok], cols[ok]] = h[ok].astype(np.float32)
    count = int(ok.sum())
    return count
