"""App factory: routes, key cache, rate limits, streamed body limit, job queue, audit of every write.

The middleware stack, outermost first: :class:`~.limits.AnonymousRateLimit` (per client address,
before any key is verified), :class:`~.limits.BodyLimit` (streamed bytes, chunked included),
:class:`~.audit.AuditWrites` (matched API writes, off the event loop). Expensive work goes
through ``app.state.job_queue``; its refusals are mapped here, once, to 429/503 with Retry-After."""

from __future__ import annotations

import errno
import math
import socket
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from ..clients.netguard import Resolver
from ..errors import SpacecommonsError
from ..storage import make_engine, session_factory, upgrade
from ..storage.loop_reads import LoopReads
from ..workflows import federation as federation_flow
from ..workflows.alerts import pinned_sender
from ..workflows.jobs import JobQueue, JobRefused
from . import (
    admin_routes,
    alert_routes,
    avoidance_routes,
    catalog_routes,
    ephemeris_routes,
    exchange_routes,
    federation_routes,
    neo_routes,
    observation_routes,
    od_routes,
    outbox,
    screening_routes,
)
from .audit import WRITE_METHODS, AuditWrites
from .budget import AnonymousDecisions
from .limits import AddressLimiter, AnonymousRateLimit, BodyLimit, TokenBuckets
from .security import KeyCache

