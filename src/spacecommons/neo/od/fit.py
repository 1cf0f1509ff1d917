"""Differential corrections: a weighted least-squares orbit fit to optical astrometry.

Method (Milani & Gronchi 2010, *Theory of Orbit Determination*, ch. 5): the computed RA and Dec
of each observation (light time, deflection by the Sun, stellar aberration: ``apparent.py``)
from an n-body orbit (ASSIST, DE440 + 16 asteroids, GR, Earth harmonics: ``neo.nbody``); the
partials from ASSIST's variational equations (``variational.py``); Gauss-Newton iterations on
the normal equations with weights 1/sigma^2, the step halved while it raises the chi-square;
the covariance is the inverse of the normal matrix. Residuals are O - C in RA cos(Dec) and Dec.

Outliers (Carpino, Milani & Chesley 2003, Icarus 166, 248): after convergence, each
observation's 2-D chi-square uses the residual covariance (sigma^2 - A C A^T for one in the
fit, + for one outside); one above ``chi2_reject`` (8) leaves the fit, one outside below
``chi2_recover`` (7) comes back; refit until nothing changes.

Optional non-gravitational parameters A1, A2, A3 (Marsden et al. 1973, as ASSIST models them,
au/day^2) are solved for alongside the state. State: barycentric ICRF equatorial, au, au/day,
at ``epoch_jd_tdb``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ...errors import InputError
from ..nbody import DEFAULT_SETTINGS, NBodySettings
from .apparent import astrometric_direction, light_time_days, ra_dec, ra_dec_partials
from .radar import RadarArc, radar_model, radar_residual_units
from .variational import propagate_with_partials

ARCSEC_RAD = np.pi / (180.0 * 3600.0)
NONGRAV_NAMES = ("A1", "A2", "A3")
DEFAULT_SIGMA_ARCSEC = 1.0  # weight of an observation without a stated uncertainty (see docs)
CHI2_REJECT = 8.0  # Carpino, Milani & Chesley (2003), 2-D chi-square thresholds
CHI2_RECOVER = 7.0


@dataclass(frozen=True)
class OpticalArc:
    """Optical astrometry ready for fitting: arrays (n,) or (n, 3), barycentric ICRF (au, au/day)
    observer and Sun positions at each (reception) epoch. ``sigma_ra_arcsec`` is of RA cos(Dec)."""

    designation: str
    jd_utc: np.ndarray
    jd_tdb: np.ndarray
    ra_rad: np.ndarray
    dec_rad: np.ndarray
    sigma_ra_arcsec: np.ndarray
    sigma_dec_arcsec: np.ndarray
    observer_au: np.ndarray
    observer_au_d: np.ndarray
    sun_au: np.ndarray
    station: tuple[str, ...]
    weighting: str = f"stated uncertainties; {DEFAULT_SIGMA_ARCSEC} arcsec where none"

    def __len__(self) -> int:
        return len(self.jd_tdb)

    def subset(self, index) -> OpticalArc:
        """The observations at ``index`` (indices, slice or boolean mask), in that order."""
        idx = np.arange(len(self))[index]
        arrays = {
            k: getattr(self, k)[idx]
            for k in (
                "jd_utc",
                "jd_tdb",
                "ra_rad",
                "dec_rad",
                "sigma_ra_arcsec",
                "sigma_dec_arcsec",
                "observer_au",
                "observer_au_d",
                "sun_au",
            )
        }
        return replace(self, station=tuple(self.station[i] for i in idx), **arrays)


ObserversFunction = Callable[[list[Any]], tuple[np.ndarray, np.ndarray]]
WEIGHTINGS = ("veres2017", "uniform")


def optical_arc(
    observations: Iterable[Any],
    observers: ObserversFunction | None = None,
    default_sigma_arcsec: float = DEFAULT_SIGMA_ARCSEC,
    weighting: str = "veres2017",
) -> OpticalArc:
    """An :class:`OpticalArc` from ``neo.astrometry`` ``OpticalObservation`` records of one object
    (any order; sorted by time here). ``observers(observations)`` gives the observers' GCRS
    positions (n, 3) km and velocities (n, 3) km/s, by default
    ``neo.astrometry.observatories.observation_observers``; an unknown velocity (NaN: a spacecraft
    record without one) counts as zero relative to the Earth.

    Weights: ``"veres2017"`` (default) takes a record's own uncertainties (ADES rmsRA/rmsDec) when it
    states both, else Vereš et al. (2017) by station, catalog and epoch, relaxed by sqrt(N/4) for N > 4
    observations of one station in one night (``neo.astrometry.weights``); ``"uniform"`` takes the
    record's uncertainties or ``default_sigma_arcsec``. The scheme and its counts are reported in
    ``OpticalArc.weighting`` (and the fit's ``choices["weights"]``)."""
    from ...constants import AU_KM, AU_PER_DAY_KM_S
    from ...frames import skyfield_time
    from ..nbody import body_state

    if weighting not in WEIGHTINGS:
        raise InputError(f"weighting {weighting!r} is not one of {', '.join(WEIGHTINGS)}")
    obs = sorted(observations, key=lambda o: o.epoch_utc_jd)
    if not obs:
        raise InputError("no optical observations to fit")
    designations = {o.designation for o in obs}
    if len(designations) > 1:
        raise InputError(f"observations of several objects in one fit: {sorted(designations)}")
    if observers is None:
        from ..astrometry.observatories import observation_observers as observers
    geo_r, geo_v = (np.asarray(a, float) for a in observers(obs))
    geo_v = np.where(np.isfinite(geo_v), geo_v, 0.0)
    jd_utc = np.array([o.epoch_utc_jd for o in obs])
    jd_tdb = np.asarray(skyfield_time(jd_utc, np.zeros_like(jd_utc)).tdb, float)
    earth = np.array([body_state("earth", t) for t in jd_tdb])
    sun = np.array([body_state("sun", t)[:3] for t in jd_tdb])
    if weighting == "veres2017":
        from ..astrometry.weights import astrometric_weights

        w = astrometric_weights(obs)
        sig_ra, sig_dec = w.sigma_ra_arcsec, w.sigma_dec_arcsec
        n_record = sum(r.startswith("record") for r in w.rule)
        n_relaxed = int(np.sum(w.relax > 1.0))
        n_nocat = sum(r == "Veres2017: no catalog" for r in w.rule)
        text = (
            f"ADES rmsRA/rmsDec where stated ({n_record}); else Veres et al. 2017 by station, catalog "
            f'and epoch ({len(obs) - n_record}; {n_nocat} without a catalog at 1.5"), relaxed by '
            f"sqrt(N/4) for N > 4 per station and night ({n_relaxed} relaxed); "
            f'median sigma {float(np.median(sig_ra)):.2f}"'
        )
    else:
        sig_ra = np.array([o.sigma_ra_arcsec or default_sigma_arcsec for o in obs], float)
        sig_dec = np.array([o.sigma_dec_arcsec or default_sigma_arcsec for o in obs], float)
        text = f"uniform: stated uncertainties; {default_sigma_arcsec} arcsec where none"
    return OpticalArc(
        designation=obs[0].designation,
        jd_utc=jd_utc,
        jd_tdb=jd_tdb,
        ra_rad=np.radians([o.ra_deg for o in obs]),
        dec_rad=np.radians([o.dec_deg for o in obs]),
        sigma_ra_arcsec=np.asarray(sig_ra, float),
        sigma_dec_arcsec=np.asarray(sig_dec, float),
        observer_au=earth[:, :3] + geo_r / AU_KM,
        observer_au_d=earth[:, 3:] + geo_v / AU_PER_DAY_KM_S,
        sun_au=sun,
        station=tuple(o.station for o in obs),
        weighting=text,
    )


@dataclass(frozen=True)
class FitSettings:
    """Choices of a fit; each is reported with the result."""

    nongrav_free: tuple[str, ...] = ()  # any of "A1", "A2", "A3"
    reject_outliers: bool = True
    chi2_reject: float = CHI2_REJECT
    chi2_recover: float = CHI2_RECOVER
    max_iterations: int = 25
    max_rejection_rounds: int = 10
    nbody: NBodySettings = DEFAULT_SETTINGS
    reuse_partials: bool = True  # False: fresh partials at every evaluation (the benchmark's baseline)


@dataclass(frozen=True)
class OrbitFit:
    """A fitted orbit: state (6,) at ``epoch_jd_tdb``, non-gravitational A1..A3, covariance of
    the solved-for parameters (state then free A_k), per-observation residuals (arcsec)."""

    designation: str
    epoch_jd_tdb: float
    state: np.ndarray
    nongrav: np.ndarray
    nongrav_free: tuple[str, ...]
    covariance: np.ndarray
    residual_ra_arcsec: np.ndarray  # O - C in RA cos(Dec)
    residual_dec_arcsec: np.ndarray
    chi2: np.ndarray  # Carpino et al. 2-D chi-square of each observation
    used: np.ndarray  # bool: in the fit (False: rejected as an outlier)
    iterations: int
    converged: bool
    choices: dict[str, str] = field(default_factory=dict)
    # radar (empty without): O - C in microseconds (delay) or Hz (Doppler), sigma in the same unit
    radar_kind: tuple[str, ...] = ()
    radar_residual: np.ndarray = field(default_factory=lambda: np.zeros(0))
    radar_sigma: np.ndarray = field(default_factory=lambda: np.zeros(0))
    radar_jd_utc: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def radar_rms(self, kind: str) -> float:
        """RMS of the radar residuals of ``kind`` ("delay": us, "doppler": Hz); NaN without."""
        k = np.array([x == kind for x in self.radar_kind], bool)
        return float(np.sqrt(np.mean(self.radar_residual[k] ** 2))) if k.any() else float("nan")

    def radar_normalized_rms(self) -> float:
        """sqrt(mean((O - C)^2 / sigma^2)) over all radar measurements; NaN without."""
        if not self.radar_residual.size:
            return float("nan")
        return float(np.sqrt(np.mean((self.radar_residual / self.radar_sigma) ** 2)))

    @property
    def n_used(self) -> int:
        return int(self.used.sum())

    @property
    def n_rejected(self) -> int:
        return int((~self.used).sum())

    @property
    def rms_arcsec(self) -> float:
        """RMS of the used residuals, RA cos(Dec) and Dec together (arcsec)."""
        r = np.concatenate([self.residual_ra_arcsec[self.used], self.residual_dec_arcsec[self.used]])
        return float(np.sqrt(np.mean(r**2))) if r.size else float("nan")

    @property
    def normalized_rms(self) -> float:
        """sqrt(chi-square / (2 n_used)) of the used residuals with their weights."""
        return float(np.sqrt(np.mean(self.chi2[self.used]) / 2.0)) if self.used.any() else float("nan")

    @property
    def state_covariance(self) -> np.ndarray:
        return self.covariance[:6, :6]


class _Model:
    """One evaluation of the computed observations: optical RA, Dec and partials (n, 2, p), the
    optical light times, and the radar model (or None)."""

    def __init__(self, ra, dec, a, tau, ng, radar):
        self.ra, self.dec, self.a, self.tau, self.ng, self.radar = ra, dec, a, tau, ng, radar


def _model(arc: OpticalArc, epoch, x, ng, free_idx, tau, nbody, radar=None, rtau=None, partials=True) -> _Model:
    """Computed RA, Dec, partials (n, 2, p) of (RA cos Dec, Dec), updated light times; with a
    radar arc, its computed delay/Doppler from the same propagation (``rtau``: down, up times).
    ``partials=False``: states only (partials None)."""
    state = x[:6]
    ng = ng.copy()
    for m, j in enumerate(free_idx):
        ng[j] = x[6 + m]
    n = len(arc)
    times = arc.jd_tdb - tau
    if radar is not None:
        times = np.concatenate([times, radar.jd_tdb - rtau[0]])
    states_all, phi_all = propagate_with_partials(epoch, state, times, ng, free_idx, nbody, partials=partials)
    states = states_all[:n]
    rho = states[:, :3] - arc.observer_au
    tau_new = light_time_days(rho)
    body = states[:, :3] - states[:, 3:] * (tau_new - tau)[:, None]  # first-order retime
    ra, dec = ra_dec(astrometric_direction(body, arc.observer_au))
    a = None
    if phi_all is not None:
        d_ra, d_dec = ra_dec_partials(body - arc.observer_au)
        pos = phi_all[:n, :3, :]
        a = np.empty((n, 2, pos.shape[2]))
        a[:, 0] = np.cos(arc.dec_rad)[:, None] * np.einsum("ni,nip->np", d_ra, pos)
        a[:, 1] = np.einsum("ni,nip->np", d_dec, pos)
    rm = None
    if radar is not None:
        rm = radar_model(radar, states_all[n:], None if phi_all is None else phi_all[n:], rtau[0], rtau[1])
    return _Model(ra, dec, a, tau_new, ng, rm)


def _residuals(arc: OpticalArc, ra, dec):
    dra = np.angle(np.exp(1j * (arc.ra_rad - ra))) * np.cos(arc.dec_rad)
    return np.stack([dra, arc.dec_rad - dec], axis=1) / ARCSEC_RAD  # arcsec (n, 2)


class _Problem:
    """The weighted residuals of one model evaluation: optical (n, 2) arcsec and radar (k,) in
    SI units, each with its sigma; chi-square and normal equations over the used observations."""

    def __init__(self, arc, radar, sigma, used):
        self.arc, self.radar, self.sigma, self.used = arc, radar, sigma, used

    def residuals(self, m: _Model):
        res = _residuals(self.arc, m.ra, m.dec)
        rres = None if self.radar is None else self.radar.value - m.radar.computed
        return res, rres

    def chi2(self, res, rres) -> float:
        total = float(np.sum(((res / self.sigma)[self.used]) ** 2))
        if rres is not None:
            total += float(np.sum((rres / self.radar.sigma) ** 2))
        return total

    def normal_step(self, res, rres, m: _Model):
        """Gauss-Newton step and covariance (partials from ``m``)."""
        w = 1.0 / (self.sigma[self.used] * ARCSEC_RAD) ** 2  # (m, 2)
        au = m.a[self.used]
        r = res[self.used] * ARCSEC_RAD
        normal = np.einsum("nkp,nk,nkq->pq", au, w, au)
        rhs = np.einsum("nkp,nk,nk->p", au, w, r)
        if rres is not None:
            b = m.radar.partials / self.radar.sigma[:, None]
            normal = normal + b.T @ b
            rhs = rhs + b.T @ (rres / self.radar.sigma)
        scale = np.sqrt(np.diag(normal))
        scale[scale == 0] = 1.0
        ns = normal / np.outer(scale, scale)
        cov_s = np.linalg.pinv(ns, rcond=1e-15, hermitian=True)
        cov = cov_s / np.outer(scale, scale)
        return cov @ rhs, cov


def fit_orbit(
    arc: OpticalArc,
    epoch_jd_tdb: float,
    state: np.ndarray,
    nongrav: np.ndarray | None = None,
    settings: FitSettings = FitSettings(),
    used: np.ndarray | None = None,
    radar: RadarArc | None = None,
) -> OrbitFit:
    """Fit a barycentric ICRF state at ``epoch_jd_tdb`` (and the free A_k) to the arc (and the
    radar delays and Dopplers of ``radar``, from ``neo.od.radar.radar_arc``), starting from
    ``state`` (a prior or initial orbit) and ``nongrav`` (3,). Radar measurements are not
    rejected automatically (their chi-square is reported through the residuals)."""
    free_idx = tuple(NONGRAV_NAMES.index(n) for n in settings.nongrav_free)
    ng = np.zeros(3) if nongrav is None else np.asarray(nongrav, float).copy()
    x = np.concatenate([np.asarray(state, float), ng[list(free_idx)]])
    n = len(arc)
    used = np.ones(n, bool) if used is None else np.asarray(used, bool).copy()
    sigma = np.stack([arc.sigma_ra_arcsec, arc.sigma_dec_arcsec], axis=1)
    problem = _Problem(arc, radar, sigma, used)
    tau = np.zeros(n)
    rtau = None if radar is None else (np.zeros(len(radar)), np.zeros(len(radar)))

    def evaluate(x_eval, lt, partials):
        partials = partials or not settings.reuse_partials
        return _model(arc, epoch_jd_tdb, x_eval, ng, free_idx, lt[0], settings.nbody, radar, lt[1], partials)

    def light_times(mm):
        return mm.tau, (None if mm.radar is None else (mm.radar.tau_down, mm.radar.tau_up))

    # Partials are recomputed once the orbit has moved by more than the solution's 1-sigma since
    # they were computed; smaller steps reuse them (states-only propagations, 1/4 the cost). Within
    # 1 sigma the partials change by ~sigma/distance (1e-8 for a numbered NEO), so the fixed point
    # and the covariance are those of the exact Gauss-Newton to that order (a modified Newton
    # method; Milani & Gronchi 2010, sec. 5.2).
    m = evaluate(x, (tau, rtau), partials=False)  # light times from the starting orbit
    m = evaluate(x, light_times(m), partials=True)
    jac, fresh, moved = m, True, 0.0  # moved: steps (in sigma) since the partials were computed
    iterations = 0
    converged = False
    cov = np.full((len(x), len(x)), np.nan)
    for _round in range(settings.max_rejection_rounds + 1):
        problem.used = used
        res, rres = problem.residuals(m)
        chi2_total = problem.chi2(res, rres)
        converged = False
        for _ in range(settings.max_iterations):
            iterations += 1
            dx, cov = problem.normal_step(res, rres, jac)
            step = 1.0
            accepted = False
            for _halving in range(8):
                x_try = x + step * dx
                m_try = evaluate(x_try, light_times(m), partials=False)
                res_try, rres_try = problem.residuals(m_try)
                chi2_try = problem.chi2(res_try, rres_try)
                # (chi-square at a fixed orbit moves by ~1e-8 relative as light times settle)
                tiny = _step_size(dx, cov) < 1e-2  # inside the noise: nothing to halve
                if np.isfinite(chi2_try) and (chi2_try <= chi2_total * (1 + 1e-7) or tiny):
                    accepted = True
                    break
                if not fresh:
                    break  # stale partials: refresh them before halving
                step *= 0.5
            if not accepted and not fresh:
                m = jac = evaluate(x, light_times(m), partials=True)
                fresh, moved = True, 0.0
                res, rres = problem.residuals(m)
                chi2_total = problem.chi2(res, rres)
                continue
            if not accepted:  # no step along the fresh Gauss-Newton direction lowers chi-square
                converged = True
                break
            x, m, res, rres = x_try, m_try, res_try, rres_try
            size = _step_size(dx * step, cov)
            small = abs(chi2_total - chi2_try) <= 1e-5 * max(chi2_try, 1.0) or size < 1e-2
            chi2_total = chi2_try
            moved += size
            fresh = False
            if not settings.reuse_partials:
                jac, fresh, moved = m, True, 0.0
            elif moved > 1.0:
                m = jac = evaluate(x, light_times(m), partials=True)
                fresh, moved = True, 0.0
                res, rres = problem.residuals(m)
                chi2_total = problem.chi2(res, rres)
                if not small:
                    continue
                dx2, cov2 = problem.normal_step(res, rres, jac)
                if _step_size(dx2, cov2) >= 1e-2:
                    continue
            if small:
                converged = True
                break
        _, cov = problem.normal_step(res, rres, jac)
        chi2 = _carpino_chi2(res, jac.a, sigma, cov, used)
        if not settings.reject_outliers or not converged:
            break
        new_used = used.copy()
        new_used[used & (chi2 > settings.chi2_reject)] = False
        new_used[~used & (chi2 < settings.chi2_recover)] = True
        if np.array_equal(new_used, used) or new_used.sum() < 3:
            break
        used = new_used
    ng_cur = m.ng
    choices = {
        "force_model": "ASSIST/REBOUND: Sun, planets, Moon (DE440), 16 asteroids (sb441-n16), GR (EIH), "
        "Earth J2-J4" + (", Marsden A1/A2/A3 with g(r) = (1 au/r)^2" if np.any(ng_cur) or free_idx else ""),
        "partials": "ASSIST first-order variational equations; A_k by a shifted shadow particle; "
        "recomputed once the orbit moves by more than its 1-sigma (modified Newton)",
        "light_time": "iterated; planetary aberration by retarded body position",
        "computed_place": "astrometric (light-time corrected geometric direction): stellar aberration and "
        "solar deflection are common to the body and the reference stars and removed by the plate reduction",
        "weights": arc.weighting,
        "debiasing": "none: no astrometric catalogue debiasing table ships",
        "outliers": (
            f"Carpino, Milani & Chesley 2003: reject chi2 > {settings.chi2_reject}, "
            f"recover chi2 < {settings.chi2_recover} (optical only)"
            if settings.reject_outliers
            else "none"
        ),
        "nongrav_free": ", ".join(settings.nongrav_free) or "none",
        "radar": "none"
        if radar is None
        else f"{int(radar.is_delay.sum())} delays, {int((~radar.is_delay).sum())} Dopplers fitted with their "
        "stated sigmas (centre of mass, light time both legs, solar Shapiro delay); not auto-rejected",
    }
    extra = {}
    if radar is not None:
        unit = radar_residual_units(radar)
        extra = {
            "radar_kind": tuple("delay" if d else "doppler" for d in radar.is_delay),
            "radar_residual": rres * unit,
            "radar_sigma": radar.sigma * unit,
            "radar_jd_utc": radar.jd_utc.copy(),
        }
    return OrbitFit(
        designation=arc.designation,
        epoch_jd_tdb=float(epoch_jd_tdb),
        state=x[:6].copy(),
        nongrav=ng_cur,
        nongrav_free=tuple(settings.nongrav_free),
        covariance=cov,
        residual_ra_arcsec=res[:, 0],
        residual_dec_arcsec=res[:, 1],
        chi2=chi2,
        used=used,
        iterations=iterations,
        converged=converged,
        choices=choices,
        **extra,
    )


def _step_size(dx, cov) -> float:
    """Size of a correction in units of the solution's uncertainty (sqrt(dx^T C^-1 dx / p))."""
    try:
        return float(np.sqrt(abs(dx @ np.linalg.solve(cov, dx)) / len(dx)))
    except np.linalg.LinAlgError:
        return float("inf")


def _carpino_chi2(res, a, sigma, cov, used) -> np.ndarray:
    """2-D chi-square of each observation with the residual covariance of Carpino et al. (2003):
    diag(sigma^2) - A C A^T for one in the fit, + for one outside it."""
    s = sigma * ARCSEC_RAD
    proj = np.einsum("nkp,pq,nlq->nkl", a, cov, a)
    sign = np.where(used, -1.0, 1.0)[:, None, None]
    gamma = np.zeros_like(proj)
    gamma[:, 0, 0] = s[:, 0] ** 2
    gamma[:, 1, 1] = s[:, 1] ** 2
    gamma = gamma + sign * proj
    # an observation that alone determines a direction has ~zero residual variance: floor it
    floor = 1e-6 * np.stack([s[:, 0] ** 2, s[:, 1] ** 2], axis=1)
    gamma[:, 0, 0] = np.maximum(gamma[:, 0, 0], floor[:, 0])
    gamma[:, 1, 1] = np.maximum(gamma[:, 1, 1], floor[:, 1])
    r = res * ARCSEC_RAD
    return np.einsum("nk,nkl,nl->n", r, np.linalg.inv(gamma), r)
