"""Migration 0009 (timestamps as UTC instants) on a database made by the schema before it: upgrade
to 0008, write rows with timestamps in every form the old writers produced, upgrade to head, and
read instants back through the tables, on SQLite and on PostgreSQL.

The old forms and their writers (the code before 0009): ``cli/common.now_iso`` and
``service/app._utc_now`` wrote ``%Y-%m-%dT%H:%M:%S.%fZ``; conjunction TCA and spans came from
``timescales.jd_to_iso(.., digits=3)`` (milliseconds, ``""`` for an event without a span);
``exchange.policy.release_dates`` wrote ``%Y-%m-%dT%H:%M:%SZ``; release dates set through the API
were stored as the partner sent them; PDS4 start/stop were the label's text. The expected instants
are written out by hand from ISO 8601 (an offset is subtracted; a value without one is UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from spacecommons.storage import make_engine, session_factory, upgrade
from spacecommons.storage.engine import MIGRATIONS
from spacecommons.storage.tables import (
    AccessDecision,
    AccessRequest,
    Alert,
    ApiKey,
    AuditEntry,
    ConjunctionEvent,
    ElementSetRow,
    Member,
    Partner,
    Product,
    ProductFile,
    ScreeningRun,
    SmallBodyOrbitRow,
    WatchEntry,
    Webhook,
    WebhookDelivery,
)

CLOCK = "2026-11-25T10:20:30.123456Z"  # now_iso / _utc_now
CLOCK_T = datetime(2026, 11, 25, 10, 20, 30, 123456, tzinfo=UTC)
TCA = "2021-10-02T03:14:15.926Z"  # jd_to_iso(digits=3)
TCA_T = datetime(2021, 10, 2, 3, 14, 15, 926000, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    """A new empty database for each test: a SQLite file, or a new database on the PostgreSQL server
    of ``SPACECOMMONS_TEST_PG_URL`` (skipped without one)."""
    import os
    import uuid

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    admin = os.environ.get("SPACECOMMONS_TEST_PG_URL")
    if not admin:
        pytest.skip("no PostgreSQL server: run the suite with `make test` (or set SPACECOMMONS_TEST_PG_URL)")
    from sqlalchemy.engine import make_url

    name = f"sc_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _insert(conn, table: str, **values) -> None:
    cols = ", ".join(f'"{k}"' for k in values)
    conn.execute(sa.text(f'INSERT INTO "{table}" ({cols}) VALUES ({", ".join(":" + k for k in values)})'), values)


def _old_database(url: str):
    engine = make_engine(url)
    upgrade(engine, "0008")
    with engine.begin() as c:
        _insert(c, "partners", id=1, name="P", created_at=CLOCK)
        _insert(c, "members", id=1, partner_id=1, name="m", role="operator", created_at=CLOCK)
        _insert(c, "api_keys", id=1, member_id=1, prefix="abcd", key_hash="h", created_at=CLOCK, revoked_at=None)
        _insert(c, "api_keys", id=2, member_id=1, prefix="efgh", key_hash="h", created_at=CLOCK, revoked_at=CLOCK)
        _insert(c, "audit_log", id=1, at=CLOCK, method="POST", path="/api/v1/x", status=201)
        _insert(c, "space_objects", norad_id=25544, name="ISS", object_id="1998-067A")
        element_set = dict(epoch_jd=2461000.5, epoch_fr=0.25, digest="d", format="tle", source="s", source_line=1)
        _insert(
            c,
            "element_sets",
            id=1,
            norad_id=25544,
            epoch="2026-01-01T06:00:00.000000",
            **element_set,
            fields_json="{}",
            original="x",
            loaded_at=CLOCK,
        )
        run = dict(status="done", params_json="{}", catalog_digest="d", catalog_json="{}", n_objects=2, n_chunks=1)
        _insert(c, "screening_runs", id=1, created_at=CLOCK, **run)
        event = dict(
            run_id=1,
            id1=1,
            name1="A",
            id2=2,
            name2="B",
            miss_km=1.0,
            speed_km_s=10.0,
            r_km=0.0,
            t_km=0.0,
            n_km=1.0,
            n_minima=1,
        )
        _insert(c, "conjunction_events", id=1, tca=TCA, kind="encounter", span_start="", span_end="", **event)
        _insert(
            c,
            "conjunction_events",
            id=2,
            tca="2021-10-02T05:00:00.000Z",
            kind="proximity",
            span_start="2021-10-02T04:59:00.500Z",
            span_end="2021-10-02T05:01:00.000Z",
            **event,
        )
        _insert(
            c,
            "small_body_orbits",
            id=1,
            designation="99942",
            orbit_id="1",
            epoch_jd_tdb=2461000.5,
            digest="d",
            source="s",
            source_line=1,
            orbit_json="{}",
            loaded_at=CLOCK,
        )
        _insert(c, "watch_entries", id=1, partner_id=1, norad_id=1, max_miss_km=5.0, created_at=CLOCK)
        _insert(c, "webhooks", id=1, partner_id=1, url="http://x", secret="s" * 16, created_at=CLOCK)
        _insert(
            c,
            "alerts",
            id=1,
            partner_id=1,
            run_id=1,
            event_id=1,
            norad_id=1,
            other_id=2,
            tca=TCA,
            miss_km=1.0,
            created_at=CLOCK,
            status="pending",
            attempts=0,
            next_attempt_at=0.0,
        )
        _insert(c, "webhook_deliveries", id=1, alert_id=1, webhook_id=1, attempt=1, at=CLOCK)
        _insert(
            c, "missions", id=1, name="L1", kind="lander", owner_partner_id=1, proprietary_days=30, public_after_days=30
        )
        _insert(c, "payloads", id=1, mission_id=1, name="CAM", instrument="cam", owner_partner_id=1, status="operating")
        product = dict(payload_id=1, owner_partner_id=1, title="t", licence="CC-BY-4.0", metadata_json="{}")
        # computed release dates (release_dates), a PDS4 label with 6 decimals
        _insert(
            c,
            "products",
            id=1,
            lid="urn:x:1",
            vid="1.0",
            **product,
            ingested_at=CLOCK,
            start="2009-07-19T00:00:26.423000Z",
            stop="2009-07-19T00:01:17.707000Z",
            partners_release_at="2026-01-31T00:00:00Z",
            public_release_at="2026-03-02T00:00:00Z",
            tombstoned_at=CLOCK,
        )
        # release dates as partners sent them: a date alone, an offset, no zone; a label with 9 decimals
        _insert(
            c,
            "products",
            id=2,
            lid="urn:x:2",
            vid="1.0",
            **product,
            ingested_at=CLOCK,
            start="2017-03-10T13:57:36.123456789Z",
            stop="2017-03-10T17:52:38Z",
            partners_release_at="2027-01-01",
            public_release_at="2027-07-01T02:00:00+02:00",
            tombstoned_at=None,
        )
        # text that is not a time where NULL is allowed; a naive time
        _insert(
            c,
            "products",
            id=3,
            lid="urn:x:3",
            vid="1.0",
            **product,
            ingested_at=CLOCK,
            start="2017-03-10T13:57:36",
            stop="unknown",
            partners_release_at="soon",
            public_release_at=None,
            tombstoned_at="",
        )
        _insert(
            c,
            "product_files",
            id=1,
            product_id=1,
            name="a.img",
            sha256="0" * 64,
            md5="0" * 32,
            size=1,
            media_type="application/octet-stream",
            created_at=CLOCK,
        )
        _insert(
            c,
            "access_requests",
            id=1,
            product_id=1,
            partner_id=1,
            purpose="p" * 10,
            commitment="c" * 10,
            status="approved",
            created_at=CLOCK,
            decided_at=CLOCK,
        )
        _insert(c, "access_decisions", id=1, at=CLOCK, product_id=1, partner_id=1, action="data", allowed=1)
    return engine


def _revision(engine) -> str:
    with engine.connect() as c:
        return c.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _head() -> str:
    """The head revision of the shipped migrations (new migrations move it)."""
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def test_timestamps_become_utc_instants(empty_url):
    engine = _old_database(empty_url)
    upgrade(engine)
    assert _revision(engine) == _head()
    with session_factory(engine)() as s:
        clock_written = [
            (Partner, "created_at"),
            (Member, "created_at"),
            (ApiKey, "created_at"),
            (AuditEntry, "at"),
            (ElementSetRow, "loaded_at"),
            (ScreeningRun, "created_at"),
            (SmallBodyOrbitRow, "loaded_at"),
            (WatchEntry, "created_at"),
            (Webhook, "created_at"),
            (Alert, "created_at"),
            (WebhookDelivery, "at"),
            (Product, "ingested_at"),
            (ProductFile, "created_at"),
            (AccessRequest, "created_at"),
            (AccessRequest, "decided_at"),
            (AccessDecision, "at"),
        ]
        for table, column in clock_written:
            values = s.scalars(sa.select(getattr(table, column))).all()
            assert values and all(v == CLOCK_T and v.tzinfo is not None for v in values), (table, column, values)
        assert s.get(ApiKey, 1).revoked_at is None and s.get(ApiKey, 2).revoked_at == CLOCK_T
        e1, e2 = s.get(ConjunctionEvent, 1), s.get(ConjunctionEvent, 2)
        assert (e1.tca, e1.span_start, e1.span_end) == (TCA_T, None, None)
        assert e2.span_start == datetime(2021, 10, 2, 4, 59, 0, 500000, tzinfo=UTC)
        assert e2.tca == datetime(2021, 10, 2, 5, tzinfo=UTC) and e2.span_end == datetime(2021, 10, 2, 5, 1, tzinfo=UTC)
        assert s.get(Alert, 1).tca == TCA_T
        p1, p2, p3 = (s.get(Product, i) for i in (1, 2, 3))
        assert (p1.start, p1.stop) == (
            datetime(2009, 7, 19, 0, 0, 26, 423000, tzinfo=UTC),
            datetime(2009, 7, 19, 0, 1, 17, 707000, tzinfo=UTC),
        )
        assert (p1.partners_release_at, p1.public_release_at, p1.tombstoned_at) == (
            datetime(2026, 1, 31, tzinfo=UTC),
            datetime(2026, 3, 2, tzinfo=UTC),
            CLOCK_T,
        )
        assert p2.start == datetime(2017, 3, 10, 13, 57, 36, 123456, tzinfo=UTC)  # nanoseconds cut to microseconds
        assert p2.stop == datetime(2017, 3, 10, 17, 52, 38, tzinfo=UTC)
        assert p2.partners_release_at == datetime(2027, 1, 1, tzinfo=UTC)  # a date alone: its midnight UTC
        assert p2.public_release_at == datetime(2027, 7, 1, 0, tzinfo=UTC)  # 02:00+02:00
        assert p3.start == datetime(2017, 3, 10, 13, 57, 36, tzinfo=UTC)  # no zone: UTC, as every writer wrote
        assert (p3.stop, p3.partners_release_at, p3.tombstoned_at) == (None, None, None)  # not a time: NULL
        # instants compare as instants in SQL: released by 2027-03-01 are product 1 (both dates) and 2
        # (partners' date only); product 3's date was not a time, so it stays embargoed
        now = datetime(2027, 3, 1, tzinfo=UTC)
        released = s.scalars(sa.select(Product.id).where(Product.partners_release_at <= now).order_by(Product.id))
        assert released.all() == [1, 2]
        assert s.scalars(sa.select(Product.id).where(Product.public_release_at <= now)).all() == [1]
        # order by time across the old forms: event 1 (03:14) before event 2 (05:00)
        assert s.scalars(sa.select(ConjunctionEvent.id).order_by(ConjunctionEvent.tca.desc())).all() == [2, 1]
    engine.dispose()


def test_downgrade_writes_the_one_text_form(empty_url):
    engine = _old_database(empty_url)
    upgrade(engine)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT tca FROM alerts")).scalar() == "2021-10-02T03:14:15.926000Z"
        assert c.execute(sa.text("SELECT created_at FROM partners")).scalar() == CLOCK
        assert c.execute(sa.text("SELECT public_release_at FROM products WHERE id = 2")).scalar() == (
            "2027-07-01T00:00:00.000000Z"
        )
    upgrade(engine)  # and up again
    with session_factory(engine)() as s:
        assert s.get(Alert, 1).tca == TCA_T
    engine.dispose()


def test_a_clock_column_that_is_not_a_time_stops_the_migration(empty_url):
    engine = _old_database(empty_url)
    with engine.begin() as c:
        c.execute(sa.text("UPDATE members SET created_at = 'yesterday' WHERE id = 1"))
    with pytest.raises(ValueError, match=r"members\.created_at row id=1: 'yesterday' is not a time"):
        upgrade(engine)
    assert _revision(engine) == "0008"  # rolled back: nothing changed
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT created_at FROM partners")).scalar() == CLOCK
    engine.dispose()
