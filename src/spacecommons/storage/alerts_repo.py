"""Operators' alerts: the rows behind watch entries, alerts, webhooks and the delivery log.

Queries and row changes only: deciding which events raise alerts and sending them to webhooks
(HTTP, retries) is ``workflows.alerts``. Every alert read for a partner (its list, one alert,
the due alerts to deliver) passes ``policy.can_see_run`` for the alert's run, so an alert raised
before a run's visibility was enforced (or a run whose row is gone) is never shown or sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..policy import can_see_run
from .tables import Alert, ConjunctionEvent, ScreeningRun, WatchEntry, Webhook, WebhookDelivery

WITHHELD = "withheld"  # status of an alert whose partner may no longer see its run: never sent


def run_access(session: Session, run_id: int) -> tuple[str, int | None] | None:
    """(visibility, owner partner id) of a run, None when there is no such run."""
    row = session.execute(
        select(ScreeningRun.visibility, ScreeningRun.owner_partner_id).where(ScreeningRun.id == run_id)
    ).first()
    return None if row is None else (row[0], row[1])


def _with_run(q):
    """``q`` over alerts, with each alert's run visibility and owner (None, None: the run is gone)."""
    return q.add_columns(ScreeningRun.visibility, ScreeningRun.owner_partner_id).outerjoin(
        ScreeningRun, ScreeningRun.id == Alert.run_id
    )


def _visible(rows: Iterable, limit: int | None = None) -> list[Alert]:
    out: list[Alert] = []
    for a, visibility, owner in rows:
        if visibility is not None and can_see_run(visibility, owner, a.partner_id):
            out.append(a)
            if limit is not None and len(out) >= limit:
                break
    return out


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


def due_alerts(session: Session, now_s: float, limit: int | None = None) -> list[Alert]:
    """Pending alerts whose next attempt is due at ``now_s`` (Unix seconds), locked for the caller's
    transaction where the database can (PostgreSQL: rows another deliverer holds are skipped).
    A due alert whose partner may not see its run is set ``withheld`` and not returned."""
    q = select(Alert).where(Alert.status == "pending", Alert.next_attempt_at <= now_s).order_by(Alert.id)
    if limit is not None:
        q = q.limit(limit)
    alerts = list(session.scalars(q.with_for_update(skip_locked=True, of=Alert)))
    access = {run_id: run_access(session, run_id) for run_id in {a.run_id for a in alerts}}
    out = []
    for a in alerts:
        run = access[a.run_id]
        if run is None or not can_see_run(run[0], run[1], a.partner_id):
            a.status = WITHHELD
            continue
        out.append(a)
    return out


def partner_webhooks(session: Session, partner_id: int) -> list[Webhook]:
    return list(session.scalars(select(Webhook).where(Webhook.partner_id == partner_id).order_by(Webhook.id)))


def partner_webhook(session: Session, partner_id: int, webhook_id: int) -> Webhook | None:
    """One of the partner's webhooks; None for another partner's (indistinguishable from none)."""
    h = session.get(Webhook, webhook_id)
    return h if h is not None and h.partner_id == partner_id else None


def count_webhooks(session: Session, partner_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Webhook).where(Webhook.partner_id == partner_id)) or 0


def all_webhooks(session: Session) -> list[Webhook]:
    return list(session.scalars(select(Webhook).order_by(Webhook.id)))


def scrub_deliveries(session: Session, reasons: Iterable[str], replacement: str) -> int:
    """Delivery rows whose ``error`` is not one of the generic ``reasons`` (rows written before
    the delivery checks: raw exception text, status codes of any address) get ``replacement`` and
    no status code; returns how many."""
    keep = sorted(set(reasons))
    result = session.execute(
        update(WebhookDelivery)
        .where(or_(WebhookDelivery.error.is_(None), WebhookDelivery.error.not_in(keep)))
        .values(error=replacement, status_code=None)
    )
    return result.rowcount or 0


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
        try:
            with session.begin_nested():  # a concurrent request may insert the same entry first
                entry = WatchEntry(
                    partner_id=partner_id,
                    norad_id=norad_id,
                    created_at=created_at,
                    max_miss_km=max_miss_km,
                    min_pc=min_pc,
                )
                session.add(entry)
            return entry
        except IntegrityError:  # it did (uq_watch_partner_object): change its thresholds instead
            entry = watch_entry(session, partner_id, norad_id)
            if entry is None:
                raise
    entry.max_miss_km, entry.min_pc = max_miss_km, min_pc
    session.flush()
    return entry


def partner_watchlist(session: Session, partner_id: int) -> list[WatchEntry]:
    return list(session.scalars(select(WatchEntry).where(WatchEntry.partner_id == partner_id)))


def add_webhook(session: Session, partner_id: int, url: str, secret: str, created_at: datetime) -> Webhook:
    """A new webhook row; ``secret`` is what the column stores (the caller seals it: it needs the
    row id for that, so it may store a placeholder first and set the sealed token after the flush)."""
    h = Webhook(partner_id=partner_id, url=url, secret=secret, created_at=created_at)
    session.add(h)
    session.flush()
    return h


def partner_alerts(session: Session, partner_id: int, status: str | None, limit: int) -> list[Alert]:
    """The partner's alerts on runs it may see, oldest first, at most ``limit``."""
    q = _with_run(select(Alert)).where(Alert.partner_id == partner_id)
    if status:
        q = q.where(Alert.status == status)
    return _visible(session.execute(q.order_by(Alert.id)), limit)


def deliveries(session: Session, alert_id: int) -> list[WebhookDelivery]:
    q = select(WebhookDelivery).where(WebhookDelivery.alert_id == alert_id).order_by(WebhookDelivery.id)
    return list(session.scalars(q))


def partner_alert(session: Session, partner_id: int, alert_id: int) -> Alert | None:
    """One of the partner's alerts on a run it may see; None otherwise (indistinguishable from none)."""
    q = _with_run(select(Alert)).where(Alert.id == alert_id, Alert.partner_id == partner_id)
    found = _visible(session.execute(q))
    return found[0] if found else None
