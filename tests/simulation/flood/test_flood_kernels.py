"""Each compiled kernel against the naive numpy reference (tests/simulation/flood/naive.py)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from simulation.flood import _kernels as K
from tests.simulation.flood import flood_naive as naive

G = 9.80665
NY, NX = 13, 17
TR, TC = 4, 5  # small tiles so that blocks are partial at the edges
#: the Green-Ampt arrays of the continuity pass when the model is off (1 x 1 placeholders)
NO_GA = (np.zeros((1, 1), np.float32), np.zeros((1, 1), np.float32), np.zeros((1, 1), np.float64))


def random_state(seed=0, *, walls=True):
    rng = np.random.default_rng(seed)
    z = (rng.random((NY, NX)) * 0.6).astype(np.float32)
    h = (rng.random((NY, NX)) * 0.5).astype(np.float32)
    h[rng.random((NY, NX)) < 0.25] = 0.0  # dry cells
    h[rng.random((NY, NX)) < 0.1] = 0.0005  # films below h_min
    wall = (rng.random((NY, NX)) < 0.08) if walls else np.zeros((NY, NX), bool)
    h[wall] = 0.0
    qx = ((rng.random((NY, NX + 1)) - 0.5) * 0.4).astype(np.float32)
    qy = ((rng.random((NY + 1, NX)) - 0.5) * 0.4).astype(np.float32)
    n = np.where(rng.random((NY, NX)) < 0.5, 0.016, 0.05)
    return rng, z, h, wall, qx, qy, n


def cell_params(wall, infil=None, drain=None, dfm=None, dfh=None):
    """The continuity kernel's per-cell inputs: flags, rates [m/s], debris factors (mid, high)."""
    shape = wall.shape
    zeros = np.zeros(shape)
    flags = wall.astype(np.uint8)
    dfm = dfm if dfm is not None else zeros
    dfh = dfh if dfh is not None else zeros
    return (flags, (infil if infil is not None else zeros).astype(np.float32),
            (drain if drain is not None else zeros).astype(np.float32),
            dfm.astype(np.float32), dfh.astype(np.float32))


def nman(n, wall):
    """Manning n per cell, negative on walls (the momentum kernel's input)."""
    return np.where(wall, -1.0, n).astype(np.float32)


def pad(fac):
    """The padded factor array of the kernels (a frame of ghost cells at 1)."""
    return np.pad(np.asarray(fac, np.float32), 1, constant_values=1.0)


def boundaries(rng):
    bc = {}
    for e, size in (("west", NY), ("east", NY), ("north", NX), ("south", NX)):
        mode = rng.integers(0, 3, size).astype(np.int8)
        val = np.where(mode == 1, rng.random(size) * 0.8, np.where(mode == 2, rng.random(size) * 0.01, 0.0))
        bc[e] = (mode, val.astype(np.float32))
    return bc


