"""Lunar data exchange: missions and payloads, PDS4 products, files (range downloads), embargo,
access requests. Every read path asks spacecommons.exchange.policy, and logs its decision."""

from __future__ import annotations

import dataclasses
import json
import re

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..exchange import policy
from ..exchange.levels import to_pds4
from ..exchange.pds4 import ProductMetadata, read_label, write_label
from ..storage.partners_repo import Identity
from ..storage.tables import AccessDecision, AccessRequest, Mission, Payload, Product, ProductFile
from .deps import Id, db, route
from .security import identify

router = APIRouter(prefix="/api/v1/exchange", tags=["lunar data exchange"])
PARTNERS = ("observer", "operator", "analyst")
MAX_FILE_BYTES = 8 * 1024**3


class MissionIn(BaseModel):
    name: str = Field(min_length=1, max_length=128, examples=["ILRS lander 1"])
    kind: str = Field(pattern="^(module|lander|rover|orbiter)$", examples=["lander"])
    proprietary_days: float = Field(180, ge=0, le=3650)
    public_after_days: float = Field(180, ge=0, le=3650, description="after the partners' release")


class PayloadIn(BaseModel):
    name: str = Field(min_length=1, max_length=128, examples=["LPR"])
    instrument: str = Field(min_length=1, max_length=128, examples=["Lunar Penetrating Radar"])
    mass_kg: float | None = Field(None, ge=0)
    power_w: float | None = Field(None, ge=0)
    data_rate_kbps: float | None = Field(None, ge=0)
    status: str = Field("operating", pattern="^(planned|operating|safe-mode|ended)$")
    proprietary_days: float | None = Field(None, ge=0, le=3650, description="overrides the mission's")


class PayloadOut(PayloadIn):
    id: int
    mission: str
    owner_partner_id: int


class ProductOut(BaseModel):
    lid: str
    vid: str
    lidvid: str
    title: str
    target: str | None
    instrument: str | None
    processing_level: str | None
    start: str | None
    stop: str | None
    bounds: list[float] | None = Field(None, description="west, east, north, south (degrees)")
    licence: str
    citation: str | None
    partners_release_at: str | None
    public_release_at: str | None
    withdrawn: bool
    files: list[dict] = Field(default_factory=list)


class ReleaseIn(BaseModel):
    partners_release_at: str | None = Field(None, examples=["2027-01-01T00:00:00Z"])
    public_release_at: str | None = Field(None, examples=["2027-07-01T00:00:00Z"])


class AccessRequestIn(BaseModel):
    purpose: str = Field(min_length=10, max_length=4000)
    commitment: str = Field(
        min_length=10, max_length=4000, description="what the requester commits to (citation, no redistribution...)"
    )


def _access(p: Product) -> policy.Access:
    return policy.Access(p.owner_partner_id, p.partners_release_at, p.public_release_at, p.tombstoned_at is not None)


def _granted(session: Session, product_ids: list[int], who: Identity) -> set[int]:
    """The products among ``product_ids`` whose data the caller's approved access requests open."""
    if who.partner_id is None or not product_ids:
        return set()
    return set(
        session.scalars(
            select(AccessRequest.product_id).where(
                AccessRequest.product_id.in_(product_ids),
                AccessRequest.partner_id == who.partner_id,
                AccessRequest.status == "approved",
            )
        )
    )


def _log(session: Session, request: Request, p: Product, who: Identity, action: str, allowed: bool) -> None:
    session.add(
        AccessDecision(
            at=request.app.state.clock(),
            product_id=p.id,
            partner_id=who.partner_id,
            action=action,
            allowed=int(allowed),
        )
    )
    session.commit()


def _visible(who: Identity, now: str):
    """Products whose metadata the caller may see (the policy, as a query)."""
    q = select(Product)
    if who.partner_id is None:
        q = q.where(Product.public_release_at.is_not(None), Product.public_release_at <= now)
    return q


