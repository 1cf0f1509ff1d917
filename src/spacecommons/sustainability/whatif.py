""" "What if X broke up now?": the conjunctions a fragment cloud adds to the rest of the catalog.

Method. Only objects whose perigee-apogee band overlaps the cloud's (padded by the screening
threshold) can meet a fragment, so one screening runs on that band plus the cloud, with the band's objects as
primaries: catalog-catalog events are the **baseline**, catalog-fragment events the **addition**;
fragment-fragment pairs (the cloud's own business, millions right after the event) are never
formed, and the parent itself is left out — it no longer exists. The increase is the ratio of the added
events to the baseline events over the same window, with the same threshold and engine
(:func:`spacecommons.conjunction.screen.screen`). Conjunctions of objects outside the band are
unchanged by the breakup, so ``baseline`` is the band's rate, not the whole catalog's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..catalog.elements import ElementSet
from ..conjunction.params import ScreeningParams
from ..conjunction.screen import screen
from .breakup import gabbard


@dataclass(frozen=True)
class WhatIf:
    """The result: event counts, their times (s after the window start) and the band screened."""

    days: float
    threshold_km: float
    band_km: tuple[float, float]
    objects_in_band: int
    fragments: int
    baseline_events: int
    added_events: int
    baseline_tca_s: np.ndarray
    added_tca_s: np.ndarray

    @property
    def increase(self) -> float:
        """Added events / baseline events (``inf`` when the band had none)."""
        return self.added_events / self.baseline_events if self.baseline_events else float("inf")


def conjunction_rate_increase(
    catalog: Sequence[ElementSet],
    cloud: Sequence[ElementSet],
    params: ScreeningParams,
    *,
    parent_ids: Sequence[int] = (),
    workers: int | None = None,
) -> WhatIf:
    """Screen the catalog band with and without the cloud over ``params``' window."""
    g = gabbard(list(cloud))
    pad = params.threshold_km
    lo, hi = float(np.min(g["perigee_km"])) - pad, float(np.max(g["apogee_km"])) + pad
    cat = [e for e in catalog if e.norad_id not in set(parent_ids)]
    gc = gabbard(cat) if cat else {"perigee_km": np.zeros(0), "apogee_km": np.zeros(0)}
    in_band = (gc["apogee_km"] >= lo) & (gc["perigee_km"] <= hi)
    band = [e for e, keep in zip(cat, in_band, strict=True) if keep]
    # one screening with the catalog objects as primaries: catalog-catalog pairs are the baseline,
    # catalog-fragment pairs the addition, and the (many, slow, irrelevant) fragment-fragment pairs
    # are never formed
    band_ids = tuple(sorted({e.norad_id for e in band}))
    cloud_ids = {e.norad_id for e in cloud}
    result = screen(band + list(cloud), replace(params, primaries=band_ids), workers=workers)
    base = [e for e in result.events if e.id1 not in cloud_ids and e.id2 not in cloud_ids]
    added = [e for e in result.events if (e.id1 in cloud_ids) != (e.id2 in cloud_ids)]
    return WhatIf(
        days=params.days,
        threshold_km=params.threshold_km,
        band_km=(lo, hi),
        objects_in_band=len(band),
        fragments=len(cloud_ids),
        baseline_events=len(base),
        added_events=len(added),
        baseline_tca_s=np.array([e.tca_s for e in base], dtype=float),
        added_tca_s=np.array([e.tca_s for e in added], dtype=float),
    )
