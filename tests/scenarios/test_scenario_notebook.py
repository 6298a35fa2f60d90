"""Notebook helpers: static or interactive 3D, pictures shown inline."""

from __future__ import annotations

import numpy as np
import pytest

from scenarios.notebook import interactive_3d, scene_plotter, show_pictures


def test_interactive_only_in_a_jupyter_server(monkeypatch):
    monkeypatch.delenv("JUMEAU_3D", raising=False)
    monkeypatch.setenv("CI", "true")
    assert not interactive_3d()
    monkeypatch.delenv("CI")
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert not interactive_3d()  # nbmake / nbclient kernels: static
    monkeypatch.setenv("JUMEAU_3D", "interactive")
    assert interactive_3d()
    monkeypatch.setenv("JUMEAU_3D", "static")
    monkeypatch.setenv("JPY_SESSION_NAME", "x.ipynb")
    assert not interactive_3d()


@pytest.mark.render
def test_scene_plotter_draws_the_scene(hill_twin):
    from twin.render import Scene

    p = scene_plotter(Scene.of(hill_twin), size=(320, 240), off_screen=True)
    img = p.screenshot(return_img=True)
    p.close()
    assert img.shape == (240, 320, 3)
    assert img.std() > 10 and len(np.unique(img.reshape(-1, 3), axis=0)) > 50


def test_show_pictures(tmp_path):
    from PIL import Image

    png = tmp_path / "a.png"
    Image.new("RGB", (8, 8), (200, 10, 10)).save(png)
    assert show_pictures([png, tmp_path / "missing.png", tmp_path / "b.mp4"]) == [png]
    assert show_pictures([png], jpeg=80) == [png]


def test_jpeg_stills_are_smaller_and_the_same_picture(monkeypatch):
    import io

    from PIL import Image

    import scenarios.notebook as nbk

    shown = []
    monkeypatch.setattr(nbk, "_display", shown.append)
    from scipy.ndimage import gaussian_filter

    noise = np.random.default_rng(1).normal(0.0, 1.0, (200, 300, 3))
    smooth = gaussian_filter(noise, sigma=(3, 3, 0))  # a rendered town: smooth shading, fine detail
    rgb = np.clip(128 + 400 * smooth, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    nbk._show_still(buf.getvalue(), width=300, jpeg=85)
    jpg = shown[-1].data
    back = np.asarray(Image.open(io.BytesIO(jpg)))
    assert jpg[:3] == b"\xff\xd8\xff" and len(jpg) < len(buf.getvalue()) / 2
    assert back.shape == rgb.shape and np.abs(back.astype(int) - rgb).mean() < 6  # of 255


def test_show_figure_gives_a_png_of_the_figure(monkeypatch):
    import io

    from matplotlib.figure import Figure
    from PIL import Image

    import scenarios.notebook as nbk

    shown = []
    monkeypatch.setattr(nbk, "_display", shown.append)
    fig = Figure(figsize=(4, 3))
    fig.add_subplot().imshow(np.arange(100.0).reshape(10, 10))
    nbk.show_figure(fig, dpi=50)
    img = Image.open(io.BytesIO(shown[-1].data))
    assert img.format == "PNG" and 100 < img.width <= 200 and 75 < img.height <= 150  # 4 x 3 in at 50 dpi, cropped
    assert np.asarray(img.convert("L")).std() > 10
