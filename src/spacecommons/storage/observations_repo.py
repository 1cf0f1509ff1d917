"""Astrometric observations in the database: idempotent loads with provenance, and the
observations of one object a caller may see (``policy.can_see_observation``)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InputError
from ..neo.astrometry.model import OpticalObservation, RadarObservation
from ..policy import ObservationVisibility, can_see_observation
from .catalog_repo import LoadCounts
from .tables import ObservationRow

Observation = OpticalObservation | RadarObservation


def file_digest(data: bytes) -> str:
    """SHA-256 of a file's bytes, the provenance of every observation read from it."""
    return hashlib.sha256(data).hexdigest()


def _record(obs: Observation) -> dict:
    d = dataclasses.asdict(obs)
    del d["source"]  # provenance lives in its own columns; the same record from another file is the same record
    return d


def _split_source(source: str) -> tuple[str, int]:
    name, _, line = source.rpartition(":")
    return (name, int(line)) if name and line.isdigit() else (source, 0)


def store_observations(
    session: Session,
    observations: Iterable[Observation],
    *,
    file_sha256: str,
    submitter: str,
    loaded_at: datetime,
    partner_id: int | None = None,
    visibility: str = ObservationVisibility.PUBLIC,
) -> LoadCounts:
    """Insert observations not stored yet for this submitter (same record = unchanged)."""
    if visibility not in set(ObservationVisibility):
        raise InputError(f"unknown visibility {visibility!r} ({', '.join(ObservationVisibility)})")
    known = set(session.scalars(select(ObservationRow.digest).where(ObservationRow.submitter == submitter)))
    added = unchanged = 0
    for obs in observations:
        record = _record(obs)
        text = json.dumps(record, sort_keys=True)
        digest = hashlib.sha256(text.encode()).hexdigest()
        if digest in known:
            unchanged += 1
            continue
        known.add(digest)
        name, line = _split_source(obs.source)
        kind = "optical" if isinstance(obs, OpticalObservation) else obs.kind
        station = obs.station if isinstance(obs, OpticalObservation) else obs.receiver
        session.add(
            ObservationRow(
                designation=obs.designation,
                kind=kind,
                epoch_utc_jd=obs.epoch_utc_jd,
                station=station,
                digest=digest,
                record_json=text,
                source_file=name,
                source_line=line,
                file_digest=file_sha256,
                submitter=submitter,
                partner_id=partner_id,
                visibility=visibility,
                loaded_at=loaded_at,
            )
        )
        added += 1
    session.flush()
    return LoadCounts(added, unchanged)


def _tuple(v):
    return None if v is None else tuple(v)


def observation_from_row(row: ObservationRow) -> Observation:
    """The observation a row stores, its ``source`` the file and line it came from."""
    d = json.loads(row.record_json)
    d["source"] = f"{row.source_file}:{row.source_line}"
    if row.kind == "optical":
        for key in ("observer_gcrs_km", "observer_gcrs_km_s", "observer_itrf_km"):
            d[key] = _tuple(d.get(key))
        return OpticalObservation(**d)
    return RadarObservation(**d)


def stored_observations(session: Session, designation: str) -> list[ObservationRow]:
    """Every stored row of one object, oldest first: the node operator's view (CLI), no policy."""
    query = select(ObservationRow).where(ObservationRow.designation == designation)
    return list(session.scalars(query.order_by(ObservationRow.epoch_utc_jd, ObservationRow.id)))


def visible_observations(
    session: Session, designation: str, caller_partner_id: int | None, limit: int | None = None
) -> list[ObservationRow]:
    """The rows of one object a caller may see, oldest first; private rows of other partners are
    filtered in the query and again by the policy function (one rule, asked for every row)."""
    query = select(ObservationRow).where(ObservationRow.designation == designation)
    if caller_partner_id is None:
        query = query.where(ObservationRow.visibility == ObservationVisibility.PUBLIC)
    else:
        query = query.where(
            (ObservationRow.visibility != ObservationVisibility.PRIVATE)
            | (ObservationRow.partner_id == caller_partner_id)
        )
    query = query.order_by(ObservationRow.epoch_utc_jd, ObservationRow.id)
    if limit is not None:
        query = query.limit(limit)
    rows = session.scalars(query)
    return [r for r in rows if can_see_observation(r.visibility, r.partner_id, caller_partner_id)]
