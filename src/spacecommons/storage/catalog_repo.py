"""Element-set history in the database: idempotent loads with their trust, latest set per object
(``catalog.trust``'s rule as a query), object owners."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..catalog.elements import ElementSet
from ..catalog.sizes import ObjectSize
from ..catalog.trust import Trust
from .tables import ElementSetRow, Partner, SpaceObject


@dataclass(frozen=True)
class LoadCounts:
    added: int
    unchanged: int


def store_elements(
    session: Session, records: Iterable[ElementSet], loaded_at: datetime, *, partner_id: int | None = None
) -> LoadCounts:
    """Insert element sets not yet stored (same object + same elements = same set): authoritative
    when ``partner_id`` is None (the node operator's loads), else that partner's submission.

    The caller vets the records first (``catalog.trust.vet_element_sets``). An authoritative load that meets a set
    a partner submitted earlier makes it authoritative (a partner that copies the source's next set
    before the node loads it must not keep it from becoming latest); it also names an object that only
    partners had named (the first submitter chose the name)."""
    trust = Trust.AUTHORITATIVE if partner_id is None else Trust.PARTNER
    records = list(records)
    ids = {r.norad_id for r in records}
    known_objects: dict[int, SpaceObject] = {}
    known_sets: dict[tuple[int, str], tuple[int | None, str]] = {}  # (object, digest) -> (row id, trust)
    id_list = sorted(ids)
    for i in range(0, len(id_list), 900):  # stay under SQLite's bound-parameter limit
        part = id_list[i : i + 900]
        known_objects.update(
            (o.norad_id, o) for o in session.scalars(select(SpaceObject).where(SpaceObject.norad_id.in_(part)))
        )
        cols = (ElementSetRow.norad_id, ElementSetRow.digest, ElementSetRow.id, ElementSetRow.trust)
        known_sets.update(
            ((n, d), (i, t)) for n, d, i, t in session.execute(select(*cols).where(ElementSetRow.norad_id.in_(part)))
        )
    authoritative_objects = {k[0] for k, (_, t) in known_sets.items() if t == Trust.AUTHORITATIVE}
    for rec in records:
        obj = known_objects.get(rec.norad_id)
        if obj is None:
            obj = SpaceObject(norad_id=rec.norad_id, name=rec.name, object_id=rec.object_id)
            session.add(obj)
            known_objects[rec.norad_id] = obj
        elif trust is Trust.AUTHORITATIVE and rec.norad_id not in authoritative_objects:
            obj.name, obj.object_id = rec.name, rec.object_id
        if trust is Trust.AUTHORITATIVE:
            authoritative_objects.add(rec.norad_id)
    session.flush()  # objects before the element sets that reference them
    added = unchanged = 0
    for rec in records:
        key = (rec.norad_id, rec.digest)
        known = known_sets.get(key)
        if known is not None:
            row_id, row_trust = known
            if trust is Trust.AUTHORITATIVE and row_trust != Trust.AUTHORITATIVE and row_id is not None:
                row = session.get(ElementSetRow, row_id)
                row.trust, row.partner_id, row.source, row.source_line = trust, None, rec.source, rec.line
                known_sets[key] = (row_id, trust)
            unchanged += 1
            continue
        row = ElementSetRow(
            norad_id=rec.norad_id,
            epoch=rec.fields["EPOCH"],
            epoch_jd=rec.epoch_jd,
            epoch_fr=rec.epoch_fr,
            digest=rec.digest,
            format=rec.format,
            source=rec.source,
            source_line=rec.line,
            line1=rec.line1,
            line2=rec.line2,
            fields_json=json.dumps(rec.fields, sort_keys=True),
            original=rec.original,
            loaded_at=loaded_at,
            trust=trust,
            partner_id=partner_id,
        )
        known_sets[key] = (None, trust)  # a duplicate within this batch
        session.add(row)
        added += 1
    session.flush()
    return LoadCounts(added, unchanged)


def partner_named(session: Session, name: str) -> int | None:
    """The id of the partner called ``name`` (None if there is none)."""
    return session.scalar(select(Partner.id).where(Partner.name == name))


def set_owner(session: Session, norad_id: int, partner_id: int | None) -> bool:
    """Make ``partner_id`` (None: nobody) the owner of an object; False if it is not in the catalog."""
    obj = session.get(SpaceObject, norad_id)
    if obj is None:
        return False
    obj.owner_partner_id = partner_id
    return True


def store_sizes(session: Session, sizes: dict[int, ObjectSize]) -> int:
    """Attach CARA hard-body radius and mass to objects already in the catalog."""
    n = 0
    for obj in session.scalars(select(SpaceObject)):
        s = sizes.get(obj.norad_id)
        if s is None:
            continue
        obj.hbr_m = None if math.isnan(s.hbr_m) else s.hbr_m
        obj.hbr_source = s.hbr_source
        obj.mass_kg = None if math.isnan(s.mass_kg) else s.mass_kg
        n += 1
    return n


def _row_to_elements(row: ElementSetRow, name: str) -> ElementSet:
    return ElementSet(
        norad_id=row.norad_id,
        name=name,
        fields=json.loads(row.fields_json),
        source=row.source,
        line=row.source_line,
        format=row.format,
        line1=row.line1,
        line2=row.line2,
        original=row.original,
    )


def _counts_for_latest():
    """``catalog.trust.counts_for_latest`` as a condition on an element set joined to its object."""
    return or_(ElementSetRow.trust == Trust.AUTHORITATIVE, ElementSetRow.partner_id == SpaceObject.owner_partner_id)


def latest_elements(session: Session, norad_ids: Sequence[int] | None = None) -> list[ElementSet]:
    """The newest element set of each object (or of the given objects) among those that may be its
    latest state (authoritative ones and its owner's: ``catalog.trust``), ordered by id. An object
    that only other partners submitted has none."""
    newest = (
        select(ElementSetRow.norad_id, func.max(ElementSetRow.epoch_jd + ElementSetRow.epoch_fr).label("t"))
        .join(SpaceObject, SpaceObject.norad_id == ElementSetRow.norad_id)
        .where(_counts_for_latest())
        .group_by(ElementSetRow.norad_id)
        .subquery()
    )
    q = (
        select(ElementSetRow, SpaceObject.name)
        .join(
            newest,
            (newest.c.norad_id == ElementSetRow.norad_id)
            & (ElementSetRow.epoch_jd + ElementSetRow.epoch_fr == newest.c.t),
        )
        .join(SpaceObject, SpaceObject.norad_id == ElementSetRow.norad_id)
        .where(_counts_for_latest())
        .order_by(ElementSetRow.norad_id, ElementSetRow.id.desc())
    )
    if norad_ids is not None:
        q = q.where(ElementSetRow.norad_id.in_(list(norad_ids)))
    out: dict[int, ElementSet] = {}
    for row, name in session.execute(q):
        out.setdefault(row.norad_id, _row_to_elements(row, name))
    return list(out.values())


def _with_counts():
    """Objects with their number of element sets and latest epoch (text of the source)."""
    counts = (
        select(ElementSetRow.norad_id, func.count().label("n"), func.max(ElementSetRow.epoch).label("latest"))
        .group_by(ElementSetRow.norad_id)
        .subquery()
    )
    return select(SpaceObject, counts.c.n, counts.c.latest).join(counts, counts.c.norad_id == SpaceObject.norad_id)


def search_objects(
    session: Session, q: str | None, regime: str | None, limit: int, offset: int
) -> list[tuple[SpaceObject, int, str]]:
    """Objects whose name contains ``q`` (or whose catalog number is ``q``), in ``regime`` by their
    latest element set, by catalog number; with their element-set count and latest epoch."""
    query = _with_counts()
    if q:
        conds = [SpaceObject.name.ilike(f"%{q}%")]
        if q.strip().isdigit():
            conds.append(SpaceObject.norad_id == int(q))
        query = query.where(or_(*conds))
    query = query.order_by(SpaceObject.norad_id)
    if regime:
        from ..catalog.elements import element_regime

        ids = [r[0] for r in session.execute(query.with_only_columns(SpaceObject.norad_id))]
        keep = [e.norad_id for e in latest_elements(session, ids) if element_regime(e) == regime]
        query = query.where(SpaceObject.norad_id.in_(keep[: offset + limit]))
    return [(o, n, latest) for o, n, latest in session.execute(query.limit(limit).offset(offset))]


def object_summary(session: Session, norad_id: int) -> tuple[SpaceObject, int, str | None] | None:
    """One object with its element-set count and latest epoch; None if it is not in the catalog."""
    o = session.get(SpaceObject, norad_id)
    if o is None:
        return None
    n, latest = session.execute(
        select(func.count(), func.max(ElementSetRow.epoch)).where(ElementSetRow.norad_id == norad_id)
    ).one()
    return o, n, latest


def element_history(session: Session, norad_id: int) -> list[ElementSet]:
    """Every stored element set of one object, oldest epoch first."""
    return [e for e, _, _ in element_history_with_trust(session, norad_id)]


def element_history_with_trust(session: Session, norad_id: int) -> list[tuple[ElementSet, str, int | None]]:
    """Every stored element set of one object, oldest epoch first, with its trust and submitter."""
    name = session.scalar(select(SpaceObject.name).where(SpaceObject.norad_id == norad_id)) or ""
    rows = session.scalars(
        select(ElementSetRow)
        .where(ElementSetRow.norad_id == norad_id)
        .order_by(ElementSetRow.epoch_jd, ElementSetRow.epoch_fr, ElementSetRow.id)
    )
    return [(_row_to_elements(r, name), r.trust, r.partner_id) for r in rows]


def hard_body_radii(session: Session, norad_ids: Iterable[int]) -> dict[int, float | None]:
    """Stored hard-body radius (m; NASA CARA's table) of each known object among ``norad_ids``."""
    q = select(SpaceObject.norad_id, SpaceObject.hbr_m).where(SpaceObject.norad_id.in_(set(norad_ids)))
    return {norad_id: hbr_m for norad_id, hbr_m in session.execute(q)}


def catalog_mark(session: Session) -> tuple[int, int]:
    """A watermark that moves whenever element sets are added: (count, highest id). Cheap; caches of
    catalog-wide products (the anonymous CZML) key on it."""
    count, top = session.execute(select(func.count(ElementSetRow.id), func.max(ElementSetRow.id))).one()
    return int(count or 0), int(top or 0)
