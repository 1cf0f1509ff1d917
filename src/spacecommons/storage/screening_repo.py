"""Screening runs: parameters and input catalog, finished chunks (for resume), events."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import repeat
from operator import attrgetter
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import and_, bindparam, case, delete, func, insert, or_, select, union, union_all, update
from sqlalchemy.orm import Session

from ..constants import MINUTES_PER_DAY
from ..timescales import parse_utc
from .tables import (
    PC_SORT_KEY,
    ConjunctionEvent,
    ScreeningCatalogUpdate,
    ScreeningChunk,
    ScreeningMismatch,
    ScreeningRun,
    ScreeningRunCatalog,
)

if TYPE_CHECKING:  # importing the conjunction package loads numba and the engine: ~1 s of a light CLI command
    from sqlalchemy import Connection, Row

    from ..conjunction.catalog_payload import CatalogPayload
    from ..conjunction.events import ConjunctionEvents
    from ..conjunction.params import ChunkResult, ScreeningParams


def _catalog_row(run_id: int, payload: CatalogPayload) -> ScreeningRunCatalog:
    """A run's input catalog as stored (``screening_run_catalogs``): ids and names in one JSON text,
    element sets in another. orjson, not json: 0.012 s instead of 0.052 s for the 2022 catalog; json
    for what orjson refuses (a lone surrogate in a name that came through a JSON escape)."""
    names = _dumps({"norad_ids": payload.norad_ids, "names": payload.names})
    return ScreeningRunCatalog(run_id=run_id, names_json=names, texts_json=_dumps(payload.texts))


def _dumps(value) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value)


def _loads(text: str):
    try:  # 4 MB for the 2022 catalog: orjson 3.7x faster than json.loads
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # what orjson refuses and json reads: a lone surrogate's escape
        return json.loads(text)


def create_run(session: Session, params: ScreeningParams, payload: CatalogPayload, created_at: datetime) -> int:
    run = ScreeningRun(
        created_at=created_at,
        status="running",
        params_json=params.to_json(),
        catalog_digest=payload.digest,
        catalog_json="",  # the catalog is the run's screening_run_catalogs row, out of this one
        n_objects=len(payload),
        n_chunks=len(params.chunks()),
    )
    session.add(run)
    session.flush()
    session.add(_catalog_row(run.id, payload))
    session.flush()
    return run.id


def load_run(
    session: Session, run_id: int, *, chunks: bool = True
) -> tuple[ScreeningRun, ScreeningParams, CatalogPayload, dict[int, ChunkResult]]:
    """A stored run with its parameters, input catalog and the chunks already done (``chunks`` False:
    none read, an empty dict: an update of a done run does not need the chunks' minima, whose JSON
    a run keeps for resuming)."""
    from ..conjunction.params import ChunkResult, ScreeningParams

    run = session.get(ScreeningRun, run_id)
    if run is None:
        raise KeyError(f"no screening run {run_id}")
    payload = run_catalog(session, run)
    done = {}
    if chunks:
        done = {
            c.index: ChunkResult.from_json(c.result_json)
            for c in session.scalars(select(ScreeningChunk).where(ScreeningChunk.run_id == run_id))
        }
    return run, ScreeningParams.from_json(run.params_json), payload, done


def run_catalog(session: Session, run: ScreeningRun) -> CatalogPayload:
    """A run's input catalog as it stands: the catalog it was created with (``screening_run_catalogs``)
    with the objects its incremental updates changed or added (``screening_catalog_updates``) in their
    places, sorted by catalog number as ``CatalogPayload.updated_with`` builds it. Its digest is the
    stored ``catalog_digest`` (written with every update), not hashed again. The one reader of a run's
    stored catalog; :func:`run_catalog_names` reads its ids and names."""
    from ..conjunction.catalog_payload import CatalogPayload

    ids, names, texts = _stored_catalog(session, run.id, with_texts=True)
    payload = CatalogPayload(tuple(ids), tuple(names), tuple(tuple(t) if isinstance(t, list) else t for t in texts))
    if run.catalog_digest:
        payload.__dict__["digest"] = run.catalog_digest  # the cached_property's slot
    return payload


def run_catalog_names(session: Session, run: ScreeningRun) -> tuple[list[int], list[str]]:
    """The catalog numbers and names of a run's input catalog as it stands (:func:`run_catalog`),
    without reading its element sets: what the CLI's failure listing and the service's automatic
    re-screening (does a run contain an object?) need."""
    ids, names, _ = _stored_catalog(session, run.id, with_texts=False)
    return ids, names


def _stored_catalog(session: Session, run_id: int, with_texts: bool) -> tuple[list, list, list]:
    """Ids, names and (``with_texts``) JSON-decoded texts of the run's catalog row with its update
    rows in their places: a replaced id at its position, an added one inserted in catalog-number order
    (a list insertion moves pointers in C: ~240 insertions into 24k entries take well under 1 ms). A
    run without a catalog row (one written by hand: tests, tools) has an empty catalog."""
    c = ScreeningRunCatalog
    columns = (c.names_json, c.texts_json) if with_texts else (c.names_json,)
    row = session.execute(select(*columns).where(c.run_id == run_id)).first()
    cat = _loads(row[0]) if row is not None else {}
    ids, names = list(cat.get("norad_ids", ())), list(cat.get("names", ()))
    texts = list(_loads(row[1])) if with_texts and row is not None else []
    u = ScreeningCatalogUpdate
    columns = (u.norad_id, u.name, u.text) if with_texts else (u.norad_id, u.name)
    rows = session.execute(select(*columns).where(u.run_id == run_id).order_by(u.norad_id))
    for row in rows:
        nid = row[0]
        i = bisect_left(ids, nid)
        if i < len(ids) and ids[i] == nid:
            names[i] = _loads(row[1])
            if with_texts:
                texts[i] = _loads(row[2])
        else:
            ids.insert(i, nid)
            names.insert(i, _loads(row[1]))
            if with_texts:
                texts.insert(i, _loads(row[2]))
    return ids, names, texts


def save_chunk(session: Session, run_id: int, chunk: ChunkResult) -> None:
    session.merge(ScreeningChunk(run_id=run_id, index=chunk.index, result_json=chunk.to_json()))


def save_mismatch(session: Session, run_id: int, index: int, catalog_digest: str, mismatch) -> None:
    """Keep chunk ``index``'s per-object velocity mismatch (km/s, the order of the catalog whose digest
    is ``catalog_digest``) for incremental updates (``load_mismatch``)."""
    data = _mismatch_bytes(mismatch)
    session.merge(ScreeningMismatch(run_id=run_id, chunk_index=index, catalog_digest=catalog_digest, mismatch=data))


def _mismatch_bytes(mismatch) -> bytes:
    """A chunk's per-object mismatch as stored: little-endian float64 (``load_mismatch`` reads it)."""
    import numpy as np

    return np.ascontiguousarray(mismatch, dtype="<f8").tobytes()


