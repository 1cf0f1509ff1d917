"""Impact monitoring of stored or given NEO orbits: one risk-list row per orbit with a covariance.

Used by ``spacecommons neo risk`` and ``POST /api/v1/neo/risk``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..constants import DAYS_PER_JULIAN_YEAR
from ..neo.orbit import SmallBodyOrbit


def risk_rows(
    orbits: Iterable[SmallBodyOrbit],
    horizon_years: float,
    samples: int,
    method: str,
    seed: int,
    on_orbit: Callable[[SmallBodyOrbit], None] | None = None,
) -> list[dict]:
    """``neo.risk.assess_impact_risk`` of each orbit from its epoch to ``horizon_years`` later; ``on_orbit`` is
    called before each one (progress). Orbits must carry a covariance."""
    from ..neo.risk import assess_impact_risk

    rows = []
    for o in orbits:
        if on_orbit is not None:
            on_orbit(o)
        summary, _ = assess_impact_risk(o, o.epoch_jd_tdb + horizon_years * DAYS_PER_JULIAN_YEAR, samples, method, seed)
        rows.append(summary.row())
    return rows


__all__ = ["risk_rows"]
