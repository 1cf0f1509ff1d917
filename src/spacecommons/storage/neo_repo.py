"""Small-body orbit solutions in the database: idempotent loads, latest solution per object."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
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


# --- the listing of stored orbits (the dashboard, the API) -----------------------------------------
#
# The orbit classes of near-Earth asteroids as CNEOS defines them (https://cneos.jpl.nasa.gov/about/
# neo_groups.html), with SBDB's class codes: Atira (IEO) a < 1 au and Q < 0.983 au; Aten (ATE)
# a < 1 au and Q > 0.983 au; Apollo (APO) a > 1 au and q < 1.017 au; Amor (AMO) a > 1 au and
# 1.017 < q < 1.3 au. Other orbits are "other" (SBDB's main-belt and outer classes are not needed
# here), open orbits "HYP".
ORBIT_CLASSES = ("IEO", "ATE", "APO", "AMO", "other", "HYP")
ORBIT_SORTS = ("designation", "h_mag", "moid_au", "a_au", "e", "i_deg", "epoch_jd_tdb")


def orbit_class(orbit: SmallBodyOrbit) -> str:
    """The CNEOS/SBDB class code of an orbit (``IEO``, ``ATE``, ``APO``, ``AMO``, ``other``, ``HYP``)."""
    if orbit.e >= 1.0:
        return "HYP"
    a = orbit.a_au if orbit.a_au is not None else orbit.q_au / (1.0 - orbit.e)
    q, big_q = a * (1.0 - orbit.e), a * (1.0 + orbit.e)
    if a < 1.0:
        return "IEO" if big_q < 0.983 else "ATE"
    if q < 1.017:
        return "APO"
    return "AMO" if q < 1.3 else "other"


@dataclass(frozen=True)
class OrbitFilter:
    """Which stored orbits: every field optional (``None``: no condition)."""

    q: str | None = None  # a part of the designation or name, any case
    orbit_class: str | None = None
    h_max: float | None = None
    moid_max_au: float | None = None
    with_covariance: bool | None = None


def _passes(o: SmallBodyOrbit, f: OrbitFilter) -> bool:
    if f.q and f.q.lower() not in f"{o.designation} {o.name}".lower():
        return False
    if f.orbit_class is not None and orbit_class(o) != f.orbit_class:
        return False
    if f.h_max is not None and (o.h_mag is None or o.h_mag > f.h_max):
        return False
    if f.moid_max_au is not None and (o.moid_au is None or o.moid_au > f.moid_max_au):
        return False
    return f.with_covariance is None or (o.covariance is not None) == f.with_covariance


def orbit_page(
    session: Session,
    f: OrbitFilter = OrbitFilter(),
    sort: str = "designation",
    descending: bool = False,
    limit: int = 100,
    after: str | None = None,
    offset: int = 0,
) -> tuple[list[SmallBodyOrbit], int, str | None]:
    """One page of the latest orbits in ``sort`` order (missing values last, ties by designation),
    how many pass the filter, and the cursor of the next page (the last designation; ``None`` at the
    end). The orbits are filtered and sorted in Python: the elements live in the solution's JSON and
    the table holds one row per loaded solution (hundreds to tens of thousands), not millions."""
    if sort not in ORBIT_SORTS:
        raise ValueError(f"sort must be one of {', '.join(ORBIT_SORTS)}")
    rows = [o for o in latest_orbits(session) if _passes(o, f)]
    present = [o for o in rows if getattr(o, sort) is not None]
    present.sort(key=lambda o: o.designation)
    present.sort(key=lambda o: getattr(o, sort), reverse=descending)  # stable: ties stay by designation
    ordered = present + sorted((o for o in rows if getattr(o, sort) is None), key=lambda o: o.designation)
    start = offset
    if after is not None:
        where = next((k for k, o in enumerate(ordered) if o.designation == after), None)
        if where is None:
            raise ValueError(f"the cursor {after[:40]!r} names no listed orbit")
        start = where + 1 + offset
    page = ordered[start : start + limit]
    more = start + limit < len(ordered)
    return page, len(ordered), page[-1].designation if more and page else None
