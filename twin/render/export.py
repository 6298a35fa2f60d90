"""Exports of a scene: glTF 2.0 (through trimesh) and a standalone interactive HTML page (vtk.js).

glTF
    One node per building (``building_<id>``), plus ``terrain`` (textured with the
    land-cover picture), ``trees``, ``water``, and the scene's results (draped rasters,
    coloured buildings, lights). Coordinates are local metres, converted to glTF's
    Y-up axes: ``(x_gltf, y_gltf, z_gltf) = (east, altitude, -north)`` with east/north
    measured from ``twin.local_origin``; the origin and CRS are written in the scene's
    ``extras`` (``jumeau_origin``, ``jumeau_crs``) so the model can be placed back.
    Opens in Blender, three.js viewers, QGIS 3D (as a model) and most CAD/BIM tools.

HTML
    The scene rendered by VTK, serialised to vtk.js and embedded in trame-vtk's
    offline viewer: one self-contained file (about 1 MB plus the geometry) that opens
    in any web browser without a network or a server. Needs the ``trame-vtk`` package.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from twin.errors import TwinRuntimeError, TwinValueError
from twin.io import atomic_output

__all__ = ["export_gltf", "export_html", "scene_to_gltf", "scene_to_html", "GLTF_AXES"]

#: Local (east, north, up) -> glTF (x, y, z) with +Y up.
GLTF_AXES = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def export_gltf(twin, path, *, lang: str = "en") -> Path:
    """Export the standard scene of a twin (terrain, buildings, trees, water) to ``.glb`` or ``.gltf``.

    Examples
    --------
    >>> from twin.render import export_gltf
    >>> export_gltf(twin, "town.glb")                                        # doctest: +SKIP
    """
    from twin.render.scene import Scene

    return Scene.of(twin, lang=lang).export_gltf(path)


def export_html(twin, path, *, lang: str = "en") -> Path:
    """Export the standard scene of a twin to a standalone interactive HTML file (needs ``trame-vtk``).

    Examples
    --------
    >>> from twin.render import export_html
    >>> export_html(twin, "town.html")                                       # doctest: +SKIP
    """
    from twin.render.scene import Scene

    return Scene.of(twin, lang=lang).export_html(path)


def _vertex_rgb_from_cells(n_points: int, faces: np.ndarray, cell_rgb: np.ndarray) -> np.ndarray:
    """Per-vertex colours as the mean colour of the faces that use each vertex."""
    acc = np.zeros((n_points, 3))
    cnt = np.zeros(n_points)
    k = faces.shape[1]
    np.add.at(acc, faces.ravel(), np.repeat(cell_rgb.astype(np.float64), k, axis=0))
    np.add.at(cnt, faces.ravel(), 1)
    return (acc / np.maximum(cnt, 1)[:, None]).round().astype(np.uint8)


def _submesh(points, tri, keep_faces):
    t = tri[keep_faces]
    used, inv = np.unique(t.ravel(), return_inverse=True)
    return points[used], inv.reshape(-1, 3), used


def _trimesh_of(part, name, alpha=255):
    import trimesh
    from PIL import Image

    pts = part.points.astype(np.float64) @ GLTF_AXES.T
    tri, src = part.triangles()
    if part.texture is not None and part.tcoords is not None:
        vis = trimesh.visual.TextureVisuals(uv=part.tcoords.astype(np.float64), image=Image.fromarray(part.texture))
        return trimesh.Trimesh(pts, tri, visual=vis, process=False)
    if part.cell_rgb is not None:
        vrgb = _vertex_rgb_from_cells(len(pts), tri, np.asarray(part.cell_rgb)[src])
    else:
        vrgb = np.full((len(pts), 3), 200, np.uint8)
    a = np.full((len(pts), 1), int(round(255 * part.opacity)) if part.opacity < 1 else alpha, np.uint8)
    return trimesh.Trimesh(pts, tri, vertex_colors=np.hstack([vrgb, a]), process=False)


def scene_to_gltf(scene, path) -> Path:
    """Write a :class:`~twin.render.scene.Scene` to glTF 2.0: ``.glb`` (binary) or ``.gltf`` (embedded JSON)."""
    import trimesh

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".glb", ".gltf"):
        raise TwinValueError(f"{path}: glTF files end in .glb or .gltf")
    g = scene.grid
    ts = trimesh.Scene()
    ts.metadata["jumeau_origin"] = [float(g.xmin), float(g.ymin), 0.0]
    ts.metadata["jumeau_crs"] = g.crs
    ts.metadata["jumeau_axes"] = "x=east, y=altitude, z=-north (metres from jumeau_origin)"
    for part in scene.parts():
        if part.kind == "points":
            if part.name == "lights_glow":
                continue
            pts = part.points.astype(np.float64) @ GLTF_AXES.T
            rgba = np.hstack([part.point_rgb, np.full((len(pts), 1), 255, np.uint8)])
            ts.add_geometry(trimesh.PointCloud(pts, colors=rgba), geom_name=part.name, node_name=part.name)
            continue
        if part.kind != "mesh" or part.faces is None or len(part.faces) == 0:
            continue
        if part.cell_ids is not None and part.name.startswith("buildings"):
            pts = part.points
            tri, src = part.triangles()
            ids = part.cell_ids[src]
            rgb = np.asarray(part.cell_rgb)[src] if part.cell_rgb is not None else np.full((len(tri), 3), 200, np.uint8)
            bounds = np.r_[0, np.nonzero(np.diff(ids))[0] + 1, len(ids)]
            suffix_name = "" if part.name in ("buildings", "buildings_lod2") else "_" + part.name
            for a, b in zip(bounds[:-1], bounds[1:]):
                sel = np.arange(a, b)
                p, t, _used = _submesh(pts, tri, sel)
                vrgb = _vertex_rgb_from_cells(len(p), t, rgb[sel])
                mesh = trimesh.Trimesh(p.astype(np.float64) @ GLTF_AXES.T, t,
                                       vertex_colors=np.hstack([vrgb, np.full((len(p), 1), 255, np.uint8)]),
                                       process=False)
                name = f"building_{int(ids[a])}{suffix_name}"
                ts.add_geometry(mesh, geom_name=name, node_name=name)
            continue
        ts.add_geometry(_trimesh_of(part, part.name), geom_name=part.name, node_name=part.name)
    with atomic_output(path) as tmp:
        if suffix == ".glb":
            data = ts.export(file_type="glb")
            Path(tmp).write_bytes(data)
        else:
            files = ts.export(file_type="gltf", embed_buffers=True)
            Path(tmp).write_bytes(files["model.gltf"])
    return path


def scene_to_html(scene, path, *, view: str = "overview", size=(1200, 800)) -> Path:
    """Write a scene as a standalone interactive HTML page (vtk.js offline viewer of trame-vtk).

    Raises
    ------
    TwinRuntimeError
        If ``trame-vtk`` is not installed.
    """
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise TwinValueError(f"{path}: interactive exports end in .html")
    try:
        from trame_vtk.modules.vtk.serializers import (
            SynchronizationContext, extract_array_hash, initialize_serializers, reference_id, serialize,
        )
        from trame_vtk.tools.vtksz2html import write_html
    except ImportError as err:
        raise TwinRuntimeError("the HTML export needs the trame-vtk package: pip install trame-vtk") from err
    from twin.render.scene import _Plotter

    w, h = (int(v) for v in size)
    cam = scene.camera(view, w / h)
    with _Plotter(w, h, night=scene.night, ssaa=False) as pl:
        for part in scene.parts():
            pl.add(part, unit=h / 1000.0)
        pl.shoot(cam)
        initialize_serializers()
        ctx = SynchronizationContext()
        rw = pl.pl.ren_win
        camera = pl.pl.renderer.GetActiveCamera()
        state = serialize(None, rw, "jumeau-view", ctx, 1)
        if not state:
            raise TwinRuntimeError(f"{path}: the scene could not be serialised for vtk.js")
        state["extra"] = {"vtkRefId": reference_id(rw), "centerOfRotation": camera.GetFocalPoint(),
                          "camera": reference_id(camera)}
        hashes = {}
        for entry in extract_array_hash(state):
            hashes[entry["hash"]] = dict(**entry, content=ctx.get_cached_data_array(entry["hash"], False))
    payload = json.dumps({"hashes": hashes, "scene": state})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.json", payload, compress_type=zipfile.ZIP_DEFLATED)
    with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        write_html(buf.getvalue(), out)
    return path
