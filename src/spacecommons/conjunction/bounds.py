"""Interpolation-error bounds for cubic Hermite segments through SGP4 states.

A cubic Hermite interpolant through positions and velocities at both ends of a segment of
length h errs by at most ``max|x''''| h**4 / 384`` (the classic remainder, e.g. Burden &
Faires, Numerical Analysis, Thm. 3.9 with the node polynomial (t-t0)**2 (t-t1)**2). For
two-body motion the fourth derivative has the closed form of the Lagrange f and g series:

    x'''' = u (u - 15 p**2 + 3 q) r + 6 u p v,   u = mu/|r|**3, p = r.v/|r|**2, q = v.v/|r|**2 - u

We take its maximum over the whole osculating orbit (sampled in eccentric anomaly), shrink
the perigee by a margin for short-period and drag effects, and multiply by a safety factor
for the non-Keplerian part of SGP4 (J2 short-period terms change x'''' by ~2% in LEO).

SGP4's velocity is not exactly the time derivative of its position (the periodic terms'
derivatives are truncated): measured over the 2022 catalog the mismatch is 0.05 m/s at the
median, 2.5 m/s at the 99th percentile and tens of m/s for decaying or very eccentric orbits.
A Hermite interpolant with node derivatives off by dv errs by up to (4/27) h dv more, so each
object's mismatch is measured at sample times (central differences of SGP4 positions) and
added, with a safety factor because the mismatch varies along the orbit.
``tests/test_screen_bounds.py`` checks the bound against measured SGP4 errors over a catalog.
"""

from __future__ import annotations

import numpy as np

from ..constants import EARTH_RADIUS_WGS72_KM, GM_EARTH_WGS72_KM3_S2, SECONDS_PER_DAY
from ..propagation.sgp4_batch import propagate_satrecs

SAFETY = 2.0
PERIGEE_MARGIN_KM = 25.0
FLOOR_KM = 1e-6
# SDP4 (periods >= 225 min) adds lunisolar terms, a resonance integrator with 720-min steps
# and Lyddane's switch of formulas near 0.2 rad inclination, which can make the trajectory
# step by metres (Vallado's case 20413 steps by 9 m); deep-space bounds never go below this.
DEEP_SPACE_FLOOR_KM = 0.05
VELOCITY_SAFETY = 3.0
VELOCITY_FLOOR_KM_S = 1e-6  # 1 mm/s
VELOCITY_SAMPLES = 12
DIFF_STEP_S = 0.5


def _fourth_derivative_on_orbit(a: np.ndarray, e: np.ndarray, E: np.ndarray, mu: float) -> np.ndarray:
    """|d4 r/dt4| at eccentric anomalies E (broadcast) of Kepler orbits (a, e)."""
    b = a * np.sqrt(1.0 - e**2)
    x = a * (np.cos(E) - e)
    y = b * np.sin(E)
    rho = a * (1.0 - e * np.cos(E))
    scale = np.sqrt(mu / a) / rho
    vx = -scale * a * np.sin(E)
    vy = scale * b * np.cos(E)
    u = mu / rho**3
    p = (x * vx + y * vy) / rho**2
    q = (vx**2 + vy**2) / rho**2 - u
    f4 = u * (u - 15.0 * p**2 + 3.0 * q)
    g4 = 6.0 * u * p
    return np.hypot(f4 * x + g4 * vx, f4 * y + g4 * vy)


# uniform in log(1 - e): the maximum grows like (1 - e)**-5, so neighbours differ by < 10%
_E_GRID = np.concatenate([[0.0], 1.0 - np.geomspace(0.999, 1e-3, 400)])


# max over the orbit of |d4 r/dt4| for a = 1, mu = 1, per grid eccentricity; NaN: not computed yet
_UNIT_TABLE = np.full(_E_GRID.size, np.nan)


def _unit_maxima(idx: np.ndarray) -> np.ndarray:
    """``_UNIT_TABLE`` at the grid indices ``idx``, its missing rows computed first (the whole table
    costs 0.06 s; an update of a few hundred objects needs a few dozen rows). Each row is the same
    element-wise arithmetic however many are computed together, so the values do not depend on which
    rows were asked for first."""
    missing = np.unique(idx[np.isnan(_UNIT_TABLE[idx])])
    if missing.size:
        E = np.linspace(-np.pi, np.pi, 2001)[None, :]
        rows = _fourth_derivative_on_orbit(np.ones((missing.size, 1)), _E_GRID[missing, None], E, 1.0)
        _UNIT_TABLE[missing] = rows.max(axis=1)
    return _UNIT_TABLE[idx]


