"""Incremental re-screening through the service (issue #18, target 2): ``POST
/api/v1/screening/runs/{id}/update`` and the automatic update queued when a partner submits element
sets of objects it owns. The independent computation is ``workflows.screening.update_run`` called
directly on a twin of the run (same catalog, same parameters, same stored events) with the same new
element sets: the job's result and the run's stored events must equal it. Cross-partner: only the
run's owner partner (operator or analyst) may update it, and another partner's submission never
queues an update of it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from .conftest import SAMPLE
from .test_screen_update import _shift_mean_anomaly

IRIDIUM = SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ROLES = ("operator", "analyst", "observer")


def _shifted(records, ids, degrees: float) -> str:
    """3LE text of new element sets for ``ids``: mean anomaly moved by ``degrees``."""
    moved = [(r, _shift_mean_anomaly(r.line2, degrees)) for r in records if r.norad_id in ids]
    return "".join(f"{r.name}\n{r.line1}\n{line2}\n" for r, line2 in moved)


def _h(key: str | None) -> dict:
    return {"X-API-Key": key} if key else {}


@pytest.fixture
def world(sqlite_url, tmp_path):
    from spacecommons.catalog import read_elements
    from spacecommons.conjunction import ScreeningParams, screen
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.service import create_app
    from spacecommons.storage import partners_repo
    from spacecommons.storage.catalog_repo import store_elements
    from spacecommons.timescales import iso_to_jd
    from spacecommons.workflows.screening import create_run, finish_run

    app = create_app(
        sqlite_url, rate_per_second=1000.0, rate_burst=100000, clock=lambda: NOW, blob_root=str(tmp_path / "blobs")
    )
    maker = app.state.session_maker
    records = read_elements(IRIDIUM).records
    keys = {}
    with maker.begin() as s:
        store_elements(s, records, NOW)
        for partner in ("A", "B"):
            partners_repo.create_partner(s, partner, NOW)
            for role in ROLES:
                m = partners_repo.add_member(s, partner, f"{role}-member", role, NOW)
                keys[(partner, role)] = partners_repo.issue_key(s, m.id, NOW)
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.1, 10.0)  # tests/test_screen_update.py's window
    payload = CatalogPayload.from_elements(records)
    result = screen(payload, params, workers=1)
    assert len(result.events) >= 3
    with maker.begin() as s:  # A's run (partners may see it), and its twin from the CLI (no owner)
        run = create_run(s, payload, params, NOW, owner_partner_id=1, visibility="partners")
        finish_run(s, run, result, NOW)
        twin = create_run(s, payload, params, NOW)
        finish_run(s, twin, result, NOW)
    changed = sorted({e.id1 for e in result.events})[:3]  # objects with events: old events must go
    new = read_elements("new.tle", text=_shifted(records, changed, 0.5)).records  # same epochs: newer row wins
    assert len(new) >= 2
    client = TestClient(app)
    yield app, client, keys, run, twin, new
    app.state.job_queue.shutdown(wait=True, timeout=60)
    app.state.engine.dispose()


def _stored(app, run_id: int) -> list[tuple]:
    from spacecommons.storage import screening_repo as repo

    with app.state.session_maker() as s:
        rows = repo.run_events(s, run_id, 100_000)
        return sorted((e.id1, e.id2, e.tca, round(e.miss_km, 9), e.kind, e.n_minima) for e in rows)


def _direct(app, twin: int, new) -> dict:
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.workflows.screening import update_run

    out = update_run(app.state.session_maker, twin, CatalogPayload.from_elements(new), workers=1)
    return {"run_id": twin, "updated": list(out.updated), "rescreened": list(out.rescreened), "n_events": out.n_events}


def _finished(app, client, key: str, job_id: str) -> dict:
    app.state.job_queue.wait(job_id, timeout=120)  # waits on the job's state
    r = client.get(f"/api/v1/screening/jobs/{job_id}", headers=_h(key))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "done", r.json()
    return r.json()["result"]


def test_update_route_equals_update_run_called_directly(world):
    from spacecommons.storage.catalog_repo import store_elements

    app, client, keys, run, twin, new = world
    before = _stored(app, run)
    with app.state.session_maker.begin() as s:  # the node loads newer sets of three objects
        assert store_elements(s, new, NOW).added == len(new)
    r = client.post(f"/api/v1/screening/runs/{run}/update", headers=_h(keys[("A", "analyst")]))
    assert r.status_code == 202, r.text
    got = _finished(app, client, keys[("A", "operator")], r.json()["job_id"])
    expected = _direct(app, twin, new)
    assert got["updated"] == expected["updated"] == sorted(x.norad_id for x in new)
    assert got["rescreened"] == expected["rescreened"] == got["updated"]  # no co-located group touched
    assert got["n_events"] == expected["n_events"]
    assert _stored(app, run) == _stored(app, twin) != before
    # nothing changed since: a second update re-screens nothing and keeps the events
    r = client.post(f"/api/v1/screening/runs/{run}/update", headers=_h(keys[("A", "operator")]))
    again = _finished(app, client, keys[("A", "analyst")], r.json()["job_id"])
    assert again["updated"] == [] and again["n_events"] == expected["n_events"]


def test_only_the_owner_partners_operator_or_analyst_updates(world):
    app, client, keys, run, twin, _ = world
    url = f"/api/v1/screening/runs/{run}/update"
    assert client.get(f"/api/v1/screening/runs/{run}", headers=_h(keys[("B", "analyst")])).status_code == 200
    for role in ROLES:  # B sees A's run (visibility partners) but may not update it
        assert client.post(url, headers=_h(keys[("B", role)])).status_code == 403
    assert client.post(url, headers=_h(keys[("A", "observer")])).status_code == 403
    assert client.post(url).status_code == 401
    # a CLI run (no owner partner) is updated by no partner
    assert client.post(f"/api/v1/screening/runs/{twin}/update", headers=_h(keys[("A", "operator")])).status_code == 403
    assert client.post("/api/v1/screening/runs/999/update", headers=_h(keys[("A", "operator")])).status_code == 404
    assert app.state.job_queue.counts().get("queued", 0) == 0


def test_partner_submission_queues_an_update_of_its_own_runs_only(world):
    from spacecommons.storage.catalog_repo import set_owner

    app, client, keys, run, twin, new = world
    before = _stored(app, run)
    text = "".join(f"{r.name}\n{r.line1}\n{r.line2}\n" for r in new).encode()
    # B submits other sets of the objects: B owns none of them, so nothing is queued
    other = _shifted(new, {x.norad_id for x in new}, 0.2).encode()
    r = client.post("/api/v1/catalog/elements?filename=b.tle", content=other, headers=_h(keys[("B", "observer")]))
    assert r.status_code == 201 and r.json()["added"] == len(new) and r.json()["update_jobs"] == []
    with app.state.session_maker.begin() as s:
        for x in new:
            assert set_owner(s, x.norad_id, 1)  # an admin makes the objects A's
    r = client.post("/api/v1/catalog/elements?filename=a.tle", content=text, headers=_h(keys[("A", "observer")]))
    assert r.status_code == 201, r.text
    jobs = r.json()["update_jobs"]
    assert len(jobs) == 1 and r.json()["updates_refused"] == 0  # A's run only, not the ownerless twin
    got = _finished(app, client, keys[("A", "observer")], jobs[0])
    # the job's result (the run's re-screened objects, its event count) is A's: every role of B and
    # anonymous get nothing of it, once it is done too
    for role in ROLES:
        r = client.get(f"/api/v1/screening/jobs/{jobs[0]}", headers=_h(keys[("B", role)]))
        assert r.status_code == 404 and "rescreened" not in r.text
    r = client.get(f"/api/v1/screening/jobs/{jobs[0]}")
    assert r.status_code == 401 and "rescreened" not in r.text
    expected = _direct(app, twin, new)
    assert got == {**expected, "run_id": run}
    assert _stored(app, run) == _stored(app, twin) != before