__all__ = ["WRITE_METHODS", "create_app"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _mark_orphaned_runs(engine) -> None:
    """Runs started through the API live in the server process: any still 'running' when a server
    starts lost their process (killed, crashed). They become 'interrupted' with their finished
    chunks kept, resumable with ``spacecommons screen --resume ID``."""
    from ..storage.screening_repo import mark_orphaned_runs

    with session_factory(engine).begin() as session:
        mark_orphaned_runs(session)


def _fixity_schedule(app: FastAPI, stop: threading.Event, every_s: float) -> None:
    """Periodic fixity audit of the exchange's files; the latest report is in ``app.state.fixity``."""
    from ..workflows.fixity import audit_files

    while not stop.wait(every_s):
        try:
            with app.state.session_maker() as session:
                app.state.fixity = {"at": app.state.clock(), **audit_files(session, app.state.blobs)}
        except Exception:  # noqa: BLE001 - the next round tries again
            continue


def create_app(
    database_url: str,
    *,
    rate_per_second: float | None = None,
    rate_burst: int | None = None,
    max_body_bytes: int = 16 * 1024 * 1024,
    clock: Callable[[], datetime] = _utc_now,
    blob_root: str | None = None,
    fixity_every_s: float = 24 * 3600.0,
    secret_key: str | None = None,
    webhook_allow_loopback: bool | None = None,
    webhook_resolver: Resolver | None = None,
    anonymous_per_second: float | None = None,
    anonymous_burst: int | None = None,
    anonymous_audit_per_minute: int = 30,
    anonymous_decisions_per_minute: int = 30,
    job_queue: JobQueue | None = None,
) -> FastAPI:
    """The service on ``database_url`` (migrations applied now). Limits are per API key
    (``rate_per_second`` and ``rate_burst``; default: the ``rate_limit_per_second`` and
    ``rate_limit_burst`` settings, 20/s and 200), or per client address for anonymous callers and
    failed keys (``anonymous_per_second`` and ``anonymous_burst``, by default the per-key ones);
    bodies above ``max_body_bytes``
    (counted as streamed) get 413. Expensive work runs on ``job_queue`` (by default 2 workers, one
    job per partner at a time). ``clock`` returns the time as an aware UTC datetime (tests freeze it).
    Webhooks: ``secret_key`` seals their secrets (default: the ``secret_key`` setting, else a key
    file beside the data directory, ``service.outbox``); ``webhook_allow_loopback`` admits loopback
    receivers (default: the setting, off); ``webhook_resolver`` resolves their hosts (default
    ``socket.getaddrinfo``; tests pass a table). Anonymous requests write at most
    ``anonymous_decisions_per_minute`` access-decision rows per client address (``budget.AnonymousDecisions``)."""
    from ..config import Settings

    settings = Settings()
    rate_per_second = settings.rate_limit_per_second if rate_per_second is None else rate_per_second
    rate_burst = settings.rate_limit_burst if rate_burst is None else rate_burst
    engine = make_engine(database_url)
    upgrade(engine)
    _mark_orphaned_runs(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=outbox.delivery_loop,
                args=(app.state.session_maker, app.state.secret_box, app.state.webhook_send, clock, stop),
                daemon=True,
            ),
            threading.Thread(target=_fixity_schedule, args=(app, stop, fixity_every_s), daemon=True),
        ]
        for t in threads:
            t.start()
        yield
        stop.set()
        # The job queue is not shut down here: a lifespan may run more than once on one app (test
        # clients), and its workers are daemon threads; a run cut off by the process's end is
        # marked interrupted at the next start, as before.
        for t in threads:
            t.join(5)
        if app.state.loop_reads is not None:
            await app.state.loop_reads.close()  # idle connections; new ones open if the app runs again

    app = FastAPI(
        lifespan=lifespan,
        title="spacecommons",
        version="1",
        summary="Share and screen space data together: orbital safety, NEO watch, planetary defense.",
        description="Authenticate with `X-API-Key: sc_...` (or `Authorization: Bearer sc_...`). Each operation "
        "lists the roles it admits under `x-roles`; `admin` is admitted everywhere, `public` admits anonymous calls.",
    )
    app.state.engine = engine
    # reads made on the event loop (SQLite only: the key watermark, the events list's fast path) use
    # a connection of the loop's own: waiting there for the shared pool deadlocked the server under 50
    # clients (the threads holding the pool's connections release them through the loop)
    on_file = database_url.startswith("sqlite") and engine.url.database not in (None, "", ":memory:")
    app.state.loop_engine = make_engine(database_url, connection_per_thread=True) if on_file else engine
    # PostgreSQL: the per-request reads (key watermark, run access, first pages) on psycopg async
    # connections of the loop's own (storage.loop_reads; None for other drivers)
    app.state.loop_reads = LoopReads.for_engine(engine)
    app.state.session_maker = session_factory(engine)
    app.state.key_cache = KeyCache()
    app.state.rate_limiter = TokenBuckets(rate_per_second, rate_burst)  # per key, or per address without one
    app.state.clock = clock
    from ..exchange.blobs import BlobStore

    data_dir = blob_root or settings.data_dir
    app.state.blobs = BlobStore(data_dir)
    app.state.secret_box = outbox.server_secret_box(settings.secret_key if secret_key is None else secret_key, data_dir)
    outbox.seal_at_start(app.state.session_maker, app.state.secret_box)
    app.state.webhook_allow_loopback = (
        settings.webhook_allow_loopback if webhook_allow_loopback is None else webhook_allow_loopback
    )
    app.state.webhook_resolver = webhook_resolver or socket.getaddrinfo
    app.state.webhook_send = pinned_sender(
        resolver=app.state.webhook_resolver, allow_loopback=app.state.webhook_allow_loopback
    )
    app.state.blobs.sweep()
    app.state.node_key = federation_flow.node_key(data_dir)  # Ed25519, <data_dir>.node-key
    app.state.fixity = None
    app.state.jobs = {}  # screening run id -> its cancel flag, for runs of this server process
    app.state.job_queue = job_queue if job_queue is not None else JobQueue(workers=2)
    app.state.counters = {"requests": 0, "audit_suppressed": 0}
    # access-decision rows of anonymous requests: per address and overall (budget.AnonymousDecisions)
    app.state.decision_budget = AnonymousDecisions(anonymous_decisions_per_minute)
    app.state.czml_cache = catalog_routes.CzmlCache()
    for module in (
        admin_routes,
        catalog_routes,
        screening_routes,
        avoidance_routes,
        alert_routes,
        neo_routes,
        observation_routes,
        od_routes,
        exchange_routes,
        ephemeris_routes,
        federation_routes,
    ):
        app.include_router(module.router)

    def upload_limit(scope) -> int | None:
        if scope["method"] == "PUT" and scope["path"].startswith("/api/v1/exchange/products/"):
            return exchange_routes.MAX_FILE_BYTES  # data files: streamed to disk, their own limit
        return None

    # Starlette wraps the last added outermost: rate limit, then body limit, then audit.
    app.add_middleware(
        AuditWrites,
        session_maker=app.state.session_maker,
        clock=clock,
        counters=app.state.counters,
        anonymous_per_minute=anonymous_audit_per_minute,
    )
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes, limit_for=upload_limit)
    app.state.anonymous_limiter = AddressLimiter(
        anonymous_per_second if anonymous_per_second is not None else rate_per_second,
        anonymous_burst if anonymous_burst is not None else rate_burst,
    )
    app.add_middleware(AnonymousRateLimit, limiter=app.state.anonymous_limiter)

    @app.exception_handler(JobRefused)
    async def job_refused(_request: Request, exc: JobRefused):
        wait = str(max(1, math.ceil(exc.retry_after_s)))
        return JSONResponse({"detail": str(exc)}, status_code=exc.status_code, headers={"Retry-After": wait})

    @app.exception_handler(OSError)
    async def disk_error(_request: Request, exc: OSError):
        if exc.errno == errno.ENOSPC:
            return JSONResponse(
                {"detail": "the server's disk is full: nothing was stored; free space and retry"}, status_code=507
            )
        raise exc

    @app.exception_handler(OperationalError)
    async def database_error(_request: Request, exc: OperationalError):
        if "full" in str(exc.orig).lower() or "no space" in str(exc.orig).lower():
            return JSONResponse(
                {"detail": "the database's disk is full: the transaction was rolled back; free space and retry"},
                status_code=507,
            )
        raise exc

    @app.exception_handler(SpacecommonsError)
    async def library_error(_request: Request, exc: SpacecommonsError):
        return JSONResponse({"detail": str(exc)}, status_code=400)

    from .dashboard import mount_dashboard
    from .headers import SecurityHeaders

    mount_dashboard(app, Path(settings.cesium_dir))
    app.add_middleware(SecurityHeaders)  # CSP, nosniff, no framing, no referrer: every response
    return app


def app_from_settings() -> FastAPI:
    """The service on the ``database_url`` setting: the factory that ``spacecommons serve --workers N``
    gives uvicorn, which imports it in each worker process (settings come from the environment)."""
    from ..config import Settings

    return create_app(Settings().database_url)
