"""2D furniture of a picture, drawn with Pillow over the 3D view: title, legends, scale bar, north arrow, caption.

Drawn in pixels after the 3D rendering, so text is crisp at any size, the same on
every machine (the DejaVu fonts shipped with Matplotlib) and language-aware.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from twin.render.palettes import colormap_rgb

__all__ = ["ClassLegend", "ColourBar", "Layout", "layout", "draw_header", "draw_footer", "draw_legends",
           "draw_scale_and_north", "draw_tag", "font", "nice_length"]

INK = (33, 37, 41)
GREY = (100, 106, 112)
PAPER = (255, 255, 255)


@lru_cache(maxsize=64)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu Sans (shipped with Matplotlib) at ``size`` pixels; Pillow's default font if absent."""
    size = max(6, int(size))
    try:
        import matplotlib

        name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
        path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name
        return ImageFont.truetype(str(path), size)
    except (ImportError, OSError):  # pragma: no cover - matplotlib ships the font
        return ImageFont.load_default(size)


def _text_w(f, s: str) -> int:
    if not s:
        return 0
    x0, _, x1, _ = f.getbbox(s)
    return int(x1 - x0)


def _fit(f_size: int, s: str, max_w: int, bold: bool = False):
    """The largest font (down to 60 %) that fits ``s`` in ``max_w`` pixels; text cut with an ellipsis if needed."""
    size = f_size
    while size > max(6, int(0.6 * f_size)) and _text_w(font(size, bold), s) > max_w:
        size -= 1
    f = font(size, bold)
    if _text_w(f, s) > max_w:
        while len(s) > 1 and _text_w(f, s + "…") > max_w:
            s = s[:-1]
        s += "…"
    return f, s


@dataclass
class ClassLegend:
    """A legend of coloured swatches with labels."""

    title: str
    items: list[tuple[tuple[int, int, int], str]]
    kind: str = "class"


@dataclass
class ColourBar:
    """A continuous colour bar: title with units, colour map and value range."""

    title: str
    cmap: str
    clim: tuple[float, float]
    kind: str = "bar"
    extend: tuple[bool, bool] = field(default=(False, False))


@dataclass(frozen=True)
class Layout:
    """Pixel layout of a picture: header band, 3D view, footer band."""

    width: int
    height: int
    header: int
    footer: int

    @property
    def view_height(self) -> int:
        return self.height - self.header - self.footer

    @property
    def unit(self) -> float:
        """One 'typographic unit': 1/1000 of the picture height (at least 0.45 px so that small pictures read)."""
        return max(self.height / 1000.0, 0.45)


def layout(width: int, height: int, *, header: bool = True, footer: bool = True) -> Layout:
    h = int(round(min(max(0.072 * height, 22), 110))) if header else 0
    f = int(round(min(max(0.032 * height, 14), 48))) if footer else 0
    return Layout(int(width), int(height), h, f)


def draw_header(img: Image.Image, box: tuple[int, int, int, int], title: str, subtitle: str = "") -> None:
    """White band with a bold title on the left and a grey subtitle on the right."""
    x0, y0, x1, y1 = box
    d = ImageDraw.Draw(img)
    d.rectangle(box, fill=PAPER)
    d.line([(x0, y1 - 1), (x1, y1 - 1)], fill=(210, 214, 218), width=1)
    h = y1 - y0
    pad = max(4, int(0.3 * h))
    sub_f, subtitle = _fit(int(0.3 * h), subtitle, int(0.42 * (x1 - x0)))
    sub_w = _text_w(sub_f, subtitle)
    title_f, title = _fit(int(0.44 * h), title, (x1 - x0) - 3 * pad - sub_w, bold=True)
    d.text((x0 + pad, (y0 + y1) / 2), title, font=title_f, fill=INK, anchor="lm")
    if subtitle:
        d.text((x1 - pad, (y0 + y1) / 2), subtitle, font=sub_f, fill=GREY, anchor="rm")


def draw_footer(img: Image.Image, box: tuple[int, int, int, int], left: str, right: str = "") -> None:
    """Light grey band with the caption (data, place) on the left and the date/credit on the right."""
    x0, y0, x1, y1 = box
    d = ImageDraw.Draw(img)
    d.rectangle(box, fill=(243, 244, 246))
    h = y1 - y0
    pad = max(4, int(0.5 * h))
    rf, right = _fit(int(0.5 * h), right, int(0.4 * (x1 - x0)))
    lf, left = _fit(int(0.5 * h), left, (x1 - x0) - 3 * pad - _text_w(rf, right))
    d.text((x0 + pad, (y0 + y1) / 2), left, font=lf, fill=GREY, anchor="lm")
    if right:
        d.text((x1 - pad, (y0 + y1) / 2), right, font=rf, fill=GREY, anchor="rm")


def _panel(img: Image.Image, box, radius: int, alpha: int = 232) -> None:
    over = Image.new("RGBA", img.size, (0, 0, 0, 0))
    ImageDraw.Draw(over).rounded_rectangle(box, radius=radius, fill=(255, 255, 255, alpha),
                                           outline=(200, 204, 208, 255), width=1)
    img.alpha_composite(over)


