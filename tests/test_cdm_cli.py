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


def test_pc_auto_json_keeps_the_fields_and_adds_flags_and_reason():
    """Alfano (2009) case 1 (CARA sample CDM, HBR 15 m): slow GEO encounter, 2D usage checks
    fail, 3D checks pass: auto takes the 3D Pc, CARA Pc3D_Hall 0.21681 (2D: 0.14675)."""
    path = DATA / "cdm/cara_sample_cdms/AlfanoTestCase01.cdm"
    result = runner.invoke(app, ["pc", str(path), "--method", "auto", "--hbr-m", "15", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert {"pc", "method", "hbr_m", "warnings", "flags", "reason", "method_id"} <= set(out)
    assert out["method_id"] == "3d" and out["reason"]["chosen"] == "3d"
    assert out["reason"]["violations_2d"] and out["flags"]["violations_2d"] == out["reason"]["violations_2d"]
    assert out["pc"] == pytest.approx(2.1680836276e-01, rel=2e-3)


def test_pc_rejects_an_unknown_method():
    result = runner.invoke(app, ["pc", str(CARA_CDM), "--method", "magic"])
    assert result.exit_code != 0 and "magic" in result.output


def test_warnings_keep_text_in_square_brackets(tmp_path):
    """A unit mislabel (``[m]`` on a velocity, seen in real messages) is a warning naming
    ``[m]`` and ``[km/s]``; rich markup must not eat the bracketed units."""
    text = (DATA / "cdm/cara_sample_cdms/AlfanoTestCase01.cdm").read_text()
    src = tmp_path / "a.cdm"
    src.write_text(text.replace("[km/s]", "[m]", 1))
    result = runner.invoke(app, ["cdm", "convert", str(src), str(tmp_path / "a.xml")])
    assert result.exit_code == 0, result.output
    assert "unit [m] where the standard requires [km/s]" in result.output


def test_convert_to_xml_warns_for_each_value_the_schema_rejects(tmp_path):
    """CARA's AlfanoTestCase01.cdm has NaN in OBS_AVAILABLE (line 34), an xsd:positiveInteger."""
    target = tmp_path / "a.xml"
    result = runner.invoke(
        app, ["cdm", "convert", str(DATA / "cdm/cara_sample_cdms/AlfanoTestCase01.cdm"), str(target)]
    )
    assert result.exit_code == 0, result.output
    assert "AlfanoTestCase01.cdm:34: OBS_AVAILABLE" in result.output
    assert xmlschema.XMLSchema(str(DATA / "ndmxml/ndmxml-1.0-master.xsd")).is_valid(target.read_text())
