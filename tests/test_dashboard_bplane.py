"""The b-plane of a close approach (issue #19, the NEO object page's b-plane plot), through the API.

Apophis's 2029 approach (JPL SBDB solution 220 with its covariance, tests/data/neo/sbdb_99942.json)
against numbers computed here from published ones, independently of the code under test:
- JPL CNEOS close-approach data (orbit 206; the project reference list neo_and_defense.md): TCA
  JD 2462240.407091595 TDB, nominal distance 38,012.68 km, v_inf 5.84135545611464 km/s;
- the impact parameter of the two-body hyperbola with that periapsis and v_inf,
  b = r_p sqrt(1 + 2 GM / (r_p v_inf^2)) (Öpik 1976; Valsecchi et al. 2003, eq. 1), GM of DE440;
- the Earth's capture radius b_E = R_E sqrt(1 + v_esc^2 / v_inf^2), v_esc^2 = 2 GM / R_E, R_E the
  IAU equatorial radius 6,378.137 km;
- the uncertainty ellipse against the 3-sigma distance range that CNEOS's linear method gives for the
  same orbit (``approaches.approach_uncertainty``): the ellipse's extent along the nominal b vector,
  carried to the periapsis by the focusing relation dr_p/db = b / (r_p + GM / v_inf^2) (the
  derivative of the formula above), is that range.
"""

from __future__ import annotations

import math
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

T0 = datetime(2026, 11, 25, tzinfo=UTC)
DATA = Path(__file__).parent / "data" / "neo"
GM_EARTH_KM3_S2 = 398_600.435507  # DE440 (Park et al. 2021, Table 8)
R_EARTH_KM = 6_378.137  # IAU WGCCRE 2015, equatorial
CNEOS_TCA_JD = 2462240.407091595
CNEOS_DIST_KM = 0.000254099098170977 * 149_597_870.7
CNEOS_V_INF = 5.84135545611464


@pytest.fixture(scope="module")
def apophis(tmp_path_factory):
    from spacecommons.neo.reader import read_orbits
    from spacecommons.service import create_app
    from spacecommons.storage import partners_repo
    from spacecommons.storage.neo_repo import store_orbits

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient
    folder = tmp_path_factory.mktemp("bplane")
    app = create_app(f"sqlite:///{folder / 'b.db'}", rate_per_second=1000.0, rate_burst=100000)
    (orbit,), _ = read_orbits(DATA / "sbdb_99942.json")
    with app.state.session_maker.begin() as s:
        store_orbits(s, [orbit], T0)
        partners_repo.create_partner(s, "neo", T0)
        key = partners_repo.issue_key(s, partners_repo.add_member(s, "neo", "a", "analyst", T0).id, T0)
    client = TestClient(app)
    r = client.post(
        "/api/v1/neo/bplane", json={"designation": orbit.designation, "jd_tdb": 2462240.4}, headers={"X-API-Key": key}
    )
    assert r.status_code == 200, r.text
    yield orbit, r.json(), client, key
    app.state.engine.dispose()


def test_apophis_2029_on_the_bplane_against_cneos_and_opik(apophis):
    _, bp, _, _ = apophis
    assert abs(bp["tca_jd_tdb"] - CNEOS_TCA_JD) * 86400 < 60  # the same minute as CNEOS
    assert bp["distance_km"] == pytest.approx(CNEOS_DIST_KM, abs=5.0)  # another solution: a few km
    assert bp["v_inf_km_s"] == pytest.approx(CNEOS_V_INF, abs=1e-3)
    b_opik = CNEOS_DIST_KM * math.sqrt(1 + 2 * GM_EARTH_KM3_S2 / (CNEOS_DIST_KM * CNEOS_V_INF**2))
    assert bp["b_km"] == pytest.approx(b_opik, abs=10.0)  # 48,302 km
    assert math.hypot(bp["xi_km"], bp["zeta_km"]) == pytest.approx(bp["b_km"], rel=1e-9)
    v_esc2 = 2 * GM_EARTH_KM3_S2 / R_EARTH_KM
    assert bp["capture_radius_km"] == pytest.approx(R_EARTH_KM * math.sqrt(1 + v_esc2 / CNEOS_V_INF**2), rel=1e-4)
    assert bp["body_radius_km"] == R_EARTH_KM
    assert bp["b_km"] > 3 * bp["capture_radius_km"]  # Apophis misses in 2029


def test_apophis_ellipse_is_the_distance_uncertainty_on_the_bplane(apophis):
    from spacecommons.neo.approaches import CloseApproach, approach_uncertainty

    orbit, bp, _, _ = apophis
    ones, threes = bp["ellipses"]
    assert (ones["n_sigma"], threes["n_sigma"]) == (1.0, 3.0)
    assert threes["semi_major_km"] == pytest.approx(3 * ones["semi_major_km"], rel=1e-12)
    cov = np.array(bp["covariance_km2"])
    w = np.linalg.eigvalsh(cov)
    assert ones["semi_major_km"] == pytest.approx(math.sqrt(w[1]), rel=1e-9)
    assert ones["semi_minor_km"] == pytest.approx(math.sqrt(w[0]), rel=1e-9)
    # the along-track (timing) uncertainty dominates: the ellipse is long in zeta (Valsecchi et al. 2003)
    assert abs(ones["angle_deg"]) > 80 and ones["semi_major_km"] > 10 * ones["semi_minor_km"]
    u = np.array([bp["xi_km"], bp["zeta_km"]]) / bp["b_km"]
    sigma_b = math.sqrt(u @ cov @ u)
    focusing = bp["b_km"] / (bp["distance_km"] + GM_EARTH_KM3_S2 / bp["v_inf_km_s"] ** 2)
    nominal = CloseApproach(orbit.designation, orbit.orbit_id, "earth", bp["tca_jd_tdb"], 0.0, 0.0, 0.0, None)
    nominal = CloseApproach(**{**nominal.__dict__, "dist": bp["distance_km"] / 149_597_870.7})
    ranged = approach_uncertainty(orbit, nominal)
    half_range_km = (ranged.dist_max - ranged.dist_min) / 2 * 149_597_870.7
    assert 3 * sigma_b * focusing == pytest.approx(half_range_km, rel=0.05)


def test_bplane_refuses_what_it_cannot_answer(apophis):
    orbit, _, client, key = apophis
    url, h = "/api/v1/neo/bplane", {"X-API-Key": key}
    assert client.post(url, json={"designation": "nonesuch", "jd_tdb": 2462240.4}, headers=h).status_code == 404
    r = client.post(url, json={"designation": orbit.designation, "jd_tdb": 2462210.5}, headers=h)
    assert r.status_code == 400 and "no closest approach" in r.text  # a month before: approaching all day long
    assert client.post(url, json={"designation": orbit.designation, "jd_tdb": 2462240.4}).status_code == 401
