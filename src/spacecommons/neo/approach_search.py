"""A cheap, conservative search pass for close approaches: two-body (Kepler) sweeps of many objects.

Method: each object's barycentric state at its anchor epoch (from the accurate ASSIST propagation)
is made heliocentric (DE440 Sun) and carried with the two-body problem about the Sun (universal
variables, Vallado 2013 algorithm 8) to every point of a time grid, all objects at once (numba).
The geocentric distance on the grid comes from DE440's Earth; between grid points the distance
is bounded from below with the cubic Hermite through the end states, checked at sub-points.
An object is a candidate where that lower estimate falls below the threshold plus a margin that
bounds the two-body model's error over the span from its anchor (planetary perturbations, the
neglected Earth pull); only candidates need the accurate search and refinement.

Units: au, au/day, TDB Julian dates; states ICRF equatorial."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ..constants import GM_SUN_DE440_AU3_D2
from ..twobody import kepler_chi


@nb.njit(cache=True)
def _kepler_grid(states, dt, mu, out):
    """Two-body states out[i, k] (6,) of states[i] after dt[i, k] days (universal variables).

    ``twobody.kepler_chi``; Newton on the universal anomaly starts from the previous grid point's
    value scaled to this one (grid points of one object are ordered by |dt|, so they are close)."""
    for i in range(states.shape[0]):
        x, y, z, vx, vy, vz = states[i, 0], states[i, 1], states[i, 2], states[i, 3], states[i, 4], states[i, 5]
        chi_prev = math.nan
        dt_prev = 0.0
        for k in range(dt.shape[1]):
            t = dt[i, k]
            if t == 0.0:
                out[i, k, 0], out[i, k, 1], out[i, k, 2] = x, y, z
                out[i, k, 3], out[i, k, 4], out[i, k, 5] = vx, vy, vz
                continue
            guess = chi_prev * t / dt_prev if dt_prev != 0.0 and (t > 0.0) == (dt_prev > 0.0) else math.nan
            s = kepler_chi(x, y, z, vx, vy, vz, t, mu, guess)
            for c in range(6):
                out[i, k, c] = s[c]
            chi_prev, dt_prev = s[6], t


def kepler_states(states: np.ndarray, dt_days: np.ndarray, mu: float = GM_SUN_DE440_AU3_D2) -> np.ndarray:
    """Two-body states (n, m, 6) of heliocentric states (n, 6) after dt_days (n, m) or (m,) days."""
    states = np.ascontiguousarray(states, dtype=float)
    dt = np.ascontiguousarray(np.broadcast_to(np.asarray(dt_days, float), (states.shape[0], np.shape(dt_days)[-1])))
    out = np.empty((states.shape[0], dt.shape[1], 6))
    _kepler_grid(states, dt, mu, out)
    return out


_SUB = 16  # cubic sub-samples per grid interval


@nb.njit(cache=True)
def _interval_lower_bounds(rel, h, out):
    """Lower estimate out[k] of the distance |r| over grid interval k (rel: (m, 6) relative states
    at the grid points, h: (m-1,) signed steps): the smallest of 17 samples of the cubic Hermite
    through the end states, less the most the distance can fall between two samples
    (|dr/dt| * half a sub-step, |dr/dt| bounded by the end speeds plus 2e-3 au/day^2 times the
    step: the Sun's pull near 1 au is 3e-4 au/day^2)."""
    for k in range(rel.shape[0] - 1):
        hk = h[k]
        best = 1e300
        for j in range(_SUB + 1):
            s = j / _SUB
            h00 = 2 * s**3 - 3 * s**2 + 1
            h10 = s**3 - 2 * s**2 + s
            h01 = -2 * s**3 + 3 * s**2
            h11 = s**3 - s**2
            d2 = 0.0
            for c in range(3):
                p = h00 * rel[k, c] + h10 * hk * rel[k, 3 + c] + h01 * rel[k + 1, c] + h11 * hk * rel[k + 1, 3 + c]
                d2 += p * p
            best = min(best, d2)
        va = math.sqrt(rel[k, 3] ** 2 + rel[k, 4] ** 2 + rel[k, 5] ** 2)
        vb = math.sqrt(rel[k + 1, 3] ** 2 + rel[k + 1, 4] ** 2 + rel[k + 1, 5] ** 2)
        slack = (max(va, vb) + 2e-3 * abs(hk)) * abs(hk) / (2 * _SUB)
        out[k] = math.sqrt(best) - slack


def interval_lower_bounds(rel: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Lower estimates (m-1,) of the distance over each interval of ``grid`` (m,) from relative
    states ``rel`` (m, 6; au, au/day) at its points; ``grid`` may run backwards."""
    rel = np.ascontiguousarray(rel, dtype=float)
    out = np.empty(rel.shape[0] - 1)
    _interval_lower_bounds(rel, np.ascontiguousarray(np.diff(grid), dtype=float), out)
    return out


def first_flagged_run(lower: np.ndarray, limit: float) -> tuple[int, int]:
    """(i, j): intervals i..j-1 are the first run of consecutive intervals whose lower estimate is
    below ``limit`` (or not a number: a failed two-body solution must not hide an interval);
    (-1, -1) when none is."""
    below = np.flatnonzero(~(lower >= limit))
    if below.size == 0:
        return -1, -1
    i = int(below[0])
    above = np.flatnonzero(lower[i:] >= limit)
    return i, i + int(above[0]) if above.size else lower.size


def hermite_states(table_t: np.ndarray, table: np.ndarray, t: np.ndarray) -> np.ndarray:
    """States (len(t), 6) interpolated in a table of states (n, 6) on the equally spaced times
    ``table_t`` (n,): cubic Hermite on positions and velocities, velocity from its derivative.
    For a planet tabulated every 0.25 day the error is below 1e-11 au (the Earth's monthly wobble
    about the Earth-Moon barycentre, 3.1e-5 au at 0.23 rad/day, is the fastest term)."""
    h = table_t[1] - table_t[0]
    u = (np.asarray(t, float) - table_t[0]) / h
    i = np.clip(np.floor(u).astype(int), 0, table_t.size - 2)
    s = (u - i)[:, None]
    r0, v0, r1, v1 = table[i, :3], table[i, 3:] * h, table[i + 1, :3], table[i + 1, 3:] * h
    pos = (2 * s**3 - 3 * s**2 + 1) * r0 + (s**3 - 2 * s**2 + s) * v0 + (-2 * s**3 + 3 * s**2) * r1 + (s**3 - s**2) * v1
    vel = (6 * s**2 - 6 * s) * r0 + (3 * s**2 - 4 * s + 1) * v0 + (-6 * s**2 + 6 * s) * r1 + (3 * s**2 - 2 * s) * v1
    return np.hstack([pos, vel / h])
