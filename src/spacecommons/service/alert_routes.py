"""Operators: watchlist, webhooks, alerts and their delivery log."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from ..storage import alerts_repo as repo
from ..storage.partners_repo import Identity
from ..workflows import alerts as workflow
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
    url: str = Field(
        max_length=2048,
        examples=["https://ops.example.org/spacecommons"],
        description="http(s) URL whose host resolves only to public unicast addresses (checked now and at each send)",
    )
    secret: str | None = Field(
        None,
        min_length=16,
        max_length=256,
        description="HMAC-SHA256 key, stored sealed and never returned; omit it and the server generates one",
    )


class WebhookCreated(BaseModel):
    id: int
    url: str
    secret: str | None = Field(None, description="the generated secret, shown once (null when you gave one)")


class WebhookOut(BaseModel):
    id: int
    url: str
    created_at: Instant


class SecretOut(BaseModel):
    id: int
    secret: str = Field(description="the new secret, shown once; the old one signs nothing from now on")


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
    status_code: int | None = Field(description="the receiver's HTTP status, when it answered")
    reason: str = Field(examples=["delivered", "timeout", "address not allowed"], description="generic reason")
    error: str | None = Field(description="the reason when not delivered")


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
    response_model=WebhookCreated,
    summary="Register a webhook; alerts are POSTed signed with HMAC-SHA256",
    responses={409: {"description": "the partner has the maximum number of webhooks"}, 422: {}},
)
def add_webhook(
    body: WebhookIn, request: Request, session: SessionDep, who: CallerDep, clock: ClockDep
) -> WebhookCreated:
    state = request.app.state
    try:
        h, generated = workflow.register_webhook(
            session,
            state.secret_box,
            _partner(who),
            body.url,
            body.secret,
            clock(),
            resolver=state.webhook_resolver,
            allow_loopback=state.webhook_allow_loopback,
        )
    except workflow.WebhookRefused as refused:
        raise HTTPException(refused.status_code, str(refused)) from None
    session.commit()
    return WebhookCreated(id=h.id, url=h.url, secret=generated)


@route(router, "GET", "/webhooks", ("operator",), response_model=list[WebhookOut], summary="The partner's webhooks")
def webhooks(session: SessionDep, who: CallerDep) -> list[WebhookOut]:
    rows = repo.partner_webhooks(session, _partner(who))
    return [WebhookOut(id=h.id, url=h.url, created_at=h.created_at) for h in rows]


@route(router, "DELETE", "/webhooks/{webhook_id}", ("operator",), status_code=204, summary="Delete a webhook")
def delete_webhook(webhook_id: Id, session: SessionDep, who: CallerDep) -> None:
    h = repo.partner_webhook(session, _partner(who), webhook_id)
    if h is None:
        raise HTTPException(404, f"no webhook {webhook_id}")
    session.delete(h)
    session.commit()


@route(
    router,
    "POST",
    "/webhooks/{webhook_id}/rotate",
    ("operator",),
    response_model=SecretOut,
    summary="Replace a webhook's secret with a new generated one (shown once)",
)
def rotate_webhook_secret(webhook_id: Id, request: Request, session: SessionDep, who: CallerDep) -> SecretOut:
    secret = workflow.rotate_secret(session, request.app.state.secret_box, _partner(who), webhook_id)
    if secret is None:
        raise HTTPException(404, f"no webhook {webhook_id}")
    session.commit()
    return SecretOut(id=webhook_id, secret=secret)


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
    if repo.partner_alert(session, _partner(who), alert_id) is None:
        raise HTTPException(404, f"no alert {alert_id}")
    return [_delivery(d) for d in repo.deliveries(session, alert_id)]


def _delivery(d) -> DeliveryOut:
    """A log row as the partner sees it: a generic reason only (rows of older servers are scrubbed
    at start; anything else unexpected is shown as that too)."""
    reason = d.error if d.error in workflow.GENERIC_REASONS else workflow.LEGACY_RECORD
    code = d.status_code if reason != workflow.LEGACY_RECORD else None
    return DeliveryOut(
        attempt=d.attempt,
        at=d.at,
        webhook_id=d.webhook_id,
        status_code=code,
        reason=reason,
        error=None if reason == "delivered" else reason,
    )
