"""An incremental update stores only the objects it changed (issue #18, target 2): the run's catalog
row (``screening_run_catalogs``, out of the run's row, whose ``catalog_json`` is empty) stays as the
run was created, the changed, renamed and added objects are rows of ``screening_catalog_updates``
(migration 0019), and every reader of a run's catalog
(``screening_repo.run_catalog`` / ``run_catalog_names``: ``load_run``, the CLI's failure names, the
service's automatic re-screening) sees them in place.

Independent computations: ``CatalogPayload.updated_with`` applied to the catalog the run started
with, update after update (the catalog a run must read back: ids, names, texts, and its digest
hashed anew by ``CatalogPayload.digest``), and a full all-vs-all rerun of the core ``screen`` on
that catalog (the stored events must equal it)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from .test_migrations import empty_url  # noqa: F401
from .test_screen_update import IRIDIUM, NOW, _rows, _shift_mean_anomaly

START = "2021-10-02T00:00:00Z"


def _checksum(line: str) -> str:
    return str(sum(int(c) if c.isdigit() else c == "-" for c in line[:68]) % 10)


def _new_object(record, norad_id: int, degrees: float) -> tuple[str, str]:
    """TLE lines of an object the catalog does not have: ``record``'s orbit under another catalog
    number, its mean anomaly moved by ``degrees``."""
    l1 = f"{record.line1[:2]}{norad_id:05d}{record.line1[7:68]}"
    l1 += _checksum(l1)
    l2 = _shift_mean_anomaly(f"{record.line2[:2]}{norad_id:05d}{record.line2[7:68]}0", degrees)
    return l1, l2


def _payload(text: str):
    from spacecommons.catalog import read_elements
    from spacecommons.conjunction.catalog_payload import CatalogPayload

    return CatalogPayload.from_elements(read_elements("new.tle", text=text).records)


def _columns(payload) -> tuple:
    return payload.norad_ids, payload.names, payload.texts


def _fresh(payload):
    """The same catalog with its digest hashed anew (not the digest a stored run seeds)."""
    from spacecommons.conjunction.catalog_payload import CatalogPayload

    return CatalogPayload(*_columns(payload))


def _catalog_row(maker, run_id: int) -> tuple[str, str, str]:
    """The run's stored catalog row (ids and names, element sets) and the run row's ``catalog_json``."""
    from spacecommons.storage.tables import ScreeningRun, ScreeningRunCatalog

    with maker() as s:
        row = s.get(ScreeningRunCatalog, run_id)
        return row.names_json, row.texts_json, s.get(ScreeningRun, run_id).catalog_json


def _update_ids(maker, run_id: int) -> list[int]:
    from spacecommons.storage.tables import ScreeningCatalogUpdate as U

    with maker() as s:
        return list(s.execute(sa.select(U.norad_id).where(U.run_id == run_id).order_by(U.norad_id)).scalars())


def test_two_updates_read_back_as_updated_with_and_store_a_full_reruns_events(backend_url):
    """A run of the Iridium 33 debris, then two updates through ``update_run``: the first replaces
    the element sets of three objects that have events, the second adds an object the run did not
    have, replaces one of the first three again and renames another. After each, ``load_run``'s catalog equals
    ``updated_with`` applied in turn (ids, names, texts, digest), its stored events equal a full
    rerun's, the run's catalog row is the one it was created with (its run row's ``catalog_json``
    empty), and the update rows are the changed and renamed objects, one each."""
    from spacecommons.catalog import read_elements
    from spacecommons.conjunction import screen
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.conjunction.params import ScreeningParams
    from spacecommons.storage import make_engine, screening_repo, session_factory, upgrade
    from spacecommons.timescales import iso_to_jd
    from spacecommons.workflows.screening import run_screening, update_run

    engine = make_engine(backend_url)
    upgrade(engine)
    maker = session_factory(engine)
    try:
        jd, fr = iso_to_jd(START)
        params = ScreeningParams(jd, fr, 0.1, 10.0)
        records = read_elements(IRIDIUM).records
        payload = CatalogPayload.from_elements(records)
        outcome = run_screening(maker, payload, params, lambda: NOW, workers=1)
        created = _catalog_row(maker, outcome.run_id)
        assert created[2] == ""
        first = sorted({e.id1 for e in outcome.result.events})[:3]
        new1 = _payload(
            "".join(
                f"{r.name}\n{r.line1}\n{_shift_mean_anomaly(r.line2, 0.5)}\n" for r in records if r.norad_id in first
            )
        )
        l1, l2 = _new_object(records[0], 99990, 0.05)
        again = next(r for r in records if r.norad_id == first[0])
        # and one renamed, its element set unchanged (an update row, not re-screened)
        renamed = next(r for r in records if r.norad_id not in first)
        new2 = _payload(
            f"NEW OBJECT\n{l1}\n{l2}\n{again.name}\n{again.line1}\n{_shift_mean_anomaly(again.line2, -0.3)}\n"
            f"RENAMED DEBRIS\n{renamed.line1}\n{renamed.line2}\n"
        )

        expected = payload
        for new, changed in ((new1, first), (new2, [first[0], 99990])):
            up = update_run(maker, outcome.run_id, new, workers=1)
            expected, updated = expected.updated_with(new)  # the independent computation
            assert up.updated == updated == tuple(changed)
            with maker() as s:
                _, _, loaded, _ = screening_repo.load_run(s, outcome.run_id, chunks=False)
                stored = _rows(screening_repo.run_events(s, outcome.run_id))
            assert _columns(loaded) == _columns(expected)
            assert loaded.digest == expected.digest == _fresh(loaded).digest
            assert stored == _rows(screen(expected, params, workers=1).events)
            assert _catalog_row(maker, outcome.run_id) == created
        assert 99990 in loaded.norad_ids and len(loaded) == len(payload) + 1
        assert "RENAMED DEBRIS" in loaded.names
        assert _update_ids(maker, outcome.run_id) == sorted({*first, 99990, renamed.norad_id})
    finally:
        engine.dispose()


def _small_run(maker, added_name: str = "ISS \ud800 (ZARYA)"):
    """A run of six Iridium 33 debris objects with no events (stored with ``create_run``), and two
    update catalogs for ``replace_object_events``: the first renames and moves two objects and renames
    a third without changing its element set; the second
    moves one of them again and adds an object given as OMM fields (a string entry, not TLE lines)
    named ``added_name`` (by default one only json can write: a lone surrogate, as a JSON upload can
    carry it)."""
    from spacecommons.catalog import read_elements
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.conjunction.params import ScreeningParams
    from spacecommons.storage import screening_repo
    from spacecommons.timescales import iso_to_jd

    records = read_elements(IRIDIUM).records[:6]
    payload = CatalogPayload.from_elements(records)
    jd, fr = iso_to_jd(START)
    with maker.begin() as s:
        run_id = screening_repo.create_run(s, ScreeningParams(jd, fr, 0.1, 10.0), payload, NOW)
    r1, r3, r4 = records[1], records[3], records[4]
    new1 = _payload(
        f"RENAMED 1\n{r1.line1}\n{_shift_mean_anomaly(r1.line2, 0.5)}\n"
        f"RENAMED 3\n{r3.line1}\n{_shift_mean_anomaly(r3.line2, 0.5)}\n"
        f"RENAMED 4\n{r4.line1}\n{r4.line2}\n"
    )
    omm = json.dumps({"OBJECT_NAME": "odd", "NORAD_CAT_ID": 1}, sort_keys=True)  # stored, not propagated here
    again = _payload(f"RENAMED AGAIN\n{r1.line1}\n{_shift_mean_anomaly(r1.line2, 0.9)}\n")
    new2 = CatalogPayload((*again.norad_ids, 5), (*again.names, added_name), (*again.texts, omm))
    new2 = CatalogPayload(*zip(*sorted(zip(*_columns(new2), strict=True)), strict=True))
    return run_id, payload, new1, new2


def _store_updates(maker, run_id, payload, news):
    from spacecommons.conjunction.events import ConjunctionEvents
    from spacecommons.storage import screening_repo

    merged = payload
    for new in news:
        merged, updated = merged.updated_with(new)
        with maker.begin() as s:
            screening_repo.replace_object_events(s, run_id, merged, updated, ConjunctionEvents(), {})
    return merged


def test_run_catalog_reads_replaced_and_added_entries_of_every_kind(backend_url):
    """``run_catalog`` and ``run_catalog_names`` after two stores of ``replace_object_events``: TLE
    lines and an OMM string, renamed objects (one whose element set is unchanged, which
    ``updated_with`` does not count as updated, stored all the same) and a name with a lone surrogate
    all read back as ``updated_with`` built them; the run's catalog row stays as created, its size and
    digest are the merged catalog's, and the update rows are the moved, renamed and added objects."""
    from spacecommons.storage import make_engine, screening_repo, session_factory, upgrade
    from spacecommons.storage.tables import ScreeningRun

    engine = make_engine(backend_url)
    upgrade(engine)
    maker = session_factory(engine)
    try:
        run_id, payload, new1, new2 = _small_run(maker)
        created = _catalog_row(maker, run_id)
        merged = _store_updates(maker, run_id, payload, (new1, new2))
        assert 5 in merged.norad_ids and "RENAMED AGAIN" in merged.names and "RENAMED 4" in merged.names
        assert payload.updated_with(new1)[1] == tuple(sorted(new1.norad_ids))[:2]  # the renamed 3rd: not updated
        with maker() as s:
            run = s.get(ScreeningRun, run_id)
            loaded = screening_repo.run_catalog(s, run)
            ids, names = screening_repo.run_catalog_names(s, run)
            assert run.n_objects == len(merged) == len(payload) + 1
        assert _catalog_row(maker, run_id) == created and created[2] == ""
        assert _update_ids(maker, run_id) == sorted({5, *new1.norad_ids})
        assert _columns(loaded) == _columns(merged)
        assert loaded.digest == _fresh(merged).digest
        assert (tuple(ids), tuple(names)) == (merged.norad_ids, merged.names)
    finally:
        engine.dispose()


