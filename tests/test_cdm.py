"""CCSDS 508.0-B-1 CDM reader/writer on real messages (NASA CARA, the CCSDS sample, JSPOC)."""

from __future__ import annotations

from pathlib import Path

import pytest
import xmlschema

from spacecommons.cdm import CdmError, read_cdm, read_kvn, write_kvn, write_xml
from spacecommons.cdm import keywords as kw
from spacecommons.cdm.xml import schema_omissions, write_xml_report

from .conftest import DATA

CDMS = (
    sorted((DATA / "cdm").rglob("*.cdm"))
    + sorted((DATA / "cdm").rglob("*.kvn"))
    + sorted((DATA / "cdm").rglob("*.xml"))
)
SCHEMA = DATA / "ndmxml" / "ndmxml-1.0-master.xsd"
SAMPLE_KVN = (DATA / "cdm/misc/CCSDS508_sample_cdm.kvn").read_text()


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(str(SCHEMA))


def _normal(cdm):
    """What must survive a round trip: every keyword with value and unit (standard unit when
    none was written), per section, and every comment of each XML block, in order."""
    from spacecommons.cdm.xml import _blocks

    out = []
    for items in (cdm.header, cdm.relative, *cdm.objects):
        fields = [(i.key, i.value, i.unit or kw.UNITS.get(i.key)) for i in items if i.key != "COMMENT"]
        comments = {b: [i.value for i in its if i.key == "COMMENT"] for b, its in _blocks(items).items()}
        out.append((sorted(fields), comments))
    return out


def test_there_are_real_messages():
    assert len(CDMS) >= 70


@pytest.mark.parametrize("path", CDMS, ids=lambda p: p.name[:40])
def test_reads_and_round_trips_kvn_xml_kvn(path: Path, schema):
    cdm = read_cdm(path.read_text(), str(path))
    assert len(cdm.objects[0]) and len(cdm.objects[1])
    xml, omitted = write_xml_report(cdm)
    # valid CCSDS NDM/XML, always: optional values the schema rejects (CARA writes a negative
    # CD_AREA_OVER_MASS and OBS_AVAILABLE = NaN) are left out of the XML with a warning each
    errors = list(schema.iter_errors(xml))
    assert not errors, errors[0]
    clean, _ = schema_omissions(cdm)
    assert len(omitted) == sum(
        len(a) - len(b) for a, b in zip(cdm.objects + [cdm.relative], clean.objects + [clean.relative], strict=True)
    )
    back = read_cdm(xml, "xml")
    again = read_cdm(write_kvn(back), "kvn")
    assert _normal(again) == _normal(clean)
    assert again.covariance_rtn(1, 6).tolist() == cdm.covariance_rtn(1, 6).tolist()
    # KVN -> KVN keeps everything, the rejected values included
    assert _normal(read_cdm(write_kvn(cdm), "kvn")) == _normal(cdm)


def test_xml_omits_values_the_schema_rejects_naming_line_and_keyword(schema):
    """CARA's AlfanoTestCase01.cdm (CARA_Analysis_Tools DataFiles/SampleCDMs) has NaN in the
    xsd:positiveInteger OBS_AVAILABLE at line 34 and NaN areas; the XML leaves them out."""
    path = DATA / "cdm/cara_sample_cdms/AlfanoTestCase01.cdm"
    cdm = read_cdm(path.read_text(), "AlfanoTestCase01.cdm")
    xml, omitted = write_xml_report(cdm)
    assert schema.is_valid(xml)
    assert any(w.startswith("AlfanoTestCase01.cdm:34: OBS_AVAILABLE: 'NaN' is not a positive integer") for w in omitted)
    assert "<OBS_AVAILABLE" not in xml and "<AREA_PC" not in xml
    assert "OBS_AVAILABLE" in write_kvn(cdm)  # KVN keeps it


def test_sample_values_and_the_xml_twin_agree():
    kvn = read_kvn(SAMPLE_KVN)
    xml = read_cdm((DATA / "cdm/misc/CCSDS508_sample_cdm.xml").read_text())
    assert kvn.get("TCA") == xml.get("TCA") == "2010-03-13T22:37:52.618"
    assert kvn.number("MISS_DISTANCE") == 715.0
    assert kvn.state_km(1)[0].tolist() == xml.state_km(1)[0].tolist() == [2570.097065, 2244.654904, 6281.497978]
    assert kvn.get("OBJECT_DESIGNATOR", 2) == "30337"


