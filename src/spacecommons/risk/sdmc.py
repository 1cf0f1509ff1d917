"""Monte Carlo Pc over the whole conjunction window, in the manner of NASA CARA's SDMC.

Method (Hall et al. 2018, AAS 18-244; CARA ``Pc_SDMC``): both objects' 6-D states at TCA are
drawn from their covariances, every sample pair is propagated with exact two-body motion
(Kepler's equation in universal variables, Vallado 2013 alg. 8) across the window, and a trial
is a hit when the pair comes within the combined hard-body radius at any time in the window.
Each trial's distance is followed on a time grid fine enough that at most one local minimum
falls in a step (a step is at most 1/32 of the shorter orbital period; the distance
of two orbits has its extrema about a quarter period apart); a minimum is bracketed
by a sign change of r.v (relative position . relative velocity) and located with a safeguarded
Newton search on exact two-body states, so every close approach in the window is examined,
not only the one near the nominal TCA.

Sampling. By default the samples are drawn in equinoctial elements (Broucke & Cefola 1972),
as CARA's two-body Monte Carlo does: the Cartesian covariance is mapped through the Jacobian
of the element transformation at the mean state, samples are drawn in elements and converted
back. A large in-track uncertainty then spreads the samples *along the orbit*; drawn as a
straight Cartesian line instead (``sampling="cartesian"``), a 240 km in-track sigma puts the
samples kilometres above the orbit shell and a real Pc of 1.4e-4 comes out as zero. The
elements are taken in each object's frozen RTN frame at TCA, where its orbit is equatorial,
so retrograde orbits (Alfano 2009 cases) meet no singularity.

Window. Unless given, the window is the encounter segment CARA's Pc3D uses: the Coppola
(2012) rectilinear bounds, mean time of closest approach +/- (gamma-sigma spread of that time
+ HBR / relative speed) with gamma = 8.3 (a tail of 1e-16), widened to at least +/-90 s
(CARA's minimum SDMC span of 3 minutes) and cut to the nominal pair's neighbouring maxima of
separation (one encounter), at most half the shorter period either side. Where the Coppola
bounds exceed 1/16 of the period, the relative motion is curved over the pass and the straight-
line bounds mean nothing: the whole segment is used. Give ``window_s`` to span several
revolutions.

The number of trials grows until the 95% Clopper-Pearson interval lies within +/-``accuracy``
of the estimate (about 400 hits for 10%), or ``max_samples`` is reached; the interval is always
reported, and the same ``seed`` gives the same answer. Units: km, km/s, km**2 (km**2/s,
km**2/s**2 for the velocity blocks), seconds from TCA.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from ..constants import GM_EARTH_EGM96_KM3_S2
from ..errors import InputError
from ..frames import rtn_basis
from ..twobody import kepler_chi
from .equinoctial import cartesian_to_equinoctial, equinoctial_to_cartesian
from .montecarlo import binomial_interval, required_samples

MU_KM3_S2 = GM_EARTH_EGM96_KM3_S2  # the default GM; CARA's SDMC uses the same 3.986004418e14 m**3/s**2
GAMMA_SIGMA = 8.3  # Coppola bounds at a 1e-16 tail: sqrt(2) erfcinv(1e-16), CARA Pc3D default gamma
MIN_HALF_WINDOW_S = 90.0  # CARA PcMultiStepWithSDMC: minimum SDMC span of 3 minutes
STEPS_PER_REV = 32  # grid step <= period / 32: distance extrema of two orbits lie ~period / 4 apart
MIN_STEPS = 4
CURVED_FRACTION = 1.0 / 16.0  # Coppola bounds wider than this part of a period: use the segment


@dataclass(frozen=True)
class SdmcResult:
    """Monte Carlo Pc with its exact (Clopper-Pearson) interval at ``confidence``.

    ``window`` is (start, end) in seconds from TCA; ``npd_remediated`` flags, per object, a
    covariance that was not positive semi-definite and had its negative eigenvalues clipped;
    ``converged`` says whether the interval reached the requested accuracy before the cap."""

    pc: float
    ci_low: float
    ci_high: float
    samples: int
    hits: int
    window: tuple[float, float]
    npd_remediated: tuple[bool, bool]
    method: str
    confidence: float = 0.95
    converged: bool = False


def remediate_npd(cov: np.ndarray) -> tuple[np.ndarray, bool]:
    """Symmetrise and clip negative eigenvalues to zero (CARA ``CovRemEigValClip`` with
    Lclip = 0). The flag is raised when an eigenvalue is negative beyond round-off."""
    cov = 0.5 * (np.asarray(cov, float) + np.asarray(cov, float).T)
    w, V = np.linalg.eigh(cov)
    npd = bool(w[0] < -1e-12 * max(abs(w[-1]), 1e-300))
    if w[0] >= 0.0:
        return cov, npd
    w = np.clip(w, 0.0, None)
    return (V * w) @ V.T, npd


def _sqrt_factor(cov: np.ndarray) -> np.ndarray:
    """L with L L^T = cov for a positive semi-definite cov (round-off negatives clipped)."""
    w, V = np.linalg.eigh(0.5 * (cov + cov.T))
    return V * np.sqrt(np.clip(w, 0.0, None))


# equinoctial elements (n, af, ag, chi, psi, lam), prograde set: risk/equinoctial.py


def _element_jacobian(x: np.ndarray, mu: float) -> np.ndarray:
    """d(elements)/d(state) at x (6,), central differences (relative step 1e-6)."""
    J = np.empty((6, 6))
    scale = np.r_[np.full(3, np.linalg.norm(x[:3])), np.full(3, np.linalg.norm(x[3:]))] * 1e-6
    for j in range(6):
        d = np.zeros(6)
        d[j] = scale[j]
        hi = cartesian_to_equinoctial(x + d, mu)
        lo = cartesian_to_equinoctial(x - d, mu)
        diff = hi - lo
        diff[5] = math.remainder(diff[5], 2.0 * math.pi)
        J[:, j] = diff / (2.0 * scale[j])
    return J


class _Sampler:
    """Draws states of one object around x (6,) with covariance c (6x6), inertial."""

    def __init__(self, x: np.ndarray, c: np.ndarray, sampling: str, mu: float):
        self.x = np.asarray(x, float)
        self.mu = mu
        self.sampling = sampling
        c, self.npd = remediate_npd(c)
        if sampling == "cartesian":
            self.L = _sqrt_factor(c)
        elif sampling == "equinoctial":
            R = rtn_basis(self.x[:3], self.x[3:])
            self.B = np.zeros((6, 6))
            self.B[:3, :3] = self.B[3:, 3:] = R  # inertial -> frozen RTN axes
            xr = self.B @ self.x
            J = _element_jacobian(xr, mu)
            self.e0 = cartesian_to_equinoctial(xr, mu)
            self.L = _sqrt_factor(J @ (self.B @ c @ self.B.T) @ J.T)
        else:
            raise InputError(f"sampling {sampling!r}: 'equinoctial' or 'cartesian'")

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n draws in the sampling space: states (cartesian) or elements (equinoctial)."""
        z = rng.standard_normal((n, 6))
        return (self.x if self.sampling == "cartesian" else self.e0) + z @ self.L.T

    @property
    def mode(self) -> int:
        return 0 if self.sampling == "cartesian" else 1

    @property
    def to_inertial(self) -> np.ndarray:
        # C order always: one compiled specialisation of the kernel
        return np.eye(6) if self.sampling == "cartesian" else np.ascontiguousarray(self.B.T)

    def states(self, draws: np.ndarray) -> np.ndarray:
        """Inertial states (n, 6) of draws (n, 6) in the sampling space."""
        if self.sampling == "cartesian":
            return draws
        return equinoctial_to_cartesian(draws, self.mu) @ self.B


