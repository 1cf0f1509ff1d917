"""Close approaches of small bodies to Earth, the Moon or a planet, named as JPL CNEOS names them.

Method: all objects of a chunk are test particles of one ASSIST simulation (the planetary
ephemeris is evaluated once per step for all of them). Objects are first carried from their own
epochs to the window start (backwards and forwards sweeps that pick objects up at their
epochs), then the simulation steps through the window on an output grid (IAS15 dense output,
``step_days``). A sign change of the range rate r.v from - to + between two grid points brackets
a local minimum of the distance; a cubic Hermite estimate of that minimum decides whether it can
be below ``max_dist_au``, and each such minimum is refined on its own one-particle simulation
(Brent's method on r.v, TCA to 1e-9 day). Times are TDB Julian dates, as in CNEOS's tables.

``close_approaches_sieved`` (the default of ``close_approaches_parallel``) gives each object's
one-object result faster: a two-body search (``approach_search``) bounds the distance from below
on every grid interval, and the n-body search above runs only on the intervals where that bound
is below ``max_dist_au`` plus a measured margin (``TWO_BODY_MARGIN_AU``).

Uncertainty (``dist_min``/``dist_max``, ``t_sigma_f``) needs an orbit covariance: the 3-sigma
range comes from linear mapping (central differences along the covariance's principal axes at
+-1 sigma, each difference orbit refined to its own minimum)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

import numpy as np

from ..constants import AU_KM, AU_PER_DAY_KM_S, GM_DE440_KM3_S2, LUNAR_DISTANCE_AU
from ..errors import InputError, parse_choice
from .nbody import DEFAULT_SETTINGS, Integrator, NBodySettings, body_state, heliocentric_to_barycentric
from .orbit import SmallBodyOrbit, heliocentric_states

BODIES = tuple(GM_DE440_KM3_S2)


class UncertaintyMethod(StrEnum):
    """How an approach's uncertainty is mapped from the orbit covariance (``approach_uncertainty``)."""

    LINEAR = "linear"
    SAMPLING = "sampling"


@dataclass(frozen=True)
class CloseApproach:
    """One close approach; field names and units follow CNEOS's close-approach data API."""

    des: str
    orbit_id: str
    body: str
    jd: float  # TDB
    dist: float  # au, nominal
    v_rel: float  # km/s at TCA
    v_inf: float  # km/s, relative to a massless body (two-body energy)
    h: float | None
    dist_min: float | None = None  # au, 3-sigma
    dist_max: float | None = None
    t_sigma: float | None = None  # days, 3-sigma TCA uncertainty
    rel_state_km: tuple[float, ...] = ()  # object minus body at TCA, ICRF, km and km/s

    @property
    def cd(self) -> str:
        """Calendar date of TCA in TDB, CNEOS style (``2029-Apr-13 21:46``)."""
        t = datetime(2000, 1, 1) + timedelta(minutes=round((self.jd - 2451544.5) * 1440.0))
        return t.strftime("%Y-%b-%d %H:%M")

    @property
    def t_sigma_f(self) -> str:
        """3-sigma TCA uncertainty as CNEOS formats it (``< 00:01``, ``00:05``, ``3_08:05``)."""
        if self.t_sigma is None:
            return ""
        minutes = round(self.t_sigma * 1440.0)
        if minutes < 1:
            return "< 00:01"
        days, rem = divmod(minutes, 1440)
        hhmm = f"{rem // 60:02d}:{rem % 60:02d}"
        return f"{days}_{hhmm}" if days else hhmm

    @property
    def dist_km(self) -> float:
        return self.dist * AU_KM

    @property
    def dist_ld(self) -> float:
        return self.dist / LUNAR_DISTANCE_AU

    def row(self) -> dict:
        """CNEOS fields plus body, km and lunar distances."""
        return {
            "des": self.des,
            "orbit_id": self.orbit_id,
            "body": self.body,
            "jd": f"{self.jd:.9f}",
            "cd": self.cd,
            "dist": f"{self.dist:.12g}",
            "dist_min": "" if self.dist_min is None else f"{self.dist_min:.12g}",
            "dist_max": "" if self.dist_max is None else f"{self.dist_max:.12g}",
            "v_rel": f"{self.v_rel:.9g}",
            "v_inf": f"{self.v_inf:.9g}",
            "t_sigma_f": self.t_sigma_f,
            "h": "" if self.h is None else self.h,
            "dist_km": f"{self.dist_km:.3f}",
            "dist_ld": f"{self.dist_ld:.4f}",
        }


