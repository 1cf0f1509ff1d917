"""Alerts after a screening run, and their webhook delivery as an outbox.

Evaluation: every event of a finished run that crosses a watch entry's thresholds becomes an
alert (in the run's finishing transaction), but only for a partner that may see the run
(``policy.can_see_run``: partner B's private run raises no alert for partner A).

Webhooks: a URL is checked when it is registered and again before each send
(``clients.netguard``: every resolved address public unicast, the connection pinned to the checked
address, no redirects, one short deadline); a partner has at most ``MAX_WEBHOOKS_PER_PARTNER``.
Secrets are sealed at rest (``secrets_box.SecretBox``, bound to the webhook row); what is sealed
is the HMAC-SHA256 key the secret stands for (RFC 2104 section 2: a key longer than the 64-byte
block is replaced by its SHA-256 digest, so the signature is the same and every token fits the
256-character column).

Delivery (:class:`Outbox`): due alerts are claimed in one short transaction (attempt counted, a
lease taken), each (alert, webhook) send is a job on a small :class:`~.jobs.JobQueue` (at most
``PER_PARTNER_SENDS`` sends of one partner and ``PER_HOST_SENDS`` to one host at once, and at most
``PER_PARTNER_IN_FLIGHT`` alerts of one partner claimed), with no transaction open, and each
alert's results are recorded in another short transaction when its last send ends; failures are
retried with exponential backoff up to ``MAX_ATTEMPTS``. The delivery log keeps only a generic
reason (``netguard.Reason``) and the HTTP status of a receiver that answered; never exception
text. A delivery is at least once: a process that dies between sending and recording sends
again after the claim's lease.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import socket
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from urllib.parse import urlsplit

from sqlalchemy.orm import Session, sessionmaker

from ..clients import netguard
from ..clients.netguard import DeliveryOutcome, Reason, Resolver, TargetRefused
from ..conjunction.colocated import KIND as COLOCATED
from ..errors import SpacecommonsError
from ..policy import can_see_run
from ..secrets_box import TOKEN_PREFIX, SecretBox, SecretBoxError
from ..storage import alerts_repo as repo
from ..storage.tables import Alert, Webhook
from ..timescales import as_utc, format_utc
from .jobs import CancelToken, JobQueue, JobRefused

MAX_ATTEMPTS = 6
BACKOFF_S = 2.0  # 2, 4, 8, 16, 32 s between attempts
CLAIM_LEASE_S = 60.0  # a claimed alert is not due again for this long unless its result says so
TIMEOUT_S = 3.0  # one deadline for a whole send: connect, TLS, request, status line
MAX_WEBHOOKS_PER_PARTNER = 10
PER_PARTNER_SENDS = 2  # sends of one partner at once
PER_HOST_SENDS = 2  # sends to one receiver host at once, whoever registered it
PER_PARTNER_IN_FLIGHT = 4  # alerts of one partner claimed and not yet recorded
MAX_IN_FLIGHT = 200  # alerts claimed and not yet recorded, in all
SEND_WORKERS = 4
HMAC_BLOCK_BYTES = 64  # SHA-256 block size (RFC 2104 section 2, FIPS 180-4)

SECRET_UNAVAILABLE = "signing secret unavailable"  # the sealed secret does not open: rotate it
LEGACY_RECORD = "recorded before delivery checks"  # delivery rows written before this module's rules
GENERIC_REASONS = frozenset({*(r.value for r in Reason), SECRET_UNAVAILABLE, LEGACY_RECORD})

Sender = Callable[[str, bytes, Mapping[str, str]], DeliveryOutcome]


class WebhookRefused(SpacecommonsError):
    """A webhook not registered; ``status_code`` is the HTTP answer (409 cap, 422 URL)."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


# -- secrets --------------------------------------------------------------------------------------
def hmac_key(secret: str) -> bytes:
    """The HMAC-SHA256 key a secret stands for: its UTF-8 bytes, or their SHA-256 digest when longer
    than the 64-byte block (RFC 2104 section 2; HMAC does this itself, so signatures are equal).

    >>> long = "x" * 100
    >>> hmac.new(hmac_key(long), b"b", "sha256").digest() == hmac.new(long.encode(), b"b", "sha256").digest()
    True
    """
    raw = secret.encode()
    return hashlib.sha256(raw).digest() if len(raw) > HMAC_BLOCK_BYTES else raw


