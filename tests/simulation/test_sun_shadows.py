"""The shared sun and shadow code: solar geometry, decomposition, transposition, shadows, sky views.

Reference values: the solar noon altitude 90 - latitude + declination; the shadow of a
wall h / tan(altitude); the infinite street canyon SVF = W / sqrt(W^2 + 4 H^2)
(physics.md section 2; Oke 1987); brute-force ray marches for every kernel.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from simulation import _shadow_kernels as K
from simulation.shadows import (
    sky_view_factor,
    solid_and_crowns,
    sunlit_at_points,
    sunlit_fraction,
    wall_heights_and_aspects,
)
from simulation.sun import (
    decompose_global,
    irradiance_on_surfaces,
    solar_position,
    sunrise_sunset,
)
from twin.errors import TwinValueError
from twin.grid import Grid

LYON = (45.7578, 4.8320)


# -- sun ---------------------------------------------------------------------------------------

def test_solar_noon_altitude_lyon_summer_solstice():
    # at transit the geometric altitude is 90 - latitude + declination (23.44 deg on 21 June)
    rs = sunrise_sunset(pd.DatetimeIndex(["2023-06-21"], tz="Europe/Paris"), *LYON)
    transit = rs["transit"].iloc[0]
    sp = solar_position(pd.DatetimeIndex([transit]), *LYON)
    assert sp["altitude_true"].iloc[0] == pytest.approx(90 - LYON[0] + 23.44, abs=0.05)
    assert sp["azimuth"].iloc[0] == pytest.approx(180.0, abs=0.2)
    # solar noon in Lyon (UTC+2, 4.83 E, equation of time -1.7 min) is about 13:42 local time
    assert transit.hour == 13 and 38 <= transit.minute <= 46


def test_sun_position_conventions():
    t = pd.DatetimeIndex(["2023-03-20 08:00", "2023-03-20 18:00"], tz="Europe/Paris")
    sp = solar_position(t, *LYON)
    assert 90 < sp["azimuth"].iloc[0] < 135  # morning: east-south-east
    assert 225 < sp["azimuth"].iloc[1] < 270  # evening: west-south-west
    np.testing.assert_allclose(sp["zenith"] + sp["altitude"], 90.0)


def test_naive_times_are_refused():
    with pytest.raises(TwinValueError, match="time-zone aware"):
        solar_position(pd.DatetimeIndex(["2023-06-21 12:00"]), *LYON)
    with pytest.raises(TwinValueError, match="latitude"):
        solar_position(pd.DatetimeIndex(["2023-06-21 12:00"], tz="UTC"), 95, 0)


def test_sunrise_sunset_equinox_and_polar():
    rs = sunrise_sunset(pd.DatetimeIndex(["2023-03-20", "2023-06-21", "2023-12-21"], tz="Europe/Paris"), *LYON)
    # equinox: a little over 12 h (refraction and the sun's radius add ~8 minutes)
    assert rs["day_length"].iloc[0] == pytest.approx(12.13, abs=0.05)
    assert rs["day_length"].iloc[1] == pytest.approx(15.7, abs=0.1)
    assert rs["day_length"].iloc[2] == pytest.approx(8.6, abs=0.1)
    assert (rs["polar"] == "").all()
    polar = sunrise_sunset(pd.DatetimeIndex(["2023-12-21", "2023-06-21"], tz="UTC"), 80.0, 15.0)
    assert list(polar["polar"]) == ["night", "day"]
    assert list(polar["day_length"]) == [0.0, 24.0]
    assert polar["sunrise"].isna().all()


@pytest.mark.parametrize("model", ["reindl", "erbs"])
def test_decomposition_closes_and_is_dark_at_night(model):
    t = pd.date_range("2023-07-15 00:30", periods=24, freq="h", tz="Europe/Paris")
    alt = solar_position(t, *LYON)["altitude"].to_numpy()
    ghi = np.clip(900 * np.sin(np.radians(alt)), 0, None)
    d = decompose_global(ghi, t, *LYON, model=model, air_temperature=np.full(24, 30.0),
                         relative_humidity=np.full(24, 40.0))
    s = np.sin(np.radians(alt))
    np.testing.assert_allclose(d["dhi"] + d["dni"] * np.where(alt > 3, s, 0), ghi, atol=1e-6)
    assert (d.loc[alt <= 0, ["dni", "dhi"]].to_numpy() == 0).all()
    noon = np.argmax(alt)
    # a clear summer noon: kt about 0.7, diffuse 12-40 % of global (Reindl is on the high side), DNI 550-1000
    assert 0.6 < d["kt"].iloc[noon] < 0.8
    assert 0.1 < d["kd"].iloc[noon] < 0.4
    assert 550 < d["dni"].iloc[noon] < 1000


def test_reindl_overcast_is_all_diffuse():
    t = pd.DatetimeIndex(["2023-07-15 13:30"], tz="Europe/Paris")
    d = decompose_global([150.0], t, *LYON, model="reindl")
    assert d["kt"].iloc[0] < 0.2
    assert d["kd"].iloc[0] > 0.95


def test_transposition_horizontal_and_vertical():
    az, alt = 180.0, 60.0
    out = irradiance_on_surfaces(surface_tilt=np.array([0.0, 90.0, 90.0, 90.0]),
                                 surface_azimuth=np.array([180.0, 180.0, 0.0, 90.0]),
                                 sun_azimuth=az, sun_altitude=alt, dni=800.0, ghi=800 * math.sin(math.radians(60)) + 100,
                                 dhi=100.0, albedo=0.2)
    g = out["poa_global"]
    assert g[0] == pytest.approx(800 * math.sin(math.radians(60)) + 100)  # a flat roof sees the global
    assert out["poa_direct"][1] == pytest.approx(800 * math.cos(math.radians(60)))  # south wall, sun in the south
    assert out["poa_direct"][2] == 0.0  # north wall
    assert out["poa_direct"][3] == pytest.approx(0.0, abs=1e-9)  # east wall, sun due south
    assert out["poa_sky_diffuse"][1] == pytest.approx(50.0)  # half the isotropic sky
    # broadcasting: hours x surfaces
    t = pd.date_range("2023-07-15 06:30", periods=14, freq="h", tz="Europe/Paris")
    sp = solar_position(t, *LYON)
    out = irradiance_on_surfaces(surface_tilt=np.full((1, 4), 90.0), surface_azimuth=np.array([[0, 90, 180, 270]]),
                                 sun_azimuth=sp["azimuth"].to_numpy()[:, None], sun_altitude=sp["altitude"].to_numpy()[:, None],
                                 dni=np.full((14, 1), 700.0), ghi=np.full((14, 1), 800.0), dhi=np.full((14, 1), 100.0),
                                 model="perez", dni_extra=np.full((14, 1), 1322.0))
    assert out["poa_global"].shape == (14, 4)
    assert out["poa_direct"][:, 1].argmax() < out["poa_direct"][:, 3].argmax()  # east before west


# -- shadows -------------------------------------------------------------------------------------

def _wall_block(cs, h, n=None, ncols=None):
    """A long east-west building in the south half; its north face at y = face_row (cell edge)."""
    n = n or int(round(60 / cs))
    z = np.zeros((n, ncols or n), np.float32)
    face_row = n // 2
    z[face_row:, :] = h
    return z, face_row


@pytest.mark.parametrize("cs", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("alt", [15.0, 30.0, 45.0, 63.0])
@pytest.mark.parametrize("dazi", [0.0, 30.0, 45.0, -52.0])
def test_shadow_length_of_a_wall(cs, alt, dazi):
    """Cells whose centre is closer to the face than h cos(d) / tan(alt) are in shadow, and only they.

    The sun is in the south (azimuth 180 + dazi); the face runs east-west and faces north,
    so the shadow lies to the north, its depth across the wall h cos(dazi) / tan(alt).
    """
    h = 9.3
    depth = h * math.cos(math.radians(dazi)) / math.tan(math.radians(alt))
    z, face = _wall_block(cs, h, n=int((2 * depth + 20) / cs), ncols=int((4 * depth + 40) / cs))
    s = sunlit_fraction(surface=z, cell_size=cs, sun_azimuth=180.0 + dazi, sun_altitude=alt)
    col = z.shape[1] // 2  # far from the block's ends
    d = (face - np.arange(face) - 0.5) * cs  # distance of each northern row centre to the face
    expected = (d >= depth).astype(np.float32)  # sunlit
    clear = np.abs(d - depth) > 1e-4
    np.testing.assert_array_equal(s[:face, col][clear], expected[clear])
    assert (s[face:, col] == 1.0).all()  # the roof is lit
    n_shadow = int((s[:face, col] == 0).sum())
    assert abs(n_shadow * cs - depth) <= cs  # the length in metres, whatever the cell size


@pytest.mark.parametrize("cs", [0.5, 1.0, 2.0])
def test_shadow_of_a_tower_along_a_diagonal(cs):
    # a 20 m tower; sun at azimuth 225 (south-west), altitude 35: the shadow runs north-east
    n = int(round(80 / cs))
    z = np.zeros((n, n), np.float32)
    a = int(round(10 / cs))
    r0 = n - int(round(20 / cs))
    z[r0:r0 + a, int(round(10 / cs)):int(round(10 / cs)) + a] = 20.0
    s = sunlit_fraction(surface=z, cell_size=cs, sun_azimuth=225.0, sun_altitude=35.0)
    # the north-east corner of the tower casts its shadow along the diagonal for 20 / tan(35) m
    L = 20 / math.tan(math.radians(35.0))
    corner_x = (int(round(10 / cs)) + a) * cs
    corner_y = (n - r0) * cs  # from the south edge
    k = np.arange(1, n)
    for dist in (0.3 * L, 0.8 * L, 1.2 * L, 1.6 * L):
        x = corner_x + dist / math.sqrt(2) - 0.01
        y = corner_y + dist / math.sqrt(2) - 0.01
        r, c = int((n * cs - y) / cs), int(x / cs)
        assert s[r, c] == (0.0 if dist < L - 2 * cs else 1.0), (dist, L)
    del k


def test_no_sun_gives_no_light_and_zenith_sun_lights_all_but_nothing():
    z, _ = _wall_block(1.0, 10.0, n=20)
    assert (sunlit_fraction(surface=z, cell_size=1, sun_azimuth=180, sun_altitude=-2) == 0).all()
    assert (sunlit_fraction(surface=z, cell_size=1, sun_azimuth=180, sun_altitude=90) == 1).all()


def test_tree_crown_transmissivity_and_trunk_zone():
    cs = 1.0
    n = 40
    terrain = np.zeros((n, n), np.float32)
    ch = np.zeros((n, n), np.float32)
    ch[18:22, 18:22] = 10.0  # a 10 m tree, crown from 2.5 m (25 %) to 10 m
    surface = terrain + ch
    kw = dict(surface=surface, cell_size=cs, canopy_height=ch, terrain=terrain, transmissivity=0.05)
    # sun from the south at 45 deg: the cell 5 m north of the crown's north face sees the sun through
    # the crown (heights 5..9 m over the crown), keeps 5 %
    s = sunlit_fraction(sun_azimuth=180.0, sun_altitude=45.0, **kw)
    assert s[18 - 5, 20] == pytest.approx(0.05)
    assert s[18 - 12, 20] == 1.0  # beyond the shade: 12 m north, the ray passes over the crown top
    # a low sun shines under the crown through the trunk zone: 5 deg, ray under 2.5 m within 28 m
    s = sunlit_fraction(sun_azimuth=180.0, sun_altitude=5.0, **kw)
    assert s[18 - 3, 20] == 1.0
    # two trees in a row: two crowns crossed
    ch2 = ch.copy()
    ch2[8:12, 18:22] = 10.0
    s = sunlit_fraction(surface=terrain + ch2, cell_size=cs, sun_azimuth=180.0, sun_altitude=20.0, canopy_height=ch2,
                        terrain=terrain, transmissivity=0.05)
    assert s[0, 20] == pytest.approx(0.05**2)  # enters the first crown at 2.7 m, the second at 6.4 m
    assert s[5, 20] == pytest.approx(0.05)  # passes under the first crown (below 2.5 m), through the second


def test_smooth_slope_with_terrain_is_not_a_staircase():
    cs = 1.0
    n = 30
    y = np.arange(n)[:, None] * np.ones((1, n))
    terrain = (0.15 * (n - y) * cs).astype(np.float32)  # rises northwards at 15 %
    # sun in the north at 12 deg: tan = 0.21 > 0.15, the ray climbs faster than the ground: lit
    s = sunlit_fraction(surface=terrain, terrain=terrain, cell_size=cs, sun_azimuth=0.0, sun_altitude=12.0)
    assert (s == 1).all()
    # read as flat-topped columns (no terrain given), the slope is a staircase that shades itself
    s = sunlit_fraction(surface=terrain, cell_size=cs, sun_azimuth=0.0, sun_altitude=12.0)
    assert (s[1:] == 0).all()
    # at 5 deg (tan 0.087 < 0.15) the slope is in its own shadow either way
    s = sunlit_fraction(surface=terrain, terrain=terrain, cell_size=cs, sun_azimuth=0.0, sun_altitude=5.0)
    assert (s[1:] == 0).all()


def test_shadow_kernel_matches_brute_force():
    rng = np.random.default_rng(7)
    n = 24
    terrain = np.zeros((n, n), np.float32)
    bh = np.zeros((n, n), np.float32)
    for _ in range(6):
        r, c = rng.integers(0, n - 4, 2)
        bh[r:r + rng.integers(2, 5), c:c + rng.integers(2, 5)] = rng.uniform(3, 12)
    ch = np.zeros((n, n), np.float32)
    for _ in range(4):
        r, c = rng.integers(0, n - 3, 2)
        ch[r:r + 3, c:c + 3] = np.where(bh[r:r + 3, c:c + 3] > 0, 0, rng.uniform(5, 9))
    surface = terrain + np.maximum(bh, ch)
    parts = solid_and_crowns(surface, canopy_height=ch)
    for az, alt in ((203.7, 28.0), (71.3, 15.0), (333.0, 50.0)):
        cs = 1.5
        fast = sunlit_fraction(surface=surface, cell_size=cs, sun_azimuth=az, sun_altitude=alt, canopy_height=ch,
                               transmissivity=0.1)
        a = math.radians(az)
        ref = K.sunlit_naive(parts["prism"], parts["ground"], parts["solid"], parts["ctop"], parts["cbot"],
                             dx=math.sin(a), dy=-math.cos(a), rise=math.tan(math.radians(alt)) * cs, tau=0.1)
        mismatch = np.abs(fast - ref) > 1e-6
        assert mismatch.mean() <= 0.005, (az, alt, mismatch.sum())


def test_sunlit_at_points_agrees_with_the_grid_and_takes_many_suns():
    rng = np.random.default_rng(3)
    n, cs = 30, 2.0
    z = np.zeros((n, n), np.float32)
    z[10:20, 10:20] = 15.0
    grid = Grid(xmin=1000.0, ymax=2000.0, nrows=n, ncols=n, cell_size=cs)
    rows, cols = rng.integers(0, n, 200), rng.integers(0, n, 200)
    x, y = grid.xy(rows, cols)
    az = np.array([100.0, 180.0, 260.0, 180.0])
    alt = np.array([20.0, 40.0, 25.0, -5.0])
    pts = sunlit_at_points(surface=z, grid=grid, x=x, y=y, z=z[rows, cols], sun_azimuth=az, sun_altitude=alt)
    assert pts.shape == (4, 200)
    for k in range(3):
        g = sunlit_fraction(surface=z, cell_size=cs, sun_azimuth=az[k], sun_altitude=alt[k])
        np.testing.assert_array_equal(pts[k], g[rows, cols])
    assert (pts[3] == 0).all()
    # facade points on the building's south face (y on the face, 0.01 m out), sun in the south and north
    xs = grid.xmin + np.linspace(10 * cs + 0.5, 20 * cs - 0.5, 5)
    yface = grid.ymax - 20 * cs - 0.01
    lit = sunlit_at_points(surface=z, cell_size=cs, origin=(grid.xmin, grid.ymax), x=xs, y=np.full(5, yface),
                           z=np.full(5, 5.0), sun_azimuth=np.array([180.0, 0.0]), sun_altitude=np.array([30.0, 30.0]))
    assert (lit[0] == 1).all() and (lit[1] == 0).all()
    with pytest.raises(TwinValueError, match="grid="):
        sunlit_at_points(surface=z, x=xs, y=xs, z=xs, sun_azimuth=0, sun_altitude=10)


def test_bad_shadow_inputs():
    z = np.zeros((5, 5), np.float32)
    with pytest.raises(TwinValueError, match="cell_size"):
        sunlit_fraction(surface=z, cell_size=0, sun_azimuth=0, sun_altitude=10)
    with pytest.raises(TwinValueError, match="transmissivity"):
        sunlit_fraction(surface=z, cell_size=1, sun_azimuth=0, sun_altitude=10, transmissivity=1.5)
    with pytest.raises(TwinValueError, match="2-D"):
        sunlit_fraction(surface=np.zeros(5), cell_size=1, sun_azimuth=0, sun_altitude=10)
    z[2, 2] = np.nan
    s = sunlit_fraction(surface=z, cell_size=1, sun_azimuth=0, sun_altitude=10)
    assert np.isnan(s[2, 2]) and np.nansum(s) == 24


# -- sky-view factor ----------------------------------------------------------------------------

def _canyon(H, n_street, cs, length_m):
    depth = int(round(3 * H / cs)) + 3
    nrows = n_street + 2 * depth
    ncols = int(round(length_m / cs)) | 1
    z = np.zeros((nrows, ncols), np.float32)
    z[:depth] = H
    z[depth + n_street:] = H
    return z, depth + n_street // 2, ncols // 2


@pytest.mark.parametrize("hw", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("cs", [0.5, 1.0, 2.0])
def test_canyon_svf_matches_the_analytic_value(hw, cs):
    """Centre line of an infinite canyon: SVF = W / sqrt(W^2 + 4 H^2).

    Convention: the street is an odd number of cells (11 at 1 and 2 m, 21 at 0.5 m), W is
    measured between the wall faces (cell edges), so the centre cell's centre is W/2 from
    each face. The canyon is 30 H long each way: its open ends add less than 1e-3.
    """
    n_street = 21 if cs == 0.5 else 11
    W = n_street * cs
    H = hw * W
    z, r, c = _canyon(H, n_street, cs, length_m=60 * H)
    sv = sky_view_factor(surface=z, cell_size=cs, n_azimuths=64)
    assert sv["svf"][r, c] == pytest.approx(W / math.sqrt(W * W + 4 * H * H), abs=0.004)
    assert sv["svf_veg"][r, c] == sv["svf"][r, c]  # no trees
    # the roofs far from the edge see the whole sky
    assert sv["svf"][1, c] == pytest.approx(1.0, abs=1e-6)


def test_svf_is_one_on_open_flat_ground_and_flat_is_refused():
    z = np.zeros((40, 50), np.float32)
    with pytest.raises(TwinValueError, match="flat"):
        sky_view_factor(surface=z, cell_size=1)
    sv = sky_view_factor(surface=z, cell_size=1, allow_flat=True, directional=True)
    for k in ("svf", "svf_veg", "svf_north", "svf_east", "svf_south", "svf_west"):
        np.testing.assert_allclose(sv[k], 1.0, atol=1e-6)
    with pytest.raises(TwinValueError, match="NoData"):
        sky_view_factor(surface=np.full((5, 5), np.nan), cell_size=1)


def test_svf_vertical_views_in_a_canyon():
    # a north-south street: walls east and west. A person facing north or south sees the sky
    # down the street; facing east or west, the wall fills most of the view
    z, r, c = _canyon(10.0, 11, 1.0, 301)
    sv = sky_view_factor(surface=z.T.copy(), cell_size=1.0, directional=True, n_azimuths=64)
    rr, cc = c, r  # transposed
    assert sv["svf_north"][rr, cc] > 2 * sv["svf_east"][rr, cc]
    assert sv["svf_north"][rr, cc] == pytest.approx(sv["svf_south"][rr, cc], abs=0.005)
    assert sv["svf_east"][rr, cc] == pytest.approx(sv["svf_west"][rr, cc], abs=0.005)
    # against the analytic view of the sky from a vertical plane facing a wall of elevation beta
    # at distance W/2 for azimuths within 90 deg of the facing: a 1-D integral done by quadrature
    W, H = 11.0, 10.0
    phi = np.linspace(-np.pi / 2, np.pi / 2, 20001)
    beta = np.arctan(H * np.abs(np.cos(phi)) / (W / 2))
    g = 0.5 * (np.pi / 2 - beta - np.sin(beta) * np.cos(beta))
    expected = np.trapezoid(np.cos(phi) * g, phi) / (np.pi / 2)
    assert sv["svf_east"][rr, cc] == pytest.approx(expected, abs=0.01)


def test_svf_kernel_matches_brute_force_horizons():
    rng = np.random.default_rng(11)
    n = 22
    z = np.zeros((n, n), np.float32)
    for _ in range(7):
        r, c = rng.integers(0, n - 4, 2)
        z[r:r + rng.integers(2, 5), c:c + rng.integers(2, 5)] = rng.uniform(3, 15)
    cs = 1.7
    sv = sky_view_factor(surface=z, cell_size=cs, n_azimuths=8)
    sb = np.zeros((n, n))
    for az in range(0, 360, 45):  # axis and diagonal lines pass through cell centres: exact
        t = K.horizon_naive(z, z, cell_size=cs, azimuth=az, max_distance=2 * n)
        sb += t * t / (1 + t * t)
    ref = 1 - sb / 8
    np.testing.assert_allclose(sv["svf"], ref, atol=2e-3)


def test_svf_with_trees():
    n = 41
    terrain = np.zeros((n, n), np.float32)
    bh = np.zeros((n, n), np.float32)
    bh[:, :5] = 12.0  # a wall to the west so that the surface is not flat
    ch = np.zeros((n, n), np.float32)
    ch[18:23, 18:23] = 8.0
    surface = terrain + np.maximum(bh, ch)
    sv = sky_view_factor(surface=surface, cell_size=1.0, canopy_height=ch, terrain=terrain, transmissivity=0.03)
    under = sv["svf_veg"][20, 20]
    assert under < 0.3 * sv["svf"][20, 20]  # under the crown the sky is mostly hidden
    assert under >= 0.03 * sv["svf"][20, 20] - 1e-6
    assert sv["svf"][20, 20] > 0.9  # the buildings-only view ignores the tree
    assert sv["svf_veg"][20, 30] < sv["svf"][20, 30]  # the tree hides some sky from 10 m away
    assert sv["svf_veg"][20, 30] > 0.85


def test_wall_heights_and_aspects():
    z = np.zeros((10, 12), np.float32)
    z[3:7, 4:9] = 8.0
    z[3, 4] = 11.0  # a taller corner
    h, a = wall_heights_and_aspects(surface=z, cell_size=1.0)
    assert h[3, 6] == 8.0 and a[3, 6] == 0.0  # north face
    assert h[6, 6] == 8.0 and a[6, 6] == 180.0  # south face
    assert h[5, 4] == 8.0 and a[5, 4] == 270.0  # west face
    assert h[5, 8] == 8.0 and a[5, 8] == 90.0  # east face
    assert h[3, 4] == 11.0 and a[3, 4] == 0.0  # corner: north wins the tie
    assert h[4, 6] == 0.0 and np.isnan(a[4, 6])  # inside the block
    assert (h[z == 0] == 0).all()
    assert int((h > 0).sum()) == 2 * 5 + 2 * 2
