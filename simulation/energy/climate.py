"""A synthetic typical year of hourly weather from monthly climate statistics (no file needed).

The demo town and quick studies need a year of weather that ships with the package. This generator
rebuilds one, deterministically (``seed``), from the monthly statistics in ``data/climate_normals.csv``:

* daily minimum and maximum temperatures follow the monthly means (interpolated day by day between
  month centres), plus an autocorrelated day-to-day anomaly (AR(1), lag-one correlation 0.75,
  standard deviation 2.5 K) so that cold spells and heat peaks exist; the hourly temperature follows
  a cosine between the minimum at 05:00 and the maximum at 15:00;
* global horizontal irradiance is the Haurwitz (1945) clear-sky irradiance times a daily clearness
  factor (autocorrelated, Beta-distributed), rescaled so that every month receives its mean
  irradiation; direct and diffuse parts come from the Reindl (1990) decomposition of
  :func:`simulation.sun.decompose_global`;
* relative humidity and wind keep their monthly means, humidity with a daily cycle opposite to
  the temperature.

It reproduces the monthly means and degree-days of the site, not the persistence and extremes of
real weather: use a real EPW file (``importers.weather``) for design loads and heatwaves.

References
----------
Haurwitz, B. (1945), Insolation in relation to cloudiness and cloud density, Journal of Meteorology 2,
154-166, doi:10.1175/1520-0469(1945)002<0154:IIRTCA>2.0.CO;2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.energy.archetypes import load_table
from twin.errors import TwinValueError

__all__ = ["climate_sites", "typical_year"]


def climate_sites() -> list[str]:
    """Sites of ``data/climate_normals.csv``."""
    return sorted(set(load_table("climate_normals")["site"]))


def _daily(values_by_month, days):
    """Monthly values at month centres, interpolated periodically to each day of the year."""
    centres = np.array([15.5, 45, 74.5, 105, 135.5, 166, 196.5, 227.5, 258, 288.5, 319, 349.5])
    x = np.concatenate([centres - 365, centres, centres + 365])
    y = np.tile(np.asarray(values_by_month, float), 3)
    return np.interp(days, x, y)


def _ar1(rng, n, rho, sigma):
    e = rng.normal(0.0, sigma * np.sqrt(1 - rho * rho), n)
    out = np.empty(n)
    out[0] = rng.normal(0.0, sigma)
    for i in range(1, n):
        out[i] = rho * out[i - 1] + e[i]
    return out


def typical_year(site: str = "lyon", *, year: int = 2019, seed: int = 0) -> pd.DataFrame:
    """A year of hourly weather for a site of ``data/climate_normals.csv``.

    Parameters
    ----------
    site : str
        One of :func:`climate_sites`.
    year : int
        Calendar year of the index (French standard time, UTC+1, start of each hour).
    seed : int
        Seed of the day-to-day variations.

    Returns
    -------
    DataFrame
        The twin weather columns (``air_temperature`` [degC], ``relative_humidity`` [%],
        ``global_horizontal``, ``direct_normal``, ``diffuse_horizontal`` [W m-2], ``wind_speed``
        [m s-1]), ``attrs`` with latitude, longitude, elevation, source and time_convention.

    Raises
    ------
    TwinValueError
        On an unknown site.
    """
    from simulation.sun import decompose_global, solar_position

    tab = load_table("climate_normals")
    rows = tab[tab["site"] == site].sort_values("month")
    if len(rows) != 12:
        raise TwinValueError(f"unknown climate site {site!r}; known: {', '.join(climate_sites())}")
    lat, lon, elev = (float(rows[c].iloc[0]) for c in ("latitude", "longitude", "elevation"))
    rng = np.random.default_rng(seed)
    times = pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="h", tz="Etc/GMT-1", inclusive="left")
    n_days = len(times) // 24
    doy = np.arange(n_days) + 0.5
    t_min = _daily(rows["t_min"], doy)
    t_max = _daily(rows["t_max"], doy)
    anomaly = _ar1(rng, n_days, 0.75, 2.5)
    # daily clearness: Beta around the month's mean clearness, autocorrelated through a Gaussian copula
    z = _ar1(rng, n_days, 0.6, 1.0)
    from scipy import stats

    u = stats.norm.cdf(z)
    clear = stats.beta.ppf(u, 2.0, 1.6)
    amp = (t_max - t_min) * (0.7 + 0.6 * clear)
    mean = 0.5 * (t_min + t_max) + anomaly
    hour = np.asarray(times.hour, float)
    day = np.repeat(np.arange(n_days), 24)
    t = mean[day] + 0.5 * amp[day] * np.cos(2 * np.pi * (hour + 0.5 - 15.0) / 24.0)
    mid = times + pd.Timedelta("30min")
    alt = solar_position(mid, lat, lon, elevation=elev)["altitude"].to_numpy()
    cosz = np.clip(np.sin(np.radians(alt)), 0.0, None)
    ghi_cs = np.where(cosz > 0, 1098.0 * cosz * np.exp(-0.057 / np.maximum(cosz, 1e-3)), 0.0)
    k = 0.25 + 0.75 * clear[day]
    ghi = ghi_cs * k
    month = np.asarray(times.month) - 1
    target = rows["ghi"].to_numpy(float) * 1000.0
    for m in range(12):
        sel = month == m
        s = ghi[sel].sum()
        if s > 0:
            ghi[sel] *= target[m] / s
    ghi = np.minimum(ghi, ghi_cs * 1.1)
    rh_month = rows["rh"].to_numpy(float)[month]
    rh = np.clip(rh_month - 12.0 * np.cos(2 * np.pi * (hour + 0.5 - 15.0) / 24.0), 10.0, 100.0)
    wind = rows["wind"].to_numpy(float)[month]
    dec = decompose_global(ghi, mid, lat, lon, model="reindl", air_temperature=t, relative_humidity=rh,
                           sun_altitude=alt)
    df = pd.DataFrame({"air_temperature": t, "relative_humidity": rh, "global_horizontal": ghi,
                       "direct_normal": dec["dni"].to_numpy(), "diffuse_horizontal": dec["dhi"].to_numpy(),
                       "wind_speed": wind}, index=times)
    df.attrs.update(latitude=lat, longitude=lon, elevation=elev, time_convention="start",
                    source=f"synthetic typical year: {site} monthly statistics (simulation.energy.climate, seed {seed})")
    return df
