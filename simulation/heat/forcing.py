"""Hourly forcing of the heat model: a generated heatwave day, sky longwave, and the checks.

* :func:`heatwave_day` makes the twin's weather table (:mod:`twin.weather`) for a day
  described by a few numbers (date, place, Tmin, Tmax, humidity, wind, clear or hazy
  sky), so that a planner can ask for "a 2003-like day" (:data:`HEATWAVE_PRESETS`).
* :func:`sky_longwave` is the downwelling longwave radiation of a clear or cloudy sky.
* :func:`prepare_forcing` turns any weather table (EPW, CSV observations, generated)
  into what the model steps on: checked, the sun placed at the middle of each hour,
  global radiation split where direct and diffuse are missing.

File readers live in ``importers/weather.py``; the model never imports them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pvlib
from scipy import constants

from simulation.heat.utci import UTCI_VALID, saturation_vapour_pressure
from simulation.sun import decompose_global, extraterrestrial_normal, solar_position, sunrise_sunset
from twin.errors import TwinValueError
from twin.weather import check_weather

__all__ = ["heatwave_day", "HEATWAVE_PRESETS", "LINKE_TURBIDITY", "sky_longwave", "clear_sky_emissivity",
           "prepare_forcing", "TIME_CONVENTIONS"]

SIGMA = constants.sigma
T0 = constants.zero_Celsius

#: sky -> Linke turbidity of the Ineichen-Perez clear-sky model (clear: rural summer air ~3;
#: hazy: the polluted, dusty air of a blocked anticyclone ~5; Remund et al. 2003)
LINKE_TURBIDITY = {"clear": 3.0, "hazy": 5.0}

#: Named heatwave days. "2003": the peak of the August 2003 heatwave in Lyon (approximate values
#: of the Lyon-Bron station around 13 August 2003: Tmax near 40 C, Tmin near 22 C, dry, calm, hazy).
HEATWAVE_PRESETS: dict[str, dict] = {
    "2003": {"date": "2003-08-13", "t_min": 22.0, "t_max": 39.5, "relative_humidity": 25.0, "wind_speed": 1.5,
             "sky": "hazy"},
    "2019": {"date": "2019-06-27", "t_min": 21.0, "t_max": 37.5, "relative_humidity": 25.0, "wind_speed": 2.0,
             "sky": "clear"},
}

#: time conventions of weather tables: where in the hour the sun is taken [minutes after the label]
TIME_CONVENTIONS = {"hour-start": 30.0, "hour-end": -30.0, "instant": 0.0}


def clear_sky_emissivity(air_temperature, vapour_pressure_hpa):
    """Clear-sky emissivity by Prata (1996), doi:10.1002/qj.49712253306:
    ``w = 46.5 e / T``, ``eps = 1 - (1 + w) exp(-sqrt(1.2 + 3 w))`` (e [hPa], T [K])."""
    tk = np.asarray(air_temperature, float) + T0
    w = 46.5 * np.asarray(vapour_pressure_hpa, float) / tk
    return 1.0 - (1.0 + w) * np.exp(-np.sqrt(1.2 + 3.0 * w))


def sky_longwave(air_temperature, relative_humidity, cloud_fraction=0.0):
    """Downwelling longwave irradiance on a horizontal surface [W m-2].

    ``L = (c + (1 - c) eps_clear) sigma Ta^4`` (Crawford & Duchon 1999,
    doi:10.1175/1520-0450(1999)038<0474:AIPFEE>2.0.CO;2), ``c`` the cloud fraction [1]
    and ``eps_clear`` from :func:`clear_sky_emissivity`.
    """
    ta = np.asarray(air_temperature, float)
    e = saturation_vapour_pressure(ta) * np.asarray(relative_humidity, float) / 100.0
    c = np.clip(np.asarray(cloud_fraction, float), 0.0, 1.0)
    eps = c + (1.0 - c) * clear_sky_emissivity(ta, e)
    return eps * SIGMA * (ta + T0) ** 4


def _diurnal_temperature(hours, *, t_rise, t_peak, t_min, t_max):
    """Air temperature [degC] at local decimal hours: sine rise from Tmin at sunrise to Tmax at
    ``t_peak``, then a half-cosine fall back to Tmin at the next sunrise (a periodic day)."""
    h = np.asarray(hours, float)
    amp = t_max - t_min
    rising = (h >= t_rise) & (h <= t_peak)
    out = np.empty_like(h)
    out[rising] = t_min + amp * np.sin(0.5 * np.pi * (h[rising] - t_rise) / (t_peak - t_rise))
    hh = np.where(h < t_rise, h + 24.0, h)[~rising]
    out[~rising] = t_min + amp * 0.5 * (1.0 + np.cos(np.pi * (hh - t_peak) / (t_rise + 24.0 - t_peak)))
    return out


def heatwave_day(*, date, latitude: float, longitude: float, t_min: float, t_max: float,
                 relative_humidity: float, wind_speed: float, sky: str = "clear", timezone: str = "Europe/Paris",
                 elevation: float = 200.0, peak_hour: float | None = None) -> pd.DataFrame:
    """A generated heatwave day as a weather table (24 hourly rows, hour-start convention).

    Parameters
    ----------
    date : str or date, the local day (e.g. "2003-08-13").
    latitude, longitude : float [degrees].
    t_min, t_max : float [degC], the day's minimum (at sunrise) and maximum air temperature.
    relative_humidity : float [%], at the time of ``t_max`` (the day's minimum); the
        vapour pressure is kept constant over the day (RH is higher at night).
    wind_speed : float [m s-1], at 10 m, constant.
    sky : {"clear", "hazy"}, the Linke turbidity of the clear-sky radiation (3 or 5).
    timezone : str, of the local times.
    elevation : float [m], site altitude (pressure and clear-sky radiation).
    peak_hour : float, local decimal hour of ``t_max``; by default solar noon + 2.5 h
        (15:00 solar time, about 16:00 in French summer time).

    Returns
    -------
    DataFrame with the :mod:`twin.weather` columns air_temperature, relative_humidity,
    global_horizontal, direct_normal, diffuse_horizontal, wind_speed, pressure,
    longwave_down, dew_point; ``attrs``: latitude, longitude, elevation, source,
    time_convention "hour-start" (values are means over the hour that starts at the label).

    Raises
    ------
    TwinValueError
        On values out of range, Tmin >= Tmax, or a date without a sunrise or a sunset at
        this latitude (polar night or day).

    Notes
    -----
    Clear-sky radiation by Ineichen & Perez (2002), doi:10.1016/S0038-092X(02)00045-2
    (pvlib), evaluated at the middle of each hour. Temperature: sine rise from sunrise to
    the peak, half-cosine fall to the next sunrise.
    """
    for name, v, lo, hi in (("t_min", t_min, -50, 50), ("t_max", t_max, -50, 55),
                            ("relative_humidity", relative_humidity, 1, 100), ("wind_speed", wind_speed, 0, 17),
                            ("latitude", latitude, -90, 90), ("longitude", longitude, -180, 180),
                            ("elevation", elevation, -500, 5000)):
        if not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
            raise TwinValueError(f"invalid heatwave {name}: {v!r} (must be within {lo:g}..{hi:g})")
    if t_min >= t_max:
        raise TwinValueError(f"invalid heatwave temperatures: t_min {t_min:g} >= t_max {t_max:g}")
    if sky not in LINKE_TURBIDITY:
        raise TwinValueError(f"invalid heatwave sky: {sky!r} (use {', '.join(LINKE_TURBIDITY)})")
    try:
        day = pd.Timestamp(date).tz_localize(timezone) if pd.Timestamp(date).tzinfo is None else pd.Timestamp(date)
    except (ValueError, TypeError) as err:
        raise TwinValueError(f"invalid heatwave date: {date!r} ({err})") from None
    day = day.normalize()
    rs = sunrise_sunset(pd.DatetimeIndex([day]), latitude, longitude).iloc[0]
    if rs["polar"]:
        raise TwinValueError(f"no sunrise or no sunset on {day.date()} at latitude {latitude:g} (polar {rs['polar']}): "
                             "a heatwave day needs a day and a night")
    t_rise = (rs["sunrise"] - day).total_seconds() / 3600.0
    t_noon = (rs["transit"] - day).total_seconds() / 3600.0
    peak = t_noon + 2.5 if peak_hour is None else float(peak_hour)
    if not t_rise + 1.0 < peak < t_rise + 23.0:
        raise TwinValueError(f"invalid heatwave peak_hour: {peak:g} (must follow the sunrise at {t_rise:.2f} h)")
    index = pd.date_range(day, periods=24, freq="h")
    mid = index + pd.Timedelta(minutes=30)
    hours_mid = np.arange(24) + 0.5
    ta = _diurnal_temperature(hours_mid, t_rise=t_rise, t_peak=peak, t_min=t_min, t_max=t_max)
    e_hpa = relative_humidity / 100.0 * saturation_vapour_pressure(t_max)
    rh = np.minimum(100.0, 100.0 * e_hpa / saturation_vapour_pressure(ta))
    sp = solar_position(mid, latitude, longitude, elevation=elevation)
    am_rel = pvlib.atmosphere.get_relative_airmass(sp["zenith"].to_numpy())
    pressure = float(pvlib.atmosphere.alt2pres(elevation))
    am_abs = pvlib.atmosphere.get_absolute_airmass(am_rel, pressure)
    dni_extra = extraterrestrial_normal(mid)
    with np.errstate(all="ignore"):  # the model divides by zero for the sun below the horizon
        cs = pvlib.clearsky.ineichen(sp["zenith"].to_numpy(), am_abs, LINKE_TURBIDITY[sky], altitude=elevation,
                                     dni_extra=dni_extra)
    up = sp["altitude"].to_numpy() > 0
    ghi = np.where(up, np.nan_to_num(np.asarray(cs["ghi"], float)), 0.0)
    dni = np.where(up, np.nan_to_num(np.asarray(cs["dni"], float)), 0.0)
    dhi = np.where(up, np.nan_to_num(np.asarray(cs["dhi"], float)), 0.0)
    e_series = rh / 100.0 * saturation_vapour_pressure(ta)
    # dew point by inverting the saturation curve numerically (monotonic)
    grid_t = np.linspace(-40, 45, 8501)
    dew = np.interp(e_series, saturation_vapour_pressure(grid_t), grid_t)
    df = pd.DataFrame(
        {
            "air_temperature": ta,
            "relative_humidity": rh,
            "global_horizontal": ghi,
            "direct_normal": dni,
            "diffuse_horizontal": dhi,
            "wind_speed": np.full(24, float(wind_speed)),
            "pressure": np.full(24, pressure),
            "longwave_down": sky_longwave(ta, rh, 0.0),
            "dew_point": dew,
        },
        index=index,
    )
    df.attrs.update({
        "latitude": float(latitude), "longitude": float(longitude), "elevation": float(elevation),
        "source": (f"generated heatwave day {day.date()}: Tmin {t_min:g} C, Tmax {t_max:g} C at {peak:.1f} h, "
                   f"RH {relative_humidity:g} % at Tmax, wind {wind_speed:g} m/s, {sky} sky (Linke {LINKE_TURBIDITY[sky]:g})"),
        "time_convention": "hour-start",
    })
    return check_weather(df, source="heatwave day")


def prepare_forcing(weather: pd.DataFrame, *, latitude: float, longitude: float, elevation: float = 0.0,
                    decomposition: str = "reindl", source: str = "weather") -> tuple[pd.DataFrame, dict]:
    """Check a weather table and add what the model steps on.

    Returns
    -------
    (DataFrame, notes): columns ``ta`` [degC], ``rh`` [%], ``wind`` [m s-1] (clamped to
    0.5..), ``ghi``, ``dni``, ``dhi``, ``l_sky`` [W m-2], ``sun_azimuth``, ``sun_altitude``
    [degrees] at the representative instant of each row; ``notes`` says what was assumed
    (time convention, decomposition, longwave estimate, wind clamping).

    Raises
    ------
    TwinValueError
        On gaps, values outside physical ranges (see :func:`twin.weather.check_weather`),
        air temperature outside the UTCI range -50..50 C or wind above 17 m/s.
    """
    check_weather(weather, source=source)
    if len(weather) == 0:
        raise TwinValueError(f"{source}: the weather table is empty")
    if weather.index.tz is None:
        raise TwinValueError(f"{source}: the weather index must be time-zone aware")
    notes: dict = {}
    conv = weather.attrs.get("time_convention")
    if conv is None:
        conv = "hour-start"
        notes["time_convention"] = "not given: hourly means over the hour starting at each label assumed"
    if conv not in TIME_CONVENTIONS:
        raise TwinValueError(f"{source}: unknown time_convention {conv!r} (known: {', '.join(TIME_CONVENTIONS)})")
    when = weather.index + pd.Timedelta(minutes=TIME_CONVENTIONS[conv])
    sp = solar_position(when, latitude, longitude, elevation=elevation)
    ta = weather["air_temperature"].to_numpy(float)
    rh = weather["relative_humidity"].to_numpy(float)
    wind = weather["wind_speed"].to_numpy(float)
    lo, hi = UTCI_VALID["air_temperature"]
    if ((ta < lo) | (ta > hi)).any():
        i = int(np.argmax((ta < lo) | (ta > hi)))
        raise TwinValueError(f"{source}: air temperature {ta[i]:g} C at {weather.index[i]} is outside the UTCI range {lo:g}..{hi:g}")
    if (wind > UTCI_VALID["wind_speed"][1]).any():
        i = int(np.argmax(wind > UTCI_VALID["wind_speed"][1]))
        raise TwinValueError(f"{source}: wind speed {wind[i]:g} m/s at {weather.index[i]} is above the UTCI range (17 m/s)")
    calm = wind < UTCI_VALID["wind_speed"][0]
    if calm.any():
        notes["wind_clamped_hours"] = int(calm.sum())
        notes["wind_clamped"] = "wind below 0.5 m/s raised to 0.5 m/s, the lower limit of the UTCI polynomial"
    ghi = weather["global_horizontal"].to_numpy(float)
    alt = sp["altitude"].to_numpy()
    if "direct_normal" in weather and "diffuse_horizontal" in weather:
        dni = weather["direct_normal"].to_numpy(float)
        dhi = weather["diffuse_horizontal"].to_numpy(float)
        # a reading of direct sun with the sun below the horizon (time stamps, rounding) is diffuse
        dni = np.where(alt > 0, dni, 0.0)
    else:
        d = decompose_global(ghi, when, latitude, longitude, model=decomposition, air_temperature=ta,
                             relative_humidity=rh, sun_altitude=alt)
        dni, dhi = d["dni"].to_numpy(), d["dhi"].to_numpy()
        notes["decomposition"] = f"direct and diffuse from global by {decomposition}"
    if "longwave_down" in weather:
        l_sky = weather["longwave_down"].to_numpy(float)
    else:
        # cloud fraction from the daytime clearness against the clear sky, carried through the night
        am = pvlib.atmosphere.get_absolute_airmass(pvlib.atmosphere.get_relative_airmass(sp["zenith"].to_numpy()))
        with np.errstate(all="ignore"):
            cs = pvlib.clearsky.ineichen(sp["zenith"].to_numpy(), am, 3.0, altitude=elevation,
                                         dni_extra=extraterrestrial_normal(when))
        ghi_clear = np.nan_to_num(np.asarray(cs["ghi"], float))
        day = (alt > 10) & (ghi_clear > 50)
        cf = pd.Series(np.where(day, np.clip(1.0 - ghi / np.where(day, ghi_clear, 1.0), 0, 1), np.nan), index=weather.index)
        cf = cf.ffill().bfill().fillna(0.0).to_numpy()
        l_sky = sky_longwave(ta, rh, cf)
        notes["longwave"] = "sky longwave from Prata (1996) clear-sky emissivity and Crawford & Duchon (1999) clouds"
    out = pd.DataFrame({
        "ta": ta, "rh": rh, "wind": np.maximum(wind, UTCI_VALID["wind_speed"][0]), "wind_measured": wind,
        "ghi": ghi, "dni": dni, "dhi": dhi, "l_sky": l_sky,
        "sun_azimuth": sp["azimuth"].to_numpy(), "sun_altitude": alt,
    }, index=weather.index)
    notes["time_convention_used"] = conv
    return out, notes
