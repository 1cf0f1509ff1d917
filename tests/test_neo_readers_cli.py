"""The real orbit files of issue #13 through the command line: `neo load`, `neo moid`,
`defense deflection-scan --orbits` exit 0 with the expected counts (fixtures: tests/data/neo/,
see tests/data/SOURCES.md)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spacecommons.cli.main import app

NEO = Path(__file__).parent / "data" / "neo"
REAL = [NEO / n for n in ("sbdb_99942.json", "sbdb_101955.json", "neocc_99942.ke1", "neocc_101955.ke1")]
runner = CliRunner(env={"COLUMNS": "240"})


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_neo_load_real_files_then_idempotent(sqlite_url):
    r = invoke("neo", "load", *REAL, "--database-url", sqlite_url)
    assert r.exit_code == 0, r.output
    assert "4 orbit solutions added, 0 already stored, 0 rejected" in r.stdout
    for path in REAL:
        assert f"{path}: 1 orbits read, 1 new, 0 already stored, 0 rejected" in r.stdout
    r = invoke("neo", "load", *REAL, "--database-url", sqlite_url)
    assert r.exit_code == 0 and "0 orbit solutions added, 4 already stored, 0 rejected" in r.stdout

    from spacecommons.neo.orbit import PhysicalParameter
    from spacecommons.storage import make_engine, session_factory
    from spacecommons.storage.neo_repo import latest_orbits

    with session_factory(make_engine(sqlite_url))() as session:
        stored = latest_orbits(session, ["99942"])
    # the latest stored Apophis is NEOCC's (loaded last); physical text survives the round trip
    assert stored[0].orbit_id == "NEOCC" and stored[0].physical_parameter("H").number == 18.893
    assert all(isinstance(p, PhysicalParameter) for p in stored[0].physical)


def test_neo_load_bad_file_in_the_middle_still_summarises(tmp_path, sqlite_url):
    bad = tmp_path / "bad.json"
    doc = json.loads(REAL[0].read_text())
    doc["orbit"]["covariance"]["elements"][0]["value"] = "0.19x"
    bad.write_text(json.dumps(doc))
    junk = tmp_path / "junk.txt"
    junk.write_text("hello world\n")
    r = invoke("neo", "load", REAL[2], bad, junk, REAL[3], "--database-url", sqlite_url)
    assert r.exit_code == 3
    assert "2 orbit solutions added, 0 already stored, 2 rejected" in r.stdout
    assert f"{bad}:1: orbit.covariance.elements.e:" in r.stderr
    assert f"{junk}:1: format: not a recognised orbit format" in r.stderr
    assert "Traceback" not in r.output


@pytest.mark.parametrize("name", ["sbdb_99942.json", "neocc_99942.ke1"])
def test_neo_moid_on_real_files(tmp_path, name):
    out = tmp_path / "moid.csv"
    r = invoke("neo", "moid", "--orbits", NEO / name, "--out", out)
    assert r.exit_code == 0, r.output
    assert "1 orbits, 0 rejected" in r.stdout
    (row,) = list(csv.DictReader(out.open()))
    # Apophis' Earth MOID: JPL 0.000360605 au (solution 220, 2025 epoch); NEOCC 3.6059301e-4 au.
    # The SBDB answer's orbit is its covariance epoch (2021-01-01), where the MOID is 0.00038 au.
    assert row["des"] == "99942" and abs(float(row["moid_au"]) - 0.000361) < 3e-5


def test_neo_moid_without_phys_par(tmp_path):
    """The issue's reproduction: with phys_par removed, `neo moid` crashed (a_au None)."""
    doc = json.loads(REAL[0].read_text())
    del doc["phys_par"]
    src = tmp_path / "nophys.json"
    src.write_text(json.dumps(doc))
    r = invoke("neo", "moid", "--orbits", src, "--out", tmp_path / "m.csv")
    assert r.exit_code == 0, r.output


def test_neo_moid_reports_open_orbits(tmp_path):
    doc = json.loads(REAL[0].read_text())
    for element in doc["orbit"]["covariance"]["elements"]:
        if element["name"] == "e":
            element["value"] = "1.2"
    src = tmp_path / "hyperbolic.json"
    src.write_text(json.dumps(doc))
    r = invoke("neo", "moid", "--orbits", src, "--out", tmp_path / "m.csv")
    assert r.exit_code == 3
    assert f"{src}:1: e: 99942: e = 1.2 is an open orbit" in r.stderr


def test_deflection_scan_on_the_sbdb_answer(tmp_path):
    """Apophis from JPL's SBDB answer, no push, one year before the 2029 encounter: the closest
    approach is JPL CNEOS's 38,012.68 km from Earth's centre = 5.960 Earth radii (orbit 206; the
    answer is solution 220). Tolerance 0.02 R_E (130 km) covers the two solutions and the scan's
    sampling."""
    r = invoke(
        "defense", "deflection-scan", "--orbits", REAL[0], "--des", "99942",
        "--encounter", "2029-04-13", "--lead-years", "1", "--dv-mm-s", "0", "--out", tmp_path / "scan.csv",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    (row,) = list(csv.DictReader((tmp_path / "scan.csv").open()))
    assert abs(float(row["closest_earth_radii"]) - 38012.68 / 6378.137) < 0.02
