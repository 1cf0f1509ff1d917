"""Partners, members, keys and the audit log (admin); health and metrics."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from ..storage import partners_repo, platform_repo
from .deps import ClockDep, SessionDep, route
from .timefields import Instant

router = APIRouter(prefix="/api/v1", tags=["platform"])


class PartnerIn(BaseModel):
    name: str = Field(min_length=1, max_length=128, examples=["Agenzia Spaziale Italiana"])


class MemberIn(BaseModel):
    name: str = Field(min_length=1, max_length=128, examples=["flight-dynamics"])
    role: Literal["admin", "operator", "analyst", "observer"] = Field(examples=["operator"])


class KeyOut(BaseModel):
    partner: str
    member: str
    role: str
    api_key: str = Field(description="shown once; only a hash is stored")


class AuditOut(BaseModel):
    id: int
    at: Instant
    partner_id: int | None
    member_id: int | None
    method: str
    path: str
    status: int
    detail: str | None


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    database: str
    schema_revision: str | None = None


@route(router, "GET", "/health", ("public",), response_model=Health, summary="Liveness and database check")
def health(request: Request, session: SessionDep) -> Health:
    rev = platform_repo.schema_revision(session)
    return Health(status="ok", database=request.app.state.engine.dialect.name, schema_revision=rev)


@route(router, "GET", "/metrics", ("admin",), summary="Counts and request statistics")
def metrics(request: Request, session: SessionDep) -> dict:
    return {
        **platform_repo.row_counts(session),
        "requests": request.app.state.counters["requests"],
        "rate_limited": request.app.state.rate_limiter.refused,
        "jobs_running": len(request.app.state.jobs),
    }


@route(router, "POST", "/partners", ("admin",), status_code=201, summary="Register a partner")
def create_partner(body: PartnerIn, session: SessionDep, clock: ClockDep) -> dict:
    try:
        p = partners_repo.create_partner(session, body.name, clock())
    except ValueError as exc:
        raise HTTPException(409, str(exc)) from None
    session.commit()
    return {"id": p.id, "name": p.name}


@route(
    router,
    "POST",
    "/partners/{partner}/members",
    ("admin",),
    response_model=KeyOut,
    status_code=201,
    summary="Add a member with a role and issue its first API key",
)
def add_member(partner: str, body: MemberIn, session: SessionDep, clock: ClockDep) -> KeyOut:
    try:
        m = partners_repo.add_member(session, partner, body.name, body.role, clock())
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    key = partners_repo.issue_key(session, m.id, clock())
    session.commit()
    return KeyOut(partner=partner, member=m.name, role=m.role, api_key=key)


@route(router, "DELETE", "/keys/{prefix}", ("admin",), status_code=204, summary="Revoke an API key by its prefix")
def revoke_key(prefix: str, request: Request, session: SessionDep, clock: ClockDep) -> None:
    if not partners_repo.revoke_key(session, prefix, clock()):
        raise HTTPException(404, f"no active key {prefix!r}")
    session.commit()
    request.app.state.key_cache.clear()


@route(router, "GET", "/audit", ("admin",), response_model=list[AuditOut], summary="The audit log, newest first")
def audit_log(session: SessionDep, limit: int = Query(100, ge=1, le=5000)) -> list[AuditOut]:
    return [AuditOut.model_validate(r, from_attributes=True) for r in partners_repo.audit_entries(session, limit)]
