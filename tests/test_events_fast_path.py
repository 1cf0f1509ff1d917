"""The events list's fast path (issue #18 target 5) answers exactly what the ORM path answered: for
every sort, order, filter, keyset and offset page, the body is byte for byte the JSON that
``EVENTS_JSON`` (pydantic-core over ``list[EventOut]``, what FastAPI writes for the route's
``response_model``) makes of ``screening_repo.event_page``'s ORM rows, and ``X-Total-Count`` /
``X-Next-After`` are ``count_events`` and ``event_page``'s cursor. The expected values are computed
here by that independent (slower) path on the same stored rows. The per-process caches (run access,
count, pages) follow every change a run can go through; a page served from the cache is the page.
Runs on both backends (SQLite; PostgreSQL under `make test`)."""

from __future__ import annotations

import json
import random
import warnings
from datetime import UTC, datetime, timedelta, timezone

import pytest

from .conftest import SAMPLE

T0 = datetime(2026, 11, 25, tzinfo=UTC)
IRIDIUM = SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt"
NAMES = ('IRIDIUM 33 DEB "A"', "COSMOS 2251 DEB \\ back", "ÉTOILE – 衛星 🚀", "NUL\x01CTRL\u2028", "/slash/")


def _events(run_id: int, payload, n: int):
    """Rows with the values that stress a JSON writer: Pc none, tiny, huge-exponent and ties; miss 0.0;
    names with quotes, backslashes, non-ASCII and control characters; TCAs whose microseconds must be
    truncated (never rounded) to milliseconds."""
    from spacecommons.storage.tables import ConjunctionEvent

    rng = random.Random(18)
    ids = list(payload.norad_ids)
    out = []
    for k in range(n):
        us = (999_999, 0, 999, 1_000, 500_500)[k % 5] if k < 40 else rng.randrange(1_000_000)
        out.append(
            ConjunctionEvent(
                run_id=run_id,
                id1=ids[k % len(ids)],
                name1=NAMES[k % len(NAMES)],
                id2=ids[(5 * k + 1) % len(ids)],
                name2=NAMES[(k + 2) % len(NAMES)] + str(k),
                tca=datetime(2021, 10, 2, k % 24, (7 * k) % 60, (11 * k) % 60, us, tzinfo=UTC),
                miss_km=(0.0, 1e-9, 4.999999999999999, 1 / 3)[k % 4] if k < 20 else rng.uniform(0, 10),
                speed_km_s=rng.choice((0.0, 7.5, 14.999)),
                r_km=rng.uniform(-5, 5),
                t_km=-rng.expovariate(1.0),
                n_km=rng.uniform(-1e-12, 1e-12),
                kind=("crossing", "co-located", "synthetic")[k % 3],
                n_minima=k % 4,
                pc=(None, 1e-300, 3.0e-8, 1e-4, 0.5, 1e-4)[k % 6],
                pc_method=None if k % 6 == 0 else ("2D Foster", "max Pc")[k % 2],
            )
        )
    return out


@pytest.fixture(scope="module")
def service(backend_url):
    """The Iridium 33 debris sample as a stored run (no screening: its events are written here),
    public, finished, 157 events; an analyst key."""
    from spacecommons.catalog import read_elements
    from spacecommons.conjunction import ScreeningParams
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.service import create_app
    from spacecommons.storage import partners_repo
    from spacecommons.storage.tables import ScreeningRun
    from spacecommons.timescales import iso_to_jd
    from spacecommons.workflows.screening import create_run

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient
    app = create_app(backend_url, rate_per_second=1000.0, rate_burst=100000)
    payload = CatalogPayload.from_elements(read_elements(IRIDIUM).records)
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    with app.state.session_maker.begin() as s:
        run_id = create_run(s, payload, ScreeningParams(jd, fr, 1.0, 10.0), T0, visibility="public")
        s.add_all(_events(run_id, payload, 157))
        run = s.get(ScreeningRun, run_id)
        run.status, run.n_events = "done", 157
        partners_repo.create_partner(s, "fastpath", T0)
        key = partners_repo.issue_key(s, partners_repo.add_member(s, "fastpath", "a", "analyst", T0).id, T0)
    client = TestClient(app, headers={"X-API-Key": key})
    yield app, client, run_id
    app.state.engine.dispose()


