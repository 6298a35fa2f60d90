"""Importers: each turns a source format into twin layers and tables; the demo town is one more source.

One module per source format, each with a thin reader that checks its file up front and says what it
assumed (``.notes``), and one fusion:

* :mod:`importers.rasters` - GeoTIFF / ESRI ASCII elevation rasters (LiDAR HD MNT/MNS/MNH, RGE ALTI):
  :func:`~importers.rasters.open_raster`, :func:`~importers.rasters.resample_to_grid`
* :mod:`importers.pointcloud` - LAS/LAZ/COPC: :func:`~importers.pointcloud.open_pointcloud`,
  :func:`~importers.pointcloud.rasterize_pointcloud`
* :mod:`importers.bdtopo` - BD TOPO BATIMENT: :func:`~importers.bdtopo.read_bdtopo`
* :mod:`importers.roads` - BD TOPO TRONCON_DE_ROUTE: :func:`~importers.roads.read_roads`,
  :func:`~importers.roads.road_surfaces`
* :mod:`importers.water` - BD TOPO SURFACE_HYDROGRAPHIQUE / PLAN_D_EAU: :func:`~importers.water.read_water`
* :mod:`importers.cadastre` - Etalab cadastre: :func:`~importers.cadastre.read_cadastre`
* :mod:`importers.citygml` - CityGML 1.0/2.0/3.0, streamed: :func:`~importers.citygml.read_citygml`,
  :class:`~importers.citygml.CityGMLStream`
* :mod:`importers.cityjson` - CityJSON and CityJSONSeq: :func:`~importers.cityjson.read_cityjson`
* :mod:`importers.build` - the fusion: :func:`~importers.build.build_twin` -> ``(Twin, BuildReport)``

Also here, from their own areas: :mod:`importers.demo` (the generated demo town), :mod:`importers.weather`
(EPW/CSV weather), :mod:`importers.luminaires` (public-lighting inventories).

See ``docs/importers.md``. Modules are imported on demand: ``import importers`` stays light.
"""
