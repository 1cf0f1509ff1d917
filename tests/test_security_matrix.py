"""Cross-partner matrix (issue #11, "What it must show"): for every API route, partner B's keys of
every partner role and anonymous callers get no byte of partner A's private data, and change
none of it, on SQLite and PostgreSQL.

Partner A holds a private screening run (with its events and an alert), a watchlist entry, a
webhook, an embargoed product with a data file, and an access request to partner C's embargoed
product. Each carries a marker string found nowhere else; the routes are taken from
``app.routes`` (a route added later is covered without editing this file), path parameters are
filled with A's ids, and every response must be a refusal (401/403/404, or 4xx for a body the
route will not take) or a body without any marker and without A's private ids.

``admin`` is left out of "B's roles": an admin member is the node's own staff, trusted with
everything on its node (docs/security.md, actors).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from spacecommons.catalog import read_elements
from spacecommons.conjunction import ScreeningParams, screen
from spacecommons.conjunction.catalog_payload import CatalogPayload
from spacecommons.service import create_app
from spacecommons.storage import alerts_repo, partners_repo
from spacecommons.storage.catalog_repo import store_elements
from spacecommons.storage.tables import Product, ScreeningRun, WatchEntry
from spacecommons.timescales import iso_to_jd
from spacecommons.workflows.screening import create_run, finish_run

from .conftest import SAMPLE

T0 = datetime(2026, 1, 1, tzinfo=UTC)  # before every release date of the products below
IRIDIUM = SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt"
LABELS = sorted((Path(__file__).parent / "data" / "lunar").glob("*.xml"))
PARTNER_ROLES = ("operator", "analyst", "observer")

MARK = {
    "run": 9.87654,  # threshold_km of A's private run: appears in its params
    "watch": 9.93141,  # A's watch threshold (over the run's, so every event of the object alerts)
    "hook_url": "https://a-hooks-7f3c.example.org/private-path-7f3c",
    "hook_secret": "a-secret-7f3c-never-shown",
    "data": b"A-PRIVATE-DATA-7f3c" * 50,
    "purpose": "A-purpose-7f3c crater statistics",
    "commitment": "A-commitment-7f3c no redistribution",
    "ephemeris": "A-EPHEMERIS-7f3c",  # OBJECT_NAME of A's private OEM
    "obs_ra": "123.4567891",  # RA of A's private astrometric observation
}
A_OBJECT = "A7f3cTrk"  # the tracklet A observed privately (ADES trkSub)


def _h(key: str | None) -> dict:
    return {"X-API-Key": key} if key else {}


def _ingest(client, key: str, mission: str, label: Path, data: bytes) -> dict:
    owner = _h(key)
    body = {"name": mission, "kind": "lander", "proprietary_days": 30, "public_after_days": 30}
    assert client.post("/api/v1/exchange/missions", json=body, headers=owner).status_code == 201
    r = client.post(
        f"/api/v1/exchange/missions/{mission}/payloads", json={"name": "CAM", "instrument": "camera"}, headers=owner
    )
    assert r.status_code == 201, r.text
    r = client.post(
        f"/api/v1/exchange/products?mission={mission}&payload=CAM", content=label.read_bytes(), headers=owner
    )
    assert r.status_code == 201, r.text
    product = r.json()
    up = client.put(
        f"/api/v1/exchange/products/{product['lid']}/{product['vid']}/files/data.img",
        content=data,
        headers={**owner, "content-type": "application/octet-stream"},
    )
    assert up.status_code == 201, up.text
    return product


@pytest.fixture(scope="module")
def world(backend_url, tmp_path_factory):
    app = create_app(
        backend_url,
        rate_per_second=1000.0,
        rate_burst=100000,
        clock=lambda: T0,
        blob_root=str(tmp_path_factory.mktemp("blobs")),
    )
    maker = app.state.session_maker
    keys: dict[tuple[str, str], str] = {}
    parsed = read_elements(IRIDIUM)
    with maker.begin() as s:
        store_elements(s, parsed.records, T0)
        for partner in ("A", "B", "C"):
            partners_repo.create_partner(s, partner, T0)
            for role in PARTNER_ROLES:
                m = partners_repo.add_member(s, partner, f"{role}-member", role, T0)
                keys[(partner, role)] = partners_repo.issue_key(s, m.id, T0)
    a_id = 1
    client = TestClient(app)

    # A's private runs: the first shows which object to watch; the second finishes with A's
    # watch entry in place, so that it raises A's alert
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.05, MARK["run"])
    payload = CatalogPayload.from_elements(parsed.records)
    result = screen(payload, params, workers=1)
    runs = []
    for _ in range(2):
        if runs:
            watched = client.get(f"/api/v1/screening/runs/{runs[0]}/events", headers=_h(keys[("A", "analyst")])).json()
            body = {"norad_id": watched[0]["id1"], "max_miss_km": MARK["watch"]}
            assert client.post("/api/v1/watchlist", json=body, headers=_h(keys[("A", "operator")])).status_code == 201
        with maker.begin() as s:
            runs.append(create_run(s, payload, params, T0, owner_partner_id=a_id, visibility="private"))
            finish_run(s, runs[-1], result, T0)
    run_id = runs[-1]
    events = client.get(f"/api/v1/screening/runs/{run_id}/events", headers=_h(keys[("A", "analyst")])).json()
    alerts = client.get("/api/v1/alerts", headers=_h(keys[("A", "operator")])).json()
    assert alerts and all(a["run_id"] == run_id for a in alerts)

    # A's webhook (through the route when it admits the address, else as the repository stores it)
    r = client.post(
        "/api/v1/webhooks",
        json={"url": MARK["hook_url"], "secret": MARK["hook_secret"]},
        headers=_h(keys[("A", "operator")]),
    )
    if r.status_code != 201:
        with maker.begin() as s:
            alerts_repo.add_webhook(s, a_id, MARK["hook_url"], MARK["hook_secret"], T0)

    # A's embargoed product, and A's access request to C's embargoed product
    product = _ingest(client, keys[("A", "operator")], "MISSION-A", LABELS[0], MARK["data"])
    other = _ingest(client, keys[("C", "operator")], "MISSION-C", LABELS[1], b"C-data" * 10)
    r = client.post(
        f"/api/v1/exchange/products/{other['lid']}/{other['vid']}/access-requests",
        json={"purpose": MARK["purpose"], "commitment": MARK["commitment"]},
        headers=_h(keys[("A", "analyst")]),
    )
    assert r.status_code in (200, 201), r.text
    # A's private ephemeris (OEM) of an object an admin made A's
    from spacecommons.storage.catalog_repo import set_owner

    own = parsed.records[0]
    with maker.begin() as s:
        assert set_owner(s, own.norad_id, a_id)
    eph = client.post(
        "/api/v1/ephemerides?visibility=private&filename=a.oem",
        content=_oem_of(own, MARK["ephemeris"]),
        headers=_h(keys[("A", "operator")]),
    )
    assert eph.status_code == 201, eph.text
    # A's private astrometry (ADES PSV, visibility private)
    psv = (
        "# version=2017\ntrkSub|mode|stn|obsTime|ra|dec\n"
        f"{A_OBJECT}|CCD|568|2026-01-01T00:00:00Z|{MARK['obs_ra']}|+12.5\n"
    )
    r_obs = client.post(
        "/api/v1/neo/observations?visibility=private", content=psv.encode(), headers=_h(keys[("A", "observer")])
    )
    assert r_obs.status_code == 201 and r_obs.json()["added"] == 1, r_obs.text
    assert MARK["obs_ra"] in client.get(f"/api/v1/neo/observations/{A_OBJECT}", headers=_h(keys[("A", "analyst")])).text
    # A's finished archive export job (its tar holds A's data): B and anonymous must not see either
    import io
    import tarfile

    def _a_export(token) -> dict:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo("a/data.img")
            info.size = len(MARK["data"])
            tar.addfile(info, io.BytesIO(MARK["data"]))
        exports = Path(app.state.blobs.root) / "exports"
        exports.mkdir(exist_ok=True)
        (exports / f"{holder['id']}.tar").write_bytes(buf.getvalue())
        return {
            "files": 1,
            "bytes": 1,
            "archive_bytes": 1,
            "sha256": "0" * 64,
            "lid": product["lid"],
            "vid": product["vid"],
        }

    holder: dict = {}
    holder["id"] = app.state.job_queue.submit(f"partner:{a_id}", _a_export, kind="archive-export")
    app.state.job_queue.wait(holder["id"], timeout=60)
    ids = {
        "ephemeris_id": eph.json()[0]["id"],
        "run_id": run_id,
        "event_id": events[0]["id"],
        "norad_id": body["norad_id"],
        "alert_id": alerts[0]["id"],
        "lid": product["lid"],
        "vid": product["vid"],
        "name": "data.img",
        "mission": "MISSION-A",
        "request_id": r.json()["id"],
        "partner": "A",
        "designation": A_OBJECT,
        "prefix": keys[("A", "operator")].split("_")[1],
        "job_id": holder["id"],
    }
    yield app, client, keys, ids, {a["id"] for a in alerts}
    app.state.job_queue.shutdown(wait=True, timeout=60)
    app.state.engine.dispose()


def _oem_of(record, name: str) -> bytes:
    """A one-hour OEM (KVN) of ``record``'s SGP4 states, its OBJECT_NAME ``name``."""
    import numpy as np

    from spacecommons.ephemeris import Oem, write_oem
    from spacecommons.ephemeris.track import segment_from_teme

    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    t = np.arange(0.0, 3660.0, 60.0)
    jds, frs = np.full(t.shape, jd), fr + t / 86400.0
    _, r, v = record.satrec().sgp4_array(jds, frs)
    seg = segment_from_teme(
        object_name=name, object_id=str(record.norad_id), jd=jds, fr=frs, r_teme_km=r, v_teme_km_s=v
    )
    return write_oem(Oem.build([seg], creation_date="2026-01-01T00:00:00", originator="A")).encode()


