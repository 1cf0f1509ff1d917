"""Issue #13: the command line's answer to ordinary mistakes, and ``--out`` by extension.

Each mistake must end with the exit code of its kind (2: usage -- a bad option, value or missing
file; 3: input partly rejected; 1: failure), one ``error:`` line that names the option or file,
no traceback, and nothing written or stored. The expected bounds are the ones the issue lists
(and Collins et al. 2005 for impact effects: angle in (0, 90] degrees, targets rock, sediment,
water). Output files are read back with each format's own reader (csv, json, pyarrow.parquet).
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from spacecommons.cli.main import app

from .conftest import DATA, SAMPLE

runner = CliRunner(env={"COLUMNS": "240"})
TLE = SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt"
NEO = DATA / "neo"
START = "2021-10-02T00:00:00Z"


def run(*args) -> object:
    return runner.invoke(app, [str(a) for a in args])


def assert_mistake(result, code: int, *names: str) -> None:
    """Exit ``code``, one ``error:`` line naming each of ``names``, no traceback."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    for name in names:
        assert name in errors[0], errors[0]


def stored_runs(url: str) -> int:
    path = url.removeprefix("sqlite:///")
    if not Path(path).exists():
        return 0
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("select name from sqlite_master where type='table'")}
        return db.execute("select count(*) from screening_runs").fetchone()[0] if "screening_runs" in tables else 0


# --- propagate ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--start", "02/10/2021"], "--start"),
        (["--start", START, "--step-s", "0"], "--step-s"),
        (["--start", START, "--step-s", "-60"], "--step-s"),
        (["--start", START, "--hours", "-5"], "--hours"),
        (["--start", START, "--frame", "j2000"], "--frame"),
    ],
)
def test_propagate_bad_values(tmp_path, extra, option):
    out = tmp_path / "eph.csv"
    r = run("propagate", "--elements", TLE, *extra, "--out", out)
    assert_mistake(r, 2, option)
    assert not out.exists()


def test_propagate_missing_file_and_bad_out(tmp_path):
    r = run("propagate", "--elements", tmp_path / "none.tle", "--start", START, "--out", tmp_path / "e.csv")
    assert_mistake(r, 2, "none.tle")
    r = run("propagate", "--elements", TLE, "--start", START, "--out", tmp_path / "e.xlsx")
    assert_mistake(r, 2, "--out", ".csv", ".json")
    assert not (tmp_path / "e.xlsx").exists()


@pytest.mark.parametrize("ext", ["csv", "json"])
def test_propagate_out_formats(tmp_path, ext):
    out = tmp_path / f"eph.{ext}"
    r = run("propagate", "--elements", TLE, "--ids", "24946", "--start", START, "--hours", "1", "--out", out)
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open())) if ext == "csv" else json.loads(out.read_text())
    assert len(rows) == 61  # 0..60 min every 60 s, one object
    assert {int(row["norad_id"]) for row in rows} == {24946}


# --- screen and runs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--threshold-km", "-5"], "--threshold-km"),
        (["--days", "0"], "--days"),
        (["--start", "yesterday"], "--start"),
        (["--out", "ev.xlsx"], "--out"),
        (["--chunk-days", "0"], "--chunk-days"),
    ],
)
def test_screen_refused_before_any_run_is_stored(tmp_path, sqlite_url, extra, option):
    args = ["screen", "--elements", TLE, "--start", START, "--workers", "1", "--database-url", sqlite_url]
    r = run(*args, *extra)
    assert_mistake(r, 2, option)
    assert stored_runs(sqlite_url) == 0


def test_screen_resume_and_runs_show_of_unknown_run(sqlite_url):
    assert_mistake(run("screen", "--resume", "77", "--database-url", sqlite_url), 2, "--resume", "77")
    assert_mistake(run("runs", "show", "99", "--database-url", sqlite_url), 2, "99")


