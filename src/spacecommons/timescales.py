"""Two-part Julian dates in UTC, and ISO-8601 in and out."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .constants import SECONDS_PER_DAY
from .errors import TimeError

if TYPE_CHECKING:
    import numpy as np

# numpy is imported by the one function that takes arrays: the CLI's light commands format times
# through this module and start without numpy (issue #18).

JD_UNIX_EPOCH = 2440587.5


def parse_utc(text: str) -> datetime:
    """Parse an ISO-8601 time that states its offset (``Z`` or ``+hh:mm``); naive is refused."""
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    try:
        t = datetime.fromisoformat(s)
    except ValueError as exc:
        raise TimeError(f"not an ISO-8601 time: {text!r}") from exc
    if t.tzinfo is None:
        raise TimeError(f"time {text!r} has no UTC offset; write it as e.g. {text}Z")
    return t.astimezone(UTC)


def as_utc(t: datetime | str) -> datetime:
    """An instant as an aware UTC ``datetime``: ISO-8601 text with its offset is parsed
    (:func:`parse_utc`); a naive ``datetime`` is refused (:class:`TimeError`).

    >>> as_utc("2021-10-02T02:00:00+02:00").isoformat()
    '2021-10-02T00:00:00+00:00'
    """
    if isinstance(t, str):
        return parse_utc(t)
    if t.tzinfo is None:
        raise TimeError(f"naive datetime {t!r} refused: attach a timezone (UTC)")
    return t.astimezone(UTC)


def format_utc(t: datetime, digits: int = 6) -> str:
    """The one output form of an instant: ISO-8601 UTC with ``digits`` decimals (0, 3 or 6) and ``Z``.
    Decimals are truncated, not rounded, so a time never prints later than it is.

    >>> format_utc(datetime(2026, 1, 1, 1, 2, 3, 456789, tzinfo=UTC), 3)
    '2026-01-01T01:02:03.456Z'
    """
    t = as_utc(t)
    if digits not in (0, 3, 6):
        raise TimeError(f"digits must be 0, 3 or 6, not {digits}")
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{t.microsecond:06d}"[:digits]
    return text + "Z"


def datetime_to_jd(t: datetime) -> tuple[float, float]:
    """UTC datetime -> two-part Julian date (jd at midnight ending in .5, fraction of day)."""
    t = as_utc(t)
    midnight = t.replace(hour=0, minute=0, second=0, microsecond=0)
    jd = JD_UNIX_EPOCH + (midnight - datetime(1970, 1, 1, tzinfo=UTC)).days
    fr = (t - midnight) / timedelta(days=1)
    return float(jd), float(fr)


def iso_to_jd(text: str) -> tuple[float, float]:
    """ISO-8601 UTC text -> two-part Julian date."""
    return datetime_to_jd(parse_utc(text))


def normalize_jd(jd: np.ndarray | float, fr: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Move whole days from ``fr`` into ``jd`` so that 0 <= fr < 1 with jd ending in .5."""
    import numpy as np

    jd = np.asarray(jd, dtype=float)
    fr = np.asarray(fr, dtype=float)
    whole = np.floor(fr)
    return jd + whole, fr - whole


def _normalize_scalar(jd: float, fr: float) -> tuple[float, float]:
    """:func:`normalize_jd` of two numbers, without numpy: the same IEEE operations (floor, one
    addition, one subtraction) on the same doubles; non-finite or non-float input takes the numpy path."""
    if type(jd) is float and type(fr) is float and math.isfinite(fr):
        whole = float(math.floor(fr))
        return jd + whole, fr - whole
    return normalize_jd(jd, fr)


def jd_to_iso(jd: float, fr: float, digits: int = 3) -> str:
    """Two-part Julian date -> ISO-8601 UTC with ``digits`` decimals and ``Z``."""
    j, f = _normalize_scalar(jd, fr)
    day = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=float(j) - JD_UNIX_EPOCH)
    scale = 10**digits
    ticks = int(round(float(f) * SECONDS_PER_DAY * scale))
    t = day + timedelta(seconds=ticks // scale, microseconds=(ticks % scale) * 10 ** (6 - digits))
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{ticks % scale:0{digits}d}"
    return text + "Z"


def jd_to_datetime(jd: float, fr: float) -> datetime:
    """Two-part Julian date -> aware UTC datetime (microsecond resolution)."""
    day = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=float(jd) - JD_UNIX_EPOCH)
    return day + timedelta(microseconds=round(float(fr) * SECONDS_PER_DAY * 1e6))


def tdb_to_jd(text: str) -> float:
    """A TDB epoch as a Julian date: ``2020-01-01``, ``2029-04-13T21:46:00`` (calendar TDB, the
    convention of JPL's small-body tables) or a Julian date such as ``2462240.5``."""
    s = text.strip()
    try:
        return float(s)
    except ValueError:
        pass
    if s.upper().endswith(("Z", "TDB")):
        raise TimeError(f"{text!r}: NEO times are TDB; write the calendar date without a zone, e.g. 2020-01-01")
    try:
        t = datetime.fromisoformat(s)
    except ValueError as exc:
        raise TimeError(f"not a TDB date or Julian date: {text!r}") from exc
    if t.tzinfo is not None:
        raise TimeError(f"{text!r}: NEO times are TDB, not a UTC offset; drop the offset")
    jd, fr = datetime_to_jd(t.replace(tzinfo=UTC))  # calendar arithmetic only; the scale stays TDB
    return jd + fr
