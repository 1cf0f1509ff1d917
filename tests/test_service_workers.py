"""Serving settings: per-key rate limits from the environment (SPACECOMMONS_RATE_LIMIT_*) and
`spacecommons serve --workers N` (uvicorn's process manager over the app factory)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from spacecommons.service import create_app


def test_rate_limits_are_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("SPACECOMMONS_RATE_LIMIT_PER_SECOND", "0.5")
    monkeypatch.setenv("SPACECOMMONS_RATE_LIMIT_BURST", "2")
    client = TestClient(create_app(f"sqlite:///{tmp_path / 's.db'}"))
    assert [client.get("/api/v1/health").status_code for _ in range(3)] == [200, 200, 429]
    # an explicit argument still wins over the setting
    client = TestClient(create_app(f"sqlite:///{tmp_path / 't.db'}", rate_per_second=0.5, rate_burst=4))
    assert [client.get("/api/v1/health").status_code for _ in range(5)] == [200] * 4 + [429]


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_serve_with_two_worker_processes(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"sqlite:///{tmp_path / 'w.db'}"
    env = {**os.environ, "SPACECOMMONS_DATA_DIR": str(tmp_path / "blobs")}
    cmd = [sys.executable, "-m", "spacecommons.cli.main", "serve", "--workers", "2", "--port", str(port)]
    proc = subprocess.Popen([*cmd, "--database-url", url], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300  # a state to wait on, with a bound for a hung start
        answered = None
        while answered is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                answered = httpx.get(base + "/api/v1/health", timeout=5)
            except httpx.HTTPError:
                time.sleep(0.2)
        assert answered is not None, proc.stderr.read().decode() if proc.poll() is not None else "no answer"
        assert answered.status_code == 200 and answered.json()["database"] == "sqlite"
        while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:  # the two workers
            time.sleep(0.2)
        assert len(_children(proc.pid)) >= 2
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