def _reference(app, run_id: int, query: dict) -> tuple[bytes, str, str | None]:
    """Body, X-Total-Count and X-Next-After the ORM path gives for ``query`` (the route's parameters)."""
    from spacecommons.service.screening_routes import EVENTS_JSON
    from spacecommons.storage import screening_repo as repo

    with app.state.session_maker() as s:
        object_ids = None
        if "regime" in query:
            _, _, payload, _ = repo.load_run(s, run_id)
            object_ids = repo.regime_ids(payload, query["regime"])
        parse = lambda k: datetime.fromisoformat(query[k]) if k in query else None  # noqa: E731
        f = repo.EventFilter(
            query.get("max_miss_km"),
            query.get("min_pc"),
            query.get("norad_id"),
            query.get("name"),
            parse("tca_from"),
            parse("tca_to"),
            object_ids,
        )
        order = query.get("order")
        rows, cursor = repo.event_page(
            s,
            run_id,
            f,
            query.get("sort", "miss_km"),
            None if order is None else order == "desc",
            query.get("limit", 100),
            query.get("after"),
            query.get("offset", 0),
        )
        body = EVENTS_JSON.dump_json(EVENTS_JSON.validate_python(rows, from_attributes=True))
        return body, str(repo.count_events(s, run_id, f)), cursor


QUERIES = [
    {},
    {"limit": 7},
    {"sort": "tca", "limit": 13},
    {"sort": "tca", "order": "desc", "limit": 13, "offset": 20},
    {"sort": "pc", "limit": 9},
    {"sort": "pc", "order": "asc", "limit": 9},
    {"sort": "speed_km_s", "order": "desc", "limit": 5000},
    {"max_miss_km": 2.5, "limit": 11},
    {"min_pc": 1e-5, "sort": "pc"},
    {"name": "衛星", "limit": 4},
    {"norad_id": "first", "sort": "tca"},
    {"name": 'DEB "A"'},
    {"tca_from": "2021-10-02T03:00:00+00:00", "tca_to": "2021-10-02T09:30:00+00:00", "sort": "tca"},
    {"regime": "LEO", "limit": 10},
    {"limit": 1, "offset": 156},
    {"limit": 3, "offset": 400},
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()) or "default")
def test_pages_are_the_orm_paths_bytes_and_headers(service, query):
    app, client, run_id = service
    if query.get("norad_id") == "first":  # an object of the stored run, known once it is stored
        query = {**query, "norad_id": client.get(f"/api/v1/screening/runs/{run_id}/events").json()[0]["id1"]}
    r = client.get(f"/api/v1/screening/runs/{run_id}/events", params=query)
    assert r.status_code == 200, r.text
    body, total, cursor = _reference(app, run_id, query)
    assert r.content == body
    assert r.headers["x-total-count"] == total
    assert r.headers.get("x-next-after") == cursor
    assert r.headers["content-type"] == "application/json"
    assert ("link" in r.headers) == (cursor is not None)
    again = client.get(f"/api/v1/screening/runs/{run_id}/events", params=query)  # from the page cache
    assert again.content == r.content
    assert {k: v for k, v in again.headers.items() if k != "date"} == {
        k: v for k, v in r.headers.items() if k != "date"
    }


@pytest.mark.parametrize(("sort", "order"), [("miss_km", None), ("tca", "desc"), ("pc", None), ("pc", "asc")])
def test_every_keyset_page_is_the_orm_paths_page(service, sort, order):
    """Following X-Next-After through a whole run: each page equals the ORM path's page for the same
    cursor, with and without a filter (the unfiltered statement is built once, the filtered per request)."""
    app, client, run_id = service
    for extra in ({}, {"max_miss_km": 6.0}):
        query = {"sort": sort, "limit": 17, **extra, **({"order": order} if order else {})}
        seen, pages = [], 0
        while True:
            r = client.get(f"/api/v1/screening/runs/{run_id}/events", params=query)
            body, total, cursor = _reference(app, run_id, query)
            assert (r.content, r.headers["x-total-count"], r.headers.get("x-next-after")) == (body, total, cursor)
            seen += [e["id"] for e in r.json()]
            pages += 1
            if cursor is None:
                break
            query = {**query, "after": cursor}
        assert len(seen) == len(set(seen)) == int(total) and pages == -(-int(total) // 17)


def test_fields_and_columns_agree():
    from spacecommons.service.screening_routes import EventOut
    from spacecommons.storage.screening_repo import EVENT_LIST_COLUMNS

    assert tuple(EventOut.model_fields) == EVENT_LIST_COLUMNS


def test_tca_text_is_format_utc():
    """``tca_text`` against ``timescales.format_utc(t, 3)`` (the ``InstantMs`` writer) on random
    instants, microsecond edges, other zones and years the fast form does not take."""
    from spacecommons.service.screening_routes import tca_text
    from spacecommons.timescales import format_utc

    rng = random.Random(5)
    times = [datetime(2021, 10, 2, 3, 4, 5, us, tzinfo=UTC) for us in (0, 999, 1000, 999_999, 500_500)]
    times += [datetime(1957, 10, 4, tzinfo=UTC) + timedelta(seconds=rng.uniform(0, 4e9)) for _ in range(2000)]
    times += [datetime(2021, 10, 2, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=-5)))]
    times += [datetime(999, 1, 1, tzinfo=UTC), datetime(1000, 1, 1, 0, 0, 0, 1, tzinfo=UTC)]
    assert [tca_text(t) for t in times] == [format_utc(t, 3) for t in times]


