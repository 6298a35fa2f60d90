"""The twin: raster layers on a grid (an ``xarray.Dataset``), tables and provenance.

The layers follow the CF conventions the way GDAL, QGIS and rioxarray read them:
``x`` and ``y`` cell-centre coordinates in metres, and a scalar ``spatial_ref``
coordinate that carries the CRS (``crs_wkt``, ``spatial_ref``) and the GDAL
``GeoTransform``; every layer points to it through its ``grid_mapping``
attribute. The CRS thus lives once, in a coordinate, which xarray keeps through
arithmetic and selections.

``ds.twin`` (an accessor) answers grid questions about any such Dataset or
DataArray; :class:`Twin` bundles the Dataset with the tables and provenance and
is what importers return, models read and ``save`` writes.
"""

from __future__ import annotations

import copy as _copy
from collections.abc import Iterable, Mapping

import geopandas as gpd
import numpy as np
import xarray as xr

from twin import tables as _tables
from twin.errors import TwinValueError
from twin.grid import Grid
from twin.layers import LAYERS, layer_spec

__all__ = ["Twin", "spatial_ref_coord", "layer_dataarray", "dataset_from_grid", "grid_of"]


def spatial_ref_coord(grid: Grid) -> xr.DataArray:
    """The scalar ``spatial_ref`` coordinate of a grid (CF grid mapping + GDAL attributes)."""
    crs = grid.pyproj_crs
    attrs = dict(crs.to_cf())
    wkt = crs.to_wkt()
    attrs["crs_wkt"] = wkt
    attrs["spatial_ref"] = wkt
    t = grid.transform
    attrs["GeoTransform"] = " ".join(repr(float(v)) for v in (t.c, t.a, t.b, t.f, t.d, t.e))
    return xr.DataArray(np.int32(0), attrs=attrs)


def _xy_coords(grid: Grid) -> dict[str, xr.DataArray]:
    x = xr.DataArray(
        grid.x, dims=("x",),
        attrs={"standard_name": "projection_x_coordinate", "long_name": "x coordinate of projection", "units": "m", "axis": "X"},
    )
    y = xr.DataArray(
        grid.y, dims=("y",),
        attrs={"standard_name": "projection_y_coordinate", "long_name": "y coordinate of projection", "units": "m", "axis": "Y"},
    )
    return {"x": x, "y": y}


def dataset_from_grid(grid: Grid, *, attrs: Mapping | None = None) -> xr.Dataset:
    """An empty Dataset with the grid's coordinates and CRS."""
    coords = _xy_coords(grid)
    coords["spatial_ref"] = spatial_ref_coord(grid)
    ds = xr.Dataset(coords=coords, attrs=dict(attrs or {}))
    ds.attrs.setdefault("Conventions", "CF-1.8")
    ds.attrs["cell_size"] = grid.cell_size
    return ds


def layer_dataarray(grid: Grid, name: str, values, *, units: str | None = None, long_name: str | None = None, **attrs) -> xr.DataArray:
    """Wrap a ``(nrows, ncols)`` array as a twin layer with units and grid mapping.

    Layers of the glossary take their dtype, units and long name from it; other
    layers must give ``units``.

    Raises
    ------
    TwinValueError
        If the shape does not match the grid, or units are missing or contradict the glossary.
    """
    arr = np.asarray(values)
    if arr.shape != grid.shape:
        raise TwinValueError(f"layer {name!r}: shape {arr.shape} does not match the grid {grid.shape}")
    spec = layer_spec(name)
    if spec is not None:
        if units is not None and units != spec.units:
            raise TwinValueError(f"layer {name!r}: units {units!r} contradict the glossary ({spec.units!r})")
        arr = arr.astype(spec.dtype, copy=False)
        units = spec.units
        long_name = long_name or spec.long_name
    elif units is None:
        raise TwinValueError(f"layer {name!r} is not in the glossary: give its units")
    a = dict(attrs)
    a["units"] = units
    if long_name:
        a["long_name"] = long_name
    a["grid_mapping"] = "spatial_ref"
    return xr.DataArray(arr, dims=("y", "x"), attrs=a, name=name)


