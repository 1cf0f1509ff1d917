"""The feed's sequence numbers under concurrent writers (issue #17, PostgreSQL race): every
change gets a number of its own, and numbers become visible in the order they were given, so a
mirror paging with ``after`` never passes a number that commits later. Run on SQLite and, with
``SPACECOMMONS_TEST_PG_URL``, on PostgreSQL (where ``max(feed_seq) + 1`` gave two concurrent
writers the same number). The expected values are the invariant itself: the numbers visible to
any reader at any moment are exactly 1..max, each once. Waits are on states (a writer seen
waiting for the lock in ``pg_stat_activity``), each with a bound for a hung server."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from spacecommons.storage import (
    federation_repo,  # noqa: F401 (registers the numbering hook)
    make_engine,
    partners_repo,
    session_factory,
    upgrade,
)
from spacecommons.storage.tables import Mission, Payload, Product

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def db(backend_url):
    engine = make_engine(backend_url)
    upgrade(engine)
    maker = session_factory(engine)
    with maker.begin() as s:
        owner = partners_repo.create_partner(s, "Owner", T0)
        m = Mission(owner_partner_id=owner.id, name="LRO", kind="orbiter", proprietary_days=0, public_after_days=0)
        s.add(m)
        s.flush()
        pl = Payload(mission_id=m.id, name="CAM", instrument="LROC", owner_partner_id=owner.id)
        s.add(pl)
        s.flush()
        ids = (owner.id, pl.id)
    yield engine, maker, ids
    engine.dispose()


def _product(ids, lid: str) -> Product:
    owner_id, payload_id = ids
    return Product(
        lid=lid,
        vid="1.0",
        title=lid,
        payload_id=payload_id,
        owner_partner_id=owner_id,
        licence="CC-BY-4.0",
        metadata_json="{}",
        ingested_at=T0,
    )


def _visible(maker) -> list[int]:
    with maker() as s:
        return list(s.scalars(select(Product.feed_seq).where(Product.feed_seq.is_not(None)).order_by(Product.feed_seq)))


def test_concurrent_writers_get_distinct_numbers_visible_in_order(db):
    engine, maker, ids = db
    errors: list[BaseException] = []
    snapshots: list[list[int]] = []
    stop = threading.Event()

    def writer(w: int) -> None:
        try:
            for i in range(5):
                with maker.begin() as s:
                    s.add(_product(ids, f"urn:test:w{w}:p{i}"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    def reader() -> None:
        while not stop.is_set():
            snapshots.append(_visible(maker))

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)]
    r = threading.Thread(target=reader)
    r.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    stop.set()
    r.join(120)
    assert not errors, errors
    final = _visible(maker)
    assert final == list(range(1, 31))  # 30 changes, 30 numbers, each once
    for seen in snapshots:  # at every moment a reader saw a prefix: nothing it passed commits later
        assert seen == list(range(1, len(seen) + 1)), seen


def test_a_second_writer_waits_for_the_first_ones_commit(db, backend_url):
    """PostgreSQL: writer 1 holds number N uncommitted; writer 2 waits (seen in pg_stat_activity)
    instead of taking N or N+1 ahead of it; a reader meanwhile sees neither; after writer 1's
    commit, writer 2 gets N+1."""
    if not backend_url.startswith("postgresql"):
        pytest.skip("SQLite serializes writers with its database lock (the first test covers it)")
    engine, maker, ids = db
    first = maker()
    first.begin()
    p1 = _product(ids, "urn:test:first")
    first.add(p1)
    first.flush()
    n = p1.feed_seq
    pid = first.execute(text("select pg_backend_pid()")).scalar_one()
    got: dict = {}

    def second() -> None:
        with maker.begin() as s:
            p2 = _product(ids, "urn:test:second")
            s.add(p2)
            s.flush()
            got["seq"] = p2.feed_seq

    t = threading.Thread(target=second)
    t.start()
    try:
        deadline = time.monotonic() + 60  # bound for a hung server; the wait is on the state
        blocked = False
        while time.monotonic() < deadline and not blocked:
            with engine.connect() as c:
                blocked = bool(
                    c.execute(
                        text(
                            "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
                            " and :pid = ANY(pg_blocking_pids(pid))"
                        ),
                        {"pid": pid},
                    ).scalar_one()
                )
        assert blocked and "seq" not in got
        assert n not in _visible(maker) and n + 1 not in _visible(maker)
        first.commit()
    finally:
        first.close()
        t.join(60)
    assert got["seq"] == n + 1
    assert _visible(maker)[-2:] == [n, n + 1]
