"""The catalog's mitigation picture: objects by regime, owner and type that stay up past 5 / 25 years.

Pure bookkeeping over arrays the caller computed (lifetimes from :mod:`.lifetime`, regimes from
:mod:`spacecommons.catalog.elements`); the CLI writes it as CSV/JSON and draws it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..catalog.elements import ElementSet

DAYS_PER_YEAR = 365.25


def object_type(e: ElementSet) -> str:
    """PAY, R/B, DEB or UNKNOWN: the OMM OBJECT_TYPE when given, else from the name (CelesTrak/Space-Track
    names end in ``R/B`` for rocket bodies and contain ``DEB`` for debris)."""
    given = e.fields.get("OBJECT_TYPE", "").upper()
    if given:
        return {"PAYLOAD": "PAY", "ROCKET BODY": "R/B", "DEBRIS": "DEB"}.get(given, given)
    name = e.name.upper()
    if "R/B" in name:
        return "R/B"
    if "DEB" in name or "COOLANT" in name or "FRAG" in name:
        return "DEB"
    return "PAY" if name else "UNKNOWN"


@dataclass(frozen=True)
class ReportRow:
    regime: str
    owner: str
    object_type: str
    objects: int
    beyond_5_years: int
    beyond_25_years: int


@dataclass(frozen=True)
class CatalogReport:
    rows: list[ReportRow]
    method: str
    horizon_years: float
    totals: dict[str, int] = field(default_factory=dict)


def mitigation_report(
    regimes: Sequence[str],
    owners: Sequence[str],
    types: Sequence[str],
    lifetime_days: np.ndarray,
    method: str,
    horizon_years: float,
) -> CatalogReport:
    """Counts per (regime, owner, type): all objects, those not down within 5 and 25 years.

    Objects outside LEO never re-enter by drag; they count as beyond both horizons.
    """
    life_y = np.asarray(lifetime_days, dtype=float) / DAYS_PER_YEAR
    keys = list(zip(regimes, owners, types, strict=True))
    total: Counter = Counter(keys)
    b5: Counter = Counter(k for k, y in zip(keys, life_y, strict=True) if not y <= 5.0)
    b25: Counter = Counter(k for k, y in zip(keys, life_y, strict=True) if not y <= 25.0)
    rows = [ReportRow(r, o, t, n, b5[(r, o, t)], b25[(r, o, t)]) for (r, o, t), n in sorted(total.items())]
    totals = {
        "objects": len(keys),
        "beyond_5_years": int(np.sum(~(life_y <= 5.0))),
        "beyond_25_years": int(np.sum(~(life_y <= 25.0))),
    }
    return CatalogReport(rows, method, horizon_years, totals)


FAST_HORIZON_YEARS = 26.0  # one year past the 25-year rule, so "beyond 25 years" is decided, not truncated


def catalog_lifetimes(
    elements: Sequence[ElementSet], density, *, default_b_m2_kg: float = 0.02
) -> tuple[list[ElementSet], list[str], np.ndarray]:
    """The newest set per object, its regime, and its remaining lifetime (days; ``inf`` past the horizon).

    LEO objects decay under ``density`` (the fast :class:`~.lifetime.TabulatedDensity` for a whole
    catalog) with 30-day maximum steps; other regimes get ``inf`` (drag does not bring them down).
    """
    from ..catalog.elements import element_regime
    from .lifetime import OrbitState, ballistic_coefficients, decay, group_histories

    histories = group_histories(elements)
    latest = [max(h, key=lambda s: s.epoch_jd + s.epoch_fr) for h in histories]
    regimes = [str(element_regime(e)) for e in latest]
    life = np.full(len(latest), np.inf)
    idx = np.flatnonzero([r == "LEO" for r in regimes])
    if idx.size:
        b, _ = ballistic_coefficients([histories[k] for k in idx], density, default_b_m2_kg=default_b_m2_kg)
        state = OrbitState.from_elements([latest[k] for k in idx])
        life[idx] = decay(state, b, density, max_days=FAST_HORIZON_YEARS * DAYS_PER_YEAR, max_step_days=30.0).days
    return latest, regimes, life
