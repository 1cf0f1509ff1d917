"""TLE/3LE reader: real CelesTrak files, Alpha-5, checksums, and malformed input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sgp4.api import Satrec

from spacecommons.catalog import latest_per_object, read_elements, read_tle
from spacecommons.catalog.reader import detect_format
from spacecommons.catalog.tle import checksum, parse_tle
from spacecommons.errors import RecordError

# IRIDIUM 33, first record of CelesTrak's 'iridium-33-debris' group of 2021-10-02 (bundled sample).
IRIDIUM33 = (
    "IRIDIUM 33",
    "1 24946U 97051C   21275.21928946  .00000099  00000-0  28529-4 0  9993",
    "2 24946  86.3923 350.4087 0008502 159.5489 200.6048 14.33751018258683",
)


def _fix(line: str) -> str:
    return line[:68] + str(checksum(line))


def test_reads_every_record_of_a_real_celestrak_group(iridium_text):
    result = read_tle(iridium_text, "iridium.txt")
    assert len(result.records) == 332  # CelesTrak group size, SOURCES.md
    assert result.issues == []
    first = result.records[0]
    assert first.norad_id == 24946 and first.name == "IRIDIUM 33"
    assert first.object_id == "1997-051C"
    # the epoch column 21275.21928946 is 2021 day 275 = 2021-10-02, 05:15:46.609 UTC
    assert first.fields["EPOCH"] == "2021-10-02T05:15:46.609344"


def test_crlf_lf_two_and_three_line_forms_agree(iridium_text):
    lf = read_tle(iridium_text.replace("\r\n", "\n")).records
    crlf = read_tle(iridium_text.replace("\n", "\r\n").replace("\r\r", "\r")).records
    two_line = read_tle("\n".join(ln for i, ln in enumerate(iridium_text.splitlines()) if i % 3)).records
    three_line = read_tle(
        "\n".join(("0 " + ln) if i % 3 == 0 else ln for i, ln in enumerate(iridium_text.splitlines()))
    ).records
    assert [r.digest for r in lf] == [r.digest for r in crlf] == [r.digest for r in two_line]
    assert [r.name for r in three_line] == [r.name for r in lf]


def test_elements_match_sgp4s_own_parser():
    rec = parse_tle(IRIDIUM33[1], IRIDIUM33[2], IRIDIUM33[0])
    sat = Satrec.twoline2rv(IRIDIUM33[1], IRIDIUM33[2])
    e1, r1, _ = rec.satrec().sgp4(2459490.5, 0.25)
    e2, r2, _ = sat.sgp4(2459490.5, 0.25)
    assert e1 == e2 == 0 and r1 == r2
    # the OMM-fields path (sgp4init) gives the same state to well below a millimetre
    omm_only = type(rec)(norad_id=rec.norad_id, name=rec.name, fields=rec.fields, format="omm")
    _, r3, _ = omm_only.satrec().sgp4(2459490.5, 0.25)
    assert max(abs(a - b) for a, b in zip(r1, r3, strict=True)) < 1e-6


def test_alpha5_catalog_numbers():
    # Alpha-5: A0000 = 100000, Z9999 = 339999 (Space-Track Alpha-5 definition; I and O unused)
    l1 = _fix("1 A0000U 97051C   21275.21928946  .00000099  00000-0  28529-4 0  9993")
    l2 = _fix("2 A0000  86.3923 350.4087 0008502 159.5489 200.6048 14.33751018258683")
    assert parse_tle(l1, l2).norad_id == 100000
    l1 = _fix(l1.replace("A0000", "Z9999"))
    l2 = _fix(l2.replace("A0000", "Z9999"))
    assert parse_tle(l1, l2).norad_id == 339999
    with pytest.raises(RecordError, match="catalog number"):
        parse_tle(_fix(l1.replace("Z9999", "I0001")), _fix(l2.replace("Z9999", "I0001")))


@pytest.mark.parametrize(
    ("line1", "line2", "field", "line"),
    [
        (IRIDIUM33[1][:68] + "1", IRIDIUM33[2], "checksum", 1),
        (IRIDIUM33[1], IRIDIUM33[2][:68] + "0", "checksum", 2),
        (IRIDIUM33[1][:60], IRIDIUM33[2], "line 1", 1),
        (IRIDIUM33[1], IRIDIUM33[2] + "99", "line 2", 2),
        (IRIDIUM33[1].replace("97051C", "97051\u00c4"), IRIDIUM33[2], "line 1", 1),
        (_fix(IRIDIUM33[1].replace("24946U", "24947U")), IRIDIUM33[2], "catalog number", 2),
        (_fix(IRIDIUM33[1].replace("21275.2", "21x75.2")), IRIDIUM33[2], "epoch day", 1),
        (IRIDIUM33[1], _fix(IRIDIUM33[2].replace("0008502", "00085x2")), "eccentricity", 2),
    ],
)
def test_malformed_records_name_line_and_field(line1, line2, field, line):
    text = "\n".join([*IRIDIUM33, "BAD ONE", line1, line2, *IRIDIUM33]) + "\n"
    result = read_tle(text, "mixed.tle")
    assert len(result.records) == 2, "both good copies must land"
    assert len(result.issues) == 1
    issue = result.issues[0]
    assert issue.source == "mixed.tle"
    assert issue.field == field
    assert issue.line == 4 + line


def test_orphan_lines_are_reported_not_dropped():
    text = "\n".join([IRIDIUM33[2], *IRIDIUM33, IRIDIUM33[1], "NAME WITHOUT ELEMENTS"]) + "\n"
    result = read_tle(text, "orphans.tle")
    assert len(result.records) == 1
    assert sorted(i.line for i in result.issues) == [1, 5, 6]


def test_duplicates_keep_newest_and_report_older():
    older = parse_tle(IRIDIUM33[1], IRIDIUM33[2], IRIDIUM33[0], "a.tle", 1)
    newer_l1 = _fix(IRIDIUM33[1].replace("21275.21928946", "21276.21928946"))
    newer = parse_tle(newer_l1, IRIDIUM33[2], IRIDIUM33[0], "b.tle", 7)
    kept, issues = latest_per_object([newer, older])
    assert kept == [newer]
    assert len(issues) == 1 and issues[0].source == "a.tle" and issues[0].line == 1
    assert "superseded" in issues[0].message


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 137), st.characters(codec="utf-8", exclude_categories=("Cs",)))
def test_fuzz_one_corrupted_character_never_loses_the_good_records(position, char):
    """Property: corrupting one character of the middle record never raises and never
    costs the two intact records; the middle one either parses or is reported."""
    middle = IRIDIUM33[1] + "\n" + IRIDIUM33[2]
    corrupted = middle[:position] + char + middle[position + 1 :]
    text = "\n".join([*IRIDIUM33, corrupted, *IRIDIUM33]) + "\n"
    result = read_tle(text, "fuzz.tle")
    assert sum(r.norad_id == 24946 for r in result.records) >= 2
    assert len(result.records) + len(result.issues) >= 3


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=400))
def test_fuzz_arbitrary_text_never_raises(text):
    result = read_tle(text, "junk")
    for issue in result.issues:
        assert issue.source == "junk" and issue.line >= 1


# --- Vallado's verification file and content sniffing (issue #13) -------------------------------

VER = Path(__file__).parent / "data" / "tle" / "SGP4-VER.TLE"


def test_vallado_verification_file_reads_as_python_sgp4_reads_it():
    """SGP4-VER.TLE (Vallado et al., AIAA 2006-6753; tests/data/tle/) has '#' comment lines and
    start/stop/step minutes after column 69 on line 2: 33 element sets (20413 twice). Three of
    them (33333-33335, built by hand for error codes 4, 2 and 3) carry wrong checksums, which
    python-sgp4's twoline2rv does not check; we report them unless asked not to."""
    text = VER.read_text()
    assert detect_format(text) == "tle"
    strict = read_tle(text, "SGP4-VER.TLE")
    assert len(strict.records) == 30
    assert [(i.line, i.field) for i in strict.issues] == [(100, "checksum"), (103, "checksum"), (106, "checksum")]
    loose = read_elements(VER, verify_checksum=False)
    assert loose.issues == [] and len(loose.records) == 33
    assert len({r.norad_id for r in loose.records}) == 32
    lines = text.splitlines()
    for rec in loose.records:
        l1, l2 = lines[rec.line - 1], lines[rec.line]
        sat = Satrec.twoline2rv(l1, l2)
        start_min = float(l2[69:].split()[0])
        jd, fr = sat.jdsatepoch, sat.jdsatepochF + start_min / 1440.0
        assert repr(rec.satrec().sgp4(jd, fr)) == repr(sat.sgp4(jd, fr)), rec.norad_id  # nan where sgp4 fails
        assert rec.line2 == l2[:69] and rec.name == ""


