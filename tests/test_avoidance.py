"""Collision-avoidance planning on a real CARA conjunction, against linear theory, and the re-screening.

Sources:
- The event: NASA CARA's test CDM 000028485_conj_000044777 (SWIFT vs 44777, TCA 2022-04-07),
  CARA's own 2D Pc 2.3237e-3 for it (tests/data/pc_reference/cara_pcmethod_test_conjunctions.csv).
- Clohessy & Wiltshire (1960), J. Aerospace Sci. 27(9): relative motion after an impulse dv at t=0
  on a circular orbit of mean motion n (x radial, y along-track):
  along-track impulse: x = 2/n (1 - cos nt) dv, y = (4/n sin nt - 3t) dv;
  radial impulse: x = sin(nt)/n dv, y = 2/n (cos nt - 1) dv (Vallado 2013, eq. 6-66).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spacecommons.avoidance import (
    AvoidanceProblem,
    Option,
    catalog_rescreen,
    plan_avoidance,
    sensitivity,
    verify,
)
from spacecommons.cdm import read_cdm
from spacecommons.cdm.pc import encounter_from_cdm
from spacecommons.constants import GM_EARTH_EGM96_KM3_S2
from spacecommons.frames import rtn_basis
from spacecommons.propagation import ForceModel, Spacecraft, propagate_numerical
from spacecommons.risk.cdm_pc import Encounter
from spacecommons.timescales import datetime_to_jd

DATA = Path(__file__).parent / "data"
SWIFT = DATA / "cdm/cara_pc_test_cdms/000028485_conj_000044777_20220407_231108_20220406_140506.cdm"
CARA_PC2D_SWIFT = 2.3236849651128103e-3  # CARA_PcMethod_Test_Conjunctions.xlsx, Pc2D


@pytest.fixture(scope="module")
def swift() -> AvoidanceProblem:
    cdm = read_cdm(SWIFT.read_text(), str(SWIFT))
    jd, fr = datetime_to_jd(cdm.tca)
    sc = Spacecraft(
        mass_kg=1.0,
        drag_area_m2=cdm.number("CD_AREA_OVER_MASS", 1),
        cd=1.0,
        srp_area_m2=cdm.number("CR_AREA_OVER_MASS", 1),
        cr=1.0,
    )
    return AvoidanceProblem(jd, fr, encounter_from_cdm(cdm), cdm.hbr_m(), sc, ForceModel(), "28485", "44777")


def test_recommended_burn_brings_a_real_red_event_below_target(swift):
    leads = swift.period_s * np.arange(2, 13) / 2  # one to six revolutions (the test's time budget)
    result = plan_avoidance(swift, None, target_pc=1e-6, lead_times_s=leads, dv_m_s=np.geomspace(1e-3, 1.0, 16))
    assert result.trade.pc_before == pytest.approx(CARA_PC2D_SWIFT, rel=1e-3)
    assert result.needs_action  # above CARA's red threshold 1e-4
    rec = result.recommended
    assert rec is not None
    v = rec.verified
    assert v.pc < 1e-6  # numerically propagated, not the linear estimate
    assert v.miss_km >= result.miss_floor_km
    # the linear trade space predicted this burn's miss to within 2 %
    assert v.miss_km == pytest.approx(v.option.miss_linear_km, rel=0.02)
    # no smaller grid burn meets the target in the linear trade space
    ts = result.trade
    ok = (ts.pc <= 1e-6) & (ts.miss_km >= result.miss_floor_km)
    assert v.option.dv_m_s == pytest.approx(ts.dv_m_s[np.argmax(ok.any(axis=(0, 1)))])


def _circular_problem() -> AvoidanceProblem:
    a = 7000.0
    v = np.sqrt(GM_EARTH_EGM96_KM3_S2 / a)
    i = np.radians(45.0)
    x1 = np.array([a, 0.0, 0.0, 0.0, v * np.cos(i), v * np.sin(i)])
    x2 = x1 + np.array([0.0, 0.05, 0.0, 0.0, -7.0, 7.0])
    cov = np.diag([0.1, 0.2, 0.1, 1e-7, 1e-7, 1e-7]) ** 2
    return AvoidanceProblem(2461006.5, 0.5, Encounter(x1, cov, x2, cov), 10.0, Spacecraft(), ForceModel.two_body())


@pytest.mark.parametrize(("direction", "revs"), [("+T", 1.0), ("+T", 1.25), ("+R", 1.25), ("-R", 2.5)])
def test_small_burn_matches_clohessy_wiltshire(direction, revs):
    p = _circular_problem()
    n = np.sqrt(GM_EARTH_EGM96_KM3_S2 / 7000.0**3)
    lead = revs * 2 * np.pi / n
    sens = sensitivity(p, np.array([lead]))
    dv = 1e-3  # 1 mm/s
    v = verify(p, Option(direction, lead, dv, 0.0, 0.0), sens)
    r_new, v_new = (a[0, 0] for a in v.trajectory.at([lead]))
    rel = rtn_basis(p.encounter.x1[:3], p.encounter.x1[3:]) @ (r_new - p.encounter.x1[:3]) * 1000.0  # m, RTN
    t = lead
    dvk = dv / 1000.0
    if direction.endswith("T"):
        cw = np.array([2 / n * (1 - np.cos(n * t)), 4 / n * np.sin(n * t) - 3 * t, 0.0]) * dvk * 1000.0
    else:
        cw = np.array([np.sin(n * t) / n, 2 / n * (np.cos(n * t) - 1), 0.0]) * dvk * 1000.0
    cw *= -1.0 if direction.startswith("-") else 1.0
    # CW is exact to first order in dv on a circular orbit; at 1 mm/s the second order is < 0.1 %
    np.testing.assert_allclose(rel, cw, atol=1e-3 * np.linalg.norm(cw) + 1e-3)
    # and the STM of the trade space says the same
    lin = sens.phi_rv[0] @ (sens.rtn[0].T @ np.asarray(Option(direction, lead, dv, 0, 0).dv_rtn_m_s) / 1000.0)
    stm = rtn_basis(p.encounter.x1[:3], p.encounter.x1[3:]) @ lin[:3] * 1000.0
    np.testing.assert_allclose(stm, cw, atol=1e-3 * np.linalg.norm(cw) + 1e-3)


def test_stm_predicts_the_full_force_model_on_the_real_event(swift):
    lead = np.array([4.25 * swift.period_s])  # not whole revolutions, where a radial burn returns to zero
    sens = sensitivity(swift, lead)
    # the burn's effect: maneuvered minus unmaneuvered, both propagated forward from the burn
    r_nominal = verify(swift, Option("+T", float(lead[0]), 0.0, 0.0, 0.0), sens).trajectory.at([lead[0]])[0][0, 0]
    for direction in ("+T", "-R"):
        opt = Option(direction, float(lead[0]), 0.02, 0.0, 0.0)
        v = verify(swift, opt, sens)
        r_num = v.trajectory.at([lead[0]])[0][0, 0] - r_nominal
        r_lin = (sens.phi_rv[0] @ (sens.rtn[0].T @ opt.dv_rtn_m_s / 1000.0))[:3]
        assert np.linalg.norm(r_num - r_lin) < 0.01 * np.linalg.norm(r_lin)


def test_rescreen_flags_a_burn_that_creates_a_conjunction_and_offers_the_next(swift):
    """A constructed catalog object sits on the track of the smallest burn 3 h after TCA."""
    leads = swift.period_s * np.arange(2, 9) / 2
    dvs = np.geomspace(1e-3, 1.0, 16)
    first = plan_avoidance(swift, None, lead_times_s=leads, dv_m_s=dvs).recommended.verified
    t_hit = 3 * 3600.0
    x = first.state_after_burn
    track = propagate_numerical(
        x[None, :3],
        x[None, 3:],
        first.burn_jd,
        first.burn_fr,
        [first.option.lead_time_s + t_hit],
        swift.forces,
        swift.spacecraft,
    )
    r, vel = track.r_km[0, 0], track.v_km_s[0, 0]
    # crossing at 60 degrees, 30 m apart radially
    k = r / np.linalg.norm(r)
    c, s = np.cos(np.radians(60)), np.sin(np.radians(60))
    vel2 = vel * c + np.cross(k, vel) * s + k * (k @ vel) * (1 - c)
    r2 = r + 0.03 * k
    intruder = propagate_numerical(
        r2[None],
        vel2[None],
        swift.tca_jd,
        swift.tca_fr + t_hit / 86400.0,
        [-3 * 86400.0, 3 * 86400.0],
        ForceModel(drag=False, srp=False),
        dense=True,
    )

    def catalog(t_s):
        rr, vv = intruder.at(np.asarray(t_s) - t_hit)
        return rr, vv, np.ones(rr.shape[:2], bool)

    cov = np.diag([0.1, 0.3, 0.1, 1e-7, 1e-7, 1e-7]) ** 2
    rescreen = catalog_rescreen(catalog, ["99999"], lambda i, x: cov, days_after=0.25)
    result = plan_avoidance(swift, rescreen, lead_times_s=leads, dv_m_s=dvs)
    flagged = result.checked[0]
    assert flagged.verified.option == first.option
    assert flagged.creates_conjunction
    hit = flagged.new_conjunctions[0]
    assert hit.object_id == "99999"
    assert hit.t_from_tca_s == pytest.approx(t_hit, abs=1.0)
    assert hit.miss_km == pytest.approx(0.03, abs=0.005)
    rec = result.recommended
    assert rec is not None and rec is not flagged and not rec.creates_conjunction
    assert rec.verified.pc < 1e-6
