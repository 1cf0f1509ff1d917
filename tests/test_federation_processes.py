"""Federation between two real nodes on 127.0.0.1 (issue #17, "What it must show"): node A is a
``spacecommons serve`` process on its own SQLite database and data directory; node B mirrors it
with ``spacecommons federation sync`` (one product per page, so one transaction per product),
which is killed (SIGKILL) once it has committed its first page, then run again to the end; B's
own ``spacecommons serve`` then shows every product once, whole, with A as its origin, and B's
database holds no duplicate and no product without its file. Waits are on states (a committed
cursor, a server answering), each with a bound for a hung process."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from spacecommons.exchange import federation as fed
from spacecommons.service import create_app
from spacecommons.storage import federation_repo, partners_repo
from spacecommons.workflows.federation import node_key

LABEL = Path(__file__).parent / "data" / "lunar" / "M102600893LC_VALID.xml"
LID = "urn:nasa:pds:lro-l-lroc-3-cdr:examples:nac.m102600893lc"
N = 12
T0 = datetime(2026, 1, 1, tzinfo=UTC)
X = "/api/v1/exchange"
CLI = [sys.executable, "-m", "spacecommons.cli.main"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(db: Path, data: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "SPACECOMMONS_DATA_DIR": str(data)}
    cmd = [*CLI, "serve", "--port", str(port), "--database-url", f"sqlite:///{db}"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300  # a state to wait on, with a bound for a hung start
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/federation/key", timeout=5).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError(proc.stderr.read().decode())


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _cursor(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=30) as c:
            row = c.execute("select cursor_seq from peers").fetchone()
            return row[0] if row else 0
    except sqlite3.OperationalError:
        return 0


def test_two_serve_processes_mirror_and_a_killed_sync_resumes(tmp_path):
    a_db, a_data, b_db, b_data = tmp_path / "a.db", tmp_path / "a-data", tmp_path / "b.db", tmp_path / "b-data"
    # node A's content, written through its API in process before its server starts
    app = create_app(f"sqlite:///{a_db}", blob_root=str(a_data))
    with app.state.session_maker.begin() as s:
        partners_repo.create_partner(s, "Owner", T0)
        m = partners_repo.add_member(s, "Owner", "op", "operator", T0)
        owner = {"X-API-Key": partners_repo.issue_key(s, m.id, T0)}
        federation_repo.add_peer(s, "http://node-b.invalid", fed.public_key_text(node_key(b_data)), "Agency-B", T0)
    client = TestClient(app)
    body = {"name": "LRO", "kind": "orbiter", "proprietary_days": 30, "public_after_days": 30}
    assert client.post(f"{X}/missions", json=body, headers=owner).status_code == 201
    r = client.post(f"{X}/missions/LRO/payloads", json={"name": "CAM", "instrument": "LROC"}, headers=owner)
    assert r.status_code == 201
    release = {"partners_release_at": "2025-12-01T00:00:00Z", "public_release_at": "2025-12-01T00:00:00Z"}
    files = {}
    for i in range(N):
        lid = f"{LID}_{i}"
        label = LABEL.read_bytes().replace(LID.encode(), lid.encode())
        assert client.post(f"{X}/products?mission=LRO&payload=CAM", content=label, headers=owner).status_code == 201
        files[lid] = os.urandom(20_000)
        put = client.put(f"{X}/products/{lid}/2.0/files/data.img", content=files[lid], headers=owner)
        assert put.status_code == 201
        assert client.post(f"{X}/products/{lid}/2.0/release", json=release, headers=owner).status_code == 200
    app.state.engine.dispose()

    a_port, b_port = _port(), _port()
    a = _serve(a_db, a_data, a_port)
    b = None
    try:
        a_url = f"http://127.0.0.1:{a_port}"
        a_key = httpx.get(f"{a_url}/api/v1/federation/key").json()["public_key"]
        assert a_key == fed.public_key_text(node_key(a_data))
        b_url = f"sqlite:///{b_db}"
        env = {**os.environ, "SPACECOMMONS_DATA_DIR": str(b_data)}
        add = subprocess.run([*CLI, "federation", "add-peer", a_url, a_key, "--database-url", b_url], env=env)
        assert add.returncode == 0
        sync = [*CLI, "federation", "sync", "--page-size", "1", "--database-url", b_url]
        first = subprocess.Popen(sync, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 300
        while _cursor(b_db) == 0 and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        first.kill()  # SIGKILL after its first committed page (or at once if it is already done)
        first.wait()
        killed_at = _cursor(b_db)
        assert killed_at > 0
        second = subprocess.run(sync, env=env, capture_output=True)
        assert second.returncode == 0, second.stderr.decode()
        with sqlite3.connect(b_db) as c:
            rows = c.execute(
                "select p.lid, p.vid, p.origin, count(f.id) from products p "
                "left join product_files f on f.product_id = p.id group by p.id"
            ).fetchall()
        assert sorted(r[0] for r in rows) == sorted(files)  # each product once
        assert all(r[2] == a_url and r[3] == 1 for r in rows)  # from A, with its file
        b = _serve(b_db, b_data, b_port)
        listed = httpx.get(f"http://127.0.0.1:{b_port}{X}/products", params={"limit": 1000}).json()
        assert sorted(p["lid"] for p in listed) == sorted(files) and {p["origin"] for p in listed} == {a_url}
        for lid, data in list(files.items())[:3]:
            got = httpx.get(f"http://127.0.0.1:{b_port}{X}/products/{lid}/2.0/files/data.img")
            assert got.status_code == 200 and got.content == data
    finally:
        _stop(a)
        if b is not None:
            _stop(b)
