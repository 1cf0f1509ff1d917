"""Apophis: the measurement model against JPL solution 220, and a fit of optical + radar
astrometry with the Yarkovsky A2 free that agrees with it.

Sources: JPL SBDB solution 220 of 99942 Apophis (tests/data/neo/sbdb_99942.json: state and
covariance at 2021-01-01 TDB, A2 = -2.9018e-14 +- 1.86e-16 au/d^2), fitted by JPL to the same
radar astrometry (tests/data/neo/observations/99942_RADAR_*.dat, JPL radar astrometry) and MPC
optical astrometry of which tests/data/neo/observations/99942_every25th.dat is every 25th line
(313 of 7,819, 2004-2021). An independent computation (JPL's) is the expected value throughout:
their orbit must reproduce the measurements to within the measurements' sigmas, and our fit of
the measurements must reproduce their orbit to within its sigmas.

Radar model checks against closed forms: a reflector receding at v from a station at rest returns
f (c - v)/(c + v) (the exact two-way Doppler ratio) after 2 d / c."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from spacecommons.neo.astrometry.mpc80 import read_mpc80
from spacecommons.neo.astrometry.radar import read_jpl_radar
from spacecommons.neo.nbody import DEFAULT_SETTINGS
from spacecommons.neo.od.apparent import C_AU_D, apparent_direction, ra_dec
from spacecommons.neo.od.compare import compare_with_reference, reference_solution
from spacecommons.neo.od.fit import FitSettings, _model, _residuals, fit_orbit, optical_arc
from spacecommons.neo.od.radar import RadarArc, radar_arc, radar_model, radar_residual_units
from spacecommons.neo.sbdb_api import read_sbdb_api

DATA = Path(__file__).parent / "data" / "neo"
OBS = DATA / "observations"
ARCSEC = np.pi / 648000.0


@pytest.fixture(scope="module")
def jpl():
    return reference_solution(read_sbdb_api((DATA / "sbdb_99942.json").read_text(), "sbdb_99942.json"))


@pytest.fixture(scope="module")
def arcs():
    radar = []
    for name in ("99942_RADAR_2005_2013.dat", "99942_RADAR_2021.dat"):
        obs, issues = read_jpl_radar((OBS / name).read_text(), name)
        assert not issues
        radar += obs
    optical, issues = read_mpc80((OBS / "99942_every25th.dat").read_text(), "99942_every25th.dat")
    assert not issues
    return optical_arc(optical), radar_arc(radar)


def _computed(arc, radar, ref):
    tau = np.zeros(len(arc))
    rtau = (np.zeros(len(radar)), np.zeros(len(radar)))
    for _ in range(3):  # light times to convergence
        m = _model(arc, ref.epoch_jd_tdb, ref.state, ref.nongrav, (), tau, DEFAULT_SETTINGS, radar, rtau, False)
        tau, rtau = m.tau, (m.radar.tau_down, m.radar.tau_up)
    return m


def test_jpl_220_reproduces_apophis_radar_and_optical_astrometry(jpl, arcs):
    arc, radar = arcs
    m = _computed(arc, radar, jpl)
    # radar: 20 delays and 30 Dopplers 2005-2021 (Arecibo 251, Goldstone 253; JPL 220 used 20 and
    # 30), each within 3 sigma, and as a whole consistent with their sigmas (normalized RMS < 1)
    norm = (radar.value - m.radar.computed) / radar.sigma
    assert len(radar) == 50 and int(radar.is_delay.sum()) == 20
    assert np.all(np.abs(norm) < 3.0)
    assert np.sqrt(np.mean(norm**2)) < 1.0
    # optical: astrometric places (light time only) match to a few tenths of an arcsecond
    res = _residuals(arc, m.ra, m.dec)
    total = np.hypot(res[:, 0], res[:, 1])
    assert np.median(total) < 0.5
    assert np.mean(total > 2.0) < 0.03
    # the apparent place (with stellar aberration, which the plate reduction against catalogue
    # stars removes) is off by ~20" (the constant of aberration): the regression this guards
    rho = np.stack([np.cos(m.dec) * np.cos(m.ra), np.cos(m.dec) * np.sin(m.ra), np.sin(m.dec)], axis=1)
    body = arc.observer_au + rho
    ra_app, dec_app = ra_dec(apparent_direction(body, arc.observer_au, arc.observer_au_d, arc.sun_au))
    shift = np.hypot((ra_app - m.ra) * np.cos(m.dec), dec_app - m.dec) / ARCSEC
    assert 5.0 < np.median(shift) < 20.6


def test_apophis_fit_with_radar_and_a2_agrees_with_jpl_220(jpl, arcs):
    """313 optical observations + 50 radar measurements, A2 free from A2 = 0: JPL's position within
    its 1-sigma on each axis, A2 within 3 of JPL's sigma."""
    arc, radar = arcs
    start_ng = jpl.nongrav.copy()
    start_ng[1] = 0.0
    fit = fit_orbit(arc, jpl.epoch_jd_tdb, jpl.state, start_ng, FitSettings(nongrav_free=("A2",)), radar=radar)
    assert fit.converged
    c = compare_with_reference(fit, jpl)
    print(
        f'Apophis subset: rms {fit.rms_arcsec:.3f}", radar nrms {fit.radar_normalized_rms():.2f}, '
        f"dpos {c.position_km} km (JPL sigma {c.position_sigma_km}), A2 {c.nongrav['A2']}"
    )
    assert np.all(np.abs(c.position_km) < c.position_sigma_km)
    assert abs(c.nongrav_in_ref_sigma("A2")) < 3.0
    assert fit.radar_normalized_rms() < 1.0
    assert fit.rms_arcsec < 0.5
    assert "Veres" in fit.choices["weights"]
    assert "20 delays, 30 Dopplers" in fit.choices["radar"]
    # residuals reported per kind, in microseconds and Hz
    assert fit.radar_rms("delay") < 1.0 and fit.radar_rms("doppler") < 0.3


