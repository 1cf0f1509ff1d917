"""Interpolation of OEM states as the message says: Lagrange or Hermite, of INTERPOLATION_DEGREE.

Method. A query time takes the ``n`` tabulated states nearest to it (the window centred on it,
shifted inward at the ends of the segment). Lagrange of degree d uses n = d + 1 epochs and
interpolates positions and velocities each as polynomials of degree d. Hermite of degree d uses
n = (d + 1) / 2 epochs (rounded up, at least 2) and fits one polynomial of degree 2n - 1 to the
positions and velocities (its derivative is the velocity, so the two agree exactly). Times are
scaled to [-1, 1] over the window before solving the small confluent Vandermonde systems.

Error: for a smooth trajectory the error of a degree-d interpolant on step h is about
|x^(d+1)| h^(d+1) / (d+1)! * prod |s - k|; for a LEO orbit (|x^(k)| ~ r n^k, n = 0.0011 rad/s)
with 60 s steps and degree 7 that is below a millimetre. docs/ephemerides.md states the bound
measured against SGP4 truth (tests/test_ephemeris_interpolate.py).

Units: km, km/s; times as seconds from a reference epoch in the segment's time system.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

SUPPORTED = ("LAGRANGE", "HERMITE")


def window_size(method: str, degree: int) -> int:
    """Number of tabulated epochs each interpolated state uses."""
    method = method.upper()
    if method == "LAGRANGE":
        return max(2, degree + 1)
    if method == "HERMITE":
        return max(2, (degree + 2) // 2)
    raise InputError(f"interpolation {method!r} is not supported ({' or '.join(SUPPORTED)})")


def interpolate_states(
    t_nodes: np.ndarray,
    r_nodes: np.ndarray,
    v_nodes: np.ndarray,
    t: np.ndarray,
    method: str = "LAGRANGE",
    degree: int = 7,
) -> tuple[np.ndarray, np.ndarray]:
    """Positions and velocities ``(m, 3)`` at times ``t`` ``(m,)`` (seconds, same origin as the
    increasing ``t_nodes`` ``(N,)``) from the tabulated ``r_nodes``, ``v_nodes`` ``(N, 3)``.

    Times outside ``[t_nodes[0], t_nodes[-1]]`` give NaN (no extrapolation).

    >>> tn = np.arange(5.0)
    >>> r = np.stack([tn**3, tn, 0 * tn], axis=1); v = np.stack([3 * tn**2, 1 + 0 * tn, 0 * tn], axis=1)
    >>> interpolate_states(tn, r, v, np.array([1.5]), "HERMITE", 3)[0].round(12).tolist()
    [[3.375, 1.5, 0.0]]
    """
    t_nodes = np.asarray(t_nodes, dtype=float)
    r_nodes = np.asarray(r_nodes, dtype=float).reshape(-1, 3)
    v_nodes = np.asarray(v_nodes, dtype=float).reshape(-1, 3)
    t = np.atleast_1d(np.asarray(t, dtype=float))
    big = t_nodes.size
    if big < 2:
        raise InputError("interpolation needs at least two states")
    if np.any(np.diff(t_nodes) <= 0):
        raise InputError("ephemeris epochs must increase strictly")
    n = min(window_size(method, degree), big)
    hermite = method.upper() == "HERMITE"
    # the window of n nodes centred on each query
    k = np.searchsorted(t_nodes, t, side="right")
    first = np.clip(k - n // 2, 0, big - n)
    idx = first[:, None] + np.arange(n)[None, :]  # (m, n)
    tw = t_nodes[idx]
    center = 0.5 * (tw[:, 0] + tw[:, -1])
    half = 0.5 * (tw[:, -1] - tw[:, 0])
    tau_nodes = (tw - center[:, None]) / half[:, None]  # (m, n) in [-1, 1]
    tau = (t - center) / half  # (m,)
    if hermite:
        powers = np.arange(2 * n)
        a_pos = tau_nodes[..., None] ** powers  # (m, n, 2n)
        with np.errstate(divide="ignore", invalid="ignore"):
            a_der = np.where(powers > 0, powers * tau_nodes[..., None] ** np.maximum(powers - 1, 0), 0.0)
        a = np.concatenate([a_pos, a_der], axis=1)  # (m, 2n, 2n)
        rhs = np.concatenate([r_nodes[idx], v_nodes[idx] * half[:, None, None]], axis=1)  # (m, 2n, 3)
        coef = np.linalg.solve(a, rhs)  # (m, 2n, 3)
        basis = tau[:, None] ** powers  # (m, 2n)
        dbasis = np.where(powers > 0, powers * tau[:, None] ** np.maximum(powers - 1, 0), 0.0)
        r = np.einsum("mk,mkc->mc", basis, coef)
        v = np.einsum("mk,mkc->mc", dbasis, coef) / half[:, None]
    else:
        # Lagrange weights: L_j(tau) = prod_{k != j} (tau - tau_k) / (tau_j - tau_k)
        diff = tau[:, None] - tau_nodes  # (m, n)
        den = tau_nodes[:, :, None] - tau_nodes[:, None, :]  # (m, n, n)
        eye = np.eye(n, dtype=bool)
        den = np.where(eye, 1.0, den)
        num = np.where(eye[None], 1.0, diff[:, None, :])  # (m, n(j), n(k))
        w = np.prod(num / den, axis=2)  # (m, n)
        r = np.einsum("mj,mjc->mc", w, r_nodes[idx])
        v = np.einsum("mj,mjc->mc", w, v_nodes[idx])
    outside = (t < t_nodes[0]) | (t > t_nodes[-1])
    r[outside] = np.nan
    v[outside] = np.nan
    return r, v


def interpolate_covariance(t_cov: np.ndarray, covariances: np.ndarray, t: float) -> tuple[int, np.ndarray]:
    """The covariance block nearest in time to ``t`` (index and 6x6): covariances are not
    interpolated, because a linear blend of two matrices is not a propagated covariance."""
    t_cov = np.asarray(t_cov, dtype=float)
    if t_cov.size == 0:
        raise InputError("the ephemeris has no covariance")
    k = int(np.argmin(np.abs(t_cov - t)))
    return k, np.asarray(covariances[k], dtype=float)


__all__ = ["SUPPORTED", "interpolate_covariance", "interpolate_states", "window_size"]
