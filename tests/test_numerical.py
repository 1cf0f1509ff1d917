"""Numerical (Cowell) propagator and its force model against published and independent values.

References:
- Vallado, *Fundamentals of Astrodynamics and Applications*, 4th ed. (2013), Example 2-4 (KEPLER):
  r0 = (1131.340, -2282.343, 6672.423) km, v0 = (-5.64305, 4.30333, 2.42879) km/s, 40 min later
  r = (-4219.7527, 4363.0292, -3958.7666) km, v = (3.689866, -1.916735, -6.112511) km/s.
- The first-order secular nodal rate of J2, dOmega/dt = -3/2 n J2 (R/p)^2 cos i
  (Vallado 2013 eq. 9-41; Montenbruck & Gill 2000 eq. 3.106).
- JPL DE421 (through skyfield) for the analytic Sun and Moon; skyfield's IAU 2000A/2006 GCRS->ITRS
  and WGS-84 geodetic conversion for the Earth-fixed frame used by drag.
"""

from __future__ import annotations

import numpy as np
import pytest

from spacecommons.constants import EARTH_RADIUS_EGM96_KM, GM_EARTH_EGM96_KM3_S2
from spacecommons.propagation.atmosphere import ConstantSpaceWeather, density_kg_m3, geodetic_from_ecef
from spacecommons.propagation.forces import (
    EGM96_J,
    ForceModel,
    Spacecraft,
    acceleration,
    gcrs_to_earth_fixed,
    moon_position_km,
    precession_matrix,
    sun_position_km,
)
from spacecommons.propagation.numerical import propagate_numerical

MU = GM_EARTH_EGM96_KM3_S2
JD0, FR0 = 2461006.5, 0.25  # 2025-12-01 06:00 UTC


