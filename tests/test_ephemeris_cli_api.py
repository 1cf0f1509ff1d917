"""Ephemerides through the CLI (propagate --out .oem, screen --ephemeris, ephemeris upload/list)
and the API (operator uploads its own objects; visibility through policy.can_see_ephemeris)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from spacecommons.catalog import read_elements, read_tle
from spacecommons.cli.main import app as cli
from spacecommons.ephemeris import read_oem
from spacecommons.ephemeris.schema import schema_errors
from spacecommons.service import create_app
from spacecommons.storage import partners_repo
from spacecommons.storage.catalog_repo import set_owner, store_elements

DATA = Path(__file__).parent / "data"
ISS = DATA / "tle" / "iss_docked_2022-01-22.3le"
runner = CliRunner(env={"COLUMNS": "240"})
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_propagate_writes_an_oem_that_reads_back_as_the_sgp4_states(tmp_path: Path) -> None:
    out = tmp_path / "iss.oem"
    args = ["propagate", "--elements", str(ISS), "--ids", "25544", "--start", "2022-01-22T00:00:00Z"]
    r = runner.invoke(cli, [*args, "--hours", "1", "--frame", "teme", "--out", str(out)])
    assert r.exit_code == 0, r.output
    seg = read_oem(out.read_text()).segments[0]
    assert (seg.object_id, seg.ref_frame, seg.time_system, len(seg.epochs)) == ("1998-067A", "TEME", "UTC", 61)
    # TEME states are SGP4's own (python-sgp4 on the same TLE), to the last digit written
    sat = read_tle(ISS.read_text()).records[0].satrec()
    jd, fr = seg.jd()
    _, r_km, v_km_s = sat.sgp4_array(jd, fr)
    np.testing.assert_array_equal(seg.r_km, r_km)
    np.testing.assert_array_equal(seg.v_km_s, v_km_s)
    xml = tmp_path / "iss.oem.xml"
    r = runner.invoke(cli, [*args, "--hours", "1", "--frame", "eme2000", "--out", str(xml)])
    assert r.exit_code == 0, r.output
    assert schema_errors(xml.read_text()) == []
    r = runner.invoke(cli, [*args, "--frame", "itrf", "--out", str(out)])
    assert r.exit_code == 2 and "--frame" in r.output


def test_screen_with_an_ephemeris_reports_the_docked_group(tmp_path: Path) -> None:
    oem = tmp_path / "nauka.oem"
    r = runner.invoke(
        cli,
        ["propagate", "--elements", str(ISS), "--ids", "49044", "--start", "2022-01-22T00:00:00Z"]
        + ["--hours", "6", "--frame", "eme2000", "--out", str(oem)],
    )
    assert r.exit_code == 0, r.output
    events = tmp_path / "events.csv"
    r = runner.invoke(
        cli,
        ["screen", "--elements", str(ISS), "--ephemeris", str(oem), "--start", "2022-01-22T00:00:00Z"]
        + ["--days", "0.25", "--workers", "1", "--database-url", f"sqlite:///{tmp_path / 'db.sqlite'}"]
        + ["--out", str(events)],
    )
    assert r.exit_code == 0, r.output
    lines = events.read_text().splitlines()
    # NAUKA flies its OEM (object id 2021-066A found in the catalog), SOYUZ and DRAGON their shared TLE
    assert [line.split(",")[0] + "," + line.split(",")[2] + "," + line.split(",")[10] for line in lines[1:]] == [
        "49044,49269,co-located",
        "49044,50318,co-located",
    ]


def test_upload_and_list_through_the_cli(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    src = DATA / "odm" / "OEMExample5.txt"  # OBJECT_ID 1998-067A: a designator, not in this database
    r = runner.invoke(cli, ["ephemeris", "upload", str(src), "--database-url", db])
    assert r.exit_code != 0 and "1998-067A" in r.output
    r = runner.invoke(cli, ["catalog", "load", str(ISS), "--database-url", db])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["ephemeris", "upload", str(src), "--visibility", "partners", "--database-url", db])
    assert r.exit_code == 0, r.output
    assert "25544 ISS, 2017-04-11T22:31:43Z to 2017-04-12T22:31:43Z (partners)" in r.output
    r = runner.invoke(cli, ["ephemeris", "list", "--database-url", db])
    assert r.exit_code == 0 and "25544 ISS" in r.output


@pytest.fixture()
def service(tmp_path):
    app = create_app(f"sqlite:///{tmp_path / 'api.db'}", rate_per_second=1000.0, rate_burst=10000, clock=lambda: T0)
    keys = {}
    with app.state.session_maker.begin() as s:
        store_elements(s, read_elements(ISS).records, T0)
        for partner in ("A", "B"):
            partners_repo.create_partner(s, partner, T0)
            for role in ("operator", "analyst"):
                m = partners_repo.add_member(s, partner, f"{role}-{partner}", role, T0)
                keys[(partner, role)] = {"X-API-Key": partners_repo.issue_key(s, m.id, T0)}
        assert set_owner(s, 25544, 1)  # an admin made the ISS partner A's object
    with TestClient(app) as client:
        yield client, keys
    app.state.engine.dispose()


def test_api_upload_own_objects_only_and_visibility(service) -> None:
    client, keys = service
    body = (DATA / "odm" / "OEMExample5.txt").read_bytes()  # OBJECT_ID 1998-067A = 25544
    url = "/api/v1/ephemerides?filename=iss.oem"
    assert client.post(url, content=body, headers=keys[("B", "operator")]).status_code == 403
    assert client.post(url, content=body, headers=keys[("A", "analyst")]).status_code == 403  # role
    assert client.post(url, content=body).status_code == 401
    r = client.post(url + "&visibility=partners", content=body, headers=keys[("A", "operator")])
    assert r.status_code == 201, r.text
    (row,) = r.json()
    assert (row["norad_id"], row["n_states"], row["visibility"], row["mine"]) == (25544, 49, "partners", True)
    eid = row["id"]
    # partners see it, anonymous callers do not; the original text comes back byte for byte
    assert client.get(f"/api/v1/ephemerides/{eid}", headers=keys[("B", "analyst")]).status_code == 200
    assert client.get(f"/api/v1/ephemerides/{eid}").status_code == 404
    assert client.get("/api/v1/ephemerides").json() == []
    text = client.get(f"/api/v1/ephemerides/{eid}/oem", headers=keys[("B", "analyst")])
    assert text.content == body
    # a private one: only A
    r = client.post(url + "&visibility=private", content=body, headers=keys[("A", "operator")])
    private = r.json()[0]["id"]
    assert client.get(f"/api/v1/ephemerides/{private}", headers=keys[("B", "operator")]).status_code == 404
    assert [e["id"] for e in client.get("/api/v1/ephemerides", headers=keys[("B", "operator")]).json()] == [eid]
    assert {e["id"] for e in client.get("/api/v1/ephemerides", headers=keys[("A", "analyst")]).json()} == {
        eid,
        private,
    }


def test_api_bad_oem_names_line_and_keyword(service) -> None:
    client, keys = service
    body = (DATA / "odm" / "OEMExample5.txt").read_text().replace("REF_FRAME = GCRF", "REF_FRAME GCRF")
    r = client.post("/api/v1/ephemerides", content=body.encode(), headers=keys[("A", "operator")])
    assert r.status_code == 400
    line = next(n for n, t in enumerate(body.splitlines(), 1) if t == "REF_FRAME GCRF")
    assert f"upload.oem:{line}: REF_FRAME GCRF: expected KEY = value" in r.text


def _run_to_end(client, run_id: int, headers: dict) -> dict:
    """Wait on the run's state (not on a time): polled until it is no longer running."""
    import time

    for _ in range(3000):
        status = client.get(f"/api/v1/screening/runs/{run_id}", headers=headers).json()
        if status["status"] != "running":
            return status
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} still running: {status}")


