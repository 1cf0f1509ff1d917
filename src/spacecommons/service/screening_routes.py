"""Screening runs: start (background job with progress and cancellation), list, events, CDMs, and
incremental re-screening of a stored run (``POST .../update``; also queued automatically when a
partner submits element sets of objects in its runs, :func:`enqueue_updates`)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections import OrderedDict
from datetime import UTC, datetime

import orjson
from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field, TypeAdapter
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ..conjunction import ScreeningParams
from ..conjunction.catalog_payload import CatalogPayload
from ..policy import RunVisibility, can_see_run, may_screen_ephemeris
from ..storage import ephemeris_repo
from ..storage import screening_repo as repo
from ..storage.catalog_repo import latest_elements
from ..storage.partners_repo import Identity
from ..storage.tables import ConjunctionEvent, ScreeningChunk, ScreeningRun
from ..timescales import as_utc, format_utc, iso_to_jd
from ..workflows.jobs import CancelToken, JobRefused
from ..workflows.screening import create_run, run_screening, update_run
from .budget import job_owner, submit
from .deps import MAX_ID, CallerDep, ClockDep, Id, SessionDep, route
from .timefields import Instant, InstantMs, TimeIn

router = APIRouter(prefix="/api/v1/screening", tags=["screening"])


class RunRequest(BaseModel):
    start: str = Field(examples=["2021-10-02T00:00:00Z"], description="window start, UTC with its offset")
    days: float = Field(1.0, gt=0, le=7, examples=[1.0])
    threshold_km: float = Field(5.0, gt=0, le=100, examples=[5.0])
    primaries: list[int] = Field(default_factory=list, description="screen these against all; empty: all vs all")
    visibility: RunVisibility = Field(RunVisibility.PARTNERS, examples=["partners"])
    ephemerides: list[Id] = Field(
        default_factory=list,
        max_length=10,
        description="ids of uploaded ephemerides (OEM, GET /api/v1/ephemerides) the caller may see: their objects "
        "fly them and are screened as primaries; the run may be no wider than each ephemeris (a private one: "
        "a private run)",
    )


class RunOut(BaseModel):
    id: int
    created_at: Instant
    status: str
    n_objects: int
    n_chunks: int
    chunks_done: int
    n_events: int | None
    visibility: str
    owner: int | None = Field(None, description="owner partner id; null for runs started from the CLI")
    params: dict
    message: str | None = None


class EventOut(BaseModel):
    id: int
    id1: int
    name1: str
    id2: int
    name2: str
    tca: InstantMs = Field(examples=["2021-10-02T03:14:15.926Z"])
    miss_km: float
    speed_km_s: float
    r_km: float
    t_km: float
    n_km: float
    kind: str
    n_minima: int
    pc: float | None = None
    pc_method: str | None = None


EVENTS_JSON = TypeAdapter(list[EventOut])
"""The reference serialisation of an events page (what FastAPI writes for ``response_model``): the
route's own writer, :func:`events_json`, must give the same bytes (tests/test_events_fast_path.py)."""


def visible(run: ScreeningRun, who: Identity) -> bool:
    """The run visibility rule of ``spacecommons.policy.can_see_run`` for a caller."""
    return can_see_run(run.visibility, run.owner_partner_id, who.partner_id)


def _visible_run(session: Session, run_id: Id, who: Identity) -> ScreeningRun:
    run = session.get(ScreeningRun, run_id)
    if run is None or not visible(run, who):  # a private run of another partner is indistinguishable from none
        raise HTTPException(404, f"no screening run {run_id}")
    return run


def _out(session: Session, run: ScreeningRun) -> RunOut:
    done = session.query(ScreeningChunk).filter(ScreeningChunk.run_id == run.id).count()
    return RunOut(
        id=run.id,
        created_at=run.created_at,
        status=run.status,
        n_objects=run.n_objects,
        n_chunks=run.n_chunks,
        chunks_done=done,
        n_events=run.n_events,
        visibility=run.visibility,
        owner=run.owner_partner_id,
        params=json.loads(run.params_json),
        message=run.message,
    )


COMMIT_WAIT_S = 30.0  # a queued run starts only once its row is committed


