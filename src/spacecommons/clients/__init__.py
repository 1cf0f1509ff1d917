"""Polite clients for live element sets: CelesTrak GP and Space-Track (rate-limited, cached)."""

from .celestrak import CelesTrakClient
from .http import ClientError, FileCache, RateLimiter
from .spacetrack import SpaceTrackClient

__all__ = ["CelesTrakClient", "ClientError", "FileCache", "RateLimiter", "SpaceTrackClient"]
