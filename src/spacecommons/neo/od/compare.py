"""Comparison of a fitted orbit with a reference solution (JPL SBDB) at a common epoch, and of the
close approach both predict.

The reference's covariance (SBDB: cometary elements e, q, tp, node, peri, i and the estimated
A_k) is mapped to heliocentric ICRF Cartesian coordinates by a central-difference Jacobian of the
project's element conversion (the same mapping as ``neo.orbit.cartesian_covariance``), keeping the
A_k rows. The fitted state is carried to the reference's epoch with the fit's own force model when
the epochs differ. Position agreement is the Mahalanobis distance of the position difference in
the reference's 3x3 position covariance (a distance below 1 is "within 1 sigma"; with three
dimensions, about 20 % of draws from the reference's own distribution lie within it, so the
per-axis differences in sigma are reported too).

Encounter distances: the minimum distance to the Earth near a given time (``neo.approaches``
``refine_minimum``), its 1-sigma from the linear map of each covariance (central differences along
the principal axes of state + free A_k, +-1 sigma). Units: au, au/day, TDB Julian dates, km."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...constants import AU_KM
from ...errors import InputError
from ..nbody import DEFAULT_SETTINGS, NBodySettings, heliocentric_to_barycentric
from ..orbit import SmallBodyOrbit, heliocentric_states
from .fit import NONGRAV_NAMES, OrbitFit


@dataclass(frozen=True)
class ReferenceSolution:
    """A reference orbit as barycentric state (6,) at its epoch with a covariance of the state
    and its estimated A_k (labels ``names``)."""

    epoch_jd_tdb: float
    state: np.ndarray
    nongrav: np.ndarray
    covariance: np.ndarray
    names: tuple[str, ...]  # x, y, z, vx, vy, vz, then A_k

    def sigma(self, name: str) -> float:
        k = self.names.index(name)
        return float(np.sqrt(self.covariance[k, k]))


def reference_solution(orbit: SmallBodyOrbit) -> ReferenceSolution:
    """The SBDB orbit (its covariance epoch and cometary element set) as a
    :class:`ReferenceSolution`."""
    from ..elements import cometary_to_state
    from ..orbit import ecliptic_to_equatorial

    labels = list(orbit.covariance_labels)
    if orbit.covariance is None or not all(k in labels for k in ("e", "q", "tp", "node", "peri", "i")):
        raise InputError(f"{orbit.designation}: the orbit has no cometary covariance (SBDB API with cov=mat)")
    x0 = np.array([orbit.e, orbit.q_au, orbit.tp_jd_tdb, orbit.om_deg, orbit.w_deg, orbit.i_deg], float)
    idx = [labels.index(k) for k in ("e", "q", "tp", "node", "peri", "i")]
    ng_names = tuple(n for n in NONGRAV_NAMES if n in labels)
    idx += [labels.index(n) for n in ng_names]
    cov_el = np.asarray(orbit.covariance, float)[np.ix_(idx, idx)]
    sig = np.sqrt(np.diag(cov_el))[:6]

    def state(x):
        s = cometary_to_state(x[1], x[0], x[5], x[3], x[4], x[2], orbit.epoch_jd_tdb)
        return ecliptic_to_equatorial(s)[0]

    p = 6 + len(ng_names)
    jac = np.eye(p)
    for j in range(6):
        d = np.zeros(6)
        d[j] = 0.1 * sig[j]
        jac[:6, j] = (state(x0 + d) - state(x0 - d)) / (2 * d[j])
    helio = heliocentric_states([orbit])[0]
    return ReferenceSolution(
        epoch_jd_tdb=float(orbit.epoch_jd_tdb),
        state=heliocentric_to_barycentric(helio, orbit.epoch_jd_tdb)[0],
        nongrav=np.asarray(orbit.nongrav, float),
        covariance=jac @ cov_el @ jac.T,
        names=("x", "y", "z", "vx", "vy", "vz", *ng_names),
    )


def fit_solution(fit: OrbitFit) -> ReferenceSolution:
    """A fit in the same form as a reference."""
    return ReferenceSolution(
        fit.epoch_jd_tdb, fit.state, fit.nongrav, fit.covariance, ("x", "y", "z", "vx", "vy", "vz", *fit.nongrav_free)
    )


@dataclass(frozen=True)
class Comparison:
    """Differences fit - reference at the reference's epoch."""

    position_km: np.ndarray  # (3,)
    position_sigma_km: np.ndarray  # reference 1-sigma per axis
    position_mahalanobis: float  # sqrt(d^T C^-1 d) with the reference's position covariance
    velocity_mahalanobis: float
    nongrav: dict[str, tuple[float, float, float, float]]  # name: (fit, fit sigma, ref, ref sigma)

    def nongrav_in_ref_sigma(self, name: str) -> float:
        f, _, r, rs = self.nongrav[name]
        return (f - r) / rs


def compare_with_reference(fit: OrbitFit, ref: ReferenceSolution) -> Comparison:
    """The fit against the reference at the reference's epoch (the fit carried there with its own
    force model when the epochs differ)."""
    state = fit.state
    if fit.epoch_jd_tdb != ref.epoch_jd_tdb:
        from .variational import propagate_with_partials

        state = propagate_with_partials(fit.epoch_jd_tdb, fit.state, np.array([ref.epoch_jd_tdb]), fit.nongrav)[0][0]
    d = state - ref.state
    cp = ref.covariance[:3, :3]
    cv = ref.covariance[3:6, 3:6]
    ng = {}
    for k, name in enumerate(fit.nongrav_free):
        j = NONGRAV_NAMES.index(name)
        fs = float(np.sqrt(fit.covariance[6 + k, 6 + k]))
        rs = ref.sigma(name) if name in ref.names else float("nan")
        ng[name] = (float(fit.nongrav[j]), fs, float(ref.nongrav[j]), rs)
    return Comparison(
        position_km=d[:3] * AU_KM,
        position_sigma_km=np.sqrt(np.diag(cp)) * AU_KM,
        position_mahalanobis=float(np.sqrt(d[:3] @ np.linalg.solve(cp, d[:3]))),
        velocity_mahalanobis=float(np.sqrt(d[3:] @ np.linalg.solve(cv, d[3:]))),
        nongrav=ng,
    )