def test_nine_by_nine_covariance_rows_are_kept():
    rows = "\n".join(f"{k} = {0.5 + n} [{kw.UNITS[k]}]" for n, k in enumerate(kw.COVARIANCE[21:]))
    text = SAMPLE_KVN.replace("COMMENT Object2 Metadata", rows + "\nCOMMENT Object2 Metadata")
    cdm = read_kvn(text)
    cov = cdm.covariance_rtn(1, 9)
    assert cov[6, 0] == 0.5 and cov[8, 8] == 0.5 + 23 and (cov == cov.T).all()
    assert all(k in write_kvn(cdm) and k in write_xml(cdm) for k in kw.COVARIANCE[21:])


def test_day_of_year_times_are_read():
    cdm = read_cdm((DATA / "cdm/other/DensityDecorrelationTestCaseCDM01.cdm").read_text())
    tca = cdm.get("TCA")
    assert tca[4] == "-" and tca[8] == "T"  # 2018-229T13:56:33.000
    assert cdm.tca.year == 2018 and cdm.tca.timetuple().tm_yday == int(tca[5:8])
    assert write_kvn(cdm).count(cdm.get("TCA")) == 1  # written back exactly as read


def test_hbr_comment_convention():
    path = next((DATA / "cdm/cara_pc_test_cdms").glob("000020580_conj_000002017*.cdm"))
    assert read_cdm(path.read_text()).hbr_m() == 10.0


@pytest.mark.parametrize(
    ("edit", "line_of", "keyword"),
    [
        (lambda t: t.replace("MESSAGE_ID = 20111371985\n", ""), None, "MESSAGE_ID"),
        (
            lambda t: t.replace("MISS_DISTANCE = 715 [m]", "MISS_DISTANCE = 0.715 [km]"),
            "MISS_DISTANCE",
            "MISS_DISTANCE",
        ),
        (lambda t: t.replace("X = 2570.097065 [km]", "X = 2570.09.7065 [km]"), "X = 2570.09.7065", "X"),
        (lambda t: t[: t.rindex("CNDOT_NDOT")], None, "CNDOT_NDOT"),
        (lambda t: t.replace("OBS_USED = 59", "OBS_USEDD = 59"), "OBS_USEDD", "OBS_USEDD"),
        (lambda t: t.replace("TCA = 2010-03-13T22:37:52.618", "TCA = 2010-03-32T22:37:52.618"), "TCA =", "TCA"),
    ],
)
def test_malformed_messages_name_line_and_keyword(edit, line_of, keyword):
    text = edit(SAMPLE_KVN)
    with pytest.raises(CdmError) as info:
        read_kvn(text, "bad.cdm")
    issue = info.value.issue
    assert issue.source == "bad.cdm" and issue.field == keyword
    if line_of:
        expected = next(n for n, ln in enumerate(text.splitlines(), start=1) if line_of in ln)
        assert issue.line == expected


def test_mislabelled_units_in_real_messages_are_warnings_not_failures():
    cdm = read_cdm((DATA / "cdm/cara_sample_cdms/AlfanoTestCase01.cdm").read_text(), "alfano1")
    assert any("RELATIVE_VELOCITY_R" in w and "[m/s]" in w for w in cdm.warnings)
    with pytest.raises(CdmError, match="RELATIVE_VELOCITY_R"):
        read_kvn((DATA / "cdm/cara_sample_cdms/AlfanoTestCase01.cdm").read_text(), "alfano1", strict=True)


def test_folder_import_keeps_every_good_message(tmp_path):
    from spacecommons.cdm.folder import read_folder

    for p in sorted((DATA / "cdm/cara_pc_test_cdms").glob("*.cdm"))[:5]:
        (tmp_path / p.name).write_text(p.read_text())
    (tmp_path / "broken.cdm").write_text(SAMPLE_KVN.replace("CCSDS_CDM_VERS = 1.0", "").replace("TCA =", "TCAX ="))
    good, issues = read_folder(tmp_path)
    assert len(good) == 5
    assert len(issues) == 1 and issues[0].source.endswith("broken.cdm")


def test_xml_entities_are_refused():
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><cdm><header>&a;</header></cdm>'
    with pytest.raises(CdmError, match="XML"):
        read_cdm(bomb)
