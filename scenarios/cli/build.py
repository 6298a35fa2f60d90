"""Build a twin from real data: LiDAR HD rasters or point clouds, RGE ALTI, BD TOPO (buildings, roads, water),
the Etalab cadastre, CityGML, CityJSON. Any sensible subset works; the command ends with a report of the sources used, the
counts, the repairs and what is missing.

Inputs that declare no CRS (ESRI ASCII grids, shapefiles without .prj, CityGML without srsName,
CityJSON without referenceSystem) take --source-crs; when it is not given but --crs is, they are
assumed to be in --crs (a note says so). Nothing is written at --out unless the build succeeds.

Example: twin build --terrain LHD_*_MNT_*.tif --pointcloud LHD_*.copc.laz --buildings BATIMENT.gpkg
--cadastre cadastre-91216-parcelles.json --roads TRONCON_DE_ROUTE.gpkg --water SURFACE_HYDROGRAPHIQUE.gpkg
--out town.twin
"""

from __future__ import annotations

import json
from pathlib import Path

from scenarios.cli.options import add_out, add_overwrite

HELP = "build a twin from LiDAR, RGE ALTI, BD TOPO (buildings, roads, water), cadastre, CityGML or CityJSON files"


def add_arguments(parser) -> None:
    g = parser.add_argument_group("inputs (each option takes one or more files and may repeat)")
    for opt, what in (
        ("--terrain", "terrain rasters: LiDAR HD MNT, RGE ALTI (.tif, .asc)"),
        ("--surface", "surface rasters: LiDAR HD MNS"),
        ("--height", "height-above-ground rasters: LiDAR HD MNH"),
        ("--pointcloud", "classified point clouds (.las, .laz, .copc.laz)"),
        ("--buildings", "BD TOPO BATIMENT layers (.gpkg, .shp, .geojson)"),
        ("--cadastre", "Etalab cadastre parcels or buildings (.json, .json.gz)"),
        ("--citygml", "CityGML 1.0/2.0/3.0 files (.gml, .xml)"),
        ("--cityjson", "CityJSON or CityJSONSeq files (.json, .jsonl)"),
        ("--roads", "BD TOPO TRONCON_DE_ROUTE layers (.gpkg, .shp, .geojson): roads table and road land cover"),
        ("--water", "BD TOPO SURFACE_HYDROGRAPHIQUE / PLAN_D_EAU layers: water land cover and levels"),
    ):
        g.add_argument(opt, nargs="+", action="extend", default=[], metavar="F", help=what)
    parser.add_argument("--extent", metavar="XMIN,YMIN,XMAX,YMAX", help="extent in the twin CRS (default: the inputs')")
    parser.add_argument("--resolution", type=float, default=1.0, metavar="M", help="cell size in metres (default: 1)")
    parser.add_argument("--crs", default=None, help="CRS of the twin (default: EPSG:2154, Lambert-93)")
    parser.add_argument("--source-crs", default=None, metavar="CRS", help="CRS of inputs that declare none")
    parser.add_argument("--storey-height", type=float, default=3.0, metavar="M", help="storey height for heights from floors (default: 3)")
    parser.add_argument("--default-height", type=float, default=6.0, metavar="M", help="height of buildings nothing informs (default: 6)")
    parser.add_argument("--name", default=None, help="name of the twin (default: the output's name)")
    parser.add_argument("--report", metavar="FILE", help="also write the report as JSON")
    add_out(parser, help="the twin directory to write (e.g. town.twin)")
    add_overwrite(parser)


def run(args) -> int:
    from importers.build import build_twin, parse_extent
    from twin.errors import TwinExistsError
    from twin.io import atomic_output, save
    from twin.progress import status

    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise TwinExistsError(f"{out}: exists (use --overwrite to replace it)")
    extent = parse_extent(args.extent) if args.extent else None
    crs = args.crs or "EPSG:2154"
    source_crs = args.source_crs
    implied = False
    if source_crs is None and args.crs is not None:
        source_crs, implied = args.crs, True
    status("building the twin")
    twin, report = build_twin(
        terrain=args.terrain, surface=args.surface, height=args.height, pointcloud=args.pointcloud,
        buildings=args.buildings, cadastre=args.cadastre, citygml=args.citygml, cityjson=args.cityjson,
        roads=args.roads, water=args.water, extent=extent, resolution=args.resolution, crs=crs, source_crs=source_crs,
        storey_height=args.storey_height, default_height=args.default_height, name=args.name or out.stem,
    )
    if implied and any("assumed" in n for n in report.notes):
        report.notes.append(f"inputs without a CRS were assumed to be in --crs {crs} (no --source-crs given)")
    save(twin, out, overwrite=args.overwrite)
    print(report.format())
    assumed = [n for n in report.notes if "assumed" in n or "CRS set" in n]
    for n in assumed[:5]:
        print(f"note      {n}")
    print(f"saved     {out}")
    if args.report:
        with atomic_output(args.report) as tmp:
            tmp.write_text(json.dumps(report.to_dict(), indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return 0