def grid_of(obj: xr.Dataset | xr.DataArray) -> Grid:
    """The :class:`Grid` of a twin Dataset or DataArray, from its coordinates and ``spatial_ref``.

    Raises
    ------
    TwinValueError
        If the object lacks x/y coordinates or a CRS, or its coordinates are not a regular north-up grid.
    """
    if "x" not in obj.coords or "y" not in obj.coords:
        raise TwinValueError("not a twin raster: no x/y coordinates")
    if "spatial_ref" not in obj.coords:
        raise TwinValueError("not a twin raster: no spatial_ref coordinate (CRS)")
    x = np.asarray(obj.coords["x"].values, dtype=np.float64)
    y = np.asarray(obj.coords["y"].values, dtype=np.float64)
    sr = obj.coords["spatial_ref"].attrs
    crs = sr.get("crs_wkt") or sr.get("spatial_ref")
    gt = sr.get("GeoTransform")
    if gt:
        c, a, _, f, _, e = (float(v) for v in gt.split())
        cs = a
        xmin, ymax = c, f
        if abs(a + e) > 1e-9 * a:
            raise TwinValueError("not a twin raster: cells are not square")
        # a selection keeps the attribute of the parent: trust the coordinates for the origin
        if len(x):
            xmin = x[0] - cs / 2
        if len(y):
            ymax = y[0] + cs / 2
    else:
        if len(x) < 2 or len(y) < 2:
            raise TwinValueError("not a twin raster: cannot infer the cell size from one coordinate")
        cs = float(x[1] - x[0])
        xmin, ymax = x[0] - cs / 2, y[0] + cs / 2
    return Grid(xmin=round(xmin / cs) * cs, ymax=round(ymax / cs) * cs, nrows=len(y), ncols=len(x), cell_size=cs, crs=crs)


@xr.register_dataset_accessor("twin")
@xr.register_dataarray_accessor("twin")
class TwinAccessor:
    """``ds.twin``: grid facts about a twin raster. Holds no state beyond the object."""

    def __init__(self, obj):
        self._obj = obj

    @property
    def grid(self) -> Grid:
        return grid_of(self._obj)

    @property
    def crs(self) -> str:
        return self.grid.crs

    @property
    def transform(self):
        return self.grid.transform

    @property
    def units(self) -> dict[str, str] | str:
        if isinstance(self._obj, xr.DataArray):
            return self._obj.attrs.get("units", "")
        return {k: v.attrs.get("units", "") for k, v in self._obj.data_vars.items()}


_TABLE_NAMES = ("buildings", "luminaires", "roads", "parcels", "trees", "building_surfaces")