def test_downgrade_folds_the_updates_into_catalog_json_and_upgrade_moves_it_out(empty_url):  # noqa: F811
    """Down to 0018 (before the catalog and update tables) the run's ``catalog_json`` is its catalog as
    it stands (what the code of that schema reads); up again the catalog moves to the run's catalog row
    (the run row's ``catalog_json`` empty) and reads the same."""
    from alembic import command
    from alembic.config import Config

    from spacecommons.storage import make_engine, screening_repo, session_factory, upgrade
    from spacecommons.storage.engine import MIGRATIONS

    engine = make_engine(empty_url)
    upgrade(engine)
    maker = session_factory(engine)
    try:
        run_id, payload, new1, new2 = _small_run(maker)
        merged = _store_updates(maker, run_id, payload, (new1, new2))
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0018")
        tables = sa.inspect(engine).get_table_names()
        assert "screening_catalog_updates" not in tables and "screening_run_catalogs" not in tables
        with engine.connect() as conn:  # the schema of 0018: the catalog in the run's row
            text = conn.execute(sa.text("SELECT catalog_json FROM screening_runs WHERE id = :i"), {"i": run_id})
            cat = json.loads(text.scalar_one())
        texts = tuple(tuple(t) if isinstance(t, list) else t for t in cat["texts"])
        assert (tuple(cat["norad_ids"]), tuple(cat["names"]), texts) == _columns(merged)
        upgrade(engine)
        with maker() as s:
            run, _, loaded, _ = screening_repo.load_run(s, run_id, chunks=False)
            assert run.catalog_json == ""
        assert _columns(loaded) == _columns(merged) and loaded.digest == _fresh(merged).digest
        assert _update_ids(maker, run_id) == []
    finally:
        engine.dispose()


