"""Typed errors that name the record, line and field that went wrong."""

from __future__ import annotations

from dataclasses import dataclass


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


class RecordError(SpacecommonsError, ValueError):
    """A single malformed record; carries a :class:`RecordIssue`."""

    def __init__(self, source: str, line: int, field: str, message: str) -> None:
        self.issue = RecordIssue(source, line, field, message)
        super().__init__(str(self.issue))


class TimeError(SpacecommonsError, ValueError):
    """A time that is ambiguous (naive) or cannot be parsed."""
