"""`spacecommons lifetime`, `sustainability report` and `breakup` on the bundled CelesTrak sample."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from spacecommons.catalog.reader import read_elements
from spacecommons.cli.main import app

SAMPLE = Path(__file__).resolve().parents[1] / "src" / "spacecommons" / "data" / "sample"
COSMOS = SAMPLE / "cosmos-2251-debris_celestrak_2021-10-02.txt"
runner = CliRunner(env={"COLUMNS": "240"})


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_lifetime_json_fields_and_order_of_the_band():
    # 37287 (COSMOS 2251 DEB): perigee 386 km, apogee 466 km on 2021-10-02 (CelesTrak sample)
    res = invoke("lifetime", "--elements", str(COSMOS), "--ids", "37287", "--json", "--fast")
    assert res.exit_code == 0, res.output
    (row,) = json.loads(res.output)
    assert set(row) >= {"norad_id", "reentry_utc", "reentry_utc_early", "reentry_utc_late", "days_remaining", "method"}
    assert row["norad_id"] == 37287
    # the window (2021-10 .. mid 2022) is covered by observed space weather: all scenarios agree
    assert row["reentry_utc_early"] == row["reentry_utc"] == row["reentry_utc_late"]
    assert 30 < row["days_remaining"] < 1000
    assert "ndot-fit" in row["method"]


def test_lifetime_rejects_unknown_ids_and_scenarios():
    res = invoke("lifetime", "--elements", str(COSMOS), "--ids", "1")
    assert res.exit_code == 2 and "--ids" in res.output
    res = invoke("lifetime", "--elements", str(COSMOS), "--scenario", "extreme")
    assert res.exit_code == 2 and "--scenario" in res.output


def test_breakup_writes_element_sets_that_screen_reads(tmp_path):
    out = tmp_path / "cloud.tle"
    res = invoke(
        "breakup", "--elements", str(COSMOS), "--id", "37287", "--mass-kg", "10", "--at", "2021-10-02T12:00:00Z",
        "--out", str(out), "--lc-min-m", "0.05", "--plot", str(tmp_path / "g.png"),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    cloud = read_elements(out)
    assert not cloud.issues
    # explosion, S = 1: 6 * 0.05^-1.6 - 6 * 10^-1.6 fragments (JKLA01 eq. 1), minus those that re-enter at once
    n = round(6 * 0.05**-1.6 - 6 * 10**-1.6)
    assert 0.5 * n < len(cloud.records) <= n
    assert (tmp_path / "g.png").stat().st_size > 0
    omm = tmp_path / "cloud.json"
    assert invoke("breakup", "--elements", str(COSMOS), "--id", "37287", "--mass-kg", "10", "--at",
                  "2021-10-02T12:00:00Z", "--lc-min-m", "0.05", "--out", str(omm)).exit_code == 0  # fmt: skip
    same = read_elements(omm).records
    # same seed, same cloud, in either format
    assert [float(r.fields["MEAN_MOTION"]) for r in same] == [float(r.fields["MEAN_MOTION"]) for r in cloud.records]


def test_breakup_refuses_bad_values(tmp_path):
    base = ["breakup", "--elements", str(COSMOS), "--id", "37287", "--mass-kg", "10"]
    assert invoke(*base, "--out", str(tmp_path / "x.txt")).exit_code == 2
    assert invoke(*base, "--out", str(tmp_path / "x.tle"), "--kind", "collision").exit_code == 2  # no projectile
    assert invoke(*base[:-2], "--mass-kg", "0", "--out", str(tmp_path / "x.tle")).exit_code == 2
    res = invoke("breakup", "--elements", str(COSMOS), "--id", "1", "--mass-kg", "10", "--out", str(tmp_path / "x.tle"))
    assert res.exit_code == 2 and "--id" in res.output


def test_sustainability_report_counts(tmp_path):
    res = invoke("sustainability", "report", "--elements", str(COSMOS), "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "report.json").read_text())
    n = len(read_elements(COSMOS).records)
    assert summary["totals"]["objects"] == n
    # every count is consistent: beyond 25 years implies beyond 5 years
    assert summary["totals"]["beyond_25_years"] <= summary["totals"]["beyond_5_years"] <= n
    rows = summary["rows"]
    assert sum(r["objects"] for r in rows) == n
    # the group holds the debris and the remains of COSMOS 2251 itself (a payload by its name)
    assert {r["object_type"]: r["objects"] for r in rows}["PAY"] == 1
    years = np.genfromtxt(tmp_path / "objects.csv", delimiter=",", names=True, dtype=None, encoding=None)
    assert len(years) == n
    assert (tmp_path / "report.png").stat().st_size > 0
