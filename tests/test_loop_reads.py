"""The event loop's own PostgreSQL reads (``storage.loop_reads``, issue #18 target 5) return what the
engine returns for the same statements: the expected values are read here through the engine's
SQLAlchemy Core path (``partners_repo.revocation_mark``, ``screening_repo.run_access`` and
``event_page_rows``) on the same rows. A key revoked elsewhere (another process: here a session of
the database outside the app) is refused by the next request; a connection the server dropped and a
read cancelled mid-wait leave the reads working. Runs on both backends (on SQLite there are no loop
reads: the checks that need them are PostgreSQL's; PostgreSQL under `make test`)."""

from __future__ import annotations

import asyncio
import warnings
from datetime import UTC, datetime

import pytest

from .test_events_fast_path import IRIDIUM, T0, _events

SORTS = [("miss_km", False), ("tca", True), ("pc", True), ("pc", False), ("speed_km_s", False)]


@pytest.fixture(scope="module")
def stored(backend_url):
    """The Iridium 33 debris sample as a finished run with 157 events (the fast-path tests' rows); an
    analyst key; the app on that database."""
    from spacecommons.catalog import read_elements
    from spacecommons.conjunction import ScreeningParams
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.service import create_app
    from spacecommons.storage import partners_repo
    from spacecommons.storage.tables import ScreeningRun
    from spacecommons.timescales import iso_to_jd
    from spacecommons.workflows.screening import create_run

    app = create_app(backend_url, rate_per_second=1000.0, rate_burst=100000)
    payload = CatalogPayload.from_elements(read_elements(IRIDIUM).records)
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    with app.state.session_maker.begin() as s:
        run_id = create_run(s, payload, ScreeningParams(jd, fr, 1.0, 10.0), T0, visibility="partners")
        s.add_all(_events(run_id, payload, 157))
        run = s.get(ScreeningRun, run_id)
        run.status, run.n_events = "done", 157
        partners_repo.create_partner(s, "loopreads", T0)
        key = partners_repo.issue_key(s, partners_repo.add_member(s, "loopreads", "a", "analyst", T0).id, T0)
    yield app, run_id, key
    app.state.engine.dispose()


def _reads(app):
    reads = app.state.loop_reads
    if app.state.engine.dialect.name == "sqlite":
        assert reads is None  # SQLite reads on the loop through its own connection (app.state.loop_engine)
        pytest.skip("loop reads are PostgreSQL's")
    return reads


def test_rows_equal_the_engines(stored):
    from spacecommons.storage import partners_repo
    from spacecommons.storage import screening_repo as repo

    app, run_id, _ = stored
    reads = _reads(app)

    async def loop_side():
        pages = {
            (sort, desc, offset): await reads.first_rows(run_id, sort, desc, 10, offset)
            for sort, desc in SORTS
            for offset in (0, 33, 150)
        }
        return await reads.revocation_mark(), await reads.run_access(run_id), await reads.run_access(10**9), pages

    mark, access, missing, pages = asyncio.run(loop_side())
    with app.state.engine.connect() as conn:
        assert mark == partners_repo.revocation_mark(conn)
        expected = repo.run_access(conn, run_id)
        assert tuple(access) == tuple(expected)
        assert access._fields == tuple(expected._fields)
        assert access.created_at == T0 and access.created_at.tzinfo is UTC  # UTCDateTime's processor ran
        assert missing is None
        for (sort, desc, offset), rows in pages.items():
            want, _ = repo.event_page_rows(conn, run_id, repo.EventFilter(), sort, desc, 10, None, offset)
            extra, _ = repo.event_page_rows(conn, run_id, repo.EventFilter(), sort, desc, 11, None, offset)
            assert [tuple(r) for r in rows] == [tuple(r) for r in extra]  # limit + 1 rows: the caller cuts
            assert [tuple(r) for r in rows[:10]] == [tuple(r) for r in want]
            assert all(r.tca.tzinfo is UTC for r in rows)
            if len(rows) > 10:  # the cursor made from a loop row is the engine row's
                assert repo.encode_cursor(rows[9], sort) == repo.encode_cursor(want[-1], sort)


