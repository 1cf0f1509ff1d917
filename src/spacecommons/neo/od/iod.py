"""Initial orbits for a new object: Gauss's method, with systematic ranging as the fallback.

Gauss (Curtis 2020, *Orbital Mechanics for Engineering Students*, 4th ed., Algorithm 5.5;
Milani & Gronchi 2010 ch. 9): three directions and the observer's heliocentric positions give
the eighth-degree polynomial in the middle heliocentric distance; every positive real root is a
candidate, the velocity from the f and g series. Heliocentric two-body only: the differential
correction that follows (``fit.fit_orbit``) supplies the full force model.

Systematic ranging (Virtanen, Muinonen & Bowell 2001; Farnocchia et al. 2015 for JPL Scout's
use on arcs of hours): the arc's mean position and motion (RA, Dec and their rates from a
quadratic fit) plus a grid of topocentric range and range-rate give trial states; those bound
to the Sun (heliocentric energy < 0) are propagated together with ASSIST and the one with the
smallest chi-square seeds the differential correction. Units: au, au/day, TDB."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...constants import GM_SUN_DE440_AU3_D2
from ...errors import InputError
from ..nbody import Integrator
from .apparent import light_time_days, ra_dec
from .fit import FitSettings, OpticalArc, OrbitFit, fit_orbit


@dataclass(frozen=True)
class InitialOrbit:
    """A starting orbit: barycentric ICRF state at ``epoch_jd_tdb`` and how it was found."""

    epoch_jd_tdb: float
    state: np.ndarray
    method: str  # "gauss" or "ranging"


def unit_vectors(ra_rad: np.ndarray, dec_rad: np.ndarray) -> np.ndarray:
    cd = np.cos(dec_rad)
    return np.stack([cd * np.cos(ra_rad), cd * np.sin(ra_rad), np.sin(dec_rad)], axis=-1)


def gauss(
    arc: OpticalArc,
    i1: int,
    i2: int,
    i3: int,
    mu: float = GM_SUN_DE440_AU3_D2,
    light_time: bool = True,
) -> list[InitialOrbit]:
    """Gauss's method on observations i1 < i2 < i3: one candidate per positive root, states
    at the middle epoch (barycentric, the Sun's position added back; with ``light_time`` the
    epoch is the middle observation's less the light time).
    The f and g series stay truncated (Curtis's Algorithm 5.6 refinement diverges on short,
    ill-conditioned arcs; the differential correction that follows converges from here)."""
    t = arc.jd_tdb[[i1, i2, i3]]
    rho_hat = unit_vectors(arc.ra_rad[[i1, i2, i3]], arc.dec_rad[[i1, i2, i3]])
    R = arc.observer_au[[i1, i2, i3]] - arc.sun_au[[i1, i2, i3]]
    tau1, tau3 = t[0] - t[1], t[2] - t[1]
    tau = tau3 - tau1
    p1 = np.cross(rho_hat[1], rho_hat[2])
    p2 = np.cross(rho_hat[0], rho_hat[2])
    p3 = np.cross(rho_hat[0], rho_hat[1])
    d0 = rho_hat[0] @ p1
    if abs(d0) < 1e-14 or tau <= 0:
        return []
    D = np.array([[R[i] @ p for p in (p1, p2, p3)] for i in range(3)])
    A = (-D[0, 1] * tau3 / tau + D[1, 1] + D[2, 1] * tau1 / tau) / d0
    B = (D[0, 1] * (tau3**2 - tau**2) * tau3 / tau + D[2, 1] * (tau**2 - tau1**2) * tau1 / tau) / (6 * d0)
    E = R[1] @ rho_hat[1]
    r2sq = R[1] @ R[1]
    a = -(A**2 + 2 * A * E + r2sq)
    b = -2 * mu * B * (A + E)
    c = -(mu**2) * B**2
    roots = np.roots([1, 0, a, 0, 0, b, 0, 0, c])
    out = []
    for root in roots:
        if abs(root.imag) > 1e-10 * abs(root) or root.real <= 0:
            continue
        r2 = root.real
        rho2 = A + mu * B / r2**3
        if rho2 <= 0:
            continue
        num1 = (
            6 * (D[2, 0] * tau1 / tau3 + D[1, 0] * tau / tau3) * r2**3 + mu * D[2, 0] * (tau**2 - tau1**2) * tau1 / tau3
        )
        rho1 = (num1 / (6 * r2**3 + mu * (tau**2 - tau3**2)) - D[0, 0]) / d0
        num3 = (
            6 * (D[0, 2] * tau3 / tau1 - D[1, 2] * tau / tau1) * r2**3 + mu * D[0, 2] * (tau**2 - tau3**2) * tau3 / tau1
        )
        rho3 = (num3 / (6 * r2**3 + mu * (tau**2 - tau1**2)) - D[2, 2]) / d0
        r1 = R[0] + rho1 * rho_hat[0]
        r2v = R[1] + rho2 * rho_hat[1]
        r3 = R[2] + rho3 * rho_hat[2]
        f1 = 1 - 0.5 * mu * tau1**2 / r2**3
        f3 = 1 - 0.5 * mu * tau3**2 / r2**3
        g1 = tau1 - mu * tau1**3 / (6 * r2**3)
        g3 = tau3 - mu * tau3**3 / (6 * r2**3)
        v2 = (-f3 * r1 + f1 * r3) / (f1 * g3 - f3 * g1)
        if not np.all(np.isfinite(np.concatenate([r2v, v2]))):
            continue
        # the light left the body tau earlier: the state is at t2 - rho2/c
        epoch = t[1] - (float(light_time_days(np.array([r2v - R[1]]))[0]) if light_time else 0.0)
        sun = arc.sun_au[i2]
        out.append(InitialOrbit(epoch, np.concatenate([r2v + sun, v2]), "gauss"))
    return out


def ranging(
    arc: OpticalArc,
    rho_au: np.ndarray | None = None,
    rho_dot_au_d: np.ndarray | None = None,
) -> InitialOrbit:
    """Systematic ranging over topocentric range and range-rate at the arc's middle epoch."""
    if len(arc) < 3:
        raise InputError("ranging needs at least 3 observations")
    rho_au = np.geomspace(2e-4, 3.0, 90) if rho_au is None else rho_au
    rho_dot_au_d = np.linspace(-0.03, 0.03, 61) if rho_dot_au_d is None else rho_dot_au_d
    k = len(arc) // 2
    t0 = arc.jd_tdb[k]
    dt = arc.jd_tdb - t0
    ra_unwrapped = np.unwrap(arc.ra_rad)
    deg = 2 if len(arc) >= 4 else 1
    ra_c = np.polyfit(dt, ra_unwrapped, deg)
    dec_c = np.polyfit(dt, arc.dec_rad, deg)
    ra0, dec0 = np.polyval(ra_c, 0.0), np.polyval(dec_c, 0.0)
    ra_dot, dec_dot = np.polyval(np.polyder(ra_c), 0.0), np.polyval(np.polyder(dec_c), 0.0)
    u = unit_vectors(ra0, dec0)
    e_ra = np.array([-np.sin(ra0), np.cos(ra0), 0.0])
    e_dec = np.array([-np.sin(dec0) * np.cos(ra0), -np.sin(dec0) * np.sin(ra0), np.cos(dec0)])
    rr, rd = np.meshgrid(rho_au, rho_dot_au_d, indexing="ij")
    rr, rd = rr.ravel(), rd.ravel()
    pos = arc.observer_au[k] + rr[:, None] * u
    vel = arc.observer_au_d[k] + rd[:, None] * u + rr[:, None] * (ra_dot * np.cos(dec0) * e_ra + dec_dot * e_dec)
    helio_r = np.linalg.norm(pos - arc.sun_au[k], axis=1)
    energy = 0.5 * np.sum(vel**2, axis=1) - GM_SUN_DE440_AU3_D2 / helio_r  # Sun velocity << body's
    keep = energy < 0
    if not keep.any():
        raise InputError("no bound orbit in the ranging grid")
    states = np.hstack([pos[keep], vel[keep]])
    chi2 = _chi2_of_states(arc, t0, states)
    best = int(np.nanargmin(chi2))
    return InitialOrbit(float(t0), states[best], "ranging")


def _chi2_of_states(arc: OpticalArc, t0: float, states: np.ndarray) -> np.ndarray:
    """Chi-square (n_states,) of many trial states against the arc (light time to first order)."""
    chi2 = np.zeros(len(states))
    for direction in (1.0, -1.0):
        idx = np.flatnonzero(arc.jd_tdb >= t0) if direction > 0 else np.flatnonzero(arc.jd_tdb < t0)
        if idx.size == 0:
            continue
        order = idx[np.argsort(direction * arc.jd_tdb[idx])]
        integ = Integrator(t0, states)
        for i in order:
            integ.integrate(arc.jd_tdb[i], exact=False)
            s = integ.states()
            rho = s[:, :3] - arc.observer_au[i]
            rho = rho - s[:, 3:] * light_time_days(rho)[:, None]
            ra, dec = ra_dec(rho)
            dra = np.angle(np.exp(1j * (arc.ra_rad[i] - ra))) * np.cos(arc.dec_rad[i])
            ddec = arc.dec_rad[i] - dec
            sig = np.radians(np.array([arc.sigma_ra_arcsec[i], arc.sigma_dec_arcsec[i]]) / 3600.0)
            chi2 += (dra / sig[0]) ** 2 + (ddec / sig[1]) ** 2
    return np.where(np.isfinite(chi2), chi2, np.inf)


def initial_orbit_fit(arc: OpticalArc, settings: FitSettings = FitSettings(reject_outliers=False)) -> OrbitFit:
    """An orbit for an arc with no prior: Gauss's method on the first, middle and last
    observations, every root corrected on the whole arc; when none converges to residuals
    within 3 sigma (normalized RMS), systematic ranging seeds the correction instead."""
    n = len(arc)
    if n < 3:
        raise InputError(f"{arc.designation}: an initial orbit needs at least 3 observations, got {n}")
    best: OrbitFit | None = None
    candidates = gauss(arc, 0, n // 2, n - 1)
    for cand in candidates:
        try:
            f = fit_orbit(arc, cand.epoch_jd_tdb, cand.state, settings=settings)
        except (np.linalg.LinAlgError, ValueError):
            continue
        if np.isfinite(f.normalized_rms) and (best is None or f.normalized_rms < best.normalized_rms):
            best = f
            method = "gauss"
    if best is None or not best.converged or best.normalized_rms > 3.0:
        r = ranging(arc)
        f = fit_orbit(arc, r.epoch_jd_tdb, r.state, settings=settings)
        if best is None or (np.isfinite(f.normalized_rms) and f.normalized_rms < best.normalized_rms):
            best, method = f, "ranging"
    best.choices["initial_orbit"] = method
    return best
