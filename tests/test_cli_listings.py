"""Issue #13: listings people can read, and what ``runs show`` / ``pc --run`` / ``propagate`` report.

The "screenshot" tests render the main listings at 80 and 160 columns and assert that no
identifier or time is cut: the full values (ids, ISO times, lidvids) are on one line each and no
ellipsis appears. Expected values come from the inputs themselves (the stored run read back with
``--json``), from the TLE format (international designator in line 1 columns 10-17, NORAD TLE
documentation / CelesTrak "NORAD Two-Line Element Set Format") and from Vallado et al. 2006,
"Revisiting Spacetrack Report #3" (AIAA 2006-6753), whose SGP4-VER.TLE says object 28872 decays
(perigee -51 km) within 50 minutes of its epoch.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from spacecommons.cli import common
from spacecommons.cli.listing import Column, render, table
from spacecommons.cli.main import app
from spacecommons.cli.neo import select_orbits
from spacecommons.cli.screen import screen_workers
from spacecommons.neo.reader import read_orbits

from .conftest import DATA, SAMPLE

runner = CliRunner()
IRIDIUM = SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt"
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def invoke(*args, width: int | None = None, monkeypatch=None):
    if width is not None:  # the shared console's width, as a terminal of that size gives it
        monkeypatch.setattr(common.console, "_width", width)
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def screened(tmp_path_factory):
    """A database with one screening run of the Iridium 33 debris (6 h) and its Pc stored."""
    url = f"sqlite:///{tmp_path_factory.mktemp('listings') / 'db.sqlite'}"
    r = invoke(
        "screen",
        "--elements",
        IRIDIUM,
        "--start",
        "2021-10-02T00:00:00Z",
        "--days",
        "0.25",
        "--workers",
        "1",
        "--database-url",
        url,
    )
    assert r.exit_code == 0, r.output
    return url


def assert_uncut(text: str, values: list[str], width: int) -> None:
    assert "…" not in text and "..." not in text, text
    lines = text.splitlines()
    for v in values:
        assert any(v in line for line in lines), (v, text)
    # table lines fit; plain text lines (captions, notes) are wrapped by the terminal, not cut
    assert max((len(line) for line in lines if set(line) & set("│┃━─")), default=0) <= width, text


@pytest.mark.parametrize("width", [80, 160])
def test_runs_list_and_show_keep_ids_and_times_whole(screened, width, monkeypatch):
    run = json.loads(invoke("runs", "show", "1", "--json", "--database-url", screened).stdout)
    times = [e["tca"] for e in run["rows"]]
    ids = [str(e[k]) for e in run["rows"] for k in ("id1", "id2")]
    assert run["rows"] and all(ISO.fullmatch(t) for t in times)

    shown = invoke("runs", "show", "1", "--database-url", screened, width=width, monkeypatch=monkeypatch)
    assert shown.exit_code == 0, shown.output
    assert_uncut(shown.stdout, times + ids + [f"{e['miss_km']:.3f}" for e in run["rows"]], width)
    if width == 80:  # what did not fit is named, not silently lost
        assert "left out at this width:" in shown.stdout and "name 1" in shown.stdout
    else:
        assert "left out" not in shown.stdout and "IRIDIUM 33 DEB" in shown.stdout

    listed = invoke("runs", "list", "--database-url", screened, width=width, monkeypatch=monkeypatch)
    assert listed.exit_code == 0, listed.output
    assert_uncut(listed.stdout, [run["run"]["start"], "done"], width)


@pytest.mark.parametrize("width", [80, 160])
def test_catalog_history_keeps_epochs_whole(tmp_path, width, monkeypatch):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert invoke("catalog", "load", IRIDIUM, "--database-url", url).exit_code == 0
    rows = json.loads(invoke("catalog", "history", "24946", "--json", "--database-url", url).stdout)
    assert [r["norad_id"] for r in rows] == [24946] and rows[0]["format"] == "tle"
    shown = invoke("catalog", "history", "24946", "--database-url", url, width=width, monkeypatch=monkeypatch)
    assert_uncut(shown.stdout, [rows[0]["epoch"]], width)
    as_csv = list(
        csv.DictReader(io.StringIO(invoke("catalog", "history", "24946", "--csv", "--database-url", url).stdout))
    )
    assert as_csv[0]["epoch"] == rows[0]["epoch"] and as_csv[0]["line"] == str(rows[0]["line"])


@pytest.mark.parametrize("width", [80, 160])
def test_data_list_columns_keep_lidvids_whole(width):
    """The product listing's columns (``data list``) with the lidvids of the LROC sample labels."""
    from rich.console import Console

    from spacecommons.cli.data import PRODUCT_COLUMNS

    lids = [
        re.search(r"<logical_identifier>(.+?)<", p.read_text()).group(1) for p in sorted((DATA / "lunar").glob("*.xml"))
    ]
    rows = [
        {
            "lidvid": f"{lid}::1.0",
            "title": "LROC NAC calibrated image of the Apollo 12 landing site, with a long descriptive title",
            "target": "Moon",
            "processing_level": "Calibrated",
            "start": "2009-07-30T05:40:47.123Z",
            "public_release_at": "2027-01-01T00:00:00Z",
            "n_files": 2,
        }
        for lid in lids
    ]
    console = Console(width=width, record=True, file=io.StringIO(), soft_wrap=True)  # as cli.common.console
    console.print(render(rows, PRODUCT_COLUMNS, width, title="products"))
    text = console.export_text()
    assert_uncut(text, [r["lidvid"] for r in rows] + ["2009-07-30T05:40:47.123Z"], width)
    # the DTM's lidvid (80 characters) cannot fit an 80-column table: one record per product then
    assert ("lidvid: " + rows[-1]["lidvid"] in text) == (width == 80)


