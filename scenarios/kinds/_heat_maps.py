"""Plan-view maps of heat results (PNG): UTCI and Tmrt at the hottest hour, shade, before/after.

A light 2-D renderer for elected officials and reports, with a legend in English or
French; the 3-D renderer of :mod:`twin.render`, when present, is used by the runner for
scene views. Buildings are drawn grey; colours from matplotlib colormaps (colormaps only).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import colormaps
from PIL import Image, ImageDraw, ImageFont

from twin.io import atomic_output

__all__ = ["render_heat_maps", "map_png"]

#: name -> (colormap, vmin, vmax, English title, French title)
MAPS = {
    "utci_hottest": ("RdYlBu_r", 20.0, 50.0, "UTCI at the hottest hour", "UTCI à l'heure la plus chaude"),
    "tmrt_max": ("inferno", 20.0, 75.0, "Highest mean radiant temperature", "Température moyenne radiante maximale"),
    "shade_hours": ("YlGnBu", 0.0, 15.0, "Hours of shade (sun up)", "Heures d'ombre (soleil levé)"),
    "hours_utci_above_32": ("OrRd", 0.0, 12.0, "Hours of strong heat stress (UTCI >= 32 C)",
                            "Heures de fort stress thermique (UTCI >= 32 C)"),
}
DIFF = {
    "utci_hottest": ("RdBu_r", -8.0, 8.0, "UTCI change at the hottest hour", "Variation de l'UTCI à l'heure la plus chaude"),
    "tmrt_max": ("RdBu_r", -25.0, 25.0, "Change of the highest Tmrt", "Variation de la Tmrt maximale"),
}


def _font(px: int):
    """DejaVu Sans (shipped with matplotlib: accents render everywhere), else Pillow's default."""
    try:
        from matplotlib import font_manager

        return ImageFont.truetype(font_manager.findfont("DejaVu Sans", fallback_to_default=True), px)
    except (OSError, ValueError, ImportError):
        return ImageFont.load_default()


def map_png(path: Path, values: np.ndarray, buildings: np.ndarray, *, cmap: str, vmin: float, vmax: float,
            title: str, units: str, size=(1600, 1000)) -> Path:
    """Write one plan-view map with a colour bar."""
    w, h = size
    bar_w = 140
    nr, nc = values.shape
    f = min((w - bar_w - 40) / nc, (h - 90) / nr)
    rgba = colormaps[cmap]((np.clip(values, vmin, vmax) - vmin) / (vmax - vmin), bytes=True)
    rgba[~np.isfinite(values)] = (235, 235, 235, 255)
    rgba[buildings] = (150, 150, 150, 255)
    img = Image.fromarray(np.ascontiguousarray(rgba[..., :3]))
    img = img.resize((max(1, round(nc * f)), max(1, round(nr * f))), Image.NEAREST if f >= 1 else Image.BOX)
    canvas = Image.new("RGB", (w, h), "white")
    canvas.paste(img, (20, 70))
    d = ImageDraw.Draw(canvas)
    d.text((20, 18), title, fill="black", font=_font(30))
    x0, y0, y1 = w - bar_w + 10, 80, h - 60
    for i in range(y1 - y0):
        c = colormaps[cmap](1.0 - i / (y1 - y0), bytes=True)
        d.line([(x0, y0 + i), (x0 + 30, y0 + i)], fill=tuple(int(v) for v in c[:3]))
    f = _font(18)
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = y1 - frac * (y1 - y0)
        d.text((x0 + 38, y - 9), f"{vmin + frac * (vmax - vmin):g}", fill="black", font=f)
    d.text((x0, y1 + 12), units, fill="black", font=f)
    with atomic_output(path) as tmp:
        canvas.save(tmp, format="PNG")
    return Path(path)


def render_heat_maps(twin, result, out_dir: Path, *, baseline=None, lang="en", size=(1600, 1000), title="") -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    buildings = twin.array("building_id") > 0
    paths = []
    for name, (cmap, vmin, vmax, en, fr) in MAPS.items():
        if name not in result.layers:
            continue
        da = result.layers[name]
        t = (fr if lang == "fr" else en) + (f" - {title}" if title else "")
        paths.append(map_png(out_dir / f"{name}.png", da.values, buildings, cmap=cmap, vmin=vmin, vmax=vmax, title=t,
                             units=da.attrs.get("units", "").replace("degC", "°C"), size=size))
    if baseline is not None:
        for name, (cmap, vmin, vmax, en, fr) in DIFF.items():
            if name not in result.layers or name not in baseline.layers:
                continue
            diff = result.layers[name].values - baseline.layers[name].values
            t = (fr if lang == "fr" else en) + (f" - {title}" if title else "")
            paths.append(map_png(out_dir / f"{name}_difference.png", diff, buildings, cmap=cmap, vmin=vmin, vmax=vmax,
                                 title=t, units="K", size=size))
    return paths
