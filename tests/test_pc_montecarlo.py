"""SDMC-like Monte Carlo Pc (``risk/sdmc.py``) against published Monte Carlo values.

References, each copied with provenance into ``tests/data/pc_reference/`` (see SOURCES.md):
- Alfano, S. (2009) "Satellite Conjunction Monte Carlo Analysis", AAS 09-233: his two-body
  Monte Carlo (1e8 trials) for test cases 1-11, and NASA CARA's own two-body Monte Carlo of the
  same cases (1e8 trials, 95% interval), from CARA_Analysis_Tools ``A09TestCases_01_12_Distributed.csv``.
- NASA CARA's SDMC Pc (``Pc_SDMC``, with its 95% interval) for the 53 real CDMs in
  ``tests/data/cdm/cara_pc_test_cdms``, from CARA_Analysis_Tools ``CARA_PcMethod_Test_Conjunctions.xlsx``.
- Matlab ``binofit`` intervals in the same spreadsheet (CARA's SDMC hits / trials).
- Independent computations: scipy's DOP853 integration for the two-body propagation, and an RTN
  basis built here for the sampling covariance.
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from spacecommons.cdm import read_cdm
from spacecommons.cdm.pc import cdm_pc, encounter_from_cdm
from spacecommons.frames import rtn_basis
from spacecommons.risk import binomial_interval, encounter_plane, pc_circle, rtn_to_inertial, sdmc

from .conftest import DATA

REF = DATA / "pc_reference"
ALFANO = {int(r["Case"]): r for r in csv.DictReader((REF / "alfano2009_cara_mc.csv").open())}
CARA = {r["Conjunction_ID"]: r for r in csv.DictReader((REF / "cara_pcmethod_test_conjunctions.csv").open())}
# Alfano's Monte Carlo window (FinalTime_s, Alfano_2009_Supplementary_Data.xlsx); CARA's Pc3D and
# Monte Carlo of these cases run over +/- this time about TCA (AlfanoTestCases_Pc3D.m)
ALFANO_T = {1: 21600, 2: 21600, 3: 21600, 4: 21600, 5: 1419, 6: 1419, 7: 1419, 8: 10135, 9: 10800, 10: 21600, 11: 1420}
FAST_LEO = "000025994_conj_000037558_20210324_151047_20210323_154356"  # TERRA vs IRIDIUM 33 DEB, 11 km/s
LONG_LEO = "000032060_conj_000049574_20220227_152525_20220222_065043"  # 15 km/s, 240 km in-track sigma
SLOW_LEO = "000035946_conj_000030648_20221210_140311_20221206_003234"  # 54 m/s, 2D Pc 4e-23


def _encounter(path):
    cdm = read_cdm(path.read_text(), path.name)
    return cdm, encounter_from_cdm(cdm)


def _alfano(case):
    return _encounter(DATA / f"cdm/cara_sample_cdms/AlfanoTestCase{case:02d}.cdm")


def _cara(conj_id):
    return _encounter(DATA / f"cdm/cara_pc_test_cdms/{conj_id}.cdm")


def _run(enc, hbr_m, **kw):
    return sdmc.pc_sdmc(enc.x1, enc.c1, enc.x2, enc.c2, hbr_m / 1000.0, **kw)


# -- published Monte Carlo values -----------------------------------------------------------------
@pytest.mark.parametrize(
    "case",
    [1, 2, 3, 4, 5, 8, 10, pytest.param(6, marks=pytest.mark.slow), pytest.param(7, marks=pytest.mark.slow)],
)
def test_alfano_cases_contain_caras_monte_carlo(case):
    """CARA's 1e8-trial two-body Monte Carlo of Alfano (2009) cases, window +/- FinalTime about TCA.
    Nine cases are checked, so the reference must lie in the 99.5% interval of our trials (a 95%
    interval misses one case in twenty by design); the run itself stops at +/-10% at 95%."""
    cdm, enc = _alfano(case)
    ref = ALFANO[case]
    res = _run(enc, cdm.hbr_m(), window_s=(-ALFANO_T[case], ALFANO_T[case]), seed=case)
    assert res.converged and res.ci_high - res.pc <= 0.1 * res.pc
    lo, hi = binomial_interval(res.hits, res.samples, 0.995)
    assert lo <= float(ref["CARA_PcMC"]) <= hi
    # Alfano's own value agrees as well except where his 1e8 trials and CARA's differ by > 10%
    # (none of these cases); case 2: 0.01574 vs CARA 0.01555
    assert abs(float(ref["A09_PcMC1e8"]) / res.pc - 1.0) < 0.15
    if case in (1, 4):  # the long GEO encounters: 2D is far below the Monte Carlo
        assert float(ref["CARA_Pc2D"]) < res.ci_low


def test_alfano_case9_counts_contact_at_the_window_start_as_alfano_does():
    """Case 9 = case 10 at TCA; Alfano's window starts where the objects may already touch
    (his instantaneous Pc 0.0842). We count contact anywhere in the window, as Alfano does
    (0.3651); CARA counts entries only: its 0.2798 + 0.0842 = 0.3640."""
    cdm, enc = _alfano(9)
    ref = ALFANO[9]
    res = _run(enc, cdm.hbr_m(), window_s=(-ALFANO_T[9], ALFANO_T[9]), seed=9)
    assert res.ci_low <= float(ref["A09_PcMC1e8"]) <= res.ci_high
    assert res.ci_low <= float(ref["CARA_PcMC"]) + float(ref["A09_InstProb"]) <= res.ci_high


def test_alfano_case11_over_alfanos_window_from_tca():
    """Case 11 (InstProb 0.0019: his epoch is at TCA): over [0, FinalTime] we find Alfano's 0.00333
    within 10%. The value depends on the window (about 0.0028 over [-T, 0], 0.0038 over [-T, T]);
    CARA's 0.00244 is not reproduced by any of these windows (documented in docs/risk-and-cdm.md).
    Converged further (3.2e6 trials, seeds 11 and 12) ours is 0.00320-0.00327, 2-4% below Alfano's, so
    a +/-10% run's 95% interval misses his value for some draws (2 of seeds 11-18, and which draws a
    seed gives depends on the machine's LAPACK); at +/-3% (1.4e6 trials) seeds 11-16 gave -6.1% to
    +0.6%. The 10% bound is 4.7 standard deviations beyond that 2.5% offset."""
    cdm, enc = _alfano(11)
    res = _run(enc, cdm.hbr_m(), window_s=(0.0, ALFANO_T[11]), seed=11, accuracy=0.03)
    assert res.converged and res.ci_high - res.pc <= 0.03 * res.pc
    assert abs(res.pc / float(ALFANO[11]["A09_PcMC1e8"]) - 1.0) < 0.10


def test_real_cdm_fast_leo_contains_caras_sdmc():
    cdm, enc = _cara(FAST_LEO)
    ref = CARA[FAST_LEO]
    res = _run(enc, float(ref["HBR_m"]))
    assert res.converged and res.ci_low <= float(ref["PcSDMC"]) <= res.ci_high
    assert res.window[1] - res.window[0] >= 180.0 and res.window[0] < 0.0 < res.window[1]  # CARA's minimum span


@pytest.mark.parametrize("conj_id", [LONG_LEO, pytest.param(SLOW_LEO, marks=pytest.mark.slow)])
def test_real_cdms_where_2d_fails_contain_caras_sdmc(conj_id):
    """CARA: 2D underestimates (9.4e-5 and 4.5e-23), SDMC 1.442e-4 and 1.506e-4. At +/-20% (100 hits)
    to keep the test short; the benchmark runs them at +/-10%. Known: for the 54 m/s one our pooled
    estimate over 15e6 trials is 1.39e-4 +/- 0.03e-4, 8% below CARA's (docs/risk-and-cdm.md)."""
    cdm, enc = _cara(conj_id)
    ref = CARA[conj_id]
    res = _run(enc, float(ref["HBR_m"]), accuracy=0.2, pc_guess=float(ref["Nc3D"]))
    assert res.converged and res.ci_low <= float(ref["PcSDMC"]) <= res.ci_high
    assert float(ref["Pc2D"]) < res.ci_low


