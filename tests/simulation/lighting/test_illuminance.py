"""Illuminance kernels: the inverse-square cosine law, frames, occlusion, and agreement with a naive reference."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from lighting_naive import illuminance_at, local_angles
from lighting_scenes import single_luminaire_twin

from simulation.lighting.builtin import builtin
from simulation.lighting.illuminance import build_luts, luminaire_rotations, prepare_scene
from simulation.lighting.photometry import Photometry
from simulation.lighting.registry import PhotometryRegistry
from twin.errors import TwinFileNotFoundError, TwinValueError


class _Reg(PhotometryRegistry):
    """A registry that also knows synthetic optics by name (for the tests)."""

    def __init__(self, extra):
        super().__init__()
        self.extra = extra

    def resolve(self, ref):
        return self.extra[ref] if ref in self.extra else super().resolve(ref)


ISO = Photometry("iso", "iso", np.array([0.0]), np.arange(0.0, 180.1, 5.0), np.full((1, 37), 100.0))


def _scene(twin, registry=None, **kw):
    args = dict(maintenance_factor=0.8, cutoff=40.0, crown_extinction=0.5, crown_base_fraction=0.25)
    args.update(kw)
    return prepare_scene(twin, registry=registry or _Reg({"iso": ISO}), **args)


def _cells(twin):
    X, Y = np.meshgrid(twin.grid.x, twin.grid.y)
    return X, Y


# -- the inverse-square cosine law --------------------------------------------------------------------

def test_isotropic_nadir_and_cos3_law():
    """E = MF I cos^3(gamma) / H^2 on flat ground, for every cell within the cut-off (isotropic optic)."""
    H, flux = 6.0, 2000.0
    tw = single_luminaire_twin(photometry="iso", height=H, flux=flux)
    sc = _scene(tw)
    E, n = sc.horizontal_illuminance()
    X, Y = _cells(tw)
    d = np.hypot(X - 0.5, Y - 0.5)
    I = 100.0 * flux / 1000.0
    expect = np.where(d <= 40.0, 0.8 * I * (H / np.hypot(d, H)) ** 3 / H**2, 0.0)
    r, c = tw.grid.rowcol(0.5, 0.5)
    assert E[r, c] == pytest.approx(0.8 * I / H**2, rel=1e-6)           # nadir: MF I(0) / H^2
    np.testing.assert_allclose(E, expect, rtol=2e-6, atol=1e-9)          # float32 accumulation
    assert n == int((d <= 40.0).sum())


def test_road_optic_nadir_and_cos3_law_with_real_intensities():
    """Raster of the built-in road optic vs I(C, gamma) cos^3 / H^2 with the exact bilinear interpolant."""
    p = builtin("road-led")
    H, flux = 8.0, 5000.0
    tw = single_luminaire_twin(photometry="builtin:road-led", height=H, flux=flux, orientation=30.0)
    E, _ = _scene(tw).horizontal_illuminance()
    X, Y = _cells(tw)
    dx, dy = X - 0.5, Y - 0.5
    d = np.hypot(dx, dy)
    # C0 points to orientation + 90; C grows counter-clockwise: C = (orientation + 90) - azimuth
    az = np.degrees(np.arctan2(dx, dy))
    C = (30.0 + 90.0 - az) % 360
    G = np.degrees(np.arctan2(d, H))
    expect = np.where(d <= 40, 0.8 * flux / 1000 * p.intensity_at(C, G) * np.cos(np.radians(G)) ** 3 / H**2, 0)
    r, c = tw.grid.rowcol(0.5, 0.5)
    assert E[r, c] == pytest.approx(0.8 * flux / 1000 * p.intensity_at(0, 0) / H**2, rel=1e-3)
    err = np.abs(E - expect)
    assert err.max() < 5e-3 * expect.max()           # look-up-table interpolation: < 0.5 % of the peak
    assert np.median(err[expect > 0.1] / expect[expect > 0.1]) < 2e-3


def test_street_side_follows_the_arm():
    """Orientation 0 (arm north): the street side C90 lies north, the house side south gets little,
    and the batwing (C0-C180) runs east-west."""
    tw = single_luminaire_twin(photometry="builtin:road-led", height=8.0, flux=5000.0, orientation=0.0)
    E, _ = _scene(tw).horizontal_illuminance()
    r, c = tw.grid.rowcol(0.5, 0.5)
    north, south = E[r - 8, c], E[r + 8, c]
    assert north > 4 * south
    assert E[r, c + 15] == pytest.approx(E[r, c - 15], rel=1e-3)       # batwing symmetric along the road


def test_tilt_matches_rotated_direction():
    p = builtin("road-led")
    tw = single_luminaire_twin(photometry="builtin:road-led", height=8.0, flux=5000.0, orientation=200.0, tilt=15.0)
    sc = _scene(tw)
    E, _ = sc.horizontal_illuminance()
    rng = np.random.default_rng(3)
    for _ in range(40):
        x, y = rng.uniform(-30, 30, 2)
        r, c = tw.grid.rowcol(x, y)
        xc, yc = tw.grid.xy(r, c)
        d = np.array([xc - 0.5, yc - 0.5, -8.0])
        C, G = local_angles(d, 200.0, 15.0)
        expect = 0.8 * 5.0 * p.intensity_at(C, G) * 8.0 / np.linalg.norm(d) ** 3
        assert E[r, c] == pytest.approx(expect, rel=5e-3, abs=2e-3)


def test_rotation_rows_are_orthonormal():
    rot = luminaire_rotations([0, 37, 180, 300], [0, 5, 20, -10]).reshape(-1, 3, 3)
    for m in rot:
        np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-12)
    # orientation 0 (arm north): C90 north, C0 east
    np.testing.assert_allclose(rot[0][0], [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(rot[0][1], [0, 1, 0], atol=1e-12)


def test_lut_matches_exact_interpolant_on_real_file(shared_data):
    from simulation.lighting import _kernels
    from simulation.lighting.photometry import read_ldt

    p = read_ldt(shared_data / "photometry" / "va_sample_20.ldt")
    lo, up, origin, inv_h = build_luts([p])
    rng = np.random.default_rng(0)
    d = rng.normal(size=(2000, 3))
    worst = 0.0
    rot = np.eye(3).ravel()
    for v in d:
        r = np.linalg.norm(v)
        c = math.degrees(math.atan2(v[1], v[0])) % 360
        g = math.degrees(math.acos(-v[2] / r))
        got = _kernels._intensity(lo, up, 0, rot, v[0], v[1], v[2], r, origin, inv_h)
        worst = max(worst, abs(got - float(p.intensity_at(c, g))))
    assert worst < 0.01 * p.intensity.max()


def test_terrain_heights_set_the_luminaire_altitude():
    tw = single_luminaire_twin(photometry="iso", height=5.0, flux=1000.0, terrain=200.0)
    t = tw.array("terrain").copy()
    t[:, 60:] += 3.0          # a terrace 3 m higher east of x = 10
    tw.set_layer("terrain", t)
    E, _ = _scene(tw).horizontal_illuminance()
    r, c = tw.grid.rowcol(0.5, 0.5)
    assert E[r, c] == pytest.approx(0.8 * 100 / 25.0, rel=1e-6)
    x = 15.5
    rr, cc = tw.grid.rowcol(x, 0.5)
    d = np.array([x - 0.5, 0.0, 3.0 - 5.0])
    expect = 0.8 * 100 * 2.0 / np.linalg.norm(d) ** 3
    assert E[rr, cc] == pytest.approx(expect, rel=1e-5)


# -- occlusion --------------------------------------------------------------------------------------------

def _with_building(tw, rows, cols, height):
    bh = tw.array("building_height").copy()
    bh[rows, cols] = height
    tw.set_layer("building_height", bh)
    return tw


def test_a_building_between_luminaire_and_point_blocks_it():
    tw = single_luminaire_twin(photometry="iso", height=6.0, flux=1000.0)
    g = tw.grid
    r0, c0 = g.rowcol(0.5, 0.5)
    _with_building(tw, slice(r0 - 3, r0 + 4), slice(c0 + 5, c0 + 8), 10.0)   # a 10 m wall 5-8 m east
    sc = _scene(tw)
    E, _ = sc.horizontal_illuminance()
    assert E[r0, c0 + 12] == 0.0                              # behind the wall
    assert E[r0, c0 + 3] > 0.5                                # in front of it
    assert E[r0, c0 - 12] > 0                                 # the other side is lit
    # the point kernel agrees, and lifting the luminaire above the wall's shadow line lets light reach the point
    x, y = g.xy(r0, c0 + 12)
    assert sc.point_illuminance(x, y, 50.0)[0] == 0.0
    assert sc.point_illuminance(x, y, 50.0, occlusion=False)[0] > 0.1
    E2, _ = sc.horizontal_illuminance(occlusion=False)
    assert E2[r0, c0 + 12] > 0.1


def test_roof_receives_light_and_walls_do_not_self_shadow():
    tw = single_luminaire_twin(photometry="iso", height=12.0, flux=1000.0)
    r0, c0 = tw.grid.rowcol(0.5, 0.5)
    _with_building(tw, slice(r0 - 5, r0 + 6), slice(c0 + 6, c0 + 16), 6.0)
    E, _ = _scene(tw).horizontal_illuminance()
    roof = E[r0, c0 + 10]
    d = np.array([10.0, 0.0, 6.0 - 12.0])
    assert roof == pytest.approx(0.8 * 100 * 6.0 / np.linalg.norm(d) ** 3, rel=1e-5)


def test_tree_crown_attenuates_by_beer_lambert():
    """A box crown of 4 m depth across the line of sight: E x exp(-k L), L the exact path length inside."""
    H = 10.0
    tw = single_luminaire_twin(photometry="iso", height=H, flux=1000.0)
    g = tw.grid
    r0, c0 = g.rowcol(0.5, 0.5)
    ch = np.zeros(g.shape, np.float32)
    ch[r0 - 10:r0 + 11, c0 + 6:c0 + 10] = 12.0              # crown 6..10 m east, from 3 m (25 %) to 12 m
    tw.set_layer("canopy_height", ch)
    k = 0.5
    sc = _scene(tw, crown_extinction=k)
    E, _ = sc.horizontal_illuminance()
    free = _scene(tw, crown_extinction=0.0).horizontal_illuminance()[0]
    # the receiver 14 cells east: the segment from the luminaire (H above its cell) to the ground crosses the
    # crown columns x in [5.5, 9.5] m (relative to the luminaire) well above the crown base (3 m)
    dx = g.xy(r0, c0 + 14)[0] - 0.5
    x_in, x_out = 5.5, 9.5
    assert H * (1 - x_out / dx) > 3.0
    L = (x_out - x_in) * math.hypot(dx, H) / dx
    got = E[r0, c0 + 14] / free[r0, c0 + 14]
    assert got == pytest.approx(math.exp(-k * L), rel=1e-3)
    # opaque crowns block
    E_inf, _ = _scene(tw, crown_extinction=math.inf).horizontal_illuminance()
    assert E_inf[r0, c0 + 14] == 0.0


# -- kernels against the naive reference ----------------------------------------------------------------

@pytest.fixture(scope="module")
def cluttered():
    """A 40 m x 40 m scene: three luminaires (road optic tilted, globe, isotropic), two buildings, a tree."""
    import geopandas as gpd
    import shapely

    from twin import Grid, Twin

    g = Grid.from_bounds(0, 0, 40, 40, cell_size=1.0)
    tw = Twin.empty(g, terrain=10.0)
    t = tw.array("terrain") + np.linspace(0, 2, 40)[None, :].astype(np.float32)   # a gentle slope
    tw.set_layer("terrain", t)
    bh = np.zeros(g.shape, np.float32)
    bh[5:12, 25:33] = 9.0
    bh[28:35, 8:14] = 5.0
    tw.set_layer("building_height", bh)
    ch = np.zeros(g.shape, np.float32)
    ch[18:24, 16:21] = 11.0
    tw.set_layer("canopy_height", ch)
    lum = gpd.GeoDataFrame({"id": [1, 2, 3], "mounting_height": [8.0, 5.0, 7.0], "orientation": [90.0, 0.0, 45.0],
                            "tilt": [10.0, 0.0, 0.0], "photometry": ["builtin:road-led", "builtin:globe-hps", "iso"],
                            "power": [40.0, 100, 50], "flux": [5000.0, 8000, 3000]},
                           geometry=[shapely.Point(12.3, 20.6), shapely.Point(30.5, 25.2), shapely.Point(20.0, 8.0)],
                           crs=g.crs)
    tw.set_table("luminaires", lum)
    return tw


def _naive_inputs(tw, sc):
    lums = [{"x": x, "y": y, "z": z, "flux": f, "orientation": o, "tilt": t}
            for x, y, z, f, o, t in zip(sc.lum.x, sc.lum.y, sc.lum.z, sc.lum.flux,
                                        tw.luminaires["orientation"], tw.luminaires["tilt"])]
    phots = [sc.lum.photometries[k] for k in sc.lum.lut]
    return lums, phots


def test_point_kernel_matches_naive_reference(cluttered):
    tw = cluttered
    sc = _scene(tw, cutoff=30.0)
    lums, phots = _naive_inputs(tw, sc)
    rng = np.random.default_rng(7)
    pts = rng.uniform(1, 39, size=(120, 2))
    z = sc.ground_altitude(pts[:, 0], pts[:, 1])
    # receivers on the hard surface of their cell (like the raster)
    r, c = tw.grid.rowcol(pts[:, 0], pts[:, 1])
    z = sc.hard[r, c].astype(float)
    got = sc.point_illuminance(pts[:, 0], pts[:, 1], z)
    ref = np.array([illuminance_at((x, y, zz), np.array([0, 0, 1.0]), lums, phots, tw.grid, sc.hard, sc.crown_base,
                                   sc.crown_top, mf=0.8, cutoff=30.0, extinction=0.5)
                    for (x, y), zz in zip(pts, z)])
    close = np.isclose(got, ref, rtol=1e-2, atol=1e-3)
    assert close.mean() >= 0.97        # the rest: segments grazing a building corner, sampled vs exact
    assert np.abs(got - ref).sum() < 0.02 * ref.sum()


def test_raster_kernel_matches_naive_reference(cluttered):
    """Ring propagation with exact shadow edges vs sampled segments, every cell: 99 % of cells within 2 %."""
    tw = cluttered
    sc = _scene(tw, cutoff=30.0)
    E, _ = sc.horizontal_illuminance()
    lums, phots = _naive_inputs(tw, sc)
    X, Y = _cells(tw)
    ref = np.zeros(tw.grid.shape)
    for i in range(tw.grid.nrows):
        for j in range(tw.grid.ncols):
            ref[i, j] = illuminance_at((X[i, j], Y[i, j], float(sc.hard[i, j])), np.array([0, 0, 1.0]), lums, phots,
                                       tw.grid, sc.hard, sc.crown_base, sc.crown_top, mf=0.8, cutoff=30.0,
                                       extinction=0.5, eps=0.05)
    close = np.isclose(E, ref, rtol=0.02, atol=0.01)
    assert close.mean() > 0.99            # on this scene: all of them
    assert E.sum() == pytest.approx(ref.sum(), rel=0.005)
    # and the exact point kernel on every cell centre agrees with the reference more tightly
    P = sc.point_illuminance(X.ravel(), Y.ravel(), sc.hard.ravel().astype(float)).reshape(E.shape)
    assert np.isclose(P, ref, rtol=0.01, atol=0.005).mean() > 0.99


def test_plain_kernel_equals_rings_without_obstacles():
    tw = single_luminaire_twin(photometry="builtin:globe-hps", height=5.0, flux=8000.0, x=3.3, y=-2.1)
    sc = _scene(tw)
    a, n1 = sc.horizontal_illuminance()
    b, n2 = sc.horizontal_illuminance(occlusion=False)
    assert n1 == n2
    np.testing.assert_array_equal(a, b)


def test_threads_give_identical_results(cluttered):
    sc = _scene(cluttered, cutoff=30.0)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a, _ = sc.horizontal_illuminance()
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        b, _ = sc.horizontal_illuminance()
    finally:
        numba.set_num_threads(old)
    np.testing.assert_array_equal(a, b)


def test_many_luminaires_in_bands_write_without_races():
    """Luminaires in every band: the banded parallel sum equals the sum of single-luminaire rasters."""
    import geopandas as gpd
    import shapely

    from twin import Grid, Twin

    g = Grid.from_bounds(0, 0, 60, 200, cell_size=1.0)
    tw = Twin.empty(g)
    ys = np.arange(3.0, 200.0, 7.0)
    lum = gpd.GeoDataFrame({"id": np.arange(1, ys.size + 1), "mounting_height": 6.0, "orientation": 0.0, "tilt": 0.0,
                            "photometry": "builtin:globe-hps", "power": 70.0, "flux": 6000.0},
                           geometry=shapely.points(np.full(ys.size, 30.2), ys), crs=g.crs)
    tw.set_table("luminaires", lum)
    sc = _scene(tw, cutoff=20.0)
    E, _ = sc.horizontal_illuminance()
    total = np.zeros(g.shape, np.float64)
    for k in range(ys.size):
        one = _scene(tw, luminaires=lum.iloc[[k]], cutoff=20.0)
        total += one.horizontal_illuminance()[0]
    np.testing.assert_allclose(E, total, rtol=1e-5, atol=1e-6)


def test_cutoff_bound_and_edges():
    tw = single_luminaire_twin(photometry="iso", height=6.0, flux=1000.0, x=-48.5, y=48.5)   # in a corner
    sc = _scene(tw, cutoff=10.0)
    E, n = sc.horizontal_illuminance()
    X, Y = _cells(tw)
    within = np.hypot(X + 48.5, Y - 48.5) <= 10.0
    assert n == int(within.sum())            # the grid clips the disc
    assert (E[~within] == 0).all() and (E[within] > 0).all()
    assert sc.cutoff_bound() == pytest.approx(0.8 * 100 * 6.0 / 1000.0)


# -- vertical and semi-cylindrical illuminance ----------------------------------------------------------

def test_vertical_and_semicylindrical_illuminance_analytic():
    H = 6.0
    tw = single_luminaire_twin(photometry="iso", height=H, flux=1000.0)
    sc = _scene(tw)
    # a facade point 8 m west of the luminaire at 1.5 m height, facing east (toward it) and west (away)
    p = np.array([-7.5, 0.5, 50.0 + 1.5])
    d = np.array([0.5, 0.5, 56.0]) - p
    r = np.linalg.norm(d)
    I = 0.8 * 100.0
    east = sc.point_illuminance(p[0], p[1], p[2], (1.0, 0.0, 0.0))[0]
    assert east == pytest.approx(I * d[0] / r**3, rel=1e-6)
    assert sc.point_illuminance(p[0], p[1], p[2], (-1.0, 0.0, 0.0))[0] == 0.0
    # semi-cylinder facing the luminaire: I (|h| + h.n) / (pi r^3) = 2 I |h| / (pi r^3)
    sc_e = sc.point_illuminance(p[0], p[1], p[2], (1.0, 0.0, 0.0), semicylindrical=True)[0]
    assert sc_e == pytest.approx(2 * I * 8.0 / (math.pi * r**3), rel=1e-6)
    sc_side = sc.point_illuminance(p[0], p[1], p[2], (0.0, 1.0, 0.0), semicylindrical=True)[0]
    assert sc_side == pytest.approx(I * 8.0 / (math.pi * r**3), rel=1e-6)


# -- bad input -----------------------------------------------------------------------------------------------

def test_bad_luminaires():
    tw = single_luminaire_twin(photometry="iso", x=500.0)
    with pytest.raises(TwinValueError, match=r"luminaire 1 at \(500.0, 0.5\) lies outside the twin's grid"):
        _scene(tw)
    tw = single_luminaire_twin(photometry="iso", height=-1.0)
    with pytest.raises(TwinValueError, match=r"luminaire 1: mounting height -1 m must be > 0"):
        _scene(tw)
    tw = single_luminaire_twin(photometry="builtin:sodium-cobra")
    with pytest.raises(TwinValueError, match="luminaire 1: unknown built-in photometry 'builtin:sodium-cobra'"):
        _scene(tw)
    tw = single_luminaire_twin(photometry="optics/missing.ldt")
    with pytest.raises(TwinFileNotFoundError, match="luminaire 1: photometry 'optics/missing.ldt': not a built-in"):
        _scene(tw)
    tw = single_luminaire_twin(photometry="")
    with pytest.raises(TwinValueError, match="luminaire 1: empty photometry reference"):
        _scene(tw)
    tw = single_luminaire_twin(photometry="iso")
    with pytest.raises(TwinValueError, match="invalid maintenance_factor"):
        _scene(tw, maintenance_factor=1.5)
    with pytest.raises(TwinValueError, match="invalid cutoff"):
        _scene(tw, cutoff=0)
    with pytest.raises(TwinValueError, match="invalid crown_extinction"):
        _scene(tw, crown_extinction=-1)
