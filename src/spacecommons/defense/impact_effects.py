"""Impact effects after Collins, Melosh & Marcus (2005), "Earth Impact Effects Program: A
Web-based computer program for calculating the regional environmental consequences of a meteoroid
impact on Earth", Meteoritics & Planetary Science 40, 817-840. Equation numbers refer to it.

The model is approximate by design (the paper's own comparisons are within tens of percent);
tests compare with observed events within that spread.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from scipy.integrate import quad
from scipy.optimize import brentq

from ..constants import KT_TNT_J, MT_TNT_J
from ..errors import InputError

SURFACE_GRAVITY_M_S2 = 9.81  # g on Earth, the value the paper's program uses
SCALE_HEIGHT_M = 8000.0  # H
SURFACE_AIR_KG_M3 = 1.0  # rho_0
DRAG = 2.0  # C_D
PANCAKE = 7.0  # f_p, the limit of L(z)/L0 (eq. 18)
SIMPLE_COMPLEX_M = 3200.0  # D_c on Earth (eq. 25 discussion)
TARGETS = {"rock": 2750.0, "sediment": 2500.0, "water": 1000.0}  # target densities (kg/m^3)


@dataclass(frozen=True)
class ImpactEffects:
    energy_j: float
    energy_mt: float
    breakup_altitude_m: float | None
    airburst_altitude_m: float | None
    impact_speed_m_s: float  # at the surface (0 for an airburst)
    transient_crater_m: float | None
    final_crater_m: float | None
    crater_type: str | None
    seismic_magnitude: float | None
    fireball_radius_m: float
    overpressure_radii_m: dict[str, float]

    def as_dict(self) -> dict:
        return asdict(self)


def _air_density(z_m: float) -> float:
    return SURFACE_AIR_KG_M3 * math.exp(-z_m / SCALE_HEIGHT_M)


def impact_effects(
    diameter_m: float, density_kg_m3: float, speed_km_s: float, angle_deg: float, target: str = "rock"
) -> ImpactEffects:
    """Energy, entry and breakup, crater, seismic magnitude, fireball and air blast."""
    if target not in TARGETS:
        raise InputError(f"target must be one of {sorted(TARGETS)}")
    if not (diameter_m > 0 and density_kg_m3 > 0 and speed_km_s > 0 and 0 < angle_deg <= 90):
        raise InputError("diameter, density and speed must be positive and the angle in (0, 90] degrees")
    L0, rho_i, v0 = diameter_m, density_kg_m3, speed_km_s * 1000.0
    theta = math.radians(angle_deg)
    mass = rho_i * math.pi / 6.0 * L0**3
    energy = 0.5 * mass * v0**2  # eq. 1
    H = SCALE_HEIGHT_M
    # Atmospheric entry: strength (eq. 10) and the breakup parameter (eq. 9)
    strength = 10 ** (2.107 + 0.0624 * math.sqrt(rho_i))
    i_f = 4.07 * DRAG * H * strength / (rho_i * L0 * v0**2 * math.sin(theta))
    breakup = airburst = None
    if i_f >= 1.0:  # reaches the ground intact: drag only (eq. 8 at z = 0)
        v_surface = v0 * math.exp(-3.0 * SURFACE_AIR_KG_M3 * DRAG * H / (4.0 * rho_i * L0 * math.sin(theta)))
    else:
        z_star = -H * (
            math.log(strength / (SURFACE_AIR_KG_M3 * v0**2)) + 1.308 - 0.314 * i_f - 1.303 * math.sqrt(1 - i_f)
        )
        breakup = z_star  # eq. 11
        rho_star = _air_density(z_star)
        v_star = v0 * math.exp(-3.0 * rho_star * DRAG * H / (4.0 * rho_i * L0 * math.sin(theta)))  # eq. 8
        ell = L0 * math.sin(theta) * math.sqrt(rho_i / (DRAG * rho_star))  # eq. 12
        z_b = z_star - 2.0 * H * math.log(1.0 + ell / (2.0 * H) * math.sqrt(PANCAKE**2 - 1.0))  # eq. 18
        if z_b > 0.0:
            airburst = z_b
            v_surface = 0.0
        else:
            # eqs. 13 and 20: the pancake reaches the ground; integrate its drag to the surface
            def width2(z: float) -> float:
                return L0**2 * (1.0 + (2.0 * H / ell) ** 2 * (math.exp((z_star - z) / (2.0 * H)) - 1.0) ** 2)

            integral = quad(lambda z: math.exp((z_star - z) / H) * width2(z), 0.0, z_star)[0]
            v_surface = v_star * math.exp(-0.75 * DRAG * rho_star / (rho_i * L0**3 * math.sin(theta)) * integral)
    transient = final = kind = magnitude = None
    # a body decelerated to rest in the atmosphere (its ground energy underflows to 0) makes no
    # crater and no seismic shaking (log10(0) has no magnitude)
    if airburst is None and target != "water" and 0.5 * mass * v_surface**2 > 0.0:
        rho_t = TARGETS[target]
        transient = (
            1.161
            * (rho_i / rho_t) ** (1 / 3)
            * L0**0.78
            * v_surface**0.44
            * SURFACE_GRAVITY_M_S2**-0.22
            * math.sin(theta) ** (1 / 3)
        )  # eq. 21
        if 1.25 * transient < SIMPLE_COMPLEX_M:
            final, kind = 1.25 * transient, "simple"  # eq. 22
        else:
            final, kind = 1.17 * transient**1.13 / SIMPLE_COMPLEX_M**0.13, "complex"  # eq. 27
        ground_energy = 0.5 * mass * v_surface**2
        magnitude = 0.67 * math.log10(ground_energy) - 5.87  # eq. 40
    fireball = 0.002 * energy ** (1 / 3)  # eq. 32
    radii = {
        name: _blast_radius(energy, airburst or 0.0, pa)
        for name, pa in (
            ("1 psi (windows)", 6_900.0),
            ("5 psi (buildings)", 34_500.0),
            ("20 psi (heavy damage)", 138_000.0),
        )
    }
    return ImpactEffects(
        energy, energy / MT_TNT_J, breakup, airburst, v_surface, transient, final, kind, magnitude, fireball, radii
    )


def _overpressure(r_m: float, energy_j: float, burst_m: float) -> float:
    """Peak overpressure (Pa) at ground range r, scaled from a 1-kt explosion (eqs. 54-58).

    Surface burst: p = p_x r_x / (4 r1) (1 + 3 (r_x / r1)**1.3), p_x = 75 kPa, r_x = 290 m.
    Airburst at scaled height z1: regular reflection p0 exp(-beta r1) inside the Mach-stem
    range r_m1, the surface-burst law beyond it."""
    scale = (energy_j / KT_TNT_J) ** (1 / 3)
    r1 = max(r_m / scale, 1e-9)
    z1 = burst_m / scale
    px, rx = 75_000.0, 290.0
    surface = px * rx / (4.0 * r1) * (1.0 + 3.0 * (rx / r1) ** 1.3)
    if z1 <= 0.0:
        return surface
    r_mach = 550.0 * z1 / (1.2 * (550.0 - z1)) if z1 < 550.0 else math.inf
    if r1 <= r_mach:
        return 3.14e11 * z1**-2.6 * math.exp(-34.87 * z1**-1.73 * r1)
    return surface


def _blast_radius(energy_j: float, burst_m: float, pressure_pa: float) -> float:
    """Ground range (m) inside which the peak overpressure exceeds ``pressure_pa``."""
    f = lambda r: _overpressure(r, energy_j, burst_m) - pressure_pa  # noqa: E731
    hi = 1.0
    while f(hi) > 0.0:
        hi *= 2.0
        if hi > 1e8:
            return math.inf
    if f(1e-3) < 0.0:
        return 0.0
    return brentq(f, 1e-3, hi, xtol=1e-3)
