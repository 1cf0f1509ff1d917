"""Orbit determination from astrometry: initial orbits, differential corrections, impact sites."""
