"""Exports of a scene: glTF 2.0 (trimesh) and standalone interactive HTML (vtk.js via trame-vtk)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["export_gltf", "export_html", "scene_to_gltf", "scene_to_html"]


def export_gltf(twin, path, *, lang: str = "en") -> Path:
    from twin.render.scene import Scene

    return Scene.of(twin, lang=lang).export_gltf(path)


def export_html(twin, path, *, lang: str = "en") -> Path:
    from twin.render.scene import Scene

    return Scene.of(twin, lang=lang).export_html(path)


def scene_to_gltf(scene, path) -> Path:
    raise NotImplementedError


def scene_to_html(scene, path, *, view="overview", size=(1200, 800)) -> Path:
    raise NotImplementedError