def test_a_key_revoked_elsewhere_is_refused_by_the_next_request(stored):
    """The watermark is read per request: a revocation committed outside this app (the CLI, another
    server) is seen at once, even while the key's verification is cached."""
    from spacecommons.storage import partners_repo
    from spacecommons.storage.engine import make_engine, session_factory

    app, run_id, _ = stored
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient
    with app.state.session_maker.begin() as s:
        key = partners_repo.issue_key(s, partners_repo.add_member(s, "loopreads", "r", "analyst", T0).id, T0)
    url = f"/api/v1/screening/runs/{run_id}/events?limit=5"
    with TestClient(app, headers={"X-API-Key": key}) as client:
        assert client.get(url).status_code == 200
        assert client.get(url).status_code == 200  # cached key, cached page
        other = make_engine(app.state.engine.url.render_as_string(hide_password=False))
        with session_factory(other).begin() as s:
            assert partners_repo.revoke_key(s, key.split("_")[1], datetime(2026, 11, 26, tzinfo=UTC))
        other.dispose()
        assert client.get(url).status_code == 401
        assert client.get(f"/api/v1/screening/runs/{run_id}").status_code == 401


def test_private_run_is_a_404_for_another_partner_on_the_loop(stored):
    """The policy runs before the page cache on the loop path: a partners-only run answers 200 to a
    partner's key and, once its pages are cached, still 404 to an anonymous caller and to a run made
    private to another partner."""
    from spacecommons.storage import partners_repo
    from spacecommons.storage.tables import ScreeningRun

    app, run_id, key = stored
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient
    url = f"/api/v1/screening/runs/{run_id}/events?limit=4"
    with TestClient(app) as client:
        assert client.get(url, headers={"X-API-Key": key}).status_code == 200
        assert client.get(url).status_code == 404  # anonymous: partners-only run
        with app.state.session_maker.begin() as s:
            owner = partners_repo.create_partner(s, "owner", T0)
            s.flush()
            run = s.get(ScreeningRun, run_id)
            run.visibility, run.owner_partner_id = "private", owner.id
        assert client.get(url, headers={"X-API-Key": key}).status_code == 404
        with app.state.session_maker.begin() as s:
            run = s.get(ScreeningRun, run_id)
            run.visibility, run.owner_partner_id = "partners", None
        assert client.get(url, headers={"X-API-Key": key}).status_code == 200


def test_a_dropped_connection_and_a_cancelled_read_leave_the_reads_working(stored):
    from sqlalchemy import text

    app, run_id, _ = stored
    reads = _reads(app)

    async def scenario():
        await asyncio.gather(*(reads.run_access(run_id) for _ in range(reads.size)))  # all connections open
        assert len(reads._idle) == reads.size
        pids = [c.info.backend_pid for c in reads._idle]
        with app.state.engine.connect() as conn:  # the server drops them (as a restart would)
            for pid in pids:
                conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        await asyncio.sleep(0)
        for _ in range(reads.size + 2):  # the first fails once, is retried on a new one; the stale go
            assert (await reads.run_access(run_id)).id == run_id
        # more readers than connections, half of them cancelled while they wait or read
        tasks = [asyncio.ensure_future(reads.first_rows(run_id, "tca", False, 50, k)) for k in range(3 * reads.size)]
        await asyncio.sleep(0)
        for t in tasks[::2]:
            t.cancel()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(len(r) == 51 for r in done[1::2])
        assert await reads.revocation_mark() is not None
        assert reads._open <= reads.size and not reads._waiters or all(w.done() for w in reads._waiters)
        await reads.close()
        assert reads._open == 0

    asyncio.run(scenario())