def test_cartesian_sampling_of_a_long_in_track_sigma_misses_every_hit():
    """Why the old Monte Carlo counted 0 hits at Pc 1.4e-4: a 240 km in-track sigma drawn along a
    straight line puts samples kilometres off the orbit shell (radial sigma 250 m). Sampled in
    equinoctial elements (CARA's choice) the samples stay on the orbit."""
    cdm, enc = _cara(LONG_LEO)
    res = _run(enc, 20.0, sampling="cartesian", min_samples=100_000, max_samples=100_000)
    assert res.hits == 0 and res.ci_high < float(CARA[LONG_LEO]["PcSDMCLo"])


# -- the pieces, against independent computations -------------------------------------------------
def test_sampling_covariance_reproduces_the_cdm_rtn_covariance():
    """Samples drawn in equinoctial elements, rotated into an RTN basis built here, have the CDM's
    RTN covariance (m**2, m**2/s, m**2/s**2): frame, units and the velocity block. 200,000 draws:
    sigmas to 1% (sampling error 0.16%), correlations to 0.01."""
    cdm, enc = _cara(FAST_LEO)
    for obj, (x, c) in enumerate(((enc.x1, enc.c1), (enc.x2, enc.c2)), start=1):
        sampler = sdmc._Sampler(x, c, "equinoctial", sdmc.MU_KM3_S2)
        states = sampler.states(sampler.draw(np.random.default_rng(obj), 200_000))
        r, v = x[:3], x[3:]
        R = r / np.linalg.norm(r)
        N = np.cross(r, v) / np.linalg.norm(np.cross(r, v))
        basis = np.stack([R, np.cross(N, R), N])
        d = states - x
        rtn_m = np.concatenate([d[:, :3] @ basis.T, d[:, 3:] @ basis.T], axis=1) * 1000.0
        got = np.cov(rtn_m.T)
        want = cdm.covariance_rtn(obj, 6)
        sg, sw = np.sqrt(np.diag(got)), np.sqrt(np.diag(want))
        np.testing.assert_allclose(sg, sw, rtol=0.01)
        np.testing.assert_allclose(got / np.outer(sg, sg), want / np.outer(sw, sw), atol=0.01)