def test_screen_out_formats(tmp_path, sqlite_url):
    """One screening (6 h of Iridium-33 debris, 50 km) written as .parquet: as many rows as the
    command reports, each closer than the threshold."""
    out = tmp_path / "ev.parquet"
    args = ["screen", "--elements", TLE, "--start", START, "--days", "0.25", "--threshold-km", "50"]
    r = run(*args, "--workers", "1", "--out", out, "--database-url", sqlite_url)
    assert r.exit_code == 0, r.output
    table = pq.read_table(out)
    n_events = int(re.search(r"(\d+) events in", r.stdout).group(1))
    assert table.num_rows == n_events and "miss_km" in table.column_names
    assert all(m < 50 for m in table.column("miss_km").to_pylist())


def test_screen_chunk_days_changes_the_work_split_not_the_events(tmp_path, sqlite_url):
    """``--chunk-days`` (memory per Dask worker) splits the window differently; the events (pairs,
    TCA, miss) must be those of the default split -- an independent run of the same screening."""
    args = ["screen", "--elements", TLE, "--start", START, "--days", "0.25", "--threshold-km", "50", "--workers", "1"]
    rows = []
    for extra, name in (([], "default.csv"), (["--chunk-days", "0.05"], "short.csv")):
        r = run(*args, *extra, "--out", tmp_path / name, "--database-url", sqlite_url)
        assert r.exit_code == 0, r.output
        with open(tmp_path / name) as f:
            rows.append(
                sorted((e["id1"], e["id2"], e["tca"], round(float(e["miss_km"]), 6)) for e in csv.DictReader(f))
            )
    assert rows[0] and rows[0] == rows[1]


# --- cdm and pc --------------------------------------------------------------------------------


def test_cdm_export_unknown_run_creates_nothing(tmp_path, sqlite_url):
    target = tmp_path / "cdms"
    r = run("cdm", "export", "--run", "99", "--dir", target, "--database-url", sqlite_url)
    assert_mistake(r, 2, "--run", "99")
    assert not target.exists()
    r = run("cdm", "export", "--run", "1", "--dir", target, "--format", "json", "--database-url", sqlite_url)
    assert_mistake(r, 2, "--format", "kvn", "xml")
    assert not target.exists()


def test_pc_and_cdm_missing_files(tmp_path):
    assert_mistake(run("pc"), 2, "--run")
    assert_mistake(run("pc", tmp_path / "nope.cdm"), 2, "nope.cdm")
    r = run("cdm", "convert", tmp_path / "nope.cdm", tmp_path / "out.xml")
    assert_mistake(r, 2, "nope.cdm")
    assert not (tmp_path / "out.xml").exists()
    assert_mistake(run("cdm", "check", tmp_path / "nonexist"), 2, "nonexist")


# --- neo ---------------------------------------------------------------------------------------


def test_neo_moid_missing_file_and_bad_out(tmp_path):
    assert_mistake(run("neo", "moid", "--orbits", tmp_path / "no.json", "--out", tmp_path / "m.csv"), 2, "no.json")
    r = run("neo", "moid", "--orbits", NEO / "sbdb_99942.json", "--out", tmp_path / "m.xlsx")
    assert_mistake(r, 2, "--out", ".parquet")
    assert not (tmp_path / "m.xlsx").exists()


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--body", "pluto"], "--body"),
        (["--max-dist-au", "-1"], "--max-dist-au"),
        (["--end", "2019-12-31"], "--end"),
        (["--out", "x.xlsx"], "--out"),
    ],
)
def test_neo_approaches_bad_values(tmp_path, extra, option):
    args = ["neo", "approaches", "--orbits", NEO / "sbdb_2020_jan_approachers.csv", "--start", "2020-01-01"]
    defaults = {"--end": "2020-01-02", "--out": str(tmp_path / "ca.csv")}
    for key in extra[::2]:
        defaults.pop(key, None)
    args += [x for kv in defaults.items() for x in kv]
    assert_mistake(run(*args, *extra), 2, option)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("ext", ["csv", "json", "parquet"])
