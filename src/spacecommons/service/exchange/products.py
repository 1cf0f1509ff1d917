"""Products: ingest from a PDS4 label, search and facets, versions (LID and LID::VID), the label,
and the owner's release and withdrawal."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ...exchange import policy
from ...exchange.levels import to_pds4
from ...exchange.pds4 import ProductMetadata, read_label, write_label
from ...storage import exchange_repo as repo
from ...storage.partners_repo import Identity
from ...storage.tables import Product
from ...timescales import parse_utc
from ..deps import CallerDep, ClockDep, SessionDep, route
from ..timefields import TimeIn
from .common import ProductOut, ReleaseIn, conflict_as_409, product_outs, visible_product

router = APIRouter(prefix="/api/v1/exchange", tags=["lunar data exchange"])


def _label_time(text: str | None):
    """A label time as an instant (``read_label`` checked that it is UTC); the label's text is kept."""
    return None if text is None else parse_utc(text)


@route(
    router,
    "POST",
    "/products",
    ("observer", "operator"),
    response_model=ProductOut,
    status_code=201,
    summary="Ingest a product from its PDS4 label (release dates computed now from the embargo rules)",
)
async def ingest(
    request: Request,
    session: SessionDep,
    who: CallerDep,
    clock: ClockDep,
    mission: str = Query(...),
    payload: str = Query(...),
    licence: str = Query("CC-BY-4.0", max_length=64),
    level: str | None = Query(None),
) -> ProductOut:
    # the label is read on the event loop; parsing it and every database call run in a worker thread
    label = await request.body()
    return await run_in_threadpool(_ingest, label, session, who, clock, mission, payload, licence, level)


def _ingest(
    label: bytes,
    session: Session,
    who: Identity,
    clock: Callable[[], datetime],
    mission: str,
    payload: str,
    licence: str,
    level: str | None,
) -> ProductOut:
    pl = repo.payload(session, mission, payload)
    if pl is None:
        raise HTTPException(404, f"no payload {payload!r} on {mission!r}")
    if pl.owner_partner_id != who.partner_id:
        raise HTTPException(403, "only the payload's owner partner ingests its products")
    # a malformed label (RecordError), an unknown level (InputError), a label time (TimeError): all
    # SpacecommonsErrors, answered with 400 by the app's one handler
    meta = read_label(label, "label.xml")
    processing = to_pds4(level or meta.processing_level or "")
    start, stop = _label_time(meta.start), _label_time(meta.stop)
    owner = repo.lid_owner(session, meta.lid)
    if owner is not None and owner.partner_id != pl.owner_partner_id:
        raise HTTPException(403, f"{meta.lid} belongs to another partner: only its owner ingests versions of it")
    if owner is not None and owner.mission_id != pl.mission_id:
        raise HTTPException(403, f"{meta.lid} belongs to another mission: ingest its versions from that mission")
    conflict = f"{meta.lidvid} exists: versions are immutable, ingest a new version_id"
    if repo.product_exists(session, meta.lid, meta.vid):
        raise HTTPException(409, conflict)
    m = repo.mission_of(session, pl)
    now = clock()
    days = pl.proprietary_days if pl.proprietary_days is not None else m.proprietary_days
    partners_at, public_at = policy.release_dates(now, days, m.public_after_days)
    with conflict_as_409(session, conflict):  # a concurrent ingest of the same LID::VID won
        p = repo.add_product(
            session,
            Product(
                lid=meta.lid,
                vid=meta.vid,
                title=meta.title,
                payload_id=pl.id,
                owner_partner_id=pl.owner_partner_id,
                target=meta.target,
                instrument=meta.instrument,
                processing_level=processing,
                start=start,
                stop=stop,
                licence=licence,
                citation=meta.citation,
                **(dict(zip(("west", "east", "north", "south"), meta.bounds, strict=True)) if meta.bounds else {}),
                metadata_json=json.dumps(dataclasses.asdict(dataclasses.replace(meta, processing_level=processing))),
                ingested_at=now,
                partners_release_at=partners_at,
                public_release_at=public_at,
            ),
        )
        session.commit()
    return product_outs(session, [p], who, now)[0]


