"""Photometry: EULUMDAT and IES reading on real and hand-written files, unfolding, interpolation, integration."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulation.lighting.photometry import (
    Photometry,
    read_ies,
    read_ldt,
    read_photometry,
    unfold,
    write_ies,
    write_ldt,
    zonal_flux,
)
from twin.errors import TwinFileNotFoundError, TwinFormatError, TwinValueError


@pytest.fixture(scope="module")
def ldt_files(shared_data):
    files = sorted((shared_data / "photometry").glob("*.ldt"))
    assert len(files) == 20
    return files


# -- the 20 real files ------------------------------------------------------------------------------

def test_real_files_parse_with_every_symmetry_present(ldt_files):
    syms = {}
    for f in ldt_files:
        p = read_ldt(f)
        syms.setdefault(p.symmetry, []).append(f.name)
        assert p.intensity.shape == (p.c_angles.size, p.gamma_angles.size)
        assert (p.intensity >= 0).all()
    # the test set has Isym 0, 1, 2 and 4 (Isym 3 is covered by the synthetic files below)
    assert set(syms) == {0, 1, 2, 4}


def test_flux_integration_matches_lorl_times_lamp_flux(ldt_files):
    """Zonal integration of the unfolded table vs the manufacturer's LORL: within 1.5 % on all 20 files."""
    ratios = []
    for f in ldt_files:
        p = read_ldt(f)
        ratios.append(p.lor / p.lor_declared)
        # luminaire flux in lumens against LORL x lamp flux
        assert p.luminaire_flux_per_klm * p.lamp_flux / 1000 == pytest.approx(p.lor_declared * p.lamp_flux, rel=0.015)
    ratios = np.array(ratios)
    assert np.abs(ratios - 1).max() < 0.015        # worst: va_sample_06 (15 x 5 deg grid), 1.46 %
    assert np.median(np.abs(ratios - 1)) < 0.003   # median 0.2 %


def test_upward_ratio_matches_declared_downward_flux_fraction(ldt_files):
    """ULR from the table vs 100 - DFF (line 22) where the file fills it: within 0.5 percentage point."""
    n = 0
    for f in ldt_files:
        p = read_ldt(f)
        dff = p.meta["dff"]
        if 0 < dff < 100 or (dff == 0 and p.ulr > 0.5):
            n += 1
            assert 100 * p.ulr == pytest.approx(100 - dff, abs=0.5), f.name
    assert n >= 5


def test_two_lamp_sets_bom_and_nonequidistant_gamma(ldt_files):
    by = {f.name: f for f in ldt_files}
    p = read_ldt(by["va_sample_03.ldt"])
    assert [s.flux for s in p.lamp_sets] == [1983.0, 2643.0]
    assert p.lamp_flux == 1983.0
    q = p.with_lamp_set(1)
    assert q.lamp_flux == 2643.0 and q.power == pytest.approx(24.9)
    np.testing.assert_array_equal(q.intensity, p.intensity)
    with pytest.raises(TwinValueError, match="no lamp set 2"):
        p.with_lamp_set(2)
    s17 = read_ldt(by["va_sample_17.ldt"])  # UTF-8 with BOM, Isym 1, gamma 0..90 only, absolute photometry (-1 lamps)
    assert s17.meta["manufacturer"] == "ERCO GmbH"
    assert s17.c_angles.tolist() == [0.0] and s17.cct == 4000.0
    assert s17.intensity_at(123.0, 95.0) == 0.0  # outside the measured range: no light
    s20 = read_ldt(by["va_sample_20.ldt"])   # Dg = 0: gamma steps 2.5 then 5 deg
    assert s20.meta["dg"] == 0.0 and set(np.round(np.diff(s20.gamma_angles), 3)) == {2.5, 5.0}


def test_symmetry_unfolding_equals_full_table_file(ldt_files, tmp_path):
    """A quarter (Isym 4) and a half (Isym 2) file read back identical to the full table written from them."""
    by = {f.name: f for f in ldt_files}
    for name in ("va_sample_02.ldt", "va_sample_03.ldt", "va_sample_20.ldt", "va_sample_01.ldt"):
        p = read_ldt(by[name])
        full = write_ldt(p, tmp_path / f"full_{name}", isym=0)
        q = read_ldt(full)
        assert q.symmetry == 0
        np.testing.assert_array_equal(q.c_angles, p.c_angles)
        np.testing.assert_allclose(q.intensity, p.intensity, rtol=1e-6, atol=1e-9)
        # and the reduced file written back from the full table unfolds to the same table
        red = read_ldt(write_ldt(q, tmp_path / f"red_{name}", isym=p.symmetry))
        np.testing.assert_allclose(red.intensity, p.intensity, rtol=1e-6, atol=1e-9)