def _api_routes(app):
    for r in app.routes:
        nested = getattr(r, "original_router", None)
        for route in nested.routes if nested is not None else [r]:
            if getattr(route, "path", "").startswith("/api/"):
                yield route


BODIES = {  # a body each write route accepts, so that the route's own checks are what refuses
    "/api/v1/screening/runs": {"start": "2021-10-02T00:00:00Z", "days": 0.01, "threshold_km": 1.0},
    "/api/v1/watchlist": {"norad_id": 1, "max_miss_km": 1.0},
    "/api/v1/webhooks": {"url": "https://b.example.org/h", "secret": "0123456789abcdef"},
    "/api/v1/neo/approaches": {"designations": ["none"], "start": "2020-01-01", "end": "2020-01-02"},
    "/api/v1/neo/risk": {"designations": ["none"]},
    "/api/v1/neo/bplane": {"designation": "none", "jd_tdb": 2462240.407},
    "/api/v1/screening/runs/{run_id}/events/{event_id}/avoidance": {"max_lead_h": 2, "rescreen": False},
    "/api/v1/neo/od/fit": {"designation": A_OBJECT},  # A's private astrometry: B must not fit it
    "/api/v1/neo/od/impact-site": {"designation": A_OBJECT},
    "/api/v1/partners": {"name": "B-made"},
    "/api/v1/partners/{partner}/members": {"name": "intruder", "role": "admin"},
    "/api/v1/exchange/missions": {"name": "MISSION-B", "kind": "lander"},
    "/api/v1/exchange/missions/{mission}/payloads": {"name": "B-PAYLOAD", "instrument": "camera"},
    "/api/v1/exchange/products/{lid}/{vid}/release": {},
    "/api/v1/exchange/products/{lid}/{vid}/doi": {"doi": "10.1234/b-overwrites"},
    "/api/v1/exchange/products/{lid}/{vid}/access-requests": {"purpose": "b" * 12, "commitment": "c" * 12},
}
QUERIES = {
    "/api/v1/catalog/czml": "at=2021-10-02T00:00:00Z",
    "/api/v1/neo/scales": "ip=1e-4&energy_mt=100&years=30",
    "/api/v1/defense/impact-effects": "diameter_m=50&speed_km_s=20",
    "/api/v1/exchange/products": "mission=MISSION-A&payload=CAM",
    "/api/v1/exchange/access-requests/{request_id}/decision": "approve=true",
    "/api/v1/federation/data": "seqs=0-1000",  # every product of the node: A's embargoed one must stay out
}


