"""Maximum Pc when no covariance is known (Alfano 2005, isotropic form): the largest 2D Pc over
all isotropic covariance sizes sigma for the given miss distance and hard-body radius.
For R << d it tends to R**2 / (e d**2), reached at sigma = d / sqrt(2)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

from .foster import pc_circle


def max_pc_isotropic(miss: float, hbr: float) -> tuple[float, float]:
    """(maximum Pc, sigma at the maximum); miss and hbr in the same unit."""
    if miss <= hbr:
        return 1.0, 0.0  # sigma -> 0 puts all probability inside the hard body

    def neg(log_sigma: float) -> float:
        s = np.exp(log_sigma)
        return -float(pc_circle(np.array([miss, 0.0]), np.diag([s * s, s * s]), hbr)[0])

    guess = np.log(miss / np.sqrt(2.0))
    res = minimize_scalar(neg, bracket=(guess - 1.0, guess, guess + 1.0), tol=1e-10)
    return -float(res.fun), float(np.exp(res.x))
