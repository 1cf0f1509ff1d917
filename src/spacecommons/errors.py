"""Typed errors that name the record, line and field that went wrong."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

Choice = TypeVar("Choice", bound=StrEnum)


class SpacecommonsError(Exception):
    """Base class of every error the library raises on purpose."""


@dataclass(frozen=True)
class RecordIssue:
    """One bad record in a batch: where it is and what was expected."""

    source: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.field}: {self.message}"


class InputError(SpacecommonsError, ValueError):
    """A value the library cannot use: an unknown choice, a number out of its range, a malformed
    field. The message names the value and what was expected. A ``ValueError`` too, so callers that
    catch that keep working; the service answers it with HTTP 400 (``service/app.py``)."""


class RecordError(SpacecommonsError, ValueError):
    """A single malformed record; carries a :class:`RecordIssue`."""

    def __init__(self, source: str, line: int, field: str, message: str) -> None:
        self.issue = RecordIssue(source, line, field, message)
        super().__init__(str(self.issue))


class TimeError(SpacecommonsError, ValueError):
    """A time that is ambiguous (naive) or cannot be parsed."""


def parse_choice(kind: type[Choice], value: str, what: str) -> Choice:
    """``value`` as a member of the enum ``kind``; an :class:`InputError` listing the choices if it is none.

    >>> from spacecommons.neo.impact import SamplingMethod
    >>> parse_choice(SamplingMethod, "lov", "sampling method")
    <SamplingMethod.LINE_OF_VARIATIONS: 'lov'>
    >>> parse_choice(SamplingMethod, "sobol", "sampling method")
    Traceback (most recent call last):
    spacecommons.errors.InputError: unknown sampling method 'sobol' (mc or lov)
    """
    try:
        return kind(value)
    except ValueError:
        raise InputError(f"unknown {what} {value!r} ({' or '.join(k.value for k in kind)})") from None
