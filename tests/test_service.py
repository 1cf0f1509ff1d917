"""The platform service: authorization matrix over every route x role, partner isolation,
rate and size limits, audit log, element submission with provenance, background screening
runs, CDMs over HTTP (FastAPI TestClient on a SQLite file)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from spacecommons.cdm import read_kvn
from spacecommons.service import create_app
from spacecommons.storage import partners_repo
from spacecommons.storage.catalog_repo import store_elements

from .conftest import SAMPLE

T0 = datetime(2026, 11, 25, tzinfo=UTC)  # a frozen "now" for rows the tests write

ROLES = ("admin", "operator", "analyst", "observer")
IRIDIUM = SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt"


@pytest.fixture(scope="module")
def service(backend_url):
    """App with the Iridium 33 debris sample, partners A and B with one key per role, and one
    finished run per visibility (A's private, A's partners-only, and a public one)."""
    from datetime import UTC, datetime

    from spacecommons.catalog import read_elements
    from spacecommons.clients.netguard import fixed_resolver
    from spacecommons.conjunction import ScreeningParams, screen
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.timescales import iso_to_jd
    from spacecommons.workflows.screening import create_run, finish_run

    # webhook hosts resolve from a table to loopback (tests send nothing outside 127.0.0.0/8)
    dns = fixed_resolver({"ops.example.org": ["127.0.0.1"], "example.org": ["127.0.0.1"]})
    app = create_app(
        backend_url, rate_per_second=1000.0, rate_burst=100000, webhook_allow_loopback=True, webhook_resolver=dns
    )
    maker = app.state.session_maker
    keys: dict[tuple[str, str], str] = {}
    parsed = read_elements(IRIDIUM)
    with maker.begin() as s:
        store_elements(s, parsed.records, T0)
        for partner in ("A", "B"):
            partners_repo.create_partner(s, partner, T0)
            for role in ROLES:
                m = partners_repo.add_member(s, partner, f"{role}-member", role, T0)
                keys[(partner, role)] = partners_repo.issue_key(s, m.id, T0)
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.05, 10.0)
    payload = CatalogPayload.from_elements(parsed.records)
    result = screen(payload, params, workers=1)
    runs = {}
    now = datetime(2026, 11, 25, tzinfo=UTC)
    for visibility, owner in (("private", "A"), ("partners", "A"), ("public", None)):
        with maker.begin() as s:  # the service's own path: the screening workflow stores the run
            run_id = create_run(
                s, payload, params, now, owner_partner_id=1 if owner == "A" else None, visibility=visibility
            )
            finish_run(s, run_id, result, now)
        runs[visibility] = run_id
    client = TestClient(app)
    yield app, client, keys, runs, len(result.events)
    for flag in list(app.state.jobs.values()):
        flag.set()
    app.state.engine.dispose()


def _api_routes(app):
    """The API routes (FastAPI >= 0.120 nests included routers; older versions flatten them)."""
    for r in app.routes:
        nested = getattr(r, "original_router", None)
        for route in nested.routes if nested is not None else [r]:
            if getattr(route, "path", "").startswith("/api/"):
                yield route


def _h(key: str | None) -> dict:
    return {"X-API-Key": key} if key else {}


def _sample_request(path: str, method: str, runs: dict) -> tuple[str, dict]:
    """A concrete URL and a valid body for each route template."""
    run = runs["public"]
    url = (
        path.replace("{run_id}", str(run))
        .replace("{event_id}", "1")
        .replace("{norad_id}", "34427")
        .replace("{partner}", "A")
        .replace("{prefix}", "00000000")
        .replace("{alert_id}", "1")
        .replace("{webhook_id}", "999999")
        .replace("{lid}", "urn:x:y")
        .replace("{vid}", "1.0")
        .replace("{name}", "f.img")
        .replace("{mission}", "M")
        .replace("{request_id}", "1")
    )
    bodies = {
        "/api/v1/screening/runs": {"start": "2021-10-02T00:00:00Z", "days": 0.01, "threshold_km": 1.0},
        "/api/v1/partners": {"name": f"P{time.monotonic_ns()}"},
        "/api/v1/partners/{partner}/members": {"name": f"m{time.monotonic_ns()}", "role": "observer"},
        "/api/v1/neo/approaches": {"designations": ["none"], "start": "2020-01-01", "end": "2020-01-02"},
        "/api/v1/watchlist": {"norad_id": 1, "max_miss_km": 1.0},
        "/api/v1/neo/risk": {"designations": ["none"]},
        "/api/v1/neo/od/fit": {"designation": "none"},
        "/api/v1/neo/od/impact-site": {"designation": "none"},
        "/api/v1/exchange/missions": {"name": f"M{time.monotonic_ns()}", "kind": "lander"},
        "/api/v1/exchange/missions/{mission}/payloads": {"name": "P", "instrument": "camera"},
        "/api/v1/exchange/products/{lid}/{vid}/release": {},
        "/api/v1/exchange/products/{lid}/{vid}/access-requests": {"purpose": "x" * 12, "commitment": "y" * 12},
        "/api/v1/webhooks": {"url": "https://example.org/h", "secret": "0123456789abcdef"},
    }
    params = {
        "/api/v1/neo/scales": "?ip=1e-4&energy_mt=100&years=30",
        "/api/v1/defense/impact-effects": "?diameter_m=50&speed_km_s=20",
        "/api/v1/catalog/elements": "?filename=x.tle",
        "/api/v1/exchange/products": "?mission=M&payload=P",
        "/api/v1/exchange/access-requests/{request_id}/decision": "?approve=true",
    }
    return url + params.get(path, ""), bodies.get(path, {})


def test_every_route_declares_roles(service):
    app, client, *_ = service
    spec = client.get("/openapi.json").json()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("x-roles"), f"{method.upper()} {path} declares no roles"


def test_authorization_matrix_every_route_every_role(service):
    """100% of API routes x (anonymous + 4 roles): admitted roles pass the check, the others get
    401 (anonymous) or 403."""
    app, client, keys, runs, _ = service
    checked = 0
    for r in _api_routes(app):
        declared = [d.call.roles for d in r.dependant.dependencies if hasattr(d.call, "roles")]
        assert len(declared) == 1, f"{r.path} must declare its roles exactly once"
        roles = declared[0]
        for method in r.methods:
            url, body = _sample_request(r.path, method, runs)
            for role in (None, *ROLES):
                key = keys[("B", role)] if role else None
                resp = client.request(method, url, headers=_h(key), json=body if body else None)
                admitted = "public" in roles or role == "admin" or role in roles
                role_refusal = resp.status_code == 401 or "may not use this route" in resp.text
                if admitted:  # may still be refused for ownership (cancelling another partner's run)
                    assert not role_refusal, (method, r.path, role, resp.text)
                else:
                    assert resp.status_code == (401 if role is None else 403), (method, r.path, role, resp.text)
                checked += 1
    assert checked >= 5 * 18


def test_partner_a_private_run_is_invisible_to_everyone_else(service):
    app, client, keys, runs, n_events = service
    private, partners_only = runs["private"], runs["partners"]
    for who in [None] + [keys[("B", r)] for r in ROLES]:
        listed = {r["id"] for r in client.get("/api/v1/screening/runs", headers=_h(who)).json()}
        assert private not in listed
        for path in (
            f"/api/v1/screening/runs/{private}",
            f"/api/v1/screening/runs/{private}/events",
            f"/api/v1/screening/runs/{private}/events/1/cdm",
        ):
            assert client.get(path, headers=_h(who)).status_code == 404
    assert client.get(f"/api/v1/screening/runs/{partners_only}").status_code == 404  # anonymous
    assert client.get(f"/api/v1/screening/runs/{partners_only}", headers=_h(keys[("B", "observer")])).status_code == 200
    own = client.get(f"/api/v1/screening/runs/{private}/events?limit=5000", headers=_h(keys[("A", "observer")]))
    assert own.status_code == 200 and len(own.json()) == n_events


def test_events_filters_and_cdm(service):
    app, client, keys, runs, n_events = service
    run = runs["public"]
    events = client.get(f"/api/v1/screening/runs/{run}/events?limit=5000").json()
    assert len(events) == n_events > 0
    assert [e["miss_km"] for e in events] == sorted(e["miss_km"] for e in events)
    close = client.get(f"/api/v1/screening/runs/{run}/events?max_miss_km=5&limit=5000").json()
    assert close == [e for e in events if e["miss_km"] <= 5]
    obj = events[0]["id1"]
    involving = client.get(f"/api/v1/screening/runs/{run}/events?norad_id={obj}&limit=5000").json()
    assert involving and all(obj in (e["id1"], e["id2"]) for e in involving)
    assert {e["id"] for e in involving} == {e["id"] for e in events if obj in (e["id1"], e["id2"])}
    kvn = client.get(f"/api/v1/screening/runs/{run}/events/{events[0]['id']}/cdm")
    assert kvn.status_code == 200
    cdm = read_kvn(kvn.text)
    designators = {int(cdm.get("OBJECT_DESIGNATOR", 1)), int(cdm.get("OBJECT_DESIGNATOR", 2))}
    assert designators == {events[0]["id1"], events[0]["id2"]}
    assert abs(float(cdm.get("MISS_DISTANCE")) - events[0]["miss_km"] * 1000) < 1.0  # metres
    xml = client.get(f"/api/v1/screening/runs/{run}/events/{events[0]['id']}/cdm?format=xml")
    assert xml.status_code == 200 and xml.text.lstrip().startswith("<?xml")


def test_observer_submits_elements_with_provenance_and_bad_lines_reported(service):
    app, client, keys, *_ = service
    lines = IRIDIUM.read_text().splitlines()[:6]
    bad = lines[4][:20] + "X" + lines[4][21:]  # corrupt the second object's line 1
    body = "\n".join(lines[:4] + [bad, lines[5]]) + "\n"
    r = client.post("/api/v1/catalog/elements?filename=obs.tle", content=body, headers=_h(keys[("B", "observer")]))
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["added"] + out["unchanged"] == 1 and len(out["rejected"]) == 1
    assert out["rejected"][0].startswith("api:B/observer-member/obs.tle:")
    norad = int(lines[1][2:7])
    history = client.get(f"/api/v1/catalog/objects/{norad}/elements").json()
    assert any(h["source"].startswith(("api:B/observer-member/obs.tle", str(IRIDIUM))) for h in history)


def test_audit_log_records_every_write(service):
    app, client, keys, *_ = service
    admin = keys[("A", "admin")]
    client.post("/api/v1/partners", json={"name": "Audited"}, headers=_h(admin))
    client.post("/api/v1/partners", json={"name": "x"}, headers=_h(keys[("A", "observer")]))  # refused: 403
    log = client.get("/api/v1/audit?limit=50", headers=_h(admin)).json()
    mine = [e for e in log if e["path"] == "/api/v1/partners"]
    assert any(e["status"] == 201 and e["partner_id"] == 1 for e in mine)
    assert any(e["status"] == 403 for e in mine)


def test_revoked_key_and_wrong_key_are_refused(service):
    app, client, keys, *_ = service
    maker = app.state.session_maker
    with maker.begin() as s:
        m = partners_repo.add_member(s, "B", "temp", "analyst", T0)
        key = partners_repo.issue_key(s, m.id, T0)
    assert client.get("/api/v1/screening/runs", headers=_h(key)).status_code == 200
    prefix = key.split("_")[1]
    assert client.delete(f"/api/v1/keys/{prefix}", headers=_h(keys[("A", "admin")])).status_code == 204
    assert client.get("/api/v1/screening/runs", headers=_h(key)).status_code == 401
    assert client.get("/api/v1/screening/runs", headers=_h(key[:-2] + "xx")).status_code == 401
    with maker() as s:
        from sqlalchemy import select

        from spacecommons.storage.tables import ApiKey

        stored = s.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        assert key not in stored.key_hash and stored.key_hash.startswith("$argon2")


def test_rate_limit_and_body_size(tmp_path):
    app = create_app(f"sqlite:///{tmp_path / 'r.db'}", rate_per_second=0.5, rate_burst=3, max_body_bytes=100)
    client = TestClient(app)
    big = client.post("/api/v1/catalog/elements", content=b"x" * 200)
    assert big.status_code == 413  # and it took one of the address's 3 tokens: limits come first
    codes = [client.get("/api/v1/health").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    r = client.get("/api/v1/health")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


def test_background_screening_run_and_cancel(service):
    app, client, keys, *_ = service
    analyst = _h(keys[("B", "analyst")])
    body = {"start": "2021-10-02T00:00:00Z", "days": 0.02, "threshold_km": 20.0, "visibility": "private"}
    r = client.post("/api/v1/screening/runs", json=body, headers=analyst)
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    for _ in range(600):
        status = client.get(f"/api/v1/screening/runs/{run_id}", headers=analyst).json()
        if status["status"] != "running":
            break
        time.sleep(0.1)
    assert status["status"] == "done" and status["chunks_done"] == status["n_chunks"]
    assert client.get(f"/api/v1/screening/runs/{run_id}", headers=_h(keys[("A", "analyst")])).status_code == 404
    long = client.post(
        "/api/v1/screening/runs",
        json={"start": "2021-10-02T00:00:00Z", "days": 3.0, "threshold_km": 5.0},
        headers=analyst,
    )
    long_id = long.json()["id"]
    assert client.post(f"/api/v1/screening/runs/{long_id}/cancel", headers=analyst).status_code == 200
    for _ in range(600):
        status = client.get(f"/api/v1/screening/runs/{long_id}", headers=analyst).json()
        if status["status"] != "running":
            break
        time.sleep(0.1)
    assert status["status"] == "cancelled"


def test_dashboard_and_health(service):
    app, client, *_ = service
    page = client.get("/")
    assert page.status_code == 200 and "Orbital safety" in page.text and "<script" in page.text
    assert "https://" not in page.text  # works offline: no external scripts, styles or tiles
    h = client.get("/api/v1/health").json()
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from spacecommons.storage.engine import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()  # new migrations move it
    assert h["status"] == "ok" and h["schema_revision"] == head
    assert h["database"] == app.state.engine.dialect.name


def test_watchlist_alerts_and_signed_webhook_delivery_with_retry(service):
    """An operator watches an object; a new run's events under its threshold become alerts, which
    are POSTed with an HMAC-SHA256 signature, retried after a failure, and logged."""
    import hashlib
    import hmac
    import json
    from datetime import UTC, datetime

    from spacecommons.clients.netguard import DeliveryOutcome, Reason
    from spacecommons.workflows.alerts import deliver_due

    app, client, keys, runs, _ = service
    events = client.get(f"/api/v1/screening/runs/{runs['public']}/events?limit=5000").json()
    watched = events[0]["id1"]
    threshold = events[0]["miss_km"] + 1e-6
    op = _h(keys[("B", "operator")])
    assert (
        client.post("/api/v1/watchlist", json={"norad_id": watched, "max_miss_km": threshold}, headers=op).status_code
        == 201
    )
    secret = "correct horse battery staple"
    assert (
        client.post(
            "/api/v1/webhooks", json={"url": "https://ops.example.org/hook", "secret": secret}, headers=op
        ).status_code
        == 201
    )
    body = {"start": "2021-10-02T00:00:00Z", "days": 0.05, "threshold_km": 10.0, "visibility": "private"}
    run_id = client.post("/api/v1/screening/runs", json=body, headers=_h(keys[("B", "analyst")])).json()["id"]
    for _ in range(600):
        if client.get(f"/api/v1/screening/runs/{run_id}", headers=op).json()["status"] != "running":
            break
        time.sleep(0.1)
    expected = [e for e in events if watched in (e["id1"], e["id2"]) and e["miss_km"] <= threshold]
    alerts = [a for a in client.get("/api/v1/alerts", headers=op).json() if a["run_id"] == run_id]
    assert len(alerts) == len(expected) >= 1 and all(a["status"] == "pending" for a in alerts)
    assert client.get("/api/v1/alerts", headers=_h(keys[("A", "operator")])).json() == []

    received = []
    lock = threading.Lock()

    def receiver(url: str, body: bytes, headers: dict) -> DeliveryOutcome:  # stands in for netguard.deliver
        if url != "https://ops.example.org/hook":
            return DeliveryOutcome(Reason.DELIVERED, 200)  # webhooks registered by the authorization-matrix test
        sig = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert headers["x-spacecommons-signature"] == f"sha256={sig}"
        with lock:  # sends run on a pool: exactly the first one received fails
            received.append(json.loads(body))
            first = len(received) == 1
        return DeliveryOutcome(Reason.HTTP_5XX, 500) if first else DeliveryOutcome(Reason.DELIVERED, 200)

    def at(unix_s: float) -> datetime:
        return datetime.fromtimestamp(unix_s, UTC)

    maker = app.state.session_maker
    box = app.state.secret_box
    assert deliver_due(maker, at(1000.0), box=box, send=receiver) == len(alerts) - 1  # the first POST fails
    assert deliver_due(maker, at(1001.0), box=box, send=receiver) == 0  # not due yet: backoff 2 s
    assert deliver_due(maker, at(1003.0), box=box, send=receiver) == 1
    first = received[0]["alert_id"]  # the alert whose first POST failed
    log = client.get(f"/api/v1/alerts/{first}/deliveries", headers=op).json()
    mine = [d for d in log if d["webhook_id"] == max(d["webhook_id"] for d in log)]  # the hook registered here
    assert [(d["attempt"], d["status_code"], d["reason"]) for d in mine] == [
        (1, 500, "HTTP 5xx"),
        (2, 200, "delivered"),
    ]
    sent = next(a for a in alerts if a["id"] == first)
    assert received[0]["event_id"] == sent["event_id"] and received[0]["norad_id"] == watched
    assert all(
        a["status"] == "delivered" for a in client.get("/api/v1/alerts", headers=op).json() if a["run_id"] == run_id
    )
    assert client.get(f"/api/v1/alerts/{first}/deliveries", headers=_h(keys[("A", "operator")])).status_code == 404


def test_catalog_search_by_name_number_and_regime(service):
    """The Iridium 33 debris (~790 km, CelesTrak group of 2021-10-02) are all LEO."""
    app, client, *_ = service
    leo = client.get("/api/v1/catalog/objects?regime=LEO&limit=1000").json()
    assert len(leo) >= 332 and all("IRIDIUM" in o["name"] or o["element_sets"] for o in leo)
    assert client.get("/api/v1/catalog/objects?regime=GEO").json() == []
    one = client.get("/api/v1/catalog/objects?q=24946").json()
    assert [o["norad_id"] for o in one] == [24946] and one[0]["name"] == "IRIDIUM 33"
    assert client.get("/api/v1/catalog/objects?regime=XEO").status_code == 422