def _private_ids(doc, ids: dict, alert_ids: set[int]) -> list[str]:
    """A's private ids found in a JSON answer: a run listed with A's run id, or anything that
    names A's run (``run_id``) or one of A's alerts."""
    found = []

    def walk(x) -> None:
        if isinstance(x, dict):
            if x.get("run_id") == ids["run_id"] or ("params" in x and x.get("id") == ids["run_id"]):
                found.append(f"run {ids['run_id']}")
            if "event_id" in x and x.get("id") in alert_ids:
                found.append(f"alert {x['id']}")
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(doc)
    return found


def test_partner_b_and_anonymous_get_nothing_of_partner_a(world):
    app, client, keys, ids, alert_ids = world
    markers = [str(MARK["run"]), str(MARK["watch"]), MARK["hook_url"], MARK["hook_secret"], MARK["purpose"]]
    markers += [MARK["commitment"], MARK["data"][:19].decode(), MARK["ephemeris"], MARK["obs_ra"]]
    callers = {f"B-{role}": keys[("B", role)] for role in PARTNER_ROLES} | {"anonymous": None}
    leaks, seen = [], 0
    for route in _api_routes(app):
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            url = route.path
            for name, value in ids.items():
                url = url.replace("{" + name + "}", str(value))
            if route.path in QUERIES:
                url += "?" + QUERIES[route.path]
            for who, key in callers.items():
                kwargs = {"json": BODIES.get(route.path, {})} if method in ("POST", "PATCH") else {}
                if method == "PUT":
                    kwargs = {"content": b"B overwrites", "headers": {"content-type": "application/octet-stream"}}
                headers = {**kwargs.pop("headers", {}), **_h(key)}
                r = client.request(method, url, headers=headers, **kwargs)
                seen += 1
                text = r.text
                found = [m for m in markers if m in text]
                if who == "anonymous" and ids["lid"] in text:
                    found.append("A's embargoed product's LID")
                if (
                    r.headers.get("content-type", "").startswith("application/json")
                    and r.status_code < 300
                    and r.content
                ):
                    found += _private_ids(r.json(), ids, alert_ids)
                if found:
                    leaks.append(f"{method} {route.path} as {who}: {r.status_code} {found}")
    assert seen > 100
    assert not leaks, "\n".join(leaks)


