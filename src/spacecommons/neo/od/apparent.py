"""Computed astrometric positions: light time, gravitational deflection by the Sun, stellar
aberration; and the partials of RA and Dec with respect to the topocentric position.

Method (Explanatory Supplement to the Astronomical Almanac, 3rd ed., ch. 7; IERS/SOFA
``eraLd``/``eraAb``): the body is taken at the retarded time t - tau, tau = |rho|/c from the
observer's barycentric position at t (planetary aberration = light time); the direction is
bent by the Sun's gravity (PPN gamma = 1; 4 mas at 90 deg elongation, 1.75" at the limb) and
then aberrated by the observer's barycentric velocity (relativistic formula; the diurnal part
is included through the observer's GCRS velocity). Deflection by the planets (< 1 mas except
within arcminutes of a planet's limb) is not applied. Astrometric catalogues are ICRF, so no
precession or nutation enters. Units: au, au/day; angles in radians."""

from __future__ import annotations

import numpy as np

from ...constants import AU_KM, SECONDS_PER_DAY

C_KM_S = 299_792.458  # IAU: speed of light, exact
C_AU_D = C_KM_S * SECONDS_PER_DAY / AU_KM
SUN_SCHWARZSCHILD_AU = 1.97412574336e-8  # 2 GM_sun / c^2 in au (SOFA's SRS constant)


def light_time_days(rho_au: np.ndarray) -> np.ndarray:
    """Light time (n,) in days for topocentric vectors (n, 3)."""
    return np.linalg.norm(rho_au, axis=-1) / C_AU_D


def deflect_by_sun(p: np.ndarray, q: np.ndarray, e: np.ndarray, em_au: np.ndarray) -> np.ndarray:
    """SOFA ``eraLd`` with the Sun's mass: p unit body direction from the observer, q unit
    Sun->body, e unit Sun->observer, em observer-Sun distance (au); all (n, 3) / (n,)."""
    qpe = q + e
    qdqpe = np.maximum(np.einsum("ij,ij->i", q, qpe), 1e-9)
    w = SUN_SCHWARZSCHILD_AU / em_au / qdqpe
    eq = np.cross(e, q)
    peq = np.cross(p, eq)
    return p + w[:, None] * peq


def aberrate(p: np.ndarray, v_obs_au_d: np.ndarray) -> np.ndarray:
    """Relativistic stellar aberration (SOFA ``eraAb`` without its tiny solar-potential term):
    unit directions (n, 3), observer barycentric velocities (n, 3)."""
    v = v_obs_au_d / C_AU_D
    bm1 = np.sqrt(1.0 - np.einsum("ij,ij->i", v, v))
    pdv = np.einsum("ij,ij->i", p, v)
    w2 = 1.0 + pdv / (1.0 + bm1)
    p1 = bm1[:, None] * p + w2[:, None] * v
    p1 /= (1.0 + pdv)[:, None]
    return p1 / np.linalg.norm(p1, axis=-1, keepdims=True)


def ra_dec(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Right ascension in [0, 2 pi) and declination (radians) of vectors (n, 3)."""
    ra = np.mod(np.arctan2(p[:, 1], p[:, 0]), 2 * np.pi)
    dec = np.arctan2(p[:, 2], np.hypot(p[:, 0], p[:, 1]))
    return ra, dec


def ra_dec_partials(rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """d(RA)/d(rho) and d(Dec)/d(rho), each (n, 3), for topocentric vectors rho (n, 3)."""
    x, y, z = rho[:, 0], rho[:, 1], rho[:, 2]
    r2xy = x * x + y * y
    r2 = r2xy + z * z
    rxy = np.sqrt(r2xy)
    d_ra = np.stack([-y / r2xy, x / r2xy, np.zeros_like(x)], axis=1)
    d_dec = np.stack([-x * z / (r2 * rxy), -y * z / (r2 * rxy), rxy / r2], axis=1)
    return d_ra, d_dec


def astrometric_direction(body_au: np.ndarray, observer_au: np.ndarray) -> np.ndarray:
    """Unit astrometric direction (n, 3): body at the retarded time minus observer at reception.
    This is what astrometry reduced against catalogue stars measures: the stars' images carry
    the same stellar aberration (and nearly the same solar deflection) as the body's, so the plate
    solution removes both (Explanatory Supplement 3rd ed. 7.2.2; JPL's and OrbFit's practice)."""
    rho = body_au - observer_au
    return rho / np.linalg.norm(rho, axis=-1, keepdims=True)


def apparent_direction(
    body_au: np.ndarray, observer_au: np.ndarray, observer_au_d: np.ndarray, sun_au: np.ndarray
) -> np.ndarray:
    """Unit apparent direction (n, 3) of the body (barycentric positions at the retarded time)
    seen by the observer (barycentric position and velocity at reception), Sun at reception."""
    rho = body_au - observer_au
    p = rho / np.linalg.norm(rho, axis=-1, keepdims=True)
    q = body_au - sun_au
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    e = observer_au - sun_au
    em = np.linalg.norm(e, axis=-1)
    e /= em[:, None]
    p = deflect_by_sun(p, q, e, em)
    p /= np.linalg.norm(p, axis=-1, keepdims=True)
    return aberrate(p, observer_au_d)
