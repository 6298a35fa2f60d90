"""Small helpers for Jupyter notebooks: show a run's numbers and pictures, show a 3D scene.

3D is interactive (PyVista's trame backend) when the notebook runs in a Jupyter server with
``trame`` installed (``pip install -e ".[notebooks]"``); otherwise — executed headless by
nbmake in CI, or ``JUMEAU_3D=static`` — a static picture is shown instead. ``JUMEAU_3D=interactive``
forces the interactive view.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

__all__ = ["interactive_3d", "show_run", "show_pictures", "show_figure", "show_scene", "scene_plotter"]


def interactive_3d() -> bool:
    """Whether 3D views can be interactive here (a Jupyter server, trame installed, not CI)."""
    mode = os.environ.get("JUMEAU_3D", "").lower()
    if mode in ("static", "interactive"):
        return mode == "interactive"
    if os.environ.get("CI"):
        return False
    if importlib.util.find_spec("trame") is None or importlib.util.find_spec("trame_vtk") is None:
        return False
    return "JPY_SESSION_NAME" in os.environ  # set by a Jupyter server for its kernels, not by nbclient/nbmake


def _display(obj) -> None:
    from IPython.display import display

    display(obj)


def _show_still(data: bytes, *, width, jpeg: int | None) -> None:
    """Display a PNG, or (``jpeg`` = a quality 1-95) the same picture as a JPEG, several times smaller in a
    stored notebook."""
    import io

    from IPython.display import Image

    if jpeg:
        from PIL import Image as PILImage

        buf = io.BytesIO()
        PILImage.open(io.BytesIO(data)).convert("RGB").save(buf, format="JPEG", quality=int(jpeg))
        _display(Image(data=buf.getvalue(), format="jpeg", width=width))
    else:
        _display(Image(data=data, width=width))


def show_pictures(paths, *, width: int = 800, limit: int = 4, jpeg: int | None = None) -> list[Path]:
    """Display PNG/GIF pictures inline (at most ``limit``); return the paths shown.

    ``jpeg`` (a quality, e.g. 85) shows PNG pictures as JPEG: a notebook stored with its outputs stays small.
    """
    from IPython.display import Image

    shown = []
    for p in [Path(p) for p in paths][:limit]:
        if p.suffix.lower() in (".png", ".gif", ".jpg", ".jpeg") and p.is_file():
            if p.suffix.lower() == ".png":
                _show_still(p.read_bytes(), width=width, jpeg=jpeg)
            else:
                _display(Image(filename=str(p), width=width))
            shown.append(p)
    return shown


def show_figure(fig, *, dpi: int = 80, width: int | None = None, jpeg: int | None = None) -> None:
    """Display a :class:`matplotlib.figure.Figure` inline as a PNG, or a JPEG of quality ``jpeg`` (no pyplot,
    no inline backend needed: a bare ``Figure`` has no notebook formatter, ``display(fig)`` prints its repr)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    _show_still(buf.getvalue(), width=width, jpeg=jpeg)


def show_run(run, *, lang: str = "en", pictures: int = 2, width: int = 800, jpeg: int | None = None):
    """Display a run's indicator table (baseline, scenario, difference) and its first pictures (as JPEGs of
    quality ``jpeg`` when given)."""
    table = run.indicator_table(lang)
    _display(table)
    if pictures:
        show_pictures(run.pictures, width=width, limit=pictures, jpeg=jpeg)
    return table


def show_scene(scene, *, view: str = "overview", size: tuple[int, int] = (1000, 640), title=None, interactive=None,
               jpeg: int | None = None):
    """Show a :class:`twin.render.Scene`: interactive with trame when available, else a static picture
    (as a JPEG of quality ``jpeg`` when given)."""
    if interactive is None:
        interactive = interactive_3d()
    if interactive:
        return scene_plotter(scene, size=size, notebook=True).show(jupyter_backend="trame")
    import io

    from PIL import Image as PILImage

    rgb = scene.render(view=view, size=size, title=title)
    buf = io.BytesIO()
    PILImage.fromarray(rgb).save(buf, format="PNG")
    _show_still(buf.getvalue(), width=size[0], jpeg=jpeg)
    return None


def scene_plotter(scene, *, size: tuple[int, int] = (1000, 640), notebook: bool = False, off_screen: bool = False):
    """A :class:`pyvista.Plotter` holding a scene's meshes (textures and colours kept), for interactive views."""
    import pyvista as pv

    from twin.render.scene import to_polydata

    plotter = pv.Plotter(notebook=notebook, off_screen=off_screen, window_size=list(size))
    for part in scene.parts():
        mesh = to_polydata(part)
        kw: dict = {"opacity": float(getattr(part, "opacity", 1.0) or 1.0)}
        if getattr(part, "texture", None) is not None and part.tcoords is not None:
            kw["texture"] = pv.Texture(part.texture)
        elif "rgb" in mesh.array_names:
            kw.update(scalars="rgb", rgb=True)
        if part.kind == "points":
            kw.update(point_size=float(getattr(part, "size", 8.0) or 8.0), render_points_as_spheres=True)
        elif part.kind == "lines":
            kw.update(line_width=float(getattr(part, "size", 3.0) or 3.0))
        plotter.add_mesh(mesh, **kw)
    plotter.set_background("#eef2f6")
    plotter.camera_position = "iso"
    return plotter
