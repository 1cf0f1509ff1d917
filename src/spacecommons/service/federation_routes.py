"""Federation routes (origin side): this node's public key, its signed change feed, and the
verbatim label and files of its own products for a peer to mirror.

A peer node authenticates by signing the request with its node key (headers ``X-Node-Key``,
``X-Node-Date``, ``X-Node-Signature``, see ``exchange.federation.request_message``): it then acts
as the local partner it was registered as (``spacecommons federation add-peer URL KEY --as
PARTNER``). Without them the caller is identified as on every route (an API key, or anonymous),
and ``exchange.policy`` decides in every case."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from sqlalchemy.orm import Session

from ..errors import InputError
from ..exchange import federation as fed
from ..exchange import policy
from ..storage import exchange_repo, federation_repo
from ..timescales import parse_utc
from ..workflows import federation as flow
from .deps import MAX_ID, CallerDep, ClockDep, SessionDep, route
from .timefields import TimeIn

router = APIRouter(prefix="/api/v1/federation", tags=["federation"])


def _caller(request: Request, session: Session, who, now: datetime) -> tuple[str, int | None]:
    """(requester, partner id): a verified peer node, or the API key's partner, or anonymous."""
    key = request.headers.get("x-node-key")
    if not key:
        return ("anonymous" if who.partner_id is None else f"partner:{who.partner}"), who.partner_id
    date, signature = request.headers.get("x-node-date", ""), request.headers.get("x-node-signature", "")
    raw = request.scope.get("raw_path") or request.url.path.encode()
    target = raw.decode("latin-1") + (f"?{request.url.query}" if request.url.query else "")
    peer = federation_repo.peer_by_key(session, key)
    try:
        signed_at = parse_utc(date)
        fed.check_request_time(signed_at, now)
        if peer is None:
            raise fed.FederationError("unknown node key")
        fed.verify(peer.public_key, fed.request_message(request.method, target, date), signature, "request")
    except Exception:
        raise HTTPException(401, "node signature refused (unknown key, bad signature or date)") from None
    return peer.public_key, peer.partner_id


@route(router, "GET", "/key", ("public",), summary="This node's Ed25519 public key (compare it out of band)")
def node_key(request: Request) -> dict:
    return {"public_key": fed.public_key_text(request.app.state.node_key)}


@route(
    router,
    "GET",
    "/feed",
    ("public",),
    summary="Signed change feed of this node's own products the caller may read (after a sequence number)",
)
def feed(
    request: Request,
    session: SessionDep,
    who: CallerDep,
    clock: ClockDep,
    after: int = Query(0, ge=0, le=MAX_ID),
    since: TimeIn | None = Query(None, description="as_of of the previous page: releases since then are re-sent"),
    limit: int = Query(flow.PAGE_SIZE, ge=1, le=1000),
) -> dict:
    now = clock()
    requester, partner_id = _caller(request, session, who, now)
    blobs = request.app.state.blobs
    return flow.feed_page(session, blobs, request.app.state.node_key, requester, partner_id, after, since, now, limit)


def _readable(request: Request, session: Session, who, now: datetime, lid: str, vid: str):
    _, partner_id = _caller(request, session, who, now)
    p = exchange_repo.find_product(session, lid, vid)
    if p is None or p.origin is not None:
        raise HTTPException(404, "no such product of this node")
    if not policy.can_read_data(exchange_repo.product_access(p), partner_id, now):
        raise HTTPException(404, "no such product of this node")
    return p


@route(router, "GET", "/products/{lid}/{vid}/label", ("public",), summary="Verbatim label of a fed product")
def label(lid: str, vid: str, request: Request, session: SessionDep, who: CallerDep, clock: ClockDep):
    p = _readable(request, session, who, clock(), lid, vid)
    if not p.label_sha256:
        raise HTTPException(404, "no verbatim label")
    return FileResponse(request.app.state.blobs.path(p.label_sha256), media_type="application/xml")


@route(router, "GET", "/products/{lid}/{vid}/files/{name}", ("public",), summary="A file of a fed product")
def file(lid: str, vid: str, name: str, request: Request, session: SessionDep, who: CallerDep, clock: ClockDep):
    p = _readable(request, session, who, clock(), lid, vid)
    f = exchange_repo.file(session, p.id, name)
    if f is None:
        raise HTTPException(404, "no such file")
    return FileResponse(
        request.app.state.blobs.path(f.sha256),
        media_type="application/octet-stream",
        headers={"Digest": f"sha-256={f.sha256}"},
    )


@route(
    router,
    "GET",
    "/data",
    ("public",),
    summary="Verbatim labels and files of several fed products the caller may read, in one stream",
    description=(
        "Products by feed sequence number (`seqs=1-200,205`: up to 64 numbers or ranges, at most "
        f"{flow.DATA_MAX_PRODUCTS} products). The body is, per distinct blob, a line `<sha256> <size>` and "
        "then its bytes; a product the caller may not read, or that changed since, is left out (the "
        "mirror checks every blob against the signed feed page, and fetches what is missing alone)."
    ),
    responses={200: {"content": {flow.DATA_MEDIA_TYPE: {}}}},
)
def data(
    request: Request,
    session: SessionDep,
    who: CallerDep,
    clock: ClockDep,
    seqs: str = Query(
        ...,
        max_length=1400,
        pattern=r"^\d{1,10}(-\d{1,10})?(,\d{1,10}(-\d{1,10})?){0,63}$",
        description="feed sequence numbers and ranges: 1-200,205",
    ),
) -> StreamingResponse:
    now = clock()
    _, partner_id = _caller(request, session, who, now)
    ranges = flow.parse_seqs(seqs, MAX_ID)  # InputError (400) for a range backwards or out of bounds
    products = federation_repo.fed_products(session, ranges, flow.DATA_MAX_PRODUCTS + 1)
    if len(products) > flow.DATA_MAX_PRODUCTS:
        raise InputError(f"seqs: more than {flow.DATA_MAX_PRODUCTS} products in one request")
    readable = [p for p in products if policy.can_read_data(exchange_repo.product_access(p), partner_id, now)]
    items = flow.data_items(session, request.app.state.blobs, readable)
    return StreamingResponse(flow.stream_blobs(items), media_type=flow.DATA_MEDIA_TYPE)