def _outs(session: Session, products: list[Product], who: Identity, now: str) -> list[ProductOut]:
    """Products as the caller sees them: files listed only where the policy opens the data (two
    queries for the whole list: the caller's grants and the readable products' files)."""
    granted = _granted(session, [p.id for p in products], who)
    readable = [p.id for p in products if policy.can_read_data(_access(p), who.partner_id, now, p.id in granted)]
    files: dict[int, list[dict]] = {pid: [] for pid in readable}
    if readable:
        for f in session.scalars(
            select(ProductFile).where(ProductFile.product_id.in_(readable)).order_by(ProductFile.id)
        ):
            files[f.product_id].append(
                {"name": f.name, "size": f.size, "sha256": f.sha256, "md5": f.md5, "media_type": f.media_type}
            )
    return [_out(p, files.get(p.id, [])) for p in products]


def _out(p: Product, files: list[dict]) -> ProductOut:
    return ProductOut(
        lid=p.lid,
        vid=p.vid,
        lidvid=f"{p.lid}::{p.vid}",
        title=p.title,
        target=p.target,
        instrument=p.instrument,
        processing_level=p.processing_level,
        start=p.start,
        stop=p.stop,
        bounds=None if p.west is None else [p.west, p.east, p.north, p.south],
        licence=p.licence,
        citation=p.citation,
        partners_release_at=p.partners_release_at,
        public_release_at=p.public_release_at,
        withdrawn=p.tombstoned_at is not None,
        files=files,
    )


def _product(session: Session, request: Request, lid: str, vid: str | None, who: Identity, action: str) -> Product:
    """The product version (``vid`` None: the latest not withdrawn), if the caller may see its metadata;
    404 otherwise, as for a product that does not exist."""
    now = request.app.state.clock()
    q = select(Product).where(Product.lid == lid)
    q = q.where(Product.tombstoned_at.is_(None)) if vid is None else q.where(Product.vid == vid)
    candidates = list(session.scalars(q))
    if vid is None:
        candidates.sort(key=lambda p: [int(x) if x.isdigit() else x for x in re.split(r"[.]", p.vid)], reverse=True)
    p = candidates[0] if candidates else None
    if p is None or not policy.can_see_metadata(_access(p), who.partner_id, now):
        if p is not None:
            _log(session, request, p, who, action, False)
        raise HTTPException(404, f"no product {lid}{'::' + vid if vid else ''}")
    return p


@route(
    router,
    "POST",
    "/missions",
    ("operator",),
    status_code=201,
    summary="Register a mission (owned by the caller's partner)",
)
def create_mission(body: MissionIn, session: Session = Depends(db), who: Identity = Depends(identify)) -> dict:
    if session.scalar(select(Mission.id).where(Mission.name == body.name)):
        raise HTTPException(409, f"mission {body.name!r} exists")
    m = Mission(owner_partner_id=who.partner_id, **body.model_dump())
    session.add(m)
    session.commit()
    return {"id": m.id, "name": m.name}


@route(
    router,
    "POST",
    "/missions/{mission}/payloads",
    ("operator",),
    response_model=PayloadOut,
    status_code=201,
    summary="Register a payload on a mission",
)
def create_payload(
    mission: str, body: PayloadIn, session: Session = Depends(db), who: Identity = Depends(identify)
) -> PayloadOut:
    m = session.scalar(select(Mission).where(Mission.name == mission))
    if m is None:
        raise HTTPException(404, f"no mission {mission!r}")
    if session.scalar(select(Payload.id).where(Payload.mission_id == m.id, Payload.name == body.name)):
        raise HTTPException(409, f"payload {body.name!r} exists on {mission!r}")
    p = Payload(mission_id=m.id, owner_partner_id=who.partner_id, **body.model_dump())
    session.add(p)
    session.commit()
    return PayloadOut(id=p.id, mission=m.name, owner_partner_id=p.owner_partner_id, **body.model_dump())


