"""Operators' alerts: the rows behind watch entries, alerts, webhooks and the delivery log.

Queries and row changes only: deciding which events raise alerts and sending them to webhooks
(HTTP, retries) is ``workflows.alerts``.
"""

from __future__ import annotations

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
    """Pending alerts whose next attempt is due at ``now_s`` (Unix seconds)."""
    return list(session.scalars(select(Alert).where(Alert.status == "pending", Alert.next_attempt_at <= now_s)))


def partner_webhooks(session: Session, partner_id: int) -> list[Webhook]:
    return list(session.scalars(select(Webhook).where(Webhook.partner_id == partner_id)))


def add_delivery(
    session: Session, alert_id: int, webhook_id: int, attempt: int, at: str, status_code: int | None, error: str | None
) -> None:
    session.add(
        WebhookDelivery(
            alert_id=alert_id, webhook_id=webhook_id, attempt=attempt, at=at, status_code=status_code, error=error
        )
    )
