"""Reads a server makes on its event loop over PostgreSQL: a few psycopg async connections in
autocommit mode, without a thread hop, a pool pre-ping or a rollback on return (issue #18).

Through the engine's pool, each per-request read of the events list (the key revocation watermark,
the run's access columns) cost a worker-thread hop, a pre-ping round trip, the query and a rollback
round trip; here it costs the query alone. The statements are the storage layer's own SQLAlchemy
Core statements, compiled once for the engine's dialect, and each column's result processor is
applied, so a row equals the one the engine returns (tests/test_loop_reads.py). Autocommit: every
statement is its own transaction, so no transaction is ever held across a network wait."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Engine

from . import partners_repo
from . import screening_repo as repo

LOOP_CONNECTIONS = 8  # per server process: enough to keep 2 cores busy; the rest wait on the loop


class _Statement:
    """A Core ``select`` compiled once for a dialect: its SQL text and a row maker that applies each
    column's result processor (``UTCDateTime`` -> aware UTC) and gives attribute access by name."""

    def __init__(self, stmt, dialect) -> None:
        compiled = stmt.compile(dialect=dialect)
        self.sql = compiled.string
        columns = list(stmt.selected_columns)
        names = [c.key if c.key and not c.key.startswith("_") else f"c{i}" for i, c in enumerate(columns)]
        self.row_type = NamedTuple("Row", [(n, Any) for n in names])  # type: ignore[misc]
        procs = [c.type.result_processor(dialect, None) for c in columns]
        self.procs: list[Callable | None] = procs if any(procs) else []

    def row(self, values: tuple) -> tuple:
        if self.procs:
            values = tuple(v if p is None else p(v) for v, p in zip(values, self.procs, strict=True))
        return self.row_type(*values)


