"""The README's main command, without its final server: every step runs on the bundled data."""

from __future__ import annotations

from typer.testing import CliRunner

from spacecommons.cli.main import app


def test_demo_runs_end_to_end(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    r = CliRunner().invoke(
        app, ["demo", "--database-url", url, "--days", "0.1", "--workers", "1", "--no-serve"], catch_exceptions=False
    )
    assert r.exit_code == 0, r.output
    assert "close approaches among" in r.output
    assert "sbdb_neos_sample.csv: 300 orbit solutions added" in r.output
    assert "analyst API key" in r.output and "sc_" in r.output
