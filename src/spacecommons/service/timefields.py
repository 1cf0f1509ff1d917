"""Times at the API's edge: inputs are aware datetimes (naive ones get 422), outputs are written by
the one formatter, ``timescales.format_utc`` (ISO-8601 UTC with ``Z``), at each field's precision."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, PlainSerializer

from ..timescales import format_utc

TimeIn = AwareDatetime
"""An input time: ISO-8601 with ``Z`` or an offset; a naive time, a bare date or text is a 422."""

Instant = Annotated[datetime, PlainSerializer(lambda t: format_utc(t, 6), return_type=str)]
"""A clock-written time (created, decided, audited): microseconds, ``2026-01-01T00:00:00.000000Z``."""

InstantMs = Annotated[datetime, PlainSerializer(lambda t: format_utc(t, 3), return_type=str)]
"""A computed event time (TCA): milliseconds, ``2021-10-02T03:14:15.926Z``."""

InstantS = Annotated[datetime, PlainSerializer(lambda t: format_utc(t, 0), return_type=str)]
"""A release date (one-second resolution): ``2026-01-31T00:00:00Z``."""