def test_neo_moid_out_formats(tmp_path, ext):
    """Apophis' Earth MOID from its SBDB record: JPL 0.000360605 au (solution 220); the record's
    orbit is at its covariance epoch, where the MOID is 0.00038 au (as tests/test_neo_readers_cli.py)."""
    out = tmp_path / f"m.{ext}"
    r = run("neo", "moid", "--orbits", NEO / "sbdb_99942.json", "--out", out)
    assert r.exit_code == 0, r.output
    if ext == "csv":
        rows = list(csv.DictReader(out.open()))
    elif ext == "json":
        rows = json.loads(out.read_text())
    else:
        rows = pq.read_table(out).to_pylist()
    assert len(rows) == 1 and rows[0]["des"] == "99942"
    assert float(rows[0]["moid_au"]) == pytest.approx(0.000361, abs=3e-5)
    assert float(rows[0]["jpl_moid_au"]) == pytest.approx(0.000360605)


def test_neo_approaches_parquet(tmp_path):
    """CNEOS close-approach data lists the same objects (tests/data/neo/cneos_cad_2020_jan01-04.csv)."""
    out = tmp_path / "ca.parquet"
    args = ["neo", "approaches", "--orbits", NEO / "sbdb_2020_jan_approachers.csv", "--start", "2020-01-01"]
    r = run(*args, "--end", "2020-01-02", "--workers", "1", "--out", out)
    assert r.exit_code == 0, r.output
    rows = pq.read_table(out).to_pylist()
    cneos = list(csv.DictReader((NEO / "cneos_cad_2020_jan01-04.csv").open()))
    expected = {c["des"] for c in cneos if float(c["dist"]) <= 0.05 and float(c["jd"]) < 2458850.5}
    assert {row["des"] for row in rows} == expected


# --- defense, db, catalog ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--diameter-m", "0", "--speed-km-s", "20"], "--diameter-m"),
        (["--diameter-m", "50", "--speed-km-s", "0"], "--speed-km-s"),
        (["--diameter-m", "50", "--speed-km-s", "20", "--angle-deg", "0"], "--angle-deg"),
        (["--diameter-m", "50", "--speed-km-s", "20", "--angle-deg", "120"], "--angle-deg"),
        (["--diameter-m", "50", "--speed-km-s", "20", "--target", "ice"], "--target"),
    ],
)
def test_impact_effects_bad_values(extra, option):
    assert_mistake(run("defense", "impact-effects", *extra), 2, option)


def test_kinetic_impactor_zero_target():
    """A zero-size target is an error, not ``dv = inf``; DART's numbers give a finite answer."""
    assert_mistake(run(*r_args("0")), 2, "--diameter-m")
    assert run(*r_args("160")).exit_code == 0


def r_args(diameter: str) -> list[str]:
    return [
        "defense",
        "kinetic-impactor",
        "--impactor-mass-kg",
        "580",
        "--impactor-speed-km-s",
        "6.1",
        "--diameter-m",
        diameter,
    ]


def test_db_restore_of_a_non_database(tmp_path, sqlite_url):
    junk = tmp_path / "junk.db"
    junk.write_text("this is not a database\n" * 200)
    assert_mistake(run("db", "restore", junk, "--database-url", sqlite_url), 2, "junk.db")
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()


def test_catalog_fetch_celestrak_needs_a_group(sqlite_url):
    r = run("catalog", "fetch", "celestrak", "--base-url", "http://127.0.0.1:9", "--database-url", sqlite_url)
    assert_mistake(r, 2, "--group")


def test_debug_shows_the_traceback_and_version():
    r = run("--debug", "defense", "impact-effects", "--diameter-m", "0", "--speed-km-s", "20")
    assert r.exit_code != 0 and r.exception is not None  # re-raised: CliRunner keeps the exception
    r = run("--version")
    assert r.exit_code == 0 and r.stdout.startswith("spacecommons ")


def test_screen_update_of_unknown_run_and_without_elements(sqlite_url):
    """`screen --update` (issue #18) names the unknown run, and asks for the new element sets."""
    assert_mistake(run("screen", "--update", "77", "--database-url", sqlite_url), 2, "--elements")
    assert_mistake(
        run("screen", "--update", "77", "--elements", TLE, "--database-url", sqlite_url), 2, "--update", "77"
    )


