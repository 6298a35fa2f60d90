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


POW = K.powers_of_ten_128()


def _parse(text):
    buf = np.frombuffer(text.encode(), np.uint8)
    out, ends = np.empty(len(buf) // 2 + 2), np.empty(text.count("|") + 1, np.int64)
    k, g, status = K.parse_numbers(buf, out, ends, *POW)
    return out[:k], ends[:g], status


@pytest.mark.parametrize("text", [
    "1841529.865945 5175888.997804 205.909017",
    "-1.5 +2.25 3e2 4.5E-3 .5 6. 0 -0.0",
    "458875 5438350 112\n\t458885 5438350 112",
    # the OGC samples: 16-17 significant digits, beyond the 2**53 of Clinger's fast path
    "458877.97152597865 5438355.312347524 114.75012198097823 0.1234567890123456789",
    "1e-30 2.5e+100 7.2057594037927933e16 1.7976931348623157e308 2.2250738585072014e-308",
])
def test_parse_numbers_gives_the_same_doubles_as_float(text):
    vals, ends, status = _parse(text)
    assert status == 0 and ends.tolist() == [len(text.split())]
    ref = [float(v) for v in text.split()]
    assert vals.tolist() == ref
    assert np.signbit(vals).tolist() == np.signbit(ref).tolist()


def test_parse_numbers_is_bitwise_python_float_on_random_decimals():
    """20,000 random decimals (coordinates with 6-20 digits, reprs of doubles, exponents, more than 19
    digits): every number the kernel decides is the double ``float`` gives; it declines less than 2 %."""
    rng = np.random.default_rng(11)
    texts = []
    for i in range(20000):
        kind = i % 4
        if kind == 0:
            s = f"{rng.integers(0, 9_999_999)}.{''.join(rng.choice(list('0123456789'), rng.integers(1, 14)))}"
        elif kind == 1:
            s = repr(float(rng.uniform(-1e7, 1e7)) * 10.0 ** int(rng.integers(-25, 25)))
        elif kind == 2:
            s = f"{''.join(rng.choice(list('0123456789'), rng.integers(1, 24)))}e{rng.integers(-320, 300)}"
        else:
            s = repr(float(rng.uniform(0, 1e6)))
        texts.append(("-" if rng.random() < 0.3 and not s.startswith("-") else "") + s)
    declined = 0
    for t in texts:
        vals, _, status = _parse(t)
        if status == 1:
            declined += 1
            continue
        assert status == 0 and vals[0] == float(t) and np.signbit(vals[0]) == np.signbit(float(t)), t
    assert declined < 0.02 * len(texts)
    vals, _, status = _parse(" ".join(texts))  # all at once: status 1 when any is declined
    assert status == (1 if declined else 0) and len(vals) == len(texts)


def test_parse_numbers_flags_what_it_cannot_do_exactly():
    def status(text):
        return _parse(text)[2]

    assert status("9007199254740993") == 1        # 2**53 + 1: exactly half-way, rounding needs the full value
    assert status("1e-320") == 1 and status("1e400") == 1  # subnormal, overflow: left to Python
    assert status("0.12345678901234567890123") == 0  # 23 digits: the 19 kept decide the double here
    assert status("1 2 x") == 2 and status("1e") == 2 and status("nan") == 2
    vals, ends, s = _parse("1 2 3|4 5 6|7 8")
    assert s == 0 and vals.tolist() == [1, 2, 3, 4, 5, 6, 7, 8] and ends.tolist() == [3, 6, 8]


def test_powers_of_ten_table_and_128_bit_product():
    hi, lo = POW
    for q in (-348, -27, -1, 0, 1, 22, 23, 43, 347):
        m = (int(hi[q - K.POW10_MIN]) << 64) | int(lo[q - K.POW10_MIN])
        assert m.bit_length() == 128
        # 10**q lies in [m, m + 1) * 2**e for the e that makes m a 128-bit integer
        if q >= 0:
            e = (10**q).bit_length() - 128
            assert m * 2**e <= 10**q < (m + 1) * 2**e if e >= 0 else m == 10**q << -e
        else:
            e = -(10**-q).bit_length() - 127
            assert m * 10**-q <= 2**-e < (m + 1) * 10**-q
    # published mantissas (Go's strconv table, 1e-348 and 1e43)
    assert (int(hi[0]), int(lo[0])) == (0xFA8FD5A0081C0288, 0x1732C869CD60E453)
    assert (int(hi[43 - K.POW10_MIN]), int(lo[43 - K.POW10_MIN])) == (0xE596B7B0C643C719, 0x6D9CCD05D0000000)
    rng = np.random.default_rng(5)
    for a, b in rng.integers(0, 2**64, size=(200, 2), dtype=np.uint64):
        h, low = K._mul_64x64(a, b)
        assert (int(h) << 64) | int(low) == int(a) * int(b)


def _naive_rings(values, ends, dims, flip):
    """The reference: one ring at a time in NumPy (the reader's former per-ring code)."""
    out, begin = [], 0
    for end, dim, rev in zip(ends, dims, flip):
        arr = values[begin:end]
        begin = end
        if dim < 2 or arr.size % dim:
            if dim == 3 and arr.size % 2 == 0:
                dim = 2
            else:
                out.append(1)
                continue
        xyz = arr.reshape(-1, dim)
        xyz = np.column_stack([xyz, np.full(len(xyz), np.nan)]) if dim == 2 else xyz[:, :3]
        if len(xyz) and not (xyz[0, 0] == xyz[-1, 0] and xyz[0, 1] == xyz[-1, 1]):
            xyz = np.vstack([xyz, xyz[:1]])
        if len(xyz) < 4:
            out.append(2)
            continue
        out.append(xyz[::-1] if rev else xyz)
    return out


def test_shape_rings_matches_the_per_ring_reference():
    rng = np.random.default_rng(9)
    chunks, dims, flip = [], [], []
    for i in range(300):
        dim = int(rng.choice([2, 3, 3, 3, 4, 1]))
        nv = int(rng.integers(0, 9))
        ring = rng.normal(size=(nv, dim)).round(3)
        if nv and rng.random() < 0.6:
            ring = np.vstack([ring, ring[:1]])  # closed in the file
        flat = ring.ravel()
        if rng.random() < 0.1:
            flat = flat[:-1]  # a count that does not fit
        chunks.append(flat)
        dims.append(dim)
        flip.append(int(rng.random() < 0.3))
    values = np.concatenate(chunks)
    ends = np.cumsum([c.size for c in chunks]).astype(np.int64)
    coords, starts, flags = K.shape_rings(values, ends, np.array(dims, np.int64), np.array(flip, np.uint8))
    ref = _naive_rings(values, ends, dims, flip)
    assert len(starts) == len(ref) + 1
    for r, want in enumerate(ref):
        got = coords[starts[r]:starts[r + 1]]
        if isinstance(want, int):
            assert flags[r] == want and len(got) == 0
        else:
            assert flags[r] == 0
            np.testing.assert_array_equal(got, want)  # bitwise, NaN altitudes of 2D rings included
    assert {1, 2} <= set(flags.tolist()) and (flags == 0).sum() > 100


def test_parse_rings_is_parse_numbers_then_shape_rings():
    text = "0 0 1 4 0 1 4 3 1|0 0 0 1 0 0 1 1 0 0 0 0 9|5438355.312347524 0.1 114.75012198097823 7 7 7"
    buf = np.frombuffer(text.encode(), np.uint8)
    dims, flip = np.array([3, 3, 3]), np.array([1, 0, 0], np.uint8)
    coords, starts, flags, status = K.parse_rings(buf, dims, flip, *POW)
    vals, ends, s = _parse(text)
    ref = K.shape_rings(vals, ends, dims, flip)
    assert status == 0 and s == 0
    np.testing.assert_array_equal(coords, ref[0])
    assert starts.tolist() == ref[1].tolist() and flags.tolist() == ref[2].tolist() == [0, 1, 2]
    # the first ring, closed then reversed
    assert coords[starts[0]:starts[1]].tolist() == [[0, 0, 1], [4, 3, 1], [4, 0, 1], [0, 0, 1]]
    # one value of dims/flip applies to every ring
    one = K.parse_rings(buf, np.array([3]), np.zeros(1, np.uint8), *POW)
    each = K.parse_rings(buf, dims, np.zeros(3, np.uint8), *POW)
    for a, b in zip(one, each):
        np.testing.assert_array_equal(a, b)
    assert K.parse_rings(np.frombuffer(b"1 2 x", np.uint8), dims, flip, *POW)[3] == 2
