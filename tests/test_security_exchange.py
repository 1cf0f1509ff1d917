"""Security of the lunar data exchange (issue #11, items 4 and 8), each test written as the attack:
the request a hostile partner sends, and the refusal expected. On SQLite and on PostgreSQL (the
``backend_url`` fixture; PostgreSQL when SPACECOMMONS_TEST_PG_URL is set).

Partner A owns mission ILRS-A with payload CAM and ingests a real LROC label (tests/data/lunar,
from PDS LROC archive, see tests/data/SOURCES.md); partner B is a hostile station partner with its
own mission. Expected refusals are those the issue asks for: 403 for another partner's LID or
mission, 400 for a version_id outside PDS4's ``M.n`` (PDS4 core schema 1Q00, ``pds:version_id``),
409 (not 500) for a duplicate that a concurrent request created first."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from spacecommons.exchange.pds4 import read_label
from spacecommons.service import create_app
from spacecommons.storage import exchange_repo, partners_repo
from spacecommons.storage.tables import Product

LABELS = sorted((Path(__file__).parent / "data" / "lunar").glob("*.xml"))
LABEL = LABELS[0].read_text()  # an LROC NAC label, version_id 2.0
META = read_label(LABEL)
T0 = datetime(2026, 1, 1, tzinfo=UTC)
X = "/api/v1/exchange"


def with_version(vid: str, label: str = LABEL) -> bytes:
    return label.replace(f"<version_id>{META.vid}</version_id>", f"<version_id>{vid}</version_id>", 1).encode()


def with_lid(lid: str, vid: str = "1.0") -> bytes:
    return with_version(vid, LABEL.replace(META.lid, lid))


@pytest.fixture(scope="module")
def node(backend_url, tmp_path_factory):
    """Partners A (owner of mission ILRS-A, payload CAM, and of META's LID) and B (a hostile
    partner with mission ILRS-B, payload SPY); one key per role."""
    app = create_app(
        backend_url,
        clock=lambda: T0,
        blob_root=str(tmp_path_factory.mktemp("blobs")),
        rate_per_second=1000.0,
        rate_burst=100000,
    )
    keys = {}
    with app.state.session_maker.begin() as s:
        for partner in ("A", "B"):
            partners_repo.create_partner(s, partner, T0)
            for role in ("operator", "observer", "admin"):
                m = partners_repo.add_member(s, partner, role, role, T0)
                keys[(partner, role)] = {"X-API-Key": partners_repo.issue_key(s, m.id, T0)}
    client = TestClient(app)
    for partner, mission, payload in (("A", "ILRS-A", "CAM"), ("B", "ILRS-B", "SPY")):
        h = keys[(partner, "operator")]
        r = client.post(f"{X}/missions", json={"name": mission, "kind": "lander"}, headers=h)
        assert r.status_code == 201, r.text
        r = client.post(f"{X}/missions/{mission}/payloads", json={"name": payload, "instrument": "cam"}, headers=h)
        assert r.status_code == 201, r.text
    r = client.post(f"{X}/products?mission=ILRS-A&payload=CAM", content=LABEL.encode(), headers=keys[("A", "operator")])
    assert r.status_code == 201, r.text
    yield app, client, keys
    app.state.engine.dispose()


def test_partner_b_cannot_ingest_a_version_under_partner_as_lid(node):
    """The hijack of issue #11 item 4: B ingests version 3.0 of A's LID from its own payload; A's
    concept id must keep resolving to A's product."""
    app, client, keys = node
    b = keys[("B", "operator")]
    r = client.post(f"{X}/products?mission=ILRS-B&payload=SPY", content=with_version("3.0"), headers=b)
    assert r.status_code == 403 and "another partner" in r.json()["detail"]
    # B's admin cannot do it either: the LID belongs to A whoever asks
    r = client.post(
        f"{X}/products?mission=ILRS-B&payload=SPY", content=with_version("3.0"), headers=keys[("B", "admin")]
    )
    assert r.status_code == 403
    concept = client.get(f"{X}/products/{META.lid}", headers=keys[("A", "operator")]).json()
    assert concept["vid"] == META.vid and concept["lidvid"] == f"{META.lid}::{META.vid}"
    # A itself adds versions, from the mission that first ingested the LID
    r = client.post(
        f"{X}/products?mission=ILRS-A&payload=CAM", content=with_version("2.1"), headers=keys[("A", "operator")]
    )
    assert r.status_code == 201, r.text