@route(router, "GET", "/payloads", ("public",), response_model=list[PayloadOut], summary="The payload registry")
def payloads(session: Session = Depends(db)) -> list[PayloadOut]:
    rows = session.execute(select(Payload, Mission.name).join(Mission, Payload.mission_id == Mission.id))
    return [
        PayloadOut(
            id=p.id,
            mission=name,
            owner_partner_id=p.owner_partner_id,
            name=p.name,
            instrument=p.instrument,
            mass_kg=p.mass_kg,
            power_w=p.power_w,
            data_rate_kbps=p.data_rate_kbps,
            status=p.status,
            proprietary_days=p.proprietary_days,
        )
        for p, name in rows
    ]


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
    mission: str = Query(...),
    payload: str = Query(...),
    licence: str = Query("CC-BY-4.0", max_length=64),
    level: str | None = Query(None),
    session: Session = Depends(db),
    who: Identity = Depends(identify),
) -> ProductOut:
    pl = session.scalar(select(Payload).join(Mission).where(Mission.name == mission, Payload.name == payload))
    if pl is None:
        raise HTTPException(404, f"no payload {payload!r} on {mission!r}")
    if pl.owner_partner_id != who.partner_id:
        raise HTTPException(403, "only the payload's owner partner ingests its products")
    # a malformed label (RecordError) or an unknown level (InputError): 400 from the app's handler
    meta = read_label(await request.body(), "label.xml")
    processing = to_pds4(level or meta.processing_level or "")
    if session.scalar(select(Product.id).where(Product.lid == meta.lid, Product.vid == meta.vid)):
        raise HTTPException(409, f"{meta.lidvid} exists: versions are immutable, ingest a new version_id")
    m = session.get(Mission, pl.mission_id)
    now = request.app.state.clock()
    days = pl.proprietary_days if pl.proprietary_days is not None else m.proprietary_days
    partners_at, public_at = policy.release_dates(now, days, m.public_after_days)
    p = Product(
        lid=meta.lid,
        vid=meta.vid,
        title=meta.title,
        payload_id=pl.id,
        owner_partner_id=pl.owner_partner_id,
        target=meta.target,
        instrument=meta.instrument,
        processing_level=processing,
        start=meta.start,
        stop=meta.stop,
        licence=licence,
        citation=meta.citation,
        **(dict(zip(("west", "east", "north", "south"), meta.bounds, strict=True)) if meta.bounds else {}),
        metadata_json=json.dumps(dataclasses.asdict(dataclasses.replace(meta, processing_level=processing))),
        ingested_at=now,
        partners_release_at=partners_at,
        public_release_at=public_at,
    )
    session.add(p)
    session.commit()
    return _outs(session, [p], who, now)[0]


@route(
    router,
    "PUT",
    "/products/{lid}/{vid}/files/{name}",
    ("observer", "operator"),
    status_code=201,
    summary="Upload a file of a product (streamed; stored by sha256; visible only when complete)",
)
async def upload(
    lid: str, vid: str, name: str, request: Request, session: Session = Depends(db), who: Identity = Depends(identify)
) -> dict:
    p = _product(session, request, lid, vid, who, "upload")
    if p.owner_partner_id != who.partner_id:
        raise HTTPException(403, "only the owner partner adds files")
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,255}", name):
        raise HTTPException(400, "file names are letters, digits, '.', '_' and '-'")
    try:  # streamed to disk while hashing; visible only after the atomic rename
        blob = await request.app.state.blobs.put_async(request.stream(), MAX_FILE_BYTES)
    except ValueError as exc:
        raise HTTPException(413, str(exc)) from None
    media = request.headers.get("content-type", "application/octet-stream")[:128]
    existing = session.scalar(select(ProductFile).where(ProductFile.product_id == p.id, ProductFile.name == name))
    if existing is not None:
        raise HTTPException(409, f"{name} exists in {lid}::{vid}: versions are immutable")
    session.add(
        ProductFile(
            product_id=p.id,
            name=name,
            sha256=blob.sha256,
            md5=blob.md5,
            size=blob.size,
            media_type=media,
            created_at=request.app.state.clock(),
        )
    )
    session.commit()
    return {"name": name, "sha256": blob.sha256, "md5": blob.md5, "size": blob.size}


