"""The workflow layer: one screening-run job for CLI and service (cancel, failure, resume), the
alert outbox (no transaction open while sending), and the rule that only the interfaces read the
wall clock. Expected values come from an independent computation: the core ``screen`` run
directly on the same input, uninterrupted."""

from __future__ import annotations

import ast
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from spacecommons.timescales import format_utc

from .conftest import SAMPLE

IRIDIUM = SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SRC = Path(__file__).parents[1] / "src" / "spacecommons"


@pytest.fixture
def setup(sqlite_url):
    from spacecommons.catalog import read_elements
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.conjunction.params import ScreeningParams
    from spacecommons.storage import make_engine, session_factory, upgrade
    from spacecommons.timescales import iso_to_jd

    engine = make_engine(sqlite_url)
    upgrade(engine)
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    # three chunks, so that a run can stop between them
    params = ScreeningParams(jd, fr, 0.06, 10.0, chunk_days=0.02)
    payload = CatalogPayload.from_elements(read_elements(IRIDIUM).records)
    yield engine, session_factory(engine), payload, params
    engine.dispose()


def _rows(events) -> list[tuple]:
    # a stored TCA is an instant, the core's a millisecond ISO text: compare them as text
    return [
        (e.id1, e.id2, e.tca if isinstance(e.tca, str) else format_utc(e.tca, 3), round(e.miss_km, 9)) for e in events
    ]


def test_cancelled_run_keeps_its_chunks_and_resumes_to_the_uninterrupted_result(setup):
    """A run cancelled after its first chunk is stored as cancelled with that chunk; resumed, it
    gives exactly the events of the core's uninterrupted ``screen`` (bit for bit, REBOUND-style)."""
    from spacecommons.conjunction.screen import screen
    from spacecommons.storage import screening_repo as repo
    from spacecommons.workflows.screening import CANCELLED, run_screening

    _, maker, payload, params = setup
    assert len(params.chunks()) == 3
    seen: list[tuple[int, int]] = []
    outcome = run_screening(
        maker,
        payload,
        params,
        lambda: NOW,
        workers=1,
        progress=lambda done, total: seen.append((done, total)),
        cancel=lambda: bool(seen) and seen[-1][0] >= 1,
    )
    assert outcome.status == "cancelled" and outcome.result is None
    assert seen == [(0, 3), (1, 3)]
    with maker() as s:
        run, _, _, completed = repo.load_run(s, outcome.run_id)
        assert (run.status, run.message, sorted(completed)) == ("cancelled", CANCELLED, [0])
        assert run.created_at == datetime(2026, 11, 25, 12, tzinfo=UTC)
    resumed = run_screening(maker, payload, params, lambda: NOW, run_id=outcome.run_id, completed=completed, workers=1)
    expected = screen(payload, params, workers=1)
    assert resumed.status == "done" and len(expected.events) > 0
    assert _rows(resumed.result.events) == _rows(expected.events)
    with maker() as s:
        assert _rows(repo.run_events(s, outcome.run_id)) == _rows(sorted(expected.events, key=lambda e: e.miss_km))


def test_a_failing_run_records_failed_with_the_reason_and_reraises(setup):
    from spacecommons.storage.tables import ScreeningRun
    from spacecommons.workflows.screening import run_screening

    _, maker, payload, params = setup

    def broken(done: int, total: int) -> None:
        if done == 2:
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        run_screening(maker, payload, params, lambda: NOW, workers=1, progress=broken)
    with maker() as s:
        run = s.query(ScreeningRun).one()
        assert (run.status, run.message) == ("failed", "RuntimeError: disk on fire")


