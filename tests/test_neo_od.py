"""Orbit determination (neo/od): apparent places, variational partials, Gauss's method, the
least-squares fit with outlier rejection on real astrometry of 2023 DW.

Sources of expected values: the IAU 1976 constant of aberration (20.49552"); the light
deflection at 90 deg from the Sun, 2GM/(c^2 au) = 4.07 mas (Explanatory Supplement to the
Astronomical Almanac, 3rd ed., sec. 7.2.3); partials against central finite differences of the
same force model (an independent computation); Gauss's method against a two-body orbit
propagated with the project's universal-variable Kepler solution (``neo.elements``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spacecommons.constants import AU_KM, GM_SUN_DE440_AU3_D2
from spacecommons.neo.astrometry.mpc80 import read_mpc80
from spacecommons.neo.elements import cometary_to_state
from spacecommons.neo.nbody import propagate_nbody
from spacecommons.neo.od.apparent import C_AU_D, aberrate, apparent_direction, deflect_by_sun
from spacecommons.neo.od.fit import OpticalArc, fit_orbit, optical_arc
from spacecommons.neo.od.iod import gauss, initial_orbit_fit
from spacecommons.neo.od.variational import propagate_with_partials

DATA = Path(__file__).parent / "data" / "neo" / "observations"
ARCSEC = np.pi / 648000.0
MAS = ARCSEC / 1000.0


def test_annual_aberration_equals_the_iau_constant():
    # the IAU 1976 constant of aberration kappa = 20.49552" is v/c for the Earth's mean orbital
    # speed (about 29.79 km/s); a source at right angles to that velocity moves by kappa
    v_km_s = 20.49552 * ARCSEC * 299_792.458
    assert v_km_s == pytest.approx(29.79, abs=0.01)
    v = np.array([[0.0, v_km_s / AU_KM * 86400.0, 0.0]])
    p = aberrate(np.array([[1.0, 0.0, 0.0]]), v)
    angle = np.arctan2(np.linalg.norm(np.cross(p[0], [1.0, 0.0, 0.0])), p[0] @ [1.0, 0.0, 0.0])
    assert angle / ARCSEC == pytest.approx(20.49552, abs=1e-4)


def test_solar_deflection_at_90_degrees_is_4_mas():
    # observer at 1 au on +x, star (distant body) along +y: elongation 90 deg
    p = np.array([[0.0, 1.0, 0.0]])
    q = np.array([[0.0, 1.0, 0.0]])  # Sun -> body, body at infinity in +y
    e = np.array([[1.0, 0.0, 0.0]])
    p1 = deflect_by_sun(p, q, e, np.array([1.0]))
    shift = np.linalg.norm(np.cross(p[0], p1[0] / np.linalg.norm(p1[0])))
    assert shift / MAS == pytest.approx(4.07, abs=0.01)
    # and the light is bent away from the Sun (towards +y from the observer's side: +x component)
    assert p1[0, 0] > 0


def test_apparent_direction_has_light_time_and_aberration_signs():
    # a body 1 au away, observer moving at 30 km/s across the line of sight: the apparent place
    # is displaced towards the observer's velocity by about 20"
    sun = np.zeros((1, 3))
    obs = np.array([[1.0, 0.0, 0.0]])
    vel = np.array([[0.0, 30.0 / AU_KM * 86400.0, 0.0]])
    body = np.array([[1.0, 0.0, 1.0]])
    p = apparent_direction(body, obs, vel, sun)
    assert p[0, 1] / ARCSEC == pytest.approx(30.0 / 299792.458 / ARCSEC, rel=0.01)
    assert pytest.approx(173.1446, rel=1e-6) == C_AU_D  # c in au/day (IAU 2012 au)


def test_variational_partials_match_finite_differences():
    # Apophis-like orbit with Yarkovsky, 200 days both ways from the epoch
    x0 = np.array([-0.5594, 0.8565, 0.3042, -0.013818, -0.0060088, -0.0025805])
    ng = np.array([5e-13, -2.9e-14, 0.0])
    t0 = 2462138.5
    times = t0 + np.array([-200.0, -31.3, 0.7, 55.5, 200.0])
    states, partials = propagate_with_partials(t0, x0, times, ng, (1,))
    assert partials.shape == (5, 6, 7)
    for j, h in [(0, 1e-7), (4, 1e-9)]:
        d = np.zeros(6)
        d[j] = h
        plus = _states(t0, x0 + d, times, ng)
        minus = _states(t0, x0 - d, times, ng)
        fd = (plus - minus) / (2 * h)
        np.testing.assert_allclose(partials[:, :, j], fd, rtol=2e-4, atol=2e-4 * np.abs(fd).max())
    dng = np.array([0.0, 1e-14, 0.0])
    fd = (_states(t0, x0, times, ng + dng) - _states(t0, x0, times, ng - dng)) / 2e-14
    np.testing.assert_allclose(partials[:, :, 6], fd, rtol=1e-3, atol=1e-3 * np.abs(fd).max())
    np.testing.assert_allclose(states, _states(t0, x0, times, ng), atol=1e-12)


def _states(t0, x0, times, ng):
    return np.array([propagate_nbody(x0[None, :], t0, t, nongrav=ng[None, :])[0] for t in times])


def _synthetic_arc(times_tdb: np.ndarray) -> tuple[OpticalArc, np.ndarray]:
    """Directions to a two-body orbit from an observer on a circular 1 au orbit, Sun at rest at
    the origin (no light time, no aberration); returns the arc and the body's states."""
    body = np.array(
        [cometary_to_state(0.9, 0.3, 12.0, 40.0, 60.0, 2460010.0, t, GM_SUN_DE440_AU3_D2)[0] for t in times_tdb]
    ).reshape(len(times_tdb), 6)
    n_earth = np.sqrt(GM_SUN_DE440_AU3_D2)
    ang = n_earth * (times_tdb - 2460000.0)
    obs = np.stack([np.cos(ang), np.sin(ang), np.zeros_like(ang)], axis=1)
    rho = body[:, :3] - obs
    ra = np.mod(np.arctan2(rho[:, 1], rho[:, 0]), 2 * np.pi)
    dec = np.arcsin(rho[:, 2] / np.linalg.norm(rho, axis=1))
    n = len(times_tdb)
    arc = OpticalArc(
        "synthetic",
        times_tdb,
        times_tdb,
        ra,
        dec,
        np.ones(n),
        np.ones(n),
        obs,
        np.zeros((n, 3)),
        np.zeros((n, 3)),
        ("500",) * n,
    )
    return arc, body


