"""Impact monitoring, b-plane and risk scales.

The impact-monitoring case is constructed with a known answer: an orbit built to pass Earth
inside its capture radius on a chosen date, with a covariance around it. The expected impact
probability is computed independently of the sampling: linear mapping of the covariance to the
b-plane (central differences along its principal axes) and the 2-D Gaussian integral over the
capture disk (the same quadrature as the collision probability, spacecommons.risk.foster)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spacecommons.constants import AU_KM, AU_PER_DAY_KM_S, GM_DE440_KM3_S2
from spacecommons.neo import impact
from spacecommons.neo.bplane import bplane, capture_radius
from spacecommons.neo.scales import palermo
from spacecommons.neo.scenario import synthetic_encounter
from spacecommons.neo.torino import torino
from spacecommons.risk.foster import pc_circle

T_IMPACT = 2462000.5  # 2028-Jul-18, TDB


@pytest.fixture(scope="module")
def constructed():
    """Nominal state 20 days before an encounter whose straight-line miss is 6,000 km at
    v_inf 12 km/s (b_E = 8,724 km), and a covariance stretched along track (15,000 km x 1,500 km)."""
    t0 = T_IMPACT - 20
    nominal = synthetic_encounter(T_IMPACT, t0, v_inf_km_s=12.0, miss_km=6000.0)
    vhat = nominal[3:] / np.linalg.norm(nominal[3:])
    cov = np.zeros((6, 6))
    cov[:3, :3] = (15000 / AU_KM) ** 2 * np.outer(vhat, vhat) + (1500 / AU_KM) ** 2 * (np.eye(3) - np.outer(vhat, vhat))
    cov[3:, 3:] = np.eye(3) * (1e-4 / AU_PER_DAY_KM_S) ** 2
    return t0, nominal, cov


@pytest.fixture(scope="module")
def linear_ip(constructed):
    """The linear-mapping answer (IP, periapsis epoch), computed once for the tests that compare with it."""
    return _linear_ip(*constructed)


def _linear_ip(t0, nominal, cov):
    w, V = np.linalg.eigh(cov)
    L = V * np.sqrt(np.clip(w, 0, None))
    pts = np.array([nominal] + [nominal + s * L[:, k] for k in range(6) for s in (1, -1)])
    result = impact.monitor(pts, np.full(13, 1 / 13), t0, T_IMPACT)
    enc = {e.sample: e for e in result.encounters}
    assert len(enc) == 13
    xz = {k: np.array([e.bplane.xi_km, e.bplane.zeta_km]) for k, e in enc.items()}
    D = np.array([(xz[1 + 2 * k] - xz[2 + 2 * k]) / 2 for k in range(6)])
    nominal_bp = enc[0].bplane
    ip = pc_circle(xz[0][None], (D.T @ D)[None], nominal_bp.capture_radius_km)[0][0]
    return float(ip), enc[0].jd_tdb


def test_monte_carlo_impact_probability_contains_linear_answer(constructed, linear_ip):
    t0, nominal, cov = constructed
    expected_ip, expected_jd = linear_ip
    assert 0.3 < expected_ip < 0.6  # the case is built to be undecided
    states, weights = impact.sample_monte_carlo(nominal, cov, 300, seed=3)
    result = impact.monitor(states, weights, t0, T_IMPACT)
    assert len(result.impacts) == 1
    imp = result.impacts[0]
    assert imp.ci_low <= expected_ip <= imp.ci_high
    assert abs(imp.jd_tdb - expected_jd) < 0.01  # within 15 minutes of the nominal's periapsis
    assert abs(imp.jd_tdb - T_IMPACT) < 0.01  # the date the orbit was built for (focusing: ~6 min early)
    assert imp.v_inf_km_s == pytest.approx(12.0, abs=0.05)


def test_line_of_variations_close_to_linear_answer(constructed, linear_ip):
    """The LOV samples only the major axis; with a 10:1 covariance it is within 10 % here."""
    t0, nominal, cov = constructed
    expected_ip, _ = linear_ip
    states, weights = impact.sample_lov(nominal, cov, 61)
    result = impact.monitor(states, weights, t0, T_IMPACT, method="lov")
    assert result.cumulative_ip == pytest.approx(expected_ip, rel=0.10)


def test_bplane_of_a_straight_hyperbola():
    """Two-body check: a state on a hyperbola with known b and v_inf returns them (xi/zeta
    orientation from Valsecchi et al. 2003: xi along V_planet x U)."""
    gm = GM_DE440_KM3_S2["earth"]
    v_inf, b = 10.0, 20000.0
    # far away on the incoming asymptote: r = -U*t + b*x, v = U (gravity negligible at 1e9 km)
    r = np.array([b, -1e9, 0.0])
    v = np.array([0.0, math.sqrt(v_inf**2 + 2 * gm / np.linalg.norm(r)), 0.0])
    bp = bplane(np.concatenate([r, v]), [0.0, 0.0, 30.0], gm, 6378.137)
    # the straight line at 1e9 km is the asymptote to GM/(r v_inf^2) = 4e-6 relative
    assert bp.b_km == pytest.approx(b, rel=1e-5)
    assert bp.v_inf_km_s == pytest.approx(v_inf, rel=1e-9)
    assert math.hypot(bp.xi_km, bp.zeta_km) == pytest.approx(bp.b_km, rel=1e-12)
    # xi is along V_planet x U = z x y = -x: the offset +b along x is xi = -b, zeta = 0
    assert bp.xi_km == pytest.approx(-bp.b_km, rel=1e-9)
    # periapsis of the hyperbola: a(1-e) with a = -gm/v^2, e = sqrt(1 + b^2 v^4 / gm^2)
    e = math.sqrt(1 + b**2 * v_inf**4 / gm**2)
    assert bp.periapsis_km == pytest.approx(-gm / v_inf**2 * (1 - e), rel=1e-5)
    assert capture_radius(6378.137, gm, 10.0) == pytest.approx(6378.137 * math.sqrt(1 + 2 * gm / (6378.137 * 100)))


def test_torino_grid_binzel_2000():
    """The grid from tests/data/reference/neo_and_defense.md (Binzel 2000 chart): levels 0..10."""
    energy = [1e2, 1e4, 1e5, 1e1, 1e3, 1e4, 1e7, 1e7, 1e1, 1e4, 1e7]
    ip = [1e-6, 1e-4, 1e-3, 1e-1, 1e-1, 1e-1, 1e-3, 1e-1, 0.999, 0.999, 0.999]
    assert [torino(p, e) for p, e in zip(ip, energy, strict=True)] == list(range(11))
    assert torino(0.031, 8.0) == 3  # 2024 YR4 at its peak
    assert torino(0.027, 1000.0) == 4  # Apophis, December 2004
    assert torino(0.5, 0.5) == 0  # below 1 Mt: breaks up in the atmosphere


def test_palermo_check_value_chesley_2002():
    assert palermo(1e-6, 1e3, 50) == pytest.approx(-3.776, abs=5e-4)


def test_diameter_and_energy():
    """D = 1329/sqrt(p) 10^(-H/5) km: H 22, p 0.154 -> 134 m (the 140 m PHA line is H ~ 22)."""
    assert impact.diameter_from_h(22.0, 0.154) == pytest.approx(0.1346, abs=5e-4)
    # 1 km at 2600 kg/m^3 and v_inf 0 -> impact at escape speed 11.18 km/s: 0.5 m v^2
    mass = 2600 * math.pi / 6 * 1e9
    expected = 0.5 * mass * (2 * GM_DE440_KM3_S2["earth"] / 6378.137 * 1e6) / 4.184e15
    assert impact.impact_energy_mt(1.0, 0.0) == pytest.approx(expected)
