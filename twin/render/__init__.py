"""Pictures and 3D exports of a twin: the base scene and the results drawn on it.

The renderer only reads the twin. Meshes are built in local coordinates
(``twin.local_origin``), rendered off screen with VTK (EGL, no display needed)
and decorated with Pillow (title, legend, scale bar, north arrow, caption).

>>> from twin.render import render_twin, Scene, side_by_side, animate, export_gltf, export_html
>>> render_twin(twin, "overview.png", lang="fr")                        # doctest: +SKIP

See ``docs/rendering.md``.
"""

import os

# off-screen rendering without a display: VTK's EGL window (must be set before VTK loads)
os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")

from twin.render.export import export_gltf, export_html  # noqa: E402
from twin.render.labels import LANGS  # noqa: E402
from twin.render.palettes import (  # noqa: E402
    DPE_CLASSES, EXPOSURE_CLASSES, UTCI_CLASSES, Classes, colormap_rgb,
)
from twin.render.scene import VIEWS, Scene, animate, render_twin, side_by_side  # noqa: E402

__all__ = [
    "render_twin", "Scene", "side_by_side", "animate", "export_gltf", "export_html", "Classes", "UTCI_CLASSES",
    "DPE_CLASSES", "EXPOSURE_CLASSES", "colormap_rgb", "VIEWS", "LANGS",
]
