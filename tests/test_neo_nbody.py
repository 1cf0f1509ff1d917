"""ASSIST n-body propagation and close approaches against JPL (reference values in
tests/data/reference/neo_and_defense.md, copied here with their sources)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from spacecommons.constants import AU_KM
from spacecommons.neo.approaches import close_approaches
from spacecommons.neo.nbody import body_state, heliocentric_to_barycentric, propagate_nbody
from spacecommons.neo.sbdb import read_sbdb_csv

DATA = Path(__file__).parent / "data" / "neo"

# Apophis, JPL small-body code state vectors (ASSIST unit_tests/apophis): heliocentric ICRF, au, au/day, TDB.
APOPHIS_T0 = 2462138.5359989386
APOPHIS_X0 = [
    -5.5946538550488512e-01,
    8.5647564757574512e-01,
    3.0415066217102493e-01,
    -1.3818324735921638e-02,
    -6.0088275597939191e-03,
    -2.5805044631309632e-03,
]
APOPHIS_NONGRAV = [4.999999873689e-13, -2.901085508711e-14, 0.0]
APOPHIS_T1 = 2462503.0372426095
APOPHIS_R1 = [1.7028330901729331e-02, 1.2193934090901304e00, 4.7823589236374386e-01]


def test_apophis_reaches_jpl_t1_within_100_m():
    start = heliocentric_to_barycentric(APOPHIS_X0, APOPHIS_T0)
    end = propagate_nbody(start, APOPHIS_T0, APOPHIS_T1, nongrav=[APOPHIS_NONGRAV])[0]
    helio = end[:3] - body_state("sun", APOPHIS_T1)[:3]
    error_m = np.linalg.norm(helio - APOPHIS_R1) * AU_KM * 1000
    assert error_m < 100.0  # ASSIST's own test: < 250 m; the reference says ~30 m with all-planet GR
    # without the Yarkovsky terms the miss is ~1,650 km: the non-gravitational force is really applied
    no_ng = propagate_nbody(start, APOPHIS_T0, APOPHIS_T1)[0]
    assert np.linalg.norm(no_ng[:3] - end[:3]) * AU_KM > 1000.0


def test_apophis_2029_close_approach_matches_cneos():
    """CNEOS CAD, orbit 206: TCA JD 2462240.407091595 TDB, 3-sigma range 0.000254085852623379 -
    0.000254112343772133 au, v_rel 7.42249308586014 km/s, v_inf 5.84135545611464 km/s."""
    from spacecommons.neo.approaches import refine_minimum

    start = heliocentric_to_barycentric(APOPHIS_X0, APOPHIS_T0)[0]
    t_a, t_b = 2462239.5, 2462241.5
    s_a = propagate_nbody(start[None], APOPHIS_T0, t_a, nongrav=[APOPHIS_NONGRAV])[0]
    tca, rel = refine_minimum(t_a, s_a, np.array(APOPHIS_NONGRAV), t_a, t_b, "earth")
    dist = np.linalg.norm(rel[:3])
    assert abs(tca - 2462240.407091595) * 86400 < 1.0
    assert 0.000254085852623379 <= dist <= 0.000254112343772133
    v_rel = np.linalg.norm(rel[3:]) * AU_KM / 86400
    assert v_rel == pytest.approx(7.42249308586014, abs=1e-4)


def test_holman_30_days_matches_horizons():
    """(3666) Holman vs JPL Horizons (ASSIST unit_tests/holman): barycentric ICRF; ASSIST's tolerance
    is 0.1 m per position component."""
    t0, t1 = 2451545.0 + 8416.5, 2451545.0 + 8446.5
    x0 = [
        -2.724183384883979,
        -3.523994546329214e-02,
        9.036596202793466e-02,
        -1.374545432301129e-04,
        -1.027075301472321e-02,
        -4.195690627695180e-03,
    ]
    x1 = np.array([-2.710320457933958, -3.424507930535848e-01, -3.582442972611413e-02])
    v1 = np.array([1.059255302926290e-03, -1.018748422976772e-02, -4.207712906489264e-03])
    end = propagate_nbody(np.array([x0]), t0, t1)[0]
    assert np.all(np.abs(end[:3] - x1) * AU_KM * 1000 < 0.1)
    assert np.all(np.abs(end[3:] - v1) * AU_KM * 1e6 < 5.0)  # mm/day


WINDOWS = {  # CNEOS CAD rows (tests/data/neo) and the TDB window they cover completely
    "jan": ("sbdb_2020_jan_approachers.csv", "cneos_cad_2020_jan01-04.csv", 2458849.5, 2458853.5, 0.052),
    "jun": ("sbdb_2020_jun_approachers.csv", "cneos_cad_2020_jun06-11.csv", 2459006.5, 2459012.5, 0.05),
}


@pytest.mark.parametrize("window", list(WINDOWS))
def test_close_approaches_match_cneos_2020(window):
    """CNEOS close approaches of 2020-01-01..04 and 2020-06-06..11 from the same SBDB orbit solutions
    (tests/data/neo, transcribed from the CAD API)."""
    orbits_file, cad_file, start, end, max_dist = WINDOWS[window]
    orbits, issues = read_sbdb_csv((DATA / orbits_file).read_text())
    assert not issues
    found = close_approaches(orbits, start, end, max_dist_au=max_dist)
    ours = {a.des: a for a in found}
    cneos = list(csv.DictReader((DATA / cad_file).open()))
    assert set(ours) == {r["des"] for r in cneos}
    for r in cneos:
        a = ours[r["des"]]
        assert a.orbit_id == f"JPL {r['orbit_id']}"
        assert float(r["dist_min"]) <= a.dist <= float(r["dist_max"]), r["des"]
        # far inside CNEOS's 3-sigma range: within 1 % of its half-width, or 0.5 km where the orbit is so
        # well determined that the half-width is below 50 km (2013 XA22: 0.6 km; we differ by 0.16 km)
        half_range = (float(r["dist_max"]) - float(r["dist_min"])) / 2
        assert abs(a.dist - float(r["dist"])) < max(0.01 * half_range, 0.5 / AU_KM), r["des"]
        assert a.v_rel == pytest.approx(float(r["v_rel"]), abs=1e-5)
        assert a.v_inf == pytest.approx(float(r["v_inf"]), abs=1e-5)
        # TCA within 1 s except 2020 AD (47 s; its distance still agrees to 300 m), see docs
        assert abs(a.jd - float(r["jd"])) * 86400 < (60 if r["des"] == "2020 AD" else 1.0), r["des"]
        if r["des"] != "2020 AD":
            assert a.cd == r["cd"]


def test_close_approach_uncertainty_linear_mapping_agrees_with_sampling():
    """3-sigma distance range and TCA uncertainty: linear mapping (12 difference orbits) against
    200 sampled orbits, on the synthetic SBDB-API orbit with its covariance scaled to 1/100 in
    sigma (150 km along track) so that the encounter stays linear."""
    from dataclasses import replace

    from spacecommons.neo.approaches import approach_uncertainty
    from spacecommons.neo.reader import read_orbits

    (orbit,), _ = read_orbits(DATA / "synthetic_impactor_sbdb_api.json")
    small = replace(orbit, covariance=tuple(tuple(x * 1e-4 for x in row) for row in orbit.covariance))
    (linear,) = close_approaches([small], orbit.epoch_jd_tdb, orbit.epoch_jd_tdb + 25)
    assert linear.dist_min < linear.dist < linear.dist_max
    sampled = approach_uncertainty(
        small, replace(linear, dist_min=None, dist_max=None, t_sigma=None), method="sampling", samples=200
    )
    width_linear = linear.dist_max - linear.dist_min
    width_sampled = sampled.dist_max - sampled.dist_min
    # a sample standard deviation of n normal draws has a relative standard error 1 / sqrt(2 (n - 1)):
    # 5.0 % for n = 200, so 15 % is 3 standard errors (99.7 %, fixed seed); 300 samples (4.1 %) took
    # half as long again for a margin the assertion does not need
    assert width_linear == pytest.approx(width_sampled, rel=0.15)
    assert linear.t_sigma == pytest.approx(sampled.t_sigma, rel=0.15)
    assert linear.t_sigma_f == "< 00:01"
