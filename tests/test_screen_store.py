"""Bulk paths of a screening run's output (issue #18, target 1): storing the events
(``screening_repo.insert_events``: executemany on SQLite, COPY on PostgreSQL) and writing the CSV
(``ConjunctionEvents.write``). Each is compared with an independent computation, the way the project
did it before: the ORM storing one ``ConjunctionEvent`` row per event from parsed instants
(``UTCDateTime`` binds them), and a ``csv.DictWriter`` formatting every cell on its own (floats with
6 decimals, text through ``textguard.csv_safe``). The CSV quoting reference is Python's ``csv`` module."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from spacecommons.conjunction.events import COLUMNS, ConjunctionEvent, ConjunctionEvents
from spacecommons.storage import make_engine, session_factory, upgrade
from spacecommons.storage import screening_repo as repo
from spacecommons.storage.tables import ConjunctionEvent as EventRow
from spacecommons.storage.tables import ScreeningRun
from spacecommons.textguard import csv_safe
from spacecommons.timescales import parse_utc

# names that exercise every rule of csv_safe and of CSV quoting: formula starts (OWASP "CSV
# Injection"), a comma, a quote, a tab, non-ASCII, a control character, an internal " -"
NAMES = (
    "ISS (ZARYA)",
    "FENGYUN 1C DEB",
    '=HYPERLINK("http://x")',
    "-1 R/B",
    "+X",
    "@SUM(A1)",
    "DEB, PIECE A",
    'SAT "B"',
    "TAB\tNAME",
    "ÉTOILE",
    "BEL\x07",
    "OBJECT - A",
    "",
)
# build_events' text (ms, Z) and other ISO-8601 forms with their offset (the slow, parsed path)
TIMES = ("2022-01-22T00:00:00.000Z", "2022-01-22T23:59:59.999Z", "2022-01-23T01:02:03Z", "2022-01-23T03:04:05.5+02:00")


def _events(n: int, seed: int = 7) -> ConjunctionEvents:
    rnd = random.Random(seed)
    out = ConjunctionEvents()
    for k in range(n):
        span = rnd.random() < 0.3
        t = (
            rnd.choice(TIMES)
            if k % 5 == 0
            else f"2022-01-2{rnd.randint(2, 8)}T{rnd.randint(0, 23):02d}:"
            + (f"{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d}.{rnd.randint(0, 999):03d}Z")
        )
        out.append(
            ConjunctionEvent(
                id1=rnd.randint(1, 99999),
                name1=rnd.choice(NAMES),
                id2=rnd.randint(1, 99999),
                name2=rnd.choice(NAMES[:2]) if k % 2 else rnd.choice(NAMES),
                tca=t,
                miss_km=rnd.uniform(0, 5),
                speed_km_s=rnd.uniform(0, 15),
                r_km=rnd.uniform(-5, 5),
                t_km=rnd.uniform(-5, 5),
                n_km=-0.0 if k == 3 else rnd.uniform(-5, 5),
                kind="proximity" if span else rnd.choice(("encounter", "co-located")),
                span_start=rnd.choice(TIMES) if span else "",
                span_end=rnd.choice(TIMES) if span else "",
                n_minima=rnd.randint(2, 9) if span else 1,
                tca_s=float(k),
            )
        )
    return out


def _cell(v):
    return f"{v:.6f}" if isinstance(v, float) else csv_safe(v) if isinstance(v, str) else v


def _dictwriter_csv(events: ConjunctionEvents) -> str:
    """The CSV as the former writer made it: csv.DictWriter, each cell formatted on its own."""
    f = io.StringIO(newline="")
    w = csv.DictWriter(f, fieldnames=COLUMNS)
    w.writeheader()
    for e in events:
        row = {c: getattr(e, c) for c in COLUMNS}
        w.writerow({k: _cell(v) for k, v in row.items()})
    return f.getvalue()


@pytest.mark.parametrize("names", [NAMES, NAMES[:2]], ids=["hostile names", "plain names"])
def test_csv_is_the_cell_by_cell_csv(tmp_path, names):
    events = _events(400)
    for k, e in enumerate(events):  # plain names take the column-at-once path, hostile ones the per-value one
        object.__setattr__(e, "name1", names[k % len(names)])
        object.__setattr__(e, "name2", names[(k * 7) % len(names)])
    out = tmp_path / "events.csv"
    events.write(out)
    assert out.read_bytes().decode() == _dictwriter_csv(events)
    assert list(csv.reader(out.open(newline="")))[0] == list(COLUMNS)


def test_csv_with_mixed_types_in_a_column_is_still_written_cell_by_cell(tmp_path):
    events = _events(20)
    object.__setattr__(events[4], "miss_km", 1)  # an int in a float column (a hand-made event)
    object.__setattr__(events[5], "n_minima", True)
    out = tmp_path / "events.csv"
    events.write(out)
    assert out.read_bytes().decode() == _dictwriter_csv(events)


def test_empty_csv_has_the_header_only(tmp_path):
    out = tmp_path / "events.csv"
    ConjunctionEvents().write(out)
    assert out.read_bytes() == (",".join(COLUMNS) + "\r\n").encode()
    assert out.read_bytes().decode() == _dictwriter_csv(ConjunctionEvents())


def _new_run(sm) -> int:
    with sm.begin() as s:
        run = ScreeningRun(
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
            status="running",
            params_json="{}",
            catalog_digest="test",
            n_objects=0,
            n_chunks=1,
        )
        s.add(run)
        s.flush()
        return run.id


def _stored(sm, run_id: int) -> list[tuple]:
    cols = [getattr(EventRow, c) for c in ("run_id", *COLUMNS, "pc", "pc_method")]
    with sm() as s:
        return [tuple(r) for r in s.execute(sa.select(*cols).where(EventRow.run_id == run_id).order_by(EventRow.id))]


def test_bulk_insert_stores_what_the_orm_stores(backend_url):
    engine = make_engine(backend_url)
    upgrade(engine)
    sm = session_factory(engine)
    events = _events(300)
    reference, bulk = _new_run(sm), _new_run(sm)
    with sm.begin() as s:  # the independent path: one ORM object per event, instants parsed
        for e in events:
            s.add(
                EventRow(
                    run_id=reference,
                    **{c: getattr(e, c) for c in COLUMNS if c not in ("tca", "span_start", "span_end")},
                    tca=parse_utc(e.tca),
                    span_start=parse_utc(e.span_start) if e.span_start else None,
                    span_end=parse_utc(e.span_end) if e.span_end else None,
                )
            )
    with sm.begin() as s:
        repo.finish_run(s, bulk, events, {"wall_s": 1.0}, {})
    want, got = _stored(sm, reference), _stored(sm, bulk)
    assert len(got) == len(events)
    assert [g[1:] for g in got] == [w[1:] for w in want]  # every column, in the events' order
    assert got[0][5].tzinfo is not None and got[0][5].utcoffset().total_seconds() == 0
    # the stored text on SQLite is the dialect's (the time index and SQL comparisons depend on it)
    if engine.dialect.name == "sqlite":
        with engine.connect() as c:
            raw = c.exec_driver_sql("SELECT tca, span_start FROM conjunction_events ORDER BY id").fetchall()
        assert raw[: len(events)] == raw[len(events) :]
    with sm() as s:
        assert s.get(ScreeningRun, bulk).n_events == len(events)
        assert s.get(ScreeningRun, bulk).status == "done"
    # the page cache of the connection is back to its setting after the bulk insert
    if engine.dialect.name == "sqlite":
        with engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA cache_size").scalar() == -2000


def test_a_failed_bulk_insert_leaves_no_events(backend_url):
    """The insert is part of the caller's transaction: an error after it rolls it back."""
    engine = make_engine(backend_url)
    upgrade(engine)
    sm = session_factory(engine)
    run_id = _new_run(sm)
    with pytest.raises(RuntimeError), sm.begin() as s:
        repo.insert_events(s, run_id, list(_events(50)))  # any sequence of events
        assert len(_stored_in(s, run_id)) == 50  # inserted, inside the transaction
        raise RuntimeError("after the insert")
    assert _stored(sm, run_id) == []


def _stored_in(session, run_id: int) -> list:
    return session.execute(sa.select(EventRow.id).where(EventRow.run_id == run_id)).all()
