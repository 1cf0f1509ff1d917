"""Limits that hold before a route runs: streamed body size, anonymous rate, constant-cost key checks.

- :class:`BodyLimit` counts the bytes a client actually streams (chunked bodies included, which
  carry no ``Content-Length``), stops reading at the limit and answers 413. A declared
  ``Content-Length`` over the limit is refused before the app runs.
- :class:`AddressLimiter` and :class:`AnonymousRateLimit` rate-limit requests without a key, and
  addresses whose keys failed, per client address, BEFORE any key verification: an address that
  exhausted its bucket gets 429 without costing an argon2 check. The auth code calls
  :func:`charge_anonymous` when a presented key fails.
- :func:`verify_key` costs one argon2 verification whether or not the key's prefix is known, so
  neither time nor CPU tells an attacker which prefixes exist.

All are pure ASGI (no ``BaseHTTPMiddleware``), so a body is never buffered by the middleware.
"""

from __future__ import annotations

import ipaddress
import json
import math
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from functools import lru_cache
from typing import Any

from starlette.exceptions import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
KEY_HEADERS = (b"x-api-key", b"authorization")


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once the streamed body passes the limit; FastAPI re-raises
    HTTPExceptions from body parsing as they are, so the client gets this 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes")
        self.limit = limit


async def _send_json(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"detail": detail}).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware: at most ``max_bytes`` of request body (or ``limit_for(scope)`` when that
    returns a number, e.g. for the exchange's file upload route), counted as streamed."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = DEFAULT_MAX_BODY_BYTES,
        limit_for: Callable[[Scope], int | None] | None = None,
    ) -> None:
        self.app, self.max_bytes, self.limit_for = app, max_bytes, limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        override = self.limit_for(scope) if self.limit_for else None
        limit = self.max_bytes if override is None else override
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                if not value.isdigit():
                    await _send_json(send, 400, "bad Content-Length")
                    return
                if int(value) > limit:
                    await _send_json(send, 413, f"request body over {limit} bytes")
                    return
        seen = 0
        over = False
        started = False

        async def limited_receive() -> Message:
            nonlocal seen, over
            if over:  # never read past the limit, whatever the app does after the refusal
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    over = True
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge:
            if not started:
                await _send_json(send, 413, f"request body over {limit} bytes")


