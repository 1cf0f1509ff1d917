"""TCA refinement on the true SGP4 trajectories (not on the interpolant)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from sgp4.api import Satrec

from ..constants import GM_EARTH_WGS72_KM3_S2, SECONDS_PER_DAY

TCA_TOLERANCE_S = 1e-6


def _state(sat: Satrec, jd: float, fr: float, t: float):
    e, r, v = sat.sgp4(jd, fr + t / SECONDS_PER_DAY)
    return e, r, v


def refine_tca(
    s1: Satrec, s2: Satrec, jd: float, fr: float, t_guess: float, half_width: float
) -> tuple[float, float, tuple, tuple, tuple, tuple] | None:
    """Newton on f(t) = dr.dv (f' = dv.dv + dr.da, two-body da) from ``t_guess`` seconds after
    (jd, fr); falls back to golden-section search on the distance if Newton leaves the
    bracket ``t_guess +- half_width``. Returns (t, miss_km, r1, v1, r2, v2) or None
    when SGP4 fails there."""
    lo, hi = t_guess - half_width, t_guess + half_width
    t = t_guess
    for _ in range(20):
        e1, r1, v1 = _state(s1, jd, fr, t)
        e2, r2, v2 = _state(s2, jd, fr, t)
        if e1 or e2:
            return None
        dr = (r2[0] - r1[0], r2[1] - r1[1], r2[2] - r1[2])
        dv = (v2[0] - v1[0], v2[1] - v1[1], v2[2] - v1[2])
        n1 = math.sqrt(r1[0] ** 2 + r1[1] ** 2 + r1[2] ** 2) ** 3
        n2 = math.sqrt(r2[0] ** 2 + r2[1] ** 2 + r2[2] ** 2) ** 3
        da = tuple(-GM_EARTH_WGS72_KM3_S2 * (r2[c] / n2 - r1[c] / n1) for c in range(3))
        f = dr[0] * dv[0] + dr[1] * dv[1] + dr[2] * dv[2]
        fp = dv[0] ** 2 + dv[1] ** 2 + dv[2] ** 2 + dr[0] * da[0] + dr[1] * da[1] + dr[2] * da[2]
        if fp <= 0.0:
            break
        step = -f / fp
        t_new = t + step
        if not lo <= t_new <= hi:
            break
        t = t_new
        if abs(step) < TCA_TOLERANCE_S:
            return _polish(s1, s2, jd, fr, t, math.sqrt(dv[0] ** 2 + dv[1] ** 2 + dv[2] ** 2))
    return _golden(s1, s2, jd, fr, lo, hi)


def _polish(s1: Satrec, s2: Satrec, jd: float, fr: float, t: float, speed_km_s: float = 10.0):
    """Vertex of the parabola through |dr|**2 at t - delta, t, t + delta, on positions only.

    SGP4's velocity is not exactly the derivative of its position, so dr.dv = 0 misses the
    distance minimum by (dr . velocity error) / |dv|**2: milliseconds to seconds for pairs
    closing at m/s. Positions alone define the minimum. delta starts where the pair moves
    ~200 m relative to each other (so the parabola rises well above rounding noise) and shrinks
    to 10 ms, where the quadratic model is exact to far below a microsecond."""
    delta = min(30.0, max(0.01, 0.2 / max(speed_km_s, 1e-9)))
    for _ in range(16):
        d = []
        for tt in (t - delta, t, t + delta):
            e1, r1, _ = _state(s1, jd, fr, tt)
            e2, r2, _ = _state(s2, jd, fr, tt)
            if e1 or e2:
                return None
            d.append((r2[0] - r1[0]) ** 2 + (r2[1] - r1[1]) ** 2 + (r2[2] - r1[2]) ** 2)
        curv = d[0] - 2.0 * d[1] + d[2]
        if curv <= 0.0:
            break
        shift = 0.5 * delta * (d[0] - d[2]) / curv
        shift = max(-delta, min(delta, shift))
        t += shift
        if delta <= 0.01 and abs(shift) < TCA_TOLERANCE_S:
            break
        delta = max(0.01, delta / 8.0)
    e1, r1, v1 = _state(s1, jd, fr, t)
    e2, r2, v2 = _state(s2, jd, fr, t)
    if e1 or e2:
        return None
    return t, math.dist(r1, r2), r1, v1, r2, v2


def _golden(s1: Satrec, s2: Satrec, jd: float, fr: float, lo: float, hi: float):
    def dist(t: float) -> float:
        e1, r1, _ = _state(s1, jd, fr, t)
        e2, r2, _ = _state(s2, jd, fr, t)
        return math.inf if (e1 or e2) else math.dist(r1, r2)

    return _polish(s1, s2, jd, fr, golden_section_min(dist, lo, hi, TCA_TOLERANCE_S))


GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0  # 1/phi: each step keeps this fraction of the bracket


def golden_section_min(f: Callable[[float], float], lo: float, hi: float, tol: float, max_iter: int = 200) -> float:
    """Abscissa of the minimum of a unimodal ``f`` on [lo, hi] by golden-section search (Kiefer 1953;
    Press et al., Numerical Recipes 3rd ed., section 10.2): the bracket shrinks by 1/phi per
    evaluation until it is at most ``tol`` wide (or ``max_iter`` steps, a guard for a ``tol`` below
    the floating-point spacing at ``lo``); returns the bracket's midpoint. ``f`` may return ``inf``
    where it is undefined (an SGP4 failure): such points are never chosen over finite ones."""
    a, b = lo, hi
    c, d = b - GOLDEN * (b - a), a + GOLDEN * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(max_iter):
        if b - a <= tol:
            break
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - GOLDEN * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + GOLDEN * (b - a)
            fd = f(d)
    return 0.5 * (a + b)


def distances(s1: Satrec, s2: Satrec, jd: float, fr: float, t: np.ndarray) -> np.ndarray:
    """True distance (km) at seconds ``t`` after (jd, fr); NaN where SGP4 fails."""
    jds = np.full(t.shape, jd)
    frs = fr + t / SECONDS_PER_DAY
    e1, r1, _ = s1.sgp4_array(jds, frs)
    e2, r2, _ = s2.sgp4_array(jds, frs)
    d = np.linalg.norm(r2 - r1, axis=-1)
    d[(e1 != 0) | (e2 != 0)] = np.nan
    return d
