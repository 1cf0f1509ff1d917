"""2008 TC3, the first asteroid found before it struck the Earth: orbit from its 883 MPC
observations (tests/data/neo/observations/2008TC3.txt), predicted atmospheric entry, and the
impact probability from the first night's observations alone.

Reference: the observed event, 2008-10-07 over the Nubian desert of northern Sudan (Jenniskens
et al. 2009, Nature 458, 485), as detected by US government satellites and released by NASA/JPL:
first detection at 02:45:40 UT, 20.9 N 31.4 E, at 65.4 km altitude; final explosion at 20.8 N
32.2 E at 37 km altitude. The predicted crossings of those two heights are compared with those
points (coordinates given to 0.1 deg ~ 11 km, time to 1 s, hence 20 km and 5 s). The 100 km entry
point, the conventional one, lies ~8 s and ~100 km up-range on the ~19-degree-shallow path; a
comparison of it with the 65.4 km detection (as an earlier version of this test did, with 60 s and
150 km) mistakes the path for an error."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from spacecommons.neo.astrometry.mpc80 import read_mpc80
from spacecommons.neo.od.fit import fit_orbit, optical_arc
from spacecommons.neo.od.impact_site import WGS84_A_KM, impact_site
from spacecommons.neo.od.iod import initial_orbit_fit

pytestmark = pytest.mark.slow
DATA = Path(__file__).parent / "data" / "neo" / "observations"

EVENT_UTC = datetime(2008, 10, 7, 2, 45, 40, tzinfo=UTC)  # first detection, at 65.4 km
EVENT_LAT_DEG, EVENT_LON_DEG, EVENT_HEIGHT_KM = 20.9, 31.4, 65.4
BURST_LAT_DEG, BURST_LON_DEG, BURST_HEIGHT_KM = 20.8, 32.2, 37.0  # final explosion
FIRST_NIGHT_END_UTC_JD = 2454745.5 + 0.40  # 2008-10-06 09:36 UTC: Mt. Lemmon (G96) and 854 only


def _km_between(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = np.radians([lat1, lon1]), np.radians([lat2, lon2])
    c = np.sin(p1[0]) * np.sin(p2[0]) + np.cos(p1[0]) * np.cos(p2[0]) * np.cos(p1[1] - p2[1])
    return float(WGS84_A_KM * np.arccos(np.clip(c, -1, 1)))


@pytest.fixture(scope="module")
def tc3():
    obs = _read("2008TC3.txt")
    assert len(obs) == 883
    return obs


@pytest.fixture(scope="module")
def full_fit(tc3):
    arc = optical_arc(tc3)
    start = initial_orbit_fit(arc.subset(slice(0, 6)))
    return fit_orbit(arc, start.epoch_jd_tdb, start.state)


def test_full_fit_residuals(full_fit):
    assert full_fit.converged
    # Vereš et al. (2017) weights (no uncertainties in 80-column records): 0.5-1" per station,
    # relaxed by sqrt(N/4) for the dozens of observations per station in this one night, so the
    # weighted residuals are below 1 sigma (normalized RMS < 1) while the plain RMS of the kept
    # residuals is about an arcsecond; the chi-square test (Carpino et al. 2003) rejects no more
    # than the few percent JPL typically rejects.
    assert "Veres" in full_fit.choices["weights"]
    assert full_fit.normalized_rms < 1.0
    assert full_fit.rms_arcsec < 1.5
    assert full_fit.n_used > 0.95 * 883
    print(f"2008 TC3: rms {full_fit.rms_arcsec:.3f} arcsec, {full_fit.n_used} used, {full_fit.n_rejected} rejected")


def test_predicted_entry_matches_the_observed_event(full_fit):
    site = impact_site(full_fit, horizon_days=2.0, samples=100, entry_height_km=EVENT_HEIGHT_KM)
    assert site.impact_probability == 1.0
    entry = site.nominal
    dt_s = (entry.utc - EVENT_UTC).total_seconds()
    dist_km = _km_between(entry.lat_deg, entry.lon_deg, EVENT_LAT_DEG, EVENT_LON_DEG)
    where = f"{entry.utc:%H:%M:%S.%f} {entry.lat_deg:.3f}N {entry.lon_deg:.3f}E"
    print(f"65.4 km: {where}: {dt_s:+.1f} s, {dist_km:.1f} km")
    assert abs(dt_s) < 5.0
    assert dist_km < 20.0
    assert site.entry_sigma_km is not None and site.entry_sigma_km < 5.0
    assert site.entry_sigma_s is not None and site.entry_sigma_s < 5.0
    burst = impact_site(full_fit, horizon_days=2.0, samples=10, entry_height_km=BURST_HEIGHT_KM).nominal
    burst_km = _km_between(burst.lat_deg, burst.lon_deg, BURST_LAT_DEG, BURST_LON_DEG)
    print(f"37 km: {burst.utc.isoformat()} {burst.lat_deg:.3f}N {burst.lon_deg:.3f}E: {burst_km:.1f} km")
    assert burst_km < 20.0
    assert 0 < (burst.utc - entry.utc).total_seconds() < 15.0  # ~28 km of height at ~19 deg, 12.4 km/s


def test_first_night_already_announces_the_impact(tc3):
    """From the discovery night's 19 observations (Catalina G96 and 854, 2.4 hours) the impact
    is certain: JPL and the MPC announced it the same day (Jenniskens et al. 2009)."""
    night = [o for o in tc3 if o.epoch_utc_jd < FIRST_NIGHT_END_UTC_JD]
    assert len(night) == 15
    arc = optical_arc(night)
    fit = initial_orbit_fit(arc)
    site = impact_site(fit, horizon_days=2.0, samples=200)
    print(
        f"first night: IP {site.impact_probability:.3f} [{site.ci_low:.3f}, {site.ci_high:.3f}], entry {site.nominal}"
    )
    assert site.ci_low > 0.95
    # a 2.4-hour arc with 1" weights fixes the date and hour, not yet the minute (measured: about
    # an hour early and 16 deg east; the full arc brings it to seconds and tens of km, above)
    dt_s = (site.nominal.utc - EVENT_UTC).total_seconds()
    assert abs(dt_s) < 3 * 3600.0


def _read(name: str):
    obs, issues = read_mpc80((DATA / name).read_text(), name)
    assert not issues
    return obs