def load_mismatch(session: Session, run_id: int, catalog_digest: str, n_objects: int) -> dict:
    """{chunk index: per-object mismatch (n_objects,) float64, NaN where not computed} of the rows kept
    for the catalog ``catalog_digest``; rows of another catalog (stale) or length are left out."""
    import numpy as np

    rows = session.execute(
        select(ScreeningMismatch.chunk_index, ScreeningMismatch.catalog_digest, ScreeningMismatch.mismatch).where(
            ScreeningMismatch.run_id == run_id
        )
    )
    out = {}
    for index, digest, data in rows:
        if digest == catalog_digest and len(data) == 8 * n_objects:
            out[int(index)] = np.frombuffer(data, dtype="<f8").astype(float)
    return out


def set_status(session: Session, run_id: int, status: str, message: str | None = None) -> None:
    run = session.get(ScreeningRun, run_id)
    run.status = status
    run.message = message


def set_owner(session: Session, run_id: int, owner_partner_id: int | None, visibility: str | None) -> None:
    """Who started a run through the API and who may see it (``None`` visibility keeps the default)."""
    run = session.get(ScreeningRun, run_id)
    run.owner_partner_id = owner_partner_id
    if visibility is not None:
        run.visibility = visibility


def finish_run(session: Session, run_id: int, events: ConjunctionEvents, stats: dict, failures: dict) -> None:
    """Store the events (replacing any earlier ones of this run) and mark the run done (alerts are
    raised by ``workflows.screening``, which calls this)."""
    session.execute(delete(ConjunctionEvent).where(ConjunctionEvent.run_id == run_id))
    insert_events(session, run_id, events)
    run = session.get(ScreeningRun, run_id)
    run.status = "done"
    run.n_events = len(events)
    run.stats_json = json.dumps({"stats": stats, "sgp4_failures": {str(k): v for k, v in failures.items()}})
    run.message = None
    session.flush()