def test_partner_a_data_is_unchanged_after_the_matrix(world):
    """Writes by B (release, tombstone, upload, decide, unwatch, cancel, revoke) on A's ids changed nothing."""
    app, client, keys, ids, _ = world
    test_partner_b_and_anonymous_get_nothing_of_partner_a(world)  # the writes, if run alone
    with app.state.session_maker() as s:
        p = s.query(Product).filter(Product.lid == ids["lid"]).one()
        assert p.tombstoned_at is None and p.public_release_at > T0 and p.partners_release_at > T0
        assert p.doi is None and p.label_changes is None  # B registered no DOI, changed no label
        assert s.query(WatchEntry).filter(WatchEntry.norad_id == ids["norad_id"]).count() >= 1
        run = s.get(ScreeningRun, ids["run_id"])
        assert run.status == "done" and run.visibility == "private"
    r = client.get(
        f"/api/v1/exchange/products/{ids['lid']}/{ids['vid']}/files/data.img", headers=_h(keys[("A", "operator")])
    )
    assert r.status_code == 200 and r.content == MARK["data"]
    assert client.get("/api/v1/watchlist", headers=_h(keys[("A", "operator")])).status_code == 200
    assert (
        client.get("/api/v1/screening/runs", headers=_h(keys[("A", "operator")])).status_code == 200
    )  # key not revoked


def test_b_watching_an_object_gets_no_alert_from_a_private_run(world):
    app, client, keys, ids, _ = world
    op = _h(keys[("B", "operator")])
    assert (
        client.post(
            "/api/v1/watchlist", json={"norad_id": ids["norad_id"], "max_miss_km": 100.0}, headers=op
        ).status_code
        == 201
    )
    parsed = read_elements(IRIDIUM)
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.05, 10.0)
    payload = CatalogPayload.from_elements(parsed.records)
    with app.state.session_maker.begin() as s:
        run_id = create_run(s, payload, params, T0, owner_partner_id=1, visibility="private")
        finish_run(s, run_id, screen(payload, params, workers=1), T0)
    leaked = [a for a in client.get("/api/v1/alerts", headers=op).json() if a["run_id"] == run_id]
    client.delete(f"/api/v1/watchlist/{ids['norad_id']}", headers=op)
    assert leaked == [], json.dumps(leaked[:2])


