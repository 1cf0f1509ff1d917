"""Torino impact hazard scale (Binzel 2000; revised wording Morrison et al. 2004).

The scale is a chart of impact probability P against kinetic energy E (Mt TNT). The published
definition is that chart, not a formula; this module digitises it in log10 space:

- E < 1 Mt (objects that break up in the atmosphere): 0.
- P >= 0.99, certain collisions: 8 (localised, E < 1e2 Mt), 9 (regional, < 1e5 Mt), 10 (global).
- Diagonal zone boundaries of the form log E + 1.25 log P >= c: the orange "threatening" zone
  (5, 6, 7) for c = 2.25; yellow "meriting attention" (2, 3, 4) for c = 1.0 or P >= 0.01;
  green "normal" (1) for c = -3; below that white (0).
- Inside yellow, P >= 0.01 splits into 3 (E < 1e2 Mt) and 4; inside orange, E < 1e5 Mt is 5,
  above it 7 when P >= 0.01 and 6 otherwise.

It reproduces the chart's check grid and the historical ratings (Apophis, December 2004:
P 0.027 at ~1,000 Mt -> 4; 2024 YR4 at its peak: P 0.031 at ~8 Mt -> 3); cases right on a zone
boundary may differ by one level from the hand-drawn chart."""

from __future__ import annotations

import math


def torino(impact_probability: float, energy_mt: float) -> int:
    """Torino level 0-10 of one potential impact."""
    p, e = impact_probability, energy_mt
    if p <= 0.0 or e < 1.0:
        return 0
    lp, le = math.log10(p), math.log10(e)
    if p >= 0.99:
        return 8 if le < 2.0 else 9 if le < 5.0 else 10
    hazard = le + 1.25 * lp
    if hazard >= 2.25:
        if le < 5.0:
            return 5
        return 7 if lp >= -2.0 else 6
    if lp >= -2.0:
        return 3 if le < 2.0 else 4
    if hazard >= 1.0:
        return 2
    if hazard >= -3.0:
        return 1
    return 0