def test_trailing_text_needs_a_blank_column_70():
    assert parse_tle(IRIDIUM33[1], IRIDIUM33[2] + "   0.0  1440.0  360.0").norad_id == 24946
    with pytest.raises(RecordError, match="70 columns"):
        parse_tle(IRIDIUM33[1], IRIDIUM33[2] + "9")


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("# comment\n#\n" + "\n".join(IRIDIUM33[1:]) + "\n", "tle"),
        ("\ufeff" + "\n".join(IRIDIUM33) + "\n", "tle"),
        ("0 IRIDIUM 33\n" + "\n".join(IRIDIUM33[1:]) + "\n", "tle"),
        ("CCSDS_OMM_VERS = 2.0\n", "omm-kvn"),
        ("<ndm></ndm>", "omm-xml"),
        ('[{"NORAD_CAT_ID": 1}]', "omm-json"),
        ("OBJECT_NAME,NORAD_CAT_ID,EPOCH\n", "omm-csv"),
        ("hello world\n", "unknown"),
        ("a,b,c\n1,2,3\n", "unknown"),
        ("", "unknown"),
    ],
)
def test_formats_are_detected_by_content(text, fmt):
    assert detect_format(text) == fmt


@pytest.mark.parametrize("text", ["hello world\n", "", "a,b\n1,2\n", "1 2 3\n"])
def test_unrecognised_files_name_the_formats_tried(text):
    result = read_elements("junk.txt", text)
    assert result.records == []
    (issue,) = result.issues
    assert (issue.source, issue.line, issue.field) == ("junk.txt", 1, "format")
    assert "tried TLE/3LE, OMM KVN, OMM XML, OMM JSON, OMM CSV" in issue.message
    assert "EPOCH" not in issue.message