def _job(
    app,
    run_id: Id,
    payload: CatalogPayload,
    params: ScreeningParams,
    cancel: threading.Event,
    committed: threading.Event,
):
    """The job of a run started through the API, run by ``app.state.job_queue`` (one screening
    worker per job: the server stays responsive; the queue bounds how many run at once)."""

    def work(token: CancelToken) -> None:
        try:
            if not committed.wait(COMMIT_WAIT_S) or token.cancelled:
                return  # the request that created the run failed, or the server is shutting down
            run_screening(
                app.state.session_maker,
                payload,
                params,
                lambda: as_utc(app.state.clock()),
                run_id=run_id,
                workers=1,
                cancel=lambda: cancel.is_set() or token.cancelled,
            )
        except Exception:  # noqa: BLE001 - the workflow stored the failure in the run's status and message
            return
        finally:
            app.state.jobs.pop(run_id, None)

    return work


def _ephemeris_tracks(
    session: Session, ids: list[int], visibility: RunVisibility, who: Identity
) -> dict[int, tuple[str, str]]:
    """{catalog number: (name, OEM KVN)} of the stored ephemerides ``ids``, each one the caller may see
    (else 404, as for one that does not exist) and may screen in a run of ``visibility`` (else 422)."""
    tracks: dict[int, tuple[str, str]] = {}
    for eid in dict.fromkeys(ids):
        found = ephemeris_repo.get_ephemeris(session, eid, who.partner_id)
        if found is None:
            raise HTTPException(404, f"no ephemeris {eid}")
        row, text = found
        if not may_screen_ephemeris(row.visibility, row.owner_partner_id, who.partner_id, visibility.value):
            raise HTTPException(
                422, f"ephemeris {eid} is {row.visibility}: a run on it may be no wider ({visibility.value} asked)"
            )
        if row.norad_id in tracks:
            raise HTTPException(422, f"two ephemerides for object {row.norad_id}: give one")
        tracks[row.norad_id] = ephemeris_repo.screening_track(session, row, text)
    return tracks


@route(
    router,
    "POST",
    "/runs",
    ("analyst",),
    response_model=RunOut,
    status_code=202,
    summary="Start a screening run of the stored catalog (background job; 429/503 with Retry-After when the "
    "partner's quota or the server's queue is full)",
)
def start_run(body: RunRequest, request: Request, session: SessionDep, who: CallerDep, clock: ClockDep) -> RunOut:
    try:
        jd, fr = iso_to_jd(body.start)
        params = ScreeningParams(jd, fr, body.days, body.threshold_km, tuple(body.primaries))
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    records = latest_elements(session)
    if not records:
        raise HTTPException(409, "the catalog is empty: load element sets first")
    payload = CatalogPayload.from_elements(records)
    if body.ephemerides:
        tracks = _ephemeris_tracks(session, body.ephemerides, body.visibility, who)
        payload = payload.with_ephemerides(tracks)
        params = ScreeningParams(jd, fr, body.days, body.threshold_km, tuple(sorted(set(body.primaries) | set(tracks))))
    run_id = create_run(
        session, payload, params, as_utc(clock()), owner_partner_id=who.partner_id, visibility=body.visibility.value
    )
    cancel, committed = threading.Event(), threading.Event()
    # Queued before the commit: a refused job (JobRefused -> 429/503) rolls the run back, so no
    # run row exists that nothing will ever run.
    job_id = submit(request, who, "screening", _job(request.app, run_id, payload, params, cancel, committed))
    request.app.state.jobs[run_id] = cancel
    try:
        session.commit()
    except Exception:
        request.app.state.jobs.pop(run_id, None)
        request.app.state.job_queue.cancel(job_id, None)
        committed.set()
        raise
    committed.set()
    run = session.get(ScreeningRun, run_id)
    return _out(session, run)


@route(
    router,
    "POST",
    "/runs/{run_id}/cancel",
    ("analyst",),
    response_model=RunOut,
    summary="Cancel a running screening run (finished chunks are kept)",
)
def cancel_run(run_id: Id, request: Request, session: SessionDep, who: CallerDep) -> RunOut:
    run = _visible_run(session, run_id, who)
    if run.owner_partner_id != who.partner_id and who.role != "admin":
        raise HTTPException(403, "only the owner partner cancels a run")
    flag = request.app.state.jobs.get(run_id)
    if flag is None:
        raise HTTPException(409, f"run {run_id} is {run.status}, not running in this server")
    flag.set()
    return _out(session, run)