def _fmt(v: float, span: float) -> str:
    if span == 0 or not math.isfinite(span):
        return f"{v:g}"
    digits = max(0, min(3, 1 - int(math.floor(math.log10(abs(span) / 5)))))
    s = f"{v:.{digits}f}"
    return "0" if s.strip("-0.") == "" else s


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    start = math.ceil(lo / step - 1e-9) * step
    out = []
    v = start
    while v <= hi + 1e-9 * span:
        out.append(round(v, 10))
        v += step
    return out


def _legend_size(lg, u: float) -> tuple[int, int]:
    fs, ts = int(20 * u), int(21 * u)
    title_h = int(ts * 1.5) if lg.title else 0
    if lg.kind == "bar":
        lo, hi = lg.clim
        labels = [_fmt(t, hi - lo) for t in _ticks(lo, hi)]
        w = int(26 * u) + int(10 * u) + max((_text_w(font(fs), s) for s in labels), default=0)
        return max(w, _text_w(font(ts, True), lg.title)) + int(8 * u), title_h + int(230 * u)
    row = int(fs * 1.45)
    w = int(22 * u) + int(10 * u) + max((_text_w(font(fs), s) for _, s in lg.items), default=0)
    return max(w, _text_w(font(ts, True), lg.title)) + int(8 * u), title_h + row * len(lg.items)


def draw_legends(img: Image.Image, region: tuple[int, int, int, int], legends, *, unit: float) -> None:
    """Legends stacked in a white rounded box at the top right of ``region`` (the 3D view)."""
    legends = [lg for lg in legends if lg is not None and (lg.kind == "bar" or lg.items)]
    if not legends:
        return
    u = unit
    x0, y0, x1, y1 = region
    max_w = int(0.42 * (x1 - x0))
    # very long labels in a small picture: shrink everything, a few times at most (fonts have
    # a minimum size and paddings a constant part, so the width may never quite fit)
    for _ in range(4):
        pad, gap = int(14 * u) + 2, int(16 * u) + 2
        sizes = [_legend_size(lg, u) for lg in legends]
        bw = max(w for w, _ in sizes) + 2 * pad
        if bw <= max_w or u < 0.25:
            break
        u = max(u * max_w / bw * 0.97, 0.25)
    bh = sum(h for _, h in sizes) + gap * (len(legends) - 1) + 2 * pad
    m = int(18 * u) + 2
    bx1, by0 = x1 - m, y0 + m
    bx0, by1 = bx1 - bw, min(y1 - m, by0 + bh)
    _panel(img, (bx0, by0, bx1, by1), radius=int(10 * u) + 1)
    d = ImageDraw.Draw(img)
    y = by0 + pad
    fs, ts = int(20 * u), int(21 * u)
    for lg, (_, h) in zip(legends, sizes):
        x = bx0 + pad
        yy = y
        if lg.title:
            d.text((x, yy), lg.title, font=font(ts, True), fill=INK, anchor="lt")
            yy += int(ts * 1.5)
        if lg.kind == "bar":
            bar_h, bar_w = int(210 * u), int(26 * u)
            lo, hi = lg.clim
            vals = np.linspace(hi, lo, max(bar_h, 2))
            col = colormap_rgb(vals, cmap=lg.cmap, clim=(lo, hi))
            strip = Image.fromarray(np.repeat(col[:, None, :], max(bar_w, 1), axis=1).astype(np.uint8), "RGB")
            img.paste(strip, (x, yy + int(8 * u)))
            d.rectangle((x, yy + int(8 * u), x + bar_w - 1, yy + int(8 * u) + bar_h - 1), outline=GREY)
            for t in _ticks(lo, hi):
                ty = yy + int(8 * u) + (hi - t) / (hi - lo) * (bar_h - 1) if hi > lo else yy + int(8 * u)
                d.line([(x + bar_w, ty), (x + bar_w + int(5 * u), ty)], fill=GREY)
                d.text((x + bar_w + int(9 * u), ty), _fmt(t, hi - lo), font=font(fs), fill=INK, anchor="lm")
        else:
            row = int(fs * 1.45)
            sw = int(22 * u)
            for rgb, label in lg.items:
                cy = yy + row / 2
                d.rounded_rectangle((x, cy - sw / 2 + 1, x + sw, cy + sw / 2 - 1), radius=max(1, int(3 * u)),
                                    fill=tuple(int(c) for c in rgb), outline=(120, 120, 120))
                d.text((x + sw + int(10 * u), cy), label, font=font(fs), fill=INK, anchor="lm")
                yy += row
        y += h + gap


def nice_length(max_m: float) -> float:
    """The largest 1-2-5 x 10^k length not above ``max_m``."""
    if max_m <= 0 or not math.isfinite(max_m):
        return 0.0
    mag = 10 ** math.floor(math.log10(max_m))
    for m in (5, 2, 1):
        if m * mag <= max_m:
            return m * mag
    return mag


