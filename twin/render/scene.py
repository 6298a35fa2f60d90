"""The scene builder and the pictures: :class:`Scene`, :func:`render_twin`, :func:`side_by_side`, :func:`animate`.

A :class:`Scene` reads a twin and collects what to draw: the base (terrain,
buildings, trees, water) and results (rasters draped on the ground, buildings
coloured by a value, lights, lines). Nothing is rendered until a picture is asked
for; colours and legends are then computed once, so that several scenes can share
one colour scale (:func:`side_by_side`) and an animation reuses its base scene.

Example
-------
>>> from twin.render import Scene, render_twin, UTCI_CLASSES
>>> render_twin(twin, "overview.png", title="Our town", lang="fr")           # doctest: +SKIP
>>> (Scene.of(twin)
...     .drape(depth, label="Water depth", units="m", cmap="Blues", clim=(0, 1.5), as_water=True)
...     .colour_buildings(flooded, classes=EXPOSURE_CLASSES)
...     .screenshot("flood.png", title="Thunderstorm 60 mm/h"))               # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")

from PIL import Image  # noqa: E402

from twin.core import Twin  # noqa: E402
from twin.errors import TwinValueError  # noqa: E402
from twin.io import atomic_output  # noqa: E402
from twin.layers import LANDCOVER_INFO, Landcover  # noqa: E402
from twin.render import camera as _camera  # noqa: E402
from twin.render import meshes as _meshes  # noqa: E402
from twin.render import overlay as _ov  # noqa: E402
from twin.render.labels import check_lang, pick, text  # noqa: E402
from twin.render.palettes import (  # noqa: E402
    BUILDING_STYLE, NIGHT_STYLE, Classes, cct_rgb, colormap_rgb, hex_rgb, landcover_rgb, mapping_values, use_group,
)

__all__ = ["Scene", "render_twin", "side_by_side", "animate", "VIEWS"]

VIEWS = _camera.VIEWS
_DAY_BACKGROUND = ((236, 241, 246), (178, 204, 230))  # bottom, top


@dataclass
class _Drape:
    values: np.ndarray
    label: object
    units: str
    cmap: str
    clim: tuple[float, float] | None
    classes: Classes | None
    opacity: float
    z: np.ndarray | None
    offset: float
    step: int | None
    mask: np.ndarray | None
    as_water: bool
    legend: bool
    night_glow: bool = False

    def value_range(self) -> tuple[float, float] | None:
        v = self.values[self._valid()]
        if v.size == 0:
            return None
        return float(np.min(v)), float(np.max(v))

    def _valid(self) -> np.ndarray:
        ok = np.isfinite(self.values)
        if self.mask is not None:
            ok &= self.mask
        return ok


@dataclass
class _BuildingColours:
    values: object
    label: object
    units: str
    cmap: str
    clim: tuple[float, float] | None
    classes: Classes | None
    legend: bool

    def value_range(self) -> tuple[float, float] | None:
        if self.classes is not None:
            return None
        vals = self.values.to_dict() if hasattr(self.values, "to_dict") else dict(self.values)
        v = np.array([float(x) for x in vals.values() if x is not None and np.isfinite(float(x))])
        if v.size == 0:
            return None
        return float(v.min()), float(v.max())


@dataclass
class _Lights:
    x: np.ndarray
    y: np.ndarray
    height: np.ndarray
    rgb: np.ndarray
    label: object
    size: float


@dataclass
class _Lines:
    segments: list[np.ndarray]
    rgb: tuple[int, int, int]
    width: float
    label: object
    height: float


@dataclass
class _Rendered:
    image: np.ndarray
    px_per_m: float | None
    north_angle: float | None
    approx: bool


class Scene:
    """What to draw of a twin; pictures and exports are made from it.

    Parameters
    ----------
    twin : Twin
        Read only: the scene never modifies it.
    lang : {"en", "fr"}
        Language of labels.
    night : bool
        A night scene: dark ground and buildings, a night sky, for lights and illuminance.

    Build a scene with the ``add_*`` methods (each returns the scene, so calls chain),
    or take the standard base with :meth:`Scene.of`. Then :meth:`render` (an RGB array),
    :meth:`screenshot` (a PNG), :meth:`export_gltf`, :meth:`export_html`.
    """

    def __init__(self, twin: Twin, *, lang: str = "en", night: bool = False):
        if not isinstance(twin, Twin):
            raise TwinValueError(f"Scene needs a Twin, got {type(twin).__name__}")
        self.twin = twin
        self.lang = check_lang(lang)
        self.night = bool(night)
        self.grid = twin.grid
        self._terrain: dict | None = None
        self._buildings = False
        self._trees = False
        self._water: dict | None = None
        self._drapes: list[_Drape] = []
        self._bcolours: _BuildingColours | None = None
        self._lights: list[_Lights] = []
        self._lines: list[_Lines] = []
        self._cache: dict = {}

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def of(cls, twin: Twin, *, lang: str = "en", night: bool = False, terrain: bool = True, buildings: bool = True,
           trees: bool = True, water: bool = True) -> Scene:
        """The standard base scene: terrain, buildings, trees (or the canopy), permanent water."""
        s = cls(twin, lang=lang, night=night)
        if terrain:
            s.add_terrain()
        if buildings:
            s.add_buildings()
        if trees:
            s.add_trees()
        if water:
            s.add_water()
        return s

    def add_terrain(self, *, step: int | None = None, shadows: bool = True, landcover: bool = True) -> Scene:
        """The ground: a surface mesh textured with land-cover colours, hill-shading and cast sun shadows.

        ``step`` is the mesh's block size in cells (default: keeps the mesh under 300 000 quads,
        i.e. 2 m for a 1000 x 1000 grid at 1 m); the texture keeps every cell.
        """
        self._terrain = {"step": step, "shadows": bool(shadows), "landcover": bool(landcover)}
        return self

    def add_buildings(self) -> Scene:
        """Buildings: LoD2 surfaces where the ``building_surfaces`` table has them, LoD1 blocks elsewhere."""
        self._buildings = True
        return self

    def add_trees(self) -> Scene:
        """Trees of the ``trees`` table (trunks and crowns); without one, the canopy layer as a green surface."""
        self._trees = True
        return self

    def add_water(self, *, opacity: float = 0.82) -> Scene:
        """The permanent water surface (``water_level`` layer) as a translucent blue surface."""
        self._water = {"opacity": float(opacity)}
        return self

    def drape(self, values, *, label, units: str = "", cmap: str = "viridis", clim=None, classes: Classes | None = None,
              opacity: float = 1.0, z=None, offset: float = 0.3, step: int | None = None, mask=None,
              as_water: bool = False, legend: bool = True) -> Scene:
        """Drape a result raster (grid-shaped) over the ground, coloured by value.

        Parameters
        ----------
        values : (nrows, ncols) array
            The result; NaN cells (and cells outside ``mask``) are not drawn, so the ground shows through.
        label : str or {"en", "fr"}
            What the values are, for the legend (e.g. ``{"en": "Water depth", "fr": "Hauteur d'eau"}``).
        units : str
            Units shown in the legend (``"m"``, ``"°C"``, ``"lx"``).
        cmap : str
            A Matplotlib colour map for continuous values.
        clim : (float, float), optional
            Value range of the colour map (default: the data range, or the range shared across the panels
            of :func:`side_by_side`).
        classes : Classes, optional
            Discrete classes instead of a colour map (e.g. :data:`UTCI_CLASSES`).
        opacity : float
            0 (invisible) to 1 (opaque).
        z : (nrows, ncols) array, optional
            Altitude of the draped surface [m] (default: terrain + ``offset``).
        as_water : bool
            Draw the surface at ``terrain + values`` (a water depth becomes the water surface) with a
            slight translucency.
        mask : (nrows, ncols) bool, optional
            Cells to draw.
        """
        v = self._grid_array(values, "values")
        if z is not None:
            z = self._grid_array(z, "z")
        if mask is not None:
            mask = self._grid_array(mask, "mask").astype(bool)
        if classes is None and clim is not None:
            clim = (float(clim[0]), float(clim[1]))
            if not clim[1] > clim[0]:
                raise TwinValueError(f"drape {pick(label, 'en')!r}: invalid clim {clim} (need low < high)")
        if not 0.0 <= float(opacity) <= 1.0:
            raise TwinValueError(f"drape {pick(label, 'en')!r}: invalid opacity {opacity} (0 to 1)")
        self._drapes.append(_Drape(v, label, units, cmap, clim, classes, float(opacity), z, float(offset), step, mask,
                                   bool(as_water), bool(legend), night_glow=self.night))
        return self

    def colour_buildings(self, values, *, label=None, units: str = "", cmap: str = "viridis", clim=None,
                         classes: Classes | None = None, legend: bool = True) -> Scene:
        """Colour buildings by a value per building.

        Parameters
        ----------
        values : mapping id -> value, or pandas Series indexed by building id
            Continuous numbers (with ``cmap``/``clim``), or categories with ``classes``
            (e.g. :data:`DPE_CLASSES` for letters, :data:`EXPOSURE_CLASSES` for True/False).
            Buildings without a value stay light grey.
        """
        if not (isinstance(values, Mapping) or hasattr(values, "to_dict")):
            raise TwinValueError("colour_buildings: values must be a mapping id -> value or a pandas Series")
        if classes is None and clim is not None:
            clim = (float(clim[0]), float(clim[1]))
        self._bcolours = _BuildingColours(values, label, units, cmap, clim, classes, bool(legend))
        return self

    def colour_buildings_by_class(self, values, classes: Classes, *, label=None) -> Scene:
        """Shorthand for ``colour_buildings(values, classes=classes, label=label)``."""
        return self.colour_buildings(values, classes=classes, label=label)

    def add_lights(self, x, y, *, height=8.0, cct=None, color=None, label=None, size: float = 9.0) -> Scene:
        """Points of light (luminaires) at world coordinates ``x, y`` and ``height`` [m] above the ground.

        Drawn emissive (unaffected by shading), coloured by correlated colour temperature ``cct`` [K]
        when given, else ``color`` (default warm white). ``size`` is in pixels for a picture 1000 px high.
        """
        x = np.asarray(x, float).ravel()
        y = np.asarray(y, float).ravel()
        if x.shape != y.shape:
            raise TwinValueError("add_lights: x and y differ in length")
        h = np.broadcast_to(np.asarray(height, float), x.shape).copy()
        if cct is not None:
            rgb = cct_rgb(np.broadcast_to(np.asarray(cct, float), x.shape))
        else:
            rgb = np.broadcast_to(np.array(hex_rgb(color or "#ffd89a"), np.uint8), (len(x), 3)).copy()
        self._lights.append(_Lights(x, y, h, rgb, label if label is not None else
                                    {"en": text("luminaires", "en"), "fr": text("luminaires", "fr")}, float(size)))
        return self

    def add_luminaires(self, luminaires=None, *, label=None, size: float = 9.0) -> Scene:
        """The twin's ``luminaires`` table (or a given one) as points of light coloured by their CCT."""
        lum = self.twin.luminaires if luminaires is None else luminaires
        if len(lum) == 0:
            return self
        return self.add_lights(lum.geometry.x.to_numpy(), lum.geometry.y.to_numpy(),
                               height=lum["mounting_height"].to_numpy(float), cct=lum["cct"].to_numpy(float),
                               label=label, size=size)

    def add_lines(self, geometries, *, color="#ff2d2d", width: float = 5.0, label=None, height: float = 0.8) -> Scene:
        """Lines (shapely LineStrings/MultiLineStrings in the twin's CRS, or (n, 2) coordinate arrays) draped
        ``height`` metres above the ground, e.g. road segments failing their lighting class."""
        import shapely

        segs = []
        for g in geometries:
            if g is None:
                continue
            if isinstance(g, np.ndarray):
                parts = [g]
            else:
                parts = [np.asarray(p.coords)[:, :2] for p in shapely.get_parts(g) if not p.is_empty]
            for p in parts:
                if len(p) >= 2:
                    segs.append(np.asarray(p, float)[:, :2])
        self._lines.append(_Lines(segs, hex_rgb(color), float(width), label, float(height)))
        return self

    # -- meshes ---------------------------------------------------------------------------------------
    def _grid_array(self, values, name):
        a = np.asarray(values)
        if a.shape != self.grid.shape:
            raise TwinValueError(f"{name}: shape {a.shape} does not match the twin grid {self.grid.shape}")
        return a

    @property
    def _terrain_z(self) -> np.ndarray:
        if "terrain" not in self.twin:
            return np.zeros(self.grid.shape, np.float32)
        return self.twin.array("terrain")

    def _terrain_step(self, step) -> int:
        return int(step) if step else _meshes.auto_step(self.grid)

    def _base_parts(self) -> list[_meshes.Part]:
        if "base" in self._cache:
            return self._cache["base"]
        parts = []
        g = self.grid
        tz = self._terrain_z
        if self._terrain is not None:
            step = self._terrain_step(self._terrain["step"])
            pts, quads, _, tc = _meshes.raster_surface(g, tz, step=step)
            if self._terrain["landcover"] and "landcover" in self.twin:
                lc = landcover_rgb(self.twin.array("landcover"), night=self.night)
            else:
                lc = np.broadcast_to(np.array((200, 200, 190), np.uint8), (*g.shape, 3)).copy()
            shade = _meshes.hillshade(tz, g.cell_size)
            shadow = None
            if self._terrain["shadows"] and not self.night:
                surf = self.twin.array("surface") if "surface" in self.twin else tz
                shadow = _meshes.sun_shadow(surf, g.cell_size)
            tex = _meshes.terrain_texture(lc, shade=shade, shadow=shadow)
            parts.append(_meshes.Part("terrain", "mesh", pts, quads, texture=tex, tcoords=tc))
        if self._water is not None and "water_level" in self.twin:
            wl = self.twin.array("water_level")
            if np.isfinite(wl).any():
                pts, quads, _, _ = _meshes.raster_surface(g, wl, step=self._terrain_step(None))
                rgb = np.array((28, 40, 70) if self.night else (74, 134, 196), np.uint8)
                parts.append(_meshes.Part("water", "mesh", pts, quads, cell_rgb=np.broadcast_to(rgb, (len(quads), 3)),
                                          opacity=self._water["opacity"]))
        if self._buildings:
            lod2 = _meshes.lod2_part(self.twin.tables.get("building_surfaces"), g)
            done = set()
            bl = self.twin.buildings
            uses = dict(zip(bl["id"].to_numpy(np.int64).tolist(), bl["use"].astype(str).tolist())) if len(bl) else {}
            if lod2 is not None:
                lod2.cell_rgb = _meshes.default_building_rgb(
                    lod2.cell_ids, lod2.cell_role, np.array([uses.get(int(i), "unknown") for i in lod2.cell_ids]))
                done = set(np.unique(lod2.cell_ids).tolist())
                parts.append(lod2)
            lod1 = _meshes.building_part(bl, g, tz, exclude_ids=sorted(done))
            if lod1 is not None:
                parts.append(lod1)
        if self._trees:
            tp = _meshes.tree_part(self.twin.trees, g, tz)
            if tp is not None:
                parts.append(tp)
            elif "canopy_height" in self.twin:
                ch = self.twin.array("canopy_height")
                veg = ch > 0.5
                if veg.any():
                    step = max(1, self._terrain_step(None) // 2)
                    pts, quads, (r, c), _ = _meshes.raster_surface(g, tz + ch, step=step, mask=veg)
                    k = np.clip(ch[r, c] / 20.0, 0, 1)[:, None]
                    rgb = (np.array((96, 150, 70)) * (1 - k) + np.array((40, 100, 48)) * k).astype(np.uint8)
                    parts.append(_meshes.Part("canopy", "mesh", pts, quads, cell_rgb=rgb))
        if self.night:
            for p in parts:
                if p.name.startswith("buildings"):
                    p.cell_rgb = np.where((p.cell_role == 1)[:, None], np.array(NIGHT_STYLE["roof"], np.uint8),
                                          np.array(NIGHT_STYLE["wall"], np.uint8))
                elif p.name in ("trees", "canopy"):
                    p.cell_rgb = (p.cell_rgb.astype(np.float32) * 0.25).astype(np.uint8)
        self._cache["base"] = parts
        return parts

    def _result_parts(self, clims: Mapping | None = None) -> tuple[list[_meshes.Part], list]:
        """Result parts and their legends; ``clims`` overrides colour ranges by legend key."""
        clims = clims or {}
        parts, legends = [], []
        g = self.grid
        tz = self._terrain_z
        for i, d in enumerate(self._drapes):
            valid = d._valid()
            if not valid.any():
                continue
            step = d.step or _meshes.auto_step(g, max_cells=400_000)
            if d.z is not None:
                z = d.z
            elif d.as_water:
                z = tz + np.where(valid, d.values, 0.0)
            else:
                z = tz + d.offset
            z = np.where(valid, z, np.nan)
            pts, quads, (r, c), _ = _meshes.raster_surface(g, z, step=step, mask=valid)
            vals = d.values[r, c]
            key = _legend_key(d.label, d.units)
            if d.classes is not None:
                idx = d.classes.classify(vals)
                ok = idx >= 0
                quads, idx = quads[ok], idx[ok]
                rgb = d.classes.rgb[idx]
                if d.legend:
                    present = np.unique(idx)
                    title = _title(d.label if d.label is not None else d.classes.title, d.units, self.lang)
                    legends.append(_ov.ClassLegend(title, [(tuple(d.classes.rgb[k]), d.classes.label(k, self.lang))
                                                           for k in sorted(present.tolist(), reverse=True)]))
            else:
                clim = clims.get(key) or d.clim or d.value_range()
                rgb = colormap_rgb(vals, cmap=d.cmap, clim=clim)
                if d.legend:
                    legends.append(_ov.ColourBar(_title(d.label, d.units, self.lang), d.cmap, tuple(clim)))
            opacity = d.opacity if not d.as_water else min(d.opacity, 0.9)
            parts.append(_meshes.Part(f"drape{i}", "mesh", pts, quads, cell_rgb=rgb, opacity=opacity,
                                      lighting=not d.night_glow))
        bc = self._bcolours
        if bc is not None and self._buildings:
            base = [p for p in self._base_parts() if p.name.startswith("buildings")]
            key = _legend_key(bc.label, bc.units)
            for p in base:
                found, vals = mapping_values(p.cell_ids, bc.values)
                neutral = np.array((212, 208, 200) if not self.night else (60, 62, 72), np.uint8)
                rgb = np.broadcast_to(neutral, (len(vals), 3)).copy()
                if bc.classes is not None:
                    idx = bc.classes.classify(np.where(found, vals, None))
                    has = idx >= 0
                    rgb[has] = bc.classes.rgb[idx[has]]
                else:
                    num = np.array([float(v) if f and v is not None else np.nan for v, f in zip(vals, found)])
                    has = np.isfinite(num)
                    clim = clims.get(key) or bc.clim or bc.value_range() or (0.0, 1.0)
                    rgb[has] = colormap_rgb(num[has], cmap=bc.cmap, clim=clim)
                # walls a little lighter than roofs so that volumes read
                wall = p.cell_role == 0
                rgb[wall] = (rgb[wall].astype(np.float32) * 0.8 + 255 * 0.2).astype(np.uint8)
                parts.append(replace(p, name=p.name + "_coloured", cell_rgb=rgb))
            if bc.legend:
                if bc.classes is not None:
                    all_ids = self.twin.buildings["id"].to_numpy(np.int64)
                    found, vals = mapping_values(all_ids, bc.values)
                    present = set(bc.classes.classify(np.where(found, vals, None)).tolist()) - {-1}
                    items = [(tuple(bc.classes.rgb[k]), bc.classes.label(k, self.lang)) for k in sorted(present)]
                    if (~found).any():
                        items.append(((212, 208, 200), text("no_data", self.lang)))
                    title = _title(bc.label if bc.label is not None else bc.classes.title, bc.units, self.lang)
                    legends.append(_ov.ClassLegend(title, items))
                else:
                    clim = clims.get(key) or bc.clim or bc.value_range() or (0.0, 1.0)
                    legends.append(_ov.ColourBar(_title(bc.label, bc.units, self.lang), bc.cmap, tuple(clim)))
        for li in self._lights:
            x = li.x - g.xmin
            y = li.y - g.ymin
            z = _meshes.sample_raster(g, tz, x, y) + li.height
            pts = np.stack([x, y, z], 1).astype(np.float32)
            parts.append(_meshes.Part("lights_glow", "points", pts, point_rgb=li.rgb, lighting=False,
                                      size=li.size * 2.6, opacity=0.28))
            parts.append(_meshes.Part("lights", "points", pts, point_rgb=li.rgb, lighting=False, size=li.size))
            if li.label:
                legends.append(_ov.ClassLegend("", [(tuple(int(c) for c in np.median(li.rgb, axis=0)),
                                                     pick(li.label, self.lang))]))
        for k, ln in enumerate(self._lines):
            if not ln.segments:
                continue
            pts_l, segs = [], []
            off = 0
            for s in ln.segments:
                # densify every ~5 m so that the line follows the ground
                d = np.r_[0, np.cumsum(np.hypot(*np.diff(s, axis=0).T))]
                t = np.linspace(0, d[-1], max(2, int(d[-1] / 5) + 2))
                xs = np.interp(t, d, s[:, 0]) - g.xmin
                ys = np.interp(t, d, s[:, 1]) - g.ymin
                zs = _meshes.sample_raster(g, tz, xs, ys) + ln.height
                pts_l.append(np.stack([xs, ys, zs], 1))
                n = len(xs)
                segs.append(np.stack([off + np.arange(n - 1), off + np.arange(1, n)], 1))
                off += n
            pts = np.concatenate(pts_l).astype(np.float32)
            parts.append(_meshes.Part(f"lines{k}", "lines", pts, np.concatenate(segs), lighting=False,
                                      point_rgb=np.broadcast_to(np.array(ln.rgb, np.uint8), (len(pts), 3)),
                                      size=ln.width))
            if ln.label:
                legends.append(_ov.ClassLegend("", [(ln.rgb, pick(ln.label, self.lang))]))
        return parts, legends

    def _base_legend(self) -> _ov.ClassLegend | None:
        lang = self.lang
        items = []
        bl = self.twin.buildings
        if self._buildings and len(bl) and self._bcolours is None and not self.night:
            groups = {use_group(u) for u in bl["use"].astype(str)}
            for key, lab in (("homes", "homes_shops"), ("public", "public_buildings"), ("industry", "industry")):
                if key in groups:
                    items.append((BUILDING_STYLE["roof"][key], text(lab, lang)))
        if self._trees and (len(self.twin.trees) or ("canopy_height" in self.twin and
                                                     (self.twin.array("canopy_height") > 0.5).any())):
            items.append(((94, 150, 79), text("trees" if len(self.twin.trees) else "vegetation", lang)))
        if self._terrain is not None and self._terrain["landcover"] and "landcover" in self.twin:
            lc = self.twin.array("landcover")
            counts = np.bincount(lc.ravel(), minlength=256)
            total = lc.size
            for cls, (en, fr, rgb) in LANDCOVER_INFO.items():
                if cls in (Landcover.UNKNOWN, Landcover.BUILDING):
                    continue
                if cls == Landcover.TREES and len(self.twin.trees):
                    continue
                if counts[int(cls)] >= 0.003 * total:
                    name = fr if lang == "fr" else en
                    items.append((rgb, name[:1].upper() + name[1:]))
        if not items or self.night:
            return None
        return _ov.ClassLegend("", items)

    def legend_keys(self) -> dict:
        """Continuous colour scales of the scene: ``{key: (min, max)}`` of their data (for shared scales)."""
        out = {}
        for d in self._drapes:
            if d.classes is None and d.clim is None:
                r = d.value_range()
                if r:
                    out[_legend_key(d.label, d.units)] = r
        bc = self._bcolours
        if bc is not None and bc.classes is None and bc.clim is None:
            r = bc.value_range()
            if r:
                out[_legend_key(bc.label, bc.units)] = r
        return out

    # -- pictures ------------------------------------------------------------------------------------
    def bounds(self) -> tuple[float, ...]:
        """``(xmin, xmax, ymin, ymax, zmin, zmax)`` of the scene in local coordinates."""
        g = self.grid
        tz = self._terrain_z
        zmin = float(np.nanmin(tz)) if np.isfinite(tz).any() else 0.0
        zmax = zmin
        if np.isfinite(tz).any():
            zmax = float(np.nanmax(tz))
        if "surface" in self.twin:
            s = self.twin.array("surface")
            if np.isfinite(s).any():
                zmax = max(zmax, float(np.nanmax(s)))
        return (0.0, g.ncols * g.cell_size, 0.0, g.nrows * g.cell_size, zmin, max(zmax, zmin + 1.0))

    def camera(self, view: str, aspect: float, *, at=None, look=None) -> _camera.CameraSpec:
        """The camera of a preset view (``"overview"``, ``"street"``, ``"top"``) for a picture of ``aspect``."""
        b = self.bounds()
        if view == "overview":
            return _camera.overview_camera(b, aspect)
        if view == "top":
            return _camera.top_camera(b, aspect)
        if view == "street":
            at_xy, look_xy = self._street_place(at, look)
            tz = self._terrain_z
            g = self.grid
            za = float(_meshes.sample_raster(g, tz, at_xy[0], at_xy[1]))
            zl = float(_meshes.sample_raster(g, tz, look_xy[0], look_xy[1]))
            return _camera.street_camera((at_xy[0], at_xy[1], za + _camera.EYE_HEIGHT),
                                         (look_xy[0], look_xy[1], zl + _camera.EYE_HEIGHT))
        raise TwinValueError(f"invalid view: {view!r} (expected one of {', '.join(VIEWS)})")

    def _street_place(self, at, look):
        g = self.grid
        if at is not None:
            ax, ay = (float(v) for v in at)
            if not g.contains(ax, ay):
                raise TwinValueError(f"street view: at={at} is outside the twin {g.bounds}")
            if look is None:
                look = (ax, ay + 50.0)
            lx, ly = (float(v) for v in look)
            return (ax - g.xmin, ay - g.ymin), (lx - g.xmin, ly - g.ymin)
        roads = self.twin.roads
        if len(roads):
            rank = {"boulevard": 0, "avenue": 1, "street": 2, "square": 3, "lane": 4, "path": 5}
            r = roads.assign(_rank=roads["kind"].map(rank).fillna(6), _len=-roads.geometry.length)
            best = r.sort_values(["_rank", "_len", "id"]).iloc[0].geometry
            import shapely

            line = shapely.get_parts(best)[0]
            L = line.length
            p = line.interpolate(0.5 * L)
            q = line.interpolate(min(L, 0.5 * L + 40.0))
            if q.distance(p) < 1e-6:
                q = line.interpolate(max(0.0, 0.5 * L - 40.0))
            if g.contains(p.x, p.y):
                return (p.x - g.xmin, p.y - g.ymin), (q.x - g.xmin, q.y - g.ymin)
        cx, cy = g.ncols * g.cell_size / 2, g.nrows * g.cell_size / 2
        return (cx, cy), (cx, cy + 50.0)

    def _muted_base(self) -> list[_meshes.Part]:
        """The base parts with a muted (greyer, lighter) ground, so that result colours stand out."""
        base = self._base_parts()
        if self.night or not (self._drapes or self._bcolours is not None):
            return base
        if "muted" not in self._cache:
            out = []
            for p in base:
                if p.name == "terrain" and p.texture is not None:
                    tex = p.texture.astype(np.float32)
                    grey = tex.mean(axis=2, keepdims=True)
                    muted = 0.35 * tex + 0.65 * grey
                    muted = muted * 0.8 + 255 * 0.2
                    p = replace(p, texture=np.clip(muted, 0, 255).astype(np.uint8))
                out.append(p)
            self._cache["muted"] = out
        return self._cache["muted"]

    def _render3d(self, width: int, height: int, *, view: str, at=None, look=None, clims=None,
                  extra_parts=()) -> tuple[_Rendered, list]:
        parts, legends = self._result_parts(clims)
        base = self._muted_base()
        coloured = {p.name[: -len("_coloured")] for p in parts if p.name.endswith("_coloured")}
        all_parts = [p for p in base if p.name not in coloured] + parts + list(extra_parts)
        cam = self.camera(view, width / height, at=at, look=look)
        with _Plotter(width, height, night=self.night) as pl:
            for p in all_parts:
                pl.add(p, unit=height / 1000.0)
            tz = self._terrain_z
            gz = float(np.nanmedian(tz)) if np.isfinite(tz).any() else 0.0
            img, px_per_m, north = pl.shoot(cam, ground_z=gz)
        return _Rendered(img, px_per_m if view != "street" else None, north, cam.approx_scale), legends

    def render(self, *, view: str = "overview", size=(1600, 1000), title=None, subtitle=None, caption=None,
               at=None, look=None, legend="auto", date=None, tag=None, clims=None) -> np.ndarray:
        """The picture as an RGB array ``(height, width, 3)`` uint8; see :meth:`screenshot`."""
        w, h = _size(size)
        lay = _ov.layout(w, h)
        r, legends = self._render3d(w, lay.view_height, view=view, at=at, look=look, clims=clims)
        if legend == "auto" and view == "street" and not legends:
            legend = False  # at eye level the land-cover legend hides more than it explains
        legends = self._legends(legends, legend)
        img = Image.new("RGBA", (w, h), (255, 255, 255, 255))
        img.paste(Image.fromarray(r.image), (0, lay.header))
        self._decorate(img, lay, (0, lay.header, w, lay.header + lay.view_height), r, legends, view=view,
                       title=title, subtitle=subtitle, caption=caption, date=date, tag=tag)
        return np.asarray(img.convert("RGB"))

    def screenshot(self, path, *, view: str = "overview", size=(1600, 1000), title=None, subtitle=None, caption=None,
                   at=None, look=None, legend="auto", date=None, tag=None, clims=None) -> Path:
        """Write the picture to a PNG (atomically) and return its path.

        Parameters
        ----------
        path : path-like
            The ``.png`` to write.
        view : {"overview", "street", "top"}
            Oblique bird's-eye view of the whole twin, pedestrian view at 1.7 m, or orthographic map.
        size : (int, int)
            Width and height in pixels of the whole picture (title and caption bands included).
        title, subtitle, caption : str, optional
            Title (default: the twin's name), grey subtitle on the right of the title band
            (default: the view's name), caption line at the bottom (default: place, CRS, cell size).
        at, look : (x, y), optional
            Street view: eye position and a point to look at, in the twin's CRS (default: the middle of
            the main road, looking along it).
        legend : "auto", True or False
            "auto" shows the land-cover/buildings legend on a plain scene and the results' legends otherwise.
        date : str or datetime.date, optional
            Date printed on the caption line (default: today).
        tag : str, optional
            A label in a box at the top left of the view (e.g. a time in an animation).
        """
        rgb = self.render(view=view, size=size, title=title, subtitle=subtitle, caption=caption, at=at, look=look,
                          legend=legend, date=date, tag=tag, clims=clims)
        return _write_png(rgb, path)

    def _legends(self, result_legends, legend):
        if legend is False:
            return []
        if legend == "auto" and result_legends:
            return result_legends
        base = self._base_legend()
        return ([base] if base else []) + list(result_legends)

    def _caption(self, caption, date) -> tuple[str, str]:
        lang = self.lang
        if caption is None:
            g = self.grid
            w_km = g.ncols * g.cell_size / 1000
            h_km = g.nrows * g.cell_size / 1000
            desc = self.twin.meta.get("place") or self.twin.name
            caption = f"{desc} · {w_km:g} × {h_km:g} km · {g.crs} · {g.cell_size:g} m {text('cells', lang)}"
        if date is None:
            date = _dt.date.today()
        if isinstance(date, (_dt.date, _dt.datetime)):
            date = date.strftime("%d/%m/%Y") if lang == "fr" else date.isoformat()[:10]
        return caption, f"jumeau · {date}"

    def _decorate(self, img, lay, region, r: _Rendered, legends, *, view, title, subtitle, caption, date, tag,
                  header=True, footer=True, scale=True):
        w, h = img.size
        if header and lay.header:
            if title is None:
                title = self.twin.name
            if subtitle is None:
                subtitle = text(view, self.lang)
            _ov.draw_header(img, (0, 0, w, lay.header), pick(title, self.lang), pick(subtitle, self.lang))
        if footer and lay.footer:
            left, right = self._caption(caption, date)
            _ov.draw_footer(img, (0, h - lay.footer, w, h), left, right)
        if legends:
            _ov.draw_legends(img, region, legends, unit=lay.unit)
        if scale:
            _ov.draw_scale_and_north(img, region, px_per_m=r.px_per_m, north_angle=r.north_angle,
                                     approx=r.approx, unit=lay.unit,
                                     note=text("scale_centre", self.lang) if r.approx and r.px_per_m else "")
        if tag:
            _ov.draw_tag(img, region, pick(tag, self.lang), unit=lay.unit, big=True)

    # -- exports ----------------------------------------------------------------------------------------
    def export_gltf(self, path) -> Path:
        """Write the scene as glTF 2.0 (``.glb`` binary or ``.gltf`` with embedded data); see :mod:`twin.render.export`."""
        from twin.render.export import scene_to_gltf

        return scene_to_gltf(self, path)

    def export_html(self, path, *, view: str = "overview", size=(1200, 800)) -> Path:
        """Write the scene as a standalone interactive HTML file (vtk.js); see :mod:`twin.render.export`."""
        from twin.render.export import scene_to_html

        return scene_to_html(self, path, view=view, size=size)

    def parts(self, clims=None) -> list[_meshes.Part]:
        """Every drawable part (base and results) in local coordinates, as drawn."""
        res, _ = self._result_parts(clims)
        coloured = {p.name[: -len("_coloured")] for p in res if p.name.endswith("_coloured")}
        return [p for p in self._muted_base() if p.name not in coloured] + res


def _legend_key(label, units) -> str:
    return f"{pick(label, 'en')}|{units}"


def _title(label, units, lang) -> str:
    s = pick(label, lang)
    if units and f"[{units}]" not in s:
        s = f"{s} [{units}]" if s else f"[{units}]"
    return s


def _size(size) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise TwinValueError(f"invalid size: {size!r} (expected (width, height) in pixels)") from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise TwinValueError(f"invalid size: {size!r} (each side must be within 16..8192 pixels)")
    return w, h


def _write_png(rgb: np.ndarray, path) -> Path:
    path = Path(path)
    with atomic_output(path) as tmp:
        Image.fromarray(np.ascontiguousarray(rgb)).save(tmp, format="PNG", compress_level=4)
    return path


# -- VTK ----------------------------------------------------------------------------------------------

class _Plotter:
    """A PyVista off-screen plotter set up for jumeau's pictures (lights, background, anti-aliasing)."""

    def __init__(self, width: int, height: int, *, night: bool = False, ssaa: bool = True):
        import pyvista as pv

        self.pv = pv
        self.night = night
        self.ssaa = ssaa
        self.pl = pv.Plotter(off_screen=True, window_size=(int(width), int(height)), lighting="none")
        bottom, top = NIGHT_STYLE["background"] if night else _DAY_BACKGROUND
        self.pl.set_background([c / 255 for c in bottom], top=[c / 255 for c in top])
        self._lights()

    def _lights(self):
        pv = self.pv
        az, el = np.radians(_meshes.SUN_AZIMUTH), np.radians(_meshes.SUN_ELEVATION)
        sun_dir = np.array([np.sin(az) * np.cos(el), np.cos(az) * np.cos(el), np.sin(el)])
        if self.night:
            moon = pv.Light(position=tuple(sun_dir * 1000), focal_point=(0, 0, 0), light_type="scene light",
                            intensity=0.35, color=(0.55, 0.62, 0.85))
            moon.positional = False
            self.pl.add_light(moon)
            return
        sun = pv.Light(position=tuple(sun_dir * 1000), focal_point=(0, 0, 0), light_type="scene light",
                       intensity=0.78, color=(1.0, 0.97, 0.92))
        sun.positional = False
        self.pl.add_light(sun)
        fill = pv.Light(light_type="headlight", intensity=0.32, color=(0.92, 0.95, 1.0))
        self.pl.add_light(fill)
        sky = pv.Light(position=(0, 0, 1000), focal_point=(0, 0, 0), light_type="scene light", intensity=0.22,
                       color=(0.85, 0.9, 1.0))
        sky.positional = False
        self.pl.add_light(sky)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.pl.close()
        self.pl.deep_clean()

    def add(self, part: _meshes.Part, *, unit: float = 1.0):
        mesh = to_polydata(part)
        pv = self.pv
        kw = dict(show_scalar_bar=False, reset_camera=False)
        if part.kind == "points":
            return self.pl.add_mesh(mesh, scalars="rgb", rgb=True, render_points_as_spheres=True,
                                     point_size=max(2.0, part.size * unit), lighting=False, opacity=part.opacity,
                                     **kw)
        if part.kind == "lines":
            return self.pl.add_mesh(mesh, scalars="rgb", rgb=True, line_width=max(1.5, part.size * unit),
                                    render_lines_as_tubes=True, lighting=False, **kw)
        shading = dict(ambient=0.34, diffuse=0.72, specular=0.0) if part.lighting else dict(lighting=False)
        if part.texture is not None:
            tex = pv.Texture(np.ascontiguousarray(part.texture))
            tex.interpolate = True
            tex.mipmap = True
            return self.pl.add_mesh(mesh, texture=tex, smooth_shading=False, opacity=part.opacity, **shading, **kw)
        if part.cell_rgb is not None:
            return self.pl.add_mesh(mesh, scalars="rgb", rgb=True, opacity=part.opacity, smooth_shading=part.smooth,
                                    **shading, **kw)
        return self.pl.add_mesh(mesh, color="white", opacity=part.opacity, **shading, **kw)

    def remove(self, actor) -> None:
        self.pl.remove_actor(actor, render=False)

    def shoot(self, cam: _camera.CameraSpec, *, ground_z: float = 0.0):
        pl = self.pl
        c = pl.camera
        c.position = cam.position
        c.focal_point = cam.focal_point
        c.up = cam.view_up
        c.view_angle = cam.view_angle
        if cam.parallel:
            c.enable_parallel_projection()
            c.parallel_scale = cam.parallel_scale
        if cam.clipping:
            c.clipping_range = cam.clipping
        if self.ssaa:
            pl.enable_anti_aliasing("ssaa")
        img = pl.screenshot(return_img=True)
        ren = pl.renderer
        px_per_m, north = self._scale_north(ren, ground_z, cam)
        return np.asarray(img)[:, :, :3].copy(), px_per_m, north

    @staticmethod
    def _world_to_display(ren, p):
        ren.SetWorldPoint(float(p[0]), float(p[1]), float(p[2]), 1.0)
        ren.WorldToDisplay()
        x, y, _ = ren.GetDisplayPoint()
        return np.array([x, y])

    def _scale_north(self, ren, ground_z, cam):
        """Pixels per metre and the screen direction of north, at the ground point in the centre of the view."""
        pos = np.asarray(cam.position, float)
        f = np.asarray(cam.focal_point, float) - pos
        f /= np.linalg.norm(f)
        if f[2] < -1e-3 and (cam.parallel or cam.view_angle <= 45):
            ref = pos + f * ((ground_z - pos[2]) / f[2])
        else:  # a street view: 30 m ahead
            ref = pos + f * 30.0
        right = np.cross(f, [0, 0, 1.0])
        if np.linalg.norm(right) < 1e-6:
            right = np.array([1.0, 0.0, 0.0])
        right /= np.linalg.norm(right)
        a = self._world_to_display(ren, ref)
        b = self._world_to_display(ren, ref + right * 10.0)
        px_per_m = float(np.linalg.norm(b - a) / 10.0)
        d = self._world_to_display(ren, ref + np.array([0.0, 10.0, 0.0])) - a
        north = float(np.degrees(np.arctan2(d[0], d[1]))) if np.linalg.norm(d) > 1e-6 else None
        return px_per_m, north


def to_polydata(part: _meshes.Part):
    """A :class:`pyvista.PolyData` of a part (faces, colours, texture coordinates)."""
    import pyvista as pv

    pts = np.ascontiguousarray(part.points, dtype=np.float32)
    if part.kind == "points":
        mesh = pv.PolyData(pts)
        mesh.point_data["rgb"] = np.ascontiguousarray(part.point_rgb, dtype=np.uint8)
        return mesh
    if part.kind == "lines":
        segs = np.asarray(part.faces, dtype=np.int64)
        cells = np.hstack([np.full((len(segs), 1), 2, np.int64), segs]).ravel()
        mesh = pv.PolyData(pts, lines=cells)
        mesh.point_data["rgb"] = np.ascontiguousarray(part.point_rgb, dtype=np.uint8)
        return mesh
    f = np.asarray(part.faces, dtype=np.int64)
    cells = np.hstack([np.full((len(f), 1), f.shape[1], np.int64), f]).ravel()
    mesh = pv.PolyData(pts, faces=cells)
    if part.cell_rgb is not None:
        mesh.cell_data["rgb"] = np.ascontiguousarray(part.cell_rgb, dtype=np.uint8)
    if part.tcoords is not None:
        mesh.active_texture_coordinates = np.ascontiguousarray(part.tcoords, dtype=np.float32)
    if part.cell_ids is not None:
        mesh.cell_data["id"] = part.cell_ids
    return mesh


# -- public functions ----------------------------------------------------------------------------------

def render_twin(twin: Twin, path, *, size=(1600, 1000), view: str = "overview", title=None, lang: str = "en",
                subtitle=None, caption=None, at=None, look=None, date=None, legend="auto") -> Path:
    """Render a twin to a PNG picture (atomic write) and return its path.

    The standard scene (terrain coloured by land cover with hill-shading and sun shadows,
    buildings, trees, water) seen from a preset ``view``: ``"overview"`` (oblique
    bird's-eye of the whole twin), ``"street"`` (eye level, 1.7 m, in the main street, or
    ``at``/``look`` in the twin's CRS) or ``"top"`` (orthographic map). The picture has a
    title band, a legend, a scale bar and a north arrow, and a caption line with the date;
    ``lang="fr"`` draws them in French.

    Examples
    --------
    >>> from twin.render import render_twin
    >>> render_twin(twin, "overview.png", size=(1600, 1000), lang="fr")       # doctest: +SKIP
    >>> render_twin(twin, "street.png", view="street", at=(843500, 6519600), look=(843500, 6519700))  # doctest: +SKIP
    """
    return Scene.of(twin, lang=lang).screenshot(path, view=view, size=size, title=title, subtitle=subtitle,
                                                caption=caption, at=at, look=look, date=date, legend=legend)


def side_by_side(scenes: Sequence[Scene], path, *, titles=None, title=None, size=(1200, 900),
                 view: str = "overview", at=None, look=None, caption=None, date=None, shared_scale: bool = True) -> Path:
    """Several scenes in one PNG, side by side, with one title, a subtitle per panel and one shared colour scale.

    Parameters
    ----------
    scenes : sequence of Scene
        E.g. ``[before, after]``: same twin extent, same kinds of results.
    titles : sequence of str or {"en", "fr"}, optional
        Panel subtitles (default for two panels: "Today" / "With the scenario").
    size : (int, int)
        Size of ONE panel; the picture is ``len(scenes) * width`` wide and ``height`` high.
    shared_scale : bool
        Colour scales without an explicit ``clim`` span the data of all panels, so a colour means the
        same value in every panel; the legend is drawn once, in the last panel.
    """
    if not scenes:
        raise TwinValueError("side_by_side: no scenes")
    w, h = _size(size)
    lang = scenes[0].lang
    n = len(scenes)
    if titles is None:
        titles = [text("before", lang), text("after", lang)] if n == 2 else [""] * n
    if len(titles) != n:
        raise TwinValueError(f"side_by_side: {n} scenes but {len(titles)} titles")
    clims = {}
    if shared_scale:
        for s in scenes:
            for k, (lo, hi) in s.legend_keys().items():
                a, b = clims.get(k, (lo, hi))
                clims[k] = (min(a, lo), max(b, hi))
    lay = _ov.layout(w * n, h)
    vh = lay.view_height
    img = Image.new("RGBA", (w * n, h), (255, 255, 255, 255))
    rendered = []
    for i, s in enumerate(scenes):
        r, legends = s._render3d(w, vh, view=view, at=at, look=look, clims=clims)
        rendered.append((r, s._legends(legends, "auto")))
        img.paste(Image.fromarray(r.image), (i * w, lay.header))
    unit = max(h / 1000.0, 0.45)
    lay_u = _ov.Layout(w * n, h, lay.header, lay.footer)
    for i, (s, (r, legends)) in enumerate(zip(scenes, rendered)):
        region = (i * w, lay.header, (i + 1) * w, lay.header + vh)
        s._decorate(img, lay_u, region, r, legends if i == n - 1 else [], view=view, title=title, subtitle=None,
                    caption=caption, date=date, tag=None, header=(i == 0), footer=(i == 0), scale=(i == 0))
        _ov.draw_tag(img, region, pick(titles[i], lang), unit=unit, big=True)
        if i:
            from PIL import ImageDraw

            ImageDraw.Draw(img).line([(i * w, lay.header), (i * w, lay.header + vh)], fill=(255, 255, 255),
                                     width=max(2, int(4 * unit)))
    return _write_png(np.asarray(img.convert("RGB")), path)


def _format_time(seconds: float, lang: str) -> str:
    s = int(round(float(seconds)))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if h:
        core = f"{h} h {m:02d} min"
    elif m:
        core = f"{m} min {sec:02d} s" if sec else f"{m} min"
    else:
        core = f"{sec} s"
    return f"t = {core}"


def animate(scene: Scene, frames, outputs, *, label, units: str = "m", cmap: str = "water", clim=None,
            classes: Classes | None = None, as_water: bool = True, opacity: float = 0.85, threshold: float = 0.01,
            view: str = "overview", size=(960, 600), fps: float = 4.0, title=None, subtitle=None, caption=None,
            at=None, look=None, date=None) -> list[Path]:
    """An animation of raster snapshots draped on a scene, written as GIF and/or MP4.

    Parameters
    ----------
    scene : Scene
        The base (e.g. ``Scene.of(twin)``); its own drapes and colours are kept on every frame.
    frames : sequence of (time [s], (nrows, ncols) array)
        Snapshots, e.g. flood depth every 10 minutes; one picture per snapshot.
    outputs : path or sequence of paths
        ``.gif`` and/or ``.mp4`` files (frames rendered once, written to each).
    label, units, cmap, clim, classes, as_water, opacity
        As for :meth:`Scene.drape`; ``clim`` defaults to the range over all frames, so colours keep their
        meaning through the animation. Cells below ``threshold`` are left dry (not drawn).
    fps : float
        Frames per second.

    Returns
    -------
    list of Path
        The files written. Each frame carries a time label (``t = 1 h 30 min``).
    """
    import imageio.v3 as iio

    frames = list(frames)
    if not frames:
        raise TwinValueError("animate: no frames")
    outs = [Path(outputs)] if isinstance(outputs, (str, os.PathLike)) else [Path(p) for p in outputs]
    for p in outs:
        if p.suffix.lower() not in (".gif", ".mp4"):
            raise TwinValueError(f"{p}: animations are written as .gif or .mp4")
    arrays = []
    for t, a in frames:
        a = scene._grid_array(a, "frame")
        arrays.append((float(t), np.asarray(a, dtype=np.float32)))
    if clim is None and classes is None:
        hi = max((float(np.nanmax(a)) if np.isfinite(a).any() else 0.0) for _, a in arrays)
        clim = (0.0, hi if hi > 0 else 1.0) if as_water else (
            min(float(np.nanmin(a)) for _, a in arrays if np.isfinite(a).any()), hi)
    w, h = _size(size)
    if any(p.suffix.lower() == ".mp4" for p in outs):
        w, h = w - w % 2, h - h % 2  # H.264 needs even sizes
    lay = _ov.layout(w, h)
    images = []
    from twin.progress import progress

    base_scene = _clone(scene)
    static_parts, static_legends = base_scene._result_parts()
    coloured = {p.name[: -len("_coloured")] for p in static_parts if p.name.endswith("_coloured")}
    muted = Scene(scene.twin, lang=scene.lang, night=scene.night)
    muted._cache = {"base": base_scene._base_parts()}
    muted._drapes = [None]  # any result: the ground of an animation is muted
    parts = [p for p in muted._muted_base() if p.name not in coloured] + static_parts
    vh = lay.view_height
    cam = scene.camera(view, w / vh, at=at, look=look)
    tz = scene._terrain_z
    gz = float(np.nanmedian(tz)) if np.isfinite(tz).any() else 0.0
    bar = None if classes is not None else _ov.ColourBar(_title(label, units, scene.lang), cmap, tuple(clim))
    # one plotter for every frame: the base is uploaded (and llvmpipe's shaders compiled) once
    with _Plotter(w, vh, night=scene.night) as pl:
        for p in parts:
            pl.add(p, unit=vh / 1000.0)
        for t, a in progress(arrays, "rendering frames"):
            mask = np.isfinite(a) & (a >= threshold)
            actors, legends = [], list(static_legends)
            if mask.any():
                s = Scene(scene.twin, lang=scene.lang, night=scene.night)
                s._cache = scene._cache
                s.drape(a, label=label, units=units, cmap=cmap, clim=clim, classes=classes, as_water=as_water,
                        opacity=opacity, mask=mask)
                fparts, flegends = s._result_parts()
                actors = [pl.add(p, unit=vh / 1000.0) for p in fparts]
                legends += flegends
            elif bar is not None:
                legends.append(bar)
            img3d, px_per_m, north = pl.shoot(cam, ground_z=gz)
            for act in actors:
                pl.remove(act)
            r = _Rendered(img3d, px_per_m if view != "street" else None, north, cam.approx_scale)
            img = Image.new("RGBA", (w, h), (255, 255, 255, 255))
            img.paste(Image.fromarray(r.image), (0, lay.header))
            scene._decorate(img, lay, (0, lay.header, w, lay.header + vh), r, scene._legends(legends, "auto"),
                            view=view, title=title, subtitle=subtitle, caption=caption, date=date,
                            tag=_format_time(t, scene.lang))
            images.append(np.asarray(img.convert("RGB")))
    stack = np.stack(images)
    written = []
    for p in outs:
        with atomic_output(p) as tmp:
            if p.suffix.lower() == ".gif":
                iio.imwrite(tmp, stack, extension=".gif", duration=int(1000 / fps), loop=0)
            else:
                _write_mp4(tmp, stack, fps)
        written.append(p)
    return written


def _write_mp4(path, stack, fps):
    import imageio_ffmpeg

    h, w = stack.shape[1:3]
    writer = imageio_ffmpeg.write_frames(str(path), (w, h), fps=fps, codec="libx264", pix_fmt_out="yuv420p",
                                         macro_block_size=1, output_params=["-f", "mp4"],
                                         ffmpeg_log_level="error")
    writer.send(None)
    for fr in stack:
        writer.send(np.ascontiguousarray(fr))
    writer.close()


def _clone(scene: Scene) -> Scene:
    s = Scene(scene.twin, lang=scene.lang, night=scene.night)
    s._terrain, s._buildings, s._trees, s._water = scene._terrain, scene._buildings, scene._trees, scene._water
    s._drapes = list(scene._drapes)
    s._bcolours = scene._bcolours
    s._lights = list(scene._lights)
    s._lines = list(scene._lines)
    s._cache = scene._cache  # the base meshes are shared (read only)
    return s