def replace_object_events(
    session: Session,
    run_id: int,
    payload: CatalogPayload,
    updated: tuple[int, ...],
    events: ConjunctionEvents,
    stats: dict,
    mismatch: dict | None = None,
    catalog_before: CatalogPayload | None = None,
) -> int:
    """Incremental re-screening: the run's events involving ``updated`` objects replaced by
    ``events`` (which involve only them), its input catalog made ``payload`` by storing the objects
    of ``updated`` and those whose name alone changed (their rows in ``screening_catalog_updates``;
    ``run_catalog`` reads them back in place), with ``payload``'s digest and size; returns the run's
    new event count. ``payload``'s other element sets must be the run's catalog's as it stood (the
    run's catalog row is not rewritten: a whole-catalog run's is 4 MB). Stored chunks (for resuming)
    no longer describe the run and are removed; the kept velocity mismatch is replaced by
    ``mismatch`` ({chunk: (n,) in ``payload``'s order}), or removed when it is None. ``catalog_before``: the
    run's catalog as the caller read it (``run_catalog``), to find the renamed objects without reading
    the stored names again."""
    ids = [int(n) for n in updated]
    ev = ConjunctionEvent
    run = session.get(ScreeningRun, run_id)
    before = run.n_events
    gone = session.execute(delete(ev).where(ev.id.in_(_involving(ev.id, run_id, ids)))).rowcount
    insert_events(session, run_id, events)
    session.execute(delete(ScreeningChunk).where(ScreeningChunk.run_id == run_id))
    session.execute(delete(ScreeningMismatch).where(ScreeningMismatch.run_id == run_id))
    if mismatch:  # the rows were deleted just above: one plain INSERT, not an ORM merge (a SELECT) each
        rows = [
            {
                "run_id": run_id,
                "chunk_index": index,
                "catalog_digest": payload.digest,
                "mismatch": _mismatch_bytes(values),
            }
            for index, values in mismatch.items()
        ]
        session.execute(insert(ScreeningMismatch), rows)
    # the run's catalog: its catalog row stays; the rows of the updated objects and of those renamed
    # replace their update rows (one DELETE, one executemany)
    if catalog_before is None:
        old_ids, old_names, _ = _stored_catalog(session, run_id, with_texts=False)
    else:
        old_ids, old_names = catalog_before.norad_ids, catalog_before.names
    stored = ids + _renamed(old_ids, old_names, payload, set(ids))
    u = ScreeningCatalogUpdate
    session.execute(delete(u).where(u.run_id == run_id, u.norad_id.in_(stored)))
    if stored:
        session.execute(insert(u), _update_rows(run_id, payload, stored))
    run.catalog_digest = payload.digest
    run.n_objects = len(payload)
    if before is None or gone is None or gone < 0:  # a driver without a row count: count them
        run.n_events = session.query(ev).filter(ev.run_id == run_id).count()
    else:  # the run's count, less the rows deleted, plus the rows inserted (a COUNT walks the run's index)
        run.n_events = before - gone + len(events)
    old = json.loads(run.stats_json) if run.stats_json else {}
    # "updates" counts the rewrites of the run's events: part of the version the service caches pages
    # under (screening_routes.run_version), which must change even when an update stores the same catalog
    updates = int(old.get("updates", 0)) + 1
    run.stats_json = json.dumps({**old, "updates": updates, "last_update": {"objects": len(ids), **stats}})
    session.flush()
    return run.n_events


def _involving(column, run_id: int, ids: list[int], *where):
    """``column`` of the run's events (matching ``where``) with either object in ``ids``: a UNION of two
    searches, through the indexes on (run, id1) and (run, id2), one per object in each (SQLite plans the
    plain OR of the two lists as a walk over every event of the run)."""
    ev = ConjunctionEvent
    return union(
        select(column).where(ev.run_id == run_id, *where, ev.id1.in_(ids)),
        select(column).where(ev.run_id == run_id, *where, ev.id2.in_(ids)),
    )


def colocated_groups(session: Session, run_id: int, ids: set[int] | tuple[int, ...]) -> list[set[int]]:
    """The run's stored co-located groups with a member in ``ids``, as sets of catalog numbers. A
    group's rows each join a member to its lowest catalog number (``conjunction.colocated``), so the
    groups are the rows whose ``id1`` is the first of a row that names one of ``ids`` (``_involving``)."""
    from ..conjunction.colocated import KIND

    ev = ConjunctionEvent
    co = ev.kind == KIND
    firsts = _involving(ev.id1, run_id, sorted(ids), co)
    groups: dict[int, set[int]] = {}
    for first, member in session.execute(select(ev.id1, ev.id2).where(ev.run_id == run_id, co, ev.id1.in_(firsts))):
        groups.setdefault(int(first), {int(first)}).add(int(member))
    return list(groups.values())