def test_catalog_load_cli_on_the_verification_file(sqlite_url):
    from typer.testing import CliRunner

    from spacecommons.cli.main import app

    runner = CliRunner(env={"COLUMNS": "240"})
    r = runner.invoke(app, ["catalog", "load", str(VER), "--database-url", sqlite_url], catch_exceptions=False)
    assert r.exit_code == 3
    assert f"{VER}: 30 element sets read, 29 new, 1 already stored, 3 rejected" in r.stdout
    assert r.stderr.count("checksum: column 69") == 3
    args = ["catalog", "load", "--no-verify-checksum", str(VER), "--database-url", sqlite_url]
    r = runner.invoke(app, args, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert f"{VER}: 33 element sets read, 3 new, 30 already stored, 0 rejected" in r.stdout


def test_checksum_is_the_per_character_rule_on_random_ascii():
    """The byte-table checksum against the rule as the TLE format states it (Space-Track, "Basic
    Description of the Two Line Element Set Format"): digits count their value, '-' counts 1,
    everything else 0, modulo 10 over columns 1-68."""
    import random

    rnd = random.Random(11)
    alphabet = "0123456789- +.ABCUZ"
    for _ in range(3000):
        line = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 75)))
        rule = sum(int(c) if c.isdigit() else 1 if c == "-" else 0 for c in line[:68]) % 10
        assert checksum(line) == rule


def test_one_pass_fields_equal_the_field_by_field_ones_on_mutated_lines():
    """``parse_tle`` reads all fields in one pass and falls back to the checked, field-by-field path
    (which names the bad field) when one does not parse: on every record of the SGP4 verification file
    and 4,000 single-character mutations of them, the two agree value for value, or both refuse."""
    import random

    from spacecommons.catalog.tle import _checked_fields, _fast_fields

    pairs = [(r.line1, r.line2) for r in read_elements(VER, verify_checksum=False).records]
    rnd = random.Random(5)
    cases = list(pairs)
    for _ in range(4000):
        l1, l2 = rnd.choice(pairs)
        k = rnd.randrange(2)
        line = [l1, l2][k]
        p = rnd.randrange(len(line))
        line = line[:p] + rnd.choice("0123456789 -+.AIOb") + line[p + 1 :]
        cases.append((line, l2) if k == 0 else (l1, line))
    agreed = refused = 0
    for l1, l2 in cases:
        try:
            fast = _fast_fields(l1, l2)
        except (ValueError, IndexError):
            fast = None
        if fast is None:
            refused += 1  # the caller takes the checked path: its answer is the one given
            continue
        try:
            checked = _checked_fields("x", 1, l1, l2)
        except RecordError as exc:  # the checked path also refuses an epoch day outside 1..366;
            assert exc.issue.field == "epoch day" and not 1.0 <= fast[2] < 367.0  # parse_tle then does
            continue
        assert fast == checked, (l1, l2)
        agreed += 1
    assert agreed > 2000 and refused > 100