def test_kepler_universal_variables_match_a_numerical_integration():
    """Two-body states after 10 s .. 1 day against scipy DOP853 (rtol 1e-12): within 1 mm (a LEO
    and an eccentric orbit)."""

    def f(_t, y):
        return np.r_[y[3:], -sdmc.MU_KM3_S2 * y[:3] / np.linalg.norm(y[:3]) ** 3]

    for x in (np.array([7000.0, 100.0, -50.0, 0.1, 7.5, 1.0]), np.array([-6600.0, 2000.0, 300.0, -2.0, -8.9, 2.5])):
        for dt in (10.0, -700.0, 5000.0, 86400.0):
            ref = solve_ivp(f, (0.0, dt), x, method="DOP853", rtol=1e-12, atol=1e-12).y[:, -1]
            got = sdmc.propagate_two_body(x, [dt])[0]
            assert np.abs(got[:3] - ref[:3]).max() < 1e-6
            assert np.abs(got[3:] - ref[3:]).max() < 1e-9


def test_equinoctial_elements_round_trip_including_retrograde_frames():
    rng = np.random.default_rng(0)
    for _ in range(50):
        r = rng.normal(size=3)
        r *= rng.uniform(6600.0, 42000.0) / np.linalg.norm(r)
        v = np.cross(rng.normal(size=3), r)
        v *= math.sqrt(sdmc.MU_KM3_S2 / np.linalg.norm(r)) * rng.uniform(0.9, 1.1) / np.linalg.norm(v)
        x = np.r_[r, v]
        R = np.eye(6)
        R[:3, :3] = R[3:, 3:] = rtn_basis(r, v)
        xr = R @ x  # frozen RTN axes: the orbit is equatorial and prograde there
        back = sdmc.equinoctial_to_cartesian(sdmc.cartesian_to_equinoctial(xr))
        assert np.abs(back - xr).max() < 1e-8


