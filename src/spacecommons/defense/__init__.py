"""Planetary defense: impact effects (Collins, Melosh & Marcus 2005)."""

from .impact_effects import ImpactEffects, impact_effects

__all__ = ["ImpactEffects", "impact_effects"]