def _circular(alt_km: float, inc_deg: float, raan_deg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    a = EARTH_RADIUS_EGM96_KM + alt_km
    i, o = np.radians(inc_deg), np.radians(raan_deg)
    node = np.array([np.cos(o), np.sin(o), 0.0])
    normal = np.array([np.sin(o) * np.sin(i), -np.cos(o) * np.sin(i), np.cos(i)])
    return a * node[None], np.sqrt(MU / a) * np.cross(normal, node)[None]


def test_vallado_example_2_4_two_body():
    r0 = np.array([[1131.340, -2282.343, 6672.423]])
    v0 = np.array([[-5.64305, 4.30333, 2.42879]])
    e = propagate_numerical(r0, v0, JD0, FR0, [2400.0], ForceModel.two_body())
    # Vallado prints 0.1 m and 1 mm/s; his mu (398600.4418) is ours
    np.testing.assert_allclose(e.r_km[0, 0], [-4219.7527, 4363.0292, -3958.7666], atol=1e-3)
    np.testing.assert_allclose(e.v_km_s[0, 0], [3.689866, -1.916735, -6.112511], atol=2e-6)


def test_two_body_energy_and_angular_momentum_conserved_over_a_day():
    r0, v0 = _circular(500.0, 51.6)
    v0 = v0 * 1.05  # eccentric (e ~ 0.1), a harder case for the step control
    t = np.linspace(0.0, 86_400.0, 49)
    e = propagate_numerical(r0, v0, JD0, FR0, t, ForceModel.two_body())
    r, v = e.r_km[0], e.v_km_s[0]
    energy = 0.5 * np.sum(v * v, axis=1) - MU / np.linalg.norm(r, axis=1)
    h = np.cross(r, v)
    assert np.max(np.abs(energy / energy[0] - 1)) < 1e-10
    assert np.max(np.linalg.norm(h - h[0], axis=1)) / np.linalg.norm(h[0]) < 1e-10


def test_backward_and_forward_legs_return_to_the_start():
    r0, v0 = _circular(700.0, 98.0)
    fwd = propagate_numerical(r0, v0, JD0, FR0, [5400.0], ForceModel(drag=False, srp=False))
    back = propagate_numerical(
        fwd.r_km[:, 0], fwd.v_km_s[:, 0], JD0, FR0 + 5400.0 / 86400.0, [-5400.0], ForceModel(drag=False, srp=False)
    )
    assert np.linalg.norm(back.r_km[0, 0] - r0[0]) < 1e-5  # 1 cm


def test_j2_secular_node_rate_matches_first_order_theory():
    alt, inc = 800.0, 60.0
    r0, v0 = _circular(alt, inc)
    a = EARTH_RADIUS_EGM96_KM + alt
    n = np.sqrt(MU / a**3)
    period = 2 * np.pi / n
    revs = 6
    e = propagate_numerical(
        r0, v0, JD0, FR0, [0.0, revs * period], ForceModel(zonal_degree=2, drag=False, third_body=False, srp=False)
    )
    h = np.cross(e.r_km[0], e.v_km_s[0])
    h_pole = h @ precession_matrix(JD0, FR0).T  # node measured in the mean equator of date, J2's own
    raan = np.arctan2(h_pole[:, 0], -h_pole[:, 1])
    rate = (raan[1] - raan[0]) / (revs * period)
    expected = -1.5 * n * EGM96_J[2] * (EARTH_RADIUS_EGM96_KM / a) ** 2 * np.cos(np.radians(inc))
    # first-order theory with the osculating a: agreement to J2 (1e-3) relative, taken as 1 %
    assert rate == pytest.approx(expected, rel=1e-2)


def test_zonal_acceleration_is_the_gradient_of_the_potential():
    """Finite differences of U = mu/r (1 - sum J_n (R/r)^n P_n(sin phi)) about the mean pole."""
    from numpy.polynomial import legendre

    pole = precession_matrix(JD0, FR0)[2]

    def potential(r):
        rn = np.linalg.norm(r)
        s = r @ pole / rn
        u = 1.0
        for k in range(2, 7):
            u -= EGM96_J[k] * (EARTH_RADIUS_EGM96_KM / rn) ** k * legendre.legval(s, [0] * k + [1])
        return MU / rn * u

    r = np.array([[4000.0, -3000.0, 4500.0]])
    acc = acceleration(JD0, FR0, r, np.zeros((1, 3)), ForceModel(drag=False, third_body=False, srp=False), Spacecraft())
    h = 1e-3
    grad = np.array([(potential(r[0] + h * d) - potential(r[0] - h * d)) / (2 * h) for d in np.eye(3)])
    np.testing.assert_allclose(acc[0], grad, rtol=1e-8, atol=1e-14)


@pytest.mark.parametrize("fr", [0.0, 0.37, 0.81])
def test_analytic_sun_and_moon_against_de421(fr):
    from skyfield.api import Loader
    from skyfield_data import get_skyfield_data_path

    load = Loader(get_skyfield_data_path(), verbose=False)
    eph, ts = load("de421.bsp"), load.timescale(builtin=True)
    t = ts.utc(2025, 12, 1 + fr)
    jd = t.tt - 69.184 / 86400.0  # UTC = TT - 69.184 s since 2017
    earth = eph["earth"].at(t)
    sun = (eph["sun"].at(t) - earth).position.km
    moon = (eph["moon"].at(t) - earth).position.km
    s = sun_position_km(jd, 0.0)
    m = moon_position_km(jd, 0.0)
    # Montenbruck & Gill sec. 3.3.2: Sun to 0.1-1 % (0.1 deg), Moon to a few arcmin and a few hundred km
    ang = lambda a, b: np.degrees(np.arccos(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))  # noqa: E731
    assert ang(s, sun) < 0.1
    assert abs(np.linalg.norm(s) / np.linalg.norm(sun) - 1) < 1e-3
    assert ang(m, moon) < 0.2
    assert abs(np.linalg.norm(m) - np.linalg.norm(moon)) < 500.0


def test_earth_fixed_rotation_and_geodetic_against_skyfield():
    from skyfield.api import wgs84
    from skyfield.framelib import itrs

    from spacecommons.frames import skyfield_time

    t = skyfield_time(np.array([JD0]), np.array([FR0]))
    r = np.array([5000.0, -2000.0, 4200.0])
    ours = gcrs_to_earth_fixed(JD0, FR0) @ r
    theirs = itrs.rotation_at(t)[..., 0] @ r
    # no nutation/polar motion/UT1-UTC: < 20 arcsec, i.e. < 0.7 km at this radius
    assert np.linalg.norm(ours - theirs) < 0.7
    point = wgs84.latlon(-33.5, 151.2, elevation_m=412_345.0)
    lat, lon, h = geodetic_from_ecef(point.itrs_xyz.km)
    assert lat == pytest.approx(-33.5, abs=1e-9)
    assert lon == pytest.approx(151.2, abs=1e-9)
    assert h == pytest.approx(412.345, abs=1e-6)


def test_density_is_nrlmsis_21_and_drag_decays_the_orbit():
    # NRLMSIS 2.1 at 400 km for F10.7 = 150, Ap = 15 lies between 1e-12 and 1e-11 kg/m^3
    # (Emmert et al. 2022, Fig. 9 range for moderate activity)
    rho = density_kg_m3(np.array([JD0 + FR0]), np.array([[6778.0, 0.0, 0.0]]), ConstantSpaceWeather())
    assert 1e-12 < rho[0] < 1e-11
    quiet = density_kg_m3(np.array([JD0 + FR0]), np.array([[6778.0, 0.0, 0.0]]), ConstantSpaceWeather(70.0, 70.0, 4.0))
    assert quiet[0] < rho[0] / 2  # solar minimum: a much thinner thermosphere
    r0, v0 = _circular(300.0, 51.6)
    period = 2 * np.pi * np.sqrt(np.linalg.norm(r0) ** 3 / MU)
    sc = Spacecraft(mass_kg=100.0, drag_area_m2=1.0, cd=2.2)
    e = propagate_numerical(r0, v0, JD0, FR0, [period], ForceModel(zonal_degree=0, third_body=False, srp=False), sc)
    r, v = e.r_km[0, 0], e.v_km_s[0, 0]
    da = -MU / (2 * (0.5 * v @ v - MU / np.linalg.norm(r))) - np.linalg.norm(r0)
    # King-Hele: one revolution of a circular orbit loses da = -2 pi rho (Cd A/m) a^2; rho at 300 km
    rho300 = density_kg_m3(np.array([JD0 + FR0]), r0, ConstantSpaceWeather())[0]
    expected = -2 * np.pi * rho300 * 2.2 * 1.0 / 100.0 * (np.linalg.norm(r0) * 1e3) ** 2 / 1e3
    assert da < 0
    assert da == pytest.approx(expected, rel=0.5)  # density varies along the orbit (day/night, latitude)


def test_stop_altitude_ends_the_run():
    r0, v0 = _circular(300.0, 51.6)
    e = propagate_numerical(r0, v0 * 0.97, JD0, FR0, [3000.0], ForceModel.two_body(), stop_altitude_km=100.0)
    assert e.stopped_at_s is not None and 0 < e.stopped_at_s < 3000.0
    assert np.isnan(e.r_km[0, 0, 0])


def test_dense_output_matches_evaluated_times_and_objects_propagate_alike():
    r1, v1 = _circular(500.0, 51.6)
    r2, v2 = _circular(800.0, 98.0, 40.0)
    fm = ForceModel(drag=False)
    t = np.array([600.0, 1800.0])
    both = propagate_numerical(np.vstack([r1, r2]), np.vstack([v1, v2]), JD0, FR0, t, fm, dense=True)
    one = propagate_numerical(r2, v2, JD0, FR0, t, fm)
    np.testing.assert_allclose(both.r_km[1], one.r_km[0], atol=1e-6)
    r, v = both.at(t)
    np.testing.assert_allclose(r, both.r_km, atol=1e-6)
    with pytest.raises(ValueError, match="outside"):
        both.at([4000.0])