def test_clopper_pearson_matches_matlab_binofit_in_caras_table():
    for conj_id in (FAST_LEO, "000020580_conj_000022015_20210315_212955_20210313_065123"):
        ref = CARA[conj_id]
        lo, hi = binomial_interval(int(ref["NhitSDMC"]), int(ref["NtotSDMC"]))
        # Matlab's beta inverse and scipy's agree to 2e-8 (the table's last digits differ)
        assert lo == pytest.approx(float(ref["PcSDMCLo"]), rel=1e-7)
        assert hi == pytest.approx(float(ref["PcSDMCHi"]), rel=1e-7)
    # zero hits: 1 - 0.025**(1/n) (closed form)
    assert binomial_interval(0, 1000) == (0.0, pytest.approx(1.0 - 0.025 ** (1.0 / 1000)))


def test_npd_covariance_is_clipped_and_reported():
    """CARA's Omitron test 7 ships a non-positive-definite covariance."""
    cdm, enc = _encounter(DATA / "cdm/cara_sample_cdms/OmitronTestCase_Test07_NonPDCovariance.cdm")
    res = _run(enc, cdm.hbr_m() or 20.0, min_samples=20_000, max_samples=20_000)
    assert any(res.npd_remediated) and 0.0 <= res.ci_low <= res.pc <= res.ci_high <= 1.0
    report = cdm_pc(cdm, "mc", hbr_m=cdm.hbr_m() or 20.0, samples=20_000)[0]
    assert any("positive semi-definite" in w for w in report.warnings)


# -- properties -----------------------------------------------------------------------------------
def _crossing(rng, speed_km_s, miss_m, sigmas_m):
    """Two circular LEO orbits crossing at TCA at a given relative speed, a radial miss, and RTN
    position sigmas (velocity sigmas 5 cm/s): inertial states and covariances (km units)."""
    r = 7000.0 + rng.uniform(-400, 400)
    vc = math.sqrt(sdmc.MU_KM3_S2 / r)
    angle = 2.0 * math.asin(min(speed_km_s / (2 * vc), 1.0))
    x1 = np.array([r, 0.0, 0.0, 0.0, vc, 0.0])
    x2 = np.array([r + miss_m / 1000.0, 0.0, 0.0, 0.0, vc * math.cos(angle), vc * math.sin(angle)])
    out = []
    for x, s in ((x1, sigmas_m[0]), (x2, sigmas_m[1])):
        c_rtn = np.diag(np.r_[np.square(s), np.full(3, 0.05**2)]) * 1e-6
        out.append(rtn_to_inertial(c_rtn, x[:3], x[3:]))
    return x1, out[0], x2, out[1]


@pytest.mark.parametrize("k", range(3))
def test_fast_short_encounters_agree_with_2d_within_the_interval(k):
    """Relative speed 1-14 km/s, 5-sigma pass << orbit: the Monte Carlo tends to the 2D Pc. Checked
    against the 99.9% interval of the same trials (three seeded geometries)."""
    rng = np.random.default_rng(100 + k)
    x1, c1, x2, c2 = _crossing(rng, rng.uniform(1.0, 14.0), rng.uniform(0, 60), rng.uniform(20, 150, (2, 3)))
    hbr_km = 0.02
    plane = encounter_plane(x1[:3], x1[3:], c1, x2[:3], x2[3:], c2)
    pc2d = float(pc_circle(plane.miss, plane.cov, hbr_km)[0])
    assert pc2d > 1e-3  # a Pc the test can afford to resolve
    res = sdmc.pc_sdmc(x1, c1, x2, c2, hbr_km, seed=k)
    lo, hi = binomial_interval(res.hits, res.samples, 0.999)
    assert lo <= pc2d <= hi


