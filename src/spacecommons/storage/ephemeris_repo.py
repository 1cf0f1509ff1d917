"""Uploaded ephemerides (OEM): the original text stored once by its sha256, one row per object."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..ephemeris import Oem
from ..errors import InputError
from ..policy import can_see_ephemeris
from ..timescales import as_utc, jd_to_datetime
from .tables import EphemerisRow, EphemerisText, Partner


def partner_id(session: Session, name: str) -> int | None:
    """The id of the partner called ``name``, or None."""
    return session.scalar(select(Partner.id).where(Partner.name == name))


def object_number(session: Session, object_id: str, source: str) -> int:
    """The catalog number an OEM's OBJECT_ID names: the number itself, or the stored object with
    that international designator."""
    from .tables import SpaceObject

    text = object_id.strip()
    if text.isdigit():
        if len(text) > 9:  # catalog numbers have at most 9 digits (DESIGN.md)
            raise InputError(f"{source}: OBJECT_ID {object_id!r}: a catalog number has at most 9 digits")
        return int(text)
    found = session.scalar(select(SpaceObject.norad_id).where(SpaceObject.object_id == text.upper()))
    if found is None:
        raise InputError(
            f"{source}: OBJECT_ID {object_id!r} is neither a catalog number nor the international designator "
            "of a stored object"
        )
    return int(found)


def store(
    session: Session,
    raw: bytes,
    oem: Oem,
    owner_partner_id: int | None,
    visibility: str,
    now: datetime,
    *,
    source: str = "",
    allowed: set[int] | None = None,
) -> list[EphemerisRow]:
    """Store ``raw`` (the uploaded bytes, parsed as ``oem``) once by content, and one row per object
    of it. ``allowed``: the catalog numbers the uploader may upload for (None: any, the node's own
    CLI); an object outside it is refused with an :class:`InputError` naming it, before anything is
    written."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: an OEM is UTF-8 (ASCII) text") from exc
    digest = hashlib.sha256(raw).hexdigest()
    by_object: dict[int, list] = {}
    for seg in oem.segments:
        by_object.setdefault(object_number(session, seg.object_id, source), []).append(seg)
    if allowed is not None:
        foreign = sorted(set(by_object) - allowed)
        if foreign:
            raise PermissionError(f"not an object of the caller's partner: {', '.join(map(str, foreign))}")
    if session.get(EphemerisText, digest) is None:
        session.add(EphemerisText(digest=digest, format="xml" if text.lstrip().startswith("<") else "kvn", text=text))
        session.flush()  # the text row first: the object rows refer to it (no ORM relationship orders them)
    rows = []
    for nid, segs in by_object.items():
        first, last = segs[0].jd(), segs[-1].jd()
        row = EphemerisRow(
            digest=digest,
            norad_id=nid,
            object_name=segs[0].object_name[:128],
            object_id=segs[0].object_id[:64],
            owner_partner_id=owner_partner_id,
            visibility=visibility,
            time_system=segs[0].time_system[:16],
            ref_frame=segs[0].ref_frame[:32],
            start_time=jd_to_datetime(first[0][0], first[1][0]),
            stop_time=jd_to_datetime(last[0][-1], last[1][-1]),
            n_states=sum(len(s.epochs) for s in segs),
            n_covariances=sum(len(s.covariances) for s in segs),
            source=source[:256],
            created_at=as_utc(now),
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def list_ephemerides(session: Session, caller_partner_id: int | None, *, node: bool = False) -> list[EphemerisRow]:
    """Ephemerides the caller may see (policy.can_see_ephemeris), newest first; ``node``: all (the
    node's own CLI)."""
    rows = session.scalars(select(EphemerisRow).order_by(EphemerisRow.id.desc())).all()
    if node:
        return list(rows)
    return [r for r in rows if can_see_ephemeris(r.visibility, r.owner_partner_id, caller_partner_id)]


def get_ephemeris(session: Session, ephemeris_id: int, caller_partner_id: int | None, *, node: bool = False):
    """(row, original text) when it exists and the caller may see it, else None (not found and not
    allowed look the same)."""
    row = session.get(EphemerisRow, ephemeris_id)
    if row is None:
        return None
    if not node and not can_see_ephemeris(row.visibility, row.owner_partner_id, caller_partner_id):
        return None
    return row, session.get(EphemerisText, row.digest).text


def screening_track(session: Session, row: EphemerisRow, text: str) -> tuple[str, str]:
    """(object name, OEM KVN text of the row's object only) of a stored ephemeris, as the screening
    catalog takes it (``CatalogPayload.with_ephemerides``); the stored text may hold other objects."""
    from ..ephemeris import read_oem, write_oem_kvn

    oem = read_oem(text, row.source or f"ephemeris {row.id}")
    segs = [s for s in oem.segments if object_number(session, s.object_id, oem.source) == row.norad_id]
    return row.object_name, write_oem_kvn(Oem(oem.header, segs, oem.source))


__all__ = ["get_ephemeris", "list_ephemerides", "object_number", "partner_id", "screening_track", "store"]
