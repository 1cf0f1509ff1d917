"""CCSDS OMM reader: CelesTrak's real XML, and the same element set in KVN, JSON (CelesTrak
numbers and Space-Track strings) and CSV must give the same elements and the same states."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spacecommons.catalog import read_elements, read_omm

from .conftest import DATA

XML = (DATA / "celestrak_omm_sample.xml").read_text()
FIELDS = {
    "OBJECT_NAME": "NUSAT-8 (MARIE)",
    "OBJECT_ID": "2020-003C",
    "EPOCH": "2020-11-26T10:16:15.146112",
    "MEAN_MOTION": "15.27818638",
    "ECCENTRICITY": ".0010696",
    "INCLINATION": "97.3007",
    "RA_OF_ASC_NODE": "34.3606",
    "ARG_OF_PERICENTER": "223.1268",
    "MEAN_ANOMALY": "267.1114",
    "EPHEMERIS_TYPE": "0",
    "CLASSIFICATION_TYPE": "U",
    "NORAD_CAT_ID": "45018",
    "ELEMENT_SET_NO": "999",
    "REV_AT_EPOCH": "4827",
    "BSTAR": ".10864E-3",
    "MEAN_MOTION_DOT": "2.882E-5",
    "MEAN_MOTION_DDOT": "0",
}


def _kvn(fields: dict[str, str]) -> str:
    header = [
        "CCSDS_OMM_VERS = 2.0",
        "COMMENT written for the test",
        "CREATION_DATE = 2020-11-26T12:00:00",
        "ORIGINATOR = CELESTRAK",
        "CENTER_NAME = EARTH",
        "REF_FRAME = TEME",
        "TIME_SYSTEM = UTC",
        "MEAN_ELEMENT_THEORY = SGP4",
    ]
    units = {"MEAN_MOTION": " [rev/day]", "INCLINATION": " [deg]", "BSTAR": " [1/ER]"}
    return "\n".join(header + [f"{k} = {v}{units.get(k, '')}" for k, v in fields.items()]) + "\n"


def _celestrak_json(fields: dict[str, str]) -> str:
    typed = {}
    for k, v in fields.items():
        try:
            typed[k] = int(v) if k in ("NORAD_CAT_ID", "EPHEMERIS_TYPE", "ELEMENT_SET_NO", "REV_AT_EPOCH") else float(v)
        except ValueError:
            typed[k] = v
    return json.dumps([typed])


def _state(result):
    rec = result.records[0]
    return rec.satrec().sgp4(rec.epoch_jd, rec.epoch_fr + 0.5)


def test_celestrak_xml_reads_with_its_undeclared_xsi_prefix():
    result = read_elements("celestrak.xml", XML)
    assert result.issues == []
    rec = result.records[0]
    assert (rec.norad_id, rec.name, rec.object_id) == (45018, "NUSAT-8 (MARIE)", "2020-003C")
    assert rec.format == "omm-xml"


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("kvn", _kvn(FIELDS)),
        ("json-celestrak", _celestrak_json(FIELDS)),
        ("json-spacetrack", json.dumps([FIELDS])),
        ("csv", ",".join(FIELDS) + "\n" + ",".join(f'"{v}"' for v in FIELDS.values()) + "\n"),
    ],
)
def test_every_encoding_gives_the_same_elements_and_states(encoding, text):
    ref = read_elements("ref.xml", XML)
    got = read_elements(f"x.{encoding}", text)
    assert got.issues == []
    assert got.records[0].digest == ref.records[0].digest
    e1, r1, v1 = _state(ref)
    e2, r2, v2 = _state(got)
    assert e1 == e2 == 0 and r1 == r2 and v1 == v2


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda f: f.pop("MEAN_MOTION"), "MEAN_MOTION"),
        (lambda f: f.update(ECCENTRICITY="0.0O1"), "ECCENTRICITY"),
        (lambda f: f.update(ECCENTRICITY="1.2"), "ECCENTRICITY"),
        (lambda f: f.update(EPOCH="2020-13-26T10:16:15"), "EPOCH"),
        (lambda f: f.update(NORAD_CAT_ID="forty"), "NORAD_CAT_ID"),
        (lambda f: f.update(MEAN_ELEMENT_THEORY="SGP4-XP"), "MEAN_ELEMENT_THEORY"),
    ],
)
def test_bad_records_are_reported_and_the_rest_land(mutate, field):
    bad = dict(FIELDS)
    mutate(bad)
    text = json.dumps([FIELDS, bad, FIELDS])
    result = read_omm(text, "batch.json", "json")
    assert len(result.records) == 2
    assert [(i.line, i.field) for i in result.issues] == [(2, field)]


def test_kvn_bad_line_names_its_line():
    text = _kvn(FIELDS).replace("INCLINATION = 97.3007 [deg]", "INCLINATION = ninety [deg]")
    result = read_omm(text + _kvn(FIELDS), "two.kvn", "kvn")
    assert len(result.records) == 1
    assert result.issues[0].field == "INCLINATION" and result.issues[0].line == 1


def test_csv_wrong_column_count_names_the_line():
    header = ",".join(FIELDS)
    row = ",".join(FIELDS.values())
    result = read_omm(f"{header}\n{row}\n{row},EXTRA\n{row}\n", "gp.csv", "csv")
    assert len(result.records) == 2
    assert (result.issues[0].line, result.issues[0].field) == (3, "columns")


def test_xml_entity_expansion_is_refused_not_expanded():
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        "<ndm><omm><body><segment><metadata><OBJECT_NAME>&lol2;</OBJECT_NAME></metadata></segment></body></omm></ndm>"
    )
    result = read_omm(bomb, "bomb.xml", "xml")
    assert result.records == []
    assert result.issues and result.issues[0].field == "XML"


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(FIELDS)), st.text(max_size=12), max_size=6))
def test_fuzz_json_overrides_never_raise_and_never_lose_the_good_record(overrides):
    bad = {**FIELDS, **overrides}
    result = read_omm(json.dumps([FIELDS, bad]), "fuzz.json", "json")
    assert any(r.digest == read_elements("r.xml", XML).records[0].digest for r in result.records)
    assert len(result.records) + len(result.issues) == 2