def v_infinity(v_rel_km_s: float, dist_km: float, body: str = "earth") -> float:
    """Hyperbolic excess speed from the speed at closest approach (two-body energy)."""
    return math.sqrt(max(v_rel_km_s**2 - 2.0 * GM_DE440_KM3_S2[body] / dist_km, 0.0))


def states_at(
    jd_tdb: float,
    epochs: np.ndarray,
    states: np.ndarray,
    nongrav: np.ndarray,
    settings: NBodySettings = DEFAULT_SETTINGS,
) -> np.ndarray:
    """Barycentric states of objects given at their own epochs, all carried to ``jd_tdb``.

    One simulation per direction: it starts with the objects farthest from ``jd_tdb`` and
    picks up the others as it passes their epochs."""
    out = np.empty_like(states)
    epochs = np.asarray(epochs, float)
    for side in (epochs >= jd_tdb, epochs < jd_tdb):
        idx = np.flatnonzero(side)
        if idx.size == 0:
            continue
        idx = idx[np.argsort(-np.abs(epochs[idx] - jd_tdb), kind="stable")]
        integ: Integrator | None = None
        for ep in dict.fromkeys(epochs[idx]):
            members = idx[epochs[idx] == ep]
            if integ is None:
                integ = Integrator(ep, states[members], nongrav[members], settings)
            else:
                integ.integrate(ep)
                integ.add(states[members], nongrav[members])
        assert integ is not None
        integ.integrate(jd_tdb)
        out[idx] = integ.states()
    return out


_S = np.linspace(0.0, 1.0, 129)[:, None]
_HERMITE = (2 * _S**3 - 3 * _S**2 + 1, _S**3 - 2 * _S**2 + _S, -2 * _S**3 + 3 * _S**2, _S**3 - _S**2)


def _hermite_min(r0, v0, r1, v1, h: float) -> tuple[float, float]:
    """Smallest |r| of the cubic Hermite through (r0, v0) and (r1, v1) over a step h, and the
    fraction of the step where it occurs."""
    h00, h10, h01, h11 = _HERMITE
    p = h00 * r0 + h10 * h * v0 + h01 * r1 + h11 * h * v1
    d = np.sqrt((p * p).sum(1))
    k = int(np.argmin(d))
    return float(d[k]), float(_S[k, 0])


@lru_cache(maxsize=8192)
def _grid_body_state(body: str, jd: float) -> np.ndarray:
    """Body states on the output grid, shared by the chunks a worker runs."""
    return body_state(body, jd)


def _relative(state: np.ndarray, body: str, jd: float) -> np.ndarray:
    return state - body_state(body, jd)


