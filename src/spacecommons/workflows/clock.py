"""The workflows' time: an aware UTC ``datetime`` from a clock reading."""

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
