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
