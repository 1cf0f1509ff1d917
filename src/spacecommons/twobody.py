"""Two-body (Kepler) propagation in universal variables, compiled: the one solver of the code base.

Shared by the risk package's SDMC Pc (``risk/sdmc.py``, km and s) and the NEO close-approach
sieve (``neo/approach_search.py``, au and days): any consistent units, ``mu`` in those units.
Algorithm: Vallado (2013), *Fundamentals of Astrodynamics and Applications*, 4th ed., algorithm 8
(universal variable chi, Stumpff functions c2/c3, Newton iteration, f and g functions).
"""

from __future__ import annotations

import math

import numba as nb


@nb.njit(cache=True, inline="always")
def stumpff(z):
    """Stumpff functions c2(z), c3(z); series where the closed forms cancel."""
    if abs(z) < 1e-2:
        c2 = 0.5 - z * (1.0 / 24.0 - z * (1.0 / 720.0 - z * (1.0 / 40320.0 - z / 3628800.0)))
        c3 = 1.0 / 6.0 - z * (1.0 / 120.0 - z * (1.0 / 5040.0 - z * (1.0 / 362880.0 - z / 39916800.0)))
    elif z > 0.0:
        s = math.sqrt(z)
        c2 = (1.0 - math.cos(s)) / z
        c3 = (s - math.sin(s)) / (s * z)
    else:
        s = math.sqrt(-z)
        c2 = (math.cosh(s) - 1.0) / (-z)
        c3 = (math.sinh(s) - s) / (s * -z)
    return c2, c3


@nb.njit(cache=True)
def kepler_chi(x, y, z, vx, vy, vz, dt, mu, guess):
    """Two-body state (x, y, z, vx, vy, vz) after ``dt`` and the universal anomaly chi reached.

    Newton starts from ``guess`` when it is finite (e.g. the previous step's chi scaled to this
    step), else from Vallado's first guess (elliptic: sqrt(mu) dt alpha; otherwise sqrt(mu) dt / r0)."""
    if dt == 0.0:
        return x, y, z, vx, vy, vz, 0.0
    smu = math.sqrt(mu)
    r0 = math.sqrt(x * x + y * y + z * z)
    v2 = vx * vx + vy * vy + vz * vz
    rv = (x * vx + y * vy + z * vz) / smu
    alpha = 2.0 / r0 - v2 / mu
    chi = smu * dt * alpha if alpha > 0.0 else smu * dt / r0
    if math.isfinite(guess):
        chi = guess
    for _ in range(60):
        psi = chi * chi * alpha
        c2, c3 = stumpff(psi)
        r = chi * chi * c2 + rv * chi * (1.0 - psi * c3) + r0 * (1.0 - psi * c2)
        t = chi * chi * chi * c3 + rv * chi * chi * c2 + r0 * chi * (1.0 - psi * c3)
        d = (smu * dt - t) / r
        chi += d
        if abs(d) <= 1e-13 * max(1.0, abs(chi)):
            break
    psi = chi * chi * alpha
    c2, c3 = stumpff(psi)
    r = chi * chi * c2 + rv * chi * (1.0 - psi * c3) + r0 * (1.0 - psi * c2)
    f = 1.0 - chi * chi * c2 / r0
    g = dt - chi * chi * chi * c3 / smu
    fd = smu / (r * r0) * chi * (psi * c3 - 1.0)
    gd = 1.0 - chi * chi * c2 / r
    return (
        f * x + g * vx,
        f * y + g * vy,
        f * z + g * vz,
        fd * x + gd * vx,
        fd * y + gd * vy,
        fd * z + gd * vz,
        chi,
    )


__all__ = ["kepler_chi", "stumpff"]