def signature(key: str | bytes, body: bytes) -> str:
    """The ``X-Spacecommons-Signature`` header: ``sha256=<hex HMAC of the raw body>``; ``key`` is the
    webhook secret (text) or its HMAC key (bytes)."""
    k = hmac_key(key) if isinstance(key, str) else key
    return "sha256=" + hmac.new(k, body, hashlib.sha256).hexdigest()


def _context(webhook_id: int) -> str:
    return f"webhook:{webhook_id}"


def seal_secret(box: SecretBox, webhook_id: int, secret: str) -> str:
    """The token stored in the webhook row: the secret's HMAC key sealed and bound to the row."""
    key = base64.urlsafe_b64encode(hmac_key(secret)).decode()
    return box.seal(key, _context(webhook_id))


def open_key(box: SecretBox, webhook_id: int, token: str) -> bytes:
    """The HMAC key sealed in a webhook row (SecretBoxError when it does not open)."""
    return base64.urlsafe_b64decode(box.open(token, _context(webhook_id)))


def new_secret() -> str:
    """A fresh webhook secret (256 random bits), shown to the partner once."""
    return "whsec_" + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class SealReport:
    sealed: int  # clear-text secrets sealed now
    resealed: int  # tokens re-sealed under the current key
    unopenable: list[int]  # webhook ids whose token does not open (key gone): rotate them


def seal_stored_secrets(session_maker: sessionmaker, box: SecretBox) -> SealReport:
    """At server start: seal every clear-text secret, re-seal tokens of an older key (one transaction)."""
    sealed, resealed, unopenable = 0, 0, []
    with session_maker.begin() as session:
        for h in repo.all_webhooks(session):
            if not h.secret.startswith(TOKEN_PREFIX + "."):
                h.secret = seal_secret(box, h.id, h.secret)
                sealed += 1
                continue
            try:
                if box.needs_reseal(h.secret):
                    h.secret = box.reseal(h.secret, _context(h.id))
                    resealed += 1
                else:
                    box.open(h.secret, _context(h.id))
            except SecretBoxError:
                unopenable.append(h.id)
        repo.scrub_deliveries(session, GENERIC_REASONS, LEGACY_RECORD)
    return SealReport(sealed, resealed, unopenable)


# -- registration ---------------------------------------------------------------------------------
def check_webhook_url(url: str, *, resolver: Resolver = socket.getaddrinfo, allow_loopback: bool = False) -> None:
    """Refuse (WebhookRefused, 422) a URL that ``netguard.check_url`` refuses, naming the reason."""
    try:
        netguard.check_url(url, resolver=resolver, allow_loopback=allow_loopback)
    except TargetRefused as refused:
        raise WebhookRefused(f"webhook URL refused: {refused.reason}", 422) from None


def register_webhook(
    session: Session,
    box: SecretBox,
    partner_id: int,
    url: str,
    secret: str | None,
    now: datetime,
    *,
    resolver: Resolver = socket.getaddrinfo,
    allow_loopback: bool = False,
) -> tuple[Webhook, str | None]:
    """A checked, sealed webhook of the partner (caller's transaction), and the secret when the
    server generated it (shown once). WebhookRefused: 409 over the cap, 422 a refused URL."""
    if repo.count_webhooks(session, partner_id) >= MAX_WEBHOOKS_PER_PARTNER:
        raise WebhookRefused(f"a partner has at most {MAX_WEBHOOKS_PER_PARTNER} webhooks: delete one first", 409)
    check_webhook_url(url, resolver=resolver, allow_loopback=allow_loopback)
    generated = new_secret() if secret is None else None
    h = repo.add_webhook(session, partner_id, url, TOKEN_PREFIX + ".pending", as_utc(now))
    h.secret = seal_secret(box, h.id, secret if secret is not None else generated)
    session.flush()
    return h, generated


def rotate_secret(session: Session, box: SecretBox, partner_id: int, webhook_id: int) -> str | None:
    """A new secret for the partner's webhook (caller's transaction), or None when it has no such webhook."""
    h = repo.partner_webhook(session, partner_id, webhook_id)
    if h is None:
        return None
    secret = new_secret()
    h.secret = seal_secret(box, h.id, secret)
    session.flush()
    return secret


