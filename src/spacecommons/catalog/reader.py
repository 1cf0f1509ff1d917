"""Read any element-set file: TLE/3LE or OMM (KVN, XML, JSON, CSV), chosen by content."""

from __future__ import annotations

from pathlib import Path

from ..errors import RecordIssue
from .elements import ParseResult
from .omm import read_omm, sniff_omm
from .tle import read_tle


def detect_format(text: str) -> str:
    """``tle`` or ``omm-<encoding>``."""
    head = text.lstrip()[:400]
    first = head.splitlines()[0] if head else ""
    if first.startswith(("1 ", "0 ")) or (len(head.splitlines()) > 1 and head.splitlines()[1].startswith("1 ")):
        return "tle"
    return "omm-" + sniff_omm(text)


def read_elements(path: str | Path, text: str | bytes | None = None) -> ParseResult:
    """Read one file (or its given content) into element sets and issues."""
    source = str(path)
    if text is None:
        try:
            text = Path(path).read_bytes()
        except OSError as exc:
            return ParseResult(issues=[RecordIssue(source, 0, "file", str(exc))])
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    fmt = detect_format(text)
    if fmt == "tle":
        return read_tle(text, source)
    return read_omm(text, source, fmt.removeprefix("omm-"))