def _fmt_len(m: float) -> str:
    return f"{m / 1000:g} km" if m >= 1000 else f"{m:g} m"


def draw_scale_and_north(img: Image.Image, region, *, px_per_m: float | None, north_angle: float | None,
                         approx: bool, unit: float, note: str = "") -> None:
    """A map scale bar (alternating black and white, 0 and length labels) and a north arrow, bottom left.

    ``north_angle`` is the direction of north on the picture, in degrees clockwise from up.
    ``approx`` marks a perspective view, where the scale holds only at the centre of the view
    (``note`` says so under the bar).
    """
    u = unit
    x0, _y0, x1, y1 = region
    m = int(18 * u) + 2
    fs = int(19 * u)
    nfs = int(15 * u)
    pad = int(12 * u) + 2
    bar_px, length = 0, 0.0
    if px_per_m and px_per_m > 0:
        length = nice_length(0.16 * (x1 - x0) / px_per_m)
        bar_px = int(round(length * px_per_m))
        if bar_px < 24 * u:
            bar_px = 0
    label = (("≈ " if approx else "") + _fmt_len(length)) if bar_px else ""
    lab_w = _text_w(font(fs, True), label)
    bar_w = 0
    if bar_px:
        bar_w = max(bar_px + lab_w // 2, _text_w(font(nfs), note) if note else 0)
    compass = int(58 * u) if north_angle is not None else 0
    gap = pad if (bar_w and compass) else 0
    content_w = bar_w + gap + compass
    if content_w == 0:
        return
    bar_h = int(fs * 1.3) + max(3, int(9 * u)) + (int(nfs * 1.5) if note and bar_px else 0)
    bh = max(compass, bar_h) + 2 * pad
    bx0, by1 = x0 + m, y1 - m
    bx1, by0 = bx0 + content_w + 2 * pad, by1 - bh
    _panel(img, (bx0, by0, bx1, by1), radius=int(10 * u) + 1)
    d = ImageDraw.Draw(img)
    x = bx0 + pad
    if bar_px:
        top = by0 + (bh - bar_h) / 2
        ty = top + int(fs * 1.3)
        th = max(3, int(9 * u))
        seg = 4 if bar_px > 80 * u else 2
        for k in range(seg):
            xa = x + k * bar_px / seg
            xb = x + (k + 1) * bar_px / seg
            d.rectangle((xa, ty, xb, ty + th), fill=INK if k % 2 == 0 else PAPER, outline=INK)
        d.text((x, ty - int(3 * u)), "0", font=font(fs), fill=INK, anchor="mb")
        d.text((x + bar_px, ty - int(3 * u)), label, font=font(fs, True), fill=INK, anchor="mb")
        if note:
            d.text((x, ty + th + int(5 * u)), note, font=font(nfs), fill=GREY, anchor="lt")
        x += bar_w + gap
    if compass:
        cx, cy = x + compass / 2, (by0 + by1) / 2
        r = compass / 2 - 1
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(250, 250, 250), outline=(170, 174, 178), width=1)
        a = math.radians(north_angle)
        ux, uy = math.sin(a), -math.cos(a)  # screen direction of north (y down)
        px, py = -uy, ux
        rr = r * 0.62
        tip = (cx + ux * rr, cy + uy * rr)
        tail = (cx - ux * rr, cy - uy * rr)
        left = (cx + px * rr * 0.34, cy + py * rr * 0.34)
        right = (cx - px * rr * 0.34, cy - py * rr * 0.34)
        d.polygon([tip, left, (cx, cy)], fill=(200, 40, 40))
        d.polygon([tip, right, (cx, cy)], fill=(150, 25, 25))
        d.polygon([tail, left, (cx, cy)], fill=(205, 208, 212))
        d.polygon([tail, right, (cx, cy)], fill=(160, 164, 170))
        nf = font(max(7, int(15 * u)), True)
        nx, ny = cx + ux * (rr + 0.5 * (r - rr) + 2 * u), cy + uy * (rr + 0.5 * (r - rr) + 2 * u)
        d.text((nx, ny), "N", font=nf, fill=INK, anchor="mm")


def draw_tag(img: Image.Image, region, text: str, *, unit: float, corner: str = "top-left", big: bool = False) -> None:
    """A label in a white rounded box at a corner of ``region`` (panel names, animation times)."""
    if not text:
        return
    u = unit
    x0, y0, x1, y1 = region
    f = font(int((30 if big else 22) * u), True)
    pad = int(10 * u) + 2
    m = int(18 * u) + 2
    w = _text_w(f, text) + 2 * pad
    h = int(f.size * 1.3) + 2 * pad
    bx0 = x0 + m if corner.endswith("left") else x1 - m - w
    by0 = y0 + m if corner.startswith("top") else y1 - m - h
    _panel(img, (bx0, by0, bx0 + w, by0 + h), radius=int(8 * u) + 1)
    ImageDraw.Draw(img).text((bx0 + pad, by0 + h / 2), text, font=f, fill=INK, anchor="lm")
