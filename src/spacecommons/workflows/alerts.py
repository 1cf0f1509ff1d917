"""Alerts after a screening run, and their webhook delivery as an outbox.

Evaluation: every event of a finished run that crosses a watch entry's thresholds becomes an
alert (in the run's finishing transaction). Delivery: due alerts are claimed in one short
transaction, POSTed (HMAC-SHA256 signed body) with no transaction open, and the results are
recorded in another short transaction; failures are retried with exponential backoff up to
``MAX_ATTEMPTS``. A delivery is at least once: a process that dies between sending and
recording sends again after the claim's lease.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from ..storage import alerts_repo as repo
from ..storage.tables import Alert
from ..timescales import format_utc
from .clock import as_utc

MAX_ATTEMPTS = 6
BACKOFF_S = 2.0  # 2, 4, 8, 16, 32 s between attempts
CLAIM_LEASE_S = 60.0  # a claimed alert is not due again for this long unless its result says so
TIMEOUT_S = 10.0


def signature(secret: str, body: bytes) -> str:
    """The ``X-Spacecommons-Signature`` header: ``sha256=<hex HMAC of the raw body>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def evaluate_run(session: Session, run_id: int, now: datetime) -> int:
    """Create an alert for every event of the run that crosses a watch entry; returns how many."""
    entries = repo.watch_entries(session)
    if not entries:
        return 0
    events = repo.run_events_involving(session, run_id, {e.norad_id for e in entries})
    existing = repo.alerted(session, run_id)
    hooks = repo.partners_with_webhooks(session)
    created_at = as_utc(now)
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
    """The JSON body POSTed for an alert (keys sorted, so the signature is reproducible)."""
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


@dataclass(frozen=True)
class Hook:
    id: int
    url: str
    secret: str


@dataclass
class Outgoing:
    """One claimed alert: what to send where, and (after sending) what happened per webhook."""

    alert_id: int
    attempt: int
    body: bytes
    hooks: list[Hook]
    results: list[tuple[int, int | None, str | None]] = field(default_factory=list)  # webhook id, code, error

    @property
    def ok(self) -> bool:
        return bool(self.hooks) and all(code is not None and 200 <= code < 300 for _, code, _ in self.results)


def claim_due(session_maker: sessionmaker, now: datetime) -> list[Outgoing]:
    """Transaction 1: the due alerts, each with its attempt counted and a lease taken."""
    now_s = as_utc(now).timestamp()
    out = []
    with session_maker.begin() as session:
        for a in repo.due_alerts(session, now_s):
            a.attempts += 1
            a.next_attempt_at = now_s + CLAIM_LEASE_S
            hooks = [Hook(h.id, h.url, h.secret) for h in repo.partner_webhooks(session, a.partner_id)]
            out.append(Outgoing(a.id, a.attempts, alert_body(a), hooks))
    return out


def send(client, item: Outgoing) -> None:
    """POST one alert to each of its webhooks with ``client`` (an ``httpx.Client``); no database."""
    for h in item.hooks:
        code, error = None, None
        try:
            r = client.post(
                h.url,
                content=item.body,
                timeout=TIMEOUT_S,
                headers={
                    "content-type": "application/json",
                    "x-spacecommons-signature": signature(h.secret, item.body),
                    "x-spacecommons-alert": str(item.alert_id),
                },
            )
            code = r.status_code
        except Exception as exc:  # noqa: BLE001 - every failure is logged and retried
            error = f"{type(exc).__name__}: {exc}"
        item.results.append((h.id, code, error))


def record(session_maker: sessionmaker, items: list[Outgoing], now: datetime) -> int:
    """Transaction 2: the delivery log and each alert's new status; returns how many were delivered."""
    now_s, at = as_utc(now).timestamp(), as_utc(now)
    delivered = 0
    with session_maker.begin() as session:
        for item in items:
            for webhook_id, code, error in item.results:
                repo.add_delivery(session, item.alert_id, webhook_id, item.attempt, at, code, error)
            a = session.get(Alert, item.alert_id)
            if a is None:  # deleted meanwhile
                continue
            if item.ok:
                a.status = "delivered"
                delivered += 1
            elif item.attempt >= MAX_ATTEMPTS:
                a.status = "failed"
            else:
                a.next_attempt_at = now_s + BACKOFF_S * 2 ** (item.attempt - 1)
    return delivered


def deliver_due(session_maker: sessionmaker, client, now: datetime) -> int:
    """Claim, send and record every due alert; returns the number delivered."""
    items = claim_due(session_maker, now)
    if not items:
        return 0
    for item in items:
        send(client, item)
    return record(session_maker, items, now)


__all__ = ["BACKOFF_S", "MAX_ATTEMPTS", "alert_body", "deliver_due", "evaluate_run", "signature"]