def refine_minimum(
    jd0: float,
    state0: np.ndarray,
    nongrav: np.ndarray | None,
    jd_a: float,
    jd_b: float,
    body: str,
    settings: NBodySettings = DEFAULT_SETTINGS,
    guess: float | None = None,
) -> tuple[float, np.ndarray]:
    """TCA (TDB JD) and relative state (au, au/day) of the minimum bracketed by [jd_a, jd_b],
    integrating the full force model from the barycentric state ``state0`` at ``jd0``.

    Secant iterations on the range rate from ``guess`` (usually 3-5 evaluations); Brent's method
    on the whole bracket if they leave it."""
    integ = Integrator(jd0, state0[None, :], None if nongrav is None else nongrav[None, :], settings)

    def range_rate(t: float) -> float:
        integ.integrate(t)
        rel = _relative(integ.states()[0], body, t)
        return float(rel[:3] @ rel[3:])

    tca = None
    if guess is not None:
        t0, t1 = guess, min(guess + 1e-4, jd_b)
        f0, f1 = range_rate(t0), range_rate(t1)
        for _ in range(12):
            if f1 == f0:
                break
            t2 = t1 - f1 * (t1 - t0) / (f1 - f0)
            if not jd_a <= t2 <= jd_b:
                break
            t0, f0, t1, f1 = t1, f1, t2, range_rate(t2)
            if abs(t1 - t0) < 1e-9:
                tca = t1
                break
    if tca is None:
        from scipy.optimize import brentq  # only here: importing scipy costs a pool worker ~0.8 s

        tca = brentq(range_rate, jd_a, jd_b, xtol=1e-9, rtol=4 * np.finfo(float).eps)
    integ.integrate(tca)
    return tca, _relative(integ.states()[0], body, tca)


def _output_grid(anchor: float, stop: float, step_days: float) -> np.ndarray:
    """The search pass's output grid from ``anchor`` to ``stop`` (either way), steps <= ``step_days``."""
    return np.linspace(anchor, stop, max(2, math.ceil(abs(stop - anchor) / step_days) + 1))


def _sweep(
    integ: Integrator,
    grid: np.ndarray,
    prev: np.ndarray,
    orbits: list[SmallBodyOrbit],
    nongrav: np.ndarray,
    body: str,
    max_dist_au: float,
    settings: NBodySettings,
    found: list[CloseApproach],
    lead_days: float | None = None,
) -> np.ndarray:
    """Step ``integ`` (standing at ``grid[0]`` with states ``prev``) along ``grid``; every minimum
    below ``max_dist_au`` bracketed on the way is refined and appended to ``found``.
    Returns the states at ``grid[-1]``.

    The refinement integrates the full model from the grid point before the minimum; with
    ``lead_days`` it starts ``lead_days`` before the estimated minimum instead, carried there with
    ``integ``'s (search) settings: the full model's cost near an encounter is then paid over
    hours instead of up to a step."""
    prev_rel = prev - _grid_body_state(body, grid[0])
    for t_prev, t in zip(grid[:-1], grid[1:], strict=True):
        integ.integrate(t, exact=False)
        cur = integ.states()
        rel = cur - _grid_body_state(body, t)
        rr_prev = (prev_rel[:, :3] * prev_rel[:, 3:]).sum(1)
        rr = (rel[:, :3] * rel[:, 3:]).sum(1)
        # a minimum lies between the earlier time (range rate < 0) and the later (>= 0)
        bracketed = (rr_prev < 0.0) & (rr >= 0.0) if t > t_prev else (rr < 0.0) & (rr_prev >= 0.0)
        for k in np.flatnonzero(bracketed):
            estimate, frac = _hermite_min(prev_rel[k, :3], prev_rel[k, 3:], rel[k, :3], rel[k, 3:], t - t_prev)
            if estimate > max_dist_au * 1.05 + 1e-4:
                continue
            lo, hi = min(t, t_prev), max(t, t_prev)
            guess = t_prev + frac * (t - t_prev)
            jd0, state0 = t_prev, prev[k]
            if lead_days is not None:
                lead = guess - math.copysign(lead_days, t - t_prev)
                if (lead - t_prev) * (t - t_prev) > 0.0:
                    carry = Integrator(t_prev, prev[k : k + 1], nongrav[k : k + 1], integ.settings)
                    carry.integrate(lead)
                    jd0, state0 = lead, carry.states()[0]
            tca, rel_tca = refine_minimum(jd0, state0, nongrav[k], lo, hi, body, settings, guess)
            if np.linalg.norm(rel_tca[:3]) <= max_dist_au:
                found.append(_approach(orbits[k], body, tca, rel_tca))
        prev, prev_rel = cur, rel
    return prev