def _renamed(ids, names, payload: CatalogPayload, skip: set[int]) -> list[int]:
    """The catalog numbers, not in ``skip``, that the run's catalog (its ``ids`` and ``names``) names
    otherwise than ``payload`` does (an update file that renames an object whose element set is
    unchanged)."""
    if tuple(ids) == payload.norad_ids:
        if tuple(names) == payload.names:  # the common case, compared in C
            return []
        pairs = zip(ids, names, payload.names, strict=True)
        return [nid for nid, old, new in pairs if old != new and nid not in skip]
    old = dict(zip(ids, names, strict=True))
    return [
        int(nid)
        for nid, new in zip(payload.norad_ids, payload.names, strict=True)
        if nid in old and old[nid] != new and nid not in skip
    ]


def _update_rows(run_id: int, payload: CatalogPayload, ids: list[int]) -> list[dict]:
    """The ``screening_catalog_updates`` rows of ``ids``, their names and element sets as ``payload``
    (sorted by catalog number) holds them, JSON as the run's catalog row holds an entry."""
    norad_ids = payload.norad_ids
    rows = []
    for nid in map(int, ids):  # plain ints: a driver binds no numpy integer
        i = bisect_left(norad_ids, nid)
        if i == len(norad_ids) or norad_ids[i] != nid:
            raise ValueError(f"updated object {nid} is not in the run's new catalog")
        rows.append(
            {"run_id": run_id, "norad_id": nid, "name": _dumps(payload.names[i]), "text": _dumps(payload.texts[i])}
        )
    return rows


# --- storing a run's events in bulk (issue #18: 10.9 s for 161,778 events of a 7-day run) -----------
#
# The ORM's bulk INSERT spent most of that in Python per row: a dict per event, three ISO texts parsed
# into datetimes that the SQLite dialect then formats back into text, parameter processing per row and
# ORM bookkeeping (benchmarks/README.md, "e2e2"). The rows now go to the driver as plain tuples: on
# SQLite one ``executemany`` of the DB-API cursor with the times already in the dialect's stored text;
# on PostgreSQL one ``COPY ... FROM STDIN`` (psycopg 3). Both in the caller's transaction.

_EVENT_COLUMNS = (
    "run_id",
    "id1",
    "name1",
    "id2",
    "name2",
    "tca",
    "miss_km",
    "speed_km_s",
    "r_km",
    "t_km",
    "n_km",
    "kind",
    "span_start",
    "span_end",
    "n_minima",
)
_EVENT_VALUES = attrgetter(*_EVENT_COLUMNS[1:])  # an event's values in conjunction.events.COLUMNS order
# The text ``build_events`` writes (milliseconds, Z), and the same instant as SQLAlchemy's SQLite DateTime
# stores it (naive UTC, microseconds): only the separator and the zone change.
_ISO_MS_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
SQLITE_BULK_CACHE_KIB = 131072
"""Page cache (KiB) of the connection while it inserts a run's events: the (run_id, miss_km) index is
filled in random order, and with SQLite's default 2 MB cache each insertion past a few 10^4 rows reads
and writes back index pages (0.5-0.7 s of CPU less for 160k events, measured); restored afterwards."""


