"""The README's main command, without its final server: every step runs on the bundled data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_demo_runs_end_to_end_without_warnings(tmp_path):
    """In a fresh interpreter with every warning shown (issue 10: the lunar step used the test client
    and printed a StarletteDeprecationWarning)."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    src = str(Path(__file__).parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    r = subprocess.run(
        [sys.executable, "-W", "default", "-m", "spacecommons.cli.main", "demo", "--database-url", url]
        + ["--days", "0.1", "--workers", "1", "--no-serve"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "close approaches among" in r.stdout
    # issue 13: the demo stores the Pc of its closest events, so the dashboard's Pc column is filled
    import sqlite3

    with sqlite3.connect(tmp_path / "demo.db") as db:
        n_pc, n_events = db.execute("select count(pc), count(*) from conjunction_events").fetchone()
        methods = {m for (m,) in db.execute("select distinct pc_method from conjunction_events where pc is not null")}
    assert n_pc == min(200, n_events) and n_pc > 0, (n_pc, n_events)
    assert methods and all(m.startswith("foster DEFAULT-cov") for m in methods), methods
    assert f"Pc stored for the {n_pc} closest events" in r.stdout
    assert "sbdb_neos_sample.csv: 300 orbit solutions added" in r.stdout
    assert "analyst API key" in r.stdout and "sc_" in r.stdout
    assert "moon_basemap" in r.stdout and ": ingested" in r.stdout
    assert "Warning" not in r.stderr, r.stderr
