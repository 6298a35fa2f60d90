"""Each numba kernel of the importers against a naive reference on a small input."""

import numpy as np
import pytest

from importers import _kernels as K
from importers._fill import fill_gaps
from importers.pointcloud import _roles_lut


def test_bin_points_kernel_matches_a_naive_reference():
    rng = np.random.default_rng(3)
    n = 5000
    x = rng.uniform(-2, 12, n)
    y = rng.uniform(-2, 12, n)
    z = rng.normal(10, 3, n)
    cls = rng.choice(np.array([1, 2, 3, 5, 6, 7, 9, 17, 64, 65, 66], np.uint8), n)
    roles = _roles_lut()
    nrows = ncols = 10
    m = nrows * ncols
    gs = np.zeros(m)
    smax = np.full(m, -np.inf, np.float32)
    amax = np.full(m, -np.inf, np.float32)
    vmax = np.full(m, -np.inf, np.float32)
    counts = np.zeros((K.N_COUNTS, m), np.int32)
    used = K.bin_points(x, y, z, cls, roles, gs, smax, amax, vmax, counts, xmin=0.0, ymax=10.0, cell_size=1.0,
                        nrows=nrows, ncols=ncols)
    # naive: loop in Python
    col = np.floor(x).astype(int)
    row = np.floor(10 - y).astype(int)
    inside = (col >= 0) & (col < 10) & (row >= 0) & (row < 10)
    r = roles[cls]
    keep = inside & ~(r & K.IGNORED).astype(bool)
    assert used == keep.sum()
    ref_gs = np.zeros(m)
    ref_smax = np.full(m, -np.inf)
    ref_cnt_g = np.zeros(m, int)
    for i in np.flatnonzero(keep):
        k = row[i] * 10 + col[i]
        if r[i] & K.GROUND:
            ref_gs[k] += z[i]
            ref_cnt_g[k] += 1
        if r[i] & K.SURFACE:
            ref_smax[k] = max(ref_smax[k], z[i])
    np.testing.assert_allclose(gs, ref_gs, rtol=1e-12)
    np.testing.assert_array_equal(counts[K.COUNT_GROUND], ref_cnt_g)
    np.testing.assert_allclose(smax, ref_smax.astype(np.float32))


def test_percentile_kernel_matches_numpy():
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 6, 3000)
    values = rng.normal(size=3000)
    values[rng.random(3000) < 0.1] = np.nan
    out, cnt = K.percentile_by_label(labels.astype(np.int64), values, 5, q=90.0)
    for k in range(1, 6):
        v = values[(labels == k) & np.isfinite(values)]
        assert cnt[k] == v.size
        assert out[k] == pytest.approx(np.percentile(v, 90))
    assert np.isnan(out[0])


def test_relax_holes_matches_numpy_jacobi():
    rng = np.random.default_rng(7)
    v = rng.normal(size=(30, 40))
    known = rng.random(v.shape) > 0.1
    rows, cols = np.nonzero(rng.random(v.shape) < 0.2)
    known[rows, cols] = True
    ref = np.where(known, v, 0.0)
    got = ref.copy()
    K.relax_holes(got, rows.astype(np.int64), cols.astype(np.int64), known, iterations=5)
    for _ in range(5):  # naive Jacobi
        new = ref.copy()
        for r, c in zip(rows, cols):
            s = w = 0.0
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if (dr or dc) and 0 <= rr < 30 and 0 <= cc < 40 and known[rr, cc]:
                        s += ref[rr, cc]
                        w += 1
            new[r, c] = s / w if w else ref[r, c]
        ref = new
    np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_gap_filling_is_exact_on_a_plane():
    y, x = np.mgrid[0:120, 0:150]
    plane = (3.0 + 0.1 * x - 0.05 * y).astype(np.float32)
    a = plane.copy()
    a[10:14, 10:14] = np.nan          # small hole: Laplace relaxation
    a[40:70, 50:90] = np.nan          # large gap: linear from its rim
    a[0, 149] = np.nan                # a corner cell: one-sided neighbours
    out, mask = fill_gaps(a, max_distance_cells=100)
    assert mask.sum() == 16 + 1200 + 1
    inner = np.ones(a.shape, bool)
    inner[0, 149] = False
    assert np.max(np.abs(out - plane)[inner]) < 1e-3
    assert abs(out[0, 149] - plane[0, 149]) <= 0.1 + 1e-4  # within one cell's rise


@pytest.mark.parametrize("text", [
    "1841529.865945 5175888.997804 205.909017",
    "-1.5 +2.25 3e2 4.5E-3 .5 6. 0",
    "458875 5438350 112\n\t458885 5438350 112",
])
def test_parse_numbers_gives_the_same_doubles_as_float(text):
    text = text.replace("\\n", "\n").replace("\\t", "\t")
    buf = np.frombuffer(text.encode(), np.uint8)
    out = np.empty(len(buf)); ends = np.empty(1, np.int64)
    k, g, status = K.parse_numbers(buf, out, ends)
    assert status == 0 and g == 1
    assert out[:k].tolist() == [float(v) for v in text.split()]


def test_parse_numbers_flags_what_it_cannot_do_exactly():
    def status(text):
        buf = np.frombuffer(text.encode(), np.uint8)
        return K.parse_numbers(buf, np.empty(len(buf) + 2), np.empty(4, np.int64))[2]

    assert status("0.1234567890123456789") == 1   # more than 15 significant digits: re-parsed by Python
    assert status("1e-30") == 1
    assert status("1 2 x") == 2 and status("1e") == 2 and status("nan") == 2
    buf = np.frombuffer(b"1 2 3|4 5 6|7 8", np.uint8)
    out, ends = np.empty(10), np.empty(3, np.int64)
    k, g, s = K.parse_numbers(buf, out, ends)
    assert (k, g, s) == (8, 3, 0) and ends.tolist() == [3, 6, 8]