AUTO_UPDATE_MAX_RUNS = 4  # runs re-screened per element-set submission (the partner's newest that qualify)
AUTO_UPDATE_SCAN = 50  # the partner's newest done runs looked at for the submitted objects
UPDATE_KIND = "screening-update"


class UpdateJobOut(BaseModel):
    job_id: str
    run_id: int
    state: str = Field(examples=["queued"])


class JobOut(BaseModel):
    id: str
    kind: str
    state: str
    result: dict | None = Field(None, description="screening-update: run_id, updated (catalog numbers), n_events")
    error: str | None = None


def _update_job(app, run_id: int):
    """Re-screen ``run_id`` against the catalog's latest element sets of its objects
    (``workflows.screening.update_run``: only objects whose element set changed are re-screened;
    none changed is a cheap no-op). The latest sets are read when the job runs, so jobs queued by
    several submissions each see everything stored before they start."""

    def work(token: CancelToken) -> dict:
        token.raise_if_cancelled()
        maker = app.state.session_maker
        with maker() as session:
            _, _, payload, _ = repo.load_run(session, run_id)
            ids = set(payload.norad_ids)
            latest = [e for e in latest_elements(session) if e.norad_id in ids]
        token.raise_if_cancelled()
        out = update_run(maker, run_id, CatalogPayload.from_elements(latest), workers=1)
        return {
            "run_id": run_id,
            "updated": list(out.updated),
            "rescreened": list(out.rescreened),
            "n_events": out.n_events,
        }

    return work


def _submit_update(request: Request, who: Identity, run_id: int) -> str:
    """Queued under the caller's partner quota; at most one update of a run runs at a time (its group)."""
    queue = request.app.state.job_queue
    return queue.submit(
        job_owner(request, who), _update_job(request.app, run_id), kind=UPDATE_KIND, group=f"screening-run:{run_id}"
    )


def _updatable(run: ScreeningRun) -> bool:
    return run.status == "done" and not json.loads(run.params_json).get("primaries")


@route(
    router,
    "POST",
    "/runs/{run_id}/update",
    ("operator", "analyst"),
    response_model=UpdateJobOut,
    status_code=202,
    summary="Re-screen a finished all-vs-all run for the objects whose latest element set changed since "
    "(background job; the run's owner partner only; poll GET /api/v1/screening/jobs/{job_id})",
)
def update_run_route(run_id: Id, request: Request, session: SessionDep, who: CallerDep) -> UpdateJobOut:
    run = _visible_run(session, run_id, who)
    owner = run.owner_partner_id is not None and run.owner_partner_id == who.partner_id
    if not owner and who.role != "admin":
        raise HTTPException(403, "only the owner partner updates a run")
    if not _updatable(run):
        raise HTTPException(409, f"run {run_id} is {run.status}; only a finished all-vs-all run can be updated")
    session.close()  # no connection held while the job is queued
    job_id = _submit_update(request, who, run_id)
    return UpdateJobOut(job_id=job_id, run_id=run_id, state="queued")


@route(
    router,
    "GET",
    "/jobs/{job_id}",
    ("operator", "analyst", "observer"),
    response_model=JobOut,
    summary="A screening job of the caller's partner (an update, queued by the route or by an element-set "
    "submission): its state and result",
)
def get_job(job_id: str, request: Request, who: CallerDep) -> JobOut:
    view = request.app.state.job_queue.get(job_id[:64], job_owner(request, who))
    if view is None or view.kind != UPDATE_KIND:
        raise HTTPException(404, f"no job {job_id[:64]}")
    return JobOut(id=view.id, kind=view.kind, state=view.state.value, result=view.result, error=view.error)


