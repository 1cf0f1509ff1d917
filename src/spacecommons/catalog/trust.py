"""Element-set trust: which element sets may become an object's latest state, and which are refused.

Two sources of element sets (``Trust``):

- ``AUTHORITATIVE``: what the node's operator loads (``spacecommons catalog load`` and ``fetch``:
  files it chose, CelesTrak, Space-Track);
- ``PARTNER``: what a partner submits through the API, recorded with the partner's id.

An object has an owner partner or none; an owner is assigned by the node's administrator (an
operator that flies the satellite), never taken by submitting. An object's latest state, the one
screening, the globe and alerts use, is its newest-epoch set among the authoritative ones and those
of its owner (:func:`counts_for_latest`). Any other partner's set is kept as history with its
provenance and never becomes latest: a partner cannot move an object it does not own. An older
epoch never becomes latest either; it is history.

Refused at ingest, from every source, each with a :class:`~spacecommons.errors.RecordIssue`
naming the record (source, line) and field while the rest of the batch lands (:func:`vet_element_sets`):

- an epoch more than :data:`FUTURE_EPOCH_TOLERANCE` after "now" (a 2056 epoch would otherwise be
  the latest state for decades);
- names, designators and every other text field with control characters
  (:func:`~spacecommons.textguard.reject_control_chars`): they could forge lines in the KVN and CSV
  that writers produce from them.

No clock here: "now" is an argument.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from ..errors import RecordError, RecordIssue
from ..textguard import reject_control_chars
from .elements import ElementSet


class Trust(StrEnum):
    AUTHORITATIVE = "authoritative"
    PARTNER = "partner"


# Published GP sets have epochs at or before their publication; operators' predicted sets (e.g.
# CelesTrak's supplemental GP data from operator ephemerides) and pre-launch sets run ahead by
# hours to a day or two. Three days admits those and clock skew, and nothing that would hold
# "latest" for long.
FUTURE_EPOCH_TOLERANCE = timedelta(days=3)


def counts_for_latest(trust: Trust | str, submitter_partner_id: int | None, owner_partner_id: int | None) -> bool:
    """Whether an element set may be its object's latest state: authoritative sets always; a
    partner's set only for an object that partner owns.

    >>> counts_for_latest(Trust.AUTHORITATIVE, None, None), counts_for_latest(Trust.PARTNER, 2, 2)
    (True, True)
    >>> counts_for_latest(Trust.PARTNER, 2, None), counts_for_latest(Trust.PARTNER, 2, 1)
    (False, False)
    """
    if Trust(trust) is Trust.AUTHORITATIVE:
        return True
    return submitter_partner_id is not None and submitter_partner_id == owner_partner_id


def check_record(rec: ElementSet, now: datetime, tolerance: timedelta = FUTURE_EPOCH_TOLERANCE) -> ElementSet:
    """``rec`` unchanged, or :class:`RecordError` naming its source, line and the field refused."""
    for field, value in (("OBJECT_NAME", rec.name), *sorted(rec.fields.items())):
        if isinstance(value, str):
            reject_control_chars(value, field, rec.source, rec.line)
    ahead = rec.epoch - now
    if ahead > tolerance:
        raise RecordError(
            rec.source,
            rec.line,
            "EPOCH",
            f"{rec.fields['EPOCH']}Z is {ahead.total_seconds() / 86400:.1f} days after the server's clock "
            f"({now.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}); epochs at most {tolerance.days} days ahead are accepted",
        )
    return rec


def vet_element_sets(
    records: Iterable[ElementSet], now: datetime, tolerance: timedelta = FUTURE_EPOCH_TOLERANCE
) -> tuple[list[ElementSet], list[RecordIssue]]:
    """The records that pass :func:`check_record`, and an issue for each that does not."""
    good: list[ElementSet] = []
    issues: list[RecordIssue] = []
    for rec in records:
        try:
            good.append(check_record(rec, now, tolerance))
        except RecordError as exc:
            issues.append(exc.issue)
    return good, issues
