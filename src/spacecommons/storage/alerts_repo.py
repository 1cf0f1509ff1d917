"""Operators' alerts: events of a finished run that cross a watched object's thresholds, and their
webhook delivery (HMAC-SHA256 signed body, retries with exponential backoff, delivery log)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..timescales import format_utc
from .tables import Alert, ConjunctionEvent, WatchEntry, Webhook, WebhookDelivery

MAX_ATTEMPTS = 6
BACKOFF_S = 2.0  # 2, 4, 8, 16, 32 s between attempts


def signature(secret: str, body: bytes) -> str:
    """The ``X-Spacecommons-Signature`` header: ``sha256=<hex HMAC of the raw body>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def evaluate_run(session: Session, run_id: int, created_at: datetime) -> int:
    """Create an alert for every event of the run that crosses a watch entry; returns how many."""
    entries = list(session.scalars(select(WatchEntry)))
    if not entries:
        return 0
    ids = {e.norad_id for e in entries}
    events = session.scalars(
        select(ConjunctionEvent).where(
            ConjunctionEvent.run_id == run_id, or_(ConjunctionEvent.id1.in_(ids), ConjunctionEvent.id2.in_(ids))
        )
    )
    existing = set(session.execute(select(Alert.partner_id, Alert.event_id).where(Alert.run_id == run_id)).tuples())
    hooks = {h.partner_id for h in session.scalars(select(Webhook))}
    n = 0
    for ev in events:
        for w in entries:
            if w.norad_id not in (ev.id1, ev.id2) or ev.miss_km > w.max_miss_km:
                continue
            if w.min_pc is not None and (ev.pc is None or ev.pc < w.min_pc):
                continue
            if (w.partner_id, ev.id) in existing:
                continue
            existing.add((w.partner_id, ev.id))
            other = ev.id2 if ev.id1 == w.norad_id else ev.id1
            session.add(
                Alert(
                    partner_id=w.partner_id,
                    run_id=run_id,
                    event_id=ev.id,
                    norad_id=w.norad_id,
                    other_id=other,
                    tca=ev.tca,
                    miss_km=ev.miss_km,
                    pc=ev.pc,
                    created_at=created_at,
                    status="pending" if w.partner_id in hooks else "no-webhook",
                    attempts=0,
                    next_attempt_at=0.0,
                )
            )
            n += 1
    session.flush()
    return n


def alert_body(a: Alert) -> bytes:
    return json.dumps(
        {
            "alert_id": a.id,
            "run_id": a.run_id,
            "event_id": a.event_id,
            "norad_id": a.norad_id,
            "other_id": a.other_id,
            "tca": format_utc(a.tca, 3),
            "miss_km": a.miss_km,
            "pc": a.pc,
            "created_at": format_utc(a.created_at),
        },
        sort_keys=True,
    ).encode()


def deliver_pending(session: Session, client, now: datetime, now_s: float | None = None) -> int:
    """POST each due pending alert to its partner's webhooks with ``client`` (an httpx.Client);
    returns the number delivered. Failures are logged and retried with backoff."""
    now_s = time.time() if now_s is None else now_s
    due = session.scalars(select(Alert).where(Alert.status == "pending", Alert.next_attempt_at <= now_s))
    delivered = 0
    for a in list(due):
        hooks = list(session.scalars(select(Webhook).where(Webhook.partner_id == a.partner_id)))
        body = alert_body(a)
        a.attempts += 1
        ok = bool(hooks)
        for h in hooks:
            code, error = None, None
            try:
                r = client.post(
                    h.url,
                    content=body,
                    timeout=10.0,
                    headers={
                        "content-type": "application/json",
                        "x-spacecommons-signature": signature(h.secret, body),
                        "x-spacecommons-alert": str(a.id),
                    },
                )
                code = r.status_code
                ok = ok and 200 <= code < 300
            except Exception as exc:  # noqa: BLE001 - every failure is logged and retried
                error, ok = f"{type(exc).__name__}: {exc}", False
            session.add(
                WebhookDelivery(
                    alert_id=a.id, webhook_id=h.id, attempt=a.attempts, at=now, status_code=code, error=error
                )
            )
        if ok:
            a.status = "delivered"
            delivered += 1
        elif a.attempts >= MAX_ATTEMPTS:
            a.status = "failed"
        else:
            a.next_attempt_at = now_s + BACKOFF_S * 2 ** (a.attempts - 1)
    session.flush()
    return delivered
