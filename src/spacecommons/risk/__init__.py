"""Collision probability: 2D encounter-plane Pc, Monte Carlo (SDMC-like), maximum Pc, usage checks."""

from .foster import pc_circle, pc_square
from .maxpc import max_pc_isotropic
from .montecarlo import binomial_interval
from .plane import EncounterPlane, encounter_plane, rtn_to_inertial
from .sdmc import SdmcResult, conjunction_window, pc_sdmc

__all__ = [
    "EncounterPlane",
    "SdmcResult",
    "binomial_interval",
    "conjunction_window",
    "encounter_plane",
    "max_pc_isotropic",
    "pc_circle",
    "pc_sdmc",
    "pc_square",
    "rtn_to_inertial",
]
