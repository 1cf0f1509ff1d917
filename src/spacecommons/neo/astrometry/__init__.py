"""Astrometry in: optical (MPC 80-column, ADES) and radar observations, observatories."""

from .model import OpticalObservation, RadarObservation
from .observatories import Observatory, mpc_observatories, observation_observers, observer_position, observer_positions

__all__ = [
    "Observatory",
    "OpticalObservation",
    "RadarObservation",
    "mpc_observatories",
    "observation_observers",
    "observer_position",
    "observer_positions",
]