# -- compiled two-body kernels ------------------------------------------------------------------
@nb.njit(cache=True)
def _state(d, mode, M, mu):
    """Inertial state of one draw d (6,): identity (mode 0) or equinoctial elements in the
    frozen-RTN frame (mode 1) converted and rotated by M (6x6)."""
    if mode == 0:
        return d[0], d[1], d[2], d[3], d[4], d[5]
    n, af, ag, chi, psi, lam = d[0], d[1], d[2], d[3], d[4], d[5]
    a = (mu / (n * n)) ** (1.0 / 3.0)
    F = lam
    for _ in range(50):
        sF, cF = math.sin(F), math.cos(F)
        dF = (F + ag * cF - af * sF - lam) / (1.0 - ag * sF - af * cF)
        F -= dF
        if abs(dF) < 1e-14:
            break
    sF, cF = math.sin(F), math.cos(F)
    b = 1.0 / (1.0 + math.sqrt(1.0 - af * af - ag * ag))
    X = a * ((1.0 - ag * ag * b) * cF + af * ag * b * sF - af)
    Y = a * ((1.0 - af * af * b) * sF + af * ag * b * cF - ag)
    rn = a * (1.0 - af * cF - ag * sF)
    Xd = n * a * a / rn * (af * ag * b * cF - (1.0 - ag * ag * b) * sF)
    Yd = n * a * a / rn * ((1.0 - af * af * b) * cF - af * ag * b * sF)
    k = 1.0 / (1.0 + chi * chi + psi * psi)
    f0, f1, f2 = (1.0 - chi * chi + psi * psi) * k, 2.0 * chi * psi * k, -2.0 * chi * k
    g0, g1, g2 = 2.0 * chi * psi * k, (1.0 + chi * chi - psi * psi) * k, 2.0 * psi * k
    loc = (X * f0 + Y * g0, X * f1 + Y * g1, X * f2 + Y * g2, Xd * f0 + Yd * g0, Xd * f1 + Yd * g1, Xd * f2 + Yd * g2)
    out = np.zeros(6)
    for i in range(6):
        acc = 0.0
        for j in range(6):
            acc += M[i, j] * loc[j]
        out[i] = acc
    return out[0], out[1], out[2], out[3], out[4], out[5]


