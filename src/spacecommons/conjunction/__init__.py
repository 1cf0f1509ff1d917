"""Conjunction screening: conservative broad phase, exact minima, TCA refined on SGP4."""

from .events import ConjunctionEvents
from .screen import ScreeningParams, ScreeningResult, screen

__all__ = ["ConjunctionEvents", "ScreeningParams", "ScreeningResult", "screen"]
