"""Astrometry intake: read a file's observations (any supported format) and store them with their
provenance. Used by ``spacecommons neo observations load`` and ``POST /api/v1/neo/observations``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ..errors import RecordIssue
from ..neo.astrometry.reader import read_observations_text
from ..storage.catalog_repo import LoadCounts
from ..storage.observations_repo import file_digest, store_observations


@dataclass(frozen=True)
class IntakeResult:
    """What one file gave: its format, how many records were read, stored, already stored, and the
    issues of the rejected ones."""

    source: str
    format: str
    file_sha256: str
    n_optical: int
    n_radar: int
    counts: LoadCounts
    issues: list[RecordIssue]


def ingest_observations(
    session: Session,
    data: bytes,
    source: str,
    *,
    submitter: str,
    loaded_at: datetime,
    partner_id: int | None = None,
    visibility: str = "public",
    formats: tuple[str, ...] | None = None,
) -> IntakeResult:
    """Read ``data`` (UTF-8 text; the format from its content, limited to ``formats`` when given)
    and store its good records; the bad ones come back as issues (file, line, field)."""
    digest = file_digest(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        issue = RecordIssue(source, data[: exc.start].count(b"\n") + 1, "encoding", "not UTF-8 text")
        return IntakeResult(source, "unknown", digest, 0, 0, LoadCounts(0, 0), [issue])
    batch = read_observations_text(text, source)
    if formats is not None and batch.format not in formats:
        issue = RecordIssue(source, 1, "format", f"{batch.format} given; accepted here: {', '.join(formats)}")
        return IntakeResult(source, batch.format, digest, 0, 0, LoadCounts(0, 0), [issue])
    counts = store_observations(
        session,
        [*batch.optical, *batch.radar],
        file_sha256=digest,
        submitter=submitter,
        loaded_at=loaded_at,
        partner_id=partner_id,
        visibility=visibility,
    )
    return IntakeResult(source, batch.format, digest, len(batch.optical), len(batch.radar), counts, batch.issues)


__all__ = ["IntakeResult", "ingest_observations"]
