"""Plan-view quick-look maps of result layers (PNG): what changed where.

The 3D pictures are the kinds' (``Kind.render``, built on :mod:`twin.render`); these are
the plain maps every run and every comparison gets whatever the kind: a layer or a
difference drawn from above on a grey silhouette of the buildings, with a title, a
colour bar with units, a scale bar and a north arrow. matplotlib draws them
(object API, Agg canvas: no global state, no display needed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twin.core import Twin
from twin.io import atomic_output

__all__ = ["layer_map", "difference_map"]

_TEXT = {
    "en": {"change": "Change", "north": "N", "no_change": "no change", "today": "today", "with": "with the scenario"},
    "fr": {
        "change": "Variation",
        "north": "N",
        "no_change": "aucune variation",
        "today": "aujourd'hui",
        "with": "avec le scénario",
    },
}


def _nice_length(span: float) -> float:
    """A round scale-bar length near a fifth of ``span`` [m]."""
    target = span / 5
    exp = 10 ** np.floor(np.log10(max(target, 1e-9)))
    for m in (1, 2, 5, 10):
        if m * exp >= target:
            return float(m * exp)
    return float(10 * exp)


def _draw(
    values,
    twin: Twin | None,
    path,
    *,
    grid=None,
    title: str,
    subtitle: str,
    units: str,
    cmap: str,
    vmin: float,
    vmax: float,
    size: tuple[int, int],
    lang: str,
    note: str = "",
) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    w, h = size
    dpi = 100
    fig = Figure(figsize=(w / dpi, h / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.04, 0.06, 0.78, 0.82))
    cax = fig.add_axes((0.86, 0.15, 0.025, 0.64))
    g = twin.grid if twin is not None else grid
    extent = (0.0, g.ncols * g.cell_size, 0.0, g.nrows * g.cell_size)
    if twin is not None and "building_id" in twin:
        bld = np.where(twin.array("building_id") > 0, 1.0, np.nan)
        ax.imshow(bld, extent=extent, cmap="Greys", vmin=0, vmax=2.2, interpolation="nearest")
    arr = np.asarray(values, dtype=np.float64)
    im = ax.imshow(
        np.ma.masked_invalid(arr), extent=extent, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest", alpha=0.9
    )
    cb = fig.colorbar(im, cax=cax)
    cb.set_label(f"[{units}]" if units and units != "1" else "")
    fig.text(0.04, 0.95, title, fontsize=16, weight="bold", va="center")
    fig.text(0.04, 0.91, subtitle, fontsize=11, va="center", color="#333333")
    if note:
        fig.text(0.86, 0.1, note, fontsize=9, va="top", color="#555555")
    from twin.io import now_iso

    place = twin.name if twin is not None else ""
    left = " · ".join(p for p in (place, f"{g.crs}", f"{g.cell_size:g} m cells") if p)
    fig.text(0.04, 0.02, left, fontsize=9, color="#555555", va="center")
    fig.text(0.96, 0.02, f"jumeau · {now_iso()[:10]}", fontsize=9, color="#555555", va="center", ha="right")
    ax.set_xticks([])
    ax.set_yticks([])
    # scale bar and north arrow
    span = extent[1]
    L = _nice_length(span)
    x0, y0 = 0.04 * span, 0.05 * extent[3]
    ax.plot([x0, x0 + L], [y0, y0], color="black", lw=3, solid_capstyle="butt")
    ax.text(x0 + L / 2, y0 + 0.02 * extent[3], f"{L:g} m", ha="center", va="bottom", fontsize=9)
    ax.annotate(
        _TEXT[lang]["north"],
        xy=(0.95, 0.95),
        xytext=(0.95, 0.85),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=12,
        weight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5},
    )
    path = Path(path)
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return path


def _grid(da, twin, grid):
    if grid is not None:
        return grid
    if twin is not None:
        return twin.grid
    return da.twin.grid


def layer_map(
    da,
    twin: Twin | None,
    path,
    *,
    title: str = "",
    lang: str = "en",
    size: tuple[int, int] = (1200, 900),
    cmap: str = "viridis",
    grid=None,
) -> Path:
    """A plan map of one result layer (a twin DataArray with ``units`` and ``long_name``).

    ``twin`` (optional) draws the buildings in grey beneath.
    """
    values = np.asarray(da.values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if vmax <= vmin:
        vmax = vmin + 1.0
    return _draw(
        values,
        twin,
        path,
        grid=_grid(da, twin, grid),
        title=title,
        subtitle=da.attrs.get("long_name", da.name or ""),
        units=da.attrs.get("units", ""),
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        size=size,
        lang=lang,
    )


def difference_map(
    da,
    twin: Twin | None,
    path,
    *,
    title: str = "",
    lang: str = "en",
    size: tuple[int, int] = (1200, 900),
    subtitle: str | None = None,
    grid=None,
) -> Path:
    """A plan map of a difference layer, on a diverging scale centred on zero (cells without change left clear)."""
    values = np.asarray(da.values, dtype=np.float64)
    finite = np.abs(values[np.isfinite(values)])
    lim = float(np.percentile(finite[finite > 0], 99)) if (finite > 0).any() else 0.0
    note = "" if lim > 0 else _TEXT[lang]["no_change"]
    lim = lim if lim > 0 else 1.0
    shown = np.where(values == 0, np.nan, values)
    long_name = da.attrs.get("long_name", da.name or "")
    sub = subtitle or (long_name if long_name.startswith("change") else f"{_TEXT[lang]['change']}: {long_name}")
    return _draw(
        shown,
        twin,
        path,
        grid=_grid(da, twin, grid),
        title=title,
        subtitle=sub,
        units=da.attrs.get("units", ""),
        cmap="RdBu_r",
        vmin=-lim,
        vmax=lim,
        size=size,
        lang=lang,
        note=note,
    )