@route(
    router,
    "GET",
    "/products",
    ("public",),
    response_model=list[ProductOut],
    summary="Search products the caller may see (target, instrument, level, time, text)",
)
def search(
    request: Request,
    target: str | None = None,
    instrument: str | None = None,
    level: str | None = None,
    after: str | None = None,
    before: str | None = None,
    q: str | None = Query(None, max_length=200),
    bbox: str | None = Query(None, examples=["-10,20,10,30"], description="west,south,east,north (deg)"),
    limit: int = Query(100, ge=1, le=1000),
    session: Session = Depends(db),
    who: Identity = Depends(identify),
) -> list[ProductOut]:
    now = request.app.state.clock()
    query = _visible(who, now)
    if target:
        query = query.where(func.lower(Product.target) == target.lower())
    if instrument:
        query = query.where(Product.instrument.ilike(f"%{instrument}%"))
    if level:
        query = query.where(Product.processing_level == to_pds4(level))  # InputError: 400
    if after:
        query = query.where(Product.stop >= after)
    if before:
        query = query.where(Product.start <= before)
    if q:
        query = query.where(or_(Product.title.ilike(f"%{q}%"), Product.lid.ilike(f"%{q}%")))
    if bbox:
        try:
            w, so, e, n = (float(x) for x in bbox.split(","))
        except ValueError:
            raise HTTPException(400, "bbox is west,south,east,north in degrees") from None
        query = query.where(Product.west <= e, Product.east >= w, Product.south <= n, Product.north >= so)
    rows = list(session.scalars(query.order_by(Product.lid, Product.vid).limit(limit)))
    return _outs(session, rows, who, now)


@route(router, "GET", "/facets", ("public",), summary="Counts by target, instrument and level of visible products")
def facets(request: Request, session: Session = Depends(db), who: Identity = Depends(identify)) -> dict:
    visible = _visible(who, request.app.state.clock()).subquery()
    out = {"total": session.scalar(select(func.count()).select_from(visible))}
    for col in ("target", "instrument", "processing_level"):
        c = getattr(visible.c, col)
        out[col] = {k or "": n for k, n in session.execute(select(c, func.count()).group_by(c))}
    return out


@route(
    router,
    "GET",
    "/products/{lid}",
    ("public",),
    response_model=ProductOut,
    summary="Concept id: the latest version not withdrawn",
)
def latest(lid: str, request: Request, session: Session = Depends(db), who: Identity = Depends(identify)) -> ProductOut:
    return _outs(session, [_product(session, request, lid, None, who, "metadata")], who, request.app.state.clock())[0]


@route(router, "GET", "/products/{lid}/{vid}", ("public",), response_model=ProductOut, summary="One product version")
def version(
    lid: str, vid: str, request: Request, session: Session = Depends(db), who: Identity = Depends(identify)
) -> ProductOut:
    return _outs(session, [_product(session, request, lid, vid, who, "metadata")], who, request.app.state.clock())[0]


@route(
    router,
    "GET",
    "/products/{lid}/{vid}/label",
    ("public",),
    summary="The product's PDS4 label",
    responses={200: {"content": {"application/xml": {}}}},
)
def label(
    lid: str, vid: str, request: Request, session: Session = Depends(db), who: Identity = Depends(identify)
) -> Response:
    p = _product(session, request, lid, vid, who, "label")
    meta = ProductMetadata(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(p.metadata_json).items() if k != "extra"}
    )
    return Response(write_label(meta), media_type="application/xml")


@route(
    router,
    "GET",
    "/products/{lid}/{vid}/files/{name}",
    ("public",),
    summary="Download a file (HTTP Range supported for resumable downloads)",
    responses={200: {"content": {"application/octet-stream": {}}}, 206: {"description": "partial content"}},
)
def download(
    lid: str, vid: str, name: str, request: Request, session: Session = Depends(db), who: Identity = Depends(identify)
):
    p = _product(session, request, lid, vid, who, "data")
    now = request.app.state.clock()
    allowed = policy.can_read_data(_access(p), who.partner_id, now, p.id in _granted(session, [p.id], who))
    _log(session, request, p, who, "data", allowed)
    if not allowed:
        raise HTTPException(403 if who.partner_id is not None else 401, "the data are under embargo")
    f = session.scalar(select(ProductFile).where(ProductFile.product_id == p.id, ProductFile.name == name))
    if f is None:
        raise HTTPException(404, f"no file {name}")
    path = request.app.state.blobs.path(f.sha256)
    headers = {"ETag": f'"{f.sha256}"', "Digest": f"sha-256={f.sha256}", "Content-MD5": f.md5}
    return FileResponse(path, media_type=f.media_type, filename=name, headers=headers)


