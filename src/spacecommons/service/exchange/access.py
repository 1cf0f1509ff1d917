"""Access requests: a partner asks the owner for early access to a product's data; the owner lists
the requests on its products and decides."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from ...exchange import policy
from ...storage import exchange_repo as repo
from ..deps import CallerDep, ClockDep, Id, SessionDep, route
from ..timefields import Instant
from .common import PARTNERS, access, visible_product

router = APIRouter(prefix="/api/v1/exchange", tags=["lunar data exchange"])


class AccessRequestIn(BaseModel):
    purpose: str = Field(min_length=10, max_length=4000)
    commitment: str = Field(
        min_length=10, max_length=4000, description="what the requester commits to (citation, no redistribution...)"
    )


@route(
    router,
    "POST",
    "/products/{lid}/{vid}/access-requests",
    PARTNERS,
    status_code=201,
    summary="Ask the owner for early access to a product's data",
)
def request_access(
    lid: str, vid: str, body: AccessRequestIn, request: Request, session: SessionDep, who: CallerDep, clock: ClockDep
) -> dict:
    now = clock()
    p = visible_product(request, session, now, lid, vid, who, "request")
    r = repo.add_access_request(session, p.id, who.partner_id, body.purpose, body.commitment, now)
    session.commit()
    return {"id": r.id, "status": r.status}


@route(
    router,
    "POST",
    "/access-requests/{request_id}/decision",
    ("observer", "operator"),
    summary="Owner: approve or reject an access request",
)
def decide(request_id: Id, session: SessionDep, who: CallerDep, clock: ClockDep, approve: bool = Query(...)) -> dict:
    r = repo.decide_access_request(session, request_id, who.partner_id, approve, clock())
    if r is None:
        raise HTTPException(404, f"no access request {request_id} for your products")
    session.commit()
    return {"id": r.id, "status": r.status}


class AccessRequestOut(BaseModel):
    id: int
    lid: str
    vid: str
    lidvid: str
    requester: str = Field(description="the requesting partner's name")
    purpose: str
    commitment: str
    status: Literal["pending", "approved", "rejected"]
    created_at: Instant
    decided_at: Instant | None


@route(
    router,
    "GET",
    "/access-requests",
    ("observer", "operator"),
    response_model=list[AccessRequestOut],
    summary="Owner: the access requests on the partner's products (pending by default), oldest first",
)
def owner_requests(
    session: SessionDep,
    who: CallerDep,
    state: Literal["pending", "approved", "rejected", "all"] = Query("pending"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[AccessRequestOut]:
    if who.partner_id is None:  # an admin acting for no partner owns no product
        return []
    rows = repo.owner_access_requests(session, who.partner_id, None if state == "all" else state, limit)
    return [
        AccessRequestOut(
            id=r.id,
            lid=p.lid,
            vid=p.vid,
            lidvid=f"{p.lid}::{p.vid}",
            requester=requester,
            purpose=r.purpose,
            commitment=r.commitment,
            status=r.status,
            created_at=r.created_at,
            decided_at=r.decided_at,
        )
        for r, p, requester in rows
        if policy.may_decide_access(access(p), who.partner_id)  # the owner's, never a mirror's
    ]
