"""Solar irradiance on facade orientations and roofs, and the sky directions used for shading.

Facades are grouped in ``K`` azimuth bins (vertical planes). For each hour the irradiance on each
bin is split into a part shaded like the sun (the beam, plus the circumsolar diffuse of the
Hay-Davies model) and a diffuse part (isotropic sky and ground-reflected) reduced by the facade's
view of the sky. Transposition models are a registry (:data:`TRANSPOSITION_MODELS`):

* ``isotropic`` (Liu & Jordan 1963): sky diffuse ``DHI (1 + cos beta) / 2``;
* ``haydavies`` (Hay & Davies 1980): anisotropy index ``A_i = DNI / I_0``; circumsolar
  ``DHI A_i R_b`` (shaded like the beam), isotropic rest ``DHI (1 - A_i) (1 + cos beta) / 2``,
  with ``R_b = cos(theta) / max(cos(zenith), cos 89 deg)``.

Ground-reflected irradiance is ``GHI rho (1 - cos beta) / 2`` with albedo ``rho``.

References
----------
Hay, J.E., Davies, J.A. (1980), Calculation of the solar radiation incident on an inclined surface,
Proc. First Canadian Solar Radiation Data Workshop, 59-72.
Liu, B.Y.H., Jordan, R.C. (1963), The long-term average performance of flat-plate solar-energy
collectors, Solar Energy 7(2), 53-74, doi:10.1016/0038-092X(63)90006-9.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TRANSPOSITION_MODELS", "SkyDirections", "facade_irradiance", "plane_irradiance", "sky_directions"]

_COS89 = np.cos(np.radians(89.0))


@dataclass(frozen=True)
class SkyDirections:
    """A partition of the sky hemisphere into cells (azimuth x altitude bands).

    Attributes
    ----------
    azimuth, altitude : ndarray
        Cell centres [degree]; azimuth clockwise from north.
    solid_angle : ndarray
        Cell solid angle [sr]; sums to 2 pi.
    n_azimuth : int
    band_edges : ndarray
        Altitude band edges [degree], from 0 to 90.
    """

    azimuth: np.ndarray
    altitude: np.ndarray
    solid_angle: np.ndarray
    n_azimuth: int
    band_edges: np.ndarray

    def __len__(self) -> int:
        return len(self.azimuth)

    def index(self, azimuth, altitude) -> np.ndarray:
        """The cell of each direction (-1 where the altitude is <= 0)."""
        az = np.mod(np.asarray(azimuth, dtype=np.float64), 360.0)
        alt = np.asarray(altitude, dtype=np.float64)
        step = 360.0 / self.n_azimuth
        ia = np.mod(np.floor(az / step + 0.5).astype(np.int64), self.n_azimuth)
        ib = np.clip(np.searchsorted(self.band_edges, alt, side="right") - 1, 0, len(self.band_edges) - 2)
        out = ib * self.n_azimuth + ia
        return np.where(alt > 0, out, -1)


def sky_directions(n_azimuth: int = 24, band_edges=(0, 6, 12, 20, 30, 42, 56, 72, 90)) -> SkyDirections:
    """Sky cells: ``n_azimuth`` sectors (centred on ``k * 360 / n``) times altitude bands.

    The default bands are narrower near the horizon, where the sun of a French winter stands and
    where neighbours obstruct most.
    """
    edges = np.asarray(band_edges, dtype=np.float64)
    if edges[0] != 0 or edges[-1] != 90 or np.any(np.diff(edges) <= 0):
        raise ValueError("band_edges must increase from 0 to 90 degrees")
    step = 360.0 / n_azimuth
    az = np.tile(np.arange(n_azimuth) * step, len(edges) - 1)
    lo = np.repeat(edges[:-1], n_azimuth)
    hi = np.repeat(edges[1:], n_azimuth)
    alt = 0.5 * (lo + hi)
    omega = np.radians(step) * (np.sin(np.radians(hi)) - np.sin(np.radians(lo)))
    return SkyDirections(azimuth=az, altitude=alt, solid_angle=omega, n_azimuth=n_azimuth, band_edges=edges)


def _cos_incidence(tilt, surface_azimuth, sun_azimuth, sun_altitude):
    t = np.radians(tilt)
    el = np.radians(sun_altitude)
    return np.cos(el) * np.sin(t) * np.cos(np.radians(sun_azimuth - surface_azimuth)) + np.sin(el) * np.cos(t)


def _isotropic(*, cos_inc, cos_zenith, tilt, dni, dhi, ghi, dni_extra, albedo):
    t = np.radians(tilt)
    beam = dni * np.maximum(cos_inc, 0.0)
    diffuse = dhi * (1.0 + np.cos(t)) / 2.0 + ghi * albedo * (1.0 - np.cos(t)) / 2.0
    return beam, diffuse


def _haydavies(*, cos_inc, cos_zenith, tilt, dni, dhi, ghi, dni_extra, albedo):
    t = np.radians(tilt)
    ai = np.clip(dni / np.maximum(dni_extra, 1.0), 0.0, 1.0)
    rb = np.maximum(cos_inc, 0.0) / np.maximum(cos_zenith, _COS89)
    up = cos_zenith > 0
    beam = np.where(up, dni * np.maximum(cos_inc, 0.0) + dhi * ai * rb, 0.0)
    diffuse = dhi * (1.0 - np.where(up, ai, 0.0)) * (1.0 + np.cos(t)) / 2.0 + ghi * albedo * (1.0 - np.cos(t)) / 2.0
    return beam, diffuse


#: Transposition models by name: ``f(*, cos_inc, cos_zenith, tilt, dni, dhi, ghi, dni_extra, albedo) -> (beam, diffuse)``.
TRANSPOSITION_MODELS = {"isotropic": _isotropic, "haydavies": _haydavies}


def plane_irradiance(*, tilt, surface_azimuth, sun_azimuth, sun_altitude, dni, dhi, ghi, dni_extra, albedo=0.2,
                     model="haydavies"):
    """Irradiance on planes, split into a beam-like part and a diffuse part [W m-2].

    Parameters
    ----------
    tilt, surface_azimuth : float or array broadcastable against the times
        Plane tilt from horizontal and outward-normal azimuth [degree, clockwise from north].
    sun_azimuth, sun_altitude : array
        [degree].
    dni, dhi, ghi, dni_extra : array
        Direct normal, diffuse horizontal, global horizontal and extraterrestrial normal [W m-2].
    albedo : float
        Ground reflectance [1].
    model : str
        A key of :data:`TRANSPOSITION_MODELS`.

    Returns
    -------
    beam, diffuse : ndarray
        The part shaded like the sun (beam + circumsolar) and the rest (sky + ground) [W m-2].
    """
    try:
        fn = TRANSPOSITION_MODELS[model]
    except KeyError:
        raise ValueError(f"unknown transposition model {model!r}; expected one of {', '.join(TRANSPOSITION_MODELS)}") from None
    cos_inc = _cos_incidence(tilt, surface_azimuth, sun_azimuth, sun_altitude)
    cos_zen = np.sin(np.radians(sun_altitude))
    up = sun_altitude > 0
    beam, diffuse = fn(cos_inc=np.where(up, cos_inc, 0.0), cos_zenith=np.where(up, cos_zen, 0.0), tilt=tilt,
                       dni=np.where(up, dni, 0.0), dhi=dhi, ghi=ghi, dni_extra=dni_extra, albedo=albedo)
    return beam, diffuse


def facade_irradiance(*, azimuths, sun_azimuth, sun_altitude, dni, dhi, ghi, dni_extra, albedo=0.2, model="haydavies"):
    """Irradiance on vertical planes facing each azimuth bin, and on the horizontal.

    Returns
    -------
    beam, diffuse : ndarray, shape (n_t, K)
        On the vertical bins [W m-2].
    beam_h, diffuse_h : ndarray, shape (n_t,)
        On the horizontal [W m-2].
    """
    az = np.asarray(azimuths, dtype=np.float64)[None, :]
    col = lambda v: np.asarray(v, dtype=np.float64)[:, None]
    beam, diffuse = plane_irradiance(tilt=90.0, surface_azimuth=az, sun_azimuth=col(sun_azimuth),
                                     sun_altitude=col(sun_altitude), dni=col(dni), dhi=col(dhi), ghi=col(ghi),
                                     dni_extra=col(dni_extra), albedo=albedo, model=model)
    diffuse = np.broadcast_to(diffuse, beam.shape)
    bh, dh = plane_irradiance(tilt=0.0, surface_azimuth=180.0, sun_azimuth=np.asarray(sun_azimuth, float),
                              sun_altitude=np.asarray(sun_altitude, float), dni=np.asarray(dni, float),
                              dhi=np.asarray(dhi, float), ghi=np.asarray(ghi, float),
                              dni_extra=np.asarray(dni_extra, float), albedo=albedo, model=model)
    return (np.ascontiguousarray(beam), np.ascontiguousarray(diffuse), np.asarray(bh, float), np.asarray(dh, float))