def enqueue_updates(request: Request, session: Session, who: Identity, norad_ids: set[int]) -> tuple[list[str], int]:
    """After a partner's element-set submission: queue an update of each of the partner's newest
    finished all-vs-all runs (at most AUTO_UPDATE_MAX_RUNS) that contain one of ``norad_ids``, the
    objects whose latest state the submission may have changed. Another partner's runs are never
    touched. Returns the job ids and how many were refused (queue full or quota used: the
    submission itself stands; the partner can POST .../update later)."""
    if who.partner_id is None or not norad_ids:
        return [], 0
    from sqlalchemy import select

    runs = session.scalars(
        select(ScreeningRun)
        .where(ScreeningRun.owner_partner_id == who.partner_id, ScreeningRun.status == "done")
        .order_by(ScreeningRun.id.desc())
        .limit(AUTO_UPDATE_SCAN)
    ).all()
    targets = []
    for run in runs:
        if _updatable(run) and not norad_ids.isdisjoint(repo.run_catalog_names(session, run)[0]):
            targets.append(run.id)
            if len(targets) == AUTO_UPDATE_MAX_RUNS:
                break
    jobs, refused = [], 0
    for run_id in targets:
        try:
            jobs.append(_submit_update(request, who, run_id))
        except JobRefused:
            refused += 1
    return jobs, refused


@route(router, "GET", "/runs", ("public",), response_model=list[RunOut], summary="Runs visible to the caller")
def list_runs(session: SessionDep, who: CallerDep) -> list[RunOut]:
    return [_out(session, r) for r in repo.list_runs(session) if visible(r, who)]


@route(router, "GET", "/runs/{run_id}", ("public",), response_model=RunOut, summary="One run with its progress")
def get_run(run_id: Id, session: SessionDep, who: CallerDep) -> RunOut:
    return _out(session, _visible_run(session, run_id, who))


@route(
    router,
    "GET",
    "/runs/{run_id}/events",
    ("public",),
    response_model=list[EventOut],
    summary="Events of a run with filters, one page in the chosen order (keyset: `after`; or `offset`)",
    description="The response's `X-Total-Count` is the number of events that pass the filters; "
    "`X-Next-After` (and a `Link: rel=next`) the cursor of the next page, absent on the last page. "
    "A cursor belongs to its sort order: pass it back with the same `sort`, `order` and filters.",
)
async def run_events(
    run_id: Id,
    request: Request,
    max_miss_km: float | None = Query(None, ge=0),
    min_pc: float | None = Query(None, ge=0, le=1),
    norad_id: int | None = Query(None, ge=0, le=MAX_ID, description="events involving this object"),
    name: str | None = Query(None, max_length=64, description="a part of either object's name"),
    regime: str | None = Query(None, pattern="^(LEO|MEO|GEO|HEO)$", description="either object in this regime"),
    tca_from: TimeIn | None = Query(None, examples=["2021-10-02T00:00:00Z"]),
    tca_to: TimeIn | None = Query(None),
    sort: str = Query("miss_km", pattern="^(miss_km|tca|pc|speed_km_s)$"),
    order: str | None = Query(None, pattern="^(asc|desc)$", description="default: desc for pc, asc otherwise"),
    limit: int = Query(100, ge=1, le=5000),
    after: str | None = Query(None, max_length=200, description="X-Next-After of the page before"),
    offset: int = Query(0, ge=0, le=MAX_ID),
    *,
    who: CallerDep,
) -> Response:
    # The page is read and written in one function, on the event loop for SQLite (local reads take
    # less than a thread hop): no hop per dependency, no ORM objects, no second validation (design
    # notes, "The events list's fast path"). On PostgreSQL the run's access row, cached pages and
    # plain pages are read on the loop's async connections (storage.loop_reads): no thread hop. A
    # regime filter reads the run's stored catalog (megabytes): that goes to a worker thread.
    f = repo.EventFilter(max_miss_km, min_pc, norad_id, name, tca_from, tca_to)
    descending = None if order is None else order == "desc"
    page = (run_id, who, f, regime, sort, descending, limit, after, offset)
    app = request.app
    loop_reads = getattr(app.state, "loop_reads", None)
    if regime is None and app.state.engine.dialect.name == "sqlite":  # the loop's own connection
        body, headers = _events_page(app, *page, engine=app.state.loop_engine)
    elif loop_reads is not None:  # PostgreSQL: the run's access (and a plain page) on the loop's async connections
        run = await loop_reads.run_access(run_id)
        done = await _events_page_on_loop(app, loop_reads, run, *page)
        if done is None:  # anything else waits in a worker thread, not on the loop
            done = await run_in_threadpool(_events_page, app, *page, run=run)
        body, headers = done
    else:  # a database over the network: its round trips wait in a worker thread, not on the loop
        body, headers = await run_in_threadpool(_events_page, app, *page)
    if "X-Next-After" in headers:
        nxt = request.url.remove_query_params(["after", "offset"]).include_query_params(after=headers["X-Next-After"])
        headers["Link"] = f'<{nxt.path}?{nxt.query}>; rel="next"'
    return Response(body, media_type="application/json", headers=headers)


