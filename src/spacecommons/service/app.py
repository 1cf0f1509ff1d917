"""App factory: routes, key cache, rate limiter, request-size limit and audit of every write."""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from ..errors import SpacecommonsError
from ..storage import make_engine, session_factory, upgrade
from ..storage.partners_repo import Identity, audit
from . import admin_routes, alert_routes, catalog_routes, exchange_routes, neo_routes, screening_routes
from .security import CallerRateLimiter, KeyCache

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _deliver_alerts(app: FastAPI, stop: threading.Event, every_s: float = 2.0) -> None:
    """Background delivery of pending alerts to partners' webhooks (retries with backoff)."""
    import httpx

    from ..workflows.alerts import deliver_due
    from ..workflows.clock import as_utc

    with httpx.Client() as client:
        while not stop.wait(every_s):
            try:
                deliver_due(app.state.session_maker, client, as_utc(app.state.clock()))
            except Exception:  # noqa: BLE001 - keep delivering; the failure is in the delivery log
                continue


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
    rate_per_second: float = 20.0,
    rate_burst: int = 200,
    max_body_bytes: int = 16 * 1024 * 1024,
    clock: Callable[[], datetime] = _utc_now,
    blob_root: str | None = None,
    fixity_every_s: float = 24 * 3600.0,
) -> FastAPI:
    """The service on ``database_url`` (migrations applied now). Limits are per API key, or per
    client address for anonymous callers; bodies above ``max_body_bytes`` get 413. ``clock`` returns
    the time as an aware UTC datetime (tests freeze it)."""
    engine = make_engine(database_url)
    upgrade(engine)
    _mark_orphaned_runs(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        stop = threading.Event()
        threads = [
            threading.Thread(target=_deliver_alerts, args=(app, stop), daemon=True),
            threading.Thread(target=_fixity_schedule, args=(app, stop, fixity_every_s), daemon=True),
        ]
        for t in threads:
            t.start()
        yield
        stop.set()
        for t in threads:
            t.join(5)

    app = FastAPI(
        lifespan=lifespan,
        title="spacecommons",
        version="1",
        summary="Share and screen space data together: orbital safety, NEO watch, planetary defense.",
        description="Authenticate with `X-API-Key: sc_...` (or `Authorization: Bearer sc_...`). Each operation "
        "lists the roles it admits under `x-roles`; `admin` is admitted everywhere, `public` admits anonymous calls.",
    )
    app.state.engine = engine
    app.state.session_maker = session_factory(engine)
    app.state.key_cache = KeyCache()
    app.state.rate_limiter = CallerRateLimiter(rate_per_second, rate_burst)
    app.state.clock = clock
    from ..config import Settings
    from ..exchange.blobs import BlobStore

    app.state.blobs = BlobStore(blob_root or Settings().data_dir)
    app.state.blobs.sweep()
    app.state.fixity = None
    app.state.jobs = {}
    app.state.counters = {"requests": 0}
    for module in (admin_routes, catalog_routes, screening_routes, alert_routes, neo_routes, exchange_routes):
        app.include_router(module.router)

    @app.middleware("http")
    async def limits_and_audit(request: Request, call_next):
        app.state.counters["requests"] += 1
        length = request.headers.get("content-length")
        limit = max_body_bytes
        if request.method == "PUT" and request.url.path.startswith("/api/v1/exchange/products/"):
            limit = exchange_routes.MAX_FILE_BYTES  # data files: streamed to disk, their own limit
        if length and length.isdigit() and int(length) > limit:
            return JSONResponse({"detail": f"request body over {limit} bytes"}, status_code=413)
        response = await call_next(request)
        if request.method in WRITE_METHODS and request.url.path.startswith("/api/"):
            who = getattr(request.state, "identity", Identity.anonymous())
            with app.state.session_maker.begin() as session:
                audit(
                    session,
                    clock(),
                    who,
                    request.method,
                    request.url.path,
                    response.status_code,
                    request.url.query or None,
                )
        return response

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

    mount_dashboard(app, Path(Settings().cesium_dir))
    app.add_middleware(SecurityHeaders)  # CSP, nosniff, no framing, no referrer: every response
    return app