def close_approaches(
    orbits: list[SmallBodyOrbit],
    start_jd: float,
    end_jd: float,
    body: str = "earth",
    max_dist_au: float = 0.05,
    step_days: float = 2.0,
    settings: NBodySettings = DEFAULT_SETTINGS,
) -> list[CloseApproach]:
    """Every local minimum of distance to ``body`` below ``max_dist_au`` with TCA in the window.

    The search pass integrates with GR from the Sun only (the planets' GR terms cost half the
    time and move an orbit by metres between encounters); each bracketed minimum is then
    integrated with ``settings``, the full force model, from the grid point before it."""
    body = body.lower()
    if body not in GM_DE440_KM3_S2:
        raise InputError(f"unknown body {body!r}; one of {', '.join(BODIES)}")
    if not orbits:
        return []
    epochs = np.array([o.epoch_jd_tdb for o in orbits])
    nongrav = np.array([o.nongrav for o in orbits], float)
    bary = heliocentric_to_barycentric(heliocentric_states(orbits), epochs)
    search = replace(settings, gr_sources=1, epsilon=1e-8)
    # Anchor inside the window at the objects' typical epoch, then search backwards and forwards.
    anchor = float(np.clip(np.median(epochs), start_jd, end_jd))
    anchor_states = states_at(anchor, epochs, bary, nongrav, search)
    found: list[CloseApproach] = []
    for stop in (start_jd, end_jd):
        if stop == anchor:
            continue
        integ = Integrator(anchor, anchor_states, nongrav, search)
        grid = _output_grid(anchor, stop, step_days)
        _sweep(integ, grid, anchor_states, orbits, nongrav, body, max_dist_au, settings, found)
    by_des = {o.designation: o for o in orbits if o.covariance is not None}
    found = [approach_uncertainty(by_des[a.des], a, settings) if a.des in by_des else a for a in found]
    found.sort(key=lambda a: a.jd)
    return found


TWO_BODY_MARGIN_AU = 0.02
"""Margin of the two-body search (:func:`close_approaches_sieved`): 3.6 times the largest error of
the two-body model up to the day an object first comes within 0.05 au of Earth (or passes within
``PERTURBER_RADII_AU`` of Venus or Mars), counted from an exact state: 5.5e-3 au (2018 PN22) over
all 4,226 NEOs of the 2020 SBDB extract through 2020, 99 % below 2.8e-3 au, median 2.3e-4 au
(``benchmarks/neo_search_margin.py``)."""


PERTURBER_RADII_AU = {"venus": 0.05, "earth": 0.05, "mars": 0.05}
"""Passes this close to these planets also stop the two-body search (the n-body search runs through
them and the two-body search restarts after): a deep encounter bends the orbit more than the
margin. Measured: 2020 HX2 passes Venus at 0.0027 au on 2020-06-26, after which its two-body
error reached 1.3e-2 au; at 0.05 au from Venus the kick (2 GM / (b v)) is ~3e-6 au/day, 6e-4 au
after 200 days. Earth counts when the body is another (the Moon)."""


REFINE_LEAD_DAYS = 0.05
"""Where the sieve's refinements start: 0.05 day (72 min) before the estimated minimum, carried
there with the search settings (not from the grid point up to 2 days before, as the exact path
does). Measured on the 119 refinements of 529 NEOs (every 8th of the 2020 extract): 40 % less time,
TCA within 0.001 s and distance within 1 m of the exact path's refinement; over all 999 approaches of
the 4,226 NEOs in 2020: 0.002 s and 2.3 m (benchmarks/neo_close_approaches.py)."""


class ApproachSearch(StrEnum):
    """How :func:`close_approaches_parallel` looks for minima."""

    NBODY = "n-body"  # every object on the n-body output grid over the whole window
    TWO_BODY_SIEVE = "two-body-sieve"  # two-body search first; n-body only where it may come close


_TABLE_STEP_DAYS = 0.25