def test_table_drops_columns_by_rank_and_never_cuts():
    rows = [{"id": "2021-10-02T01:27:54.072Z", "a": "x" * 30, "b": "y" * 30}]
    cols = (Column("id", "time", keep=True), Column("a", "first", drop=1), Column("b", "second", drop=2))
    from rich.console import Console

    console = Console(width=60, record=True, file=io.StringIO())
    console.print(table(rows, cols, 60))
    text = console.export_text()
    assert "second" in text.split("left out")[1]  # the highest rank goes first
    assert rows[0]["id"] in text and "…" not in text


def test_runs_show_reports_stored_pc_and_sgp4_failures(screened):
    stored = runner.invoke(app, ["pc", "--run", "1", "--json", "--database-url", screened])
    assert stored.exit_code == 0, stored.output
    pcs = json.loads(stored.stdout)  # JSON only on stdout; the summary line goes to stderr
    assert pcs and all(0.0 <= p["pc"] <= 1.0 and p["pc_method"].startswith("foster DEFAULT-cov") for p in pcs)
    run = json.loads(invoke("runs", "show", "1", "--json", "--database-url", screened).stdout)
    by_event = {(p["id1"], p["id2"]): p["pc"] for p in pcs}
    assert all(by_event[(e["id1"], e["id2"])] == e["pc"] for e in run["rows"])
    assert isinstance(run["sgp4_failures"], list)


