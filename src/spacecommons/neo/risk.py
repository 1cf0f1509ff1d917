"""Sentry-style risk assessment of one orbit: impact monitoring plus Palermo and Torino values."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..constants import DAYS_PER_JULIAN_YEAR
from ..errors import parse_choice
from ..timescales import jd_to_iso
from .impact import (
    MonitoringResult,
    PotentialImpact,
    SamplingMethod,
    diameter_from_h,
    impact_energy_mt,
    monitor,
    sample_lov,
    sample_monte_carlo,
)
from .nbody import heliocentric_to_barycentric
from .orbit import SmallBodyOrbit, cartesian_covariance
from .scales import palermo, palermo_cumulative
from .torino import torino


@dataclass
class RiskSummary:
    """One row of a risk list, named as Sentry's summary table."""

    des: str
    fullname: str
    method: str
    samples: int
    h: float | None
    diameter_km: float | None
    impacts: list[PotentialImpact] = field(default_factory=list)

    @property
    def n_imp(self) -> int:
        return len(self.impacts)

    @property
    def ip(self) -> float:
        return float(sum(i.impact_probability for i in self.impacts))

    @property
    def range(self) -> str:
        if not self.impacts:
            return ""
        years = [jd_to_iso(i.jd_tdb, 0.0)[:4] for i in self.impacts]
        return f"{min(years)}-{max(years)}"

    @property
    def ps_max(self) -> float | None:
        values = [i.palermo for i in self.impacts if i.palermo is not None]
        return max(values) if values else None

    @property
    def ps_cum(self) -> float | None:
        values = [i.palermo for i in self.impacts if i.palermo is not None]
        return palermo_cumulative(values) if values else None

    @property
    def ts_max(self) -> int | None:
        values = [i.torino for i in self.impacts if i.torino is not None]
        return max(values) if values else None

    @property
    def v_inf(self) -> float | None:
        return self.impacts[0].v_inf_km_s if self.impacts else None

    def row(self) -> dict:
        fmt = lambda x, f: "" if x is None else format(x, f)  # noqa: E731
        return {
            "des": self.des,
            "fullname": self.fullname,
            "range": self.range,
            "n_imp": self.n_imp,
            "ip": fmt(self.ip, ".3g"),
            "ps_cum": fmt(self.ps_cum, ".2f"),
            "ps_max": fmt(self.ps_max, ".2f"),
            "ts_max": fmt(self.ts_max, "d"),
            "diameter": fmt(self.diameter_km, ".3g"),
            "v_inf": fmt(self.v_inf, ".3f"),
            "h": fmt(self.h, ".2f"),
            "method": self.method,
            "samples": self.samples,
        }


def assess_impact_risk(
    orbit: SmallBodyOrbit,
    horizon_jd: float,
    samples: int = 1000,
    method: SamplingMethod | str = SamplingMethod.MONTE_CARLO,
    seed: int = 1,
    density_kg_m3: float = 2600.0,
) -> tuple[RiskSummary, MonitoringResult]:
    """Impact monitoring of ``orbit`` (which must carry a covariance) up to ``horizon_jd``."""
    method = parse_choice(SamplingMethod, method, "sampling method")
    helio, cov = cartesian_covariance(orbit)
    state = heliocentric_to_barycentric(helio, orbit.epoch_jd_tdb)[0]
    if method is SamplingMethod.MONTE_CARLO:
        states, weights = sample_monte_carlo(state, cov, samples, seed)
    else:
        states, weights = sample_lov(state, cov, samples)
    nongrav = np.array(orbit.nongrav) if any(orbit.nongrav) else None
    result = monitor(states, weights, orbit.epoch_jd_tdb, horizon_jd, nongrav=nongrav, method=method)
    diameter = orbit.diameter_km
    if diameter is None and orbit.h_mag is not None:
        diameter = diameter_from_h(orbit.h_mag, orbit.albedo or 0.154)
    scored = []
    for imp in result.impacts:
        if diameter is None:
            scored.append(imp)
            continue
        energy = impact_energy_mt(diameter, imp.v_inf_km_s, density_kg_m3)
        years = max((imp.jd_tdb - orbit.epoch_jd_tdb) / DAYS_PER_JULIAN_YEAR, 1.0 / DAYS_PER_JULIAN_YEAR)
        scored.append(
            PotentialImpact(
                **{
                    **imp.__dict__,
                    "energy_mt": energy,
                    "palermo": palermo(imp.impact_probability, energy, years),
                    "torino": torino(imp.impact_probability, energy),
                }
            )
        )
    result.impacts = scored
    summary = RiskSummary(orbit.designation, orbit.name, method, samples, orbit.h_mag, diameter, scored)
    return summary, result