def test_a_lid_stays_with_its_mission(node):
    """A LID belongs to the mission that first ingested it: even its owner partner cannot continue it
    from another mission (the product would change embargo rules and payload)."""
    app, client, keys = node
    a = keys[("A", "operator")]
    assert client.post(f"{X}/missions", json={"name": "ILRS-A2", "kind": "rover"}, headers=a).status_code == 201
    r = client.post(f"{X}/missions/ILRS-A2/payloads", json={"name": "CAM2", "instrument": "cam"}, headers=a)
    assert r.status_code == 201
    r = client.post(f"{X}/products?mission=ILRS-A2&payload=CAM2", content=with_version("9.0"), headers=a)
    assert r.status_code == 403 and "another mission" in r.json()["detail"]


def test_a_version_slipped_in_by_another_partner_never_answers_for_the_lid(node):
    """Should another partner's row exist under A's LID (a race with the ingest check, or a row
    stored before the check existed), neither the concept id nor its version id returns it."""
    app, client, keys = node
    lid = "urn:nasa:pds:lro-l-lroc-test:data:slipped"
    a = keys[("A", "operator")]
    assert client.post(f"{X}/products?mission=ILRS-A&payload=CAM", content=with_lid(lid), headers=a).status_code == 201
    with app.state.session_maker.begin() as s:
        mine = exchange_repo.find_product(s, lid, "1.0")
        spy = exchange_repo.payload(s, "ILRS-B", "SPY")
        s.add(
            Product(
                **{c: getattr(mine, c) for c in ("lid", "title", "metadata_json", "licence", "ingested_at")},
                vid="99.0",
                payload_id=spy.id,
                owner_partner_id=spy.owner_partner_id,
                public_release_at=T0,
            )
        )
    assert client.get(f"{X}/products/{lid}", headers=a).json()["vid"] == "1.0"
    assert client.get(f"{X}/products/{lid}/99.0", headers=a).status_code == 404


@pytest.mark.parametrize("vid", ["x.0", "1", "1.0.0", "01.0", "1.0a", "-1.0", "1e3.0", "1234567890.0"])
def test_version_id_outside_pds4_m_n_is_refused(node, vid):
    app, client, keys = node
    lid = "urn:nasa:pds:lro-l-lroc-test:data:badvid"
    r = client.post(
        f"{X}/products?mission=ILRS-A&payload=CAM", content=with_lid(lid, vid), headers=keys[("A", "operator")]
    )
    assert r.status_code == 400 and "version_id" in r.json()["detail"]


def test_a_concept_id_never_answers_500_for_a_stored_non_numeric_version(node):
    """The 500 of issue #11: a stored ``x.0`` (from before ingest checked the form) made the concept
    id compare 'x' with an int. It now sorts below every M.n version and the answer is 200."""
    app, client, keys = node
    lid = "urn:nasa:pds:lro-l-lroc-test:data:legacyvid"
    a = keys[("A", "operator")]
    assert (
        client.post(f"{X}/products?mission=ILRS-A&payload=CAM", content=with_lid(lid, "10.0"), headers=a).status_code
        == 201
    )
    assert (
        client.post(f"{X}/products?mission=ILRS-A&payload=CAM", content=with_lid(lid, "9.0"), headers=a).status_code
        == 201
    )
    with app.state.session_maker.begin() as s:
        p = exchange_repo.find_product(s, lid, "9.0")
        s.add(
            Product(
                **{c: getattr(p, c) for c in [col.key for col in Product.__table__.columns] if c not in ("id", "vid")},
                vid="x.0",
            )
        )
    for who in (a, keys[("B", "observer")]):
        r = client.get(f"{X}/products/{lid}", headers=who)
        assert r.status_code == 200 and r.json()["vid"] == "10.0"  # numeric order: 10.0 after 9.0