@route(
    router,
    "POST",
    "/products/{lid}/{vid}/release",
    ("observer", "operator"),
    response_model=ProductOut,
    summary="Owner: set or bring forward the release dates of one product",
)
def release(
    lid: str,
    vid: str,
    body: ReleaseIn,
    request: Request,
    session: Session = Depends(db),
    who: Identity = Depends(identify),
) -> ProductOut:
    p = _product(session, request, lid, vid, who, "release")
    if p.owner_partner_id != who.partner_id:
        raise HTTPException(403, "only the owner partner releases its products")
    if body.partners_release_at is not None:
        p.partners_release_at = body.partners_release_at
    if body.public_release_at is not None:
        p.public_release_at = body.public_release_at
    session.commit()
    return _outs(session, [p], who, request.app.state.clock())[0]


@route(
    router,
    "POST",
    "/products/{lid}/{vid}/tombstone",
    ("observer", "operator"),
    response_model=ProductOut,
    summary="Owner: withdraw a version (metadata stays, data are no longer served)",
)
def tombstone(
    lid: str, vid: str, request: Request, session: Session = Depends(db), who: Identity = Depends(identify)
) -> ProductOut:
    p = _product(session, request, lid, vid, who, "tombstone")
    if p.owner_partner_id != who.partner_id:
        raise HTTPException(403, "only the owner partner withdraws its products")
    p.tombstoned_at = request.app.state.clock()
    session.commit()
    return _outs(session, [p], who, request.app.state.clock())[0]


@route(
    router,
    "POST",
    "/products/{lid}/{vid}/access-requests",
    PARTNERS,
    status_code=201,
    summary="Ask the owner for early access to a product's data",
)
def request_access(
    lid: str,
    vid: str,
    body: AccessRequestIn,
    request: Request,
    session: Session = Depends(db),
    who: Identity = Depends(identify),
) -> dict:
    p = _product(session, request, lid, vid, who, "request")
    r = AccessRequest(
        product_id=p.id,
        partner_id=who.partner_id,
        purpose=body.purpose,
        commitment=body.commitment,
        status="pending",
        created_at=request.app.state.clock(),
    )
    session.add(r)
    session.commit()
    return {"id": r.id, "status": r.status}


@route(
    router,
    "POST",
    "/access-requests/{request_id}/decision",
    ("observer", "operator"),
    summary="Owner: approve or reject an access request",
)
def decide(
    request_id: Id,
    request: Request,
    approve: bool = Query(...),
    session: Session = Depends(db),
    who: Identity = Depends(identify),
) -> dict:
    r = session.get(AccessRequest, request_id)
    p = None if r is None else session.get(Product, r.product_id)
    if r is None or p.owner_partner_id != who.partner_id:
        raise HTTPException(404, f"no access request {request_id} for your products")
    r.status, r.decided_at = ("approved" if approve else "rejected"), request.app.state.clock()
    session.add(
        AccessDecision(
            at=r.decided_at, product_id=p.id, partner_id=r.partner_id, action="access-request", allowed=int(approve)
        )
    )
    session.commit()
    return {"id": r.id, "status": r.status}


@route(
    router,
    "GET",
    "/fixity",
    ("admin",),
    summary="Fixity audit now (recompute every stored file's sha256); the server also runs it daily",
)
def fixity(request: Request, session: Session = Depends(db)) -> dict:
    return audit_files(session, request.app.state.blobs)


def audit_files(session: Session, blobs) -> dict:
    bad = []
    files = list(session.scalars(select(ProductFile)))
    for sha in sorted({f.sha256 for f in files}):
        if not blobs.verify(sha):
            bad.extend({"product_id": f.product_id, "name": f.name, "sha256": sha} for f in files if f.sha256 == sha)
    return {"checked": len(files), "corrupted": bad}
