"""Observations in the database, the CLI that loads them and the API through which partners submit
ADES and list what they may see (issue #16, "Astrometry in").

Fixtures: tests/data/neo/observations/ (provenance in tests/data/SOURCES.md). Expected counts are
the records in the files (883 for 2008 TC3, SOURCES.md); digests are recomputed here with hashlib.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from spacecommons.cli.main import app as cli
from spacecommons.neo.astrometry import read_mpc80, write_ades_psv
from spacecommons.service import create_app
from spacecommons.storage import make_engine, partners_repo, session_factory, upgrade
from spacecommons.storage.observations_repo import observation_from_row, stored_observations
from spacecommons.workflows.observations import ingest_observations

OBS = Path(__file__).parent / "data" / "neo" / "observations"
T0 = datetime(2026, 11, 27, tzinfo=UTC)


@pytest.fixture
def maker(sqlite_url):
    engine = make_engine(sqlite_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def test_ingest_keeps_provenance_and_is_idempotent(maker):
    data = (OBS / "2008TC3.txt").read_bytes()
    with maker.begin() as s:
        first = ingest_observations(s, data, "2008TC3.txt", submitter="cli:test", loaded_at=T0)
    assert (first.format, first.n_optical, first.counts.added, first.issues) == ("mpc80", 883, 883, [])
    assert first.file_sha256 == hashlib.sha256(data).hexdigest()
    with maker.begin() as s:
        again = ingest_observations(s, data, "copy.txt", submitter="cli:test", loaded_at=T0)
        other = ingest_observations(s, data, "2008TC3.txt", submitter="cli:other", loaded_at=T0)
    assert (again.counts.added, again.counts.unchanged) == (0, 883)
    assert other.counts.added == 883  # the same records from another submitter are theirs too
    with maker() as s:
        rows = stored_observations(s, "2008 TC3")
        assert len(rows) == 2 * 883
        row = rows[0]
        assert (row.source_file, row.source_line, row.file_digest) == ("2008TC3.txt", 1, first.file_sha256)
        original = read_mpc80(data.decode(), "2008TC3.txt")[0][0]
        assert observation_from_row(row) == original  # every field back, source = file:line


def test_radar_and_bad_records(maker):
    text = (
        OBS / "99942_RADAR_2021.dat"
    ).read_text() + "\n99942 Apophis\t2021-03-12 00:00:00\tx\t1\tus\t8560\t253\t253\tC\n"
    with maker.begin() as s:
        result = ingest_observations(s, text.encode(), "r.dat", submitter="cli:test", loaded_at=T0)
    assert (result.n_radar, result.counts.added) == (4, 4)
    assert [str(i) for i in result.issues] == ["r.dat:5: value: 'x' is not a number"]
    with maker() as s:
        kinds = [r.kind for r in stored_observations(s, "99942")]
    assert kinds == ["doppler", "delay", "delay", "delay"]  # 99942_RADAR_2021.dat: 1 Hz then 3 us records
    with maker.begin() as s:
        binary = ingest_observations(s, b"\xff\xfe\x00", "b.bin", submitter="cli:test", loaded_at=T0)
    assert [(i.line, i.field) for i in binary.issues] == [(1, "encoding")]


def test_cli_load_and_list(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    files = [str(OBS / "2023DW.txt"), str(OBS / "101955_RADAR_2011.dat")]
    r = runner.invoke(cli, ["neo", "observations", "load", *files, "--database-url", url, "--submitter", "cli:t"])
    assert r.exit_code == 0, r.output
    assert "123 optical" in r.output and "6 radar" in r.output and "129 observations added" in r.output
    r = runner.invoke(cli, ["neo", "observations", "list", "2023 DW", "--json", "--database-url", url])
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert len(rows) == 123 and rows[0]["submitter"] == "cli:t" and rows[0]["source"] == "2023DW.txt:1"
    bad = tmp_path / "bad.txt"
    bad.write_text((OBS / "2023DW.txt").read_text().splitlines()[0][:40] + "\n")
    r = runner.invoke(cli, ["neo", "observations", "load", str(bad), "--database-url", url])
    assert r.exit_code == 3 and "bad.txt:1" in r.output


@pytest.fixture
def service(sqlite_url):
    app = create_app(sqlite_url, clock=lambda: T0, rate_per_second=1000.0, rate_burst=100000)
    keys = {}
    with app.state.session_maker.begin() as s:
        for partner in ("A", "B"):
            partners_repo.create_partner(s, partner, T0)
            for role in ("observer", "analyst"):
                m = partners_repo.add_member(s, partner, f"{role}-m", role, T0)
                keys[(partner, role)] = partners_repo.issue_key(s, m.id, T0)
    yield TestClient(app), keys
    app.state.job_queue.shutdown(wait=True, timeout=60)
    app.state.engine.dispose()


def _h(key):
    return {"X-API-Key": key} if key else {}


def test_partner_submits_ades_and_visibility_is_enforced(service):
    client, keys = service
    obs, _ = read_mpc80((OBS / "2023DW.txt").read_text(), "2023DW.txt")
    body = write_ades_psv(obs[:10]).encode()
    body += b"|2023 DW||CCD|I41|2023-03-01T00:00:00Z|400.0|+1.0|||||||||||||||||\n"  # RA out of range
    r = client.post(
        "/api/v1/neo/observations?visibility=private&filename=dw.psv", content=body, headers=_h(keys[("A", "observer")])
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["format"], out["added"], out["unchanged"]) == ("ades-psv", 10, 0)
    assert out["rejected"] == ["api:A/observer-m/dw.psv:13: ra: 400.0 outside [0, 360)"]
    assert out["file_sha256"] == hashlib.sha256(body).hexdigest()
    # private: partner A sees them, B and anonymous callers do not
    mine = client.get("/api/v1/neo/observations/2023 DW", headers=_h(keys[("A", "analyst")])).json()
    assert len(mine) == 10 and mine[0]["submitter"] == "partner:A/observer-m"
    assert mine[0]["ra_deg"] == pytest.approx(obs[0].ra_deg, abs=1e-9)
    assert client.get("/api/v1/neo/observations/2023 DW", headers=_h(keys[("B", "analyst")])).json() == []
    assert client.get("/api/v1/neo/observations/2023 DW").json() == []
    # partners: B sees, anonymous does not; public: everyone
    r = client.post(
        "/api/v1/neo/observations?visibility=partners",
        content=write_ades_psv(obs[10:12]).encode(),
        headers=_h(keys[("A", "observer")]),
    )
    assert r.json()["added"] == 2
    assert len(client.get("/api/v1/neo/observations/2023 DW", headers=_h(keys[("B", "analyst")])).json()) == 2
    assert client.get("/api/v1/neo/observations/2023 DW").json() == []
    client.post(
        "/api/v1/neo/observations?visibility=public",
        content=write_ades_psv(obs[12:13]).encode(),
        headers=_h(keys[("B", "observer")]),
    )
    assert len(client.get("/api/v1/neo/observations/2023 DW").json()) == 1


def test_submission_needs_the_observer_role_and_ades(service):
    client, keys = service
    psv = write_ades_psv(read_mpc80((OBS / "2023DW.txt").read_text(), "x")[0][:1]).encode()
    assert client.post("/api/v1/neo/observations", content=psv).status_code == 401
    assert client.post("/api/v1/neo/observations", content=psv, headers=_h(keys[("A", "analyst")])).status_code == 403
    mpc80 = (OBS / "2023DW.txt").read_bytes()
    r = client.post("/api/v1/neo/observations", content=mpc80, headers=_h(keys[("A", "observer")]))
    assert r.status_code == 422 and "accepted here: ades-psv, ades-xml" in r.text