def test_only_the_mission_owner_registers_payloads(node):
    app, client, keys = node
    body = {"name": "TROJAN", "instrument": "anything"}
    for attacker in (keys[("B", "operator")], keys[("A", "observer")]):  # another partner; a role without the right
        assert client.post(f"{X}/missions/ILRS-A/payloads", json=body, headers=attacker).status_code == 403
    assert "TROJAN" not in [p["name"] for p in client.get(f"{X}/payloads").json()]
    # an admin may, and the payload belongs to the mission's owner, not to the admin's partner
    r = client.post(f"{X}/missions/ILRS-A/payloads", json=body, headers=keys[("B", "admin")])
    assert r.status_code == 201, r.text
    with app.state.session_maker() as s:
        a_id = exchange_repo.mission(s, "ILRS-A").owner_partner_id
    assert r.json()["owner_partner_id"] == a_id


@pytest.mark.parametrize(
    ("method", "tail", "body", "doing"),
    [
        ("POST", "doi", {"json": {"doi": "10.1234/b-claims-it"}}, "registers its products' DOIs"),
        ("POST", "release", {"json": {"public_release_at": "2026-01-02T00:00:00Z"}}, "releases its products"),
        ("POST", "tombstone", {}, "withdraws its products"),
        ("PUT", "files/planted.txt", {"content": b"planted"}, "adds files"),
    ],
)
def test_owner_only_changes_refuse_another_partner_and_change_nothing(node, method, tail, body, doing):
    """Every owner-only change goes through one ownership check (``owned_product``): partner B may see
    A's product (station partners see metadata) but changing it is 403 naming who may; A's product
    is left as it was."""
    app, client, keys = node
    url = f"{X}/products/{META.lid}/{META.vid}/{tail}"
    before = client.get(f"{X}/products/{META.lid}/{META.vid}", headers=keys[("A", "operator")]).json()
    r = client.request(method, url, headers=keys[("B", "operator")], **body)
    assert r.status_code == 403 and r.json()["detail"] == f"only the owner partner {doing}"
    assert client.get(f"{X}/products/{META.lid}/{META.vid}", headers=keys[("A", "operator")]).json() == before
    assert client.request(method, url, **body).status_code in (401, 403)  # anonymous: not even a role


def test_a_hostile_anonymous_caller_cannot_grow_the_access_decision_log(node):
    """Each anonymous request for a product it may not see writes a refusal row (access-decision
    log). A hostile anonymous client repeating it, from one loopback address and then from others
    (address rotation), adds at most its per-address budget, and all anonymous clients together at
    most the overall one; the answers stay what they were (404, as for a product that does not
    exist: the budget is no existence oracle), and a partner's decisions are all logged. The budget's
    clock is frozen, so no token comes back during the test however slow the machine."""
    from sqlalchemy import func, select

    from spacecommons.service.budget import AnonymousDecisions
    from spacecommons.storage.tables import AccessDecision

    app, client, keys = node

    def rows(anonymous: bool) -> int:
        with app.state.session_maker() as s:
            who = AccessDecision.partner_id.is_(None) if anonymous else AccessDecision.partner_id.is_not(None)
            return s.scalar(select(func.count()).select_from(AccessDecision).where(who))

    saved = app.state.decision_budget
    budget = app.state.decision_budget = AnonymousDecisions(per_minute=3, overall_per_minute=5, clock=lambda: 0.0)
    try:
        url = f"{X}/products/{META.lid}/{META.vid}"  # A's product, not yet public: invisible to the anonymous
        start = rows(anonymous=True)
        for host, admitted in (("127.0.0.1", 3), ("127.0.0.2", 2), ("127.0.0.3", 0)):
            with TestClient(app, client=(host, 50000)) as hostile:
                before = rows(anonymous=True)
                for _ in range(10):
                    assert hostile.get(url).status_code == 404
                    assert hostile.get(f"{url}/files/data.img").status_code == 404
                    assert hostile.get(f"{X}/products/{META.lid}/9.9").status_code == 404  # no such version
                assert rows(anonymous=True) - before == admitted
        assert rows(anonymous=True) - start == 5 and budget.suppressed == 55
        partner_before = rows(anonymous=False)
        for _ in range(10):  # B sees the metadata but the data are under embargo: each refusal logged
            assert client.get(f"{url}/files/data.img", headers=keys[("B", "operator")]).status_code == 403
        assert rows(anonymous=False) - partner_before == 10
    finally:
        app.state.decision_budget = saved


