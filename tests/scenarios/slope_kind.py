"""A small, real scenario kind for the runner's tests: terrain slope (Horn 1981).

Not a physics of jumeau: it lets the runner, the files, compare, render and the CLI be
tested end to end before (and independently of) the real kinds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from scenarios.kinds.base import Indicator, Kind, KindResult
from scenarios.units import parse_quantity
from twin.core import Twin, layer_dataarray
from twin.errors import TwinValueError
from twin.rasterize import compose_surface, rasterize_values


@dataclass(frozen=True)
class SlopeConfig:
    threshold: float  # [deg]
    method: str
    raises: tuple = ()
    defaults: dict = field(default_factory=dict)


def slope_horn(z: np.ndarray, cell_size: float) -> np.ndarray:
    """Slope [deg] by Horn's (1981) 3x3 finite differences, edges replicated.

    Horn, B. K. P. (1981). Hill shading and the reflectance map. Proc. IEEE 69(1), 14-47.
    doi:10.1109/PROC.1981.11918
    """
    p = np.pad(z.astype(np.float64), 1, mode="edge")
    a, b, c = p[:-2, :-2], p[:-2, 1:-1], p[:-2, 2:]
    d, f = p[1:-1, :-2], p[1:-1, 2:]
    g, h, i = p[2:, :-2], p[2:, 1:-1], p[2:, 2:]
    dzdx = ((c + 2 * f + i) - (a + 2 * d + g)) / (8 * cell_size)
    dzdy = ((g + 2 * h + i) - (a + 2 * b + c)) / (8 * cell_size)
    return np.degrees(np.arctan(np.hypot(dzdx, dzdy))).astype(np.float32)


class SlopeKind(Kind):
    name = "slope"
    views = ("top", "overview")
    title = {"en": "Terrain slope", "fr": "Pente du terrain"}
    sections = {
        "forcing": ("threshold",),
        "parameters": ("method",),
        "interventions": {"raise": ("polygon", "height")},
        "outputs": ("maps",),
    }

    def parse(self, scenario, *, base_dir: Path):
        forcing = scenario.get("forcing", {})
        if "threshold" not in forcing:
            raise TwinValueError("missing forcing.threshold (the slope above which ground counts as steep)")
        thr = parse_quantity(forcing["threshold"], "angle", name="forcing.threshold")
        if not 0 < thr < 90:
            raise TwinValueError(f"invalid forcing.threshold: {forcing['threshold']!r} (must be within 0..90 deg)")
        params = scenario.get("parameters", {})
        defaults = {}
        method = params.get("method")
        if method is None:
            method = "horn"
            defaults["method"] = "horn (Horn 1981)"
        if method != "horn":
            raise TwinValueError(f"invalid method: {method!r} (only 'horn')")
        raises = []
        for n, item in enumerate(scenario.get("interventions", [])):
            poly = item.get("polygon")
            if not isinstance(poly, list) or len(poly) < 3:
                raise TwinValueError(f"invalid interventions[{n + 1}].polygon: give at least 3 [x, y] points")
            h = parse_quantity(item.get("height", ""), "length", name="height")
            raises.append((shapely.Polygon(poly), h))
        return SlopeConfig(threshold=thr, method=method, raises=tuple(raises), defaults=defaults)

    def apply_interventions(self, twin: Twin, config: SlopeConfig) -> Twin:
        out = twin.copy()
        for poly, h in config.raises:
            bump = rasterize_values(out.grid, [poly], [h], fill=0.0, dtype="float32")
            terrain = out.array("terrain") + bump
            out.set_layer("terrain", terrain)
            out.set_layer("surface", compose_surface(terrain, out.array("building_height"), out.array("canopy_height")))
        return out

    def simulate(self, twin: Twin, config: SlopeConfig) -> KindResult:
        g = twin.grid
        slope = slope_horn(twin.array("terrain"), g.cell_size)
        steep = slope > config.threshold
        res = KindResult()
        res.layers["slope"] = layer_dataarray(g, "slope", slope, units="degree", long_name="terrain slope")
        res.layers["steep"] = layer_dataarray(g, "steep", steep.astype(np.uint8), units="1", long_name="steep ground")
        bid = twin.array("building_id")
        ids = twin.buildings["id"].to_numpy()
        mean = np.array([slope[bid == i].mean() if (bid == i).any() else np.nan for i in ids])
        import pandas as pd

        res.buildings = pd.DataFrame(
            {"mean_slope": mean.astype(np.float32), "on_steep": mean > config.threshold}, index=pd.Index(ids, name="id")
        )
        res.indicators = [
            Indicator(
                "mean_slope",
                float(slope.astype(np.float64).mean()),
                "degree",
                {"en": "Mean slope", "fr": "Pente moyenne"},
            ),
            Indicator(
                "steep_area",
                float(steep.sum() * g.cell_area),
                "m2",
                {"en": "Steep ground", "fr": "Terrain pentu"},
                better="lower",
            ),
            Indicator(
                "buildings_on_steep",
                float(np.nansum(mean > config.threshold)),
                "1",
                {"en": "Buildings on steep ground", "fr": "Bâtiments sur terrain pentu"},
                better="lower",
            ),
        ]
        res.frames = [(0.0, slope), (60.0, slope * 0.5)]
        res.meta = {
            "models": [{"name": "slope (Horn 1981)", "reference": "doi:10.1109/PROC.1981.11918"}],
            "defaults": dict(config.defaults),
        }
        return res

    def render(self, twin, result, out_dir, *, baseline=None, baseline_twin=None, view=None, lang="en",
               size=(1600, 1000), title=""):
        view = view or "top"
        from scenarios.maps import layer_map

        return [
            layer_map(
                result.layers["slope"], twin, Path(out_dir) / f"slope_{view}.png", title=title, lang=lang, size=size
            )
        ]


KIND = SlopeKind()
