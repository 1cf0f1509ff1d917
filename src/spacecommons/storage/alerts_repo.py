"""Operators' alerts: the rows behind watch entries, alerts, webhooks and the delivery log.

Queries and row changes only: deciding which events raise alerts and sending them to webhooks
(HTTP, retries) is ``workflows.alerts``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .tables import Alert, ConjunctionEvent, WatchEntry, Webhook, WebhookDelivery


def watch_entries(session: Session) -> list[WatchEntry]:
    return list(session.scalars(select(WatchEntry)))


def run_events_involving(session: Session, run_id: int, norad_ids: set[int]) -> list[ConjunctionEvent]:
    """The run's events with either object in ``norad_ids``."""
    return list(
        session.scalars(
            select(ConjunctionEvent).where(
                ConjunctionEvent.run_id == run_id,
                or_(ConjunctionEvent.id1.in_(norad_ids), ConjunctionEvent.id2.in_(norad_ids)),
            )
        )
    )


def alerted(session: Session, run_id: int) -> set[tuple[int, int]]:
    """(partner id, event id) of the alerts already raised for a run."""
    rows = session.execute(select(Alert.partner_id, Alert.event_id).where(Alert.run_id == run_id))
    return {(partner_id, event_id) for partner_id, event_id in rows}


def partners_with_webhooks(session: Session) -> set[int]:
    return {h.partner_id for h in session.scalars(select(Webhook))}


def due_alerts(session: Session, now_s: float) -> list[Alert]:
    """Pending alerts whose next attempt is due at ``now_s`` (Unix seconds), locked for the caller's
    transaction where the database can (PostgreSQL: rows another deliverer holds are skipped)."""
    q = select(Alert).where(Alert.status == "pending", Alert.next_attempt_at <= now_s).order_by(Alert.id)
    return list(session.scalars(q.with_for_update(skip_locked=True)))


def partner_webhooks(session: Session, partner_id: int) -> list[Webhook]:
    return list(session.scalars(select(Webhook).where(Webhook.partner_id == partner_id)))


def add_delivery(
    session: Session,
    alert_id: int,
    webhook_id: int,
    attempt: int,
    at: datetime,
    status_code: int | None,
    error: str | None,
) -> None:
    session.add(
        WebhookDelivery(
            alert_id=alert_id, webhook_id=webhook_id, attempt=attempt, at=at, status_code=status_code, error=error
        )
    )


def watch_entry(session: Session, partner_id: int, norad_id: int) -> WatchEntry | None:
    q = select(WatchEntry).where(WatchEntry.partner_id == partner_id, WatchEntry.norad_id == norad_id)
    return session.scalar(q)


def upsert_watch(
    session: Session, partner_id: int, norad_id: int, max_miss_km: float, min_pc: float | None, created_at: datetime
) -> WatchEntry:
    """Watch an object, or change the thresholds of an existing entry (its creation time is kept)."""
    entry = watch_entry(session, partner_id, norad_id)
    if entry is None:
        entry = WatchEntry(
            partner_id=partner_id, norad_id=norad_id, created_at=created_at, max_miss_km=max_miss_km, min_pc=min_pc
        )
        session.add(entry)
    else:
        entry.max_miss_km, entry.min_pc = max_miss_km, min_pc
    session.flush()
    return entry


def partner_watchlist(session: Session, partner_id: int) -> list[WatchEntry]:
    return list(session.scalars(select(WatchEntry).where(WatchEntry.partner_id == partner_id)))


def add_webhook(session: Session, partner_id: int, url: str, secret: str, created_at: datetime) -> Webhook:
    h = Webhook(partner_id=partner_id, url=url, secret=secret, created_at=created_at)
    session.add(h)
    session.flush()
    return h


def partner_alerts(session: Session, partner_id: int, status: str | None, limit: int) -> list[Alert]:
    q = select(Alert).where(Alert.partner_id == partner_id)
    if status:
        q = q.where(Alert.status == status)
    return list(session.scalars(q.order_by(Alert.id).limit(limit)))


def deliveries(session: Session, alert_id: int) -> list[WebhookDelivery]:
    q = select(WebhookDelivery).where(WebhookDelivery.alert_id == alert_id).order_by(WebhookDelivery.id)
    return list(session.scalars(q))


def alert(session: Session, alert_id: int) -> Alert | None:
    return session.get(Alert, alert_id)
