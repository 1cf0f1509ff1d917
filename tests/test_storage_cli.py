"""Storage and command line: idempotent loads with history, rejected records reported with
their line, screening runs stored and resumable, ephemeris output."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime

from typer.testing import CliRunner

from spacecommons.cli.main import app
from spacecommons.storage import make_engine, session_factory, upgrade
from spacecommons.storage.catalog_repo import element_history, latest_elements

from .conftest import DATA, SAMPLE

T0 = datetime(2026, 11, 25, tzinfo=UTC)  # a frozen "now" for rows the tests write

runner = CliRunner(env={"COLUMNS": "240"})
IRIDIUM = SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt"


def _invoke(*args: str):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result


def test_load_twice_changes_nothing_and_history_grows_with_new_epochs(tmp_path, sqlite_url):
    first = _invoke("catalog", "load", str(IRIDIUM), "--database-url", sqlite_url)
    assert first.exit_code == 0, first.output
    assert "332 new" in first.output
    again = _invoke("catalog", "load", str(IRIDIUM), "--database-url", sqlite_url)
    assert "0 new" in again.output and "332 already stored" in again.output
    # a newer element set of one object (same object, other epoch) is history, not a duplicate
    newer = tmp_path / "newer.xml"
    newer.write_text((DATA / "celestrak_omm_sample.xml").read_text())
    _invoke("catalog", "load", str(newer), "--database-url", sqlite_url)
    engine = make_engine(sqlite_url)
    with session_factory(engine)() as session:
        assert len(latest_elements(session)) == 333
        hist = element_history(session, 24946)
        assert len(hist) == 1 and hist[0].line1.startswith("1 24946U")
        assert hist[0].source == str(IRIDIUM) and hist[0].line == 2
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_bad_records_are_reported_with_line_and_the_rest_lands(tmp_path, sqlite_url):
    lines = IRIDIUM.read_text().splitlines()
    lines[4] = lines[4][:-1] + str((int(lines[4][-1]) + 1) % 10)  # break a checksum on line 5
    bad = tmp_path / "bad.tle"
    bad.write_text("\n".join(lines) + "\n")
    result = _invoke("catalog", "load", str(bad), "--database-url", sqlite_url)
    assert result.exit_code == 3
    assert f"{bad}:5: checksum" in result.output
    assert "331 new" in result.output


def test_cara_sizes_attach_to_objects(sqlite_url):
    _invoke("catalog", "load", str(IRIDIUM), "--database-url", sqlite_url)
    result = _invoke("catalog", "sizes", str(DATA / "cara_hbr_extract.csv"), "--database-url", sqlite_url)
    assert "14 size rows read" in result.output
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        # 24946 (IRIDIUM 33) has a DISCOS row with no value: stored as unknown, not as zero
        row = conn.exec_driver_sql("SELECT hbr_m, hbr_source FROM space_objects WHERE norad_id=24946").one()
        assert row == (None, "DISCOS DB")


def test_cara_size_table_values():
    from spacecommons.catalog import read_cara_sizes

    sizes, issues = read_cara_sizes((DATA / "cara_hbr_extract.csv").read_text())
    assert issues == []
    # ISS: CARA protected primary, HBR 66.1 m, mass 419,725 kg (CARA table 2026-06-01)
    assert sizes[25544].hbr_m == 66.1 and sizes[25544].mass_kg == 419725
    assert sizes[74].hbr_source == "Default" and sizes[74].hbr_m == 3.7


def test_screen_from_file_writes_events_and_stores_the_run(tmp_path, sqlite_url):
    out = tmp_path / "events.csv"
    result = _invoke(
        "screen",
        "--elements",
        str(SAMPLE / "cosmos-2251-debris_celestrak_2021-10-02.txt"),
        "--elements",
        str(IRIDIUM),
        "--start",
        "2021-10-02T00:00:00Z",
        "--days",
        "0.25",
        "--threshold-km",
        "10",
        "--workers",
        "1",
        "--out",
        str(out),
        "--database-url",
        sqlite_url,
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert rows and all(float(r["miss_km"]) < 10 for r in rows)
    listed = _invoke("runs", "list", "--database-url", sqlite_url)
    assert "done" in listed.output
    shown = _invoke("runs", "show", "1", "--database-url", sqlite_url)
    closest = min(rows, key=lambda r: float(r["miss_km"]))
    assert f"{float(closest['miss_km']):.3f}" in shown.output and closest["id1"] in shown.output


def test_resume_finishes_an_interrupted_run(sqlite_url):
    from spacecommons.conjunction import ScreeningParams
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.storage import screening_repo as repo
    from spacecommons.timescales import iso_to_jd

    from .test_screen import _sample

    engine = make_engine(sqlite_url)
    upgrade(engine)
    maker = session_factory(engine)
    payload = CatalogPayload.from_elements(_sample("iridium-33-debris_celestrak_2021-10-02.txt"))
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.5, 20.0, chunk_days=0.125)
    with maker.begin() as s:
        run_id = repo.create_run(s, params, payload, T0)
    from spacecommons.conjunction.screen import screen_chunk

    with maker.begin() as s:  # as if the process died after the first chunk
        repo.save_chunk(s, run_id, screen_chunk(payload, params, 0))
        repo.set_status(s, run_id, "interrupted")
    result = _invoke("screen", "--resume", str(run_id), "--workers", "1", "--database-url", sqlite_url)
    assert result.exit_code == 0, result.output
    with maker() as s:
        run, _, _, chunks = repo.load_run(s, run_id)
        assert run.status == "done" and sorted(chunks) == [0, 1, 2, 3]
        assert run.n_events == len(repo.run_events(s, run_id))


def test_propagate_writes_ephemeris_in_each_frame(tmp_path):
    for frame in ("teme", "gcrf", "itrf"):
        out = tmp_path / f"eph_{frame}.json"
        result = _invoke(
            "propagate",
            "--elements",
            str(IRIDIUM),
            "--ids",
            "24946,33773",
            "--start",
            "2021-10-02T00:00:00Z",
            "--hours",
            "1",
            "--step-s",
            "600",
            "--frame",
            frame,
            "--out",
            str(out),
        )
        assert result.exit_code == 0, result.output
        rows = json.loads(out.read_text())
        assert len(rows) == 14 and {r["norad_id"] for r in rows} == {24946, 33773}
        assert rows[0]["time"] == "2021-10-02T00:00:00.000000Z" and rows[0]["frame"] == frame.upper()
        r = (rows[0]["x_km"] ** 2 + rows[0]["y_km"] ** 2 + rows[0]["z_km"] ** 2) ** 0.5
        assert 7000 < r < 7300  # Iridium altitude ~780 km


def test_naive_times_are_refused():
    result = runner.invoke(
        app,
        ["propagate", "--elements", str(IRIDIUM), "--start", "2021-10-02T00:00:00", "--out", "x.json"],
    )
    assert result.exit_code != 0
    assert "no UTC offset" in str(result.exception) or "no UTC offset" in result.output


def test_unknown_ids_are_an_error_not_silently_skipped(tmp_path):
    result = runner.invoke(
        app,
        [
            "propagate",
            "--elements",
            str(IRIDIUM),
            "--ids",
            "24946,33771",
            "--start",
            "2021-10-02T00:00:00Z",
            "--out",
            str(tmp_path / "x.json"),
        ],
    )
    assert result.exit_code == 2
    assert "33771" in result.output
