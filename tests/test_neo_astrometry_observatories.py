"""Observatory codes and observer positions (neo/astrometry/observatories.py).

Independent checks: the Earth-rotation angle from the IAU 1982 GMST polynomial (Aoki et al. 1982,
A&A 105, 359; Explanatory Supplement 1992, eq. 2.24-1), written out here without skyfield, and
the IERS nominal Earth rotation rate 7.292115e-5 rad/s (IERS Conventions 2010, Table 1.1).
"""

from __future__ import annotations

import hashlib
import math
from importlib.resources import files

import numpy as np
import pytest

from spacecommons.errors import InputError, RecordError
from spacecommons.neo.astrometry import OpticalObservation, mpc_observatories, observation_observers, observer_position
from spacecommons.neo.astrometry.observatories import EARTH_RADIUS_PARALLAX_KM, read_observatories

OMEGA_EARTH_RAD_S = 7.292115e-5  # IERS Conventions (2010), Table 1.1
ARCSEC = math.pi / 180 / 3600


def gmst_iau1982_rad(jd_ut1: float) -> float:
    """GMST (IAU 1982, Aoki et al. 1982) for a UT1 Julian date."""
    jd0 = math.floor(jd_ut1 - 0.5) + 0.5
    t = (jd0 - 2451545.0) / 36525.0
    seconds = 24110.54841 + 8640184.812866 * t + 0.093104 * t * t - 6.2e-6 * t**3
    seconds += (jd_ut1 - jd0) * 86400.0 * 1.002737909350795
    return (seconds % 86400.0) / 86400.0 * 2 * math.pi


def test_bundled_list_is_mpcs_file_with_its_digest():
    # SOURCES.md records the SHA-256 of the copy of MPC's list that ships in the package
    folder = files("spacecommons") / "data" / "observatories"
    digest = hashlib.sha256((folder / "observatoriesmpc.json").read_bytes()).hexdigest()
    assert digest in (folder / "SOURCES.md").read_text()
    table = mpc_observatories()
    assert len(table) == 2701
    # MPC list: 568 Maunakea 204.5278 0.94171 +0.33725; C51 WISE is a spacecraft
    mk = table["568"]
    assert (mk.longitude_deg, mk.rho_cos_phi, mk.rho_sin_phi) == (204.5278, 0.94171, 0.33725)
    assert table["C51"].kind == "satellite" and not table["C51"].is_fixed
    assert table["247"].kind == "roving"


@pytest.mark.parametrize("code", ["568", "G96", "W68", "251"])
def test_station_hour_angle_and_latitude_at_j2000(code):
    # At J2000.0 the GCRS and the mean equator/equinox of date coincide up to the 23 mas frame
    # bias, so the station's GCRS right ascension is GMST + east longitude up to the equation of
    # the equinoxes (|dpsi cos eps| <= 16"), UT1-UTC (0.355 s = 5.3" on 2000-01-01, IERS Bulletin)
    # and polar motion (< 0.5"): 25" in all. Its declination is the geocentric latitude up to the
    # nutation in obliquity (<= 9.2") and polar motion.
    st = mpc_observatories()[code]
    jd = 2451545.0
    r, v = observer_position(code, jd)
    rho_xy = st.rho_cos_phi * EARTH_RADIUS_PARALLAX_KM
    assert np.linalg.norm(r) == pytest.approx(
        math.hypot(st.rho_cos_phi, st.rho_sin_phi) * EARTH_RADIUS_PARALLAX_KM, abs=1e-6
    )
    ra = math.atan2(r[1], r[0])
    expected_ra = gmst_iau1982_rad(jd) + math.radians(st.longitude_deg)
    d_ra = (ra - expected_ra + math.pi) % (2 * math.pi) - math.pi
    assert abs(d_ra) * rho_xy < 25 * ARCSEC * rho_xy + 1e-9
    lat = math.atan2(r[2], math.hypot(r[0], r[1]))
    assert abs(lat - math.atan2(st.rho_sin_phi, st.rho_cos_phi)) < 10 * ARCSEC
    # velocity: Earth rotation, omega x r, eastward, |v| = omega * rho cos phi' * R
    assert np.linalg.norm(v) == pytest.approx(OMEGA_EARTH_RAD_S * rho_xy, rel=1e-4)
    assert np.dot(v, r) == pytest.approx(0.0, abs=1e-3 * np.linalg.norm(r))
    assert np.cross(r, v)[2] > 0  # prograde about the pole


def test_geocentre_is_zero_and_spacecraft_position_comes_from_the_record():
    r, v = observer_position("500", 2460000.5)
    assert np.allclose(r, 0.0) and np.allclose(v, 0.0)
    r, v = observer_position("C51", 2455000.5, observer_gcrs_km=(-5634.1734, -2466.2112, -3038.3867))
    assert r.tolist() == [-5634.1734, -2466.2112, -3038.3867]
    assert np.isnan(v).all()  # velocity unknown from an 80-column record: NaN, never zero
    with pytest.raises(InputError, match="C51"):
        observer_position("C51", 2455000.5)
    with pytest.raises(InputError, match="XYZ"):
        observer_position("XYZ", 2455000.5)


def test_observation_observers_dispatch_by_record():
    def obs(station, observer_gcrs_km=None, **kw):
        return OpticalObservation(
            "2008 TC3", 2454745.5, 1.0, 2.0, station, None, None, None, "C", observer_gcrs_km, "t:1", **kw
        )

    itrf = (6378.137, 0.0, 0.0)  # on the equator at Greenwich
    spacecraft = obs("C51", observer_gcrs_km=(1.0, 2.0, 3.0), observer_gcrs_km_s=(4.0, 5.0, 6.0))
    r, v = observation_observers([obs("568"), obs("247", observer_itrf_km=itrf), spacecraft])
    r568, _ = observer_position("568", 2454745.5)
    assert np.allclose(r[0], r568)
    assert np.linalg.norm(r[1]) == pytest.approx(6378.137) and abs(r[1][2]) < 30.0  # equator, within precession
    assert r[2].tolist() == [1.0, 2.0, 3.0] and v[2].tolist() == [4.0, 5.0, 6.0]


def test_read_observatories_names_bad_field():
    with pytest.raises(RecordError, match="X01.rhocosphi"):
        read_observatories('{"X01": {"longitude": "1.0", "rhocosphi": "abc", "rhosinphi": "0.5"}}', "f.json")
    with pytest.raises(RecordError, match="f.json:1"):
        read_observatories("[1, 2]", "f.json")
