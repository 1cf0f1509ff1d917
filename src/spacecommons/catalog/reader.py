"""Read any element-set file: TLE/3LE or OMM (KVN, XML, JSON, CSV), chosen by content."""

from __future__ import annotations

from pathlib import Path

from ..errors import RecordIssue
from .elements import ParseResult
from .omm import detect_omm, read_omm
from .tle import TLE_LENGTH, read_tle

FORMATS = ("TLE/3LE", "OMM KVN", "OMM XML", "OMM JSON", "OMM CSV")
_SCAN_LINES = 60


def _looks_like_tle(text: str) -> bool:
    """A line 1 (``1 `` and at least 64 columns) followed by a line 2 within the first lines, skipping
    blank and ``#`` comment lines; a ``0 NAME`` first line also counts (Space-Track 3LE)."""
    lines = [ln.rstrip() for ln in text.splitlines()[: _SCAN_LINES * 2]]
    lines = [ln for ln in lines if ln.strip() and not ln.startswith("#")][:_SCAN_LINES]
    if lines and lines[0].startswith("0 "):
        return True
    for a, b in zip(lines, lines[1:], strict=False):
        if a.startswith("1 ") and b.startswith("2 ") and min(len(a), len(b)) >= TLE_LENGTH - 5:
            return True
    return False


def detect_format(text: str) -> str:
    """``tle``, ``omm-<encoding>``, or ``unknown`` when the content is none of :data:`FORMATS`."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] not in ("<", "[", "{") and _looks_like_tle(stripped):
        return "tle"
    encoding = detect_omm(stripped)
    return f"omm-{encoding}" if encoding else "unknown"


def read_elements(path: str | Path, text: str | bytes | None = None, verify_checksum: bool = True) -> ParseResult:
    """Read one file (or its given content) into element sets and issues. Content that is none of
    the supported formats is one issue naming the formats tried. ``verify_checksum=False`` accepts
    TLE lines whose column-69 checksum is wrong (as python-sgp4 does)."""
    source = str(path)
    if text is None:
        try:
            text = Path(path).read_bytes()
        except OSError as exc:
            return ParseResult(issues=[RecordIssue(source, 0, "file", exc.strerror or str(exc))])
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    fmt = detect_format(text)
    if fmt == "tle":
        return read_tle(text, source, verify_checksum)
    if fmt == "unknown":
        what = "the file is empty" if not text.strip() else "not a recognised element-set format"
        return ParseResult(issues=[RecordIssue(source, 1, "format", f"{what} (tried {', '.join(FORMATS)})")])
    return read_omm(text, source, fmt.removeprefix("omm-"))