def test_swapping_the_objects_gives_the_same_pc():
    rng = np.random.default_rng(7)
    x1, c1, x2, c2 = _crossing(rng, 9.0, 30.0, [[40, 120, 40], [60, 200, 50]])
    a = sdmc.pc_sdmc(x1, c1, x2, c2, 0.02, seed=1)
    b = sdmc.pc_sdmc(x2, c2, x1, c1, 0.02, seed=1)
    sigma = math.sqrt(a.pc * (1 - a.pc) / a.samples + b.pc * (1 - b.pc) / b.samples)
    assert abs(a.pc - b.pc) < 3.5 * sigma


def test_reproducible_with_a_seed():
    rng = np.random.default_rng(3)
    x1, c1, x2, c2 = _crossing(rng, 5.0, 10.0, [[40, 120, 40], [60, 200, 50]])
    a = sdmc.pc_sdmc(x1, c1, x2, c2, 0.02, seed=5, max_samples=30_000)
    assert a == sdmc.pc_sdmc(x1, c1, x2, c2, 0.02, seed=5, max_samples=30_000)
    assert a.hits != sdmc.pc_sdmc(x1, c1, x2, c2, 0.02, seed=6, max_samples=30_000).hits


def test_window_of_a_slow_geo_encounter_is_one_encounter_segment():
    """Alfano case 1 (GEO, 1.4 cm/s): the Coppola bound runs to +/-13 h, cut to the nominal pair's
    neighbouring separation maxima, within half a period (43,082 s) of TCA."""
    cdm, enc = _alfano(1)
    ta, tb = sdmc.conjunction_window(enc.x1, enc.c1, enc.x2, enc.c2, 0.015)
    period = sdmc.orbital_period(enc.x1)
    assert -0.5 * period <= ta < -3600.0 and 3600.0 < tb <= 0.5 * period


def test_default_window_of_slow_geo_encounters_finds_the_published_monte_carlo():
    """Alfano cases 1 and 4 (GEO, 1.4 and 1.9 cm/s) without a given window: the straight-line bounds
    are too short there (case 4: +/-6,300 s, but trials still hit at 10,000 s), so the whole
    encounter segment is used and CARA's +/-6 h Monte Carlo (0.2169, 0.0736) is found again."""
    for case in (1, 4):
        cdm, enc = _alfano(case)
        res = _run(enc, cdm.hbr_m(), seed=case)
        lo, hi = binomial_interval(res.hits, res.samples, 0.995)
        assert lo <= float(ALFANO[case]["CARA_PcMC"]) <= hi
        assert res.window[1] - res.window[0] > 6 * 3600.0


def test_cdm_pc_mc_reports_method_interval_and_samples():
    cdm, _ = _cara(FAST_LEO)
    report = cdm_pc(cdm, "mc")[0]
    assert report.method.startswith("MONTE_CARLO") and report.samples >= 10_000
    assert report.ci_low <= float(CARA[FAST_LEO]["PcSDMC"]) <= report.ci_high


def test_bad_input_is_refused():
    cdm, enc = _cara(FAST_LEO)
    with pytest.raises(ValueError, match="hard-body radius"):
        _run(enc, 0.0)
    with pytest.raises(ValueError, match="sampling"):
        _run(enc, 10.0, sampling="keplerian")
    with pytest.raises(ValueError, match="window"):
        _run(enc, 10.0, window_s=(5.0, 5.0))