@nb.njit(cache=True)
def _kepler(x, y, z, vx, vy, vz, dt, mu):
    """Two-body state after dt (universal variables, Vallado 2013 algorithm 8)."""
    s = kepler_chi(x, y, z, vx, vy, vz, dt, mu, math.nan)
    return s[0], s[1], s[2], s[3], s[4], s[5]


@nb.njit(cache=True, inline="always")
def _rel(a, b, mu):
    """Squared distance, r.v, and d(r.v)/dt of the pair (b - a)."""
    rx, ry, rz = b[0] - a[0], b[1] - a[1], b[2] - a[2]
    vx, vy, vz = b[3] - a[3], b[4] - a[4], b[5] - a[5]
    ra3 = (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]) ** 1.5
    rb3 = (b[0] * b[0] + b[1] * b[1] + b[2] * b[2]) ** 1.5
    ax = -mu * (b[0] / rb3 - a[0] / ra3)
    ay = -mu * (b[1] / rb3 - a[1] / ra3)
    az = -mu * (b[2] / rb3 - a[2] / ra3)
    d2 = rx * rx + ry * ry + rz * rz
    g = rx * vx + ry * vy + rz * vz
    gd = vx * vx + vy * vy + vz * vz + rx * ax + ry * ay + rz * az
    return d2, g, gd


@nb.njit(cache=True)
def _min_in_step(a, b, h, g0, g1, hbr2, mu):
    """Whether the pair's distance minimum inside a step of length h from states a, b (where
    r.v goes from g0 < 0 to g1 >= 0) is below sqrt(hbr2): safeguarded Newton on r.v.

    The search stops early as a miss once the straight-line closest approach from the current
    iterate, less a bound on the curvature of the relative path over the remaining time
    (|relative acceleration| <= 3 mu / r**3 * separation, Hill's tidal bound with a 1.5 margin),
    still clears the hard-body radius."""
    lo, hi = 0.0, h
    t = h * (-g0) / (g1 - g0)
    for _ in range(60):
        pa = _kepler(a[0], a[1], a[2], a[3], a[4], a[5], t, mu)
        pb = _kepler(b[0], b[1], b[2], b[3], b[4], b[5], t, mu)
        d2, g, gd = _rel(pa, pb, mu)
        if d2 < hbr2:
            return True
        if g < 0.0:
            lo = t
        else:
            hi = t
        v2 = (pb[3] - pa[3]) ** 2 + (pb[4] - pa[4]) ** 2 + (pb[5] - pa[5]) ** 2
        if v2 > 0.0:
            tau = -g / v2  # time to the straight-line closest approach
            lin2 = max(d2 - g * g / v2, 0.0)
            r3 = min(pa[0] ** 2 + pa[1] ** 2 + pa[2] ** 2, pb[0] ** 2 + pb[1] ** 2 + pb[2] ** 2) ** 1.5
            # tau spans at most the bracket; the separation over it is at most d + |v| |span|
            span = max(abs(tau), hi - lo)
            dev = 1.5 * mu / r3 * (math.sqrt(d2) + math.sqrt(v2) * span) * span * span
            if math.sqrt(lin2) - dev > math.sqrt(hbr2):
                return False
        step = -g / gd if gd > 0.0 else 0.0
        tn = t + step
        if not (lo < tn < hi) or gd <= 0.0:
            tn = 0.5 * (lo + hi)
        if abs(tn - t) < 1e-7 or hi - lo < 1e-7:
            return d2 < hbr2
        t = tn
    return False


