"""Budgets of what a caller's requests cost the server beyond the request itself.

Expensive work from routes goes through the app's one :class:`~spacecommons.workflows.jobs.JobQueue`.
A partner's jobs count against its partner id; anonymous callers' against their client address
(one IPv4 address or IPv6 /64, as the anonymous rate limit counts them). A refused job raises
:class:`~spacecommons.workflows.jobs.JobRefused`, which ``app.py`` maps once to 429/503 with
``Retry-After``.

Rows an anonymous request writes to the exchange's access-decision log are budgeted by
:class:`AnonymousDecisions`, per client address and overall, as the audit log budgets anonymous
writes (``audit.AuditWrites``)."""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import HTTPException, Request

from ..storage.partners_repo import Identity
from ..workflows.jobs import CancelToken, JobState
from .limits import AddressLimiter, TokenBuckets, client_bucket

SYNC_WAIT_S = 300.0  # a synchronous route waits this long for its job, then gives up (503)


def client_address(request: Request) -> str:
    """The socket peer's address (``unknown`` when the server does not give one)."""
    return request.client.host if request.client else "unknown"


def job_owner(request: Request, who: Identity) -> str:
    """The quota a caller's jobs count against."""
    if who.partner_id is not None:
        return f"partner:{who.partner_id}"
    return f"anon:{client_bucket(client_address(request))}"


def submit(request: Request, who: Identity, kind: str, fn: Callable[[CancelToken], Any]) -> str:
    """Queue ``fn`` for the caller; its job id (or JobRefused)."""
    return request.app.state.job_queue.submit(job_owner(request, who), fn, kind=kind)


def run_now(
    request: Request, who: Identity, kind: str, fn: Callable[[CancelToken], Any], wait_s: float = SYNC_WAIT_S
) -> Any:
    """Run ``fn`` through the queue and wait for its result (from a plain ``def`` route: the wait
    holds a worker thread, never the event loop). A library error is a 400 with its message,
    anything else a 500 without detail; a job still waiting after ``wait_s`` is cancelled (503)."""
    queue = request.app.state.job_queue
    job_id = submit(request, who, kind, fn)
    try:
        view = queue.wait(job_id, timeout=wait_s)
    except TimeoutError:
        queue.cancel(job_id, None)
        raise HTTPException(
            503, f"{kind} did not finish within {wait_s:.0f} s", headers={"Retry-After": "60"}
        ) from None
    if view.state is JobState.DONE:
        return view.result
    if view.state is JobState.CANCELLED:
        raise HTTPException(503, f"{kind} was cancelled (server shutting down)", headers={"Retry-After": "30"})
    status = 500 if view.error == "internal error" else 400
    raise HTTPException(status, view.error or "internal error")


_gc_lock = threading.Lock()
_gc_pausers = 0


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a bulk ingest runs (reference counting still frees).

    An ingest of 27,000 element sets allocates millions of small objects; CPython's full
    collections then walk all of them, each a stop-the-world pause of 0.5-1 s for every thread,
    the event loop's included (measured: /health stalled up to 1.9 s with the ingest already in
    a worker thread, 0.2 s with collection paused). Collection resumes when the last concurrent
    ingest ends."""
    global _gc_pausers
    with _gc_lock:
        _gc_pausers += 1
        gc.disable()
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0:
                gc.enable()


def gc_paused_dependency() -> Iterator[None]:
    """FastAPI dependency form of :func:`gc_paused` (spans the route's body)."""
    with gc_paused():
        yield


class AnonymousDecisions:
    """How many access-decision rows anonymous requests may write: ``per_minute`` per client address
    (IPv4 address, IPv6 /64; burst the same) and ``overall_per_minute`` for all anonymous callers
    together, so that rotating addresses (a /48 holds 65,536 /64s) does not lift the bound. Beyond
    it the row is not written and counted in ``suppressed``; the request is answered as before (a
    budget that refused service would let one client deny it to every anonymous caller).

    With the defaults the table grows by at most 120 anonymous rows a minute (about 173,000 a day),
    whatever the clients do; partners' rows are not budgeted here (their keys are rate limited and
    identify them)."""

    def __init__(
        self, per_minute: int = 30, overall_per_minute: int = 120, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_address = AddressLimiter(per_minute / 60.0, max(1, per_minute), clock)
        self.overall = TokenBuckets(overall_per_minute / 60.0, max(1, overall_per_minute), clock, max_keys=1)
        self.suppressed = 0
        self._lock = threading.Lock()

    def admit(self, address: str) -> bool:
        """Take a row from ``address``'s budget and the overall one; False (and counted) when either is spent."""
        if self.per_address.charge_anonymous(address) == 0.0 and self.overall.take("anonymous") == 0.0:
            return True
        with self._lock:
            self.suppressed += 1
        return False
