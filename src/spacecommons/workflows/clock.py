"""The one conversion between the workflows' aware ``datetime`` and the stored timestamp text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from ..timescales import parse_utc

Clock = Callable[[], datetime]


def as_utc(value: datetime | str) -> datetime:
    """An aware UTC ``datetime`` from a clock's reading (a ``datetime``, or ISO-8601 text with its offset).

    >>> as_utc("2021-10-02T00:00:00Z").isoformat()
    '2021-10-02T00:00:00+00:00'
    """
    if isinstance(value, str):
        return parse_utc(value)
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: give it a UTC offset")
    return value.astimezone(UTC)


def stamp(now: datetime) -> str:
    """``now`` as the repositories store it today (ISO-8601 UTC, microseconds, ``Z``); the one
    place to change when the timestamp columns become timezone-aware ``DateTime``.

    >>> from datetime import UTC, datetime
    >>> stamp(datetime(2021, 10, 2, 3, 4, 5, tzinfo=UTC))
    '2021-10-02T03:04:05.000000Z'
    """
    return as_utc(now).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