@nb.njit(cache=True, parallel=True)
def _count_hits(d1, m1, M1, d2, m2, M2, t0, nsteps, h, hbr, mu):
    """Per trial: does the pair come within hbr in [t0, t0 + nsteps h]? Draws d1, d2 (n, 6) at
    TCA in their sampling spaces (see ``_state``)."""
    n = d1.shape[0]
    hit = np.zeros(n, np.bool_)
    hbr2 = hbr * hbr
    for i in nb.prange(n):
        s1 = _state(d1[i], m1, M1, mu)
        s2 = _state(d2[i], m2, M2, mu)
        a = _kepler(s1[0], s1[1], s1[2], s1[3], s1[4], s1[5], t0, mu)
        b = _kepler(s2[0], s2[1], s2[2], s2[3], s2[4], s2[5], t0, mu)
        d2_, g, _ = _rel(a, b, mu)
        if d2_ < hbr2:
            hit[i] = True
            continue
        ca = cb = math.nan
        for _ in range(nsteps):
            a7 = kepler_chi(a[0], a[1], a[2], a[3], a[4], a[5], h, mu, ca)
            b7 = kepler_chi(b[0], b[1], b[2], b[3], b[4], b[5], h, mu, cb)
            ca, cb = a7[6], b7[6]
            a1 = (a7[0], a7[1], a7[2], a7[3], a7[4], a7[5])
            b1 = (b7[0], b7[1], b7[2], b7[3], b7[4], b7[5])
            d2_, g1, _ = _rel(a1, b1, mu)
            if d2_ < hbr2:
                hit[i] = True
                break
            if g < 0.0 and g1 >= 0.0 and _min_in_step(a, b, h, g, g1, hbr2, mu):
                hit[i] = True
                break
            a, b, g = a1, b1, g1
    return hit


@nb.njit(cache=True)
def _propagate(x, ts, mu):
    """States (len(ts), 6) of one state x (6,) at times ts (s from its epoch)."""
    out = np.empty((ts.shape[0], 6))
    for k in range(ts.shape[0]):
        out[k] = _kepler(x[0], x[1], x[2], x[3], x[4], x[5], ts[k], mu)
    return out


def propagate_two_body(x: np.ndarray, t_s: np.ndarray, mu: float = MU_KM3_S2) -> np.ndarray:
    """Exact two-body states (len(t_s), 6) of a state x (6,) in km, km/s after t_s seconds."""
    return _propagate(np.asarray(x, float), np.atleast_1d(np.asarray(t_s, float)), mu)


# -- window -------------------------------------------------------------------------------------
def orbital_period(x: np.ndarray, mu: float = MU_KM3_S2) -> float:
    """Two-body period (s) of a state (6,); inf for an unbound state."""
    energy = 0.5 * float(x[3:] @ x[3:]) - mu / float(np.linalg.norm(x[:3]))
    if energy >= 0.0:
        return math.inf
    a = -mu / (2.0 * energy)
    return 2.0 * math.pi * math.sqrt(a**3 / mu)


def conjunction_window(
    x1: np.ndarray,
    c1: np.ndarray,
    x2: np.ndarray,
    c2: np.ndarray,
    hbr_km: float,
    gamma: float = GAMMA_SIGMA,
    mu: float = MU_KM3_S2,
) -> tuple[float, float]:
    """Encounter window (start, end) in s from TCA: Coppola's rectilinear bounds on the time of
    closest approach (mean +/- gamma sigma + HBR / speed, sigma from the combined 6x6 covariance
    by the delta method), at least +/-90 s, cut to the nominal encounter segment; where those
    bounds exceed 1/16 of the shorter period (curvilinear relative motion), the segment itself."""
    x1, x2 = np.asarray(x1, float), np.asarray(x2, float)
    c = np.asarray(c1, float) + np.asarray(c2, float)
    r, v = x2[:3] - x1[:3], x2[3:] - x1[3:]
    v2 = float(v @ v)
    periods = [orbital_period(x1, mu), orbital_period(x2, mu)]
    half = 0.5 * min(p for p in periods) if all(math.isfinite(p) for p in periods) else 86400.0
    if v2 > 0.0:
        t_mid = -float(r @ v) / v2
        # t* = -(r.v)/|v|^2: var(r.v) = v'Av + r'Bv r + 2 v'X r (A, B, X: position, velocity, cross blocks)
        var = float(v @ c[:3, :3] @ v + r @ c[3:, 3:] @ r + 2.0 * v @ c[:3, 3:] @ r)
        sigma_t = math.sqrt(max(var, 0.0)) / v2
        half_width = gamma * sigma_t + hbr_km / math.sqrt(v2)
    else:
        t_mid, half_width = 0.0, math.inf
    half_width = max(half_width, MIN_HALF_WINDOW_S)
    seg_a, seg_b = _encounter_segment(x1, x2, half, mu)
    if half_width > CURVED_FRACTION * 2.0 * half:
        # the straight-line bound is meaningless once the pass lasts a sizeable part of an orbit
        # (Alfano case 4, GEO at 1.9 cm/s: +/-6,300 s from it, trials still hit at 10,000 s)
        return seg_a, seg_b
    return max(t_mid - half_width, seg_a), min(t_mid + half_width, seg_b)