def test_gauss_recovers_a_two_body_orbit():
    """Gauss's method with the f and g series truncated after the mu tau^2 terms: its error in
    position is of order tau^2 (Milani & Gronchi 2010, sec. 9.1), so halving the spacing
    quarters it; at 1-day spacing it is under 1e-4 au, ample to start a differential correction."""
    errors = []
    for spacing in (1.0, 2.0):
        arc, body = _synthetic_arc(2460000.0 + np.array([0.0, spacing, 2 * spacing]))
        cands = gauss(arc, 0, 1, 2, light_time=False)
        best = min(cands, key=lambda c: np.linalg.norm(c.state[:3] - body[1, :3]))
        errors.append(np.linalg.norm(best.state[:3] - body[1, :3]))
        assert np.linalg.norm(best.state[3:] - body[1, 3:]) < 2e-5  # au/day
    assert errors[0] < 1e-4
    assert 3.5 < errors[1] / errors[0] < 4.5


@pytest.fixture(scope="module")
def dw_arc():
    return optical_arc(_read("2023DW.txt"))


def _at(fit, epoch):
    return propagate_nbody(fit.state[None, :], fit.epoch_jd_tdb, epoch)[0]


@pytest.mark.parametrize("first", [5, 6])
def test_2023dw_initial_orbit_from_first_observations_converges_to_the_full_fit(dw_arc, first):
    """MPC astrometry of 2023 DW (123 observations, 2023-02-26 to 03-19, tests/data/neo/observations)."""
    start = initial_orbit_fit(dw_arc.subset(slice(0, first)))
    assert start.converged and start.normalized_rms < 1.0
    full = fit_orbit(dw_arc, start.epoch_jd_tdb, start.state)
    assert full.converged
    assert full.rms_arcsec < 0.5  # MPC astrometry of a 2023 NEO: a few tenths of an arcsecond
    # the reference: the full fit from a different start (the 3rd, middle and last observations)
    ref_start = initial_orbit_fit(dw_arc.subset([0, len(dw_arc) // 2, len(dw_arc) - 1]))
    ref = fit_orbit(dw_arc, ref_start.epoch_jd_tdb, ref_start.state)
    diff = _at(full, ref.epoch_jd_tdb) - ref.state
    sigma = np.sqrt(np.diag(ref.state_covariance))
    assert np.all(np.abs(diff) < 0.01 * sigma)


def test_outlier_is_rejected_and_good_observations_kept(dw_arc):
    """A 15" error added to one observation of 2023 DW: Carpino et al.'s chi-square test
    removes it (chi2 >> 8), and no more than a few percent of the others."""
    ra = dw_arc.ra_rad.copy()
    k = 60
    ra[k] += 15.0 * ARCSEC / np.cos(dw_arc.dec_rad[k])
    bad = OpticalArc(**{**dw_arc.__dict__, "ra_rad": ra})
    start = initial_orbit_fit(dw_arc.subset(slice(0, 6)))
    fit = fit_orbit(bad, start.epoch_jd_tdb, start.state)
    assert not fit.used[k]
    assert fit.chi2[k] > 8.0
    assert fit.n_rejected <= 1 + 0.05 * len(bad)
    assert "Carpino" in fit.choices["outliers"]


def _read(name: str):
    obs, issues = read_mpc80((DATA / name).read_text(), name)
    assert not issues
    return obs
