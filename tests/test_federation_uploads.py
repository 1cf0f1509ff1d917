"""Resumable uploads (issue #17): a file sent in ranges (``Content-Range`` on PUT) across an
interruption: the first PUT's connection breaks mid-body, the client asks the server where to
resume (``bytes */TOTAL``), sends the rest, and the stored file's sha256 (computed here with
hashlib, independently of the service) is the original's; a wrong stated digest at completion is
refused and nothing is stored; a range that does not start at the server's offset is 409."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from spacecommons.service import create_app
from spacecommons.storage import partners_repo

LABEL = Path(__file__).parent / "data" / "lunar" / "M102600893LC_VALID.xml"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
X = "/api/v1/exchange"


@pytest.fixture
def product(tmp_path):
    app = create_app(f"sqlite:///{tmp_path / 'u.db'}", clock=lambda: T0, blob_root=str(tmp_path / "blobs"))
    with app.state.session_maker.begin() as s:
        partners_repo.create_partner(s, "Owner", T0)
        m = partners_repo.add_member(s, "Owner", "op", "operator", T0)
        owner = {"X-API-Key": partners_repo.issue_key(s, m.id, T0)}
    client = TestClient(app)
    body = {"name": "LRO", "kind": "orbiter", "proprietary_days": 30, "public_after_days": 30}
    assert client.post(f"{X}/missions", json=body, headers=owner).status_code == 201
    assert (
        client.post(f"{X}/missions/LRO/payloads", json={"name": "C", "instrument": "x"}, headers=owner).status_code
        == 201
    )
    p = client.post(f"{X}/products?mission=LRO&payload=C", content=LABEL.read_bytes(), headers=owner).json()
    yield client, owner, f"{X}/products/{p['lid']}/{p['vid']}"
    app.state.engine.dispose()


def _put_then_disconnect(app, path: str, headers: dict, chunks: list[bytes]) -> None:
    events = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]
    events.append({"type": "http.disconnect"})
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "http",
        "path": unquote(path),
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }

    async def receive():
        return events.pop(0) if events else {"type": "http.disconnect"}

    async def send(message):
        pass

    async def run():
        with contextlib.suppress(Exception):  # the disconnect is the server's to handle
            await app(scope, receive, send)

    asyncio.run(run())


def test_upload_interrupted_then_resumed_is_whole(product):
    client, owner, base = product
    data = os.urandom(300_000)
    total, digest = len(data), hashlib.sha256(data).hexdigest()

    # the link drops after 100,000 of the 200,000 bytes of this range: the ASGI app is called as a
    # server would, its receive channel answering http.disconnect after two chunks
    headers = {**owner, "Content-Range": f"bytes 0-199999/{total}", "Content-Length": "200000"}
    _put_then_disconnect(client.app, f"{base}/files/big.img", headers, [data[:50_000], data[50_000:100_000]])
    ask = client.put(f"{base}/files/big.img", content=b"", headers={**owner, "Content-Range": f"bytes */{total}"})
    assert ask.status_code == 202 and ask.json()["received"] == 100_000
    assert client.get(f"{base}/files/big.img", headers=owner).status_code == 404  # not visible yet
    wrong = client.put(
        f"{base}/files/big.img", content=data[0:10], headers={**owner, "Content-Range": f"bytes 0-9/{total}"}
    )
    assert wrong.status_code == 409 and wrong.json()["received"] == 100_000
    done = client.put(
        f"{base}/files/big.img",
        content=data[100_000:],
        headers={**owner, "Content-Range": f"bytes 100000-{total - 1}/{total}", "Digest": f"sha-256={digest}"},
    )
    assert done.status_code == 201, done.text
    assert done.json()["sha256"] == digest and done.json()["size"] == total
    got = client.get(f"{base}/files/big.img", headers=owner)
    assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == digest


def test_a_wrong_digest_at_completion_stores_nothing(product):
    client, owner, base = product
    data = b"abc" * 1000
    headers = {**owner, "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}", "Digest": "sha-256=" + "0" * 64}
    r = client.put(f"{base}/files/x.img", content=data, headers=headers)
    assert r.status_code == 422
    assert client.get(f"{base}/files/x.img", headers=owner).status_code == 404
    ask = client.put(f"{base}/files/x.img", content=b"", headers={**owner, "Content-Range": f"bytes */{len(data)}"})
    assert ask.json()["received"] == 0  # the staged bytes were dropped: start again from 0