def _encounter_segment(x1, x2, half_period, mu):
    """Times of the nominal pair's separation maxima nearest before and after TCA, within
    +/- half_period (CARA Pc3D bounds one encounter this way)."""
    n = 512
    t = np.linspace(0.0, half_period, n + 1)
    bounds = []
    for sign in (-1.0, 1.0):
        d = np.linalg.norm(
            propagate_two_body(x2, sign * t, mu)[:, :3] - propagate_two_body(x1, sign * t, mu)[:, :3], axis=1
        )
        k = np.nonzero((d[1:-1] >= d[:-2]) & (d[1:-1] > d[2:]))[0]
        bounds.append(sign * (t[k[0] + 1] if k.size else half_period))
    return bounds[0], bounds[1]


# -- driver -------------------------------------------------------------------------------------
def pc_sdmc(
    x1: np.ndarray,
    c1: np.ndarray,
    x2: np.ndarray,
    c2: np.ndarray,
    hbr_km: float,
    *,
    window_s: tuple[float, float] | None = None,
    seed: int = 0,
    accuracy: float = 0.1,
    confidence: float = 0.95,
    min_samples: int = 10_000,
    max_samples: int = 10_000_000,
    batch: int = 250_000,
    sampling: str = "equinoctial",
    pc_guess: float | None = None,
    mu: float = MU_KM3_S2,
) -> SdmcResult:
    """Monte Carlo Pc of two objects with inertial states (6,) at TCA (km, km/s) and 6x6
    covariances (km**2, km**2/s, km**2/s**2). ``pc_guess`` (e.g. a 2D or 3D Pc) sizes the first
    batch; trials are added until the ``confidence`` interval is within +/-``accuracy`` of the
    estimate or ``max_samples`` have run."""
    if hbr_km <= 0.0:
        raise InputError(f"combined hard-body radius must be positive, got {hbr_km} km")
    if not 0.0 < accuracy < 1.0:
        raise InputError(f"accuracy must lie in (0, 1), got {accuracy}")
    s1 = _Sampler(x1, c1, sampling, mu)
    s2 = _Sampler(x2, c2, sampling, mu)
    ta, tb = window_s if window_s is not None else conjunction_window(x1, c1, x2, c2, hbr_km, mu=mu)
    if not tb > ta:
        raise InputError(f"empty window ({ta}, {tb}) s")
    p_min = min(orbital_period(np.asarray(x1, float), mu), orbital_period(np.asarray(x2, float), mu))
    nsteps = max(MIN_STEPS, math.ceil((tb - ta) / (p_min / STEPS_PER_REV))) if math.isfinite(p_min) else MIN_STEPS
    h = (tb - ta) / nsteps
    rng = np.random.default_rng(seed)
    target = min_samples
    if pc_guess is not None and 0.0 < pc_guess < 1.0:
        # a quarter of what the guess asks for: a 2D guess can be far off where the MC is needed
        target = min(max(min_samples, required_samples(pc_guess, accuracy, confidence) // 4), max_samples)
    hits = done = 0
    converged = False
    while True:
        while done < target:
            n = min(batch, target - done)
            d1, d2 = s1.draw(rng, n), s2.draw(rng, n)
            hit = _count_hits(d1, s1.mode, s1.to_inertial, d2, s2.mode, s2.to_inertial, ta, nsteps, h, hbr_km, mu)
            hits += int(np.count_nonzero(hit))
            done += n
        lo, hi = binomial_interval(hits, done, confidence)
        p = hits / done
        if hits > 0 and hi - p <= accuracy * p and p - lo <= accuracy * p:
            converged = True
            break
        if done >= max_samples:
            break
        # next total: what the estimate asks for (8% over), at least 1.1x and at most 8x the trials so far
        need = 1.08 * required_samples(p, accuracy, confidence) if hits >= 10 else 4 * done
        target = int(min(max_samples, max(1.1 * done, min(need, 8 * done))))
    label = f"SDMC (two-body, {sampling} sampling)"
    return SdmcResult(p, lo, hi, done, hits, (float(ta), float(tb)), (s1.npd, s2.npd), label, confidence, converged)
