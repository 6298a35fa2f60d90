"""Colours: land cover, building uses, colour maps, and class legends.

Every colour a picture shows is computed here, in NumPy, as 8-bit RGB: the 3D
scene, the legend drawn beside it and the glTF export thus always agree.

Two kinds of colouring:

* continuous: :func:`colormap_rgb` maps values through a Matplotlib colour map
  between ``clim`` bounds, and the legend is a colour bar with units;
* classes: a :class:`Classes` either bins values between edges (UTCI stress
  classes) or maps exact values to colours (DPE letters, exposed yes/no), and the
  legend lists the classes with their labels in English or French.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from twin.errors import TwinValueError
from twin.layers import LANDCOVER_INFO, Landcover
from twin.render.labels import pick

__all__ = [
    "RGB", "hex_rgb", "Classes", "UTCI_CLASSES", "DPE_CLASSES", "EXPOSURE_CLASSES", "colormap_rgb",
    "landcover_rgb", "BUILDING_STYLE", "NIGHT_STYLE", "cct_rgb", "use_group",
]

RGB = tuple[int, int, int]


def hex_rgb(color) -> RGB:
    """``"#rrggbb"``, a Matplotlib colour name or an (r, g, b) tuple (0-255 or 0-1) as 8-bit RGB."""
    if isinstance(color, str):
        if color.startswith("#") and len(color) == 7:
            return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))
        from matplotlib.colors import to_rgb

        try:
            return tuple(int(round(255 * c)) for c in to_rgb(color))
        except ValueError as err:
            raise TwinValueError(f"invalid colour: {color!r}") from err
    c = tuple(float(v) for v in color)[:3]
    if len(c) != 3:
        raise TwinValueError(f"invalid colour: {color!r}")
    if max(c) <= 1.0 and not all(float(v).is_integer() for v in c):
        c = tuple(255 * v for v in c)
    return tuple(int(round(min(255.0, max(0.0, v)))) for v in c)


@dataclass(frozen=True)
class Classes:
    """Discrete classes for a legend: value bins (``edges``) or exact values (``values``).

    Parameters
    ----------
    colors : sequence of colours
        One per class.
    labels : sequence of str or {"en", "fr"} dicts
        One per class, drawn in the legend.
    edges : sequence of float, optional
        ``len(colors) + 1`` increasing bin edges; class ``i`` holds ``edges[i] <= v < edges[i+1]``.
        Use ``-inf``/``inf`` for open ends.
    values : sequence, optional
        One value per class (``"A"``..``"G"``, ``True``/``False``): class ``i`` holds ``v == values[i]``.
    title : str or dict, optional
        Legend title (may be overridden by the caller's ``label``).

    Examples
    --------
    >>> from twin.render.palettes import Classes
    >>> flooded = Classes(values=[True, False], colors=["#d62728", "#d9d9d9"], labels=["flooded", "dry"])
    >>> flooded.classify([True, False, True]).tolist()
    [0, 1, 0]
    """

    colors: Sequence
    labels: Sequence
    edges: Sequence[float] | None = None
    values: Sequence | None = None
    title: object = None
    _rgb: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.colors)
        if n == 0 or len(self.labels) != n:
            raise TwinValueError(f"classes: {n} colours but {len(self.labels)} labels")
        if (self.edges is None) == (self.values is None):
            raise TwinValueError("classes: give either edges (bins) or values (categories)")
        if self.edges is not None:
            e = np.asarray(self.edges, dtype=float)
            if len(e) != n + 1 or np.any(np.diff(e) <= 0):
                raise TwinValueError(f"classes: need {n + 1} increasing edges, got {list(self.edges)}")
        if self.values is not None and len(self.values) != n:
            raise TwinValueError(f"classes: {n} colours but {len(self.values)} values")
        object.__setattr__(self, "_rgb", np.array([hex_rgb(c) for c in self.colors], dtype=np.uint8))

    @property
    def rgb(self) -> np.ndarray:
        """``(n, 3)`` uint8 colours."""
        return self._rgb

    def classify(self, values) -> np.ndarray:
        """Class index of each value (int16), -1 where the value is NaN or in no class."""
        if self.edges is not None:
            v = np.asarray(values, dtype=float)
            idx = np.searchsorted(np.asarray(self.edges, dtype=float), v, side="right") - 1
            idx[(idx < 0) | (idx >= len(self.colors)) | ~np.isfinite(v)] = -1
            return idx.astype(np.int16)
        arr = np.asarray(values, dtype=object).ravel()
        out = np.full(arr.shape, -1, dtype=np.int16)
        lookup = {_key(v): i for i, v in enumerate(self.values)}
        for j, v in enumerate(arr):
            out[j] = lookup.get(_key(v), -1)
        return out.reshape(np.shape(values))

    def label(self, i: int, lang: str) -> str:
        return pick(self.labels[i], lang)


def _key(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (np.integer, np.floating)):
        return v.item()
    return v


#: UTCI assessment scale: 10 thermal-stress categories [degC] (Bröde et al. 2012,
#: Int J Biometeorol 56:481-494, doi:10.1007/s00484-011-0454-1; Błażejczyk et al. 2013).
UTCI_CLASSES = Classes(
    edges=[-np.inf, -40, -27, -13, 0, 9, 26, 32, 38, 46, np.inf],
    colors=["#08306b", "#2171b5", "#4292c6", "#9ecae1", "#c6dbef", "#a1d99b", "#fdcc8a", "#fc8d59", "#d7301f",
            "#7f0000"],
    labels=[
        {"en": "extreme cold stress (< -40)", "fr": "stress extrême dû au froid (< -40)"},
        {"en": "very strong cold stress (-40 to -27)", "fr": "très fort stress dû au froid (-40 à -27)"},
        {"en": "strong cold stress (-27 to -13)", "fr": "fort stress dû au froid (-27 à -13)"},
        {"en": "moderate cold stress (-13 to 0)", "fr": "stress modéré dû au froid (-13 à 0)"},
        {"en": "slight cold stress (0 to 9)", "fr": "léger stress dû au froid (0 à 9)"},
        {"en": "no thermal stress (9 to 26)", "fr": "pas de stress thermique (9 à 26)"},
        {"en": "moderate heat stress (26 to 32)", "fr": "stress modéré dû à la chaleur (26 à 32)"},
        {"en": "strong heat stress (32 to 38)", "fr": "fort stress dû à la chaleur (32 à 38)"},
        {"en": "very strong heat stress (38 to 46)", "fr": "très fort stress dû à la chaleur (38 à 46)"},
        {"en": "extreme heat stress (> 46)", "fr": "stress extrême dû à la chaleur (> 46)"},
    ],
    title={"en": "UTCI [°C]", "fr": "UTCI [°C]"},
)

#: The seven energy-performance classes of the French DPE with the colours of the official label.
DPE_CLASSES = Classes(
    values=list("ABCDEFG"),
    colors=["#009c6d", "#52b153", "#78bd76", "#f4e70f", "#f0b50f", "#eb8235", "#d7221f"],
    labels=list("ABCDEFG"),
    title={"en": "Energy class (DPE)", "fr": "Classe énergie (DPE)"},
)

#: Exposed (True) or not (False), e.g. buildings reached by a flood.
EXPOSURE_CLASSES = Classes(
    values=[True, False],
    colors=["#d62728", "#e6e1d8"],
    labels=[{"en": "Exposed", "fr": "Exposé"}, {"en": "Not exposed", "fr": "Non exposé"}],
    title={"en": "Buildings", "fr": "Bâtiments"},
)


#: jumeau's own colour maps, by name, beside Matplotlib's: ``"water"`` (light to deep blue, never white,
#: so that shallow water still reads as water).
CUSTOM_CMAPS = {"water": ((0.0, (166, 206, 235)), (0.5, (49, 130, 189)), (1.0, (8, 40, 100)))}


def _lut(cmap: str) -> np.ndarray:
    """A 256 x 3 uint8 lookup table of a colour map (jumeau's or Matplotlib's)."""
    if cmap in CUSTOM_CMAPS:
        stops = CUSTOM_CMAPS[cmap]
        x = np.linspace(0.0, 1.0, 256)
        pos = np.array([s[0] for s in stops])
        cols = np.array([s[1] for s in stops], dtype=float)
        return np.stack([np.interp(x, pos, cols[:, k]) for k in range(3)], axis=1).round().astype(np.uint8)
    import matplotlib

    try:
        cm = matplotlib.colormaps[cmap]
    except KeyError as err:
        raise TwinValueError(f"invalid colour map: {cmap!r}") from err
    return (cm(np.linspace(0.0, 1.0, 256))[:, :3] * 255 + 0.5).astype(np.uint8)


def colormap_rgb(values, *, cmap: str = "viridis", clim: tuple[float, float]) -> np.ndarray:
    """Map values through a Matplotlib colour map between ``clim`` (clipped); ``(..., 3)`` uint8."""
    lut = _lut(cmap)
    lo, hi = float(clim[0]), float(clim[1])
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        hi = lo + 1.0
    v = np.asarray(values, dtype=float)
    idx = np.clip(((v - lo) / (hi - lo) * 255 + 0.5), 0, 255)
    idx = np.where(np.isfinite(idx), idx, 0).astype(np.int64)
    return lut[idx]


def landcover_rgb(landcover: np.ndarray, *, night: bool = False) -> np.ndarray:
    """RGB image ``(nrows, ncols, 3)`` of a land-cover layer with :data:`twin.layers.LANDCOVER_INFO` colours.

    Unknown cells are drawn as a neutral light green-grey (open ground) rather than black.
    """
    lut = np.zeros((256, 3), dtype=np.uint8)
    lut[:] = (196, 200, 170)
    for cls, (_, _, rgb) in LANDCOVER_INFO.items():
        if cls != Landcover.UNKNOWN:
            lut[int(cls)] = rgb
    img = lut[np.asarray(landcover, dtype=np.uint8)]
    if night:
        img = (img.astype(np.float32) * 0.22 + np.array([4, 6, 14], np.float32)).astype(np.uint8)
    return img


#: Building colours by group of uses (walls, roofs), day and night.
BUILDING_STYLE = {
    "wall": (238, 232, 220),
    "roof": {"homes": (196, 112, 82), "public": (92, 112, 150), "industry": (168, 168, 172)},
    "neutral_roof": (205, 200, 192),
}
NIGHT_STYLE = {"background": ((6, 10, 24), (28, 36, 64)), "wall": (44, 46, 58), "roof": (34, 36, 46)}

_GROUPS = {
    "homes": ("housing", "office", "shop", "unknown", ""),
    "public": ("school", "care_home", "town_hall", "health", "sports", "religious", "culture"),
    "industry": ("industrial", "agricultural", "annex"),
}
_USE_GROUP = {use: g for g, uses in _GROUPS.items() for use in uses}


def use_group(use: str) -> str:
    """``"homes"``, ``"public"`` or ``"industry"``: the colour group of a building use."""
    return _USE_GROUP.get(str(use), "homes")


def cct_rgb(cct) -> np.ndarray:
    """An indicative light colour for correlated colour temperatures [K] (NaN: 3000 K); ``(n, 3)`` uint8.

    Linear between warm amber (1800 K), warm white (3000 K) and cool white (6500 K):
    a legend aid, not colorimetry.
    """
    t = np.asarray(cct, dtype=float)
    t = np.where(np.isfinite(t), t, 3000.0)
    keys = np.array([1800.0, 3000.0, 4000.0, 6500.0])
    cols = np.array([(255, 160, 60), (255, 205, 130), (255, 236, 200), (225, 235, 255)], dtype=float)
    out = np.stack([np.interp(t, keys, cols[:, k]) for k in range(3)], axis=-1)
    return out.astype(np.uint8)


def mapping_values(ids: np.ndarray, values) -> tuple[np.ndarray, np.ndarray]:
    """Look up ``values`` (a mapping or a pandas Series indexed by id) for each id.

    Returns ``(found, out)``: a boolean mask and an object array of the values (None where absent).
    """
    if hasattr(values, "to_dict"):
        values = values.to_dict()
    if not isinstance(values, Mapping):
        raise TwinValueError("building values must be a mapping id -> value or a pandas Series indexed by id")
    out = np.empty(len(ids), dtype=object)
    found = np.zeros(len(ids), dtype=bool)
    for i, b in enumerate(np.asarray(ids).tolist()):
        if b in values:
            out[i] = values[b]
            found[i] = True
    return found, out