def insert_events(session: Session | Connection, run_id: int, events: ConjunctionEvents) -> None:
    """Insert a run's events in one bulk statement of the driver (executemany on SQLite, COPY on
    PostgreSQL, Core executemany elsewhere), inside the caller's transaction, in the events' order
    (their ids are one ascending range: ``_whole_run``). The stored values are those the ORM stored."""
    rows = list(map(_EVENT_VALUES, events))  # any sequence of events (ConjunctionEvents or a list)
    if not rows:
        return
    conn = session.connection() if isinstance(session, Session) else session
    table = ConjunctionEvent.__table__
    dialect = conn.dialect
    if dialect.name == "sqlite" and dialect.driver == "pysqlite":
        to_text = _sqlite_time_text(table.c.tca.type.dialect_impl(dialect).bind_processor(dialect))
        # column by column (C-level transposes; one text conversion per distinct span text), not a
        # Python tuple per row: 0.8 -> 0.3 s of the 7-day run's 161,785 rows
        cols = list(zip(*rows, strict=True))
        cols[4] = list(map(to_text, cols[4]))
        for c in (11, 12):  # span start / end: "" for every encounter, a few distinct texts otherwise
            texts = {t: to_text(t) for t in set(cols[c])}
            cols[c] = list(map(texts.__getitem__, cols[c]))
        values = list(zip(repeat(run_id, len(rows)), *cols, strict=True))
        cur = conn.connection.driver_connection.cursor()
        (cache,) = cur.execute("PRAGMA cache_size").fetchone()
        cur.execute(f"PRAGMA cache_size=-{SQLITE_BULK_CACHE_KIB}")
        try:
            marks = ", ".join("?" * len(_EVENT_COLUMNS))
            cur.executemany(f"INSERT INTO conjunction_events ({', '.join(_EVENT_COLUMNS)}) VALUES ({marks})", values)
        finally:
            cur.execute(f"PRAGMA cache_size={int(cache)}")
            cur.close()
        return
    values = [(run_id, *r[:4], _instant(r[4]), *r[5:11], _instant(r[11]), _instant(r[12]), r[13]) for r in rows]
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY conjunction_events ({', '.join(_EVENT_COLUMNS)}) FROM STDIN") as cp:
            for v in values:
                cp.write_row(v)
        return
    conn.execute(insert(table), [dict(zip(_EVENT_COLUMNS, v, strict=True)) for v in values])


def _instant(text: str) -> datetime | None:
    return parse_utc(text) if text else None


def _sqlite_time_text(bind):
    """ISO text (or "" for no time) -> the value SQLAlchemy's UTCDateTime binds on SQLite (``bind``,
    its bind processor): rewritten directly for the text ``build_events`` writes, through ``bind``
    otherwise (same result; tests/test_screen_store.py checks both against each other)."""
    match = _ISO_MS_Z.fullmatch

    def to_text(text: str) -> str | None:
        if not text:
            return None
        if match(text):
            return f"{text[:10]} {text[11:23]}000"
        return bind(_instant(text))

    return to_text


def list_runs(session: Session) -> list[ScreeningRun]:
    return list(session.scalars(select(ScreeningRun).order_by(ScreeningRun.id.desc())))


def run_events(
    session: Session, run_id: int, limit: int | None = None, event_id: int | None = None
) -> list[ConjunctionEvent]:
    """A run's events, closest first (or the one ``event_id`` of that run)."""
    q = select(ConjunctionEvent).where(ConjunctionEvent.run_id == run_id).order_by(ConjunctionEvent.miss_km)
    if event_id is not None:
        q = q.where(ConjunctionEvent.id == event_id)
    if limit:
        q = q.limit(limit)
    return list(session.scalars(q))


def mark_orphaned_runs(session: Session) -> None:
    """Runs started through the API that are still ``running`` lost their server process: they become
    ``interrupted`` (finished chunks kept), resumable from the CLI."""
    session.execute(
        update(ScreeningRun)
        .where(ScreeningRun.status == "running", ScreeningRun.owner_partner_id.is_not(None))
        .values(
            status="interrupted",
            message="the server stopped during the run; resume with `spacecommons screen --resume <id>`",
        )
    )


# --- the events of a run page by page (the dashboard, the API) ------------------------------------
#
# Keyset pagination (Winand, "Use The Index, Luke", ch. 7 "Paging through results"): the next page
# starts after the last row of the page before, ``(sort value, id) > (v, i)`` in the sort order, so
# the database seeks in the index (run_id, miss_km) or (run_id, tca) — on SQLite the id rides in
# every index as the rowid — instead of reading and dropping ``offset`` rows. Offset pagination
# stays for old clients and returns the same rows (tests/test_dashboard_api.py checks it).

EVENT_SORTS = ("miss_km", "tca", "pc", "speed_km_s")
MISS_BANDS_KM = (0.1, 1.0, 2.0, 5.0)  # upper bounds; the last band is "at least 5 km"
# Pc bands: 1e-4 is the usual maneuver threshold, 1e-7 the usual floor of reporting (NASA CARA,
# NASA Spacecraft Conjunction Assessment and Collision Avoidance Best Practices Handbook, 2023, s. 6.1)
PC_BANDS = (1e-7, 1e-5, 1e-4)


@dataclass(frozen=True)
class EventFilter:
    """Which events of a run: every field optional (``None``: no condition)."""

    max_miss_km: float | None = None
    min_pc: float | None = None
    norad_id: int | None = None
    name: str | None = None  # a part of either object's name, any case
    tca_from: datetime | None = None
    tca_to: datetime | None = None
    object_ids: frozenset[int] | None = None  # events with either object in this set (a regime)


