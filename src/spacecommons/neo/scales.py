"""Palermo technical impact hazard scale (Chesley et al. 2002, Icarus 159, 423-432)."""

from __future__ import annotations

import math


def background_frequency(energy_mt: float) -> float:
    """Annual frequency of impacts at least this energetic: f_B = 0.03 E**-0.8 per year."""
    return 0.03 * energy_mt**-0.8


def palermo(impact_probability: float, energy_mt: float, years_to_event: float) -> float:
    """PS = log10(IP / (f_B dT))."""
    return math.log10(impact_probability / (background_frequency(energy_mt) * years_to_event))


def palermo_cumulative(values: list[float]) -> float:
    """Cumulative Palermo of several potential impacts: log10(sum 10**PS_i)."""
    return math.log10(sum(10.0**p for p in values))
