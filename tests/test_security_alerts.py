"""Issue #11, item 1, written as the attack: partner A watches an object; partner B runs a
*private* screening; A must learn nothing of it, through alerts, the delivery log, webhooks,
events, CDMs, CZML, listings or error messages. Run visibility is one rule
(``spacecommons.policy.can_see_run``) asked by every such path. SQLite and PostgreSQL.

Expected alerts are computed independently of the service: the events of the same screening
(``conjunction.screen`` on the CelesTrak Iridium 33 debris sample of 2021-10-02) that involve the
watched object under the threshold.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from spacecommons.clients.netguard import DeliveryOutcome, Reason
from spacecommons.policy import RunVisibility, can_see_run
from spacecommons.secrets_box import new_key
from spacecommons.service import create_app
from spacecommons.storage import partners_repo
from spacecommons.storage.catalog_repo import store_elements
from spacecommons.storage.tables import Alert, Partner, Webhook
from spacecommons.workflows import alerts as outbox

from .conftest import SAMPLE

T0 = datetime(2026, 11, 25, tzinfo=UTC)
IRIDIUM = SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt"
ROLES = ("admin", "operator", "analyst", "observer")


@pytest.fixture(scope="module")
def world(backend_url, tmp_path_factory):
    """Partners A and B (a key per role); A's operator watches the object of the run's closest
    event; B finishes a private run, a partners-only run, and A a private run of its own."""
    from spacecommons.catalog import read_elements
    from spacecommons.conjunction import ScreeningParams, screen
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.timescales import iso_to_jd
    from spacecommons.workflows.screening import create_run, finish_run

    app = create_app(
        backend_url,
        rate_per_second=1000.0,
        rate_burst=100000,
        blob_root=str(tmp_path_factory.mktemp("blobs")),
        secret_key="t:" + new_key(),
    )
    maker = app.state.session_maker
    parsed = read_elements(IRIDIUM)
    keys = {}
    with maker.begin() as s:
        store_elements(s, parsed.records, T0)
        for partner in ("A", "B"):
            partners_repo.create_partner(s, partner, T0)
            for role in ROLES:
                m = partners_repo.add_member(s, partner, f"{role}-member", role, T0)
                keys[(partner, role)] = partners_repo.issue_key(s, m.id, T0)
        ids = {p.name: p.id for p in s.scalars(select(Partner))}
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.05, 10.0)
    payload = CatalogPayload.from_elements(parsed.records)
    result = screen(payload, params, workers=1)  # the independent computation of the events
    closest = min(result.events, key=lambda e: e.miss_km)
    watched, threshold = closest.id1, 10.0
    expected = sorted(
        (min(e.id1, e.id2), max(e.id1, e.id2))
        for e in result.events
        if watched in (e.id1, e.id2) and e.miss_km <= threshold
    )
    client = TestClient(app)
    h = {"X-API-Key": keys[("A", "operator")]}
    assert (
        client.post("/api/v1/watchlist", json={"norad_id": watched, "max_miss_km": threshold}, headers=h).status_code
        == 201
    )
    runs = {}
    for name, owner, visibility in (
        ("B-private", "B", "private"),
        ("B-partners", "B", "partners"),
        ("A-private", "A", "private"),
    ):
        with maker.begin() as s:
            run_id = create_run(s, payload, params, T0, owner_partner_id=ids[owner], visibility=visibility)
            finish_run(s, run_id, result, T0)  # the service's own path raises the alerts
        runs[name] = run_id
    yield app, client, keys, ids, runs, expected
    app.state.engine.dispose()


def _h(key: str | None) -> dict:
    return {"X-API-Key": key} if key else {}


def _pairs(alerts: list[dict]) -> list[tuple[int, int]]:
    return sorted((min(a["norad_id"], a["other_id"]), max(a["norad_id"], a["other_id"])) for a in alerts)


def test_can_see_run_is_the_documented_table():
    """docs/security.md, 'Actors': public runs for everyone, partners-only runs for any partner,
    private runs for their owner only; an unknown visibility is private."""
    for visibility, owner, caller, expected in (
        ("public", 1, None, True),
        ("public", None, 2, True),
        ("partners", 1, None, False),
        ("partners", 1, 2, True),
        ("private", 1, 1, True),
        ("private", 1, 2, False),
        ("private", 1, None, False),
        ("private", None, 1, False),
        ("secret", 1, 2, False),  # unknown: private
        ("secret", 1, 1, True),
    ):
        assert can_see_run(visibility, owner, caller) is expected, (visibility, owner, caller)
    assert {v.value for v in RunVisibility} == {"public", "partners", "private"}


def test_b_private_run_raises_no_alert_for_a(world):
    """Attack: B's private run finishes while A watches an object in it. Refusal: A has no alert of
    that run (before the fix A's GET /alerts listed B's run id, events, TCA and miss distance);
    A does get the alerts of B's partners-only run and of its own private run (so the rule is not
    merely 'no alerts')."""
    app, client, keys, ids, runs, expected = world
    alerts = client.get("/api/v1/alerts?limit=5000", headers=_h(keys[("A", "operator")])).json()
    by_run = {r: [a for a in alerts if a["run_id"] == r] for r in runs.values()}
    assert by_run[runs["B-private"]] == []
    assert _pairs(by_run[runs["B-partners"]]) == expected and len(expected) >= 1
    assert _pairs(by_run[runs["A-private"]]) == expected
    with app.state.session_maker() as s:  # not created at all, not just hidden
        assert s.scalars(select(Alert).where(Alert.run_id == runs["B-private"])).all() == []


def test_an_alert_leaked_before_the_fix_is_neither_shown_nor_sent(world):
    """Attack: a database written by the old server holds A's alert on B's private run. Refusal:
    A's alert list and its delivery log do not show it (404 like an unknown alert), and the outbox
    never sends it: it is set 'withheld'."""
    app, client, keys, ids, runs, _ = world
    maker = app.state.session_maker
    with maker.begin() as s:
        leaked = Alert(
            partner_id=ids["A"],
            run_id=runs["B-private"],
            event_id=999_999,
            norad_id=1,
            other_id=2,
            tca=T0,
            miss_km=0.1,
            pc=None,
            created_at=T0,
            status="pending",
            attempts=0,
            next_attempt_at=0.0,
        )
        s.add(leaked)
        hook = Webhook(partner_id=ids["A"], url="https://ops.example.org/a", secret="s" * 16, created_at=T0)
        s.add(hook)
        s.flush()
        leaked_id, hook_id = leaked.id, hook.id
        hook.secret = outbox.seal_secret(app.state.secret_box, hook_id, "s" * 16)
    op = _h(keys[("A", "operator")])
    assert leaked_id not in {a["id"] for a in client.get("/api/v1/alerts?limit=5000", headers=op).json()}
    unknown = client.get("/api/v1/alerts/2147483647/deliveries", headers=op)
    hidden = client.get(f"/api/v1/alerts/{leaked_id}/deliveries", headers=op)
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["detail"] == f"no alert {leaked_id}"  # the same words as for an unknown id

    sent = []

    def receiver(url, body, headers):
        sent.append(body)
        return DeliveryOutcome(Reason.DELIVERED, 200)

    outbox.deliver_due(maker, T0, box=app.state.secret_box, send=receiver)
    assert all(b'"run_id": %d' % runs["B-private"] not in b for b in sent)
    with maker.begin() as s:
        assert s.get(Alert, leaked_id).status == "withheld"
        s.delete(s.get(Webhook, hook_id))


def test_cross_partner_matrix_no_byte_of_a_private_run(world):
    """Every route that returns data derived from a run, for B's keys of every role and for
    anonymous callers: A's private run answers exactly as a run that does not exist (same status,
    same words with the id swapped), and no listing names it."""
    app, client, keys, ids, runs, _ = world
    private = runs["A-private"]
    missing = 2_000_000_000
    with app.state.session_maker() as s:
        from spacecommons.storage.tables import ConjunctionEvent

        event = s.scalars(select(ConjunctionEvent.id).where(ConjunctionEvent.run_id == private)).first()
    templates = (
        "/api/v1/screening/runs/{run}",
        "/api/v1/screening/runs/{run}/events",
        "/api/v1/screening/runs/{run}/events?norad_id=1&max_miss_km=1",
        "/api/v1/screening/runs/{run}/events/{event}/cdm",
        "/api/v1/screening/runs/{run}/events/{event}/cdm?format=xml",
        "/api/v1/screening/runs/{run}/events/{event}/czml",
    )
    checked = 0
    for who in [None] + [keys[("B", r)] for r in ROLES]:
        listed = client.get("/api/v1/screening/runs", headers=_h(who))
        assert listed.status_code == 200 and private not in {r["id"] for r in listed.json()}
        for t in templates:
            real = client.get(t.format(run=private, event=event), headers=_h(who))
            none = client.get(t.format(run=missing, event=event), headers=_h(who))
            assert real.status_code == none.status_code == 404, (t, who and who[:11], real.text)
            assert real.text.replace(str(private), "ID") == none.text.replace(str(missing), "ID")
            checked += 1
        cancel = client.post(f"/api/v1/screening/runs/{private}/cancel", headers=_h(who))
        assert cancel.status_code in (401, 403, 404) and str(event) not in cancel.text
        if who is not None and client.get("/api/v1/alerts", headers=_h(who)).status_code == 200:
            assert private not in {a["run_id"] for a in client.get("/api/v1/alerts?limit=5000", headers=_h(who)).json()}
    assert checked == 5 * len(templates)
    # the owner sees it (the matrix is not refusing everything)
    assert client.get(f"/api/v1/screening/runs/{private}", headers=_h(keys[("A", "observer")])).status_code == 200