_UNREAD = object()


async def _events_page_on_loop(
    app,
    reads,
    run,
    run_id: int,
    who: Identity,
    f: repo.EventFilter,
    regime: str | None,
    sort: str,
    descending: bool | None,
    limit: int,
    after: str | None,
    offset: int,
) -> tuple[bytes, dict[str, str]] | None:
    """:func:`_events_page` on the event loop through ``reads`` (``storage.loop_reads``, PostgreSQL)
    for what needs no more than its plain queries: a page of a finished run from the page cache, or,
    without filters, regime or cursor and with its count cached, read on the loop. ``None`` for
    anything else (the caller runs :func:`_events_page` in a worker thread). ``run``: the run's
    access row (``reads.run_access``), or ``None``."""
    key, hit = _visible_cached_page(app, run_id, run, who, (f, regime, sort, descending, limit, after, offset))
    if hit is not None:
        return hit
    if key is None or regime is not None or after is not None or f != repo.EventFilter():
        return None
    count = _count_cache(app).get((run.id, f, key[1]))
    if count is None:
        return None
    desc = repo.default_descending(sort) if descending is None else descending
    rows = await reads.first_rows(run_id, sort, desc, limit, offset)
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = repo.encode_cursor(rows[-1], sort) if more and rows else None
    return _page_response(app, key, rows, cursor, count)


def _events_page(
    app,
    run_id: int,
    who: Identity,
    f: repo.EventFilter,
    regime: str | None,
    sort: str,
    descending: bool | None,
    limit: int,
    after: str | None,
    offset: int,
    engine=None,
    run=_UNREAD,
) -> tuple[bytes, dict[str, str]]:
    """The body (the JSON of ``list[EventOut]``, byte for byte) and headers of one page of events
    (read through ``engine``, default the app's; ``run``: its access row, when already read)."""
    with (engine or app.state.engine).connect() as conn:
        if run is _UNREAD:
            run = repo.run_access(conn, run_id)
        key, hit = _visible_cached_page(app, run_id, run, who, (f, regime, sort, descending, limit, after, offset))
        if hit is not None:
            return hit
        if regime is not None:
            with app.state.session_maker() as session:
                _, _, payload, _ = repo.load_run(session, run_id)
            f = dataclasses.replace(f, object_ids=repo.regime_ids(payload, regime))
        try:
            rows, cursor = repo.event_page_rows(conn, run_id, f, sort, descending, limit, after, offset)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        count = _event_count(app, conn, run, f)
    return _page_response(app, key, rows, cursor, count)


def _visible_cached_page(app, run_id: int, run, who: Identity, page: tuple) -> tuple[tuple | None, tuple | None]:
    """Ask the policy first (404 for a run ``who`` may not see, as for none), then the page cache:
    ``(key, hit)``, where ``key`` is the cache key of this page of a finished run (``None`` while the run
    is not done: not cached) and ``hit`` the cached ``(body, headers)`` or ``None``."""
    if run is None or not visible(run, who):  # a private run of another partner is indistinguishable from none
        raise HTTPException(404, f"no screening run {run_id}")
    version = run_version(run)
    if version is None:
        return None, None
    key = (run_id, version, *page)
    hit = _page_cache(app).get(key)
    return key, None if hit is None else (hit[0], dict(hit[1]))


