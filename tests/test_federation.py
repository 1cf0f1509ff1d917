"""Federation (issue #17): two nodes, A (origin) and B (mirror), as in-process apps with injected
clocks; B pulls A's signed feed through a transport that calls A's app (a test hook can flip a
byte in transit). What must hold, from the issue's "What it must show": B mirrors A's released
products with their origin shown; an embargoed product appears on B only at its partner release
date and only to the partners A admits, never to anonymous callers (the same probe run against A
and B); a corrupted byte is detected and nothing of the page becomes visible; a second sync
changes nothing; a LIDVID belongs to its origin node. The two-process test is in
``test_federation_processes.py``.

Sources: Ed25519 test vector 1 of RFC 8032 section 7.1 (key, message and signature as printed
there); canonical JSON as RFC 8785 orders keys (by UTF-16 code units; all keys here are ASCII)."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from spacecommons.exchange import federation as fed
from spacecommons.exchange import policy
from spacecommons.service import create_app
from spacecommons.storage import federation_repo, partners_repo
from spacecommons.storage.tables import Peer
from spacecommons.workflows import federation as flow

LABELS = sorted((Path(__file__).parent / "data" / "lunar").glob("*.xml"))
T0 = datetime(2026, 1, 1, tzinfo=UTC)
X = "/api/v1/exchange"
A_URL, B_URL = "http://node-a.test", "http://node-b.test"


def test_rfc8032_test_vector_1_signs_and_verifies():
    # RFC 8032, 7.1, TEST 1: SECRET KEY, PUBLIC KEY, MESSAGE (empty), SIGNATURE
    secret = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    public = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    sig = bytes.fromhex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    import base64

    assert fed.public_key_text(secret) == base64.urlsafe_b64encode(public).decode()
    assert fed.sign(secret, b"") == base64.urlsafe_b64encode(sig).decode()
    fed.verify(fed.public_key_text(secret), b"", fed.sign(secret, b""), "vector")
    with pytest.raises(fed.FederationError):
        fed.verify(fed.public_key_text(secret), b"x", fed.sign(secret, b""), "vector")


def test_canonical_json_and_signed_pages():
    assert fed.canonical_json({"b": 1, "a": [None, "é"]}) == '{"a":[null,"é"],"b":1}'.encode()
    with pytest.raises(ValueError):
        fed.canonical_json({"x": 1.5})
    key = fed.new_private_key()
    page = fed.sign_page(key, {"next": 3, "entries": [{"lid": "urn:x", "files": []}]})
    assert fed.verify_page(fed.public_key_text(key), page) == {"next": 3, "entries": [{"lid": "urn:x", "files": []}]}
    tampered = {**page, "next": 4}
    with pytest.raises(fed.FederationError, match="signature"):
        fed.verify_page(fed.public_key_text(key), tampered)
    with pytest.raises(fed.FederationError):  # another node's key
        fed.verify_page(fed.public_key_text(fed.new_private_key()), page)


def test_mirror_policy_follows_the_origin():
    a = policy.Access(9, T0 + timedelta(days=30), T0 + timedelta(days=60), mirrored=True, admitted=frozenset({2}))
    assert not policy.can_see_metadata(a, 2, T0)  # on the origin a partner sees metadata from ingest;
    assert policy.can_see_metadata(a, 2, T0 + timedelta(days=30))  # the mirror only from release
    assert not policy.can_read_data(a, 3, T0 + timedelta(days=31))  # not admitted by the origin
    assert not policy.can_read_data(a, None, T0 + timedelta(days=59))
    assert policy.can_read_data(a, None, T0 + timedelta(days=60)) and policy.can_read_data(
        a, 3, T0 + timedelta(days=60)
    )
    assert not policy.can_read_data(a, 9, T0, granted=True)  # no grant opens a mirrored product early


def _node(tmp_path: Path, name: str, now: dict, partners: tuple[str, ...]):
    app = create_app(
        f"sqlite:///{tmp_path / (name + '.db')}", clock=lambda: now["t"], blob_root=str(tmp_path / f"{name}-blobs")
    )
    keys = {}
    with app.state.session_maker.begin() as s:
        for partner in partners:
            partners_repo.create_partner(s, partner, T0)
            m = partners_repo.add_member(s, partner, f"{partner}-op", "operator", T0)
            keys[partner] = {"X-API-Key": partners_repo.issue_key(s, m.id, T0)}
    return app, TestClient(app), keys


class Wire:
    """B's transport to A: A's app in process; ``flip`` corrupts one byte of the next file body
    (the last byte of the next batch of blobs, or of the next single file)."""

    def __init__(self, client: TestClient) -> None:
        self.client, self.flip, self.calls = client, False, 0

    def get(self, url: str, headers: dict) -> tuple[int, bytes]:
        assert url.startswith(A_URL)
        self.calls += 1
        r = self.client.get(url[len(A_URL) :], headers=headers)
        body = r.content
        if self.flip and ("/files/" in url or "/federation/data?" in url) and body:
            self.flip = False
            body = body[:-1] + bytes([body[-1] ^ 0x01])
        return r.status_code, body


@pytest.fixture
def nodes(tmp_path):
    now = {"t": T0}
    a, ca, ka = _node(tmp_path, "a", now, ("Owner", "Shared"))
    b, cb, kb = _node(tmp_path, "b", now, ("Shared", "Stranger", "Local"))
    owner = ka["Owner"]
    body = {"name": "LRO", "kind": "orbiter", "proprietary_days": 30, "public_after_days": 30}
    assert ca.post(f"{X}/missions", json=body, headers=owner).status_code == 201
    assert (
        ca.post(f"{X}/missions/LRO/payloads", json={"name": "CAM", "instrument": "LROC"}, headers=owner).status_code
        == 201
    )
    with a.state.session_maker.begin() as s:
        federation_repo.add_peer(s, B_URL, fed.public_key_text(b.state.node_key), "Agency-B-node", T0)
    with b.state.session_maker.begin() as s:
        peer = federation_repo.add_peer(s, A_URL, fed.public_key_text(a.state.node_key), None, T0)
        peer_id = peer.id
    wire = Wire(ca)

    def ingest(label: Path, data: bytes, public_now: bool) -> dict:
        r = ca.post(f"{X}/products?mission=LRO&payload=CAM", content=label.read_bytes(), headers=owner)
        assert r.status_code == 201, r.text
        p = r.json()
        up = ca.put(f"{X}/products/{p['lid']}/{p['vid']}/files/data.img", content=data, headers=owner)
        assert up.status_code == 201, up.text
        if public_now:
            rel = {"partners_release_at": "2025-12-01T00:00:00Z", "public_release_at": "2025-12-01T00:00:00Z"}
            assert ca.post(f"{X}/products/{p['lid']}/{p['vid']}/release", json=rel, headers=owner).status_code == 200
        return p

    def sync():
        return flow.sync_peer(
            b.state.session_maker, b.state.blobs, b.state.node_key, peer_id, flow.Transport(wire.get), lambda: now["t"]
        )

    yield {
        "a": a,
        "b": b,
        "ca": ca,
        "cb": cb,
        "ka": ka,
        "kb": kb,
        "now": now,
        "ingest": ingest,
        "sync": sync,
        "wire": wire,
        "peer_id": peer_id,
    }
    a.state.engine.dispose()
    b.state.engine.dispose()


def _probe(client: TestClient, headers: dict, p: dict) -> tuple[int, int, int]:
    """What a caller gets of product ``p``: its version, its file, and search hits (the black-box probe)."""
    v = client.get(f"{X}/products/{p['lid']}/{p['vid']}", headers=headers).status_code
    f = client.get(f"{X}/products/{p['lid']}/{p['vid']}/files/data.img", headers=headers).status_code
    hits = [r["lidvid"] for r in client.get(f"{X}/products", headers=headers).json()]
    return v, f, hits.count(p["lidvid"])


def test_b_mirrors_released_products_and_honours_the_embargo(nodes):
    ca, cb, ka, kb, now = nodes["ca"], nodes["cb"], nodes["ka"], nodes["kb"], nodes["now"]
    public_data, embargoed_data = b"public-bytes-" * 100, b"embargoed-bytes-" * 100
    pub = nodes["ingest"](LABELS[0], public_data, True)
    emb = nodes["ingest"](LABELS[1], embargoed_data, False)  # partners from T0+30 d, public from T0+60 d

    report = nodes["sync"]()
    assert report.products == 1 and report.files == 1
    got = cb.get(f"{X}/products/{pub['lid']}/{pub['vid']}")
    assert got.status_code == 200 and got.json()["origin"] == A_URL
    assert cb.get(f"{X}/products/{pub['lid']}/{pub['vid']}/files/data.img").content == public_data
    assert ca.get(f"{X}/products/{pub['lid']}/{pub['vid']}").json()["origin"] is None
    # the label on B is A's exported label, byte for byte
    la = ca.get(f"{X}/products/{pub['lid']}/{pub['vid']}/label").content
    assert cb.get(f"{X}/products/{pub['lid']}/{pub['vid']}/label").content == la
    for who in ({}, kb["Shared"], kb["Stranger"]):
        assert _probe(cb, who, emb) == (404, 404, 0)

    now["t"] = T0 + timedelta(days=30, hours=1)  # A's partner release date has passed
    assert nodes["sync"]().products == 1
    assert _probe(ca, ka["Shared"], emb) == (200, 200, 1)  # on A: its partner reads it
    assert _probe(cb, kb["Shared"], emb) == (200, 200, 1)  # on B: the partner A admits (same name)
    assert (
        cb.get(f"{X}/products/{emb['lid']}/{emb['vid']}/files/data.img", headers=kb["Shared"]).content == embargoed_data
    )
    assert _probe(cb, kb["Stranger"], emb) == (404, 404, 0)  # a partner A does not know
    assert _probe(ca, {}, emb)[0] == 404 and _probe(cb, {}, emb) == (404, 404, 0)  # anonymous, A and B alike

    now["t"] = T0 + timedelta(days=60, hours=1)  # public on A: B follows by its stored dates, no sync
    assert _probe(ca, {}, emb) == (200, 200, 1) and _probe(cb, {}, emb) == (200, 200, 1)

    before = nodes["wire"].calls
    again = nodes["sync"]()  # idempotent
    assert again.products == 0 and again.files == 0 and nodes["wire"].calls == before + 1


def test_a_corrupted_byte_is_refused_and_nothing_becomes_visible(nodes):
    b, cb = nodes["b"], nodes["cb"]
    p = nodes["ingest"](LABELS[0], b"x" * 5000, True)
    nodes["wire"].flip = True
    with pytest.raises(fed.FederationError, match="sha256"):
        nodes["sync"]()
    assert cb.get(f"{X}/products/{p['lid']}/{p['vid']}").status_code == 404
    with b.state.session_maker() as s:
        assert s.get(Peer, nodes["peer_id"]).cursor_seq == 0  # the cursor did not move
    assert not list(Path(b.state.blobs.root).glob("*.part"))  # nothing staged is left
    assert nodes["sync"]().products == 1  # the next sync, uncorrupted, completes
    got = cb.get(f"{X}/products/{p['lid']}/{p['vid']}/files/data.img").content
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(b"x" * 5000).hexdigest()


def test_a_lidvid_belongs_to_its_origin(nodes):
    cb, kb = nodes["cb"], nodes["kb"]
    p = nodes["ingest"](LABELS[0], b"y" * 100, True)
    nodes["sync"]()
    local = kb["Local"]
    body = {"name": "LOCAL", "kind": "orbiter", "proprietary_days": 1, "public_after_days": 1}
    assert cb.post(f"{X}/missions", json=body, headers=local).status_code == 201
    assert (
        cb.post(f"{X}/missions/LOCAL/payloads", json={"name": "CAM", "instrument": "x"}, headers=local).status_code
        == 201
    )
    # B's partner ingesting the mirrored LID (same or a new version) is refused
    r = cb.post(f"{X}/products?mission=LOCAL&payload=CAM", content=LABELS[0].read_bytes(), headers=local)
    assert r.status_code in (403, 409), r.text
    # and B's own LID fed by A is refused by the mirror: B owns LABELS[2]'s LID locally
    assert (
        cb.post(f"{X}/products?mission=LOCAL&payload=CAM", content=LABELS[2].read_bytes(), headers=local).status_code
        == 201
    )
    nodes["ingest"](LABELS[2], b"z" * 100, True)
    with pytest.raises(fed.FederationError, match="belongs"):
        nodes["sync"]()
    assert cb.get(f"{X}/products/{p['lid']}/{p['vid']}").json()["origin"] == A_URL


def test_feed_answers_only_what_the_caller_may_read(nodes):
    ca, a = nodes["ca"], nodes["a"]
    nodes["ingest"](LABELS[0], b"p" * 10, True)
    nodes["ingest"](LABELS[1], b"e" * 10, False)
    anon = ca.get("/api/v1/federation/feed").json()
    assert [e["lid"] for e in anon["entries"]] == [
        fed.verify_page(fed.public_key_text(a.state.node_key), anon)["entries"][0]["lid"]
    ]
    assert anon["for"] == "anonymous" and len(anon["entries"]) == 1
    # a node signature from an unknown key, or a stale date, is refused
    stranger = fed.new_private_key()
    date = T0.isoformat()
    path = "/api/v1/federation/feed"
    headers = {
        "X-Node-Key": fed.public_key_text(stranger),
        "X-Node-Date": date,
        "X-Node-Signature": fed.sign(stranger, fed.request_message("GET", path, date)),
    }
    assert ca.get(path, headers=headers).status_code == 401
    b_key = nodes["b"].state.node_key
    stale = (T0 - timedelta(hours=1)).isoformat()
    headers = {
        "X-Node-Key": fed.public_key_text(b_key),
        "X-Node-Date": stale,
        "X-Node-Signature": fed.sign(b_key, fed.request_message("GET", path, stale)),
    }
    assert ca.get(path, headers=headers).status_code == 401


def test_add_peer_takes_a_key_that_begins_with_a_dash(tmp_path):
    """Regression (CI, stop 21): a URL-safe base64 key can begin with '-' (1 key in 64); `add-peer`
    took it for an option ('No such option: -L') and exited 2. The key must be read as the key."""
    from typer.testing import CliRunner

    from spacecommons.cli.main import app as cli

    seed = 0
    while True:
        private = hashlib.sha256(str(seed).encode()).digest()
        public = fed.public_key_text(private)
        if public.startswith("-"):
            break
        seed += 1
    db = f"sqlite:///{tmp_path / 'b.db'}"
    args = ["federation", "add-peer", "http://node-a.invalid", public, "--as", "Agency-A", "--database-url", db]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    app = create_app(db, blob_root=str(tmp_path / "data"))
    with app.state.session_maker() as s:
        assert [p.public_key for p in s.query(Peer)] == [public]


def test_data_stream_framing_survives_any_chunking_and_detects_truncation(tmp_path):
    """The /federation/data body (``<sha256> <size>\\n`` + bytes per blob) read back in chunks of
    1, 7 and 65,536 bytes gives every blob whole (the expected bytes are the files written); a stream
    cut inside a blob or a header is an error, not a short blob."""
    blobs = {}
    items = []
    for i in range(12):
        data = os.urandom(i * 1013)  # includes an empty blob
        sha = hashlib.sha256(data).hexdigest()
        (tmp_path / sha).write_bytes(data)
        blobs[sha] = data
        items.append((sha, tmp_path / sha))
    whole = b"".join(flow.stream_blobs(items))
    for size in (1, 7, 65536):
        s = flow._Stream([whole[i : i + size] for i in range(0, len(whole), size)], "test")
        got = {}
        while (head := s.header()) is not None:
            got[head[0]] = b"".join(s.body(head[1]))
        assert got == blobs
    for cut in (len(whole) - 1, 70):  # inside the last blob; inside the second header
        s = flow._Stream([whole[:cut]], "test")
        with pytest.raises(fed.FederationError, match="breaks off"):
            while (head := s.header()) is not None:
                b"".join(s.body(head[1]))
