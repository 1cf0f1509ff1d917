"""Text fields that reach writers: control characters refused at ingest, KVN/CSV escaping.

Properties over arbitrary Unicode names (hypothesis), with control characters and markup mixed in.
Independent references: Python's ``str.splitlines`` (every Unicode line boundary: LF, CR, VT, FF,
FS/GS/RS, NEL, LS, PS), the Unicode category Cc, CCSDS 502.0-B-3 / 508.0-B-1 (KVN is printable
ASCII ``KEYWORD = value`` lines) and OWASP "CSV Injection" (formula prefixes = + - @).
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from spacecommons.errors import RecordError
from spacecommons.textguard import csv_safe, is_forbidden, kvn_safe, reject_control_chars

CONTROLS = st.sampled_from(
    ["\n", "\r", "\r\n", "\x00", "\t", "\x0b", "\x0c", "\x1b[31m", "\x7f", "\x85", "\u2028", "\u2029", "\u202e"]
)
MARKUP = st.sampled_from(
    ["<script>alert(1)</script>", "&amp;", '"><img src=x onerror=1>', "=CMD()", "MISS_DISTANCE = 0"]
)
NAMES = st.lists(st.one_of(st.text(max_size=12), CONTROLS, MARKUP), max_size=6).map("".join)


@settings(deadline=None)  # a shared 2-core machine: no per-example time limit
@given(NAMES)
@example("SAT\nMISS_DISTANCE = 0\nCOLLISION_PROBABILITY = 0.9")
def test_kvn_safe_is_always_one_printable_ascii_line(name):
    line = "OBJECT_NAME = " + kvn_safe(name)
    assert len(line.splitlines()) == 1
    assert all(0x20 <= ord(c) <= 0x7E for c in line)


@settings(deadline=None)  # a shared 2-core machine: no per-example time limit
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_kvn_safe_keeps_printable_ascii(name):
    assert kvn_safe(name) == name.strip()


@settings(deadline=None)  # a shared 2-core machine: no per-example time limit
@given(NAMES)
def test_reject_control_chars_refuses_exactly_what_breaks_lines_or_reorders(name):
    bad = [c for c in name if unicodedata.category(c) == "Cc" or c in "\u2028\u2029" or "\u202a" <= c <= "\u202e"]
    bad += [c for c in name if "\u2066" <= c <= "\u2069"]
    if bad:
        with pytest.raises(RecordError) as info:
            reject_control_chars(name, "OBJECT_NAME", "upload.omm", 7)
        issue = info.value.issue
        assert (issue.source, issue.line, issue.field) == ("upload.omm", 7, "OBJECT_NAME")
        assert f"U+{ord(name[[is_forbidden(c) for c in name].index(True)]):04X}" in issue.message
    else:
        assert reject_control_chars(name, "OBJECT_NAME") == name
        assert len(name.splitlines()) <= 1  # what passes never spans lines


@settings(deadline=None)  # a shared 2-core machine: no per-example time limit
@given(NAMES)
def test_csv_safe_never_starts_a_formula_and_never_breaks_a_row(name):
    cell = csv_safe(name)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert len(cell.splitlines()) <= 1


def test_markup_is_text_not_an_error():
    # markup is escaped by each writer (KVN keeps it verbatim, HTML escapes it), not refused at ingest
    assert reject_control_chars("<b>SAT</b> & co", "OBJECT_NAME") == "<b>SAT</b> & co"
    assert kvn_safe("<b>SAT</b>") == "<b>SAT</b>"