def _page_response(app, key: tuple | None, rows, cursor: str | None, count: int) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a page, kept in the page cache under ``key`` (a finished run's)."""
    headers = {"X-Total-Count": str(count)}
    if cursor is not None:
        headers["X-Next-After"] = cursor
    body = events_json(rows)
    if key is not None:
        _page_cache(app).put(key, (body, dict(headers)), len(body))
    return body, headers


class PageCache:
    """Pages of finished runs' events (body and headers) that this process wrote, least recently used
    dropped first once they hold more than ``max_bytes``. A key holds the run's version
    (``run_version``, read on every request) and every parameter of
    the page, so a re-screened run is a miss, never a stale page; the run's visibility is asked
    before any lookup. A dashboard's first pages of a run are asked again and again by every viewer:
    those cost one cache lookup instead of a query and a JSON encoding (issue #18)."""

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple):
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            self._entries.move_to_end(key)
            return hit[0]

    def put(self, key: tuple, value: object, size: int) -> None:
        if size > self.max_bytes // 4:  # a few huge pages must not flush everything else
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped


def _page_cache(app) -> PageCache:
    cache = getattr(app.state, "event_page_cache", None)
    if cache is None:
        cache = app.state.event_page_cache = PageCache()
    return cache


def run_version(run) -> tuple | None:
    """What changes whenever a finished run's events change (``None`` while it is not ``done``): its
    creation time, catalog digest and event count, and its stats, whose ``updates`` counter every
    rewrite of its events (``screening_repo.replace_object_events``) raises, so that even an update
    that stores the same catalog (same events, new ids) is a new version. Read on every request, so
    a change made by any process (the CLI, a second server) is seen at the next request."""
    summary = _summary_version(run)
    return None if summary is None else (run.created_at, *summary)


def _event_count(app, conn, run, f: repo.EventFilter) -> int:
    """How many events of ``run`` pass ``f``: counted once per version of a finished run in this process
    (a count reads every matching index entry: ~1 ms for 5,000 events, ~30x that for a 160,000-event
    run; ``run_version``); a run that is not done is counted every time."""
    version = run_version(run)
    if version is None:
        return repo.count_events(conn, run.id, f)
    cache = _count_cache(app)
    key = (run.id, f, version)
    hit = cache.get(key)
    if hit is None:
        hit = repo.count_events(conn, run.id, f)
        cache.put(key, hit)
    return hit


def _count_cache(app) -> SummaryCache:
    cache = getattr(app.state, "event_count_cache", None)
    if cache is None:
        cache = app.state.event_count_cache = SummaryCache(size=1024)
    return cache


_EVENT_KEYS = repo.EVENT_LIST_COLUMNS  # EventOut's fields, in order (tests/test_events_fast_path.py checks)


def events_json(rows) -> bytes:
    """The JSON of ``list[EventOut]`` for rows of ``repo.EVENT_LIST_COLUMNS``, as ``EVENTS_JSON`` writes
    it (same keys, order, float text and ``InstantMs`` TCA; tests/test_events_fast_path.py compares
    them): orjson over plain dicts, without a model per row."""
    tca = _EVENT_KEYS.index("tca")
    out = []
    for row in rows:
        values = list(row)
        values[tca] = tca_text(values[tca])
        out.append(dict(zip(_EVENT_KEYS, values, strict=True)))
    return orjson.dumps(out)


def tca_text(t: datetime) -> str:
    """``format_utc(t, 3)`` (``InstantMs``), in about half its time for the UTC datetimes the database
    returns (``isoformat`` truncates to milliseconds as ``format_utc`` does); anything else goes
    through ``format_utc`` itself."""
    if t.tzinfo is UTC and t.year >= 1000:
        return t.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
    return format_utc(t, 3)


class BandCount(BaseModel):
    band: str
    count: int
    upper_km: float | None = None


class HourCount(BaseModel):
    hour: str = Field(examples=["2021-10-02T03:00:00Z"], description="the UTC hour of TCA")
    count: int
    under_1km: int


class ObjectCount(BaseModel):
    norad_id: int
    name: str
    events: int
    min_miss_km: float


class RunSummary(BaseModel):
    run_id: int
    n_events: int
    tca_first: Instant | None
    tca_last: Instant | None
    miss_bands: list[BandCount]
    pc_bands: list[BandCount]
    per_hour: list[HourCount]
    top_objects: list[ObjectCount]