def test_count_and_access_follow_the_run(service):
    """A finished run's cached count and access row are used only while its stamp (created_at, status,
    catalog digest) is unchanged: a re-screening that rewrites its events and digest, and a run back
    in 'running', are read afresh; a run that does not exist is a 404 whatever was cached."""
    from sqlalchemy import delete, update

    from spacecommons.storage.tables import ConjunctionEvent, ScreeningRun

    app, client, run_id = service
    url = f"/api/v1/screening/runs/{run_id}/events"
    first = client.get(url, params={"max_miss_km": 3.0})
    assert first.status_code == 200
    n_under_3 = int(first.headers["x-total-count"])
    with app.state.session_maker.begin() as s:
        (old_digest,) = s.execute(
            update(ScreeningRun)
            .where(ScreeningRun.id == run_id)
            .values(status="running")
            .returning(ScreeningRun.catalog_digest)
        ).one()
        victims = [
            e.id for e in s.query(ConjunctionEvent).filter_by(run_id=run_id).filter(ConjunctionEvent.miss_km <= 3.0)
        ]
        s.execute(delete(ConjunctionEvent).where(ConjunctionEvent.id == victims[0]))
    running = client.get(url, params={"max_miss_km": 3.0})
    assert running.headers["x-total-count"] == str(n_under_3 - 1)
    with app.state.session_maker.begin() as s:  # an update finishes: new digest, new count
        s.execute(
            update(ScreeningRun)
            .where(ScreeningRun.id == run_id)
            .values(status="done", n_events=156, catalog_digest="f" * 64)
        )
    done = client.get(url, params={"max_miss_km": 3.0})
    assert done.headers["x-total-count"] == str(n_under_3 - 1)
    assert json.loads(done.content) == json.loads(_reference(app, run_id, {"max_miss_km": 3.0})[0])
    with app.state.session_maker.begin() as s:
        s.execute(update(ScreeningRun).where(ScreeningRun.id == run_id).values(catalog_digest=old_digest))
    assert client.get(f"/api/v1/screening/runs/{run_id + 1000}/events").status_code == 404


def test_an_update_that_stores_the_same_catalog_is_a_new_page(service):
    """``replace_object_events`` with the run's own catalog, twice (a partner re-submitting the same
    element sets): each rewrite is a new ``run_version`` (the stats' update counter; the second stores
    exactly what the first did), and the page, count and cursor are the rows stored after it."""
    from spacecommons.conjunction.events import ConjunctionEvents
    from spacecommons.service.screening_routes import run_version
    from spacecommons.storage import screening_repo as repo

    app, client, run_id = service
    url = f"/api/v1/screening/runs/{run_id}/events"
    before = client.get(url, params={"limit": 20})
    gone = before.json()[0]["id1"]
    versions = set()
    for _ in range(2):  # the second update stores exactly what the first did
        with app.state.session_maker.begin() as s:
            _, _, payload, _ = repo.load_run(s, run_id)
            repo.replace_object_events(s, run_id, payload, (gone,), ConjunctionEvents(), {"objects": 1})
            versions.add(run_version(repo.run_access(s, run_id)))
        page = client.get(url, params={"limit": 20})
        body, total, cursor = _reference(app, run_id, {"limit": 20})
        assert (page.content, page.headers["x-total-count"], page.headers.get("x-next-after")) == (body, total, cursor)
        assert gone not in {e["id1"] for e in page.json()} | {e["id2"] for e in page.json()}
    assert len(versions) == 2 and None not in versions
