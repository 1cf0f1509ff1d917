"""Kinetic-impactor deflection: momentum transfer, re-propagation, b-plane outcome, lead-time scans.

Momentum balance (Rivkin et al. 2021, DART): M dv = m U + m (beta - 1) (E . U) E, with m, U the
impactor's mass and velocity relative to the target, E the outward surface normal at the impact
site and beta the momentum enhancement (1: no ejecta; DART measured 3.61 on Dimorphos).

The deflected orbit is re-propagated with the full n-body model (spacecommons.neo.nbody) and
its encounter is closed on the b-plane (spacecommons.neo.impact.monitor): the outcome is the
impact parameter b, the capture radius b_E and the hyperbola's periapsis distance, in Earth
radii. A scan evaluates all push sizes of one lead time in one simulation."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..constants import AU_PER_DAY_KM_S, BODY_RADIUS_IAU_KM, DAYS_PER_JULIAN_YEAR
from ..errors import InputError
from ..neo.impact import monitor
from ..neo.nbody import DEFAULT_SETTINGS, Integrator, NBodySettings


def target_mass_kg(diameter_m: float, density_kg_m3: float = 2600.0) -> float:
    """Mass of a sphere."""
    return density_kg_m3 * math.pi / 6.0 * diameter_m**3


def kinetic_impactor_dv(
    impactor_mass_kg: float,
    impactor_velocity_km_s,
    target_mass_kg_: float,
    beta: float = 1.0,
    surface_normal=None,
) -> np.ndarray:
    """Velocity change of the target (km/s, 3-vector). ``surface_normal`` defaults to head-on
    (the normal opposite to U), where the formula reduces to dv = beta m U / M."""
    U = np.asarray(impactor_velocity_km_s, float)
    E = -U / np.linalg.norm(U) if surface_normal is None else np.asarray(surface_normal, float)
    E = E / np.linalg.norm(E)
    m = impactor_mass_kg
    return (m * U + m * (beta - 1.0) * float(E @ U) * E) / target_mass_kg_


@dataclass(frozen=True)
class DeflectionOutcome:
    lead_days: float
    dv_mm_s: float
    encounter_jd: float | None
    b_km: float | None
    capture_radius_km: float | None
    periapsis_km: float | None

    @property
    def impact(self) -> bool:
        return self.b_km is not None and self.capture_radius_km is not None and self.b_km < self.capture_radius_km

    @property
    def miss_earth_radii(self) -> float | None:
        """Closest distance of the deflected encounter in Earth radii (< 1: impact)."""
        return None if self.periapsis_km is None else self.periapsis_km / BODY_RADIUS_IAU_KM["earth"]


def along_track(state: np.ndarray) -> np.ndarray:
    """Unit vector along the heliocentric-ish (barycentric) velocity of a state."""
    v = np.asarray(state[3:], float)
    return v / np.linalg.norm(v)


def deflection_scan(
    state: np.ndarray,
    jd_tdb: float,
    encounter_jd: float,
    lead_days: list[float],
    dv_mm_s: list[float],
    nongrav: np.ndarray | None = None,
    settings: NBodySettings = DEFAULT_SETTINGS,
) -> list[DeflectionOutcome]:
    """Outcomes of along-track pushes of each size applied each lead time before the encounter.

    ``state`` is the barycentric ICRF state (au, au/day) at ``jd_tdb``; ``dv_mm_s`` may include 0
    (the undeflected reference). Pushes are along the velocity (positive: speeds the body up)."""
    out: list[DeflectionOutcome] = []
    nominal = Integrator(jd_tdb, np.asarray(state, float)[None], None if nongrav is None else [nongrav], settings)
    for lead in sorted(lead_days, reverse=True):
        t_apply = encounter_jd - lead
        if t_apply < jd_tdb:
            raise InputError(f"lead time {lead} d starts before the orbit epoch")
        nominal.integrate(t_apply)
        s = nominal.states()[0]
        direction = along_track(s)
        variants = np.repeat(s[None], len(dv_mm_s), axis=0)
        for k, dv in enumerate(dv_mm_s):
            variants[k, 3:] += direction * (dv * 1e-6 / AU_PER_DAY_KM_S)
        result = monitor(
            variants,
            np.full(len(dv_mm_s), 1.0 / len(dv_mm_s)),
            t_apply,
            encounter_jd + 2.0,
            nongrav=nongrav,
            settings=settings,
        )
        near = {}
        for e in result.encounters:
            if abs(e.jd_tdb - encounter_jd) < 2.0:
                near[e.sample] = e
        for k, dv in enumerate(dv_mm_s):
            e = near.get(k)
            out.append(
                DeflectionOutcome(
                    lead,
                    dv,
                    None if e is None else e.jd_tdb,
                    None if e is None else e.bplane.b_km,
                    None if e is None else e.bplane.capture_radius_km,
                    None if e is None else e.bplane.periapsis_km,
                )
            )
    return out


def required_dv(outcomes: list[DeflectionOutcome], miss_earth_radii: float) -> dict[float, float | None]:
    """Per lead time, the smallest scanned push (mm/s, interpolated) that gives a closest
    distance of at least ``miss_earth_radii``; None when no scanned push does."""
    by_lead: dict[float, list[DeflectionOutcome]] = {}
    for o in outcomes:
        by_lead.setdefault(o.lead_days, []).append(o)
    answer: dict[float, float | None] = {}
    for lead, rows in by_lead.items():
        rows = sorted((r for r in rows if r.miss_earth_radii is not None), key=lambda r: r.dv_mm_s)
        answer[lead] = None
        for lo, hi in zip(rows, rows[1:], strict=False):
            if lo.miss_earth_radii < miss_earth_radii <= hi.miss_earth_radii:
                f = (miss_earth_radii - lo.miss_earth_radii) / (hi.miss_earth_radii - lo.miss_earth_radii)
                answer[lead] = lo.dv_mm_s + f * (hi.dv_mm_s - lo.dv_mm_s)
                break
        if rows and answer[lead] is None and rows[0].miss_earth_radii >= miss_earth_radii:
            answer[lead] = rows[0].dv_mm_s
    return answer


def plot_scan(outcomes: list[DeflectionOutcome], path, miss_earth_radii: float | None = None) -> None:
    """Closest distance (Earth radii) against push size, one line per lead time (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for lead in sorted({o.lead_days for o in outcomes}):
        rows = sorted(
            (o for o in outcomes if o.lead_days == lead and o.miss_earth_radii is not None), key=lambda o: o.dv_mm_s
        )
        ax.plot(
            [o.dv_mm_s for o in rows],
            [o.miss_earth_radii for o in rows],
            marker="o",
            ms=3,
            label=f"{lead / DAYS_PER_JULIAN_YEAR:.2g} yr before",
        )
    ax.axhline(1.0, color="crimson", lw=1, ls="--", label="Earth's surface")
    if miss_earth_radii:
        ax.axhline(miss_earth_radii, color="grey", lw=1, ls=":", label=f"goal: {miss_earth_radii:g} R_E")
    ax.set_xlabel("along-track push dv (mm/s)")
    ax.set_ylabel("closest distance (Earth radii)")
    ax.set_title("Kinetic-impactor deflection scan")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
