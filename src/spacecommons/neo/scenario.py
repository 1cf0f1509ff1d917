"""Synthetic encounters with a known answer, for exercises, tests and the docs.

An orbit "built to hit": the object is placed on a straight line through (or past) the Earth a
few days before the chosen encounter, with the chosen v_infinity and miss distance, and the
full n-body model carries it back to the requested epoch. Integrated forward again it meets
Earth on that date (gravitational focusing makes the periapsis a few minutes early)."""

from __future__ import annotations

import math

import numpy as np

from ..constants import AU_KM, AU_PER_DAY_KM_S
from .nbody import body_state, propagate_nbody


def synthetic_encounter(
    encounter_jd: float,
    epoch_jd: float,
    v_inf_km_s: float = 12.0,
    miss_km: float = 0.0,
    approach_angle_deg: float = 40.0,
    placement_days: float = 3.0,
) -> np.ndarray:
    """Barycentric ICRF state (au, au/day) at ``epoch_jd`` of an object that passes Earth at
    ``encounter_jd`` with the given v_inf and straight-line miss distance. The approach
    direction is Earth's velocity turned by ``approach_angle_deg`` about the ecliptic-ish z axis."""
    earth = body_state("earth", encounter_jd)
    ve = earth[3:] / np.linalg.norm(earth[3:])
    z = np.array([0.0, 0.0, 1.0])
    a = math.radians(approach_angle_deg)
    u = math.cos(a) * ve + math.sin(a) * np.cross(z, ve)
    u /= np.linalg.norm(u)
    perp = np.cross(u, z)
    perp /= np.linalg.norm(perp)
    v = v_inf_km_s / AU_PER_DAY_KM_S
    t_place = encounter_jd - placement_days
    rel = np.concatenate([-u * v * placement_days + perp * (miss_km / AU_KM), u * v])
    return propagate_nbody((body_state("earth", t_place) + rel)[None], t_place, epoch_jd)[0]
