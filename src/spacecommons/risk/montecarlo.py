"""Monte Carlo Pc for encounters where the 2D assumptions fail (slow, long, curved encounters).

Both objects' states at TCA are sampled from their 6x6 inertial covariances, each sample pair is
propagated with two-body motion (RK4) over the encounter window, and a hit is counted when the
pair's distance, minimised over each step with straight-line relative motion inside the step,
falls below the hard-body radius. The 95% interval is Clopper-Pearson. Reproducible with a seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import beta

from ..constants import GM_EARTH_EGM96_KM3_S2


@dataclass(frozen=True)
class MonteCarloPc:
    pc: float
    ci_low: float
    ci_high: float
    hits: int
    samples: int
    window_s: float


def _accel(r: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(r, axis=-1, keepdims=True)
    return -GM_EARTH_EGM96_KM3_S2 * r / n**3


def _rk4(y: np.ndarray, dt: float) -> np.ndarray:
    def f(s):
        return np.concatenate([s[..., 3:], _accel(s[..., :3])], axis=-1)

    k1 = f(y)
    k2 = f(y + 0.5 * dt * k1)
    k3 = f(y + 0.5 * dt * k2)
    k4 = f(y + dt * k3)
    return y + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


def _segment_min(d0: np.ndarray, d1: np.ndarray) -> np.ndarray:
    """Minimum distance along the straight segment d0 -> d1 (relative positions)."""
    dd = d1 - d0
    den = np.einsum("...i,...i->...", dd, dd)
    s = np.clip(-np.einsum("...i,...i->...", d0, dd) / np.where(den > 0, den, 1.0), 0.0, 1.0)
    return np.linalg.norm(d0 + s[..., None] * dd, axis=-1)


def pc_monte_carlo(
    x1_km: np.ndarray,
    c1_km: np.ndarray,
    x2_km: np.ndarray,
    c2_km: np.ndarray,
    hbr_km: float,
    window_s: float,
    samples: int = 100_000,
    seed: int = 0,
    steps: int = 200,
    batch: int = 50_000,
) -> MonteCarloPc:
    """States (6,) in km, km/s at TCA and inertial 6x6 covariances in km**2-based units."""
    rng = np.random.default_rng(seed)
    l1 = _chol(c1_km)
    l2 = _chol(c2_km)
    dt = 2.0 * window_s / steps
    hits = 0
    done = 0
    while done < samples:
        n = min(batch, samples - done)
        s1 = x1_km + rng.standard_normal((n, 6)) @ l1.T
        s2 = x2_km + rng.standard_normal((n, 6)) @ l2.T
        best = np.linalg.norm(s2[:, :3] - s1[:, :3], axis=-1)
        for direction in (-1.0, 1.0):
            a, b = s1.copy(), s2.copy()
            prev = b[:, :3] - a[:, :3]
            for _ in range(steps // 2):
                a = _rk4(a, direction * dt)
                b = _rk4(b, direction * dt)
                cur = b[:, :3] - a[:, :3]
                best = np.minimum(best, _segment_min(prev, cur))
                prev = cur
        hits += int(np.count_nonzero(best < hbr_km))
        done += n
    lo, hi = binomial_interval(hits, samples)
    return MonteCarloPc(hits / samples, lo, hi, hits, samples, window_s)


def binomial_interval(hits: int, samples: int, confidence: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson (exact) confidence interval of a probability estimated as hits/samples."""
    tail = (1.0 - confidence) / 2
    lo = 0.0 if hits == 0 else float(beta.ppf(tail, hits, samples - hits + 1))
    hi = 1.0 if hits == samples else float(beta.ppf(1.0 - tail, hits + 1, samples - hits))
    return lo, hi


def _chol(c: np.ndarray) -> np.ndarray:
    """Cholesky factor; a non-positive-definite covariance is clipped to its PSD part first."""
    c = 0.5 * (c + c.T)
    w, V = np.linalg.eigh(c)
    w = np.clip(w, 0.0, None)
    return V * np.sqrt(w)
