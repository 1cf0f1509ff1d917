"""The pc and cdm commands, and CDMs generated from screening events."""

from __future__ import annotations

import json

import pytest
import xmlschema
from typer.testing import CliRunner

from spacecommons.cdm import read_cdm
from spacecommons.cli.main import app

from .conftest import DATA, SAMPLE

runner = CliRunner(env={"COLUMNS": "240"})
CARA_CDM = next((DATA / "cdm/cara_pc_test_cdms").glob("000020580_conj_000002017*.cdm"))


def test_pc_json_reports_cara_value_and_method():
    result = runner.invoke(app, ["pc", str(CARA_CDM), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["method"] == "FOSTER-1992" and out["hbr_m"] == 10.0 and out["hbr_shape"] == "circle"
    assert out["pc"] == pytest.approx(1.862e-05, rel=5e-4)  # CARA's COLLISION_PROBABILITY in the file


def test_pc_all_methods_and_monte_carlo_interval():
    result = runner.invoke(
        app,
        [
            "pc",
            str(DATA / "cdm/cara_sample_cdms/OmitronTestCase_Test01_HighPc.cdm"),
            "--method",
            "all",
            "--samples",
            "20000",
            "--json",
            "--hbr-m",
            "20",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = {r["method"].split(" ")[0] + r["hbr_shape"][:6]: r for r in json.loads(result.output)}
    mc = rows["MONTE_CARLOcircle"]
    assert mc["ci_low"] <= rows["FOSTER-1992circle"]["pc"] <= mc["ci_high"]
    assert rows["FOSTER-1992square"]["pc"] > rows["FOSTER-1992circle"]["pc"]


def test_pc_without_hbr_is_a_clear_error():
    result = runner.invoke(app, ["pc", str(DATA / "cdm/misc/CCSDS508_sample_cdm.kvn")])
    assert result.exit_code == 1 and "--hbr-m" in result.output


def test_convert_round_trip(tmp_path):
    xml = tmp_path / "a.xml"
    kvn = tmp_path / "b.cdm"
    assert runner.invoke(app, ["cdm", "convert", str(CARA_CDM), str(xml)]).exit_code == 0
    assert runner.invoke(app, ["cdm", "convert", str(xml), str(kvn)]).exit_code == 0
    a, b = read_cdm(CARA_CDM.read_text()), read_cdm(kvn.read_text())
    assert a.get("TCA") == b.get("TCA") and (a.covariance_rtn(2) == b.covariance_rtn(2)).all()


def test_check_reports_bad_messages_and_keeps_good(tmp_path):
    (tmp_path / "good.cdm").write_text(CARA_CDM.read_text())
    (tmp_path / "bad.cdm").write_text(CARA_CDM.read_text().replace("CN_N", "CN_X"))
    result = runner.invoke(app, ["cdm", "check", str(tmp_path)])
    assert result.exit_code == 3
    assert "1 messages read, 1 rejected" in result.output and "CN_X" in result.output


def test_screening_events_become_valid_cdms_with_pc(tmp_path, sqlite_url):
    args = [
        "screen",
        "--elements",
        str(SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt"),
        "--elements",
        str(SAMPLE / "cosmos-2251-debris_celestrak_2021-10-02.txt"),
        "--start",
        "2021-10-02T00:00:00Z",
        "--days",
        "0.25",
        "--threshold-km",
        "5",
        "--workers",
        "1",
        "--out",
        str(tmp_path / "ev.json"),
        "--database-url",
        sqlite_url,
    ]
    assert runner.invoke(app, args).exit_code == 0
    events = sorted(json.loads((tmp_path / "ev.json").read_text()), key=lambda e: e["miss_km"])
    out = tmp_path / "cdms"
    result = runner.invoke(
        app,
        [
            "cdm",
            "export",
            "--run",
            "1",
            "--dir",
            str(out),
            "--format",
            "xml",
            "--limit",
            "3",
            "--database-url",
            sqlite_url,
        ],
    )
    assert result.exit_code == 0, result.output
    schema = xmlschema.XMLSchema(str(DATA / "ndmxml/ndmxml-1.0-master.xsd"))
    files = sorted(out.glob("*.xml"))
    assert len(files) == 3
    for f in files:
        schema.validate(f.read_text())
        cdm = read_cdm(f.read_text())
        assert cdm.get("COVARIANCE_METHOD", 1) == "DEFAULT" and cdm.get("REF_FRAME", 2) == "EME2000"
        ev = next(
            e
            for e in events
            if e["id1"] == int(cdm.get("OBJECT_DESIGNATOR", 1)) and e["id2"] == int(cdm.get("OBJECT_DESIGNATOR", 2))
        )
        assert cdm.number("MISS_DISTANCE") == pytest.approx(ev["miss_km"] * 1000.0, abs=1.0)
        assert 0.0 <= cdm.number("COLLISION_PROBABILITY") <= 1.0
    stored = runner.invoke(app, ["pc", "--run", "1", "--database-url", sqlite_url])
    assert "Pc stored for" in stored.output
