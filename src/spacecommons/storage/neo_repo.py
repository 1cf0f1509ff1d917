"""Small-body orbit solutions in the database: idempotent loads, latest solution per object."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..neo.orbit import PhysicalParameter, SmallBodyOrbit
from .catalog_repo import LoadCounts
from .tables import SmallBodyOrbitRow

_PROVENANCE = ("source", "line")


def _solution(orbit: SmallBodyOrbit) -> dict:
    d = dataclasses.asdict(orbit)
    if not d["physical"]:
        # added after solutions were first stored: left out while empty, so that the digest of a
        # solution without physical parameters stays what it was (reloading a file stays 'unchanged')
        del d["physical"]
    return {k: v for k, v in d.items() if k not in _PROVENANCE}


def _digest(orbit: SmallBodyOrbit) -> str:
    return hashlib.sha256(json.dumps(_solution(orbit), sort_keys=True).encode()).hexdigest()


def store_orbits(session: Session, orbits: Iterable[SmallBodyOrbit], loaded_at: datetime) -> LoadCounts:
    """Insert orbit solutions not stored yet (same designation and same solution = unchanged)."""
    orbits = list(orbits)
    known = {(d, g) for d, g in session.execute(select(SmallBodyOrbitRow.designation, SmallBodyOrbitRow.digest))}
    added = unchanged = 0
    for o in orbits:
        key = (o.designation, _digest(o))
        if key in known:
            unchanged += 1
            continue
        known.add(key)
        session.add(
            SmallBodyOrbitRow(
                designation=o.designation,
                orbit_id=o.orbit_id,
                epoch_jd_tdb=o.epoch_jd_tdb,
                digest=key[1],
                source=o.source,
                source_line=o.line,
                orbit_json=json.dumps(_solution(o)),
                loaded_at=loaded_at,
            )
        )
        added += 1
    session.flush()
    return LoadCounts(added, unchanged)


def _from_row(row: SmallBodyOrbitRow) -> SmallBodyOrbit:
    d = json.loads(row.orbit_json)
    d["nongrav"] = tuple(d["nongrav"])
    d["covariance_labels"] = tuple(d["covariance_labels"])
    if d["covariance"] is not None:
        d["covariance"] = tuple(tuple(r) for r in d["covariance"])
    d["physical"] = tuple(PhysicalParameter(**p) for p in d.get("physical", ()))
    return SmallBodyOrbit(**d, source=row.source, line=row.source_line)


def latest_orbits(session: Session, designations: list[str] | None = None) -> list[SmallBodyOrbit]:
    """The most recently loaded solution of each object (or of the given designations)."""
    newest = select(func.max(SmallBodyOrbitRow.id)).group_by(SmallBodyOrbitRow.designation)
    query = select(SmallBodyOrbitRow).where(SmallBodyOrbitRow.id.in_(newest))
    if designations:
        query = query.where(SmallBodyOrbitRow.designation.in_(designations))
    return [_from_row(r) for r in session.scalars(query.order_by(SmallBodyOrbitRow.designation))]
