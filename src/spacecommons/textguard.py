"""Text that cannot forge lines: control characters refused at ingest, and escaping for writers.

A newline in an object name, stored and written raw into a CDM in KVN, starts a new
``KEY = value`` line: a partner could forge ``MISS_DISTANCE`` or ``COLLISION_PROBABILITY``.
Two defences, both needed: ingest refuses names with control characters
(:func:`reject_control_chars`), and every writer escapes what it writes whatever the store holds
(:func:`kvn_safe` for CCSDS KVN, :func:`csv_safe` for spreadsheets; HTML uses the template's or
the DOM's own escaping).

Refused at ingest: Unicode category Cc (C0 controls incl. TAB, CR, LF; DEL; C1 controls incl.
NEL U+0085), the line and paragraph separators U+2028/U+2029, and the bidirectional formatting
characters U+202A-U+202E, U+2066-U+2069 that reorder what a reader sees (CVE-2021-42574).
Markup (``<``, ``&``) is not refused: it is ordinary text that each writer escapes.

CCSDS 502.0-B-3 and 508.0-B-1 KVN messages are ASCII text of ``KEYWORD = value`` lines, so
:func:`kvn_safe` keeps printable ASCII (U+0020-U+007E) and writes ``?`` for anything else.
"""

from __future__ import annotations

import unicodedata

from .errors import RecordError

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_SEPARATORS = frozenset("\u2028\u2029")
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP "CSV Injection"


def is_forbidden(ch: str) -> bool:
    """True for a character that must not reach a stored text field (see the module docstring).

    >>> [is_forbidden(c) for c in ("a", "\\n", "\\x85", "\\u202e", "<")]
    [False, True, True, True, False]
    """
    return unicodedata.category(ch) == "Cc" or ch in LINE_SEPARATORS or ch in BIDI_CONTROLS


def reject_control_chars(value: str, field: str, source: str = "input", line: int = 0) -> str:
    """``value`` unchanged, or :class:`~spacecommons.errors.RecordError` naming ``field`` and the
    first forbidden character (by code point, so the error does not carry the character itself).

    >>> reject_control_chars("ISS (ZARYA)", "OBJECT_NAME")
    'ISS (ZARYA)'
    >>> reject_control_chars("SAT\\nMISS_DISTANCE = 0", "OBJECT_NAME", "upload.omm", 3)
    Traceback (most recent call last):
    ...
    spacecommons.errors.RecordError: upload.omm:3: OBJECT_NAME: control character U+000A at position 3 is not allowed
    """
    for i, ch in enumerate(value):
        if is_forbidden(ch):
            raise RecordError(source, line, field, f"control character U+{ord(ch):04X} at position {i} is not allowed")
    return value


def kvn_safe(text: str) -> str:
    """``text`` as one KVN value: printable ASCII kept, every other character written as ``?``,
    surrounding blanks trimmed (KVN values are trimmed on reading).

    >>> kvn_safe("SAT\\nMISS_DISTANCE = 0")
    'SAT?MISS_DISTANCE = 0'
    >>> kvn_safe("天宫")
    '??'
    """
    return "".join(ch if " " <= ch <= "~" else "?" for ch in text).strip()


def csv_safe(text: str) -> str:
    """``text`` as a CSV text cell (not for numeric columns) that a spreadsheet will not run as a
    formula: a leading ``= + - @`` (or TAB/CR) gets a ``'`` in front; forbidden characters become ``?``.

    >>> csv_safe("=HYPERLINK(\\"http://x\\")"), csv_safe("@SUM(A1)"), csv_safe("ISS")
    ('\\'=HYPERLINK("http://x")', "'@SUM(A1)", 'ISS')
    """
    prefix = "'" if text.startswith(CSV_FORMULA_START) else ""
    if text.isascii() and text.isprintable():  # U+0020-U+007E only: nothing forbidden (fast path)
        return prefix + text
    return prefix + "".join("?" if is_forbidden(ch) else ch for ch in text)