def _sort_column(sort: str):
    if sort not in EVENT_SORTS:
        raise ValueError(f"sort must be one of {', '.join(EVENT_SORTS)}")
    if sort == "pc":
        return PC_SORT_KEY  # no Pc sorts below every Pc, on every backend; indexed (tables.py)
    return getattr(ConjunctionEvent, sort)


def default_descending(sort: str) -> bool:
    """Pc sorts highest first; miss distance, time and speed lowest first."""
    return sort == "pc"


def _filtered(run_id: int, f: EventFilter):
    q = select(ConjunctionEvent).where(ConjunctionEvent.run_id == run_id)
    if f.max_miss_km is not None:
        q = q.where(ConjunctionEvent.miss_km <= f.max_miss_km)
    if f.min_pc is not None:
        q = q.where(ConjunctionEvent.pc >= f.min_pc)
    if f.norad_id is not None:
        q = q.where(or_(ConjunctionEvent.id1 == f.norad_id, ConjunctionEvent.id2 == f.norad_id))
    if f.name:
        pattern = "%" + f.name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        q = q.where(
            or_(ConjunctionEvent.name1.ilike(pattern, escape="\\"), ConjunctionEvent.name2.ilike(pattern, escape="\\"))
        )
    if f.tca_from is not None:
        q = q.where(ConjunctionEvent.tca >= f.tca_from)
    if f.tca_to is not None:
        q = q.where(ConjunctionEvent.tca <= f.tca_to)
    if f.object_ids is not None:
        ids = sorted(f.object_ids)
        q = q.where(or_(ConjunctionEvent.id1.in_(ids), ConjunctionEvent.id2.in_(ids)))
    return q


