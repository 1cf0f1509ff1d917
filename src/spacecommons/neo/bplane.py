"""Öpik / b-plane coordinates of a planetary encounter (Valsecchi et al. 2003 convention).

From a planetocentric state (km, km/s) on the incoming leg, the two-body hyperbola gives the
unperturbed velocity U (v_infinity), the incoming asymptote S and the impact parameter b. The
b-plane is normal to U through the planet's centre; eta is along U, xi = (V_planet x U)/|...|
and zeta = xi x eta, so that xi is the local MOID and zeta measures the timing of the
encounter. An encounter is an impact when b is below the capture radius
b_E = R sqrt(1 + 2 GM / (R v_inf^2)) (gravitational focusing)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError


@dataclass(frozen=True)
class BPlane:
    xi_km: float
    zeta_km: float
    b_km: float  # impact parameter, |(xi, zeta)|
    v_inf_km_s: float
    capture_radius_km: float
    periapsis_km: float  # closest distance of the two-body hyperbola
    time_to_periapsis_s: float  # from the given state (negative: already past)

    @property
    def impact(self) -> bool:
        return self.b_km < self.capture_radius_km


def capture_radius(radius_km: float, gm_km3_s2: float, v_inf_km_s: float) -> float:
    """Gravitationally focused cross-section radius of a planet."""
    return radius_km * math.sqrt(1.0 + 2.0 * gm_km3_s2 / (radius_km * v_inf_km_s**2))


def bplane(rel_state_km, planet_velocity_km_s, gm_km3_s2: float, radius_km: float) -> BPlane:
    """b-plane of the hyperbola through ``rel_state_km`` (object minus planet, km and km/s);
    ``planet_velocity_km_s`` is the planet's heliocentric velocity (orients xi and zeta)."""
    s = np.asarray(rel_state_km, float)
    r, v = s[:3], s[3:]
    rn = float(np.linalg.norm(r))
    energy = 0.5 * float(v @ v) - gm_km3_s2 / rn
    if energy <= 0:
        raise InputError("the object is bound to the planet: no b-plane (temporary capture)")
    v_inf = math.sqrt(2.0 * energy)
    h = np.cross(r, v)
    hn = float(np.linalg.norm(h))
    e_vec = np.cross(v, h) / gm_km3_s2 - r / rn
    e = float(np.linalg.norm(e_vec))
    h_hat, e_hat = h / hn, e_vec / e
    # incoming asymptote (direction of U): e_hat/e + sqrt(1 - 1/e^2) (h_hat x e_hat)
    u_hat = e_hat / e + math.sqrt(1.0 - 1.0 / e**2) * np.cross(h_hat, e_hat)
    b = hn / v_inf
    b_vec = b * np.cross(u_hat, h_hat)
    vp = np.asarray(planet_velocity_km_s, float)
    xi_hat = np.cross(vp, u_hat)
    xi_hat /= np.linalg.norm(xi_hat)
    zeta_hat = np.cross(xi_hat, u_hat)
    a = -gm_km3_s2 / (2.0 * energy)
    # hyperbolic anomaly F (sinh F = r.v / (e sqrt(-mu a))) and mean anomaly e sinh F - F: time to periapsis
    sinh_f = float(r @ v) / (e * math.sqrt(-gm_km3_s2 * a))
    mean = e * sinh_f - math.asinh(sinh_f)
    n = math.sqrt(gm_km3_s2 / (-a) ** 3)
    return BPlane(
        xi_km=float(b_vec @ xi_hat),
        zeta_km=float(b_vec @ zeta_hat),
        b_km=b,
        v_inf_km_s=v_inf,
        capture_radius_km=capture_radius(radius_km, gm_km3_s2, v_inf),
        periapsis_km=a * (1.0 - e),
        time_to_periapsis_s=-mean / n,
    )
