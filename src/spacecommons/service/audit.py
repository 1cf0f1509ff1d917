"""The audit log's writer: every write to a matched API route, off the event loop, with a budget
for anonymous traffic.

- Only requests the router matched to an API route are recorded (a 404 for a path that does not
  exist is noise an attacker could use to fill the log); ``path`` and the query are truncated
  (``partners_repo.AUDIT_FIELD_CHARS``).
- Anonymous writes are recorded at most ``anonymous_per_minute`` per client address (one IPv4
  address or IPv6 /64); the rest are counted in ``counters["audit_suppressed"]``.
- The row is written in a worker thread (``anyio.to_thread``) after the response was sent, so a
  slow or locked database never holds the event loop.

Pure ASGI: the body is never buffered here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import anyio.to_thread

from ..storage.partners_repo import Identity, audit
from .limits import AddressLimiter, ASGIApp, Message, Receive, Scope, Send, _client_addr

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _matched_api_route(scope: Scope) -> bool:
    path = getattr(scope.get("route"), "path", None)
    return isinstance(path, str) and path.startswith("/api/")


class AuditWrites:
    """ASGI middleware: counts requests, and records each write to a matched API route."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        session_maker: Any,
        clock: Callable[[], datetime],
        counters: dict[str, int],
        anonymous_per_minute: int = 30,
    ) -> None:
        self.app, self.session_maker, self.clock, self.counters = app, session_maker, clock, counters
        self.anonymous = AddressLimiter(per_second=anonymous_per_minute / 60.0, burst=max(1, anonymous_per_minute))
        counters.setdefault("requests", 0)
        counters.setdefault("audit_suppressed", 0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.counters["requests"] += 1
        status = 500

        async def watched_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        finally:
            if scope["method"] in WRITE_METHODS and _matched_api_route(scope):
                await self._record(scope, status)

    async def _record(self, scope: Scope, status: int) -> None:
        who = scope.get("state", {}).get("identity") or Identity.anonymous()
        if who.is_anonymous and self.anonymous.charge_anonymous(_client_addr(scope)) > 0:
            self.counters["audit_suppressed"] += 1
            return
        query = scope.get("query_string", b"").decode("latin-1") or None
        at = self.clock()

        def write() -> None:
            with self.session_maker.begin() as session:
                audit(session, at, who, scope["method"], scope["path"], status, query)

        await anyio.to_thread.run_sync(write)