def encode_cursor(event: ConjunctionEvent, sort: str) -> str:
    """The opaque ``after`` of the page that follows ``event`` (URL-safe base64 of JSON)."""
    value = (
        event.tca.isoformat()
        if sort == "tca"
        else (-1.0 if event.pc is None else event.pc)
        if sort == "pc"
        else getattr(event, sort)
    )
    return base64.urlsafe_b64encode(json.dumps([sort, value, event.id]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[object, int]:
    """``(sort value, id)`` of an ``after`` cursor; ValueError when it was not made for ``sort``."""
    try:
        made_for, value, event_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if made_for != sort:
            raise ValueError
        if sort == "tca":
            value = parse_utc(value)
        elif not isinstance(value, int | float):
            raise ValueError
        if not isinstance(event_id, int):
            raise ValueError
    except (ValueError, TypeError, AttributeError, binascii.Error):
        raise ValueError(f"the cursor {cursor[:40]!r} is not one this server gave for sort={sort}") from None
    return value, event_id


def _page_query(f: EventFilter, run_id, sort: str, desc: bool, keyset: tuple | None):
    """The filtered, keyset-restricted (``keyset``: the decoded ``after``, ``(sort value, id)``), ordered
    query of :func:`event_page`, before limit and offset. ``run_id`` and the keyset may be bound
    parameters (:func:`_unfiltered_page_statement`)."""
    column = _sort_column(sort)
    q = _filtered(run_id, f)
    if keyset is not None:
        value, last_id = keyset
        if desc:
            q = q.where(or_(column < value, and_(column == value, ConjunctionEvent.id > last_id)))
        else:
            q = q.where(or_(column > value, and_(column == value, ConjunctionEvent.id > last_id)))
    order = (column.desc() if desc else column.asc(), ConjunctionEvent.id.asc())  # ties: by id, as before
    return q.order_by(*order)


def event_page(
    session: Session,
    run_id: int,
    f: EventFilter = EventFilter(),
    sort: str = "miss_km",
    descending: bool | None = None,
    limit: int = 100,
    after: str | None = None,
    offset: int = 0,
) -> tuple[list[ConjunctionEvent], str | None]:
    """One page of a run's events in ``sort`` order (ties by ascending id) and the cursor of the next page
    (``None`` on the last page). ``after`` (keyset) or ``offset`` (old clients) says where it starts."""
    desc = default_descending(sort) if descending is None else descending
    keyset = decode_cursor(after, sort) if after is not None else None
    q = _page_query(f, run_id, sort, desc, keyset)
    rows = list(session.scalars(q.limit(limit + 1).offset(offset)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1], sort) if more and rows else None


EVENT_LIST_COLUMNS = (
    "id",
    "id1",
    "name1",
    "id2",
    "name2",
    "tca",
    "miss_km",
    "speed_km_s",
    "r_km",
    "t_km",
    "n_km",
    "kind",
    "n_minima",
    "pc",
    "pc_method",
)
"""The columns of an event in a list (the API's ``EventOut``), in its field order."""


def event_page_rows(
    conn: Connection | Session,
    run_id: int,
    f: EventFilter = EventFilter(),
    sort: str = "miss_km",
    descending: bool | None = None,
    limit: int = 100,
    after: str | None = None,
    offset: int = 0,
) -> tuple[list[Row], str | None]:
    """:func:`event_page` as rows of :data:`EVENT_LIST_COLUMNS` only (no ORM objects, no span columns):
    the same query, order, limit and cursor, for the service's events list (benchmarks/api_load.py).
    Without filters the statement is one built once (:func:`_unfiltered_page_statement`)."""
    desc = default_descending(sort) if descending is None else descending
    keyset = decode_cursor(after, sort) if after is not None else None
    if f == EventFilter():
        params = {"run_id": run_id, "limit": limit + 1, "offset": offset}
        if keyset is not None:
            params["after_value"], params["after_id"] = keyset
        rows = list(conn.execute(_unfiltered_page_statement(sort, desc, keyset is not None), params))
    else:
        q = _page_query(f, run_id, sort, desc, keyset).with_only_columns(*_list_columns())
        rows = list(conn.execute(q.limit(limit + 1).offset(offset)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1], sort) if more and rows else None


def _list_columns() -> list:
    return [ConjunctionEvent.__table__.c[name] for name in EVENT_LIST_COLUMNS]


@lru_cache(maxsize=16)
def _unfiltered_page_statement(sort: str, desc: bool, keyset: bool):
    """:func:`_page_query` without filters, its values as bound parameters (``run_id``, ``limit``,
    ``offset``, and with ``keyset`` ``after_value`` and ``after_id``): one statement object per sort,
    order and keyset, whose cache key SQLAlchemy computes once, where a statement built per request
    costs its construction and a cache-key walk every time."""
    value = bindparam("after_value")
    marks = (value, bindparam("after_id")) if keyset else None
    q = _page_query(EventFilter(), bindparam("run_id"), sort, desc, marks).with_only_columns(*_list_columns())
    return q.limit(bindparam("limit")).offset(bindparam("offset"))


_c = ScreeningRun.__table__.c
_RUN_ACCESS = select(
    _c.id, _c.created_at, _c.status, _c.catalog_digest, _c.visibility, _c.owner_partner_id, _c.n_events, _c.stats_json
).where(_c.id == bindparam("run_id"))
del _c


def run_access(conn: Connection | Session, run_id: int) -> Row | None:
    """The columns of a run that say who may see it and whether its events changed (``id``,
    ``created_at``, ``status``, ``catalog_digest``, ``visibility``, ``owner_partner_id``, ``n_events``,
    ``stats_json``), without its stored catalog (megabytes for a whole-catalog run); ``None`` when
    there is no such run."""
    return conn.execute(_RUN_ACCESS, {"run_id": run_id}).first()


def count_events(session: Session | Connection, run_id: int, f: EventFilter = EventFilter()) -> int:
    """How many events of the run pass the filter."""
    inner = _filtered(run_id, f).with_only_columns(ConjunctionEvent.id).subquery()
    return session.scalar(select(func.count()).select_from(inner))


def _hour(session: Session):
    """The UTC hour of an event's TCA as a sortable key, in the backend's own SQL."""
    if session.get_bind().dialect.name == "sqlite":
        return func.substr(ConjunctionEvent.tca, 1, 13)  # 'YYYY-MM-DD HH' of the stored UTC text
    return func.to_char(func.timezone("UTC", ConjunctionEvent.tca), "YYYY-MM-DD HH24")


def _whole_run(session: Session, run_id: int):
    """The condition that selects all events of a run for a pass over every one of them.

    A run's events are inserted together (``finish_run``), so their ids form one range: reading
    that range of the table in id order is sequential, where following the (run_id, ...) indexes
    reads the rows in index order, at random, several times slower on SQLite once the table is
    larger than its page cache. ``run_id + 0`` keeps the planner off those indexes; rows of other
    runs inside the range (runs finished at the same time) are still excluded by it."""
    E = ConjunctionEvent
    lo, hi = session.execute(select(func.min(E.id), func.max(E.id)).where(E.run_id == run_id)).one()
    if lo is None:
        return E.run_id == run_id
    return and_(E.id >= lo, E.id <= hi, (E.run_id + 0) == run_id)


def event_summary(session: Session, run_id: int, top: int = 10) -> dict:
    """Counts of a run's events by miss-distance band and Pc band, per hour of TCA, and the objects
    in most events — each one aggregate query in the database, whatever the number of events."""
    E = ConjunctionEvent
    in_run = _whole_run(session, run_id)
    miss_edges = (0.0, *MISS_BANDS_KM)
    miss_cols = [
        func.sum(case((and_(E.miss_km >= lo, E.miss_km < hi), 1), else_=0))
        for lo, hi in zip(miss_edges, MISS_BANDS_KM, strict=False)
    ] + [func.sum(case((E.miss_km >= MISS_BANDS_KM[-1], 1), else_=0))]
    pc_edges = (0.0, *PC_BANDS)
    pc_cols = (
        [func.sum(case((E.pc.is_(None), 1), else_=0))]
        + [
            func.sum(case((and_(E.pc >= lo, E.pc < hi), 1), else_=0))
            for lo, hi in zip(pc_edges, PC_BANDS, strict=False)
        ]
        + [func.sum(case((E.pc >= PC_BANDS[-1], 1), else_=0))]
    )
    counts = session.execute(
        select(func.count(), func.min(E.tca), func.max(E.tca), *miss_cols, *pc_cols).where(in_run)
    ).one()
    total, first, last = counts[0], counts[1], counts[2]
    miss = [int(v or 0) for v in counts[3 : 3 + len(miss_cols)]]
    pc = [int(v or 0) for v in counts[3 + len(miss_cols) :]]
    hour = _hour(session).label("hour")
    per_hour = session.execute(
        select(hour, func.count(), func.sum(case((E.miss_km < 1.0, 1), else_=0)))
        .where(in_run)
        .group_by(hour)
        .order_by(hour)
    ).all()
    both = union_all(
        select(E.id1.label("norad_id"), E.name1.label("name"), E.miss_km).where(in_run),
        select(E.id2.label("norad_id"), E.name2.label("name"), E.miss_km).where(in_run),
    ).subquery()
    n = func.count().label("n")
    objects = session.execute(
        select(both.c.norad_id, func.max(both.c.name), n, func.min(both.c.miss_km))
        .group_by(both.c.norad_id)
        .order_by(n.desc(), both.c.norad_id)
        .limit(top)
    ).all()
    miss_labels = ["< 0.1 km", "0.1–1 km", "1–2 km", "2–5 km", "≥ 5 km"]
    pc_labels = ["no Pc", "< 1e-7", "1e-7–1e-5", "1e-5–1e-4", "≥ 1e-4"]
    return {
        "run_id": run_id,
        "n_events": int(total),
        "tca_first": first,
        "tca_last": last,
        "miss_bands": [
            {"band": b, "upper_km": u, "count": c}
            for b, u, c in zip(miss_labels, (*MISS_BANDS_KM, None), miss, strict=True)
        ],
        "pc_bands": [{"band": b, "count": c} for b, c in zip(pc_labels, pc, strict=True)],
        "per_hour": [
            {"hour": f"{h[:10]}T{h[11:13]}:00:00Z", "count": int(c), "under_1km": int(u or 0)} for h, c, u in per_hour
        ],
        "top_objects": [
            {"norad_id": int(i), "name": name, "events": int(c), "min_miss_km": float(m)} for i, name, c, m in objects
        ],
    }


REGIMES = ("LEO", "MEO", "GEO", "HEO")  # catalog.elements.OrbitRegime


def regime_ids(payload: CatalogPayload, regime: str) -> frozenset[int]:
    """The catalog numbers of a run's input catalog whose orbit lies in ``regime``, by the
    project's one definition (``catalog.elements.orbit_regime`` of the SGP4 mean elements)."""
    from ..catalog.elements import orbit_regime

    if regime not in REGIMES:
        raise ValueError(f"regime must be one of {', '.join(REGIMES)}")
    per_day = MINUTES_PER_DAY / (2.0 * math.pi)  # rad/min -> rev/day
    return frozenset(
        nid
        for nid, sat in zip(payload.norad_ids, payload.satrecs(), strict=True)
        if orbit_regime(sat.no_kozai * per_day, sat.ecco) == regime
    )