class LoopReads:
    """At most ``size`` psycopg ``AsyncConnection`` s (autocommit) for reads on a server's event loop.

    A request takes an idle connection, or opens one while fewer than ``size`` are open, or waits
    on the loop for one to come back. A connection that fails (the server restarted, a request
    cancelled mid-query) is dropped, and a read that failed on a connection that was already open
    is tried once more on a new one: what ``pool_pre_ping`` gives the engine, without a ping per
    checkout (a failure on an open connection drops the idle ones too, as a restart made them stale)."""

    def __init__(self, engine: Engine, size: int = LOOP_CONNECTIONS) -> None:
        self.dialect = engine.dialect
        cargs, cparams = engine.dialect.create_connect_args(engine.url)
        self._connect_args = (tuple(cargs), dict(cparams))
        self.size = size
        self._idle: deque = deque()
        self._open = 0
        self._waiters: deque[asyncio.Future] = deque()
        self._lock = threading.Lock()  # a test client may run requests on loops in other threads
        self._mark = _Statement(partners_repo._REVOCATION_MARK, self.dialect)
        self._access = _Statement(repo._RUN_ACCESS, self.dialect)

    @staticmethod
    def for_engine(engine: Engine) -> LoopReads | None:
        """Loop reads for ``engine`` where its driver is psycopg (PostgreSQL), else ``None``."""
        return LoopReads(engine) if engine.dialect.driver == "psycopg" else None

    async def _acquire(self):
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
            if self._open < self.size:
                self._open += 1
                waiter = None
            else:
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
        if waiter is not None:
            try:
                return await waiter, True
            except asyncio.CancelledError:  # handed a connection (or a slot) just before the cancel
                if waiter.done() and not waiter.cancelled():
                    self._hand_back(waiter.result())
                raise
        try:
            return await self._new(), False
        except BaseException:
            self._forget()
            raise

    async def _new(self):
        import psycopg

        cargs, cparams = self._connect_args
        return await psycopg.AsyncConnection.connect(*cargs, **cparams, autocommit=True)

    def _forget(self) -> None:
        """One connection fewer is open: a waiter, if any, opens its own."""
        with self._lock:
            self._open -= 1
            waiter = self._pop_waiter()
            if waiter is not None:
                self._open += 1
        if waiter is not None:
            self._resolve(waiter, None)

    def _pop_waiter(self) -> asyncio.Future | None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                return waiter
        return None

    def _release(self, conn, discard: bool = False) -> None:
        from psycopg.pq import TransactionStatus

        if discard or conn.closed or conn.broken or conn.info.transaction_status != TransactionStatus.IDLE:
            try:
                conn.pgconn.finish()
            finally:
                self._forget()
            return
        with self._lock:
            waiter = self._pop_waiter()
            if waiter is None:
                self._idle.append(conn)
        if waiter is not None:
            self._resolve(waiter, conn)

    def _drop_idle(self) -> None:
        with self._lock:
            idle, self._idle = list(self._idle), deque()
        for conn in idle:
            conn.pgconn.finish()
            self._forget()

    def _hand_back(self, conn) -> None:
        """A connection (or, ``None``, a slot to open one) that its waiter can no longer take."""
        if conn is None:
            self._forget()
        else:
            self._release(conn)

    def _resolve(self, waiter: asyncio.Future, value) -> None:
        """Give ``value`` to ``waiter`` on its own loop; back to the pool if it was cancelled meanwhile."""

        def give() -> None:
            if waiter.done():
                self._hand_back(value)
            else:
                waiter.set_result(value)

        loop = waiter.get_loop()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            give()
        else:
            loop.call_soon_threadsafe(give)

    async def _fetch(self, st: _Statement, params: dict | None, many: bool):
        for attempt in (0, 1):
            conn, reused = await self._acquire()
            if conn is None:  # a connection slot was handed over: open a new one
                try:
                    conn, reused = await self._new(), False
                except BaseException:
                    self._forget()
                    raise
            failed = True
            try:
                cur = await conn.execute(st.sql, params, prepare=True)
                rows = await (cur.fetchall() if many else cur.fetchone())
                failed = False
            except Exception as exc:
                import psycopg

                if attempt == 0 and reused and isinstance(exc, psycopg.OperationalError):
                    self._drop_idle()  # the server restarted, or dropped it: the idle ones are as stale
                    continue  # once more, on a new connection
                raise
            finally:
                self._release(conn, discard=failed)  # a connection that failed (or was cancelled) is not reused
            if many:
                return [st.row(r) for r in rows]
            return None if rows is None else st.row(rows)
        raise AssertionError("unreachable")

    async def revocation_mark(self) -> tuple[int, int]:
        """``partners_repo.revocation_mark``, read on the loop."""
        count, top = await self._fetch(self._mark, None, many=False)
        return int(count or 0), int(top or 0)

    async def run_access(self, run_id: int):
        """``screening_repo.run_access``: the run's access columns (attribute access), or ``None``."""
        return await self._fetch(self._access, {"run_id": run_id}, many=False)

    async def first_rows(self, run_id: int, sort: str, descending: bool, limit: int, offset: int) -> list:
        """``screening_repo.event_page_rows`` without filters and without a cursor: ``limit + 1`` rows
        of ``EVENT_LIST_COLUMNS`` from ``offset`` (the caller cuts the extra row and encodes the cursor)."""
        st = _page_statement(self.dialect, sort, descending)
        return await self._fetch(st, {"run_id": run_id, "limit": limit + 1, "offset": offset}, many=True)

    async def close(self) -> None:
        """Close the idle connections (those in use close when they come back, if the loop is gone)."""
        with self._lock:
            idle, self._idle = list(self._idle), deque()
            self._open -= len(idle)
        for conn in idle:
            await conn.close()


@lru_cache(maxsize=32)
def _page_statement(dialect, sort: str, descending: bool) -> _Statement:
    return _Statement(repo._unfiltered_page_statement(sort, descending, False), dialect)
