"""``storage.types.UTCDateTime`` and ``timescales.format_utc``: instants in, aware UTC instants out,
on SQLite and PostgreSQL; SQL compares and orders them as times. Expected values follow from ISO 8601
(an offset is subtracted to get UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import StatementError

from spacecommons.errors import TimeError
from spacecommons.storage import make_engine, session_factory, upgrade
from spacecommons.storage.tables import Partner
from spacecommons.timescales import format_utc

PLUS2 = timezone(timedelta(hours=2))


def test_format_utc_is_iso_utc_with_z():
    t = datetime(2026, 1, 1, 2, 3, 4, 567891, tzinfo=PLUS2)  # 00:03:04.567891Z
    assert format_utc(t) == "2026-01-01T00:03:04.567891Z"
    assert format_utc(t, 3) == "2026-01-01T00:03:04.567Z"  # truncated, never later than the instant
    assert format_utc(t, 0) == "2026-01-01T00:03:04Z"
    with pytest.raises(TimeError, match="naive"):
        format_utc(datetime(2026, 1, 1))


def test_instants_round_trip_and_order_on_both_backends(backend_url):
    engine = make_engine(backend_url)
    upgrade(engine)
    made = {
        "east": datetime(2026, 1, 1, 1, 30, tzinfo=PLUS2),  # 2025-12-31T23:30Z
        "utc": datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        "text": "2025-12-31T23:00:00-01:00",  # 2026-01-01T00:00Z: ISO text with its offset is parsed
    }
    with session_factory(engine).begin() as s:
        s.execute(sa.delete(Partner))
        for name, at in made.items():
            s.add(Partner(name=name, created_at=at))
    with session_factory(engine)() as s:
        got = {p.name: p.created_at for p in s.scalars(sa.select(Partner))}
        assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in got.values())
        assert got["east"] == datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
        assert got["utc"] == datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC)  # microseconds kept
        assert got["text"] == datetime(2026, 1, 1, tzinfo=UTC)
        order = s.scalars(sa.select(Partner.name).order_by(Partner.created_at)).all()
        assert order == ["east", "text", "utc"]  # by instant; as text "2026-01-01T01:30+02:00" would be last
        bound = datetime(2026, 1, 1, 1, 0, tzinfo=PLUS2)  # 2025-12-31T23:00Z
        assert s.scalars(sa.select(Partner.name).where(Partner.created_at <= bound)).all() == []
        assert s.scalars(sa.select(Partner.name).where(Partner.created_at > bound).order_by(Partner.name)).all() == [
            "east",
            "text",
            "utc",
        ]
    for naive in (datetime(2026, 1, 1), "2026-01-01T00:00:00", "soon"):
        with session_factory(engine).begin() as s, pytest.raises(StatementError, match="naive|offset|ISO"):
            s.add(Partner(name=f"bad {naive}", created_at=naive))
            s.flush()
    engine.dispose()