def test_cli_runs_list_and_failure_names_see_an_added_object(tmp_path):
    """``runs list`` counts an object an update added, and ``runs show`` names the objects SGP4 could
    not propagate from the run's catalog as it stands: the added object's name and a replaced
    object's new name (the failures are written into the run's stats here: the names are what is
    tested, SGP4's failures are tests/test_cli_listings.py's)."""
    from typer.testing import CliRunner

    from spacecommons.cli.main import app
    from spacecommons.storage import make_engine, session_factory, upgrade
    from spacecommons.storage.tables import ScreeningRun

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    maker = session_factory(engine)
    run_id, payload, new1, new2 = _small_run(maker, "ADDED AS OMM")
    merged = _store_updates(maker, run_id, payload, (new1, new2))
    renamed = merged.norad_ids[merged.names.index("RENAMED 3")]
    with maker.begin() as s:
        run = s.get(ScreeningRun, run_id)
        stats = json.loads(run.stats_json or "{}")
        run.stats_json = json.dumps({**stats, "sgp4_failures": {"5": "added", str(renamed): "replaced"}})
        run.status = "done"
    engine.dispose()
    runner = CliRunner()
    listed = runner.invoke(app, ["runs", "list", "--json", "--database-url", url])
    assert listed.exit_code == 0, listed.output
    assert [r["objects"] for r in json.loads(listed.stdout)] == [len(payload) + 1]
    shown = runner.invoke(app, ["runs", "show", str(run_id), "--json", "--database-url", url])
    assert shown.exit_code == 0, shown.output
    failures = {f["norad_id"]: f["name"] for f in json.loads(shown.stdout)["sgp4_failures"]}
    assert failures == {5: "ADDED AS OMM", renamed: "RENAMED 3"}