class Twin:
    """A digital twin: layers on a grid, tables, and provenance.

    Parameters
    ----------
    layers : xarray.Dataset
        Raster layers with CF coordinates (see :func:`dataset_from_grid`).
    tables : mapping of str to GeoDataFrame, optional
        Tables by name; glossary tables are checked with :func:`twin.tables.conform`.
    meta : mapping, optional
        ``name``, ``description``, ``provenance`` (a list of records: what made or
        changed the twin, from which sources) and anything else JSON can hold.

    Examples
    --------
    >>> from twin import Grid, Twin
    >>> t = Twin.empty(Grid.from_bounds(0, 0, 100, 50))
    >>> t.grid.shape
    (50, 100)
    """

    def __init__(self, layers: xr.Dataset, tables: Mapping[str, gpd.GeoDataFrame] | None = None, meta: Mapping | None = None):
        if not isinstance(layers, xr.Dataset):
            raise TwinValueError("layers must be an xarray.Dataset")
        self.grid: Grid = grid_of(layers)
        for name, da in layers.data_vars.items():
            if da.dims != ("y", "x"):
                raise TwinValueError(f"layer {name!r} has dims {da.dims}; twin layers are ('y', 'x')")
            if "units" not in da.attrs:
                raise TwinValueError(f"layer {name!r} has no units attribute")
            spec = layer_spec(name)
            if spec is not None and da.dtype != spec.np_dtype:
                raise TwinValueError(f"layer {name!r} has dtype {da.dtype}, the glossary says {spec.dtype}")
        self.layers = layers
        self.tables: dict[str, gpd.GeoDataFrame] = {}
        for name, table in (tables or {}).items():
            self.tables[name] = _tables.conform(name, table, crs=self.grid.crs)
        self.meta: dict = _copy.deepcopy(dict(meta or {}))
        self.meta.setdefault("name", "twin")
        self.meta.setdefault("provenance", [])

    # -- construction ----------------------------------------------------------------
    @classmethod
    def empty(cls, grid: Grid, *, terrain: float | np.ndarray = 0.0, name: str = "twin") -> Twin:
        """A bare twin: flat (or given) terrain, no buildings, no vegetation, unknown land cover."""
        ds = dataset_from_grid(grid)
        t = np.broadcast_to(np.asarray(terrain, dtype=np.float32), grid.shape).copy()
        ds["terrain"] = layer_dataarray(grid, "terrain", t)
        ds["surface"] = layer_dataarray(grid, "surface", t.copy())
        for name_ in ("building_id", "building_height", "canopy_height", "landcover"):
            spec = LAYERS[name_]
            ds[name_] = layer_dataarray(grid, name_, np.full(grid.shape, spec.fill, dtype=spec.dtype))
        return cls(ds, meta={"name": name})

    # -- access ------------------------------------------------------------------------
    def __getitem__(self, name: str) -> xr.DataArray:
        try:
            return self.layers[name]
        except KeyError:
            raise KeyError(f"the twin has no layer {name!r}; it has {', '.join(self.layers.data_vars)}") from None

    def __contains__(self, name: str) -> bool:
        return name in self.layers.data_vars

    def array(self, name: str) -> np.ndarray:
        """The NumPy array of a layer (no copy)."""
        return self[name].values

    def table(self, name: str) -> gpd.GeoDataFrame:
        """A table by name; glossary tables the twin lacks come back empty and well typed."""
        if name in self.tables:
            return self.tables[name]
        if name in _tables.TABLES:
            return _tables.empty(name, self.grid.crs)
        raise KeyError(f"the twin has no table {name!r}; it has {', '.join(self.tables) or 'none'}")

    @property
    def buildings(self) -> gpd.GeoDataFrame:
        return self.table("buildings")

    @property
    def luminaires(self) -> gpd.GeoDataFrame:
        return self.table("luminaires")

    @property
    def roads(self) -> gpd.GeoDataFrame:
        return self.table("roads")

    @property
    def parcels(self) -> gpd.GeoDataFrame:
        return self.table("parcels")

    @property
    def trees(self) -> gpd.GeoDataFrame:
        return self.table("trees")

    @property
    def name(self) -> str:
        return self.meta.get("name", "twin")

    @property
    def local_origin(self) -> tuple[float, float]:
        """A round local origin (south-west corner) for meshes and rendering, so float32 does not jitter."""
        return (self.grid.xmin, self.grid.ymin)

    # -- modification (new objects or explicit setters) -----------------------------------
    def set_layer(self, name: str, values, *, units: str | None = None, long_name: str | None = None, **attrs) -> None:
        """Add or replace a layer in place (glossary layers take their units from the glossary)."""
        self.layers[name] = layer_dataarray(self.grid, name, values, units=units, long_name=long_name, **attrs)

    def set_table(self, name: str, table: gpd.GeoDataFrame) -> None:
        """Add or replace a table in place (checked against the glossary)."""
        self.tables[name] = _tables.conform(name, table, crs=self.grid.crs)

    def add_provenance(self, step: str, **record) -> None:
        """Record what made or changed the twin (kept in ``meta['provenance']`` and saved).

        The time is UTC, or ``SOURCE_DATE_EPOCH`` when that is set (see :func:`twin.io.now_iso`).
        """
        from twin.io import now_iso

        entry = {"step": step, "time": now_iso()}
        entry.update(record)
        self.meta["provenance"].append(entry)

    def copy(self, deep: bool = True) -> Twin:
        """A copy of the twin.

        With ``deep=True`` (the default) nothing is shared, so changes never reach the original.
        With ``deep=False`` the copy shares the arrays and table objects but has its own Dataset,
        table dict and meta: layers and tables added or replaced on it (``set_layer``,
        ``set_table``) leave the original as it is; writing *into* a shared array does not.
        The parts were checked when they were set, so they are not checked (or copied) again.
        """
        out = Twin.__new__(Twin)
        out.grid = self.grid
        out.layers = self.layers.copy(deep=deep)
        out.tables = {k: (v.copy(deep=True) if deep else v) for k, v in self.tables.items()}
        out.meta = _copy.deepcopy(self.meta)
        return out

    def window(self, window) -> Twin:
        """The part of the twin inside a :class:`~twin.grid.Window` (layers clipped; tables kept whole)."""
        sub = self.grid.subgrid(window)
        rows, cols = window.slices
        ds = self.layers.isel(y=rows, x=cols)
        ds = ds.assign_coords(spatial_ref=spatial_ref_coord(sub))
        return Twin(ds, self.tables, self.meta)

    def crop(self, xmin: float, ymin: float, xmax: float, ymax: float) -> Twin:
        """The part of the twin over a world extent: layers on the cells that cover it, tables cut to match.

        A smaller study area (a district, a floodplain) runs a model in a fraction of the time.
        The extent is snapped outward to whole cells (:meth:`Grid.window`) and clipped to the grid.
        Table rows are kept when their geometry intersects the new grid's extent:

        - points (luminaires, trees) inside it;
        - lines (roads) cut to it, so that lengths count what lies inside;
        - polygons (buildings, parcels) kept whole (areas, floors and residents stay those of the
          whole building); every building of the cropped ``building_id`` layer is kept;
        - ``building_surfaces`` follow the buildings kept (by ``building_id``).

        Returns
        -------
        Twin
            A new twin (arrays copied); the crop is recorded in its provenance.

        Raises
        ------
        TwinValueError
            If the extent is empty or does not overlap the grid.
        """
        import shapely

        if not (xmax > xmin and ymax > ymin):
            raise TwinValueError(f"crop: empty extent ({xmin}, {ymin}, {xmax}, {ymax})")
        w = self.grid.window(xmin, ymin, xmax, ymax)
        if w.height == 0 or w.width == 0:
            raise TwinValueError(f"crop: the extent ({xmin}, {ymin}, {xmax}, {ymax}) does not overlap the twin "
                                 f"{tuple(self.grid.bounds)}")
        sub = self.window(w).copy(deep=True)
        box_bounds = sub.grid.bounds
        box = shapely.box(*box_bounds)
        tables = {}
        kept_ids = None
        if "buildings" in self.tables:
            b = self.tables["buildings"]
            in_layer = np.unique(sub.array("building_id")) if "building_id" in sub else np.zeros(0)
            keep = shapely.intersects(b.geometry.values, box) | b["id"].isin(in_layer[in_layer > 0]).to_numpy()
            tables["buildings"] = b[keep]
            kept_ids = set(b.loc[keep, "id"].tolist())
        for name, t in self.tables.items():
            if name == "buildings":
                continue
            if name == "building_surfaces" and kept_ids is not None and "building_id" in t.columns:
                tables[name] = t[t["building_id"].isin(kept_ids)]
                continue
            if len(t) == 0:
                tables[name] = t
                continue
            geoms = t.geometry.values
            hit = shapely.intersects(geoms, box)
            points = shapely.get_type_id(geoms) == 0
            if points.any():  # the grid's own rule: west and north edges in, east and south edges out
                hit[points] = sub.grid.contains(shapely.get_x(geoms[points]), shapely.get_y(geoms[points]))
            lines = np.isin(shapely.get_type_id(geoms), (1, 2, 5))  # LineString, LinearRing, MultiLineString
            out = t[hit].copy()
            cut = lines[hit]
            if cut.any():
                g = out.geometry.values.copy()
                g[cut] = shapely.clip_by_rect(g[cut], *box_bounds)
                out = out.set_geometry(gpd.GeoSeries(g, index=out.index, crs=t.crs))
                out = out[~shapely.is_empty(out.geometry.values)]
            tables[name] = out.reset_index(drop=True)
        tables = {k: v.reset_index(drop=True) for k, v in tables.items()}
        out = Twin(sub.layers, tables, sub.meta)
        out.add_provenance("crop", extent=[float(v) for v in box_bounds], from_extent=[float(v) for v in self.grid.bounds],
                           rows={k: len(v) for k, v in tables.items()})
        return out

    # -- persistence ---------------------------------------------------------------------
    def save(self, path, *, overwrite: bool = False) -> None:
        """Write the twin to a directory of open formats; see :func:`twin.io.save`."""
        from twin.io import save

        save(self, path, overwrite=overwrite)

    @classmethod
    def open(cls, path, *, window=None, bounds=None) -> Twin:
        """Read a twin written by :meth:`save`, whole or only a part of it.

        Whole (:func:`twin.io.open_twin`): every file's SHA-256 is checked. With a
        ``window`` (:class:`~twin.grid.Window` of the saved grid) or ``bounds``
        (``xmin, ymin, xmax, ymax`` [m], snapped outward to cells), only that part of
        each layer and the table rows that touch it are read (:func:`twin.io.open_window`,
        which says what a partial read verifies: sizes, not checksums).
        """
        from twin.io import open_twin, open_window

        if window is None and bounds is None:
            return open_twin(path)
        return open_window(path, window, bounds=bounds)

    # -- description -----------------------------------------------------------------------
    def summary(self) -> dict:
        """A JSON-ready description: extent, CRS, cell size, layers with units and ranges, tables, provenance."""
        g = self.grid
        layers = {}
        for name, da in self.layers.data_vars.items():
            v = da.values
            if v.dtype.kind == "f":
                finite = v[np.isfinite(v)]
            else:
                finite = v
            layers[name] = {
                "dtype": str(v.dtype),
                "units": da.attrs.get("units", ""),
                "long_name": da.attrs.get("long_name", ""),
                "min": _py(finite.min()) if finite.size else None,
                "max": _py(finite.max()) if finite.size else None,
                "nodata_cells": int(v.size - finite.size),
            }
        return {
            "name": self.name,
            "description": self.meta.get("description", ""),
            "crs": g.crs,
            "cell_size": g.cell_size,
            "shape": list(g.shape),
            "bounds": list(g.bounds),
            "area_km2": g.size * g.cell_area / 1e6,
            "bytes_per_cell": int(sum(da.dtype.itemsize for da in self.layers.data_vars.values())),
            "layers": layers,
            "tables": {name: int(len(t)) for name, t in sorted(self.tables.items())},
            "provenance": self.meta.get("provenance", []),
        }

    def __repr__(self) -> str:
        tables = ", ".join(f"{k}={len(v)}" for k, v in self.tables.items()) or "no tables"
        return f"<Twin {self.name!r}: {self.grid}; layers {', '.join(self.layers.data_vars)}; {tables}>"


def _py(v):
    v = v.item() if hasattr(v, "item") else v
    return round(v, 4) if isinstance(v, float) else v


def require_layers(twin: Twin, names: Iterable[str]) -> None:
    """Raise a clear error when a twin lacks layers a computation needs."""
    missing = [n for n in names if n not in twin]
    if missing:
        raise TwinValueError(f"the twin lacks the layer(s) {', '.join(missing)}")