def _symmetric_table(isym):
    c = np.arange(0.0, 360.0, 15.0)
    g = np.arange(0.0, 181.0, 10.0)
    C, G = np.meshgrid(np.radians(c), np.radians(g), indexing="ij")
    base = 100 + 50 * np.cos(G)
    shape = {0: 1 + 0.3 * np.cos(C) + 0.2 * np.sin(C), 1: np.ones_like(C), 2: 1 + 0.3 * np.cos(C) + 0.1 * np.cos(2 * C),
             3: 1 + 0.3 * np.sin(C) + 0.1 * np.cos(2 * C), 4: 1 + 0.3 * np.cos(2 * C)}[isym]
    return Photometry("sym", "sym", c, g, base * shape * (G < 2.9))


@pytest.mark.parametrize("isym", [0, 1, 2, 3, 4])
def test_every_symmetry_type_round_trips(isym, tmp_path):
    full = _symmetric_table(isym)
    p = read_ldt(write_ldt(full, tmp_path / f"s{isym}.ldt", isym=isym))
    assert p.symmetry == isym
    if isym == 1:
        assert p.c_angles.tolist() == [0.0]
        np.testing.assert_allclose(p.intensity[0], full.intensity[0], rtol=1e-6)
    else:
        np.testing.assert_allclose(p.intensity, full.intensity, rtol=1e-6, atol=1e-9)


def test_isym3_stores_c90_to_c270(tmp_path):
    full = _symmetric_table(3)
    path = write_ldt(full, tmp_path / "s3.ldt", isym=3)
    lines = path.read_text().splitlines()
    mc, ng = int(lines[3]), int(lines[5])
    assert len(lines) == 26 + 6 + 10 + mc + ng + (mc // 2 + 1) * ng
    # the first stored plane is C90 (its nadir value is the table's C90 value)
    first = float(lines[26 + 6 + 10 + mc + ng])
    assert first == pytest.approx(full.intensity[list(full.c_angles).index(90.0), 0], rel=1e-6)


def test_nonequidistant_c_planes_interpolate_linearly(tmp_path):
    c = np.array([0.0, 10.0, 30.0, 90.0, 180.0, 270.0])
    g = np.array([0.0, 45.0, 90.0])
    tab = np.outer(np.array([100.0, 110.0, 130.0, 190.0, 150.0, 120.0]), [1.0, 1.0, 0.0])
    p = read_ldt(write_ldt(Photometry("n", "n", c, g, tab), tmp_path / "n.ldt", isym=0))
    assert p.meta["dc"] == 0.0
    assert p.intensity_at(20.0, 0.0) == pytest.approx(120.0)
    assert p.intensity_at(60.0, 0.0) == pytest.approx(160.0)
    assert p.intensity_at(315.0, 0.0) == pytest.approx(110.0)       # periodic: between C270 and C360 = C0
    assert p.intensity_at(-45.0, 0.0) == pytest.approx(110.0)
    assert p.intensity_at(20.0, 22.5) == pytest.approx(120.0)
    assert p.intensity_at(20.0, 67.5) == pytest.approx(60.0)        # bilinear in gamma


def test_latin1_and_decimal_comma(tmp_path):
    p = _symmetric_table(1)
    path = write_ldt(p, tmp_path / "a.ldt", isym=1)
    lines = path.read_text(encoding="latin-1").splitlines()
    lines[0] = "Éclairage Société Générale"
    lines[8] = "Lanterne de style ancien"
    lines[22] = "87,5"       # LORL with a decimal comma
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    q = read_ldt(path)
    assert q.meta["manufacturer"] == "Éclairage Société Générale"
    assert q.lor_declared == pytest.approx(0.875)
    np.testing.assert_allclose(q.intensity[0], p.intensity[0], rtol=1e-6)


# -- integration on analytic distributions --------------------------------------------------------------

def test_isotropic_flux_ulr_n3():
    g = np.arange(0.0, 180.1, 2.5)
    p = Photometry("iso", "iso", np.array([0.0]), g, np.full((1, g.size), 1000 / (4 * math.pi)))
    assert p.luminaire_flux_per_klm == pytest.approx(1000.0, rel=1e-12)  # zones tile the sphere exactly
    assert p.ulr == pytest.approx(0.5, rel=1e-12)
    assert p.n3 == pytest.approx(1 - math.cos(math.radians(75.5)), rel=1e-12)
    ulr, n3 = p.installed_ratios(20.0)
    assert ulr == pytest.approx(0.5, abs=2e-3) and n3 == pytest.approx(p.n3, abs=2e-3)


def test_lambertian_n3():
    g = np.arange(0.0, 90.01, 0.5)
    p = Photometry("lam", "lam", np.array([0.0]), g, np.cos(np.radians(g))[None, :] * 318.31)
    assert p.n3 == pytest.approx(1 - math.cos(math.radians(75.5)) ** 2, abs=2e-4)   # 0.9373
    assert p.lor == pytest.approx(1.0, rel=2e-3)
    assert zonal_flux(p.c_angles, p.gamma_angles, p.intensity, 0, 60) / p.zone_flux() == pytest.approx(0.75, abs=1e-3)


def test_tilt_sends_light_up():
    from simulation.lighting.builtin import builtin

    p = builtin("road-led")
    assert p.installed_ratios(0.0) == (p.ulr, p.n3)
    ulr20, _ = p.installed_ratios(20.0)
    assert ulr20 > p.ulr


def test_unfold_rejects_nothing_and_keeps_nodes():
    c, t = unfold(np.array([0.0, 45.0, 90.0]), np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]), 4)
    assert c.tolist() == [0, 45, 90, 135, 180, 225, 270, 315]
    assert t[:, 0].tolist() == [1, 2, 3, 2, 1, 2, 3, 2]


