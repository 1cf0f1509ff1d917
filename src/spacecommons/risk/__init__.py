"""Collision probability: 2D encounter-plane Pc, Monte Carlo, maximum Pc, usage checks."""

from .foster import pc_circle, pc_square
from .maxpc import max_pc_isotropic
from .montecarlo import pc_monte_carlo
from .plane import EncounterPlane, encounter_plane, rtn_to_inertial

__all__ = [
    "EncounterPlane",
    "encounter_plane",
    "max_pc_isotropic",
    "pc_circle",
    "pc_monte_carlo",
    "pc_square",
    "rtn_to_inertial",
]