def encounter_distance(
    sol: ReferenceSolution,
    jd_guess: float,
    body: str = "earth",
    window_days: float = 1.0,
    settings: NBodySettings = DEFAULT_SETTINGS,
) -> tuple[float, float, float]:
    """Minimum distance (km) to ``body`` within ``window_days`` of ``jd_guess``, its linear
    1-sigma (km) from the solution's covariance (state and estimated A_k), and the TCA (TDB JD)."""
    from ..approaches import refine_minimum
    from ..nbody import Integrator

    lo, hi = jd_guess - window_days, jd_guess + window_days
    free = [NONGRAV_NAMES.index(n) for n in sol.names[6:]]
    cov = 0.5 * (sol.covariance + sol.covariance.T)
    w, v = np.linalg.eigh(cov)
    axes = v * np.sqrt(np.clip(w, 0.0, None))
    params = [np.concatenate([sol.state, sol.nongrav])]
    for k in range(axes.shape[1]):
        for sign in (1.0, -1.0):
            x = np.concatenate([sol.state, sol.nongrav])
            x[:6] += sign * axes[:6, k]
            for m, j in enumerate(free):
                x[6 + j] += sign * axes[6 + m, k]
            params.append(x)
    params = np.array(params)
    integ = Integrator(sol.epoch_jd_tdb, params[:, :6], params[:, 6:], settings)
    integ.integrate(lo)
    starts = integ.states()
    dist, tca = [], []
    for s, p in zip(starts, params, strict=True):
        t, rel = refine_minimum(lo, s, p[6:], lo, hi, body, settings, guess=jd_guess)
        dist.append(float(np.linalg.norm(rel[:3])) * AU_KM)
        tca.append(t)
    d = np.array(dist[1:])
    sigma = float(np.sqrt(np.sum(((d[0::2] - d[1::2]) / 2) ** 2)))
    return dist[0], sigma, tca[0]


@dataclass(frozen=True)
class NongravAtFixedState:
    """A reference state held fixed and only the A_k solved for against the observations: the
    test of whether another solution's orbit is consistent with the data under this force model
    (differences of force model that act like a radial or transverse 1/r^2 acceleration are
    absorbed by A1, A2; anything else shows in the residuals)."""

    nongrav: np.ndarray  # (3,) A1, A2, A3 (au/day^2), the free ones solved for
    sigma: dict[str, float]  # 1-sigma of each free A_k (au/day^2)
    residual_ra_arcsec: np.ndarray  # optical O - C, RA cos(Dec)
    residual_dec_arcsec: np.ndarray
    radar_normalized: np.ndarray  # radar (O - C) / sigma
    iterations: int


def nongrav_at_fixed_state(
    arc,
    epoch_jd_tdb: float,
    state: np.ndarray,
    nongrav: np.ndarray,
    free: tuple[str, ...] = ("A1", "A2"),
    radar=None,
    settings: NBodySettings = DEFAULT_SETTINGS,
    iterations: int = 4,
) -> NongravAtFixedState:
    """Gauss-Newton on the free A_k alone (state at ``epoch_jd_tdb`` held), with the fit's own
    measurement model, weights and partials (``neo.od.fit``); no outlier rejection."""
    from .fit import ARCSEC_RAD, _model, _Problem

    free_idx = tuple(NONGRAV_NAMES.index(n) for n in free)
    ng = np.asarray(nongrav, float).copy()
    x = np.concatenate([np.asarray(state, float), ng[list(free_idx)]])
    sigma = np.stack([arc.sigma_ra_arcsec, arc.sigma_dec_arcsec], axis=1)
    problem = _Problem(arc, radar, sigma, np.ones(len(arc), bool))
    tau = np.zeros(len(arc))
    rtau = None if radar is None else (np.zeros(len(radar)), np.zeros(len(radar)))
    cov = np.full((len(free), len(free)), np.nan)
    for _ in range(iterations + 1):
        m = _model(arc, epoch_jd_tdb, x, ng, free_idx, tau, settings, radar, rtau, True)
        tau = m.tau
        rtau = None if radar is None else (m.radar.tau_down, m.radar.tau_up)
        res, rres = problem.residuals(m)
        w = 1.0 / (sigma * ARCSEC_RAD) ** 2
        a = m.a[:, :, 6:]
        normal = np.einsum("nkp,nk,nkq->pq", a, w, a)
        rhs = np.einsum("nkp,nk,nk->p", a, w, res * ARCSEC_RAD)
        if radar is not None:
            b = m.radar.partials[:, 6:] / radar.sigma[:, None]
            normal = normal + b.T @ b
            rhs = rhs + b.T @ (rres / radar.sigma)
        cov = np.linalg.inv(normal)
        x[6:] += cov @ rhs
        for k, j in enumerate(free_idx):
            ng[j] = x[6 + k]
    # the A_k and residuals of the last evaluation (the step after it is a small fraction of a sigma)
    return NongravAtFixedState(
        nongrav=m.ng.copy(),
        sigma={n: float(np.sqrt(cov[k, k])) for k, n in enumerate(free)},
        residual_ra_arcsec=res[:, 0],
        residual_dec_arcsec=res[:, 1],
        radar_normalized=np.zeros(0) if radar is None else rres / radar.sigma,
        iterations=iterations,
    )
