"""Operators: watchlist, webhooks, alerts and their delivery log."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from ..storage import alerts_repo as repo
from ..storage.partners_repo import Identity
from .deps import MAX_ID, CallerDep, ClockDep, Id, SessionDep, route
from .timefields import Instant, InstantMs

router = APIRouter(prefix="/api/v1", tags=["alerts"])


class WatchIn(BaseModel):
    norad_id: int = Field(ge=0, le=MAX_ID, examples=[25544])
    max_miss_km: float = Field(gt=0, le=100, examples=[2.0])
    min_pc: float | None = Field(None, ge=0, le=1, examples=[1e-5], description="also require Pc >= this")


class WatchOut(WatchIn):
    id: int


class WebhookIn(BaseModel):
    url: str = Field(pattern="^https?://", examples=["https://ops.example.org/spacecommons"])
    secret: str = Field(min_length=16, max_length=256, description="HMAC-SHA256 key; never returned")


class AlertOut(BaseModel):
    id: int
    run_id: int
    event_id: int
    norad_id: int
    other_id: int
    tca: InstantMs
    miss_km: float
    pc: float | None
    created_at: Instant
    status: str
    attempts: int


class DeliveryOut(BaseModel):
    attempt: int
    at: Instant
    webhook_id: int
    status_code: int | None
    error: str | None


def _partner(who: Identity) -> int:
    if who.partner_id is None:
        raise HTTPException(401, "needs a partner key")
    return who.partner_id


@route(
    router,
    "POST",
    "/watchlist",
    ("operator",),
    response_model=WatchOut,
    status_code=201,
    summary="Watch a satellite: alerts for its events under the thresholds",
)
def watch(body: WatchIn, session: SessionDep, who: CallerDep, clock: ClockDep) -> WatchOut:
    entry = repo.upsert_watch(session, _partner(who), body.norad_id, body.max_miss_km, body.min_pc, clock())
    session.commit()
    return WatchOut(id=entry.id, norad_id=entry.norad_id, max_miss_km=entry.max_miss_km, min_pc=entry.min_pc)


@route(router, "GET", "/watchlist", ("operator",), response_model=list[WatchOut], summary="The partner's watchlist")
def watchlist(session: SessionDep, who: CallerDep) -> list[WatchOut]:
    rows = repo.partner_watchlist(session, _partner(who))
    return [WatchOut(id=w.id, norad_id=w.norad_id, max_miss_km=w.max_miss_km, min_pc=w.min_pc) for w in rows]


@route(router, "DELETE", "/watchlist/{norad_id}", ("operator",), status_code=204, summary="Stop watching")
def unwatch(norad_id: Id, session: SessionDep, who: CallerDep) -> None:
    entry = repo.watch_entry(session, _partner(who), norad_id)
    if entry is None:
        raise HTTPException(404, f"{norad_id} is not on the watchlist")
    session.delete(entry)
    session.commit()


@route(
    router,
    "POST",
    "/webhooks",
    ("operator",),
    status_code=201,
    summary="Register a webhook; alerts are POSTed signed with HMAC-SHA256",
)
def add_webhook(body: WebhookIn, session: SessionDep, who: CallerDep, clock: ClockDep) -> dict:
    h = repo.add_webhook(session, _partner(who), body.url, body.secret, clock())
    session.commit()
    return {"id": h.id, "url": h.url}


@route(router, "GET", "/alerts", ("operator",), response_model=list[AlertOut], summary="The partner's alerts")
def alerts(
    status: str | None = Query(None, pattern="^(pending|delivered|failed|no-webhook)$"),
    limit: int = Query(200, ge=1, le=5000),
    *,
    session: SessionDep,
    who: CallerDep,
) -> list[AlertOut]:
    rows = repo.partner_alerts(session, _partner(who), status, limit)
    return [AlertOut.model_validate(a, from_attributes=True) for a in rows]


@route(
    router,
    "GET",
    "/alerts/{alert_id}/deliveries",
    ("operator",),
    response_model=list[DeliveryOut],
    summary="Delivery log of one alert",
)
def deliveries(alert_id: Id, session: SessionDep, who: CallerDep) -> list[DeliveryOut]:
    a = repo.alert(session, alert_id)
    if a is None or a.partner_id != _partner(who):
        raise HTTPException(404, f"no alert {alert_id}")
    return [DeliveryOut.model_validate(d, from_attributes=True) for d in repo.deliveries(session, alert_id)]
