"""Propagation: batch SGP4/SDP4 (n objects x m times -> (n, m, 3)) and a numerical Cowell propagator."""

from .atmosphere import ConstantSpaceWeather, SpaceWeather
from .forces import ForceModel, Spacecraft
from .numerical import NumericalEphemeris, propagate_numerical
from .sgp4_batch import SGP4_ERRORS, Ephemeris, propagate, propagate_satrecs

__all__ = [
    "SGP4_ERRORS",
    "ConstantSpaceWeather",
    "Ephemeris",
    "ForceModel",
    "NumericalEphemeris",
    "Spacecraft",
    "SpaceWeather",
    "propagate",
    "propagate_numerical",
    "propagate_satrecs",
]