def _synthetic_radar(d_au: float, v_au_d: float, f_hz: float = 8.56e9) -> tuple[RadarArc, np.ndarray]:
    far = np.array([[1e9, 0.0, 0.0]])  # the Sun out of the way: no Shapiro delay
    arc = RadarArc(
        designation="test",
        jd_utc=np.array([2460000.5]),
        jd_tdb=np.array([2460000.5]),
        is_delay=np.array([True]),
        value=np.zeros(1),
        sigma=np.ones(1),
        frequency_hz=np.array([f_hz]),
        receiver_au=np.zeros((1, 3)),
        receiver_au_d=np.zeros((1, 3)),
        sun_au=far,
        transmitter=("000",),
        receiver=("000",),
        bounce_point=("C",),
    )
    body = np.array([[0.0, d_au, 0.0, 0.0, v_au_d, 0.0]])  # on +y, moving away along +y
    return arc, body


def test_radar_model_closed_forms():
    d, v = 0.05, 15.0 / 149597870.7 * 86400.0  # 0.05 au, receding at 15 km/s
    arc, body = _synthetic_radar(d, v)

    def still(t):
        return np.zeros((len(t), 3)), np.zeros((len(t), 3))

    tau = np.array([d / C_AU_D])
    phi = np.eye(6)[None]
    m = radar_model(arc, body, phi, tau, tau, transmitter=still)
    # the body state is the one at the bounce epoch: delay = 2 d / c, seconds
    assert m.computed[0] == pytest.approx(2 * d / C_AU_D * 86400.0, rel=1e-12)
    dop = radar_model(replace(arc, is_delay=np.array([False])), body, phi, tau, tau, transmitter=still)
    c = C_AU_D
    assert dop.computed[0] == pytest.approx(8.56e9 * ((c - v) / (c + v) - 1.0), rel=1e-9)
    assert dop.computed[0] < 0  # receding: red shift
    # partials: d delay / d y = 2/c (s/au); d Doppler / d vy = -2 f / c (Hz per au/day)
    assert m.partials[0, 1] == pytest.approx(2 / C_AU_D * 86400.0, rel=1e-12)
    assert dop.partials[0, 4] == pytest.approx(-2 * 8.56e9 / c, rel=1e-12)
    assert radar_residual_units(arc)[0] == 1e6


def test_veres_weights_reach_the_fit():
    """2008 TC3's discovery night: Mt. Lemmon (G96) has 0.5" in Vereš et al. (2017) Table 3,
    relaxed by sqrt(12/4) for its 12 observations that night (their eq. 5); Siding Spring (854)
    is not in their tables and gets the 1.0" default."""
    obs, _ = read_mpc80((OBS / "2008TC3.txt").read_text(), "2008TC3.txt")
    night = [o for o in obs if o.epoch_utc_jd < 2454745.9]
    arc = optical_arc(night)
    g96 = np.array([s == "G96" for s in arc.station])
    assert g96.sum() == 12
    assert np.allclose(arc.sigma_ra_arcsec[g96], 0.5 * np.sqrt(3.0))
    assert np.allclose(arc.sigma_dec_arcsec[~g96], 1.0)
    assert "Veres et al. 2017" in arc.weighting
    uniform = optical_arc(night, weighting="uniform")
    assert np.all(uniform.sigma_ra_arcsec == 1.0)