def test_concurrent_duplicate_creates_are_409_not_500(node, monkeypatch):
    """Two requests create the same thing at once: both pass the existence check, the database's
    unique constraint lets one in. The race is reproduced by answering the check as the loser saw it
    (before the winner committed): 'does not exist yet'."""
    app, client, keys = node
    a = keys[("A", "operator")]
    monkeypatch.setattr(exchange_repo, "mission", lambda session, name: None)
    r = client.post(f"{X}/missions", json={"name": "ILRS-A", "kind": "lander"}, headers=a)
    assert r.status_code == 409 and "exists" in r.json()["detail"]
    monkeypatch.undo()
    monkeypatch.setattr(exchange_repo, "payload_exists", lambda session, mission_id, name: False)
    r = client.post(f"{X}/missions/ILRS-A/payloads", json={"name": "CAM", "instrument": "cam"}, headers=a)
    assert r.status_code == 409
    monkeypatch.setattr(exchange_repo, "product_exists", lambda session, lid, vid: False)
    r = client.post(f"{X}/products?mission=ILRS-A&payload=CAM", content=LABEL.encode(), headers=a)
    assert r.status_code == 409 and "immutable" in r.json()["detail"]
    # the service is still whole: the losers rolled back
    assert client.get(f"{X}/products/{META.lid}/{META.vid}", headers=a).status_code == 200


def _blob_files(app) -> set[str]:
    root = app.state.blobs.root
    return {p.name for p in root.rglob("*") if p.is_file()}


def test_an_upload_refused_as_a_duplicate_leaves_no_blob(node, monkeypatch):
    app, client, keys = node
    a = {**keys[("A", "operator")], "content-type": "application/octet-stream"}
    url = f"{X}/products/{META.lid}/{META.vid}/files/frame.img"
    assert client.put(url, content=b"first version of the frame", headers=a).status_code == 201
    before = _blob_files(app)
    # the plain duplicate: refused before the body is stored
    assert client.put(url, content=b"a replacement", headers=a).status_code == 409
    assert _blob_files(app) == before
    # the concurrent duplicate: both passed the check; the loser's body was hashed and must not stay
    monkeypatch.setattr(exchange_repo, "file", lambda session, product_id, name: None)
    r = client.put(url, content=b"a concurrent replacement", headers=a)
    assert r.status_code == 409
    assert _blob_files(app) == before  # no orphan blob, no .part file
    import hashlib

    assert hashlib.sha256(b"a concurrent replacement").hexdigest() not in before


def test_the_blob_directory_is_fsynced_after_the_rename(node, monkeypatch):
    """POSIX: a rename is durable only when its directory is fsynced. Record every fsync of the
    upload and check that a directory holding the renamed blob was synced after the rename."""
    from spacecommons.exchange import blobs

    app, client, keys = node
    synced = []
    real = os.fsync

    def spy(fd):
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            synced.append(sorted(p.name for p in Path(f"/proc/self/fd/{fd}").resolve().iterdir()))
        real(fd)

    monkeypatch.setattr(blobs.os, "fsync", spy)
    data = b"durable bytes"
    r = client.put(
        f"{X}/products/{META.lid}/{META.vid}/files/durable.img",
        content=data,
        headers={**keys[("A", "operator")], "content-type": "application/octet-stream"},
    )
    assert r.status_code == 201
    assert any(r.json()["sha256"] in names for names in synced)


