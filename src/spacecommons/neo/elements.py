"""Heliocentric orbital elements <-> states; ecliptic J2000 <-> ICRF equatorial.

JPL SBDB and the MPC give osculating heliocentric elements about the Sun alone (GM_sun of the
DE ephemerides), referred to the J2000 ecliptic (obliquity 84381.448 arcsec). Elliptic orbits
use the mean anomaly; cometary ones (also parabolic and hyperbolic) the perihelion time."""

from __future__ import annotations

import numpy as np

from ..constants import GM_SUN_DE440_AU3_D2
from ..errors import InputError

OBLIQUITY_J2000_RAD = np.radians(84381.448 / 3600.0)  # IAU 1976, the J2000 ecliptic JPL uses

_C, _S = np.cos(OBLIQUITY_J2000_RAD), np.sin(OBLIQUITY_J2000_RAD)
ECLIPTIC_TO_EQUATORIAL = np.array([[1.0, 0.0, 0.0], [0.0, _C, -_S], [0.0, _S, _C]])


def perifocal_axes(i, om, w):
    """Rows: perifocal P and Q unit vectors in the ecliptic frame (angles in radians)."""
    co, so, ci, si, cw, sw = np.cos(om), np.sin(om), np.cos(i), np.sin(i), np.cos(w), np.sin(w)
    P = np.stack([co * cw - so * sw * ci, so * cw + co * sw * ci, sw * si], axis=-1)
    Q = np.stack([-co * sw - so * cw * ci, -so * sw + co * cw * ci, cw * si], axis=-1)
    return P, Q


def _stumpff(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stumpff functions C(z), S(z), stable through z = 0."""
    c = np.empty_like(z)
    s = np.empty_like(z)
    pos, neg, small = z > 1e-8, z < -1e-8, np.abs(z) <= 1e-8
    sz = np.sqrt(z[pos])
    c[pos] = (1 - np.cos(sz)) / z[pos]
    s[pos] = (sz - np.sin(sz)) / sz**3
    sn = np.sqrt(-z[neg])
    c[neg] = (np.cosh(sn) - 1) / -z[neg]
    s[neg] = (np.sinh(sn) - sn) / sn**3
    c[small] = 0.5 - z[small] / 24
    s[small] = 1 / 6 - z[small] / 120
    return c, s


def cometary_to_state(q, e, i_deg, om_deg, w_deg, tp_jd, epoch_jd, mu: float = GM_SUN_DE440_AU3_D2):
    """Heliocentric ecliptic J2000 states (n, 6; au, au/day) from cometary elements at ``epoch_jd``.

    Universal-variable Kepler solution about the periapsis, valid for every eccentricity."""
    q, e, i, om, w, tp, t = (np.atleast_1d(np.asarray(x, float)) for x in (q, e, i_deg, om_deg, w_deg, tp_jd, epoch_jd))
    i, om, w = np.radians(i), np.radians(om), np.radians(w)
    alpha = (1.0 - e) / q  # 1/a
    dt = t - tp
    sqmu = np.sqrt(mu)
    vp = np.sqrt(mu * (1.0 + e) / q)  # periapsis speed
    # Universal Kepler equation about periapsis (r0 = q, radial velocity 0):
    #   F(chi) = (1 - alpha q) chi^3 S + q chi - sqrt(mu) dt,  F' = r,  F'' = (1 - alpha q) chi (1 - z S)
    # solved by Laguerre-Conway iteration, which converges for every conic from a rough start.
    chi = sqmu * dt / q
    for _ in range(80):
        z = alpha * chi**2
        c, s = _stumpff(z)
        f = (1 - alpha * q) * chi**3 * s + q * chi - sqmu * dt
        fp = chi**2 * c * (1 - alpha * q) + q
        fpp = (1 - alpha * q) * chi * (1 - z * s)
        root = np.sqrt(np.abs(16 * fp**2 - 20 * f * fpp))
        step = 5 * f / (fp + np.sign(fp) * root)
        chi = chi - step
        if np.all(np.abs(step) <= 1e-14 * np.maximum(1.0, np.abs(chi))):
            break
    z = alpha * chi**2
    c, s = _stumpff(z)
    fl = 1 - chi**2 / q * c
    g = dt - chi**3 / sqmu * s
    r = chi**2 * c * (1 - alpha * q) + q
    fdot = sqmu / (r * q) * (alpha * chi**3 * s - chi)
    gdot = 1 - chi**2 / r * c
    P, Q = perifocal_axes(i, om, w)
    r0 = q[:, None] * P
    v0 = vp[:, None] * Q
    pos = fl[:, None] * r0 + g[:, None] * v0
    vel = fdot[:, None] * r0 + gdot[:, None] * v0
    return np.hstack([pos, vel])


def keplerian_to_state(a, e, i_deg, om_deg, w_deg, ma_deg, mu: float = GM_SUN_DE440_AU3_D2):
    """Heliocentric ecliptic J2000 states (n, 6) of elliptic orbits from the mean anomaly."""
    a, e, i, om, w, M = (np.atleast_1d(np.asarray(x, float)) for x in (a, e, i_deg, om_deg, w_deg, ma_deg))
    i, om, w, M = np.radians(i), np.radians(om), np.radians(w), np.radians(M)
    if np.any((e < 0) | (e >= 1)):
        raise InputError("keplerian_to_state needs 0 <= e < 1; use cometary_to_state for the others")
    E = M + e * np.sin(M)
    for _ in range(50):
        step = (E - e * np.sin(E) - M) / (1 - e * np.cos(E))
        E = E - step
        if np.all(np.abs(step) < 1e-15):
            break
    b = a * np.sqrt(1 - e * e)
    n = np.sqrt(mu / a**3)
    cE, sE = np.cos(E), np.sin(E)
    rr = a * (1 - e * cE)
    P, Q = perifocal_axes(i, om, w)
    pos = (a * (cE - e))[:, None] * P + (b * sE)[:, None] * Q
    vel = (-a * a * n * sE / rr)[:, None] * P + (b * a * n * cE / rr)[:, None] * Q
    return np.hstack([pos, vel])


def ecliptic_to_equatorial(states: np.ndarray) -> np.ndarray:
    """Rotate (n, 6) or (n, 3) J2000-ecliptic vectors to ICRF equatorial."""
    states = np.atleast_2d(states)
    out = states @ np.kron(np.eye(states.shape[1] // 3), ECLIPTIC_TO_EQUATORIAL).T
    return out


def equatorial_to_ecliptic(states: np.ndarray) -> np.ndarray:
    """Rotate (n, 6) or (n, 3) ICRF equatorial vectors to the J2000 ecliptic."""
    states = np.atleast_2d(states)
    return states @ np.kron(np.eye(states.shape[1] // 3), ECLIPTIC_TO_EQUATORIAL)


def elements_from_state(r, v, mu: float = GM_SUN_DE440_AU3_D2):
    """(a, e, i, om, w) in au and radians from a heliocentric ecliptic state."""
    r, v = np.asarray(r, float), np.asarray(v, float)
    h = np.cross(r, v)
    rn = np.linalg.norm(r)
    e_vec = np.cross(v, h) / mu - r / rn
    e = np.linalg.norm(e_vec)
    a = 1.0 / (2.0 / rn - v @ v / mu)
    i = np.arccos(h[2] / np.linalg.norm(h))
    n = np.array([-h[1], h[0], 0.0])
    om = np.arctan2(n[1], n[0])
    w = np.arctan2(np.dot(np.cross(n, e_vec), h) / np.linalg.norm(h), np.dot(n, e_vec))
    return a, e, i, om, w
