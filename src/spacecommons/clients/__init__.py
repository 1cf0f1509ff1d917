"""Polite clients for live element sets: CelesTrak GP and Space-Track (rate-limited, cached)."""

from .celestrak import CelesTrakClient
from .http import ClientError, FileCache, PoliteRequestPacer
from .spacetrack import SpaceTrackClient

__all__ = ["CelesTrakClient", "ClientError", "FileCache", "PoliteRequestPacer", "SpaceTrackClient"]