def test_runs_show_lists_the_objects_sgp4_could_not_propagate(tmp_path):
    """28872 decays within 50 minutes of its epoch (SGP4-VER.TLE): screened from 1 h after it, it fails."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    r = invoke(
        "screen",
        "--elements",
        DATA / "tle" / "SGP4-VER.TLE",
        "--start",
        "2005-11-29T01:30:00Z",
        "--days",
        "0.1",
        "--workers",
        "1",
        "--database-url",
        url,
    )
    assert r.exit_code == 0, r.output
    run = json.loads(invoke("runs", "show", "1", "--json", "--database-url", url).stdout)
    failed = {f["norad_id"]: f["reason"] for f in run["sgp4_failures"]}
    assert 28872 in failed
    shown = invoke("runs", "show", "1", "--database-url", url)
    assert "could not propagate" in shown.stdout and "28872" in shown.stdout


def test_propagate_writes_failed_states_as_empty_fields(tmp_path):
    """28872 (SGP4-VER.TLE, epoch 05333.02012661 = 2005-11-29T00:28:58.94Z) is lost within 50 min."""
    out = tmp_path / "eph.csv"
    r = invoke(
        "propagate",
        "--elements",
        DATA / "tle" / "SGP4-VER.TLE",
        "--ids",
        "28872",
        "--start",
        "2005-11-29T00:28:59Z",
        "--hours",
        "2",
        "--step-s",
        "600",
        "--out",
        out,
    )
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open()))
    good = [row for row in rows if row["sgp4_error"] == "0"]
    bad = [row for row in rows if row["sgp4_error"] != "0"]
    assert good and bad and "nan" not in out.read_text().lower()
    assert all(row["x_km"] == row["vz_km_s"] == "" and row["error_message"] for row in bad)
    assert all(float(row["x_km"]) != 0.0 for row in good)


def test_screen_worker_count_follows_the_workload():
    # issue #13: 500 objects for a day ran 8.3 s with 2 workers and 4.4 s with 1
    assert screen_workers(500, 1.0, 2, 16) == 1
    assert screen_workers(4066, 1.0, 2, 16) == 1
    assert screen_workers(30_000, 1.0, 14, 16) == 6
    assert screen_workers(30_000, 7.0, 14, 16) == 14  # at most one per chunk
    assert screen_workers(30_000, 7.0, 14, 4) == 4  # and per core


def test_neo_objects_are_named_by_designation_number_or_name():
    orbits = [*read_orbits(DATA / "neo" / "sbdb_99942.json")[0], *read_orbits(DATA / "neo" / "sbdb_101955.json")[0]]
    for name in ("99942", "Apophis", "apophis", "2004 MN4", "99942 Apophis (2004 MN4)"):
        assert [o.designation for o in select_orbits(orbits, [name], "f")] == ["99942"]
    assert [o.designation for o in select_orbits(orbits, ["Bennu", "Apophis"], "f")] == ["101955", "99942"]


def test_cdm_export_takes_the_international_designator_from_the_tle(screened, tmp_path):
    out = tmp_path / "cdms"
    r = invoke("cdm", "export", "--run", "1", "--dir", out, "--limit", "1", "--database-url", screened)
    assert r.exit_code == 0, r.output
    text = next(out.glob("*.cdm")).read_text()
    designators = re.findall(r"INTERNATIONAL_DESIGNATOR\s*=\s*(\S+)", text)
    objects = [int(x) for x in re.findall(r"OBJECT_DESIGNATOR\s*=\s*(\d+)", text)]
    # line 1 columns 10-17 of each object's TLE in the input file
    intl = {}
    lines = IRIDIUM.read_text().splitlines()
    for line in lines:
        if line.startswith("1 ") and int(line[2:7]) in objects:
            yy, rest = line[9:11], line[11:17].strip()
            intl[int(line[2:7])] = f"{1900 + int(yy) if int(yy) >= 57 else 2000 + int(yy)}-{rest[:3]}{rest[3:]}"
    assert designators == [intl[n] for n in objects] and all(d.startswith("1997-051") for d in designators)


def test_listing_json_has_no_infinity_and_times_as_utc():
    from spacecommons.cli.listing import plain

    assert plain({"a": float("inf"), "t": datetime(2021, 10, 2, tzinfo=UTC)}) == {
        "a": None,
        "t": "2021-10-02T00:00:00.000Z",
    }


def test_pc_progress_goes_to_a_terminal_stderr_and_never_into_json(monkeypatch):
    """``pc --method mc`` on a terminal shows progress on standard error; standard output is pure JSON.
    Expected Pc: CARA's OmitronTestCase_Test01_HighPc (Monte Carlo within its 95% interval, as in
    tests/test_cdm_cli.py); here only the streams are checked."""
    monkeypatch.setattr(common.err_console, "_force_terminal", True)  # as a terminal gives it at start-up
    monkeypatch.setattr(common.err_console, "is_interactive", True)
    seen = []
    import spacecommons.cli.cdm as cdm_cli

    original = cdm_cli.pc_progress

    def spy(total, method):
        seen.append((total, method, common.err_console.is_terminal))
        return original(total, method)

    monkeypatch.setattr(cdm_cli, "pc_progress", spy)
    cdm = DATA / "cdm" / "cara_sample_cdms" / "OmitronTestCase_Test01_HighPc.cdm"
    args = ["pc", str(cdm), "--method", "mc", "--samples", "20000", "--json"]
    r = runner.invoke(app, args, env={"TERM": "xterm-256color"})  # rich draws nothing on a dumb terminal
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["method"]  # nothing but the JSON document on stdout
    assert seen == [(1, "mc", True)]
    assert "Pc (mc) OmitronTestCase_Test01_HighPc.cdm" in r.stderr  # the progress line, on stderr