def active_all():
    return np.ones((-(-NY // TR), -(-NX // TC)), np.uint8)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_momentum_matches_reference(seed):
    rng, z, h, wall, qx, qy, n = random_state(seed)
    bc = boundaries(rng)
    qxn = np.full_like(qx, np.nan)
    qyn = np.full_like(qy, np.nan)
    nb = -(-NX // TC)
    K.momentum(h, z, nman(n, wall), qx, qy, qxn, qyn, *bc["west"], *bc["east"], *bc["north"], *bc["south"],
               active_all(), TR, TC, 0, NY, 0, nb, dt=0.7, dx=2.0, g=G, theta=0.8, h_min=1e-3, froude_max=1.0, fallback=True)
    rx, ry = naive.momentum_ref(h, z, n, wall, qx, qy, bc, dt=0.7, dx=2.0, g=G, theta=0.8, h_min=1e-3,
                                froude_max=1.0)
    assert np.isfinite(qxn).all() and np.isfinite(qyn).all()
    np.testing.assert_allclose(qxn, rx, rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(qyn, ry, rtol=2e-6, atol=1e-7)
    # the test exercises every branch: wet faces, dry faces, the uphill fallback, the Froude cap
    assert (rx != 0).sum() > 50 and (rx == 0).sum() > 20


def test_momentum_froude_cap_and_fallback():
    """A steep drop is capped at Froude 1; with theta < 1 an uphill smoothed update falls back to Bates."""
    z = np.zeros((1, 3), np.float32)
    z[0, 2] = -5.0
    h = np.array([[1.0, 1.0, 0.0]], np.float32)
    qx = np.zeros((1, 4), np.float32)
    qy = np.zeros((2, 3), np.float32)
    nm = np.full((1, 3), 0.01, np.float32)
    closed = (np.zeros(1, np.int8), np.zeros(1, np.float32))
    closed3 = (np.zeros(3, np.int8), np.zeros(3, np.float32))
    qxn = np.zeros_like(qx)
    qyn = np.zeros_like(qy)
    K.momentum(h, z, nm, qx, qy, qxn, qyn, *closed, *closed, *closed3, *closed3, np.ones((1, 1), np.uint8),
               1, 3, 0, 1, 0, 1, dt=1.0, dx=1.0, g=G, theta=0.8, h_min=1e-3, froude_max=1.0, fallback=True)
    # face 2: h_f = max(1, -5) - max(0, -5) = 1 m: cap q = 1 * sqrt(g * 1)
    assert qxn[0, 2] == pytest.approx(np.sqrt(G), rel=1e-6)
    # fallback: a strong upstream neighbour flux would make the smoothed update point uphill
    z = np.zeros((1, 4), np.float32)
    h = np.array([[1.0, 1.0, 1.01, 1.0]], np.float32)  # face 2 slopes up from west to east
    qx = np.array([[0.0, -5.0, 0.0, -5.0, 0.0]], np.float32)
    qy = np.zeros((2, 4), np.float32)
    nm = np.zeros((1, 4), np.float32)
    closed4 = (np.zeros(4, np.int8), np.zeros(4, np.float32))
    qxn = np.zeros_like(qx)
    qyn = np.zeros_like(qy)
    K.momentum(h, z, nm, qx, qy, qxn, qyn, *closed, *closed, *closed4, *closed4, np.ones((1, 1), np.uint8),
               1, 4, 0, 1, 0, 1, dt=0.1, dx=1.0, g=G, theta=0.0, h_min=1e-3, froude_max=0.0, fallback=True)
    slope = 0.01
    # smoothed: 0.5 * (-5 - 5) - g h dt slope < 0 points downhill (west): kept
    assert qxn[0, 2] == pytest.approx(0.5 * (-10.0) - G * 1.01 * 0.1 * slope, rel=1e-5)
    qx = np.array([[0.0, 5.0, 0.0, 5.0, 0.0]], np.float32)
    K.momentum(h, z, nm, qx, qy, qxn, qyn, *closed, *closed, *closed4, *closed4, np.ones((1, 1), np.uint8),
               1, 4, 0, 1, 0, 1, dt=0.1, dx=1.0, g=G, theta=0.0, h_min=1e-3, froude_max=0.0, fallback=True)
    # smoothed would be +5 - ... > 0, uphill (east): plain Bates from q0 = 0 instead
    assert qxn[0, 2] == pytest.approx(-G * 1.01 * 0.1 * slope, rel=1e-5)


def test_pow_m7_3_accuracy():
    x = np.concatenate([np.logspace(-4, 3, 5001), np.random.default_rng(0).random(1000) * 10 + 1e-3])
    got = np.array([K._pow_m7_3.py_func(v, *(lambda b: (b, b.view(np.uint64)))(np.empty(1))) for v in x])
    np.testing.assert_allclose(got, x ** (-7.0 / 3.0), rtol=3e-9)


@pytest.mark.parametrize("seed", [0, 3])
def test_outflow_factor_matches_reference(seed):
    rng, z, h, wall, qx, qy, n = random_state(seed)
    fac = pad(np.full_like(h, np.nan))
    nb = -(-NX // TC)
    K.outflow_factor(h, qx, qy, fac, active_all(), TR, TC, 0, NY, 0, nb, dt=0.9, dx=1.5)
    ref = naive.outflow_factor_ref(h, qx, qy, dt=0.9, dx=1.5)
    np.testing.assert_allclose(fac[1:-1, 1:-1], ref, rtol=1e-6)
    assert (fac[0] == 1).all() and (fac[-1] == 1).all() and (fac[:, 0] == 1).all() and (fac[:, -1] == 1).all()
    assert (ref < 1).sum() > 10 and (ref == 0).sum() > 5


@pytest.mark.parametrize("seed", [0, 4])
def test_continuity_matches_reference(seed):
    rng, z, h, wall, qxn, qyn, n = random_state(seed)
    # rates are float32 per cell in the kernel: give the reference the same rounded values
    infil = np.where(rng.random(h.shape) < 0.5, 5e-6, 0.0).astype(np.float32).astype(np.float64)
    drain = np.where(rng.random(h.shape) < 0.5, 8e-6, 0.0).astype(np.float32).astype(np.float64)
    dfm = np.where(rng.random(h.shape) < 0.5, 1.0, 0.0)
    dfh = np.where(rng.random(h.shape) < 0.5, 1.0, 0.5)
    params = cell_params(wall, infil, drain, dfm, dfh)
    fac = naive.outflow_factor_ref(h, qxn, qyn, dt=0.9, dx=1.5).astype(np.float32)
    il = np.where(rng.random(h.shape) < 0.5, 1e-3, 0.0).astype(np.float32)
    md = (rng.random(h.shape) * 0.3).astype(np.float32)
    ms = (rng.random(h.shape) * 0.3).astype(np.float32)
    mh = (rng.random(h.shape) * 0.3).astype(np.float32)
    ar = np.where(rng.random(h.shape) < 0.5, 5.0, np.nan).astype(np.float32)
    ref = naive.continuity_ref(h, wall, qxn, qyn, fac, il, infil, drain, dfm, dfh, md, ms, mh, ar,
                               dt=0.9, dx=1.5, rain=1e-5, t_end=42.0)
    h2, il2, md2, ms2, mh2, ar2 = h.copy(), il.copy(), md.copy(), ms.copy(), mh.copy(), ar.copy()
    qx = np.full_like(qxn, np.nan)
    qy = np.full_like(qyn, np.nan)
    nb = -(-NX // TC)
    ledger = np.full((NY, nb, K.L_NCOLS), np.nan)
    rowmax = np.full((NY, nb), np.nan)
    hlo = np.zeros_like(h2)
    K.continuity(h2, hlo, *params, qxn, qyn, pad(fac), qx, qy, il2, np.zeros((1, 1), np.float32), *NO_GA, md2, ms2, mh2, ar2,
                 ledger, rowmax, active_all(), TR, TC, 0, NY, 0, nb, dt=0.9, dx=1.5, rain_rate=1e-5,
                 use_rain_field=False, green_ampt=False, t_end=42.0, arrival_depth=0.1, speed_depth=0.01, d_mid=0.25, d_high=0.75,
                 v_high=2.0)
    rh, rqx, rqy, ril, rmd, rms, rmh, rar, vol = ref
    np.testing.assert_allclose(h2, rh, rtol=1e-6, atol=1e-7)
    # the float32 rounding remainder is kept: h + hlo is the float64 update
    assert np.abs(hlo).max() <= np.spacing(np.maximum(h2, 1e-30)).max()
    assert (np.abs(hlo) > 0).sum() > 10
    assert (h2 >= 0).all()
    np.testing.assert_allclose(qx, rqx, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(qy, rqy, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(il2, ril, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(md2, rmd, rtol=1e-6)
    np.testing.assert_allclose(ms2, rms, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(mh2, rmh, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(np.isnan(ar2), np.isnan(rar))
    np.testing.assert_allclose(ar2[~np.isnan(ar2)], rar[~np.isnan(rar)])
    sums = ledger.sum(axis=(0, 1))
    for col, key in ((K.L_RAIN, "rain"), (K.L_INFIL, "infiltration"), (K.L_INITIAL, "initial_loss"),
                     (K.L_DRAIN, "drainage"), (K.L_BND_IN, "boundary_in"), (K.L_BND_OUT, "boundary_out")):
        assert sums[col] == pytest.approx(vol[key], rel=1e-9, abs=1e-12), key
    assert rowmax.max() == pytest.approx(rh.max(), rel=1e-6)


def test_windows_in_any_order_give_the_same_bits():
    """The passes run window by window (tiles with a halo read from the full arrays) in any order."""
    rng, z, h, wall, qx, qy, n = random_state(7)
    params = cell_params(wall)
    bc = boundaries(rng)
    nb = -(-NX // TC)
    act = active_all()

    def step(order):
        hh = h.copy()
        q1x, q1y = qx.copy(), qy.copy()
        qxn = np.zeros_like(qx)
        qyn = np.zeros_like(qy)
        fac = pad(np.ones_like(h))
        il = np.zeros_like(h)
        md, ms, mh = np.zeros_like(h), np.zeros_like(h), np.zeros_like(h)
        ar = np.full_like(h, np.nan)
        led = np.zeros((NY, nb, K.L_NCOLS))
        rm = np.zeros((NY, nb))
        kw = dict(dt=0.5, dx=1.0)
        for r0, r1, b0, b1 in order:
            K.momentum(hh, z, nman(n, wall), q1x, q1y, qxn, qyn, *bc["west"], *bc["east"], *bc["north"], *bc["south"],
                       act, TR, TC, r0, r1, b0, b1, g=G, theta=0.8, h_min=1e-3, froude_max=1.0, fallback=True, **kw)
        for r0, r1, b0, b1 in order[::-1]:
            K.outflow_factor(hh, qxn, qyn, fac, act, TR, TC, r0, r1, b0, b1, **kw)
        for r0, r1, b0, b1 in order:
            K.continuity(hh, np.zeros_like(hh), *params, qxn, qyn, fac, q1x, q1y, il, np.zeros((1, 1), np.float32), *NO_GA, md, ms, mh, ar,
                         led, rm, act, TR, TC, r0, r1, b0, b1, rain_rate=0.0, use_rain_field=False, green_ampt=False, t_end=1.0,
                         arrival_depth=0.1, speed_depth=0.01, d_mid=0.25, d_high=0.75, v_high=2.0, **kw)
        return hh, q1x, q1y, led

    whole = step([(0, NY, 0, nb)])
    windows = [(r, min(r + TR, NY), b, min(b + 2, nb)) for r in range(0, NY, TR) for b in range(0, nb, 2)]
    rng.shuffle(windows)
    tiled = step(windows)
    for a, b in zip(whole, tiled):
        np.testing.assert_array_equal(a, b)


def test_tile_activity_wakes_the_neighbours_that_water_touches():
    """Wet and source tiles are active, and each edge neighbour whose shared edge holds water; nothing else."""
    tr, tc = 4, 3
    h = np.zeros((12, 15), np.float32)
    h[5, 7] = 0.3  # inside tile (1, 2): wakes no neighbour
    h[6, 6] = 0.01  # on the west edge of tile (1, 2): wakes (1, 1)
    h[4, 8] = 0.02  # north-east corner of tile (1, 2): wakes (0, 2) and (1, 3), not the diagonal (0, 3)
    rowmax = np.zeros((12, 5))
    for i in range(12):
        for b in range(5):
            rowmax[i, b] = h[i, b * tc:(b + 1) * tc].max()
    always = np.zeros((3, 5), np.uint8)
    always[2, 4] = 1  # a dry source tile: active, wakes nothing
    prev = np.ones((3, 5), np.uint8)
    act = np.zeros((3, 5), np.uint8)
    off = K.tile_activity(h, rowmax, tr, tc, always, prev, act)
    expected = np.zeros((3, 5), np.uint8)
    for t in [(1, 2), (1, 1), (0, 2), (1, 3), (2, 4)]:
        expected[t] = 1
    np.testing.assert_array_equal(act, expected)
    assert off == 15 - expected.sum()


def test_priority_flood_matches_iteration():
    rng = np.random.default_rng(11)
    for _ in range(10):
        z = rng.random((14, 19))
        blocked = rng.random(z.shape) < 0.1
        outlet = np.zeros(z.shape, bool)
        outlet[0, :] = outlet[-1, :] = outlet[:, 0] = outlet[:, -1] = True
        got = K.priority_flood(z, blocked, outlet)
        ref = naive.fill_ref(z, outlet, blocked)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
        np.testing.assert_allclose(got[~np.isnan(got)], ref[~np.isnan(ref)])


def test_bathtub_matches_connected_components():
    rng = np.random.default_rng(5)
    z = ndimage.gaussian_filter(rng.random((30, 40)), 2) * 10
    blocked = rng.random(z.shape) < 0.05
    seed = np.zeros(z.shape, bool)
    seed[:, 0] = True
    level = float(np.percentile(z, 40))
    got = K.bathtub(z, blocked, seed, level)
    below = (z < level) & ~blocked
    lab, _ = ndimage.label(below)
    connected = np.isin(lab, np.unique(lab[seed & below])) & below
    np.testing.assert_allclose(got, np.where(connected, level - z, 0.0), rtol=1e-6, atol=1e-6)
    assert connected.sum() > 20 and (below & ~connected).sum() > 5  # some low ground is cut off


def test_depression_tree_two_basins():
    """1-D: pits at 1 and 0.5 separated by a saddle at 3; capacities are the volumes below the saddle."""
    z = np.array([[5.0, 1.0, 2.0, 3.0, 1.5, 0.5, 1.0, 5.0]])
    label, nleaves, parent, sibling, spill, cap, entry, ocean = K.depression_tree(
        z, np.zeros(z.shape, bool), np.zeros(z.shape, bool))
    assert nleaves == 2
    left, right = label[0, 1], label[0, 5]
    assert parent[left] == parent[right] and spill[left] == 3.0
    assert cap[left] == pytest.approx((3 - 1) + (3 - 2))
    assert cap[right] == pytest.approx((3 - 1.5) + (3 - 0.5) + (3 - 1.0))
    assert label[0, 3] in (left, right)
