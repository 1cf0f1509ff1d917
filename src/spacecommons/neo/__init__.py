"""NEO watch: risk scales (more to come: orbits, propagation, close approaches)."""

from .scales import palermo, palermo_cumulative

__all__ = ["palermo", "palermo_cumulative"]