def fourth_derivative_max(a_km: np.ndarray, ecc: np.ndarray) -> np.ndarray:
    """max over the orbit of |d4 r/dt4| (km/s**4): mu**2 / a**5 times a function of e alone,
    tabulated once and read at the next grid eccentricity up (the maximum grows with e)."""
    a = np.asarray(a_km, dtype=float)
    e = np.clip(np.asarray(ecc, dtype=float), 0.0, 0.999)
    idx = np.minimum(np.searchsorted(_E_GRID, e, side="left"), _E_GRID.size - 1)
    return GM_EARTH_WGS72_KM3_S2**2 / a**5 * _unit_maxima(idx)


def hermite_error_bound_km(
    a_km: np.ndarray, ecc: np.ndarray, step_s: float, deep_space: np.ndarray | None = None
) -> np.ndarray:
    """Bound (km) on |SGP4 - cubic Hermite| for segments of ``step_s`` seconds, per object."""
    a = np.asarray(a_km, dtype=float)
    e = np.asarray(ecc, dtype=float)
    rp = a * (1.0 - e) - PERIGEE_MARGIN_KM
    rp = np.maximum(rp, EARTH_RADIUS_WGS72_KM - 100.0)
    ra = np.maximum(a * (1.0 + e), rp)
    a_eff = 0.5 * (rp + ra)
    e_eff = (ra - rp) / (ra + rp)
    m4 = fourth_derivative_max(a_eff, e_eff)
    bound = SAFETY * m4 * step_s**4 / 384.0 + FLOOR_KM
    if deep_space is not None:
        bound = np.where(deep_space, np.maximum(bound, DEEP_SPACE_FLOOR_KM), bound)
    return bound


def max_speed_km_s(a_km: np.ndarray, ecc: np.ndarray) -> np.ndarray:
    """Perigee speed (vis-viva), an upper bound of the orbital speed."""
    a = np.asarray(a_km, dtype=float)
    e = np.clip(np.asarray(ecc, dtype=float), 0.0, 0.999)
    rp = np.maximum(a * (1.0 - e) - PERIGEE_MARGIN_KM, EARTH_RADIUS_WGS72_KM - 100.0)
    return np.sqrt(GM_EARTH_WGS72_KM3_S2 * (2.0 / rp - 1.0 / a))


def velocity_mismatch_km_s(satrecs, array, jd: float, fr: np.ndarray) -> np.ndarray:
    """max over the sample times ``fr`` (days after ``jd``) of |SGP4 v - d(SGP4 r)/dt|, per object.

    The central difference over +-0.5 s errs by about |r'''| 0.25 / 6, under 1 mm/s in LEO."""
    fr = np.asarray(fr, dtype=float)
    d = DIFF_STEP_S / SECONDS_PER_DAY
    times = np.concatenate([fr, fr + d, fr - d])
    err, r, v = propagate_satrecs(satrecs, np.full(times.shape, jd), times, array)
    m = fr.size
    numeric = (r[:, m : 2 * m] - r[:, 2 * m :]) / (2.0 * DIFF_STEP_S)
    mismatch = np.linalg.norm(numeric - v[:, :m], axis=-1)
    bad = (err[:, :m] != 0) | (err[:, m : 2 * m] != 0) | (err[:, 2 * m :] != 0)
    mismatch = np.where(bad, 0.0, mismatch)
    return mismatch.max(axis=1)


def segment_error_bounds_km(
    a_km: np.ndarray, ecc: np.ndarray, deep_space: np.ndarray, mismatch_km_s: np.ndarray, step_s: float
) -> np.ndarray:
    """The stated bound used by the screening broad phase: smoothness term + velocity term."""
    dv = VELOCITY_SAFETY * np.maximum(mismatch_km_s, VELOCITY_FLOOR_KM_S)
    return hermite_error_bound_km(a_km, ecc, step_s, deep_space) + (4.0 / 27.0) * step_s * dv