@route(
    router,
    "GET",
    "/products",
    ("public",),
    response_model=list[ProductOut],
    summary="Search products the caller may see (target, instrument, level, time, text)",
)
def search(
    session: SessionDep,
    who: CallerDep,
    clock: ClockDep,
    target: str | None = None,
    instrument: str | None = None,
    level: str | None = None,
    after: TimeIn | None = Query(None, description="observed until at least this time (UTC with offset)"),
    before: TimeIn | None = Query(None, description="observed from at most this time (UTC with offset)"),
    q: str | None = Query(None, max_length=200),
    bbox: str | None = Query(None, examples=["-10,20,10,30"], description="west,south,east,north (deg)"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[ProductOut]:
    now = clock()
    pds4_level = to_pds4(level) if level else None  # an unknown level: InputError, 400
    box = None
    if bbox:
        try:
            w, so, e, n = (float(x) for x in bbox.split(","))
        except ValueError:
            raise HTTPException(400, "bbox is west,south,east,north in degrees") from None
        box = (w, so, e, n)
    terms = repo.ProductFilter(target, instrument, pds4_level, after, before, q, box, limit)
    return product_outs(session, repo.search(session, who.partner_id, now, terms), who, now)


@route(router, "GET", "/facets", ("public",), summary="Counts by target, instrument and level of visible products")
def facets(session: SessionDep, who: CallerDep, clock: ClockDep) -> dict:
    return repo.facets(session, who.partner_id, clock())


@route(
    router,
    "GET",
    "/products/{lid}",
    ("public",),
    response_model=ProductOut,
    summary="Concept id: the latest version not withdrawn",
)
def latest(lid: str, session: SessionDep, who: CallerDep, clock: ClockDep) -> ProductOut:
    now = clock()
    return product_outs(session, [visible_product(session, now, lid, None, who, "metadata")], who, now)[0]


@route(router, "GET", "/products/{lid}/{vid}", ("public",), response_model=ProductOut, summary="One product version")
def version(lid: str, vid: str, session: SessionDep, who: CallerDep, clock: ClockDep) -> ProductOut:
    now = clock()
    return product_outs(session, [visible_product(session, now, lid, vid, who, "metadata")], who, now)[0]


@route(
    router,
    "GET",
    "/products/{lid}/{vid}/label",
    ("public",),
    summary="The product's PDS4 label",
    responses={200: {"content": {"application/xml": {}}}},
)
def label(lid: str, vid: str, session: SessionDep, who: CallerDep, clock: ClockDep) -> Response:
    p = visible_product(session, clock(), lid, vid, who, "label")
    meta = ProductMetadata(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(p.metadata_json).items() if k != "extra"}
    )
    return Response(write_label(meta), media_type="application/xml")


@route(
    router,
    "POST",
    "/products/{lid}/{vid}/release",
    ("observer", "operator"),
    response_model=ProductOut,
    summary="Owner: set or bring forward the release dates of one product",
)
def release(lid: str, vid: str, body: ReleaseIn, session: SessionDep, who: CallerDep, clock: ClockDep) -> ProductOut:
    now = clock()
    p = visible_product(session, now, lid, vid, who, "release")
    if p.owner_partner_id != who.partner_id:
        raise HTTPException(403, "only the owner partner releases its products")
    if body.partners_release_at is not None:
        p.partners_release_at = body.partners_release_at.replace(microsecond=0)
    if body.public_release_at is not None:
        p.public_release_at = body.public_release_at.replace(microsecond=0)
    session.commit()
    return product_outs(session, [p], who, now)[0]


@route(
    router,
    "POST",
    "/products/{lid}/{vid}/tombstone",
    ("observer", "operator"),
    response_model=ProductOut,
    summary="Owner: withdraw a version (metadata stays, data are no longer served)",
)
def tombstone(lid: str, vid: str, session: SessionDep, who: CallerDep, clock: ClockDep) -> ProductOut:
    now = clock()
    p = visible_product(session, now, lid, vid, who, "tombstone")
    if p.owner_partner_id != who.partner_id:
        raise HTTPException(403, "only the owner partner withdraws its products")
    p.tombstoned_at = now
    session.commit()
    return product_outs(session, [p], who, now)[0]
