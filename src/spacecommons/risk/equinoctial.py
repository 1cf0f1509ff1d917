"""Prograde equinoctial elements (n, af, ag, chi, psi, lambda) and Cartesian states, both ways.

Broucke & Cefola (1972); Vallado (2013) sec. 2.4. Units: km, km/s, rad/s (n) and rad; ``gm`` in
km^3/s^2. The prograde set is singular only for retrograde equatorial orbits (w_z = -1): callers
turn their frame first where that can happen (``risk.pc3d``). Used by the 3D Pc (its Gaussian lives
in these elements) and the Monte Carlo (it samples in them), as CARA's tools do.
"""

from __future__ import annotations

import numpy as np

from ..constants import GM_EARTH_EGM96_KM3_S2

GM_KM3_S2 = GM_EARTH_EGM96_KM3_S2


def frame_axes(chi: np.ndarray, psi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The equinoctial frame's f and g axes (in the orbit plane) from chi, psi."""
    d = 1.0 + chi * chi + psi * psi
    f = np.stack([1.0 - chi * chi + psi * psi, 2.0 * chi * psi, -2.0 * chi], axis=-1) / d[..., None]
    g = np.stack([2.0 * chi * psi, 1.0 + chi * chi - psi * psi, 2.0 * psi], axis=-1) / d[..., None]
    return f, g


def cartesian_to_equinoctial(x: np.ndarray, gm: float = GM_KM3_S2) -> np.ndarray:
    """(..., 6) position/velocity -> (..., 6) elements (n, af, ag, chi, psi, lambda); prograde set."""
    r, v = x[..., :3], x[..., 3:]
    rn = np.linalg.norm(r, axis=-1)
    h = np.cross(r, v)
    w = h / np.linalg.norm(h, axis=-1, keepdims=True)
    chi = w[..., 0] / (1.0 + w[..., 2])
    psi = -w[..., 1] / (1.0 + w[..., 2])
    f, g = frame_axes(chi, psi)
    e = np.cross(v, h) / gm - r / rn[..., None]
    af = np.einsum("...i,...i->...", e, f)
    ag = np.einsum("...i,...i->...", e, g)
    a = 1.0 / (2.0 / rn - np.einsum("...i,...i->...", v, v) / gm)
    n = np.sqrt(gm / a**3)
    X = np.einsum("...i,...i->...", r, f)
    Y = np.einsum("...i,...i->...", r, g)
    root = np.sqrt(1.0 - af * af - ag * ag)
    b = 1.0 / (1.0 + root)
    # invert X = a[(1 - ag^2 b) cos F + af ag b sin F - af], Y = a[af ag b cos F + (1 - af^2 b) sin F - ag]
    # (the 2x2 matrix has determinant ``root``)
    px, py = X / a + af, Y / a + ag
    cos_f = ((1.0 - af * af * b) * px - af * ag * b * py) / root
    sin_f = ((1.0 - ag * ag * b) * py - af * ag * b * px) / root
    F = np.arctan2(sin_f, cos_f)
    lam = F + ag * np.cos(F) - af * np.sin(F)
    return np.stack([n, af, ag, chi, psi, lam], axis=-1)


def equinoctial_to_cartesian(e: np.ndarray, gm: float = GM_KM3_S2) -> np.ndarray:
    """(..., 6) elements -> (..., 6) position/velocity (inverse of :func:`cartesian_to_equinoctial`)."""
    n, af, ag, chi, psi, lam = np.moveaxis(e, -1, 0)
    a = np.cbrt(gm / (n * n))
    lam = np.mod(lam + np.pi, 2.0 * np.pi) - np.pi
    F = lam.copy()
    for _ in range(50):  # Kepler's equation in equinoctial form: lam = F + ag cos F - af sin F
        s, c = np.sin(F), np.cos(F)
        step = (F + ag * c - af * s - lam) / (1.0 - ag * s - af * c)
        F = F - step
        if np.all(np.abs(step) < 1e-14):
            break
    s, c = np.sin(F), np.cos(F)
    b = 1.0 / (1.0 + np.sqrt(1.0 - af * af - ag * ag))
    X = a * ((1.0 - ag * ag * b) * c + af * ag * b * s - af)
    Y = a * ((1.0 - af * af * b) * s + af * ag * b * c - ag)
    rn = a * (1.0 - af * c - ag * s)
    k = n * a * a / rn
    Xd = k * (af * ag * b * c - (1.0 - ag * ag * b) * s)
    Yd = k * ((1.0 - af * af * b) * c - af * ag * b * s)
    f, g = frame_axes(chi, psi)
    r = X[..., None] * f + Y[..., None] * g
    v = Xd[..., None] * f + Yd[..., None] * g
    return np.concatenate([r, v], axis=-1)
