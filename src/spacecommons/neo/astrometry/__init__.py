"""Astrometry in: optical (MPC 80-column, ADES) and radar observations, observatories."""

from .ades import read_ades, write_ades_psv
from .model import OpticalObservation, RadarObservation
from .mpc80 import read_mpc80
from .observatories import Observatory, mpc_observatories, observation_observers, observer_position, observer_positions
from .radar import read_jpl_radar
from .reader import ObservationBatch, observation_format, read_observations_text

__all__ = [
    "ObservationBatch",
    "Observatory",
    "OpticalObservation",
    "RadarObservation",
    "mpc_observatories",
    "observation_format",
    "observation_observers",
    "observer_position",
    "observer_positions",
    "read_ades",
    "read_jpl_radar",
    "read_mpc80",
    "read_observations_text",
    "write_ades_psv",
]