def client_bucket(addr: str) -> str:
    """The bucket an address counts against: an IPv4 address alone, an IPv6 address by its /64
    (one subscriber usually holds a whole /64, RFC 6177), an IPv4-mapped IPv6 as its IPv4.

    >>> client_bucket("2001:db8:1:2:aaaa::1") == client_bucket("2001:db8:1:2:bbbb::9")
    True
    """
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return addr
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class TokenBuckets:
    """A token bucket per key: ``burst`` requests at once, refilled at ``per_second``. At most
    ``max_keys`` buckets are kept (full ones are dropped first, then the longest idle). The one
    bucket mechanism of the service: per caller (key or address) and per client address."""

    def __init__(
        self,
        per_second: float = 1.0,
        burst: int = 30,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.rate, self.burst, self.clock, self.max_keys = per_second, burst, clock, max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self.refused = 0

    def _tokens(self, key: str, now: float) -> float:
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - last) * self.rate)

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when allowed, else the seconds until one is back."""
        now = self.clock()
        with self._lock:
            tokens = self._tokens(key, now)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                self._prune(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            self.refused += 1
            return (1.0 - tokens) / self.rate

    def wait(self, key: str) -> float:
        """Seconds until ``key`` has a token again (0.0 when it has one), without taking one."""
        now = self.clock()
        with self._lock:
            tokens = self._tokens(key, now)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        if len(self._buckets) <= self.max_keys:
            return
        full = [k for k in self._buckets if self._tokens(k, now) >= self.burst]
        for k in full:
            del self._buckets[k]
        while len(self._buckets) > self.max_keys:  # still too many: drop the longest idle
            del self._buckets[min(self._buckets, key=lambda k: self._buckets[k][1])]


class AddressLimiter(TokenBuckets):
    """Token buckets per client address, counted by :func:`client_bucket` (IPv4 address, IPv6 /64)."""

    def __init__(
        self,
        per_second: float = 1.0,
        burst: int = 30,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = 100_000,
    ) -> None:
        super().__init__(per_second, burst, clock, max_addresses)

    def charge_anonymous(self, addr: str) -> float:
        """Take one token for ``addr``: 0.0 when allowed, else the seconds until one is back."""
        return self.take(client_bucket(addr))

    def exhausted(self, addr: str) -> float:
        """Seconds until ``addr`` has a token again (0.0 when it has one), without taking one."""
        return self.wait(client_bucket(addr))


def _retry_after(wait_s: float) -> list[tuple[bytes, bytes]]:
    return [(b"retry-after", str(max(1, math.ceil(wait_s))).encode())]


def _client_addr(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class AnonymousRateLimit:
    """ASGI middleware: a request without an API key takes a token from its address's bucket; a
    request with a key passes only if its address still has a token (failed keys charge it through
    :func:`charge_anonymous`), so an exhausted address gets 429 before any key is verified.

    The limiter is published as ``scope["state"]["anonymous_limiter"]`` (``request.state`` in
    routes) for :func:`charge_anonymous`. The client address is the socket peer: behind a reverse
    proxy, let the server (uvicorn ``--proxy-headers`` with trusted ``--forwarded-allow-ips``) set it.
    """

    def __init__(self, app: ASGIApp, limiter: AddressLimiter) -> None:
        self.app, self.limiter = app, limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["anonymous_limiter"] = self.limiter
        addr = _client_addr(scope)
        has_key = any(name in KEY_HEADERS for name, _ in scope.get("headers", ()))
        wait = self.limiter.exhausted(addr) if has_key else self.limiter.charge_anonymous(addr)
        if wait > 0:
            if has_key:
                self.limiter.refused += 1
            await _send_json(send, 429, "too many requests from this address", _retry_after(wait))
            return
        await self.app(scope, receive, send)


class RateLimited(HTTPException):
    """429 with ``Retry-After``, raised by :func:`charge_anonymous`."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(429, "too many requests from this address", headers={"Retry-After": str(math.ceil(wait_s))})


def charge_anonymous(request: Any) -> None:
    """Charge the caller's address for a failed key (call it where a key fails verification);
    raises :class:`RateLimited` when the address has no token left. ``request`` is a Starlette
    request served behind :class:`AnonymousRateLimit` (no limiter there: nothing is charged)."""
    limiter = getattr(request.state, "anonymous_limiter", None)
    if limiter is None:
        return
    wait = limiter.charge_anonymous(request.client.host if request.client else "unknown")
    if wait > 0:
        raise RateLimited(wait)


def _argon2() -> Any:
    """The hasher of API keys (``storage.partners_repo.key_hasher``): the same cost parameters."""
    from ..storage.partners_repo import key_hasher

    return key_hasher()


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """An argon2 hash of a random secret nobody knows, made once, with the real hasher's parameters."""
    import secrets

    return _argon2().hash(secrets.token_urlsafe(32))


def verify_key(secret: str, stored_hash: str | None, hasher: Any = None) -> bool:
    """True when ``secret`` matches ``stored_hash``; with ``None`` (unknown prefix, or a revoked
    key the caller chooses not to reveal) one verification runs against :func:`dummy_hash` and the
    answer is False, so every presented key costs the same one argon2 verification."""
    hasher = hasher if hasher is not None else _argon2()
    target = stored_hash if stored_hash is not None else dummy_hash()
    try:
        ok = bool(hasher.verify(secret, target))
    except Exception:  # noqa: BLE001 - a malformed stored hash is a failed verification, never a 500
        ok = False
    return ok and stored_hash is not None