@lru_cache(maxsize=8)
def _heliocentric_table(body: str, start_jd: float, end_jd: float) -> tuple[np.ndarray, np.ndarray]:
    """Heliocentric states (n, 6) of ``body`` every 0.25 day over the window (DE440), for the
    two-body search's interpolation (``approach_search.hermite_states``)."""
    t = np.linspace(start_jd, end_jd, math.ceil((end_jd - start_jd) / _TABLE_STEP_DAYS) + 1)
    return t, np.array([body_state(body, x) - body_state("sun", x) for x in t])


@lru_cache(maxsize=1024)
def _target_on_grid(
    body: str, start_jd: float, end_jd: float, anchor: float, stop: float, step_days: float
) -> np.ndarray:
    """Heliocentric states (m, 6) of ``body`` on an output grid (shared by objects of one epoch)."""
    from .approach_search import hermite_states

    return hermite_states(*_heliocentric_table(body, start_jd, end_jd), _output_grid(anchor, stop, step_days))


def close_approaches_sieved(
    orbits: list[SmallBodyOrbit],
    start_jd: float,
    end_jd: float,
    body: str = "earth",
    max_dist_au: float = 0.05,
    step_days: float = 2.0,
    settings: NBodySettings = DEFAULT_SETTINGS,
    margin_au: float = TWO_BODY_MARGIN_AU,
    stats: dict[str, float] | None = None,
) -> list[CloseApproach]:
    """The approaches :func:`close_approaches` finds for each object on its own, found faster.

    Each object is anchored and carried as in a one-object :func:`close_approaches` run; from the
    anchor, each way, a two-body (Kepler) search over the same output grid bounds the distance to
    ``body`` from below on every grid interval (``approach_search``). Where the bound stays above
    ``max_dist_au + margin_au`` nothing is integrated; the n-body search runs from the grid point
    before the first interval below it (one jump of the same IAS15 integration, dense output)
    through the run of such intervals, and the two-body search starts again from the n-body state
    at its end (the two-body model is not trusted past an encounter). Minima inside the swept
    intervals are bracketed and refined exactly as :func:`close_approaches` does.

    ``stats`` (optional) receives counts: objects, carried objects, swept grid intervals, all grid
    intervals."""
    from .approach_search import first_flagged_run, interval_lower_bounds, kepler_states

    body = body.lower()
    if body not in GM_DE440_KM3_S2:
        raise InputError(f"unknown body {body!r}; one of {', '.join(BODIES)}")
    if margin_au < 0:
        raise InputError(f"margin_au {margin_au} must be >= 0")
    counts = {"objects": len(orbits), "carried": 0, "swept_intervals": 0, "intervals": 0, "n_body_objects": 0}
    if not orbits:
        return []
    epochs = np.array([o.epoch_jd_tdb for o in orbits])
    nongrav = np.array([o.nongrav for o in orbits], float)
    bary = heliocentric_to_barycentric(heliocentric_states(orbits), epochs)
    search = replace(settings, gr_sources=1, epsilon=1e-8)
    limit = max_dist_au + margin_au
    found: list[CloseApproach] = []
    for n, orbit in enumerate(orbits):
        ng = nongrav[n : n + 1]
        anchor = float(np.clip(epochs[n], start_jd, end_jd))
        state = bary[n : n + 1]
        if anchor != epochs[n]:
            state = states_at(anchor, epochs[n : n + 1], state, ng, search)
            counts["carried"] += 1
        swept_before = counts["swept_intervals"]
        for stop in (start_jd, end_jd):
            if stop == anchor:
                continue
            grid = _output_grid(anchor, stop, step_days)
            target = _target_on_grid(body, start_jd, end_jd, anchor, stop, step_days)
            others = [
                (_target_on_grid(p, start_jd, end_jd, anchor, stop, step_days), radius)
                for p, radius in PERTURBER_RADII_AU.items()
                if p != body
            ]
            counts["intervals"] += grid.size - 1
            integ: Integrator | None = None
            k, cur = 0, state
            while k < grid.size - 1:
                kep = kepler_states(cur - body_state("sun", grid[k]), grid[k:] - grid[k])[0]
                # below zero: may come within the limit of the body, or close enough to a planet
                # for the two-body model to be wrong afterwards (NaN propagates: searched)
                lower = interval_lower_bounds(kep - target[k:], grid[k:]) - limit
                for other, radius in others:
                    lower = np.minimum(lower, interval_lower_bounds(kep - other[k:], grid[k:]) - radius)
                i, j = first_flagged_run(lower, 0.0)
                if i < 0:
                    break
                i, j = k + i, k + j
                if integ is None:
                    integ = Integrator(anchor, state, ng, search)
                if i > k:  # dense output: the same IAS15 steps as a sweep through every grid point
                    integ.integrate(grid[i], exact=False)
                    cur = integ.states()
                cur = _sweep(
                    integ, grid[i : j + 1], cur, [orbit], ng, body, max_dist_au, settings, found, REFINE_LEAD_DAYS
                )
                counts["swept_intervals"] += j - i
                k = j
        counts["n_body_objects"] += counts["swept_intervals"] > swept_before
    if stats is not None:
        for key, value in counts.items():
            stats[key] = stats.get(key, 0) + value
    by_des = {o.designation: o for o in orbits if o.covariance is not None}
    found = [approach_uncertainty(by_des[a.des], a, settings) if a.des in by_des else a for a in found]
    found.sort(key=lambda a: a.jd)
    return found