# -- evaluation -----------------------------------------------------------------------------------
def evaluate_run(session: Session, run_id: int, now: datetime) -> int:
    """Create an alert for every event of the run that crosses a watch entry of a partner that may
    see the run; returns how many."""
    access = repo.run_access(session, run_id)
    if access is None:
        return 0
    entries = [w for w in repo.watch_entries(session) if can_see_run(access[0], access[1], w.partner_id)]
    if not entries:
        return 0
    events = repo.run_events_involving(session, run_id, {e.norad_id for e in entries})
    existing = repo.alerted(session, run_id)
    hooks = repo.partners_with_webhooks(session)
    created_at = as_utc(now)
    n = 0
    for ev in events:
        if ev.kind == COLOCATED:  # docked or co-located all window: a group, not an encounter
            continue
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


# -- delivery -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hook:
    id: int
    url: str
    sealed: str  # the row's token; opened only in the send job


@dataclass
class Outgoing:
    """One claimed alert: what to send where, and (after sending) what happened per webhook."""

    alert_id: int
    partner_id: int
    attempt: int
    body: bytes
    hooks: list[Hook]
    results: list[tuple[int, int | None, str]] = field(default_factory=list)  # webhook id, code, reason
    delivered: bool | None = None  # set when recorded
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def ok(self) -> bool:
        return bool(self.hooks) and all(reason == Reason.DELIVERED for _, _, reason in self.results)


def pinned_sender(
    *, resolver: Resolver = socket.getaddrinfo, allow_loopback: bool = False, timeout_s: float = TIMEOUT_S
) -> Sender:
    """The production sender: ``netguard.deliver`` (URL re-checked now, pinned connection, no redirects)."""
    return partial(netguard.deliver, resolver=resolver, allow_loopback=allow_loopback, timeout_s=timeout_s)


def send_one(send: Sender, box: SecretBox, item: Outgoing, hook: Hook) -> tuple[int, int | None, str]:
    """POST one alert to one webhook (no database); the result for the delivery log."""
    try:
        key = open_key(box, hook.id, hook.sealed)
    except (SecretBoxError, ValueError):
        return hook.id, None, SECRET_UNAVAILABLE
    headers = {
        "content-type": "application/json",
        "x-spacecommons-signature": signature(key, item.body),
        "x-spacecommons-alert": str(item.alert_id),
    }
    try:
        outcome = send(hook.url, item.body, headers)
    except Exception:  # noqa: BLE001 - a sender bug must not leak its text to the partner; retried
        return hook.id, None, Reason.CONNECTION_FAILED.value
    code = outcome.status_code if outcome.reason in _ANSWERED else None
    return hook.id, code, outcome.reason.value


_ANSWERED = frozenset({Reason.DELIVERED, Reason.REDIRECT_NOT_FOLLOWED, Reason.HTTP_4XX, Reason.HTTP_5XX})


def record(session_maker: sessionmaker, items: list[Outgoing], now: datetime) -> int:
    """Transaction 2: the delivery log and each alert's new status; returns how many were delivered."""
    now_s, at = as_utc(now).timestamp(), as_utc(now)
    delivered = 0
    with session_maker.begin() as session:
        for item in items:
            for webhook_id, code, reason in item.results:
                repo.add_delivery(session, item.alert_id, webhook_id, item.attempt, at, code, reason)
            a = session.get(Alert, item.alert_id)
            item.delivered = item.ok
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


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