@pytest.mark.parametrize(
    ("declared", "served"),
    [
        ("text/html", "application/octet-stream"),
        ("text/html; charset=utf-8", "application/octet-stream"),
        ("image/svg+xml", "application/octet-stream"),
        ("application/xhtml+xml", "application/octet-stream"),
        ("application/javascript", "application/octet-stream"),
        ("TEXT/HTML", "application/octet-stream"),
        ("image/png", "image/png"),
        ("application/pdf", "application/pdf"),
        ("text/plain", "text/plain"),
    ],
)
def test_downloads_never_carry_a_script_capable_type_and_are_attachments(node, declared, served):
    """Stored XSS through the exchange: an uploader declares text/html for a page with a script;
    every partner who opened the link would run it in the service's origin."""
    app, client, keys = node
    name = "f-" + "".join(c if c.isalnum() else "_" for c in declared) + ".bin"
    a = {**keys[("A", "operator")], "content-type": declared}
    body = b"<html><script>fetch('/api/v1/alerts').then(r=>r.text()).then(alert)</script></html>"
    url = f"{X}/products/{META.lid}/{META.vid}/files/{name}"
    assert client.put(url, content=body, headers=a).status_code == 201
    r = client.get(url, headers=keys[("A", "operator")])
    assert r.status_code == 200 and r.content == body
    assert r.headers["content-type"].split(";")[0] == served
    assert r.headers["content-disposition"].startswith("attachment")
    assert r.headers["x-content-type-options"] == "nosniff"


def test_declared_types_are_stored_bare_and_listed_as_stored(node):
    """What an uploader declares is stored as ``type/subtype`` (no parameters, no header break)."""
    from spacecommons.exchange.media import normalise

    app, client, keys = node
    assert normalise("text/plain\r\nSet-Cookie: a=b") == "application/octet-stream"
    assert normalise("image/png; x=1") == "image/png"
    listed = client.get(f"{X}/products/{META.lid}/{META.vid}", headers=keys[("A", "operator")]).json()["files"]
    assert listed and all("/" in f["media_type"] and ";" not in f["media_type"] for f in listed)


def test_owners_list_the_access_requests_on_their_products_and_no_one_else_does(node):
    """Issue #13: the owner's list of pending access requests (GET /exchange/access-requests). B asks
    for early access to A's product; A's observer and operator see it with B's purpose, B (owner of
    nothing requested) and anonymous callers see nothing of it; once A decides, it leaves
    the pending list and shows under its new state. (Rejected, not approved: the module's other
    tests expect B's data access to stay refused.)"""
    app, client, keys = node
    url = f"{X}/products/{META.lid}/{META.vid}/access-requests"
    body = {"purpose": "B-purpose-5e1d impact crater census", "commitment": "cite; no redistribution"}
    r = client.post(url, json=body, headers=keys[("B", "observer")])
    assert r.status_code == 201, r.text
    rid = r.json()["id"]

    def listed(who, state: str = "pending") -> list[dict]:
        r = client.get(f"{X}/access-requests?state={state}", headers=who)
        assert r.status_code == 200, r.text
        return [x for x in r.json() if x["id"] == rid]

    for role in ("observer", "operator"):
        (mine,) = listed(keys[("A", role)])
        assert (mine["lidvid"], mine["requester"], mine["purpose"], mine["status"], mine["decided_at"]) == (
            f"{META.lid}::{META.vid}",
            "B",
            body["purpose"],
            "pending",
            None,
        )
    for role in ("observer", "operator"):  # the requester owns nothing requested: nothing listed
        assert client.get(f"{X}/access-requests?state=all", headers=keys[("B", role)]).json() == []
    assert client.get(f"{X}/access-requests").status_code == 401
    assert client.get(f"{X}/access-requests?state=bogus", headers=keys[("A", "operator")]).status_code == 422
    r = client.post(f"{X}/access-requests/{rid}/decision?approve=false", headers=keys[("A", "operator")])
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert listed(keys[("A", "operator")]) == []
    (decided,) = listed(keys[("A", "operator")], "rejected")
    assert decided["decided_at"] == "2026-01-01T00:00:00.000000Z"  # the app's frozen clock, T0
    assert listed(keys[("A", "operator")], "all") == [decided]