# -- IES LM-63 ------------------------------------------------------------------------------------------

IES_WRAPPED = """IESNA:LM-63-2002
[TEST] hand written
[MANUFAC] Test & Co
[LUMINAIRE] Lanterne test
[MORE] deux lignes
TILT=NONE
1 5000 1.0 5 3 1 2 0.5 0.6 0.1
1.0 1.0 60
0 30 60
90 180
0 90 180
400 380
300 100 0 420 390 310 90 0
350 330 250
80 0
"""


def test_ies_wrapped_values_and_bilateral_symmetry(tmp_path):
    path = tmp_path / "wrapped.IES"
    path.write_text(IES_WRAPPED)
    p = read_photometry(path)
    assert p.name == "Lanterne test deux lignes" and p.meta["keywords"]["MANUFAC"] == "Test & Co"
    assert p.symmetry == 2 and p.lamp_flux == 5000.0 and p.power == 60.0
    # cd -> cd/klm: x 1000 / 5000
    assert p.intensity_at(0.0, 0.0) == pytest.approx(80.0)
    assert p.intensity_at(90.0, 30.0) == pytest.approx(78.0)
    assert p.intensity_at(270.0, 30.0) == pytest.approx(78.0)     # mirrored about C0-C180
    assert p.intensity_at(180.0, 60.0) == pytest.approx(50.0)
    assert p.intensity_at(0.0, 135.0) == pytest.approx(10.0)      # halfway between 90 (100 cd) and 180 (0 cd)


@pytest.mark.parametrize("hz,isym", [("0", 1), ("0 45 90", 4), ("0 90 180", 2), ("90 180 270", 3),
                                     ("0 90 180 270 360", 0)])
def test_ies_horizontal_symmetries(tmp_path, hz, isym):
    angles = hz.split()
    vals = "\n".join(" ".join(str(100 + 10 * k + j) for j in range(3)) for k in range(len(angles)))
    text = f"IESNA:LM-63-1995\nTILT=NONE\n1 1000 1 3 {len(angles)} 1 2 0 0 0\n1 1 10\n0 45 90\n{hz}\n{vals}\n"
    path = tmp_path / "h.ies"
    path.write_text(text)
    p = read_ies(path)
    assert p.symmetry == isym
    assert p.intensity_at(float(angles[0]), 0.0) == pytest.approx(100.0)
    if isym == 3:   # symmetric about C90-C270: C0 mirrors C180
        assert p.intensity_at(0.0, 45.0) == pytest.approx(p.intensity_at(180.0, 45.0))
    if isym == 0:
        assert p.c_angles.tolist() == [0, 90, 180, 270]


