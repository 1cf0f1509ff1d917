"""Faults: the server killed (SIGKILL) during a screening run leaves a consistent database; the
next start marks the run interrupted and the CLI resumes it to the same events as an
uninterrupted run."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from spacecommons.cli.main import app as cli
from spacecommons.storage import partners_repo

from .conftest import SAMPLE

T0 = datetime(2026, 11, 25, tzinfo=UTC)  # a frozen "now" for rows the tests write

IRIDIUM = SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt"


def _serve_subprocess(url: str, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """`spacecommons serve` as its own process (so that it can be SIGKILLed); waits until it answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "spacecommons.cli.main", "serve", "--port", str(port), "--database-url", url]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(base + "/api/v1/health", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return proc, base


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_server_killed_during_a_run_then_resumed(tmp_path):
    from spacecommons.service import create_app
    from spacecommons.storage.tables import ConjunctionEvent, ScreeningRun

    url = f"sqlite:///{tmp_path / 'k.db'}"
    runner = CliRunner()
    assert runner.invoke(cli, ["catalog", "load", str(IRIDIUM), "--database-url", url]).exit_code == 0
    app = create_app(url)
    with app.state.session_maker.begin() as s:
        partners_repo.create_partner(s, "K", T0)
        key = partners_repo.issue_key(s, partners_repo.add_member(s, "K", "a", "analyst", T0).id, T0)
    app.state.engine.dispose()
    proc, base = _serve_subprocess(url)
    try:
        body = {"start": "2021-10-02T00:00:00Z", "days": 2.0, "threshold_km": 5.0}
        run = httpx.post(base + "/api/v1/screening/runs", json=body, headers={"X-API-Key": key}, timeout=30).json()
        for _ in range(1200):
            status = httpx.get(f"{base}/api/v1/screening/runs/{run['id']}", headers={"X-API-Key": key}).json()
            if status["chunks_done"] >= 1:
                break
            time.sleep(0.1)
        assert status["status"] == "running" and 1 <= status["chunks_done"] < status["n_chunks"]
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)

    restarted = create_app(url)  # a new server start
    with restarted.state.session_maker() as s:
        r = s.get(ScreeningRun, run["id"])
        assert r.status == "interrupted" and "--resume" in r.message
    restarted.state.engine.dispose()
    resumed = runner.invoke(
        cli,
        [
            "screen",
            "--resume",
            str(run["id"]),
            "--workers",
            "1",
            "--database-url",
            url,
            "--out",
            str(tmp_path / "ev.csv"),
        ],
    )
    assert resumed.exit_code == 0, resumed.output
    fresh = runner.invoke(
        cli,
        [
            "screen",
            "--from-db",
            "--start",
            "2021-10-02T00:00:00Z",
            "--days",
            "2",
            "--threshold-km",
            "5",
            "--workers",
            "1",
            "--database-url",
            url,
            "--out",
            str(tmp_path / "fresh.csv"),
        ],
    )
    assert fresh.exit_code == 0, fresh.output
    check = create_app(url)
    with check.state.session_maker() as s:
        from sqlalchemy import select

        rows = {
            rid: sorted(
                (e.id1, e.id2, e.tca) for e in s.scalars(select(ConjunctionEvent).where(ConjunctionEvent.run_id == rid))
            )
            for rid in (run["id"], run["id"] + 1)
        }
        assert s.get(ScreeningRun, run["id"]).status == "done"
    assert rows[run["id"]] == rows[run["id"] + 1] and rows[run["id"]]
    check.state.engine.dispose()


