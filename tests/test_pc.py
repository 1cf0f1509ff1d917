"""Collision probability against published values: NASA CARA's own Pc in 53 real CDMs, the
Alfano (2009) and Omitron cases (CARA Analysis Tools unit tests), Orekit's encounter-plane cases
(Serra et al. 2015 reference values), closed forms, and properties."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spacecommons.cdm import read_cdm
from spacecommons.cdm.pc import cdm_pc, encounter_from_cdm
from spacecommons.risk import encounter_plane, max_pc_isotropic, pc_circle, pc_square
from spacecommons.risk.cdm_pc import monte_carlo

from .conftest import DATA

CARA = sorted((DATA / "cdm/cara_pc_test_cdms").glob("*.cdm"))
ION = DATA / "cdm/misc/ION_SCV8_vs_STARLINK_1233.cdm"
# Two operational messages whose written Pc differs from ours by 0.26% and 0.23%: their states sit
# at the TCA rounded to the millisecond (0.21 and 0.12 ms early: 0.96 m and 1.54 m of the relative
# position lie along the relative velocity), and the Pc in the message keeps that along-track part
# in the miss distance (CARA's "Pc2D_NoAdj"), where we project onto the encounter plane, which is
# the true TCA (CARA's "Pc2D", after its TCA adjustment). With 24.5 m and 72.6 m misses the metre
# shows; elsewhere it does not. Evidence: CARA_PcMethod_Test_Conjunctions.xlsx, both columns.
CARA_LOOSE = {"000025994_conj_000026132_20220224_100307", "000027424_conj_000031201_20230823_165542"}
CARA_VALUES = {
    r["Conjunction_ID"][:40]: r
    for r in csv.DictReader(
        line for line in (DATA / "cdm/cara_pc_test_cdms/cara_pc_method_values.csv").open() if not line.startswith("#")
    )
}


def _m(text: str, scale: float = 1.0) -> np.ndarray:
    return np.array([[float(x) for x in row.split()] for row in text.split(";")]) * scale


@pytest.mark.parametrize("path", CARA, ids=lambda p: p.name[:40])
def test_foster_matches_the_pc_cara_wrote_into_each_real_cdm(path):
    cdm = read_cdm(path.read_text(), path.name)
    expected = float(cdm.get("COLLISION_PROBABILITY"))
    report = cdm_pc(cdm, "foster")[0]
    assert report.method == "FOSTER-1992" and report.hbr_m == cdm.hbr_m()
    # CARA's Pc2D at the true TCA (CARA_PcMethod_Test_Conjunctions.xlsx), every message
    assert report.pc == pytest.approx(float(CARA_VALUES[path.name[:40]]["Pc2D"]), rel=1e-4)
    if path.name[:40] in CARA_LOOSE:
        assert report.pc == pytest.approx(expected, rel=3e-3)
    else:
        # CARA gives 4 significant digits: agree to half a unit of the 4th digit (x1.3 slack: one
        # message, 3.864e-168, sits 1.06 half-units away)
        half_unit = 0.5 * 10 ** (np.floor(np.log10(expected)) - 3)
        assert abs(report.pc - expected) <= 1.3 * half_unit
    assert len(CARA) == 53


# Alfano (2009), AAS 09-233, cases 1-11, expected values from CARA's Pc2D_Foster unit test
ALFANO = {
    1: (15, 0.146749500506248),
    2: (4, 0.00622226705532899),
    3: (15, 0.100351017066071),
    4: (15, 0.0493220745447709),
    5: (10, 0.044492344523551),
    6: (10, 0.00433545396136356),
    7: (10, 0.000158146485930144),
    8: (4, 0.036947965085717),
    9: (6, 0.290161522245745),
    10: (6, 0.290161522245745),
    11: (4, 0.00267203364642589),
}


@pytest.mark.parametrize("case", sorted(ALFANO))
def test_alfano_2009_cases(case):
    hbr, expected = ALFANO[case]
    cdm = read_cdm((DATA / f"cdm/cara_sample_cdms/AlfanoTestCase{case:02d}.cdm").read_text())
    assert cdm_pc(cdm, "foster", hbr_m=hbr)[0].pc == pytest.approx(expected, rel=1e-3)


def test_omitron_case_01_circle_and_square():
    """CARA unit tests: PcCircle 2.706023476569787e-05, Foster square 3.44534649703584e-05."""
    p = encounter_plane(
        [378.39559, 4305.721887, 5752.767554],
        [2.360800244, 5.580331936, -4.322349039],
        _m(
            "44.5757544811362 81.6751751052616 -67.8687662707124 ; 81.6751751052616 158.453402956163 "
            "-128.616921644857 ; -67.8687662707124 -128.616921644858 105.490542562701"
        ),
        [374.5180598, 4307.560983, 5751.130418],
        [-5.388125081, -3.946827739, 3.322820358],
        _m(
            "2.31067077720423 1.69905293875632 -1.4170164577661 ; 1.69905293875632 1.24957388457206 "
            "-1.04174164279599 ; -1.4170164577661 -1.04174164279599 0.869260558223714"
        ),
    )
    assert pc_circle(p.miss, p.cov, 0.020)[0] == pytest.approx(2.706023476569787e-05, rel=1e-6)
    assert pc_square(p.miss, p.cov, 0.020)[0] == pytest.approx(3.44534649703584e-05, rel=1e-6)


def test_omitron_case_02_high_pc():
    p = encounter_plane(
        [-3239.128337196251, 2404.575152356222, 5703.228541709001],
        [-3.745768373154199, 5.012339015927846, -4.231864565717194],
        _m(
            "0.342072996423899 -0.412677096778269 0.371500417511149 ; -0.412677096778269 0.609905946319294 "
            "-0.540401385544286 ; 0.371500417511149 -0.540401385544286 0.521238634755377",
            1e-3,
        ),
        [-3239.138264917246, 2404.568320465936, 5703.235605231182],
        [6.110192790100711, -1.767321407894830, 4.140369261741708],
        _m(
            "0.028351300975134 -0.008204103437377 0.019253747960155 ; -0.008204103437377 0.002404377774847 "
            "-0.005586512197914 ; 0.019253747960155 -0.005586512197914 0.013289250260317"
        ),
    )
    # CARA: PcCircle 0.1807363058 (its RelTol 1e-10), PcElrod same value at RelTol 1e-3; the exact
    # 2D integral (ours) is 1.6e-4 above: within the 1e-3 the issue and CARA allow for 2D methods
    assert pc_circle(p.miss, p.cov, 0.020)[0] == pytest.approx(1.807363058494765e-01, rel=1e-3)


def test_omitron_case_03_non_positive_definite_gives_zero_and_a_warning():
    p = encounter_plane(
        [-6711923.276204407, 2115987.639388162, 596903.033311516],
        [-3633.024009735033, -8343.876216289187, 1529.269073307224],
        _m(
            "10651.06865424844 25162.51806981900 -4653.47179860534 ; 25162.51806981901 61873.55078822979 "
            "-11370.63814221593 ; -4653.47179860534 -11370.63814221593 2108.71780971058"
        ),
        [-6703689.997789211, 2066645.266249834, 601175.621383896],
        [-499.951545210059, -8271.763735723972, -3673.287518932014],
        _m(
            "38324418857.201 409236977944.646 182366534533.406 ; 409236977944.646 4369926131386.673 "
            "1947351616381.380 ; 182366534533.406 1947351616381.380 867790027954.990"
        ),
    )
    pc, _, npd = pc_circle(p.miss, p.cov, 52.84)
    assert bool(npd) and float(pc) == pytest.approx(0.0, abs=1e-12)


M1 = dict(
    r1=[-6.227006552549310e06, -3.000839638747010e06, -1.932569099062626e05],
    v1=[2.983983865443772e03, -5.973188938878403e03, -3.622262843716804e03],
    c1=_m(
        "2.329248149898317e+04 -4.624097512511387e+04 -2.810352472705708e+04 ; -4.624097512511387e+04 "
        "9.189373058443272e+04 5.583858286675660e+04 ; -2.810352472705708e+04 5.583858286675660e+04 "
        "3.396506000245927e+04"
    ),
    r2=[-6.231009268962734e06, -2.993196148130401e06, -1.761401651747054e05],
    v2=[-3.255968208692156e02, 9.946514541875586e02, -7.507340539210305e03],
    c2=_m(
        "3.689149893147051e+07 -1.200669748208798e+08 9.002535247181211e+08 ; -1.200669748208798e+08 "
        "3.907735722225543e+08 -2.929990982074453e+09 ; 9.002535247181211e+08 -2.929990982074453e+09 "
        "2.196888928197153e+10"
    ),
)


@pytest.mark.parametrize(
    ("hbr", "expected"),
    [
        (0.0, 0.0),
        (10.0, 2.514939701718358e-15),
        (100.0, 1.232312816404174e-05),
        (1000.0, 6.343318773183237e-03),
        (3000.0, 1.917884657463699e-02),
        (10000.0, 6.389821634646267e-02),
        (30000.0, 1.900663422510684e-01),
        (np.inf, 1.0),
    ],
)
def test_cara_hbr_sweep(hbr, expected):
    """CARA PcCircle sweep (case M1). For HBR >= 1 km CARA's PcCircle and the exact 2D integral
    (ours, confirmed by a 2e7-point Riemann sum) differ by up to 3e-4: within the 1e-3 allowed."""
    p = encounter_plane(M1["r1"], M1["v1"], M1["c1"], M1["r2"], M1["v2"], M1["c2"])
    pc = float(pc_circle(p.miss, p.cov, hbr)[0])
    assert pc == pytest.approx(expected, rel=1e-3, abs=0.0)


# Orekit short-term encounter cases; reference = Serra et al. (2015) certified series (Laas2015)
OREKIT = [
    (0, 10, 25, 50, 5, 9.742e-3),
    (10, 0, 25, 50, 5, 9.181e-3),
    (0, 10, 25, 75, 5, 6.571e-3),
    (10, 0, 25, 75, 5, 6.125e-3),
    (0, 1000, 1000, 3000, 10, 1.577e-5),
    (1000, 0, 1000, 3000, 10, 1.011e-5),
    (0, 10000, 1000, 3000, 10, 6.443e-8),
    (10000, 0, 1000, 3000, 10, 3.219e-27),
    (0, 10000, 1000, 10000, 10, 3.033e-6),
    (10000, 0, 1000, 10000, 10, 9.656e-28),
    (0, 5000, 1000, 3000, 50, 1.039e-4),
    (5000, 0, 1000, 3000, 50, 1.564e-9),
    (84.875546, 60.583685, 57.918666, 152.8814468, 10.3, 1.9002e-3),
    (-81.618369, 115.055899, 15.988242, 5756.840725, 1.3, 2.0553e-11),
    (102.177247, 693.405893, 94.230921, 643.409272, 5.3, 7.2003e-5),
    (-752.672701, 644.939441, 445.859950, 6095.858688, 3.5, 5.3904e-7),
    (-692.362272, 4475.456261, 193.454603, 562.027293, 13.2, 2.2796e-20),
    # Alfano 3 and 5: Chan's series gives 3.1264e-2 and 1.7346e-202 here (wrong)
    (-3.8872073, 0.1591646, 1.4101830, 114.2585190, 15, 1.0038e-1),
    (-1.2217895, 2.1230067, 0.0373279, 177.8109003, 10, 4.4507e-2),
]


@pytest.mark.parametrize(("x", "y", "sx", "sy", "r", "expected"), OREKIT)
def test_encounter_plane_reference_cases(x, y, sx, sy, r, expected):
    pc, err, _ = pc_circle(np.array([x, y]), np.diag([sx * sx, sy * sy]), r)
    assert float(pc) == pytest.approx(expected, rel=5e-4)  # the reference's 4 digits
    assert float(err) <= 1e-8 * float(pc)


def test_maximum_pc_closed_form():
    """Alfano (2005): isotropic maximum R^2 / (e d^2) for R << d; R = 10 m, d = 1 km -> 3.679e-5."""
    pc, sigma = max_pc_isotropic(1000.0, 10.0)
    assert pc == pytest.approx(10.0**2 / (np.e * 1000.0**2), rel=1e-4)
    assert sigma == pytest.approx(1000.0 / np.sqrt(2.0), rel=1e-3)


def test_monte_carlo_agrees_with_foster_within_its_interval():
    cdm = read_cdm((DATA / "cdm/cara_sample_cdms/OmitronTestCase_Test01_HighPc.cdm").read_text())
    hbr = cdm.hbr_m() or 20.0
    enc = encounter_from_cdm(cdm)
    mc = monte_carlo(enc, hbr, samples=40_000, seed=7)
    foster = cdm_pc(cdm, "foster", hbr_m=hbr)[0].pc
    assert mc.ci_low <= foster <= mc.ci_high
    again = monte_carlo(enc, hbr, samples=40_000, seed=7)
    assert again.pc == mc.pc  # reproducible with a seed


def test_cspoc_square_convention_and_itrf_states():
    """CSpOC CDM in ITRF reports the square-HBR Pc 4.450713e-3; the circle gives 3.4965e-3."""
    cdm = read_cdm(ION.read_text())
    assert cdm_pc(cdm, "foster", hbr_m=10.0, shape="square")[0].pc == pytest.approx(4.450713e-3, rel=1e-4)
    assert cdm_pc(cdm, "foster", hbr_m=10.0)[0].pc == pytest.approx(3.4965e-3, rel=1e-4)


sig = st.floats(1.0, 5000.0)


@settings(max_examples=150, deadline=None)
@given(st.floats(-2e4, 2e4), st.floats(-2e4, 2e4), sig, sig, st.floats(0, np.pi), st.floats(0.1, 500.0))
def test_properties(x, y, s1, s2, angle, r):
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    cov = rot @ np.diag([s1 * s1, s2 * s2]) @ rot.T
    pc = float(pc_circle(np.array([x, y]), cov, r)[0])
    assert 0.0 <= pc <= 1.0
    # monotone in HBR, up to the quadrature's rounding where Pc is 1 (one ulp below was seen)
    assert float(pc_circle(np.array([x, y]), cov, 1.5 * r)[0]) >= pc - 4 * np.finfo(float).eps
    assert float(pc_circle(np.array([-x, -y]), cov, r)[0]) == pytest.approx(pc, rel=1e-9, abs=1e-300)  # swap


@settings(max_examples=50, deadline=None)
@given(st.floats(1.0, 1000.0), st.floats(0.01, 3000.0))
def test_isotropic_zero_miss_closed_form(sigma, r):
    pc = float(pc_circle(np.zeros(2), np.eye(2) * sigma**2, r)[0])
    assert pc == pytest.approx(1.0 - np.exp(-(r**2) / (2.0 * sigma**2)), rel=1e-9, abs=1e-15)


def test_swapping_objects_in_a_cdm_changes_nothing():
    cdm = read_cdm(CARA[0].read_text())
    enc = encounter_from_cdm(cdm)
    p1 = encounter_plane(enc.x1[:3], enc.x1[3:], enc.c1, enc.x2[:3], enc.x2[3:], enc.c2)
    p2 = encounter_plane(enc.x2[:3], enc.x2[3:], enc.c2, enc.x1[:3], enc.x1[3:], enc.c1)
    assert float(pc_circle(p1.miss, p1.cov, 0.01)[0]) == pytest.approx(
        float(pc_circle(p2.miss, p2.cov, 0.01)[0]), rel=1e-12
    )


@pytest.mark.parametrize("name", sorted(CARA_LOOSE))
def test_the_two_loose_messages_are_explained_by_the_rounded_tca(name):
    """Keeping the along-velocity part of the relative position in the miss (no TCA adjustment)
    reproduces the Pc written in the message to its 4 digits and CARA's Pc2D_NoAdj to 1e-4."""
    path = next((DATA / "cdm/cara_pc_test_cdms").glob(name + "*.cdm"))
    cdm = read_cdm(path.read_text())
    enc = encounter_from_cdm(cdm)
    r, v = enc.x2[:3] - enc.x1[:3], enc.x2[3:] - enc.x1[3:]
    along_m = 1000.0 * float(r @ v) / float(np.linalg.norm(v))
    assert 0.9 < abs(along_m) < 1.6  # about a metre along track: a TCA 0.1-0.2 ms off
    plane = encounter_plane(enc.x1[:3], enc.x1[3:], enc.c1, enc.x2[:3], enc.x2[3:], enc.c2)
    unadjusted = plane.miss * np.linalg.norm(r) / np.linalg.norm(plane.miss)
    pc = float(pc_circle(unadjusted, plane.cov, cdm.hbr_m() / 1000.0)[0])
    assert pc == pytest.approx(float(CARA_VALUES[name]["Pc2D_NoAdj"]), rel=1e-4)
    written = float(cdm.get("COLLISION_PROBABILITY"))
    assert abs(pc - written) <= 0.5 * 10 ** (np.floor(np.log10(written)) - 3)
