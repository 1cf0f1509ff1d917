"""Binomial statistics of Monte Carlo estimates: the exact interval and the trials it takes.

A Monte Carlo probability is hits / trials, a binomial proportion. Its interval here is the exact
Clopper-Pearson (1934) one, from beta quantiles, as Matlab's ``binofit`` (used by NASA CARA's
SDMC) gives it; the trials needed for a target accuracy follow the normal approximation.
"""

from __future__ import annotations

import math

from scipy.special import ndtri
from scipy.stats import beta


def binomial_interval(hits: int, samples: int, confidence: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson (exact) confidence interval of a probability estimated as hits/samples."""
    tail = (1.0 - confidence) / 2
    lo = 0.0 if hits == 0 else float(beta.ppf(tail, hits, samples - hits + 1))
    hi = 1.0 if hits == samples else float(beta.ppf(1.0 - tail, hits + 1, samples - hits))
    return lo, hi


def required_samples(p: float, accuracy: float = 0.1, confidence: float = 0.95) -> int:
    """Trials for which the interval's half-width is ``accuracy`` x p (normal approximation,
    as CARA's ``EstimateRequiredSamples``): z**2 (1 - p) / (accuracy**2 p); about 384 hits for
    10% at 95%."""
    z = float(ndtri(0.5 + 0.5 * confidence))
    return int(math.ceil(z * z * (1.0 - p) / (accuracy * accuracy * p)))
