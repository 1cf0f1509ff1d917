"""Who may call what: API keys, roles per route, per-key rate limits, request size limits, audit.

Every route declares the roles it admits with ``Depends(allow(...))``; ``"public"`` admits
anonymous callers, and ``admin`` is admitted everywhere. The declaration is kept on the
dependency (``.roles``) and in the OpenAPI document (``x-roles``), which is how the test
matrix enumerates routes x roles."""

from __future__ import annotations

import asyncio
import hashlib
import math
import threading
import time
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from ..storage.partners_repo import Identity, find_key, revocation_mark
from .limits import charge_anonymous, verify_key

PUBLIC = "public"
KEY_CACHE_S = 60.0  # a verified key is trusted this long without a new argon2 check (revocation clears it)


class KeyCache:
    """Verified keys by their SHA-256, so that argon2 (deliberately slow) runs once a minute per key.

    The cache remembers the database's revocation watermark (``partners_repo.revocation_mark``)
    it was filled under; :meth:`check_mark` empties it when the watermark moved, so a key revoked
    by any process (another server, the CLI) is refused from the next request on."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[Identity, float]] = {}
        self._lock = threading.Lock()
        self._mark: object = None
        self._inflight: dict[str, asyncio.Future] = {}  # digest -> its verification (event loop only)

    def check_mark(self, mark: object) -> None:
        """Empty the cache when ``mark`` differs from the one it was filled under."""
        with self._lock:
            if mark != self._mark:
                self._items.clear()
                self._mark = mark

    def get(self, digest: str) -> Identity | None:
        with self._lock:
            item = self._items.get(digest)
            if item and item[1] > time.monotonic():
                return item[0]
            return None

    def put(self, digest: str, who: Identity) -> None:
        with self._lock:
            self._items[digest] = (who, time.monotonic() + KEY_CACHE_S)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    async def verify_once(self, digest: str, verify: Callable[[], Awaitable[Identity | None]]) -> Identity | None:
        """``await verify()`` for ``digest``, once at a time: requests presenting the same key while its
        verification runs wait for that one instead of each starting an argon2 check (50 concurrent
        clients of one key, at every expiry of its cache entry, were 50 concurrent argon2 runs: a stall
        of seconds on a small machine, issue #18). The verification runs as its own task, so a waiter
        that is cancelled (a client gone) cancels nothing."""
        task = self._inflight.get(digest)
        if task is None or task.get_loop() is not asyncio.get_running_loop():  # (a test client's former loop)
            task = asyncio.ensure_future(verify())
            self._inflight[digest] = task
            task.add_done_callback(lambda _t: self._inflight.pop(digest, None))
        return await asyncio.shield(task)


def _presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    if not key and auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    return key or None


def _cached_identity(state, digest: str, engine=None) -> Identity | None:
    """The identity cached for a key's digest, after the revocation watermark was checked (one small
    indexed aggregate on a pooled connection — ``engine``, default the app's —: no ORM session, no argon2)."""
    with (engine or state.engine).connect() as conn:
        state.key_cache.check_mark(revocation_mark(conn))
    return state.key_cache.get(digest)


def _verified_identity(state, key: str, digest: str) -> Identity | None:
    """One argon2 verification of ``key`` (against a dummy hash when its prefix is unknown or revoked);
    the identity is cached on success."""
    with state.session_maker() as session:
        stored, found = find_key(session, key)
        session.rollback()  # no transaction held during argon2
    if verify_key(key, stored):
        state.key_cache.put(digest, found)
        return found
    return None


def _admit(request: Request, who: Identity | None) -> Identity:
    """401 for a failed key (charging the address), else the caller's rate limit; the identity is kept
    on the request."""
    if who is None:
        charge_anonymous(request)
        raise HTTPException(401, "invalid or revoked API key", headers={"WWW-Authenticate": "ApiKey"})
    request.state.identity = who
    caller = f"key:{who.key_id}" if who.key_id else f"ip:{request.client.host if request.client else '?'}"
    wait = request.app.state.rate_limiter.take(caller)
    if wait > 0:
        raise HTTPException(429, "rate limit exceeded", headers={"Retry-After": str(math.ceil(wait))})
    return who


async def identify_async(request: Request) -> Identity:
    """The caller of this request (cached on the request); a wrong or revoked key is a 401.

    Every presented key costs the same: one query for the revocation watermark, then (not cached)
    one argon2 verification, against a dummy hash when the prefix is unknown or revoked. A failed
    key charges the client address's anonymous bucket (``limits.charge_anonymous``), so an address
    that keeps guessing is refused with 429 before any verification runs. The argon2
    verification (deliberately slow, tens of ms) runs in a worker thread. An anonymous caller and a
    cached key cost the watermark query alone, run here on SQLite (a thread hop costs more than the
    local query; benchmarks/README.md, issue #18) and, on PostgreSQL, here too, on an async
    connection of ``storage.loop_reads`` (no thread hop, no pre-ping, no rollback round trip)."""
    if hasattr(request.state, "identity"):
        return request.state.identity
    key = _presented_key(request)
    if not key:
        return _admit(request, Identity.anonymous())
    state = request.app.state
    digest = hashlib.sha256(key.encode()).hexdigest()
    loop_reads = getattr(state, "loop_reads", None)
    if loop_reads is not None:  # PostgreSQL: one query on the loop's own async connections
        state.key_cache.check_mark(await loop_reads.revocation_mark())
        who = state.key_cache.get(digest)
    elif state.engine.dialect.name == "sqlite":  # on the loop, on the loop's own connection
        who = _cached_identity(state, digest, state.loop_engine)
    else:  # another networked database: the round trips wait in a worker thread
        who = await run_in_threadpool(_cached_identity, state, digest)
    if who is None:
        who = await state.key_cache.verify_once(
            digest, lambda: run_in_threadpool(_verified_identity, state, key, digest)
        )
    return _admit(request, who)


def allow(*roles: str) -> Callable[[Request], Identity]:
    """Dependency admitting the given roles (and admin); ``"public"`` admits everyone."""

    async def dependency(request: Request) -> Identity:
        who = await identify_async(request)
        if PUBLIC in roles or who.role == "admin" or who.role in roles:
            return who
        if who.is_anonymous:
            raise HTTPException(401, "this route needs an API key", headers={"WWW-Authenticate": "ApiKey"})
        raise HTTPException(403, f"role {who.role!r} may not use this route (admits: {', '.join(roles)}, admin)")

    dependency.roles = tuple(roles)  # type: ignore[attr-defined]
    return dependency