@route(
    router,
    "GET",
    "/runs/{run_id}/summary",
    ("public",),
    response_model=RunSummary,
    summary="A run at a glance: events by miss-distance and Pc band, per hour of TCA, the objects in most events",
)
def run_summary(
    run_id: Id, request: Request, top: int = Query(10, ge=1, le=100), *, session: SessionDep, who: CallerDep
) -> RunSummary:
    run = _visible_run(session, run_id, who)  # the policy first: a cached summary is never a way round it
    cache = _summary_cache(request.app)
    version = _summary_version(run)
    if version is not None:
        hit = cache.get((run_id, top, version))
        if hit is not None:
            return hit
    summary = RunSummary(**repo.event_summary(session, run_id, top))
    if version is not None:
        cache.put((run_id, top, version), summary)
    return summary


class SummaryCache:
    """The last ``size`` run summaries computed by this process (least recently used goes first).

    A finished run's events change only through ``update`` (incremental re-screening), which
    rewrites the run's ``catalog_digest``, ``n_events`` and ``stats_json``: those, read from the
    database on every request, are part of the key, so an update made by any process (the CLI, a
    second server) is a miss here, never a stale summary. A run that is not ``done`` is not cached."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._entries: OrderedDict[tuple, RunSummary] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> RunSummary | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
            return hit

    def put(self, key: tuple, summary: RunSummary) -> None:
        with self._lock:
            self._entries[key] = summary
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def _summary_cache(app) -> SummaryCache:
    cache = getattr(app.state, "summary_cache", None)
    if cache is None:
        cache = app.state.summary_cache = SummaryCache()
    return cache


def _summary_version(run: ScreeningRun) -> tuple | None:
    """What changes when a finished run's events change; ``None`` while the run is not finished."""
    if run.status != "done":
        return None
    stats = hashlib.sha256((run.stats_json or "").encode()).hexdigest()
    return (run.n_events, run.catalog_digest, stats)


@route(
    router,
    "GET",
    "/runs/{run_id}/events/{event_id}",
    ("public",),
    response_model=EventOut,
    summary="One event of a run (a dashboard link to an event not on the listed page)",
)
def run_event(run_id: Id, event_id: Id, session: SessionDep, who: CallerDep) -> EventOut:
    _visible_run(session, run_id, who)
    ev = session.get(ConjunctionEvent, event_id)
    if ev is None or ev.run_id != run_id:
        raise HTTPException(404, f"no event {event_id} in run {run_id}")
    return EventOut.model_validate(ev, from_attributes=True)


@route(
    router,
    "GET",
    "/runs/{run_id}/events/{event_id}/cdm",
    ("public",),
    summary="The event's CCSDS CDM (KVN or XML)",
    responses={200: {"content": {"text/plain": {}, "application/xml": {}}}},
)
def event_cdm(
    run_id: Id,
    event_id: Id,
    format: str = Query("kvn", pattern="^(kvn|xml)$"),
    *,
    session: SessionDep,
    who: CallerDep,
    clock: ClockDep,
) -> Response:
    from ..cdm import write_kvn, write_xml
    from ..workflows.cdm_export import run_event_cdms

    _visible_run(session, run_id, who)
    created = as_utc(clock())
    for _event, cdm in run_event_cdms(session, run_id, created, event_id=event_id):
        text = write_kvn(cdm) if format == "kvn" else write_xml(cdm)
        return Response(text, media_type="text/plain" if format == "kvn" else "application/xml")
    raise HTTPException(404, f"no event {event_id} in run {run_id}")


@route(
    router,
    "GET",
    "/runs/{run_id}/events/{event_id}/czml",
    ("public",),
    summary="CZML of both objects' trajectories +- 45 min around TCA (ITRF, for CesiumJS)",
)
def event_czml(run_id: Id, event_id: Id, session: SessionDep, who: CallerDep) -> list:
    from .czml import conjunction_czml

    _visible_run(session, run_id, who)
    ev = session.get(ConjunctionEvent, event_id)
    if ev is None or ev.run_id != run_id:
        raise HTTPException(404, f"no event {event_id} in run {run_id}")
    _, _, payload, _ = repo.load_run(session, run_id)
    sats = payload.satrecs()
    index = {nid: i for i, nid in enumerate(payload.norad_ids)}
    objects = [(ev.id1, ev.name1, sats[index[ev.id1]]), (ev.id2, ev.name2, sats[index[ev.id2]])]
    return conjunction_czml(ev.tca, objects)
