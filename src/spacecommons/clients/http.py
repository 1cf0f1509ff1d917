"""Shared HTTP plumbing for the live-data clients: rate limits and an on-disk cache."""

from __future__ import annotations

import hashlib
import json
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from ..errors import SpacecommonsError

USER_AGENT = "spacecommons/0.1 (+https://github.com/spacecommons; polite client)"


class ClientError(SpacecommonsError):
    """A live-data request failed; the message says what the server answered."""


class PoliteRequestPacer:
    """Our pace toward a data provider: sliding-window limits, e.g. ``[(30, 60.0), (300, 3600.0)]`` = 30/min and 300/h.

    ``clock`` and ``sleep`` are injectable so tests never wait.
    """

    def __init__(
        self,
        limits: list[tuple[int, float]],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = limits
        self.clock = clock
        self.sleep = sleep
        self.history: deque[float] = deque()

    def wait(self) -> float:
        """Block until one more request fits every window; returns the seconds waited."""
        waited = 0.0
        while True:
            now = self.clock()
            longest = max(w for _, w in self.limits)
            while self.history and now - self.history[0] >= longest:
                self.history.popleft()
            delay = 0.0
            for count, window in self.limits:
                recent = [t for t in self.history if now - t < window]
                if len(recent) >= count:
                    delay = max(delay, recent[-count] + window - now)
            if delay <= 0.0:
                self.history.append(now)
                return waited
            self.sleep(delay)
            waited += delay


class FileCache:
    """Responses on disk keyed by request, fresh for ``max_age_s`` seconds."""

    def __init__(self, directory: str | Path, max_age_s: float, clock: Callable[[], float] = time.time) -> None:
        self.directory = Path(directory)
        self.max_age_s = max_age_s
        self.clock = clock

    def _path(self, key: str) -> Path:
        return self.directory / (hashlib.sha256(key.encode()).hexdigest() + ".json")

    def get(self, key: str) -> str | None:
        path = self._path(key)
        try:
            entry = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if self.clock() - entry["stored_at"] > self.max_age_s:
            return None
        return entry["body"]

    def put(self, key: str, body: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(key)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"key": key, "stored_at": self.clock(), "body": body}))
        tmp.replace(path)
