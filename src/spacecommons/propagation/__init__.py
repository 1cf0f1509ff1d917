"""Batch SGP4/SDP4 propagation: n objects x m times -> (n, m, 3) arrays."""

from .sgp4_batch import SGP4_ERRORS, Ephemeris, propagate, propagate_satrecs

__all__ = ["SGP4_ERRORS", "Ephemeris", "propagate", "propagate_satrecs"]