def test_ies_tilt_include_and_absolute_photometry(tmp_path):
    text = ("IESNA:LM-63-2002\n[LUMINAIRE] abs\nTILT=INCLUDE\n1\n3\n0 45\n90\n1.0 0.95 0.9\n"
            "1 -1 1 3 1 1 2 0 0 0\n1 1 20\n0 45 90\n0\n100 100 0\n")
    path = tmp_path / "abs.ies"
    path.write_text(text)
    p = read_ies(path)
    assert p.meta["tilt_table"]["factors"] == [1.0, 0.95, 0.9]
    assert p.meta["absolute"] and p.lor == pytest.approx(1.0)
    # the integrated luminaire flux becomes the reference flux
    assert p.intensity_at(0, 0) * p.lamp_flux / 1000 == pytest.approx(100.0)


def test_ies_equals_ldt_for_a_real_file(ldt_files, tmp_path):
    p = read_ldt(ldt_files[19])
    q = read_ies(write_ies(p, tmp_path / "x.ies", per_line=7))
    np.testing.assert_allclose(q.intensity, p.intensity, rtol=1e-5, atol=1e-6)
    assert q.lor == pytest.approx(p.lor, rel=1e-5)


# -- bad input ------------------------------------------------------------------------------------------

def _lines(ldt_files, name="va_sample_01.ldt"):
    return next(f for f in ldt_files if f.name == name).read_text(encoding="latin-1").splitlines()


def test_truncated_ldt_names_file_and_line(ldt_files, tmp_path):
    lines = _lines(ldt_files)
    bad = tmp_path / "trunc.ldt"
    bad.write_text("\n".join(lines[:-30]) + "\n")
    with pytest.raises(TwinFormatError, match=r"trunc\.ldt: line \d+: file ends in the intensities.*truncated"):
        read_ldt(bad)
    bad.write_text("\n".join(lines[:20]))
    with pytest.raises(TwinFormatError, match=r"trunc\.ldt: line 21: truncated EULUMDAT header"):
        read_ldt(bad)


def test_counts_that_do_not_match(ldt_files, tmp_path):
    lines = _lines(ldt_files)
    lines[5] = "36"  # Ng 37 -> 36: one value too many at the end
    bad = tmp_path / "count.ldt"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(TwinFormatError, match=r"count\.ldt: line \d+: .*counts do not match|count\.ldt: line \d+: gamma"):
        read_ldt(bad)
    lines = _lines(ldt_files, "va_sample_02.ldt")
    lines[2] = "2"   # Isym 4 data declared as Isym 2: too few values
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(TwinFormatError, match=r"count\.ldt: line \d+"):
        read_ldt(bad)


def test_negative_intensity_names_its_line(ldt_files, tmp_path):
    lines = _lines(ldt_files)
    k = len(lines) - 5
    lines[k] = "-12.5"
    bad = tmp_path / "neg.ldt"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(TwinFormatError, match=rf"neg\.ldt: line {k + 1}: negative luminous intensity -12.5"):
        read_ldt(bad)


def test_other_bad_files(ldt_files, tmp_path):
    lines = _lines(ldt_files)
    lines[2] = "7"
    bad = tmp_path / "sym.ldt"
    bad.write_text("\n".join(lines))
    with pytest.raises(TwinFormatError, match=r"sym\.ldt: line 3: unknown symmetry indicator Isym=7"):
        read_ldt(bad)
    lines = _lines(ldt_files)
    lines[3] = "twenty"
    bad.write_text("\n".join(lines))
    with pytest.raises(TwinFormatError, match=r"line 4: number of C planes Mc is not a number"):
        read_ldt(bad)
    with pytest.raises(TwinFileNotFoundError, match="missing.ldt: photometry file not found"):
        read_ldt(tmp_path / "missing.ldt")
    with pytest.raises(TwinFormatError, match="unknown photometry format '.xyz'"):
        read_photometry(tmp_path / "a.xyz")
    ies = tmp_path / "t.ies"
    ies.write_text(IES_WRAPPED.replace("80 0\n", ""))
    with pytest.raises(TwinFormatError, match=r"t\.ies: line \d+: file ends in the candela values"):
        read_ies(ies)
    ies.write_text(IES_WRAPPED.replace("350 330", "350 -330"))
    with pytest.raises(TwinFormatError, match=r"t\.ies: line 14: negative luminous intensity -330"):
        read_ies(ies)
    ies.write_text(IES_WRAPPED.replace("1 5000 1.0 5 3 1 2", "1 5000 1.0 5 3 2 2"))
    with pytest.raises(TwinFormatError, match="photometric type B is not supported"):
        read_ies(ies)
    ies.write_text("IESNA:LM-63-2002\n[TEST] x\n")
    with pytest.raises(TwinFormatError, match="no TILT= line"):
        read_ies(ies)
