"""Night views of a lighting result.

With the renderer (:mod:`twin.render`): the town at night seen from the south-south-west,
the ground glowing where its illuminance reaches 0.5 lx (0 to 20 lx, inferno), the luminaires as lights
coloured by their CCT and the road segments below their EN 13201 class in red
(``night_view.png``), the same as a map (``night_map.png``) and, with a baseline,
today and the scenario side by side on one colour scale (``night_compare.png``).
Without it (a minimal install), a plan view drawn with Pillow on a logarithmic scale.
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


_LABEL = {"en": "Illuminance", "fr": "Éclairement"}
_FAIL = {"en": "Below its EN 13201 class", "fr": "Sous sa classe EN 13201"}
_TITLES = {"en": ("Today", "With the scenario"), "fr": ("Aujourd'hui", "Avec le scénario")}


def _scene(twin, result, lang):
    from twin.render import Scene

    e = np.asarray(result.layers["illuminance"].values, dtype=float)
    s = Scene.of(twin, lang=lang, night=True)
    s.drape(np.where(e >= 0.5, e, np.nan), label=_LABEL, units="lx", cmap="inferno", clim=(0.0, 20.0))
    lum = result.tables.get("luminaires")
    if lum is not None and len(lum):
        s.add_lights(lum.geometry.x.to_numpy(), lum.geometry.y.to_numpy(),
                     height=twin.luminaires.set_index("id").reindex(lum["id"])["mounting_height"].fillna(6.0).to_numpy(),
                     cct=lum["cct"].to_numpy(float))
    seg = result.tables.get("segments")
    if seg is not None and len(seg):
        bad = seg[seg["status"] == "fail"]
        if len(bad):
            s.add_lines(list(bad.geometry.values), label=_FAIL)
    return s


def render_night(twin, result, out_dir: Path, *, baseline=None, lang: str = "en", size=(1600, 1000),
                 title: str = "") -> list[Path]:
    """Write the night pictures into ``out_dir``; return their paths (see the module doc)."""
    try:
        from twin.render import side_by_side
    except ImportError:  # a minimal install without the 3D renderer
        return render_night_plan(twin, result, out_dir, baseline=baseline, lang=lang, size=size, title=title)

    out_dir.mkdir(parents=True, exist_ok=True)
    t = _TEXT.get(lang, _TEXT["en"])
    ttl = title or t["title"]
    scene = _scene(twin, result, lang)
    paths = [scene.screenshot(out_dir / "night_view.png", view="overview", size=size, title=ttl),
             scene.screenshot(out_dir / "night_map.png", view="top", size=size, title=ttl)]
    if baseline is not None and "illuminance" in baseline.layers:
        before = _scene(twin, baseline, lang)
        w, h = size
        paths.append(side_by_side([before, scene], out_dir / "night_compare.png", titles=list(_TITLES[lang[:2]]
                                  if lang[:2] in _TITLES else _TITLES["en"]), title=ttl, size=(w // 2 + w // 4, h)))
    return [Path(p) for p in paths]


def render_night_plan(twin, result, out_dir: Path, *, baseline=None, lang: str = "en", size=(1600, 1000),
                      title: str = "") -> list[Path]:
    """The Pillow plan views: ``night_view.png`` (and ``night_compare.png`` with a baseline)."""
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