def _approach(orbit: SmallBodyOrbit, body: str, tca: float, rel_tca: np.ndarray) -> CloseApproach:
    dist = float(np.linalg.norm(rel_tca[:3]))
    v_rel = float(np.linalg.norm(rel_tca[3:])) * AU_PER_DAY_KM_S
    rel_km = np.concatenate([rel_tca[:3] * AU_KM, rel_tca[3:] * AU_PER_DAY_KM_S])
    return CloseApproach(
        des=orbit.designation,
        orbit_id=orbit.orbit_id,
        body=body,
        jd=tca,
        dist=dist,
        v_rel=v_rel,
        v_inf=v_infinity(v_rel, dist * AU_KM, body),
        h=orbit.h_mag,
        rel_state_km=tuple(float(x) for x in rel_km),
    )


def approach_uncertainty(
    orbit: SmallBodyOrbit,
    approach: CloseApproach,
    settings: NBodySettings = DEFAULT_SETTINGS,
    method: UncertaintyMethod | str = UncertaintyMethod.LINEAR,
    samples: int = 200,
    seed: int = 1,
) -> CloseApproach:
    """The approach with its 3-sigma distance range and TCA uncertainty from the orbit's covariance.

    ``linear``: central differences along the covariance's principal axes (+-1 sigma), each
    difference orbit refined to its own minimum; sigma^2 = sum of squared half-differences.
    ``sampling``: ``samples`` orbits drawn from the covariance; mean +- 3 standard deviations."""
    from .orbit import cartesian_covariance

    method = parse_choice(UncertaintyMethod, method, "uncertainty method")
    helio, cov = cartesian_covariance(orbit)
    nominal = heliocentric_to_barycentric(helio, orbit.epoch_jd_tdb)[0]
    w, V = np.linalg.eigh(0.5 * (cov + cov.T))
    L = V * np.sqrt(np.clip(w, 0.0, None))
    if method is UncertaintyMethod.LINEAR:
        states = np.array([nominal + sign * L[:, k] for k in range(6) for sign in (1.0, -1.0)])
    else:
        states = nominal + np.random.default_rng(seed).standard_normal((samples, 6)) @ L.T
    nongrav = np.array(orbit.nongrav, float)
    lo, hi = approach.jd - 1.0, approach.jd + 1.0
    integ = Integrator(orbit.epoch_jd_tdb, states, np.repeat(nongrav[None], len(states), axis=0), settings)
    integ.integrate(lo)
    dist, tca = [], []
    for s in integ.states():
        try:
            t, rel = refine_minimum(lo, s, nongrav, lo, hi, approach.body, settings, guess=approach.jd)
        except ValueError:  # no minimum inside +-1 day: the linear picture does not hold
            return approach
        dist.append(float(np.linalg.norm(rel[:3])))
        tca.append(t)
    dist_a, tca_a = np.array(dist), np.array(tca)
    if method is UncertaintyMethod.LINEAR:
        sd = math.sqrt(float(((dist_a[0::2] - dist_a[1::2]) / 2) @ ((dist_a[0::2] - dist_a[1::2]) / 2)))
        st = math.sqrt(float(((tca_a[0::2] - tca_a[1::2]) / 2) @ ((tca_a[0::2] - tca_a[1::2]) / 2)))
    else:
        sd, st = float(dist_a.std(ddof=1)), float(tca_a.std(ddof=1))
    return replace(approach, dist_min=max(approach.dist - 3 * sd, 0.0), dist_max=approach.dist + 3 * sd, t_sigma=3 * st)