class Outbox:
    """The delivery worker's state: which alerts are in flight, and the bounded pool sending them.

    ``deliver_due(now)`` claims what is due (skipping alerts already in flight and partners at
    their limit) and queues one send job per (alert, webhook); ``wait=True`` returns once this
    round's alerts are recorded (tests, the CLI), otherwise at once (the server's loop).
    """

    def __init__(
        self,
        session_maker: sessionmaker,
        box: SecretBox,
        send: Sender,
        *,
        workers: int = SEND_WORKERS,
        per_partner_sends: int = PER_PARTNER_SENDS,
        per_host_sends: int = PER_HOST_SENDS,
        per_partner_in_flight: int = PER_PARTNER_IN_FLIGHT,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self.session_maker, self.box, self.send = session_maker, box, send
        self.per_partner_in_flight, self.max_in_flight = per_partner_in_flight, max_in_flight
        self.queue = JobQueue(
            workers,
            max_queued=max_in_flight * MAX_WEBHOOKS_PER_PARTNER,
            per_partner_running=per_partner_sends,
            per_partner_queued=max_in_flight * MAX_WEBHOOKS_PER_PARTNER,
            per_partner_per_hour=10**9,  # deliveries are bounded by the claim limits, not by a quota
            per_group_running=per_host_sends,
        )
        self._lock = threading.Lock()
        self._in_flight: dict[int, int] = {}  # alert id -> partner id

    def in_flight(self) -> int:
        with self._lock:
            return len(self._in_flight)

    def _claim(self, now: datetime) -> list[Outgoing]:
        """Transaction 1: due alerts within the in-flight limits, each with its attempt counted and a lease."""
        now_s = as_utc(now).timestamp()
        with self._lock:
            busy = dict(self._in_flight)
        per_partner = Counter(busy.values())
        room = self.max_in_flight - len(busy)
        out: list[Outgoing] = []
        if room <= 0:
            return out
        with self.session_maker.begin() as session:
            for a in repo.due_alerts(session, now_s, limit=room + len(busy) + 1000):
                if len(out) >= room:
                    break
                if a.id in busy or per_partner[a.partner_id] >= self.per_partner_in_flight:
                    continue
                per_partner[a.partner_id] += 1
                a.attempts += 1
                a.next_attempt_at = now_s + CLAIM_LEASE_S
                hooks = [Hook(h.id, h.url, h.secret) for h in repo.partner_webhooks(session, a.partner_id)]
                out.append(Outgoing(a.id, a.partner_id, a.attempts, alert_body(a), hooks))
        with self._lock:
            for item in out:
                self._in_flight[item.alert_id] = item.partner_id
        return out

    def _finish(self, item: Outgoing, now: datetime) -> None:
        try:
            record(self.session_maker, [item], now)
        finally:
            with self._lock:
                self._in_flight.pop(item.alert_id, None)

    def _job(self, item: Outgoing, hook: Hook, now: datetime) -> Callable[[CancelToken], None]:
        def run(_token: CancelToken) -> None:
            result = send_one(self.send, self.box, item, hook)
            with item.lock:
                item.results.append(result)
                last = len(item.results) == len(item.hooks)
            if last:
                self._finish(item, now)

        return run

    def deliver_due(self, now: datetime, *, wait: bool = False) -> int:
        """Claim and queue every due alert; with ``wait``, the number of them delivered."""
        items = self._claim(now)
        jobs = []
        for item in items:
            if not item.hooks:  # the partner deleted its webhooks: counts as a failed attempt
                self._finish(item, now)
                continue
            for hook in item.hooks:
                job = self._job(item, hook, now)
                try:
                    jobs.append(self.queue.submit(str(item.partner_id), job, "webhook", _host(hook.url)))
                except JobRefused:  # shutting down: the lease runs out and the alert is claimed again
                    with self._lock:
                        self._in_flight.pop(item.alert_id, None)
                    break
        if not wait:
            return 0
        for job in jobs:
            try:
                self.queue.wait(job)
            except KeyError:  # finished and already forgotten by the queue
                continue
        return sum(1 for item in items if item.delivered)

    def close(self) -> None:
        self.queue.shutdown(wait=False)


def deliver_due(session_maker: sessionmaker, now: datetime, *, box: SecretBox, send: Sender) -> int:
    """One delivery round, waited for: claim, send and record every due alert; the number delivered."""
    outbox = Outbox(session_maker, box, send)
    try:
        return outbox.deliver_due(now, wait=True)
    finally:
        outbox.close()


__all__ = [
    "BACKOFF_S",
    "MAX_ATTEMPTS",
    "MAX_WEBHOOKS_PER_PARTNER",
    "TIMEOUT_S",
    "Outbox",
    "SealReport",
    "WebhookRefused",
    "alert_body",
    "check_webhook_url",
    "deliver_due",
    "evaluate_run",
    "hmac_key",
    "open_key",
    "pinned_sender",
    "register_webhook",
    "rotate_secret",
    "seal_secret",
    "seal_stored_secrets",
    "signature",
]