def test_full_disk_gives_a_clear_error_and_stores_nothing(tmp_path, monkeypatch):
    """ENOSPC while a file is written, and SQLite's 'database or disk is full': 507 with a message
    that says what happened; no product file row, no blob, no partial file."""
    import errno

    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from spacecommons.exchange import blobs
    from spacecommons.service import create_app
    from spacecommons.storage.tables import ProductFile

    app = create_app(f"sqlite:///{tmp_path / 'f.db'}", blob_root=str(tmp_path / "blobs"))
    with app.state.session_maker.begin() as s:
        partners_repo.create_partner(s, "P", T0)
        key = {"X-API-Key": partners_repo.issue_key(s, partners_repo.add_member(s, "P", "o", "operator", T0).id, T0)}
    client = TestClient(app, raise_server_exceptions=False)
    client.post("/api/v1/exchange/missions", json={"name": "M", "kind": "rover"}, headers=key)
    client.post("/api/v1/exchange/missions/M/payloads", json={"name": "P", "instrument": "x"}, headers=key)
    label = (Path(__file__).parent / "data" / "lunar" / "M102600893LE_VALID.xml").read_bytes()
    p = client.post("/api/v1/exchange/products?mission=M&payload=P", content=label, headers=key).json()

    def full(self, chunk):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(blobs.BlobWriter, "write", full)
    r = client.put(f"/api/v1/exchange/products/{p['lid']}/{p['vid']}/files/a.img", content=b"x" * 1000, headers=key)
    assert r.status_code == 507 and "disk is full" in r.json()["detail"]
    with app.state.session_maker() as s:
        assert s.scalars(select(ProductFile)).all() == []
    # the one blob is the product's label, kept verbatim (issue #17); the failed file left none
    label_blob = hashlib.sha256(label).hexdigest()
    assert [f.name for f in (tmp_path / "blobs").rglob("*") if f.is_file()] == [label_blob]

    from sqlalchemy.exc import OperationalError

    def db_full(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database or disk is full"))

    monkeypatch.setattr("spacecommons.service.admin_routes.partners_repo.create_partner", db_full)
    with app.state.session_maker.begin() as s:
        admin = partners_repo.issue_key(s, partners_repo.add_member(s, "P", "a", "admin", T0).id, T0)
    r = client.post("/api/v1/partners", json={"name": "Q"}, headers={"X-API-Key": admin})
    assert r.status_code == 507 and "rolled back" in r.json()["detail"]
    app.state.engine.dispose()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_upload_killed_midway_leaves_no_product_file_and_no_orphan(tmp_path):
    """The server is SIGKILLed while a file streams in: no file row, no blob; the next start
    sweeps the partial file away."""
    import threading

    from sqlalchemy import select

    from spacecommons.service import create_app
    from spacecommons.storage.tables import ProductFile

    url, blobs = f"sqlite:///{tmp_path / 'u.db'}", tmp_path / "blobs"
    app = create_app(url, blob_root=str(blobs))
    with app.state.session_maker.begin() as s:
        partners_repo.create_partner(s, "P", T0)
        key = {"X-API-Key": partners_repo.issue_key(s, partners_repo.add_member(s, "P", "o", "operator", T0).id, T0)}
    from fastapi.testclient import TestClient

    c = TestClient(app)
    c.post("/api/v1/exchange/missions", json={"name": "M", "kind": "rover"}, headers=key)
    c.post("/api/v1/exchange/missions/M/payloads", json={"name": "P", "instrument": "x"}, headers=key)
    label = (Path(__file__).parent / "data" / "lunar" / "M102600893LE_VALID.xml").read_bytes()
    p = c.post("/api/v1/exchange/products?mission=M&payload=P", content=label, headers=key).json()
    app.state.engine.dispose()

    proc, base = _serve_subprocess(url, {**os.environ, "SPACECOMMONS_DATA_DIR": str(blobs)})
    sent = threading.Event()

    def body():
        for k in range(200):
            yield b"\x00" * (1 << 20)
            if k == 5:
                sent.set()
            time.sleep(0.05)

    def upload():
        with contextlib.suppress(httpx.HTTPError):
            httpx.put(
                f"{base}/api/v1/exchange/products/{p['lid']}/{p['vid']}/files/big.img",
                content=body(),
                headers=key,
                timeout=60,
            )

    t = threading.Thread(target=upload)
    t.start()
    assert sent.wait(30)
    time.sleep(0.5)
    assert list(blobs.glob("*.part")), "the upload should be streaming into a partial file"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    t.join(30)
    restarted = create_app(url, blob_root=str(blobs))  # a new start sweeps partial uploads
    with restarted.state.session_maker() as s:
        assert s.scalars(select(ProductFile)).all() == []
    # the one blob is the product's label, kept verbatim (issue #17); the killed upload left none
    assert [f.name for f in blobs.rglob("*") if f.is_file()] == [hashlib.sha256(label).hexdigest()]
    restarted.state.engine.dispose()
