"""The workflows' clock: a callable that returns the time as an aware UTC ``datetime``
(``timescales.as_utc`` turns a reading into one)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

Clock = Callable[[], datetime]
