"""Night views of a lighting result: the ground glowing with its illuminance, seen from above.

A plan view drawn with Pillow: illuminance on a logarithmic scale (0.1 to 50 lx) from
night blue to sodium/LED white, buildings as dark blocks, luminaires as points, a
legend with the headline indicators. With a baseline, the two nights side by side.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["render_night", "night_image"]

_STOPS = np.array([
    [0.00, 8, 10, 28],
    [0.25, 30, 22, 60],
    [0.45, 120, 60, 30],
    [0.65, 215, 140, 50],
    [0.85, 255, 215, 140],
    [1.00, 255, 250, 235],
], dtype=float)

_TEXT = {
    "en": {"title": "Night view", "lx": "illuminance (lx)", "baseline": "today", "scenario": "scenario",
           "energy": "electricity", "fail": "segments below class"},
    "fr": {"title": "Vue de nuit", "lx": "éclairement (lx)", "baseline": "aujourd'hui", "scenario": "scénario",
           "energy": "électricité", "fail": "tronçons sous leur classe"},
}


def _colour(e: np.ndarray, lo: float = 0.1, hi: float = 50.0) -> np.ndarray:
    t = np.clip((np.log10(np.maximum(e, 1e-6)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)), 0.0, 1.0)
    out = np.empty(e.shape + (3,), np.uint8)
    for c in range(3):
        out[..., c] = np.interp(t, _STOPS[:, 0], _STOPS[:, c + 1]).astype(np.uint8)
    return out


def _font(size: int):
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default()


def night_image(twin, illuminance: np.ndarray, luminaires=None, *, size=(1600, 1000)) -> Image.Image:
    """The plan-view night picture of an illuminance raster, fitted into ``size`` pixels."""
    rgb = _colour(np.nan_to_num(illuminance, nan=0.0))
    if "building_id" in twin:
        b = twin.array("building_id") > 0
        rgb[b] = (0.35 * rgb[b] + 0.65 * np.array([38, 38, 48])).astype(np.uint8)
    img = Image.fromarray(rgb, "RGB")
    w, h = size
    scale = min(w / img.width, h / img.height)
    img = img.resize((max(1, int(img.width * scale)), max(1, int(img.height * scale))), Image.LANCZOS)
    if luminaires is not None and len(luminaires):
        d = ImageDraw.Draw(img)
        g = twin.grid
        xs = (luminaires.geometry.x.to_numpy() - g.xmin) / g.cell_size * scale
        ys = (g.ymax - luminaires.geometry.y.to_numpy()) / g.cell_size * scale
        r = max(1.5, 0.8 * scale)
        for x, y in zip(xs, ys):
            d.ellipse([x - r, y - r, x + r, y + r], fill=(255, 255, 255))
    return img


def _legend(draw, x, y, lang):
    t = _TEXT.get(lang, _TEXT["en"])
    f = _font(16)
    vals = [0.1, 0.3, 1, 3, 10, 30]
    for k, v in enumerate(vals):
        c = tuple(int(a) for a in _colour(np.array([v]))[0])
        draw.rectangle([x + 46 * k, y, x + 46 * k + 40, y + 16], fill=c)
        draw.text((x + 46 * k, y + 18), f"{v:g}", fill=(230, 230, 230), font=f)
    draw.text((x, y - 22), t["lx"], fill=(230, 230, 230), font=f)


def render_night(twin, result, out_dir: Path, *, baseline=None, lang: str = "en", size=(1600, 1000),
                 title: str = "") -> list[Path]:
    """Write ``night_view.png`` (and ``night_compare.png`` with a baseline); return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    t = _TEXT.get(lang, _TEXT["en"])
    paths = []
    lum = result.tables.get("luminaires")
    e = result.layers["illuminance"].values
    w, h = size
    canvas = Image.new("RGB", (w, h), (5, 6, 18))
    pic = night_image(twin, e, lum, size=(w - 40, h - 120))
    canvas.paste(pic, (20, 70))
    d = ImageDraw.Draw(canvas)
    d.text((20, 18), title or t["title"], fill=(240, 240, 240), font=_font(30))
    _legend(d, w - 300, h - 44, lang)
    ind = {i.name: i for i in result.indicators}
    if "annual_energy" in ind:
        d.text((20, h - 40), f"{t['energy']}: {ind['annual_energy'].value / 1000:,.0f} MWh/yr   "
                             f"{t['fail']}: {ind['segments_failing'].value:.0f}", fill=(230, 230, 230), font=_font(18))
    p = out_dir / "night_view.png"
    canvas.save(p)
    paths.append(p)
    if baseline is not None and "illuminance" in baseline.layers:
        canvas = Image.new("RGB", (w, h), (5, 6, 18))
        half = (w - 60) // 2
        for k, (res, label) in enumerate(((baseline, t["baseline"]), (result, t["scenario"]))):
            pic = night_image(twin, res.layers["illuminance"].values, res.tables.get("luminaires"),
                              size=(half, h - 140))
            x0 = 20 + k * (half + 20)
            canvas.paste(pic, (x0, 80))
            d = ImageDraw.Draw(canvas)
            d.text((x0, 50), label, fill=(240, 240, 240), font=_font(22))
            ind = {i.name: i for i in res.indicators}
            if "annual_energy" in ind:
                d.text((x0, h - 50), f"{t['energy']}: {ind['annual_energy'].value / 1000:,.1f} MWh/yr",
                       fill=(230, 230, 230), font=_font(18))
        d = ImageDraw.Draw(canvas)
        d.text((20, 12), title or t["title"], fill=(240, 240, 240), font=_font(26))
        _legend(d, w - 300, h - 44, lang)
        p = out_dir / "night_compare.png"
        canvas.save(p)
        paths.append(p)
    return paths