def test_alert_outbox_sends_with_no_transaction_open(setup):
    """Claim (one transaction), send (none open: the receiver sees zero open transactions), record
    (another); the delivery log and backoff are those of the previous in-transaction delivery."""
    from sqlalchemy import event

    from spacecommons.clients.netguard import DeliveryOutcome, Reason
    from spacecommons.conjunction.screen import screen
    from spacecommons.secrets_box import SecretBox, new_key
    from spacecommons.storage import partners_repo
    from spacecommons.storage.tables import Alert, WatchEntry, Webhook, WebhookDelivery
    from spacecommons.workflows.alerts import BACKOFF_S, deliver_due, seal_stored_secrets, signature
    from spacecommons.workflows.screening import run_screening

    engine, maker, payload, params = setup
    expected = screen(payload, params, workers=1).events
    watched = min(expected, key=lambda e: e.miss_km).id1
    with maker.begin() as s:
        p = partners_repo.create_partner(s, "ops", NOW)
        s.add(WatchEntry(partner_id=p.id, norad_id=watched, created_at=NOW, max_miss_km=1e9))
        s.add(Webhook(partner_id=p.id, url="https://ops.example.org/hook", secret="s" * 16, created_at=NOW))
    run_screening(maker, payload, params, lambda: NOW, workers=1)  # finishing the run raises the alerts
    box = SecretBox.from_setting("t:" + new_key())
    assert seal_stored_secrets(maker, box).sealed == 1  # a clear-text row, as a server start seals it
    with maker() as s:
        alerts = s.query(Alert).order_by(Alert.id).all()
    assert len(alerts) == len([e for e in expected if watched in (e.id1, e.id2)]) >= 1
    assert {a.created_at for a in alerts} == {datetime(2026, 11, 25, 12, tzinfo=UTC)}

    # transactions open per thread: sends run on a pool, and another alert's record may overlap a
    # send; what must hold is that the sending thread itself holds none
    open_tx: dict[int, int] = {}

    def count(step: int):
        return lambda conn: open_tx.__setitem__(threading.get_ident(), open_tx.get(threading.get_ident(), 0) + step)

    event.listen(engine, "begin", count(+1))
    event.listen(engine, "commit", count(-1))
    event.listen(engine, "rollback", count(-1))
    during_send: list[int] = []

    def receiver(url: str, body: bytes, headers: dict) -> DeliveryOutcome:
        during_send.append(open_tx.get(threading.get_ident(), 0))
        assert headers["x-spacecommons-signature"] == signature("s" * 16, body)
        return DeliveryOutcome(Reason.HTTP_5XX, 503)

    t0 = NOW.timestamp()
    assert deliver_due(maker, NOW, box=box, send=receiver) == 0
    assert during_send == [0] * len(alerts)
    with maker() as s:
        a = s.get(Alert, alerts[0].id)
        assert (a.status, a.attempts, a.next_attempt_at) == ("pending", 1, t0 + BACKOFF_S)
        log = s.query(WebhookDelivery).filter(WebhookDelivery.alert_id == a.id).all()
        assert [(d.attempt, d.status_code, d.at) for d in log] == [(1, 503, datetime(2026, 11, 25, 12, tzinfo=UTC))]


WALL_CLOCK = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time")}


def _reads_wall_clock(tree: ast.AST) -> list[int]:
    """Lines calling datetime.now / datetime.utcnow / date.today / time.time."""
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if (name, node.func.attr) in {
                ("datetime", "now"),
                ("datetime", "utcnow"),
                ("date", "today"),
                ("time", "time"),
            }:
                hits.append(node.lineno)
    return hits


def test_only_the_interfaces_read_the_wall_clock():
    """docs/design-notes.md: the CLI and the service's app factory read the clock; workflows,
    storage and the core are given "now" (monotonic timers for rates and durations are allowed)."""
    allowed = {SRC / "service" / "app.py", *(SRC / "cli").glob("*.py")}
    offenders = {
        f"{path.relative_to(SRC)}:{line}"
        for path in SRC.rglob("*.py")
        if path not in allowed
        for line in _reads_wall_clock(ast.parse(path.read_text()))
    }
    assert offenders == set()


def test_a_server_start_marks_api_runs_left_running_as_interrupted(setup, sqlite_url, tmp_path):
    """A run the API started (it has an owner) lived in the server's thread: a new server marks it
    resumable. A CLI run (no owner), perhaps still running in another process, is left alone."""
    from spacecommons.service import create_app
    from spacecommons.storage import partners_repo
    from spacecommons.storage.tables import ScreeningRun
    from spacecommons.workflows.screening import create_run

    _, maker, payload, params = setup
    with maker.begin() as s:
        owner = partners_repo.create_partner(s, "A", NOW).id
        cli_run = create_run(s, payload, params, NOW)
        api_run = create_run(s, payload, params, NOW, owner_partner_id=owner, visibility="private")
    app = create_app(sqlite_url, blob_root=str(tmp_path / "blobs"))
    app.state.engine.dispose()
    with maker() as s:
        assert s.get(ScreeningRun, cli_run).status == "running"
        run = s.get(ScreeningRun, api_run)
        assert run.status == "interrupted" and "--resume" in run.message


def test_a_run_stores_its_catalog_as_given_even_a_name_json_alone_can_write(setup):
    """A run's input catalog round-trips through the database exactly (ids, names, texts): the stored
    JSON is written by orjson, and by json for a name orjson refuses (a lone surrogate, which a JSON
    upload can carry as an escape); either is read back the same. Independent check: the payload given."""
    from dataclasses import replace

    from spacecommons.storage import screening_repo as repo

    _, maker, payload, params = setup
    odd = replace(payload, names=("ISS \ud800 (ZARYA)", *payload.names[1:]))
    with maker.begin() as s:
        ids = [repo.create_run(s, params, p, NOW) for p in (payload, odd)]
    with maker() as s:
        for run_id, given in zip(ids, (payload, odd), strict=True):
            _, _, stored, _ = repo.load_run(s, run_id, chunks=False)
            assert (stored.norad_ids, stored.names, stored.texts) == (given.norad_ids, given.names, given.texts)
            assert stored.digest == given.digest
