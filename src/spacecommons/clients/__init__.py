"""Polite clients for live element sets: CelesTrak GP and Space-Track (rate-limited, cached).

The names are loaded on first use: ``clients.netguard`` (webhook delivery, imported by every screening
run through its alerts) must not load httpx, whose package also imports its command-line tool (rich,
pygments: ~0.2 s of each ``spacecommons screen``, issue #18)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .celestrak import CelesTrakClient
    from .http import ClientError, FileCache, PoliteRequestPacer
    from .spacetrack import SpaceTrackClient

_WHERE = {
    "CelesTrakClient": ".celestrak",
    "ClientError": ".http",
    "FileCache": ".http",
    "PoliteRequestPacer": ".http",
    "SpaceTrackClient": ".spacetrack",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CelesTrakClient", "ClientError", "FileCache", "PoliteRequestPacer", "SpaceTrackClient"]
