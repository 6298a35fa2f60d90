"""Helpers of the energy tests: synthetic twins made of boxes, synthetic and real (Lyon EPW) weather.

The EPW reader here is a minimal private parse for the tests only (the project's reader is
importers.weather.read_epw); it produces the twin weather columns.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin import Grid, Twin

EPW_NAME = "weather/FRA_AR_Lyon-Bron.AP.074800_TMYx.2004-2018.epw"


def read_epw_for_tests(path) -> pd.DataFrame:
    """Lyon EPW -> twin weather table (fixed year 2019, UTC+1 standard time, start-of-hour index)."""
    with open(path, encoding="latin-1") as f:
        loc = f.readline().split(",")
    raw = pd.read_csv(path, skiprows=8, header=None)
    tz = float(loc[8])
    times = pd.date_range("2019-01-01", periods=len(raw), freq="h", tz=f"Etc/GMT{-int(tz):+d}")
    df = pd.DataFrame({
        "air_temperature": raw[6].to_numpy(float),
        "relative_humidity": raw[8].to_numpy(float),
        "pressure": raw[9].to_numpy(float),
        "global_horizontal": raw[13].to_numpy(float),
        "direct_normal": raw[14].to_numpy(float),
        "diffuse_horizontal": raw[15].to_numpy(float),
        "wind_direction": raw[20].to_numpy(float),
        "wind_speed": raw[21].to_numpy(float),
    }, index=times)
    df.attrs.update(latitude=float(loc[6]), longitude=float(loc[7]), elevation=float(loc[9]), source=str(path),
                    time_convention="start")
    return df


def constant_weather(hours: int, *, theta_e: float = 0.0, start="2019-01-01") -> pd.DataFrame:
    """Constant outdoor temperature, no sun."""
    times = pd.date_range(start, periods=hours, freq="h", tz="Etc/GMT-1")
    df = pd.DataFrame({"air_temperature": theta_e, "relative_humidity": 70.0, "global_horizontal": 0.0,
                       "direct_normal": 0.0, "diffuse_horizontal": 0.0, "wind_speed": 2.0}, index=times)
    df.attrs.update(latitude=45.73, longitude=4.94, elevation=200.0, source="constant")
    return df


def box_twin(boxes, *, uses=None, years=None, heights=None, floors=None, size=200.0, extra=None) -> Twin:
    """A twin with rectangular buildings ``(xmin, ymin, xmax, ymax)`` on a flat grid."""
    n = len(boxes)
    t = Twin.empty(Grid.from_bounds(0, 0, size, size, cell_size=1.0))
    data = {
        "id": np.arange(1, n + 1),
        "height": heights if heights is not None else [6.0] * n,
        "floors": floors if floors is not None else [2] * n,
        "use": uses if uses is not None else ["housing"] * n,
        "year": years if years is not None else [1960] * n,
    }
    data.update(extra or {})
    gdf = gpd.GeoDataFrame(data, geometry=[shapely.box(*b) for b in boxes], crs="EPSG:2154")
    t.set_table("buildings", gdf)
    return t


def with_surface(twin: Twin, *, trees=None) -> Twin:
    """Rasterize the buildings (and tree crowns ``[(x, y, height, crown_diameter), ...]``) into the surface layers."""
    from twin.rasterize import compose_surface, rasterize_buildings, tree_canopy

    ids, bh = rasterize_buildings(twin.grid, twin.buildings)
    canopy = np.zeros(twin.grid.shape, np.float32)
    if trees:
        x, y, h, d = (np.array(v, float) for v in zip(*trees))
        canopy = tree_canopy(twin.grid, x, y, h, d)
    terrain = twin.array("terrain")
    twin.set_layer("building_id", ids)
    twin.set_layer("building_height", bh)
    twin.set_layer("canopy_height", canopy)
    twin.set_layer("surface", compose_surface(terrain, bh, canopy))
    return twin
