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