def _chunk(orbits: list[SmallBodyOrbit], params: tuple, index: int) -> tuple[int, list[CloseApproach], dict]:
    start_jd, end_jd, body, max_dist_au, step_days, settings, chunk_size, search, margin_au = params
    part = orbits[index * chunk_size : (index + 1) * chunk_size]
    stats: dict[str, float] = {}
    if search is ApproachSearch.TWO_BODY_SIEVE:
        rows = close_approaches_sieved(part, start_jd, end_jd, body, max_dist_au, step_days, settings, margin_au, stats)
    else:
        rows = close_approaches(part, start_jd, end_jd, body, max_dist_au, step_days, settings)
    return index, rows, stats


def close_approaches_parallel(
    orbits: list[SmallBodyOrbit],
    start_jd: float,
    end_jd: float,
    body: str = "earth",
    max_dist_au: float = 0.05,
    step_days: float = 2.0,
    settings: NBodySettings = DEFAULT_SETTINGS,
    *,
    workers: int | None = None,
    dask_address: str | None = None,
    chunk_size: int | None = None,
    on_chunk: Callable[[int], None] | None = None,
    search: ApproachSearch | str = ApproachSearch.TWO_BODY_SIEVE,
    margin_au: float = TWO_BODY_MARGIN_AU,
    stats: dict[str, float] | None = None,
) -> list[CloseApproach]:
    """Close approaches of many objects on a local process pool or Dask, in chunks.
    ``on_chunk(n_objects)`` is called as each chunk finishes (progress).

    ``search``: ``two-body-sieve`` (default) runs :func:`close_approaches_sieved` on chunks of 32
    objects: the approaches each object has on its own. ``n-body`` runs :func:`close_approaches`
    on chunks of 8 objects that share one simulation (results within metres of one-object runs).
    ``stats`` (optional, sieve only) receives the sieve's counts summed over chunks."""
    from ..parallel import map_chunks

    search = parse_choice(ApproachSearch, search, "search")
    chunk_size = chunk_size or (32 if search is ApproachSearch.TWO_BODY_SIEVE else 8)
    # Objects of one chunk share IAS15 steps: keep similar orbits together (perihelion distance).
    orbits = sorted(orbits, key=lambda o: o.q_au if o.q_au is not None else (o.a_au or 1.0) * (1 - o.e))
    n_chunks = math.ceil(len(orbits) / chunk_size)
    found: list[CloseApproach] = []
    sizes = [min(chunk_size, len(orbits) - i * chunk_size) for i in range(n_chunks)]

    def collect(result: tuple[int, list[CloseApproach], dict]) -> None:
        index, rows, chunk_stats = result
        found.extend(rows)
        if stats is not None:
            for key, value in chunk_stats.items():
                stats[key] = stats.get(key, 0) + value
        if on_chunk:
            on_chunk(sizes[index])

    map_chunks(
        _chunk,
        orbits,
        (start_jd, end_jd, body, max_dist_au, step_days, settings, chunk_size, search, margin_au),
        list(range(n_chunks)),
        collect,
        workers=workers,
        dask_address=dask_address,
    )
    found.sort(key=lambda a: (a.jd, a.des))
    return found
