"""The sun, shared by the heat, energy and lighting models.

* :func:`solar_position`: where the sun is (azimuth clockwise from north, altitude
  above the horizon, refraction-corrected), by the NREL SPA (pvlib).
* :func:`sunrise_sunset`: sunrise, transit and sunset per date (lighting's
  part-night switch-off, the heat model's day/night), with polar day and night said.
* :func:`decompose_global`: global horizontal -> direct normal + diffuse horizontal
  (Reindl 1990 by default, Erbs 1982 on request), a dict registry.
* :func:`irradiance_on_surfaces`: plane-of-array irradiance on tilted or vertical
  surfaces of any azimuth (isotropic sky or Perez 1990), for facades and roofs.

Conventions, everywhere in jumeau: angles in degrees; azimuth clockwise from north
(0 N, 90 E, 180 S, 270 W); altitude (elevation) above the horizontal, the zenith
angle being ``90 - altitude``; a surface azimuth is the direction its outward normal
faces, its tilt the angle from the horizontal (0 a flat roof, 90 a wall).
Times are tz-aware; naive times are refused (a naive time is a silent hour shift).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pvlib

from twin.errors import TwinValueError

__all__ = [
    "solar_position",
    "sunrise_sunset",
    "decompose_global",
    "decomposition_reindl",
    "decomposition_erbs",
    "DECOMPOSITION_MODELS",
    "irradiance_on_surfaces",
    "TRANSPOSITION_MODELS",
    "extraterrestrial_normal",
]


def _times(times, *, name: str = "times") -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(np.atleast_1d(pd.DatetimeIndex(times) if not isinstance(times, pd.DatetimeIndex) else times))
    if idx.tz is None:
        raise TwinValueError(f"invalid {name}: times must be time-zone aware (e.g. tz='Europe/Paris'), got naive times")
    return idx


def _latlon(latitude, longitude) -> tuple[float, float]:
    lat = float(latitude)
    lon = float(longitude)
    if not np.isfinite(lat) or not -90.0 <= lat <= 90.0:
        raise TwinValueError(f"invalid latitude: {latitude!r} (must be within -90..90 degrees)")
    if not np.isfinite(lon) or not -180.0 <= lon <= 180.0:
        raise TwinValueError(f"invalid longitude: {longitude!r} (must be within -180..180 degrees)")
    return lat, lon


def solar_position(times, latitude: float, longitude: float, *, elevation: float = 0.0) -> pd.DataFrame:
    """Sun position for times at a location, by the NREL Solar Position Algorithm.

    Parameters
    ----------
    times : DatetimeIndex or array-like of tz-aware datetimes
    latitude, longitude : float
        WGS84 [degrees], north and east positive.
    elevation : float
        Site altitude [m] (for the pressure used by the refraction correction).

    Returns
    -------
    DataFrame indexed by ``times`` with columns
        ``azimuth`` [degrees, clockwise from north], ``altitude`` [degrees, apparent,
        refraction-corrected], ``zenith`` [degrees, apparent, ``90 - altitude``],
        ``altitude_true`` [degrees, geometric].

    Notes
    -----
    Reda & Andreas (2004), Solar position algorithm for solar radiation applications,
    Solar Energy 76(5), 577-589, doi:10.1016/j.solener.2003.12.003 (pvlib ``nrel_numpy``).
    Accurate to about 0.0003 degrees; use :func:`sunrise_sunset` for day lengths.
    """
    idx = _times(times)
    lat, lon = _latlon(latitude, longitude)
    pressure = pvlib.atmosphere.alt2pres(float(elevation))
    sp = pvlib.solarposition.get_solarposition(idx, lat, lon, altitude=float(elevation), pressure=pressure,
                                               method="nrel_numpy")
    return pd.DataFrame(
        {
            "azimuth": sp["azimuth"].to_numpy(float),
            "altitude": sp["apparent_elevation"].to_numpy(float),
            "zenith": sp["apparent_zenith"].to_numpy(float),
            "altitude_true": sp["elevation"].to_numpy(float),
        },
        index=idx,
    )


def sunrise_sunset(dates, latitude: float, longitude: float) -> pd.DataFrame:
    """Sunrise, solar transit and sunset for each date at a location.

    Parameters
    ----------
    dates : DatetimeIndex or array-like of tz-aware datetimes (or a single one)
        The local dates asked for; the time of day is ignored.
    latitude, longitude : float
        WGS84 [degrees].

    Returns
    -------
    DataFrame indexed by the local midnight of each date, columns
        ``sunrise``, ``transit``, ``sunset`` (tz-aware, in the dates' time zone; NaT when
        the sun does not rise or does not set), ``day_length`` [h] (24 in polar day, 0 in
        polar night) and ``polar`` (``""``, ``"day"`` or ``"night"``).

    Notes
    -----
    NREL SPA sunrise/sunset (sun's upper limb with standard refraction, -0.8333 degrees),
    Reda & Andreas (2004), doi:10.1016/j.solener.2003.12.003, via pvlib
    ``sun_rise_set_transit_spa``.
    """
    idx = _times(dates, name="dates")
    lat, lon = _latlon(latitude, longitude)
    midnight = idx.normalize()
    out = pvlib.solarposition.sun_rise_set_transit_spa(midnight, lat, lon)
    sunrise, sunset, transit = (pd.DatetimeIndex(pd.to_datetime(out[c], utc=True)).tz_convert(idx.tz)
                                for c in ("sunrise", "sunset", "transit"))
    day_len = np.array((sunset - sunrise).total_seconds() / 3600.0, dtype=float)
    polar = np.full(len(idx), "", dtype=object)
    none = ~np.isfinite(day_len)
    if none.any():
        # no sunrise or no sunset: polar day if the sun is up at transit
        when = transit[none].where(~transit[none].isna(), midnight[none] + pd.Timedelta(hours=12))
        alt = solar_position(when, lat, lon)["altitude_true"].to_numpy()
        polar[none] = np.where(alt > 0, "day", "night")
        day_len[none] = np.where(alt > 0, 24.0, 0.0)
    return pd.DataFrame(
        {"sunrise": sunrise, "transit": transit, "sunset": sunset, "day_length": day_len, "polar": polar},
        index=midnight,
    )


def extraterrestrial_normal(times) -> np.ndarray:
    """Extraterrestrial normal irradiance [W m-2] for each time (Spencer 1971, solar constant 1366.1)."""
    idx = _times(times)
    # pvlib reckons the day of year in UTC; handing it the numbers rather than the DatetimeIndex avoids its
    # use of DatetimeIndex.dayofyear, which pandas deprecates (same values, no warning).
    doy = idx.tz_convert("UTC").day_of_year.to_numpy()
    return np.asarray(pvlib.irradiance.get_extra_radiation(doy), dtype=float)


# -- decomposition of global horizontal irradiance ------------------------------------------------

def _clearness(ghi, sin_alt, i0n):
    # a minimum sin(altitude) of 0.065 (altitude 3.7 degrees) as pvlib: below, kt is meaningless
    return np.clip(ghi / (i0n * np.maximum(sin_alt, 0.065)), 0.0, 1.0)


def decomposition_reindl(*, ghi, sun_altitude, extra_radiation, air_temperature=None, relative_humidity=None):
    """Diffuse fraction of global horizontal irradiance by Reindl et al. (1990).

    ``kt = ghi / (I0 sin(altitude))``; the diffuse fraction ``kd`` is piecewise linear in
    ``kt``, ``sin(altitude)`` and, when both are given, air temperature ``Ta`` [degC] and
    relative humidity ``RH`` [fraction] (the paper's full correlation, as SOLWEIG uses);
    otherwise the paper's reduced correlation in ``kt`` and ``sin(altitude)``:

    * full:   kt <= 0.3: 1.0 - 0.232 kt + 0.0239 s - 0.000682 Ta + 0.0195 RH (<= 1);
      0.3 < kt < 0.78: 1.329 - 1.716 kt + 0.267 s - 0.00357 Ta + 0.106 RH (0.1..0.97);
      kt >= 0.78: 0.426 kt - 0.256 s + 0.00349 Ta + 0.0734 RH (>= 0.1)
    * reduced: 1.02 - 0.254 kt + 0.0123 s (<= 1); 1.4 - 1.749 kt + 0.177 s (0.1..0.97);
      0.486 kt - 0.182 s (>= 0.1)

    Parameters
    ----------
    ghi : array [W m-2]
    sun_altitude : array [degrees]
    extra_radiation : array [W m-2], extraterrestrial normal irradiance
    air_temperature : array [degC], optional
    relative_humidity : array [%], optional

    Returns
    -------
    (kd, kt) arrays [1]

    References
    ----------
    Reindl, Beckman & Duffie (1990), Diffuse fraction correlations, Solar Energy 45(1), 1-7,
    doi:10.1016/0038-092X(90)90060-P.
    """
    ghi = np.asarray(ghi, float)
    s = np.sin(np.radians(np.asarray(sun_altitude, float)))
    kt = _clearness(ghi, s, np.asarray(extra_radiation, float))
    if air_temperature is not None and relative_humidity is not None:
        ta = np.asarray(air_temperature, float)
        rh = np.asarray(relative_humidity, float) / 100.0
        k1 = np.minimum(1.0 - 0.232 * kt + 0.0239 * s - 0.000682 * ta + 0.0195 * rh, 1.0)
        k2 = np.clip(1.329 - 1.716 * kt + 0.267 * s - 0.00357 * ta + 0.106 * rh, 0.1, 0.97)
        k3 = np.maximum(0.426 * kt - 0.256 * s + 0.00349 * ta + 0.0734 * rh, 0.1)
    else:
        k1 = np.minimum(1.02 - 0.254 * kt + 0.0123 * s, 1.0)
        k2 = np.clip(1.4 - 1.749 * kt + 0.177 * s, 0.1, 0.97)
        k3 = np.maximum(0.486 * kt - 0.182 * s, 0.1)
    kd = np.where(kt <= 0.3, k1, np.where(kt < 0.78, k2, k3))
    return np.clip(kd, 0.0, 1.0), kt


def decomposition_erbs(*, ghi, sun_altitude, extra_radiation, air_temperature=None, relative_humidity=None):
    """Diffuse fraction by Erbs, Klein & Duffie (1982), Solar Energy 28(4), 293-302,
    doi:10.1016/0038-092X(82)90302-4: kd = 1 - 0.09 kt (kt <= 0.22); 0.9511 - 0.1604 kt + 4.388 kt^2
    - 16.638 kt^3 + 12.336 kt^4 (kt <= 0.8); 0.165 above. Temperature and humidity are not used."""
    ghi = np.asarray(ghi, float)
    s = np.sin(np.radians(np.asarray(sun_altitude, float)))
    kt = _clearness(ghi, s, np.asarray(extra_radiation, float))
    mid = 0.9511 - 0.1604 * kt + 4.388 * kt**2 - 16.638 * kt**3 + 12.336 * kt**4
    kd = np.where(kt <= 0.22, 1.0 - 0.09 * kt, np.where(kt <= 0.8, mid, 0.165))
    return np.clip(kd, 0.0, 1.0), kt


#: name -> function(ghi=, sun_altitude=, extra_radiation=, air_temperature=, relative_humidity=) -> (kd, kt)
DECOMPOSITION_MODELS: dict[str, Callable] = {"reindl": decomposition_reindl, "erbs": decomposition_erbs}

#: below this sun altitude [degrees] all of the global irradiance is taken as diffuse (as pvlib's max_zenith=87)
MIN_ALTITUDE_DIRECT = 3.0


def decompose_global(ghi, times, latitude: float, longitude: float, *, model: str = "reindl",
                     air_temperature=None, relative_humidity=None, sun_altitude=None,
                     max_direct_normal: float = 1100.0) -> pd.DataFrame:
    """Split global horizontal irradiance into direct normal and diffuse horizontal.

    ``dhi = kd * ghi``, ``dni = (ghi - dhi) / sin(altitude)``, with ``kd`` from the chosen
    model (:data:`DECOMPOSITION_MODELS`). Below ``MIN_ALTITUDE_DIRECT`` (3 degrees) all is
    diffuse; ``dni`` is capped at ``max_direct_normal`` (the excess goes to diffuse, so
    ``dhi + dni sin(alt) == ghi`` always holds).

    Parameters
    ----------
    ghi : array [W m-2], hourly means
    times : tz-aware DatetimeIndex, the instants the sun position is taken at
        (for hourly means, the middle of the hour)
    latitude, longitude : float [degrees]
    model : {"reindl", "erbs"}
    air_temperature : array [degC], optional (Reindl's full correlation)
    relative_humidity : array [%], optional (Reindl's full correlation)
    sun_altitude : array [degrees], optional; computed when not given
    max_direct_normal : float [W m-2]

    Returns
    -------
    DataFrame with ``dni``, ``dhi`` [W m-2], ``kt``, ``kd`` [1], ``altitude`` [degrees].
    """
    if model not in DECOMPOSITION_MODELS:
        raise TwinValueError(f"unknown decomposition model {model!r} (known: {', '.join(DECOMPOSITION_MODELS)})")
    idx = _times(times)
    ghi = np.asarray(ghi, float).reshape(-1)
    if ghi.shape[0] != len(idx):
        raise TwinValueError(f"ghi has {ghi.shape[0]} values for {len(idx)} times")
    if not np.all(np.isfinite(ghi)) or (ghi < 0).any():
        raise TwinValueError("invalid ghi: values must be finite and >= 0 W m-2")
    if sun_altitude is None:
        sun_altitude = solar_position(idx, latitude, longitude)["altitude"].to_numpy()
    alt = np.asarray(sun_altitude, float)
    i0 = extraterrestrial_normal(idx)
    kd, kt = DECOMPOSITION_MODELS[model](ghi=ghi, sun_altitude=alt, extra_radiation=i0,
                                          air_temperature=air_temperature, relative_humidity=relative_humidity)
    s = np.sin(np.radians(alt))
    up = alt > MIN_ALTITUDE_DIRECT
    dni = np.where(up, (1.0 - kd) * ghi / np.where(up, s, 1.0), 0.0)
    dni = np.minimum(dni, max_direct_normal)
    dhi = ghi - dni * np.where(up, s, 0.0)
    return pd.DataFrame({"dni": dni, "dhi": np.maximum(dhi, 0.0), "kt": kt, "kd": np.where(ghi > 0, dhi / np.maximum(ghi, 1e-9), 1.0),
                         "altitude": alt}, index=idx)


# -- transposition to tilted surfaces ------------------------------------------------------------

TRANSPOSITION_MODELS = ("isotropic", "perez")


def irradiance_on_surfaces(*, surface_tilt, surface_azimuth, sun_azimuth, sun_altitude, dni, ghi, dhi,
                           albedo=0.2, model: str = "isotropic", dni_extra=None):
    """Irradiance on tilted or vertical surfaces (plane of array), by isotropic sky or Perez.

    Broadcasts like NumPy: pass hourly sun and irradiance as ``(n_hours, 1)`` and
    surfaces as ``(1, n_surfaces)`` to get ``(n_hours, n_surfaces)`` arrays.

    ``poa_direct = dni * max(0, cos(incidence))``; isotropic sky diffuse
    ``dhi (1 + cos tilt) / 2`` (Liu & Jordan 1963); ground-reflected
    ``albedo * ghi (1 - cos tilt) / 2``; Perez et al. (1990), Modeling daylight
    availability and irradiance components from direct and global irradiance, Solar
    Energy 44(5), 271-289, doi:10.1016/0038-092X(90)90055-H (pvlib implementation,
    ``allsitescomposite1990`` coefficients; needs ``dni_extra``).

    Shadows are not applied here: multiply ``poa_direct`` by the sunlit fraction from
    :func:`simulation.shadows.sunlit_at_points`, and the sky diffuse by a sky-view factor
    where the surroundings matter.

    Parameters
    ----------
    surface_tilt : array [degrees from horizontal] (90 = wall)
    surface_azimuth : array [degrees clockwise from north] the outward normal faces
    sun_azimuth, sun_altitude : array [degrees]
    dni, ghi, dhi : array [W m-2]
    albedo : float or array [1], ground reflectance
    model : {"isotropic", "perez"}
    dni_extra : array [W m-2], extraterrestrial normal irradiance (Perez only;
        see :func:`extraterrestrial_normal`)

    Returns
    -------
    dict of arrays [W m-2]: ``poa_global``, ``poa_direct``, ``poa_diffuse``,
    ``poa_sky_diffuse``, ``poa_ground_diffuse``, and ``cos_incidence`` [1].
    """
    if model not in TRANSPOSITION_MODELS:
        raise TwinValueError(f"unknown transposition model {model!r} (known: {', '.join(TRANSPOSITION_MODELS)})")
    tilt = np.asarray(surface_tilt, float)
    saz = np.asarray(surface_azimuth, float)
    az = np.asarray(sun_azimuth, float)
    alt = np.asarray(sun_altitude, float)
    dni = np.asarray(dni, float)
    ghi = np.asarray(ghi, float)
    dhi = np.asarray(dhi, float)
    if np.any((tilt < 0) | (tilt > 180)):
        raise TwinValueError("invalid surface_tilt: must be within 0..180 degrees")
    zen = 90.0 - alt
    cos_inc = np.asarray(pvlib.irradiance.aoi_projection(tilt, saz, zen, az), float)
    up = alt > 0
    direct = np.where(up, dni * np.maximum(cos_inc, 0.0), 0.0)
    ground = pvlib.irradiance.get_ground_diffuse(tilt, ghi, albedo=albedo)
    if model == "isotropic":
        sky = pvlib.irradiance.isotropic(tilt, dhi)
    else:
        if dni_extra is None:
            raise TwinValueError("the Perez model needs dni_extra (see simulation.sun.extraterrestrial_normal)")
        am = pvlib.atmosphere.get_relative_airmass(np.clip(zen, 0, 90))
        sky = pvlib.irradiance.perez(tilt, saz, dhi, dni, np.asarray(dni_extra, float), np.clip(zen, 0, 90), az, am,
                                     return_components=False)
        sky = np.nan_to_num(np.asarray(sky, float), nan=0.0)
    sky = np.maximum(np.asarray(sky, float), 0.0)
    ground = np.asarray(ground, float)
    shape = np.broadcast_shapes(direct.shape, sky.shape, ground.shape)
    direct, sky, ground = (np.broadcast_to(a, shape) for a in (direct, sky, ground))
    return {
        "poa_global": direct + sky + ground,
        "poa_direct": np.array(direct),
        "poa_diffuse": sky + ground,
        "poa_sky_diffuse": np.array(sky),
        "poa_ground_diffuse": np.array(ground),
        "cos_incidence": np.broadcast_to(cos_inc, shape).copy(),
    }
