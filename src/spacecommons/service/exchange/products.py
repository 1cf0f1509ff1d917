"""Products: ingest from a PDS4 label, search and facets, versions (LID and LID::VID), the label,
members and DataCite record of bundles and collections, and the owner's release, DOI and withdrawal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ...exchange import policy
from ...exchange.archive import Citation
from ...exchange.archive import datacite as citation_record
from ...exchange.levels import to_pds4
from ...storage import exchange_repo as repo
from ...storage.partners_repo import Identity
from ...timescales import format_utc
from ...workflows import archive as archive_flow
from ..deps import CallerDep, ClockDep, SessionDep, route
from ..timefields import TimeIn
from .common import ProductOut, ReleaseIn, access, owned_product, product_outs, visible_product

router = APIRouter(prefix="/api/v1/exchange", tags=["lunar data exchange"])


def _refusals(call):
    """Run a workflow call, answering its refusals as HTTP: a label failing validation under a strict
    policy is 422 with every finding (line, rule, message); a refused ingest its own status."""
    try:
        return call()
    except archive_flow.LabelInvalid as exc:
        findings = [
            {"severity": f.severity.value, "rule": f.rule, "line": f.line, "message": f.message}
            for f in exc.report.findings
        ]
        raise HTTPException(422, {"message": str(exc), "findings": findings}) from None
    except archive_flow.Refused as exc:
        raise HTTPException(exc.status, str(exc)) from None


@route(
    router,
    "POST",
    "/products",
    ("observer", "operator"),
    response_model=ProductOut,
    status_code=201,
    summary="Ingest a product from its PDS4 label (validated, kept verbatim; release dates computed now)",
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
    # the label is read on the event loop; parsing, validating, storing and every database call run
    # in a worker thread
    label = await request.body()
    blobs = request.app.state.blobs
    return await run_in_threadpool(_ingest, label, blobs, session, who, clock, mission, payload, licence, level)


def _ingest(
    label: bytes,
    blobs,
    session: Session,
    who: Identity,
    clock: Callable[[], datetime],
    mission: str,
    payload: str,
    licence: str,
    level: str | None,
) -> ProductOut:
    now = clock()
    # a malformed label (RecordError), an unknown level (InputError), a label time (TimeError): all
    # SpacecommonsErrors, answered with 400 by the app's one handler
    p = _refusals(
        lambda: archive_flow.ingest_label(
            session, blobs, who.partner_id, mission, payload, label, now, licence, level, "label.xml"
        )
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
def latest(lid: str, request: Request, session: SessionDep, who: CallerDep, clock: ClockDep) -> ProductOut:
    now = clock()
    return product_outs(session, [visible_product(request, session, now, lid, None, who, "metadata")], who, now)[0]


@route(router, "GET", "/products/{lid}/{vid}", ("public",), response_model=ProductOut, summary="One product version")
def version(lid: str, vid: str, request: Request, session: SessionDep, who: CallerDep, clock: ClockDep) -> ProductOut:
    now = clock()
    return product_outs(session, [visible_product(request, session, now, lid, vid, who, "metadata")], who, now)[0]


@route(
    router,
    "GET",
    "/products/{lid}/{vid}/label",
    ("public",),
    summary="The product's PDS4 label as submitted (service changes appended to its Modification_History)",
    responses={200: {"content": {"application/xml": {}}}},
)
def label(lid: str, vid: str, request: Request, session: SessionDep, who: CallerDep, clock: ClockDep) -> Response:
    p = visible_product(request, session, clock(), lid, vid, who, "label")
    return Response(archive_flow.label_bytes(p, request.app.state.blobs), media_type="application/xml")


@route(
    router,
    "GET",
    "/products/{lid}/{vid}/members",
    ("public",),
    summary="Members of a bundle or collection (Primary/Secondary); members the caller may not see are left out",
)
def product_members(
    lid: str, vid: str, request: Request, session: SessionDep, who: CallerDep, clock: ClockDep
) -> list[dict]:
    now = clock()
    p = visible_product(request, session, now, lid, vid, who, "members")
    out = []
    for m in archive_flow.members(session, request.app.state.blobs, p):
        held = archive_flow.resolve(session, m)
        if held is not None and not policy.can_see_metadata(access(held), who.partner_id, now):
            continue  # an invisible product does not exist, not even as a member
        out.append(
            {
                "reference": m.reference,
                "member_status": m.status,
                "reference_type": m.reference_type,
                "held": None if held is None else f"{held.lid}::{held.vid}",
            }
        )
    return out


@route(
    router,
    "GET",
    "/products/{lid}/{vid}/datacite",
    ("public",),
    summary="DataCite metadata (JSON) of a bundle or collection with a DOI",
)
def datacite(lid: str, vid: str, request: Request, session: SessionDep, who: CallerDep, clock: ClockDep) -> dict:
    now = clock()
    p = visible_product(request, session, now, lid, vid, who, "datacite")
    meta = archive_flow.metadata(p)
    if meta.product_class not in archive_flow.AGGREGATES:
        raise HTTPException(400, "DataCite records are made for bundles and collections")
    if not p.doi:
        raise HTTPException(404, f"{p.lid}::{p.vid} has no DOI: its owner registers one (POST .../doi)")
    publisher = repo.partner_names(session, [p.owner_partner_id]).get(p.owner_partner_id, "")
    year = meta.publication_year or str((p.public_release_at or p.ingested_at).year)
    visible_members = []
    for m in archive_flow.members(session, request.app.state.blobs, p):
        held = archive_flow.resolve(session, m)
        if held is None or policy.can_see_metadata(access(held), who.partner_id, now):
            visible_members.append(m.reference)
    return citation_record(
        Citation(
            doi=p.doi,
            lidvid=f"{p.lid}::{p.vid}",
            title=p.title,
            publisher=publisher,
            publication_year=year,
            licence=p.licence,
            description=meta.description,
            creators=(meta.authors,) if meta.authors else (),
            members=tuple(visible_members),
        )
    )


class DoiIn(BaseModel):
    doi: str = Field(pattern=r"^10\.[0-9]{4,9}/[-._;()/:A-Za-z0-9]{1,200}$", examples=["10.17189/1520348"])


@route(
    router,
    "POST",
    "/products/{lid}/{vid}/doi",
    ("observer", "operator"),
    response_model=ProductOut,
    summary="Owner: record the DOI the partner registered for a product (bundle or collection)",
)
def register_doi(
    lid: str, vid: str, body: DoiIn, request: Request, session: SessionDep, who: CallerDep, clock: ClockDep
) -> ProductOut:
    now = clock()
    p = owned_product(request, session, now, lid, vid, who, "doi", "registers its products' DOIs")
    p.doi = body.doi
    archive_flow.record_change(p, now, f"DOI {body.doi} registered by the owner partner")
    session.commit()
    return product_outs(session, [p], who, now)[0]


@route(
    router,
    "POST",
    "/products/{lid}/{vid}/release",
    ("observer", "operator"),
    response_model=ProductOut,
    summary="Owner: set or bring forward the release dates of one product",
)
def release(
    lid: str, vid: str, body: ReleaseIn, request: Request, session: SessionDep, who: CallerDep, clock: ClockDep
) -> ProductOut:
    now = clock()
    p = owned_product(request, session, now, lid, vid, who, "release", "releases its products")
    said = []
    if body.partners_release_at is not None:
        p.partners_release_at = body.partners_release_at.replace(microsecond=0)
        said.append(f"partners from {format_utc(p.partners_release_at, 0)}")
    if body.public_release_at is not None:
        p.public_release_at = body.public_release_at.replace(microsecond=0)
        said.append(f"public from {format_utc(p.public_release_at, 0)}")
    if said:
        archive_flow.record_change(p, now, "Release dates set by the owner partner: " + ", ".join(said))
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
def tombstone(lid: str, vid: str, request: Request, session: SessionDep, who: CallerDep, clock: ClockDep) -> ProductOut:
    now = clock()
    p = owned_product(request, session, now, lid, vid, who, "tombstone", "withdraws its products")
    p.tombstoned_at = now
    session.commit()
    return product_outs(session, [p], who, now)[0]
