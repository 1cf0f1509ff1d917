"""Faults: the server killed (SIGKILL) during a screening run leaves a consistent database; the
next start marks the run interrupted and the CLI resumes it to the same events as an
uninterrupted run."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from spacecommons.cli.main import app as cli
from spacecommons.storage import partners_repo

from .conftest import SAMPLE

IRIDIUM = SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_server_killed_during_a_run_then_resumed(tmp_path):
    from spacecommons.service import create_app
    from spacecommons.storage.tables import ConjunctionEvent, ScreeningRun

    url = f"sqlite:///{tmp_path / 'k.db'}"
    runner = CliRunner()
    assert runner.invoke(cli, ["catalog", "load", str(IRIDIUM), "--database-url", url]).exit_code == 0
    app = create_app(url)
    with app.state.session_maker.begin() as s:
        partners_repo.create_partner(s, "K", "t")
        key = partners_repo.issue_key(s, partners_repo.add_member(s, "K", "a", "analyst", "t").id, "t")
    app.state.engine.dispose()
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "spacecommons.cli.main", "serve", "--port", str(port),
                             "--database-url", url], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(base + "/api/v1/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
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
    resumed = runner.invoke(cli, ["screen", "--resume", str(run["id"]), "--workers", "1", "--database-url", url,
                                  "--out", str(tmp_path / "ev.csv")])  # fmt: skip
    assert resumed.exit_code == 0, resumed.output
    fresh = runner.invoke(cli, ["screen", "--from-db", "--start", "2021-10-02T00:00:00Z", "--days", "2",
                                "--threshold-km", "5", "--workers", "1", "--database-url", url,
                                "--out", str(tmp_path / "fresh.csv")])  # fmt: skip
    assert fresh.exit_code == 0, fresh.output
    check = create_app(url)
    with check.state.session_maker() as s:
        from sqlalchemy import select

        rows = {rid: sorted((e.id1, e.id2, e.tca) for e in s.scalars(select(ConjunctionEvent).where(
            ConjunctionEvent.run_id == rid))) for rid in (run["id"], run["id"] + 1)}  # fmt: skip
        assert s.get(ScreeningRun, run["id"]).status == "done"
    assert rows[run["id"]] == rows[run["id"] + 1] and rows[run["id"]]
    check.state.engine.dispose()