@pytest.fixture
def service(sqlite_url, tmp_path):
    from spacecommons.service import create_app

    app = create_app(
        sqlite_url, rate_per_second=1000.0, rate_burst=100000, clock=lambda: NOW, blob_root=str(tmp_path / "blobs")
    )
    yield app
    app.state.job_queue.shutdown(wait=True, timeout=60)
    app.state.engine.dispose()


def test_service_auto_update_scan_sees_an_object_an_update_added(service):
    """A partner's run gains an object through an update (``update_run``, as ``screen --update`` on the
    same database does); the partner then submits a newer element set of that object, which it owns:
    the submission queues an update of the run (the scan reads the run's catalog as it stands), and
    the job re-screens that object."""
    from fastapi.testclient import TestClient

    from spacecommons.catalog import read_elements
    from spacecommons.conjunction import ScreeningParams, screen
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.storage import partners_repo
    from spacecommons.storage.catalog_repo import set_owner, store_elements
    from spacecommons.timescales import iso_to_jd
    from spacecommons.workflows.screening import create_run, finish_run, update_run

    app = service
    maker = app.state.session_maker
    records = read_elements(IRIDIUM).records
    l1, l2 = _new_object(records[0], 99990, 0.05)
    added = read_elements("added.tle", text=f"NEW OBJECT\n{l1}\n{l2}\n").records
    with maker.begin() as s:
        store_elements(s, records + added, NOW)
        partners_repo.create_partner(s, "A", NOW)
        member = partners_repo.add_member(s, "A", "observer-member", "observer", NOW)
        key = partners_repo.issue_key(s, member.id, NOW)
        assert set_owner(s, 99990, 1)
    jd, fr = iso_to_jd(START)
    params = ScreeningParams(jd, fr, 0.1, 10.0)
    payload = CatalogPayload.from_elements(records)
    with maker.begin() as s:
        run = create_run(s, payload, params, NOW, owner_partner_id=1, visibility="partners")
        finish_run(s, run, screen(payload, params, workers=1), NOW)
    assert update_run(maker, run, CatalogPayload.from_elements(added), workers=1).updated == (99990,)

    newer = f"NEW OBJECT\n{l1}\n{_shift_mean_anomaly(l2, 0.2)}\n".encode()
    client = TestClient(app)
    r = client.post("/api/v1/catalog/elements?filename=a.tle", content=newer, headers={"X-API-Key": key})
    assert r.status_code == 201, r.text
    jobs = r.json()["update_jobs"]
    assert len(jobs) == 1
    app.state.job_queue.wait(jobs[0], timeout=120)
    got = client.get(f"/api/v1/screening/jobs/{jobs[0]}", headers={"X-API-Key": key}).json()
    assert got["state"] == "done" and got["result"]["updated"] == [99990]