# --- issue #13, second round: bounds shared with the API, names, listings ------------------------


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--diameter-m", "50", "--speed-km-s", "100"], "--speed-km-s"),  # the API's cap is 80 km/s
        (["--diameter-m", "50", "--speed-km-s", "20", "--density", "50"], "--density"),
        (["--diameter-m", "50", "--speed-km-s", "20", "--angle-deg", "0.5"], "--angle-deg"),
    ],
)
def test_impact_effects_bounds_are_the_apis(extra, option):
    assert_mistake(run("defense", "impact-effects", *extra), 2, option)


def test_cli_and_api_share_the_impact_bounds():
    """The API's OpenAPI ranges for /defense/impact-effects are the CLI's (defense.bounds)."""
    from spacecommons.defense import bounds
    from spacecommons.service import create_app

    app = create_app("sqlite://")
    try:
        op = app.openapi()["paths"]["/api/v1/defense/impact-effects"]["get"]
    finally:
        app.state.engine.dispose()
    ranges = {p["name"]: (p["schema"].get("minimum"), p["schema"].get("maximum")) for p in op["parameters"]}
    assert ranges["speed_km_s"] == (bounds.IMPACT_SPEED_KM_S.lo, bounds.IMPACT_SPEED_KM_S.hi) == (1.0, 80.0)
    assert ranges["angle_deg"] == (bounds.ENTRY_ANGLE_DEG.lo, bounds.ENTRY_ANGLE_DEG.hi)
    assert ranges["diameter_m"] == (bounds.DIAMETER_M.lo, bounds.DIAMETER_M.hi)
    assert ranges["density"] == (bounds.DENSITY_KG_M3.lo, bounds.DENSITY_KG_M3.hi)


def test_airburst_says_why_there_is_no_impact_speed_and_json_is_standard():
    """Chelyabinsk-like entry (19 m, 3300 kg/m^3, 19.16 km/s, 18.3 deg; Popova et al. 2013): an airburst."""
    args = ["defense", "impact-effects", "--diameter-m", "19", "--density", "3300", "--speed-km-s", "19.16"]
    r = run(*args, "--angle-deg", "18.3")
    assert r.exit_code == 0, r.output
    assert "0.00 km/s" not in r.stdout and "does not reach the ground" in r.stdout
    r = run(*args, "--angle-deg", "18.3", "--json")
    doc = json.loads(r.stdout, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert doc["airburst_altitude_m"] > 0


def test_kinetic_impactor_bounds():
    assert_mistake(run(*r_args("160"), "--beta", "0.5"), 2, "--beta")
    assert_mistake(run(*r_args("160")[:5], "0", "--diameter-m", "160"), 2, "--impactor-speed-km-s")


def test_neo_risk_unknown_designation_is_not_found():
    r = run("neo", "risk", "Nosuch", "--orbits", NEO / "sbdb_99942.json")
    assert_mistake(r, 2, "not found", "Nosuch")


def test_deflection_scan_lead_before_the_orbit_epoch_names_the_epoch():
    """SBDB's Apophis solution has epoch JD 2459215.5 TDB = 2021-01-01; 30 yr before 2029 is earlier."""
    r = run(
        "defense",
        "deflection-scan",
        "--orbits",
        NEO / "sbdb_99942.json",
        "--des",
        "Apophis",
        "--encounter",
        "2029-04-13",
        "--lead-years",
        "1,30",
    )
    assert_mistake(r, 2, "--lead-years", "2021-01-01", "2459215.5")
    r = run("defense", "deflection-scan", "--synthetic", "--encounter", "2028-08-17", "--lead-years", "-1")
    assert_mistake(r, 2, "--lead-years")


@pytest.mark.parametrize("command", [["runs", "list"], ["runs", "show", "1"], ["catalog", "history", "1"]])
def test_listing_json_and_csv_together_is_a_usage_error(command, sqlite_url):
    assert_mistake(run(*command, "--json", "--csv", "--database-url", sqlite_url), 2, "--json", "--csv")


def test_runs_show_limit_must_be_positive(sqlite_url):
    assert_mistake(run("runs", "show", "1", "--limit", "0", "--database-url", sqlite_url), 2, "--limit")