def test_b_neither_updates_nor_triggers_updates_of_a_runs(world):
    """Incremental re-screening (issue #18): B's keys cannot update A's run, and B's element-set
    submission, even for an object B owns that is in A's run, queues no update of A's runs (the
    hook looks only at the submitting partner's own runs)."""
    from spacecommons.storage.catalog_repo import set_owner

    from .test_screen_update import _shift_mean_anomaly

    app, client, keys, ids, _ = world
    url = f"/api/v1/screening/runs/{ids['run_id']}/update"
    for role in ("operator", "analyst"):
        assert client.post(url, headers=_h(keys[("B", role)])).status_code == 404  # private: as if none
    assert client.post(url, headers=_h(keys[("B", "observer")])).status_code == 403  # role not admitted
    assert client.post(url).status_code == 401
    from sqlalchemy import select

    from spacecommons.storage.tables import Partner

    record = read_elements(IRIDIUM).records[1]
    queue = app.state.job_queue
    with app.state.session_maker.begin() as s:
        b_id = s.scalar(select(Partner.id).where(Partner.name == "B"))
        assert set_owner(s, record.norad_id, b_id)  # B's object, flying in A's run
    try:
        text = f"{record.name}\n{record.line1}\n{_shift_mean_anomaly(record.line2, 0.3)}\n".encode()
        r = client.post("/api/v1/catalog/elements?filename=b.tle", content=text, headers=_h(keys[("B", "observer")]))
        assert r.status_code == 201 and r.json()["added"] == 1
        jobs = r.json()["update_jobs"]
        # B may have runs of its own from other tests of this module (their updates are right);
        # none of the queued updates is of A's run (a job's group is the run it updates)
        assert f"screening-run:{ids['run_id']}" not in {queue._jobs[j].group for j in jobs}
        for j in jobs:
            queue.wait(j, timeout=600)  # no job left running into the next test
    finally:
        with app.state.session_maker.begin() as s:
            set_owner(s, record.norad_id, None)


def test_b_private_radar_is_not_used_in_a_fit(world):
    """Issue #16: ``POST /api/v1/neo/od/fit`` fits the radar the caller may see. B's private delays
    of an object with public optical astrometry (2023 DW, tests/data) are in B's fit and not in A's:
    A's answer has no radar row and no trace of B's delays (their sigma is a marker)."""
    from sqlalchemy import select

    from spacecommons.neo.astrometry.mpc80 import read_mpc80
    from spacecommons.storage.observations_repo import store_observations
    from spacecommons.storage.tables import Partner
    from spacecommons.workflows.orbit_fit import fit_observations

    from .test_neo_od_api import DW, synthetic_delays

    app, client, keys, _, _ = world
    optical, issues = read_mpc80(DW.read_text(), DW.name)
    assert not issues
    b_radar = synthetic_delays(fit_observations(optical), [2460006.5, 2460014.25], offset_s=3e-6)
    marker_sigma_us = 7.3571  # B's stated sigma: shows up in any answer that used B's delays
    b_radar = [replace_sigma(o, marker_sigma_us * 1e-6) for o in b_radar]
    with app.state.session_maker.begin() as s:
        b_id = s.scalar(select(Partner.id).where(Partner.name == "B"))
        store_observations(s, optical, file_sha256="d" * 64, submitter="node", loaded_at=T0)  # public
        store_observations(
            s, b_radar, file_sha256="b" * 64, submitter="B", loaded_at=T0, partner_id=b_id, visibility="private"
        )
    body = {"designation": "2023 DW"}
    a = client.post("/api/v1/neo/od/fit", json=body, headers=_h(keys[("A", "analyst")]))
    assert a.status_code == 200, a.text
    assert a.json()["residuals"]["radar"] == [] and "radar" not in a.json() and "7.357" not in a.text
    b = client.post("/api/v1/neo/od/fit", json=body, headers=_h(keys[("B", "analyst")]))
    assert b.status_code == 200, b.text
    assert [x["sigma"] for x in b.json()["residuals"]["radar"]] == pytest.approx([marker_sigma_us] * 2)  # B's own: used


def replace_sigma(obs, sigma: float):
    from dataclasses import replace

    return replace(obs, sigma=sigma)