def test_api_screening_with_an_uploaded_ephemeris_as_primary(service, tmp_path: Path) -> None:
    """Issue #14, API side of ``screen --ephemeris``: partner A uploads an OEM of NAUKA (49044, made
    A's object) generated from its TLE, and screens it through the API. Expected events as with the
    CLI above (test_screen_with_an_ephemeris_reports_the_docked_group, same catalog and window):
    NAUKA, docked to the ISS in the 2022-01-22 snapshot, forms the co-located group with SOYUZ MS-19
    (49269) and DRAGON CRS-24 (50318). Partner B may not screen A's private ephemeris (404, as for
    one that does not exist); a run may be no wider than its ephemeris (422)."""
    client, keys = service
    oem = tmp_path / "nauka.oem"
    r = runner.invoke(
        cli,
        ["propagate", "--elements", str(ISS), "--ids", "49044", "--start", "2022-01-22T00:00:00Z"]
        + ["--hours", "6", "--frame", "eme2000", "--out", str(oem)],
    )
    assert r.exit_code == 0, r.output
    with client.app.state.session_maker.begin() as s:
        assert set_owner(s, 49044, 1)  # an admin made NAUKA partner A's object
    up = "/api/v1/ephemerides?filename=nauka.oem&visibility="
    private = client.post(up + "private", content=oem.read_bytes(), headers=keys[("A", "operator")]).json()[0]["id"]
    shared = client.post(up + "partners", content=oem.read_bytes(), headers=keys[("A", "operator")]).json()[0]["id"]
    run = {"start": "2022-01-22T00:00:00Z", "days": 0.25, "threshold_km": 5.0}
    # B: A's private ephemeris does not exist for it; A's partners-visible one not in a public run
    for eid, vis, status in ((private, "private", 404), (shared, "public", 422), (10**6, "private", 404)):
        r = client.post(
            "/api/v1/screening/runs",
            json={**run, "visibility": vis, "ephemerides": [eid]},
            headers=keys[("B", "analyst")],
        )
        assert r.status_code == status, r.text
    assert client.post("/api/v1/screening/runs", json={**run, "ephemerides": [private]}).status_code == 401
    # A: its private ephemeris only in a private run
    r = client.post(
        "/api/v1/screening/runs",
        json={**run, "visibility": "partners", "ephemerides": [private]},
        headers=keys[("A", "analyst")],
    )
    assert r.status_code == 422 and "private" in r.json()["detail"]
    r = client.post(
        "/api/v1/screening/runs",
        json={**run, "visibility": "private", "ephemerides": [private]},
        headers=keys[("A", "analyst")],
    )
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    assert r.json()["params"]["primaries"] == [49044]
    assert _run_to_end(client, run_id, keys[("A", "analyst")])["status"] == "done"
    events = client.get(f"/api/v1/screening/runs/{run_id}/events", headers=keys[("A", "analyst")]).json()
    assert [(e["id1"], e["id2"], e["kind"]) for e in events] == [
        (49044, 49269, "co-located"),
        (49044, 50318, "co-located"),
    ]
    assert client.get(f"/api/v1/screening/runs/{run_id}/events", headers=keys[("B", "analyst")]).status_code == 404
