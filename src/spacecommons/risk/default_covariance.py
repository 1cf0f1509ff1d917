"""A default covariance for TLE-based states, used when no real covariance exists; every output
that uses it says COVARIANCE_METHOD = DEFAULT.

SGP4 element sets carry no covariance. The model below follows the magnitudes measured for
the public catalog by Flohrer, Krag & Klinkrad (2008), "Assessment and categorization of TLE
orbit errors for the US SSN catalogue" (AMOS): errors are largest along track and grow with the
element set's age. It is an engineering default, deliberately generous; it is not a substitute
for an owner/operator covariance.
"""

from __future__ import annotations

import numpy as np

# 1-sigma RTN at epoch (km) and growth per day of element age (km/day), per regime
REGIMES = {
    "LEO": ((0.10, 0.50, 0.10), (0.05, 1.00, 0.05)),  # perigee altitude < 2,000 km
    "MEO": ((0.50, 2.00, 0.50), (0.20, 2.00, 0.20)),
    "GEO": ((1.00, 3.00, 1.00), (0.30, 1.50, 0.30)),  # period 1,300-1,800 min, e < 0.1
    "HEO": ((1.00, 5.00, 1.00), (0.50, 5.00, 0.50)),  # e >= 0.25 with low perigee
}


def default_covariance_rtn(age_days: float, reg: str, mean_motion_rad_s: float) -> np.ndarray:
    """6x6 RTN covariance in m and m/s (CDM units) for an element set ``age_days`` old."""
    base, growth = REGIMES[reg]
    sigma_km = np.array(base) + np.array(growth) * abs(age_days)
    sigma_m = sigma_km * 1000.0
    # velocity sigmas: position sigmas times the mean motion (the scale of orbital variations)
    cov = np.zeros((6, 6))
    cov[:3, :3] = np.diag(sigma_m**2)
    cov[3:, 3:] = np.diag((sigma_m * mean_motion_rad_s) ** 2)
    return cov
