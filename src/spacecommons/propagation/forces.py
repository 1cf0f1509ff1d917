"""Force model of the numerical (Cowell) propagator: accelerations in km/s^2 on GCRS states in km, km/s.

Method and sources:

- **Zonal gravity** J2..J6 of EGM-96 (Lemoine et al. 1998, NASA/TP-1998-206861; normalised C(n,0)
  from the model's coefficient file, J_n = -sqrt(2n+1) C(n,0)), about the mean pole of date
  (IAU 1976 precession, Lieske et al. 1977); nutation (< 10 arcsec) and polar motion are left out.
  The acceleration of each zonal term is the gradient of -mu J_n R^n P_n(sin phi) / r^(n+1), with
  Legendre polynomials by Bonnet's recursion.
- **Third bodies** Sun and Moon from the low-precision analytic series of Montenbruck & Gill,
  *Satellite Orbits* (2000), sec. 3.3.2 (Sun ~0.1 %, Moon a few hundred km), as direct minus
  indirect term; GM of DE440 (Park et al. 2021). For a satellite the resulting acceleration error is
  below 1e-3 of the (already ~1e-7 g) third-body term.
- **Solar radiation pressure**: cannonball, P = 4.56e-6 N/m^2 at 1 au (Montenbruck & Gill eq. 3.69),
  a = -P Cr A/m (1 au/d)^2 d_hat with d the satellite->Sun vector, zero in a cylindrical Earth shadow.
- **Drag**: a = -1/2 rho Cd A/m |v_rel| v_rel, v_rel relative to an atmosphere co-rotating about
  the pole of date, rho from NRLMSIS 2.1 (``atmosphere.density_kg_m3``) at the Earth-fixed position
  obtained with the mean sidereal angle (UT1 taken as UTC: < 0.9 s, < 0.4 km along the equator).

The geometry and the conservative forces are compiled (numba); the density is one NRLMSIS call per
evaluation for all objects.

Times: seconds since a UTC epoch given as a two-part Julian date; the analytic series take UTC for TT
(69 s, far below their own accuracy).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba as nb
import numpy as np

from ..constants import (
    AU_KM,
    EARTH_RADIUS_EGM96_KM,
    EARTH_ROTATION_RAD_S,
    GM_DE440_KM3_S2,
    GM_EARTH_EGM96_KM3_S2,
    GM_SUN_DE440_AU3_D2,
    SECONDS_PER_DAY,
)
from ..errors import InputError
from .atmosphere import ConstantSpaceWeather, SpaceWeather, density_kg_m3

#: EGM-96 fully normalised zonal coefficients C(n,0), n = 2..6 (egm96_to360.ascii, Lemoine et al. 1998)
EGM96_C_N0 = {
    2: -0.484165371736e-03,
    3: 0.957254173792e-06,
    4: 0.539873863789e-06,
    5: 0.685323475630e-07,
    6: -0.149957994714e-06,
}
#: unnormalised zonal harmonics J_n = -sqrt(2n+1) C(n,0) (J2 = 1.08262668e-3, as Vallado 2013 Table D-1)
EGM96_J = {n: -np.sqrt(2 * n + 1) * c for n, c in EGM96_C_N0.items()}
_J = np.array([0.0, 0.0] + [EGM96_J[n] for n in range(2, 7)])
GM_SUN_KM3_S2 = GM_SUN_DE440_AU3_D2 * AU_KM**3 / SECONDS_PER_DAY**2
GM_MOON_KM3_S2 = GM_DE440_KM3_S2["moon"]
SOLAR_PRESSURE_1AU_N_M2 = 4.56e-6  # Montenbruck & Gill (2000) eq. 3.69
OBLIQUITY_J2000_RAD = np.radians(23.43929111)  # IAU 1976 mean obliquity at J2000 (M&G sec. 3.3.2)
JD_J2000 = 2451545.0
ARCSEC = np.pi / (180.0 * 3600.0)


@dataclass(frozen=True)
class Spacecraft:
    """Physical parameters; each a float or an (n,) array for n objects propagated together."""

    mass_kg: float | np.ndarray = 1000.0
    drag_area_m2: float | np.ndarray = 10.0
    cd: float | np.ndarray = 2.2
    srp_area_m2: float | np.ndarray = 10.0
    cr: float | np.ndarray = 1.3

    def drag_area_to_mass_m2_kg(self) -> np.ndarray:
        return (
            np.asarray(self.cd, dtype=float)
            * np.asarray(self.drag_area_m2, dtype=float)
            / np.asarray(self.mass_kg, dtype=float)
        )

    def srp_area_to_mass_m2_kg(self) -> np.ndarray:
        return (
            np.asarray(self.cr, dtype=float)
            * np.asarray(self.srp_area_m2, dtype=float)
            / np.asarray(self.mass_kg, dtype=float)
        )


@dataclass(frozen=True)
class ForceModel:
    """Which forces act. ``zonal_degree`` 0 or 1 is two-body; 2..6 adds J2..J_n of EGM-96."""

    zonal_degree: int = 6
    drag: bool = True
    third_body: bool = True
    srp: bool = True
    space_weather: SpaceWeather = field(default_factory=ConstantSpaceWeather)
    mu_km3_s2: float = GM_EARTH_EGM96_KM3_S2

    def __post_init__(self) -> None:
        if not 0 <= self.zonal_degree <= 6:
            raise InputError(f"zonal_degree must be 0..6 (EGM-96 J2..J6), got {self.zonal_degree}")

    @classmethod
    def two_body(cls) -> ForceModel:
        return cls(zonal_degree=0, drag=False, third_body=False, srp=False)


@nb.njit(cache=True)
def _centuries(jd: float, fr: float) -> float:
    return ((jd - JD_J2000) + fr) / 36525.0


@nb.njit(cache=True)
def _rot1(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, s], [0.0, -s, c]])


@nb.njit(cache=True)
def _rot2(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]])


@nb.njit(cache=True)
def _rot3(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])


@nb.njit(cache=True)
def _mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            for k in range(3):
                out[i, j] += a[i, k] * b[k, j]
    return out


@nb.njit(cache=True)
def _apply(m: np.ndarray, v: np.ndarray) -> np.ndarray:
    out = np.zeros(3)
    for i in range(3):
        out[i] = m[i, 0] * v[0] + m[i, 1] * v[1] + m[i, 2] * v[2]
    return out


@nb.njit(cache=True)
def precession_matrix(jd: float, fr: float) -> np.ndarray:
    """J2000 mean equator/equinox -> mean of date (IAU 1976; Lieske et al. 1977), 3x3."""
    t = _centuries(jd, fr)
    zeta = (2306.2181 * t + 0.30188 * t**2 + 0.017998 * t**3) * ARCSEC
    z = (2306.2181 * t + 1.09468 * t**2 + 0.018203 * t**3) * ARCSEC
    theta = (2004.3109 * t - 0.42665 * t**2 - 0.041833 * t**3) * ARCSEC
    return _mul(_mul(_rot3(-z), _rot2(theta)), _rot3(-zeta))


@nb.njit(cache=True)
def mean_sidereal_angle_rad(jd_utc: float, fr_utc: float) -> float:
    """Greenwich mean sidereal angle from the Earth rotation angle (IERS 2010 eq. 5.15 and 5.32), UT1 = UTC."""
    du = (jd_utc - JD_J2000) + fr_utc
    frac = (du % 1.0) + 0.7790572732640 + 0.00273781191135448 * du
    era = 2.0 * np.pi * (frac % 1.0)
    t = du / 36525.0
    return era + (0.014506 + 4612.156534 * t + 1.3915817 * t**2) * ARCSEC


@nb.njit(cache=True)
def gcrs_to_earth_fixed(jd_utc: float, fr_utc: float) -> np.ndarray:
    """Rotation GCRS -> Earth-fixed (precession and mean sidereal angle; no nutation or polar motion)."""
    return _mul(_rot3(mean_sidereal_angle_rad(jd_utc, fr_utc)), precession_matrix(jd_utc, fr_utc))


@nb.njit(cache=True)
def sun_position_km(jd: float, fr: float) -> np.ndarray:
    """Geocentric Sun, EME2000, km (Montenbruck & Gill 2000, eqs. 3.43-3.47)."""
    t = _centuries(jd, fr)
    m = np.radians(357.5256 + 35999.049 * t)
    lon = np.radians(282.9400) + m + (6892.0 * np.sin(m) + 72.0 * np.sin(2 * m)) * ARCSEC
    r = (149.619 - 2.499 * np.cos(m) - 0.021 * np.cos(2 * m)) * 1e6
    return _apply(_rot1(-OBLIQUITY_J2000_RAD), np.array([r * np.cos(lon), r * np.sin(lon), 0.0]))


@nb.njit(cache=True)
def moon_position_km(jd: float, fr: float) -> np.ndarray:
    """Geocentric Moon, EME2000, km (Montenbruck & Gill 2000, eqs. 3.48-3.51)."""
    t = _centuries(jd, fr)
    l0 = np.radians(218.31617 + 481267.88088 * t - 1.3972 * t)
    lm = np.radians(134.96292 + 477198.86753 * t)
    ls = np.radians(357.52543 + 35999.04944 * t)
    f = np.radians(93.27283 + 483202.01873 * t)
    d = np.radians(297.85027 + 445267.11135 * t)
    sin, cos = np.sin, np.cos
    lon = l0 + ARCSEC * (
        22640 * sin(lm)
        + 769 * sin(2 * lm)
        - 4586 * sin(lm - 2 * d)
        + 2370 * sin(2 * d)
        - 668 * sin(ls)
        - 412 * sin(2 * f)
        - 212 * sin(2 * lm - 2 * d)
        - 206 * sin(lm + ls - 2 * d)
        + 192 * sin(lm + 2 * d)
        - 165 * sin(ls - 2 * d)
        + 148 * sin(lm - ls)
        - 125 * sin(d)
        - 110 * sin(lm + ls)
        - 55 * sin(2 * f - 2 * d)
    )
    lat = ARCSEC * (
        18520 * sin(f + lon - l0 + ARCSEC * (412 * sin(2 * f) + 541 * sin(ls)))
        - 526 * sin(f - 2 * d)
        + 44 * sin(lm + f - 2 * d)
        - 31 * sin(-lm + f - 2 * d)
        - 25 * sin(-2 * lm + f)
        - 23 * sin(ls + f - 2 * d)
        + 21 * sin(-lm + f)
        + 11 * sin(-ls + f - 2 * d)
    )
    r = (
        385000.0
        - 20905 * cos(lm)
        - 3699 * cos(2 * d - lm)
        - 2956 * cos(2 * d)
        - 570 * cos(2 * lm)
        + 246 * cos(2 * lm - 2 * d)
        - 205 * cos(ls - 2 * d)
        - 171 * cos(lm + 2 * d)
        - 152 * cos(lm + ls - 2 * d)
    )
    ecl = np.array([r * cos(lon) * cos(lat), r * sin(lon) * cos(lat), r * sin(lat)])
    return _apply(_rot1(-OBLIQUITY_J2000_RAD), ecl)


@nb.njit(cache=True)
def _zonal(r: np.ndarray, pole: np.ndarray, degree: int, mu: float, j: np.ndarray, re: float, out: np.ndarray) -> None:
    """Adds J2..J_degree at one position: mu J_n R^n / r^(n+2) [((n+1) P_n + s P_n') r_hat - P_n' pole]."""
    rn = np.sqrt(r[0] ** 2 + r[1] ** 2 + r[2] ** 2)
    s = (r[0] * pole[0] + r[1] * pole[1] + r[2] * pole[2]) / rn
    p_prev, p = 1.0, s  # P0, P1 (Bonnet's recursion)
    dp_prev, dp = 0.0, 1.0  # P0', P1' (P_n' = P_{n-2}' + (2n-1) P_{n-1})
    for n in range(2, degree + 1):
        p_new = ((2 * n - 1) * s * p - (n - 1) * p_prev) / n
        dp_new = dp_prev + (2 * n - 1) * p
        p_prev, p = p, p_new
        dp_prev, dp = dp, dp_new
        k = mu * j[n] * re**n / rn ** (n + 2)
        radial = (n + 1) * p + s * dp
        for c in range(3):
            out[c] += k * (radial * r[c] / rn - dp * pole[c])


@nb.njit(cache=True)
def _third_body(r: np.ndarray, body: np.ndarray, gm: float, out: np.ndarray) -> None:
    """Adds direct minus indirect (Earth's) attraction of a body."""
    d = body - r
    dn3 = np.sqrt(d[0] ** 2 + d[1] ** 2 + d[2] ** 2) ** 3
    bn3 = np.sqrt(body[0] ** 2 + body[1] ** 2 + body[2] ** 2) ** 3
    for c in range(3):
        out[c] += gm * (d[c] / dn3 - body[c] / bn3)


@nb.njit(cache=True)
def _srp(r: np.ndarray, sun: np.ndarray, cr_a_over_m: float, re: float, out: np.ndarray) -> None:
    """Adds cannonball SRP, zero inside a cylindrical Earth shadow."""
    sn = np.sqrt(sun[0] ** 2 + sun[1] ** 2 + sun[2] ** 2)
    along = (r[0] * sun[0] + r[1] * sun[1] + r[2] * sun[2]) / sn
    if along < 0.0:
        perp2 = r[0] ** 2 + r[1] ** 2 + r[2] ** 2 - along**2
        if perp2 < re * re:
            return
    d = sun - r
    dn = np.sqrt(d[0] ** 2 + d[1] ** 2 + d[2] ** 2)
    mag = SOLAR_PRESSURE_1AU_N_M2 * cr_a_over_m * (AU_KM / dn) ** 2 / 1000.0  # m/s^2 -> km/s^2
    for c in range(3):
        out[c] -= mag * d[c] / dn


@nb.njit(cache=True)
def _conservative(
    jd: float,
    fr: float,
    y: np.ndarray,
    mu: float,
    degree: int,
    third_body: bool,
    srp: bool,
    cr_a_over_m: np.ndarray,
    j: np.ndarray,
    re: float,
    gm_sun: float,
    gm_moon: float,
    want_drag: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Derivative (n, 6) of states y (n, 6) without drag; for drag also Earth-fixed r and co-rotating v_rel."""
    n = y.shape[0]
    dy = np.zeros((n, 6))
    fixed = np.zeros((n, 3))
    v_rel = np.zeros((n, 3))
    prec = precession_matrix(jd, fr)
    pole = prec[2].copy()  # the mean pole of date in GCRS coordinates
    sun = sun_position_km(jd, fr)
    moon = moon_position_km(jd, fr)
    to_fixed = _mul(_rot3(mean_sidereal_angle_rad(jd, fr)), prec)
    w = EARTH_ROTATION_RAD_S * pole
    for i in range(n):
        r = y[i, :3].copy()
        acc = np.zeros(3)
        rn3 = np.sqrt(r[0] ** 2 + r[1] ** 2 + r[2] ** 2) ** 3
        for c in range(3):
            acc[c] = -mu * r[c] / rn3
        if degree >= 2:
            _zonal(r, pole, degree, mu, j, re, acc)
        if third_body:
            _third_body(r, sun, gm_sun, acc)
            _third_body(r, moon, gm_moon, acc)
        if srp:
            _srp(r, sun, cr_a_over_m[i], re, acc)
        dy[i, :3] = y[i, 3:]
        dy[i, 3:] = acc
        if want_drag:
            fixed[i] = _apply(to_fixed, r)
            v_rel[i, 0] = y[i, 3] - (w[1] * r[2] - w[2] * r[1])
            v_rel[i, 1] = y[i, 4] - (w[2] * r[0] - w[0] * r[2])
            v_rel[i, 2] = y[i, 5] - (w[0] * r[1] - w[1] * r[0])
    return dy, fixed, v_rel


def derivative(jd_utc: float, fr_utc: float, y: np.ndarray, forces: ForceModel, spacecraft: Spacecraft) -> np.ndarray:
    """d/dt of GCRS states y (n, 6) [km, km/s] at one UTC instant: (n, 6) [km/s, km/s^2]."""
    n = len(y)
    cram = np.broadcast_to(spacecraft.srp_area_to_mass_m2_kg(), (n,)).astype(float)
    dy, fixed, v_rel = _conservative(
        jd_utc,
        fr_utc,
        np.ascontiguousarray(y, dtype=float),
        forces.mu_km3_s2,
        forces.zonal_degree,
        forces.third_body,
        forces.srp,
        cram,
        _J,
        EARTH_RADIUS_EGM96_KM,
        GM_SUN_KM3_S2,
        GM_MOON_KM3_S2,
        forces.drag,
    )
    if forces.drag:
        rho = density_kg_m3(np.full(n, jd_utc + fr_utc), fixed, forces.space_weather)
        speed = np.sqrt(np.sum(v_rel * v_rel, axis=1))
        # kg/m^3 * m^2/kg * (km/s)^2 = 1e3 km/s^2
        dy[:, 3:] -= (0.5e3 * rho * spacecraft.drag_area_to_mass_m2_kg() * speed)[:, None] * v_rel
    return dy


def acceleration(
    jd_utc: float, fr_utc: float, r_km: np.ndarray, v_km_s: np.ndarray, forces: ForceModel, spacecraft: Spacecraft
) -> np.ndarray:
    """Total acceleration (n, 3) km/s^2 on GCRS states (n, 3) at one UTC instant."""
    y = np.concatenate([np.atleast_2d(r_km), np.atleast_2d(v_km_s)], axis=1)
    return derivative(jd_utc, fr_utc, y, forces, spacecraft)[:, 3:]
