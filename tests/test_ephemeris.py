"""CCSDS OEM/OPM (502.0-B-2/B-3) reading, writing and NDM/XML schema validation.

Fixtures: Orekit's ODM test resources (tests/data/odm, Apache-2.0), which reproduce the CCSDS
502.0-B-2/B-3 Blue Book examples (Mars Global Surveyor OEM, EUTELSAT W4 OPM with two maneuvers).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spacecommons.ephemeris import (
    Covariance,
    Item,
    Maneuver,
    OdmError,
    Oem,
    OemSegment,
    Opm,
    epoch_to_jd,
    jd_to_epoch,
    read_oem,
    read_opm,
    write_oem,
    write_opm,
)
from spacecommons.ephemeris.schema import schema_errors

ODM = Path(__file__).parent / "data" / "odm"
OEMS = sorted(p.name for p in ODM.glob("OEM*"))
OPMS = sorted(p.name for p in ODM.glob("OPM*"))


def _as_v2(header: list[Item]) -> list[Item]:
    """The header as ODM 2.0 (without the 3.0-only CLASSIFICATION and MESSAGE_ID)."""
    return [
        Item(i.key, "2.0") if i.key.startswith("CCSDS_") else i
        for i in header
        if i.key not in ("CLASSIFICATION", "MESSAGE_ID")
    ]


@pytest.mark.parametrize("name", OEMS)
def test_oem_round_trips_losslessly_in_kvn_and_xml(name: str) -> None:
    oem = read_oem((ODM / name).read_text(), name)
    assert read_oem(write_oem(oem, "kvn")) == oem
    assert read_oem(write_oem(oem, "xml")) == oem
    # and across formats: KVN -> XML -> KVN
    assert read_oem(write_oem(read_oem(write_oem(oem, "xml")), "kvn")) == oem


@pytest.mark.parametrize("name", OPMS)
def test_opm_round_trips_losslessly_in_kvn_and_xml(name: str) -> None:
    opm = read_opm((ODM / name).read_text(), name)
    assert read_opm(write_opm(opm, "kvn")) == opm
    assert read_opm(write_opm(opm, "xml")) == opm


@pytest.mark.parametrize("name", OEMS + OPMS)
def test_written_xml_validates_against_the_ndm_schema(name: str) -> None:
    text = (ODM / name).read_text()
    if name.startswith("OEM"):
        msg = read_oem(text, name)
        msg.header = _as_v2(msg.header)
        xml = write_oem(msg, "xml")
    else:
        msg = read_opm(text, name)
        msg.header = _as_v2(msg.header)
        xml = write_opm(msg, "xml")
    assert schema_errors(xml) == []


def test_schema_catches_a_broken_message() -> None:
    oem = read_oem((ODM / "OEMExample5.txt").read_text())
    xml = write_oem(oem, "xml").replace("<OBJECT_ID>1998-067A</OBJECT_ID>", "")
    errors = schema_errors(xml)
    assert errors and "OBJECT_ID" in errors[0]
    # the shipped schemas are ODM 2.0: a 3.0 message fails on its version attribute
    assert schema_errors(write_oem(read_oem((ODM / "OEMExample3.xml").read_text()), "xml"))


def test_oem_values_as_published() -> None:
    # CCSDS 502.0-B-2 example (as in Orekit's OEMExample1): Mars Global Surveyor, three segments
    oem = read_oem((ODM / "OEMExample1.txt").read_text())
    assert oem.version == "3.0" and len(oem.segments) == 3
    s0 = oem.segments[0]
    assert s0.object_name == "MARS GLOBAL SURVEYOR" and s0.interpolation == "HERMITE"
    assert s0.interpolation_degree == 7
    np.testing.assert_array_equal(s0.states[0], [2789.619, -280.045, -1746.755, 4.73372, -2.49586, -1.04195])
    cov = oem.segments[2].covariances
    assert [c.ref_frame for c in cov] == ["RTN", "EME2000"]
    assert cov[0].matrix[0, 0] == 3.3313494e-04 and cov[0].matrix[5, 0] == cov[0].matrix[0, 5] == -3.0413460e-07
    assert cov[1].epoch == "1996-12-29T21:00:00"
    # accelerations (OEMExample3.xml, X_DDOT ...)
    acc = read_oem((ODM / "OEMExample3.xml").read_text()).segments[0].accelerations
    np.testing.assert_array_equal(acc[0], [0.008, 0.001, -0.159])


def test_opm_maneuvers_as_published() -> None:
    # CCSDS 502.0-B-2 OPM example 2 (EUTELSAT W4, two planned maneuvers)
    opm = read_opm((ODM / "OPMExample2.txt").read_text())
    assert len(opm.maneuvers) == 2
    m1, m2 = opm.maneuvers
    assert m1.epoch_ignition == "2000-06-03T09:00:34.1" and m1.duration_s == 132.60 and m1.delta_mass_kg == -18.418
    assert m1.ref_frame == "J2000"
    np.testing.assert_array_equal(m1.dv_km_s, [-0.02325700, 0.01683160, -0.00893444])
    assert m2.ref_frame == "RTN" and m2.duration_s == 0.0
    assert m2.comments == [
        "Second maneuver: first station acquisition maneuver",
        "impulsive, thrust direction fixed in RTN frame",
    ]
    assert dict((i.key, i.value) for i in opm.spacecraft)["MASS"] == "1913.000"
    np.testing.assert_array_equal(opm.r_km, [6655.9942, -40218.5751, -82.9177])


def test_built_messages_write_valid_xml() -> None:
    """The writer API the maneuver planner uses: an OPM with an RTN maneuver and an OEM."""
    cov = Covariance(np.diag([1e-4, 2e-4, 3e-4, 1e-8, 2e-8, 3e-8]), epoch="2026-01-01T00:00:00.000000", ref_frame="RTN")
    opm = Opm.build(
        object_name="SAT",
        object_id="2020-001A",
        epoch="2026-01-01T00:00:00.000000",
        r_km=[7000.0, 0.0, 0.0],
        v_km_s=[0.0, 7.5, 0.0],
        creation_date="2026-01-01T00:00:00",
        originator="spacecommons",
        spacecraft={"MASS": 100.0, "SOLAR_RAD_AREA": 1.0, "SOLAR_RAD_COEFF": 1.3, "DRAG_AREA": 1.0, "DRAG_COEFF": 2.2},
        maneuvers=[Maneuver("2026-01-01T00:10:00.000000", 0.0, -0.01, "RTN", [0.0, 1e-4, 0.0], ["avoidance"])],
    )
    for fmt in ("kvn", "xml"):
        assert read_opm(write_opm(opm, fmt)) == opm
    assert schema_errors(write_opm(opm, "xml")) == []
    jd = np.array([2461041.5, 2461041.5])
    seg = OemSegment.from_arrays(
        object_name="SAT",
        object_id="2020-001A",
        jd=jd,
        fr=np.array([0.0, 60 / 86400]),
        r_km=[[7000, 0, 0], [6999, 450, 0]],
        v_km_s=[[0, 7.5, 0], [-0.5, 7.5, 0]],
        covariances=[cov],
    )
    oem = Oem.build([seg], creation_date="2026-01-01T00:00:00", originator="spacecommons")
    assert seg.epochs == ["2026-01-01T00:00:00.000000", "2026-01-01T00:01:00.000000"]
    assert read_oem(write_oem(oem, "xml")) == oem and read_oem(write_oem(oem)) == oem
    assert schema_errors(write_oem(oem, "xml")) == []


def test_epochs_day_of_year_and_calendar_agree() -> None:
    # J2000.0 = JD 2451545.0 (IAU); 1996-353 is 1996-12-18 (1996 is a leap year)
    assert sum(epoch_to_jd("2000-01-01T12:00:00")) == 2451545.0
    assert epoch_to_jd("1996-353T12:00:00.331") == epoch_to_jd("1996-12-18T12:00:00.331")
    assert jd_to_epoch(*epoch_to_jd("1996-12-18T12:00:00.331"), digits=3) == "1996-12-18T12:00:00.331"


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("CCSDS_OEM_VERS = 9.0\n", 1, "CCSDS_OEM_VERS"),
        ("CCSDS_OEM_VERS = 2.0\nCREATION_DATE = 2020-01-01T00:00:00\n", 2, "ORIGINATOR"),
        (
            "CCSDS_OEM_VERS = 2.0\nCREATION_DATE = 2020-01-01T00:00:00\nORIGINATOR = X\nMETA_START\n"
            "OBJECT_NAME = A\nOBJECT_ID = B\nCENTER_NAME = EARTH\nREF_FRAME = EME2000\nTIME_SYSTEM = UTC\n"
            "START_TIME = 2020-01-01T00:00:00\nSTOP_TIME = 2020-01-01T00:01:00\nMETA_STOP\n"
            "2020-01-01T00:00:00 1 2 3 4 5\n",
            13,
            "EPOCH",
        ),
        (
            "CCSDS_OEM_VERS = 2.0\nCREATION_DATE = 2020-01-01T00:00:00\nORIGINATOR = X\nMETA_START\n"
            "OBJECT_NAME = A\nOBJECT_ID = B\nCENTER_NAME = EARTH\nREF_FRAME = EME2000\nTIME_SYSTEM = UTC\n"
            "START_TIME = 2020-13-01T00:00:00\nSTOP_TIME = 2020-01-01T00:01:00\nMETA_STOP\n",
            10,
            "START_TIME",
        ),
        (
            "CCSDS_OEM_VERS = 2.0\nCREATION_DATE = 2020-01-01T00:00:00\nORIGINATOR = X\nMETA_START\n"
            "OBJECT_NAME = A\nOBJECT_ID = B\nCENTER_NAME = EARTH\nREF_FRAME = EME2000\nTIME_SYSTEM = UTC\n"
            "START_TIME = 2020-01-01T00:00:00\nSTOP_TIME = 2020-01-01T00:01:00\nMETA_STOP\n"
            "2020-01-01T00:00:00 1 2 3 4 5 x\n",
            13,
            "Z_DOT",
        ),
    ],
)
def test_oem_errors_name_line_and_keyword(text: str, line: int, key: str) -> None:
    with pytest.raises(OdmError) as err:
        read_oem(text, "bad.oem")
    assert (err.value.issue.source, err.value.issue.line, err.value.issue.field) == ("bad.oem", line, key)


def test_opm_errors_name_line_and_keyword() -> None:
    text = (ODM / "OPMExample2.txt").read_text()
    bad = text.replace("MAN_DV_2          =       0.01683160   [km/s]", "MAN_DV_2 = 0.0168 [m/s]")
    with pytest.raises(OdmError) as err:
        read_opm(bad, "bad.opm")
    lineno = next(n for n, t in enumerate(bad.splitlines(), 1) if t.startswith("MAN_DV_2 = 0.0168"))
    assert (err.value.issue.line, err.value.issue.field) == (lineno, "MAN_DV_2")
    dropped = "\n".join(t for t in text.splitlines() if not t.startswith("MAN_DURATION      =     132.60"))
    with pytest.raises(OdmError, match="MAN_DURATION: missing"):
        read_opm(dropped)


def test_xml_errors_name_line_and_untrusted_xml_is_refused() -> None:
    xml = (ODM / "OPMExample3.xml").read_text().replace("<X>6503.514000</X>", "<X>east</X>")
    with pytest.raises(OdmError) as err:
        read_opm(xml, "bad.xml")
    lineno = next(n for n, t in enumerate(xml.splitlines(), 1) if "<X>east</X>" in t)
    assert (err.value.issue.line, err.value.issue.field) == (lineno, "X")
    bomb = '<?xml version="1.0"?><!DOCTYPE oem [<!ENTITY a "aaaa">]><oem version="2.0">&a;</oem>'
    with pytest.raises(OdmError, match="forbidden"):
        read_oem(bomb)
