"""Astrometry in: optical (MPC 80-column, ADES) and radar observations, observatories."""

from .ades import read_ades, write_ades_psv
from .model import OpticalObservation, RadarObservation
from .mpc80 import read_mpc80
from .observatories import Observatory, mpc_observatories, observation_observers, observer_position, observer_positions
from .radar import read_jpl_radar
from .reader import ObservationBatch, observation_format, read_observations_text
from .weights import AstrometricWeights, astrometric_weights, veres2017_sigma

__all__ = [
    "AstrometricWeights",
    "ObservationBatch",
    "Observatory",
    "OpticalObservation",
    "RadarObservation",
    "astrometric_weights",
    "mpc_observatories",
    "observation_format",
    "observation_observers",
    "observer_position",
    "observer_positions",
    "read_ades",
    "read_jpl_radar",
    "read_mpc80",
    "read_observations_text",
    "veres2017_sigma",
    "write_ades_psv",
]
