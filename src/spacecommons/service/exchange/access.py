"""Access requests: a partner asks the owner for early access to a product's data; the owner decides."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from ...storage import exchange_repo as repo
from ..deps import CallerDep, ClockDep, Id, SessionDep, route
from .common import PARTNERS, visible_product

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
