"""Column types: ``UTCDateTime``, an instant stored in UTC and read back timezone-aware on every backend.

PostgreSQL keeps it as ``timestamp with time zone``; SQLite has no time type, so it is stored as
SQLAlchemy's fixed-width text ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC, which sorts and compares in
time order. Either way the application sees aware UTC ``datetime`` objects, never text."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

from ..timescales import as_utc


class UTCDateTime(TypeDecorator):
    """An aware UTC instant. Binds an aware ``datetime`` (naive is refused: its zone is unknown) or,
    for callers that still hold text, an ISO-8601 string that states its offset (``Z``/``+hh:mm``);
    reads back an aware ``datetime`` in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, datetime | str):
            raise TypeError(f"a UTCDateTime column takes an aware datetime, not {type(value).__name__}")
        value = as_utc(value)  # TimeError (a ValueError) for naive datetimes and naive or malformed text
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)  # stored as UTC wall time; the zone is implied
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):  # a value bound through raw SQL on SQLite
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
