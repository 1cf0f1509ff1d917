"""One close approach on the b-plane, with the orbit's uncertainty mapped onto it.

Method: the nominal orbit and, when it has a covariance, 12 difference orbits (+-1 sigma along
each principal axis of the 6x6 Cartesian covariance, as ``approaches.approach_uncertainty``) are
integrated together from the epoch to a day before the approach (ASSIST, full force model); each
is refined to its own closest approach (``approaches.refine_minimum``) and its two-body hyperbola
there gives its b-plane point (``bplane.bplane``: Valsecchi et al. 2003 axes, xi along
V_planet x U, zeta = xi x eta). The b-plane covariance is the linear map
C = sum_k d_k d_k^T of the half-differences d_k = (p_k+ - p_k-) / 2 (Milani & Valsecchi 1999,
"The asteroid identification problem II"; the same central differences as CNEOS's linear
close-approach uncertainty). Its n-sigma ellipse has semi-axes n sqrt(lambda_i) of C's eigenvalues.

Units: km on the b-plane, km/s, TDB Julian dates. Linear: valid while the ellipse is small
against the distance to the planet (it says nothing about a strongly non-linear case, where
sampling, ``impact.monitor``, is the tool)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..constants import AU_KM, AU_PER_DAY_KM_S, BODY_RADIUS_IAU_KM, GM_DE440_KM3_S2
from ..errors import InputError
from .approaches import refine_minimum
from .bplane import BPlane, bplane
from .nbody import DEFAULT_SETTINGS, Integrator, NBodySettings, body_state, heliocentric_to_barycentric
from .orbit import SmallBodyOrbit, heliocentric_states

SEARCH_DAYS = 1.0  # the closest approach is looked for within +-1 day of the given time


@dataclass(frozen=True)
class Ellipse:
    """A covariance ellipse on the b-plane: semi-axes (km) and the major axis's angle from xi towards zeta."""

    semi_major_km: float
    semi_minor_km: float
    angle_deg: float


@dataclass(frozen=True)
class ApproachBPlane:
    """A close approach on the b-plane: the nominal point and, with a covariance, its 2x2 covariance (km^2)."""

    designation: str
    body: str
    tca_jd_tdb: float
    distance_km: float  # nominal closest distance from the planet's centre
    nominal: BPlane
    covariance_km2: np.ndarray | None  # (2, 2) over (xi, zeta)

    def ellipse(self, n_sigma: float = 1.0) -> Ellipse | None:
        """The n-sigma ellipse; ``None`` without a covariance."""
        if self.covariance_km2 is None:
            return None
        w, v = np.linalg.eigh(0.5 * (self.covariance_km2 + self.covariance_km2.T))
        major = v[:, 1]
        angle = math.degrees(math.atan2(major[1], major[0]))
        angle = (angle + 90.0) % 180.0 - 90.0  # an axis, not a direction: (-90, 90]
        return Ellipse(n_sigma * math.sqrt(max(float(w[1]), 0.0)), n_sigma * math.sqrt(max(float(w[0]), 0.0)), angle)


def approach_bplane(
    orbit: SmallBodyOrbit,
    jd_tdb: float,
    body: str = "earth",
    settings: NBodySettings = DEFAULT_SETTINGS,
) -> ApproachBPlane:
    """The close approach of ``orbit`` to ``body`` nearest ``jd_tdb`` (within a day) on the b-plane."""
    from .orbit import cartesian_covariance

    body = body.lower()
    if body not in GM_DE440_KM3_S2 or body not in BODY_RADIUS_IAU_KM:
        raise InputError(f"unknown body {body!r}")
    if orbit.covariance is not None:
        helio, cov = cartesian_covariance(orbit)
        nominal = heliocentric_to_barycentric(helio, orbit.epoch_jd_tdb)[0]
        w, V = np.linalg.eigh(0.5 * (cov + cov.T))
        L = V * np.sqrt(np.clip(w, 0.0, None))
        states = np.array([nominal] + [nominal + sign * L[:, k] for k in range(6) for sign in (1.0, -1.0)])
    else:
        states = heliocentric_to_barycentric(heliocentric_states([orbit]), orbit.epoch_jd_tdb)
    nongrav = np.array(orbit.nongrav, float)
    lo, hi = jd_tdb - SEARCH_DAYS, jd_tdb + SEARCH_DAYS
    integ = Integrator(orbit.epoch_jd_tdb, states, np.repeat(nongrav[None], len(states), axis=0), settings)
    integ.integrate(lo)
    gm, radius = GM_DE440_KM3_S2[body], BODY_RADIUS_IAU_KM[body]
    points: list[BPlane] = []
    tca0 = dist0 = None
    for k, s in enumerate(integ.states()):
        try:
            tca, rel = refine_minimum(lo, s, nongrav, lo, hi, body, settings, guess=jd_tdb)
        except ValueError:
            raise InputError(
                f"{orbit.designation}: no closest approach to {body} within {SEARCH_DAYS:g} day of JD {jd_tdb:.4f} TDB"
                + ("" if k == 0 else " for every orbit within 1 sigma: the linear map does not hold here")
            ) from None
        rel_km = np.concatenate([rel[:3] * AU_KM, rel[3:] * AU_PER_DAY_KM_S])
        points.append(bplane(rel_km, body_state(body, tca)[3:] * AU_PER_DAY_KM_S, gm, radius))
        if k == 0:
            tca0, dist0 = tca, float(np.linalg.norm(rel_km[:3]))
    cov2 = None
    if len(points) > 1:
        xz = np.array([[p.xi_km, p.zeta_km] for p in points[1:]])
        d = (xz[0::2] - xz[1::2]) / 2.0
        cov2 = d.T @ d
    return ApproachBPlane(orbit.designation, body, float(tca0), float(dist0), points[0], cov2)
