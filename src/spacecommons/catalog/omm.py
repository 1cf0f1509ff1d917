"""CCSDS Orbit Mean-Elements Messages (502.0-B-2) in KVN, XML, JSON and CSV.

CelesTrak types numbers as numbers, Space-Track as strings; both read the same.
"""

from __future__ import annotations

import csv
import io
import json
import re

import defusedxml.ElementTree as DET

from ..errors import RecordError, RecordIssue
from ..timescales import parse_utc
from .elements import MEAN_ELEMENT_KEYS, ElementSet, ParseResult, format_epoch

_REQUIRED = (*MEAN_ELEMENT_KEYS, "NORAD_CAT_ID")
_UNIT = re.compile(r"\s*\[[^\]]*\]\s*$")
_SGP4_THEORIES = {"SGP4", "SGP/SGP4", "SDP4", "SGP4/SDP4"}


def element_set_from_fields(raw: dict[str, object], source: str, line: int, fmt: str, original: str) -> ElementSet:
    """Validate OMM keywords and build an element set; raises :class:`RecordError`."""
    fields: dict[str, str] = {}
    for key, value in raw.items():
        if value is None:
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        fields[str(key).strip().upper()] = text.strip().strip('"')
    theory = fields.get("MEAN_ELEMENT_THEORY", "SGP4").upper()
    if theory not in _SGP4_THEORIES:
        raise RecordError(source, line, "MEAN_ELEMENT_THEORY", f"{theory!r} is not SGP4; only SGP4 elements propagate")
    for key in _REQUIRED:
        if not fields.get(key):
            raise RecordError(source, line, key, "mandatory keyword is missing or empty")
    for key in MEAN_ELEMENT_KEYS[1:]:
        try:
            float(fields[key])
        except ValueError as exc:
            raise RecordError(source, line, key, f"{fields[key]!r} is not a number") from exc
    try:
        norad_id = int(float(fields["NORAD_CAT_ID"]))
    except ValueError as exc:
        raise RecordError(source, line, "NORAD_CAT_ID", f"{fields['NORAD_CAT_ID']!r} is not an integer") from exc
    if not 0 < norad_id < 10**9:
        raise RecordError(source, line, "NORAD_CAT_ID", f"{norad_id} is outside 1..999999999")
    try:
        epoch = parse_utc(fields["EPOCH"] if fields["EPOCH"][-1:] in "Zz" else fields["EPOCH"] + "Z")
    except ValueError as exc:
        raise RecordError(source, line, "EPOCH", f"{fields['EPOCH']!r} is not an ISO-8601 time") from exc
    fields["EPOCH"] = format_epoch(epoch)
    fields["NORAD_CAT_ID"] = str(norad_id)
    ecc = float(fields["ECCENTRICITY"])
    if not 0.0 <= ecc < 1.0:
        raise RecordError(source, line, "ECCENTRICITY", f"{ecc} is outside [0, 1)")
    if float(fields["MEAN_MOTION"]) <= 0.0:
        raise RecordError(source, line, "MEAN_MOTION", "must be positive (rev/day)")
    for key in ("EPHEMERIS_TYPE", "ELEMENT_SET_NO", "REV_AT_EPOCH"):
        if key in fields:
            try:
                fields[key] = str(int(float(fields[key])))
            except ValueError as exc:
                raise RecordError(source, line, key, f"{fields[key]!r} is not an integer") from exc
    return ElementSet(
        norad_id=norad_id,
        name=fields.get("OBJECT_NAME", ""),
        fields=fields,
        source=source,
        line=line,
        format=fmt,
        original=original,
    )


def _collect(result: ParseResult, raw: dict, source: str, line: int, fmt: str, original: str) -> None:
    try:
        result.records.append(element_set_from_fields(raw, source, line, fmt, original))
    except RecordError as exc:
        result.issues.append(exc.issue)


def read_omm_kvn(text: str, source: str = "<omm.kvn>") -> ParseResult:
    """KVN: ``KEY = value [unit]`` lines; each message starts at ``CCSDS_OMM_VERS``."""
    result = ParseResult()
    current: dict[str, str] | None = None
    start = 0
    body: list[str] = []
    lines = text.splitlines()

    def flush() -> None:
        if current is not None:
            _collect(result, current, source, start, "omm-kvn", "\n".join(body) + "\n")

    for no, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("COMMENT"):
            if current is not None:
                body.append(raw)
            continue
        if "=" not in line:
            result.issues.append(RecordIssue(source, no, "KVN", f"{line[:40]!r} is not KEY = value"))
            continue
        key, value = (s.strip() for s in line.split("=", 1))
        if key == "CCSDS_OMM_VERS":
            flush()
            current, start, body = {}, no, []
        if current is None:
            result.issues.append(RecordIssue(source, no, key, "keyword before CCSDS_OMM_VERS"))
            continue
        current[key] = _UNIT.sub("", value)
        body.append(raw)
    flush()
    return result


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _bind_xsi(text: str | bytes) -> str | bytes:
    """CelesTrak writes ``xsi:noNamespaceSchemaLocation`` without declaring ``xsi``; declare it."""
    marker = "xsi:" if isinstance(text, str) else b"xsi:"
    decl = "xmlns:xsi=" if isinstance(text, str) else b"xmlns:xsi="
    if marker in text and decl not in text:
        root = re.compile(r"<(ndm|omm)\b" if isinstance(text, str) else rb"<(ndm|omm)\b")
        uri = ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        text = root.sub(lambda m: m.group(0) + (uri if isinstance(text, str) else uri.encode()), text, count=1)
    return text


def read_omm_xml(text: str | bytes, source: str = "<omm.xml>") -> ParseResult:
    """XML: an ``<omm>`` or an ``<ndm>`` of them; parsed with defusedxml. Line = segment index."""
    result = ParseResult()
    try:
        root = DET.fromstring(_bind_xsi(text))
    except Exception as exc:  # defusedxml raises ParseError or its own forbidden-construct errors
        result.issues.append(RecordIssue(source, 0, "XML", f"not well-formed or forbidden XML: {exc}"))
        return result
    segments = [el for el in root.iter() if _local(el.tag) == "segment"]
    if not segments:
        result.issues.append(RecordIssue(source, 0, "segment", "no OMM <segment> found"))
    for index, seg in enumerate(segments, start=1):
        fields: dict[str, str] = {}
        for el in seg.iter():
            if len(el) == 0 and el.text is not None and _local(el.tag) != "COMMENT":
                fields[_local(el.tag)] = el.text
        original = DET.tostring(seg, encoding="unicode") if hasattr(DET, "tostring") else ""
        _collect(result, fields, source, index, "omm-xml", original)
    return result


def read_omm_json(text: str | bytes, source: str = "<omm.json>") -> ParseResult:
    """JSON: a list of flat OMM objects (CelesTrak ``FORMAT=json``, Space-Track ``gp``)."""
    result = ParseResult()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        result.issues.append(RecordIssue(source, exc.lineno, "JSON", exc.msg))
        return result
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        result.issues.append(RecordIssue(source, 1, "JSON", "expected a list of OMM objects"))
        return result
    for index, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            result.issues.append(RecordIssue(source, index, "JSON", f"record {index} is not an object"))
            continue
        _collect(result, item, source, index, "omm-json", json.dumps(item, sort_keys=True))
    return result


def read_omm_csv(text: str, source: str = "<omm.csv>") -> ParseResult:
    """CSV with a header row of OMM keywords (CelesTrak ``FORMAT=csv``)."""
    result = ParseResult()
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return result
    header = [h.strip().upper() for h in rows[0]]
    for no, row in enumerate(rows[1:], start=2):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            result.issues.append(
                RecordIssue(source, no, "columns", f"{len(row)} values for {len(header)} header columns")
            )
            continue
        _collect(result, dict(zip(header, row, strict=True)), source, no, "omm-csv", ",".join(row))
    return result


def read_omm(text: str | bytes, source: str = "<omm>", fmt: str | None = None) -> ParseResult:
    """Read OMM in any of its encodings; ``fmt`` is kvn|xml|json|csv or guessed from content."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    fmt = fmt or sniff_omm(text)
    readers = {"kvn": read_omm_kvn, "xml": read_omm_xml, "json": read_omm_json, "csv": read_omm_csv}
    return readers[fmt](text, source)


def sniff_omm(text: str) -> str:
    """The OMM encoding of a text that is OMM (:func:`detect_omm`), CSV when it cannot tell."""
    return detect_omm(text) or "csv"


_CSV_KEYS = {"NORAD_CAT_ID", "EPOCH", "MEAN_MOTION", "ECCENTRICITY", "OBJECT_NAME", "OBJECT_ID"}


def detect_omm(text: str) -> str | None:
    """``xml``, ``json``, ``kvn`` or ``csv`` when the content looks like that OMM encoding, else None:
    XML and JSON by their first character, KVN by ``CCSDS_OMM_VERS`` (or a leading ``COMMENT``),
    CSV by a header row of at least two OMM keywords."""
    head = text.lstrip("\ufeff \t\r\n")[:2000]
    if head.startswith("<"):
        return "xml"
    if head.startswith(("[", "{")):
        return "json"
    if "CCSDS_OMM_VERS" in head or head.startswith("COMMENT"):
        return "kvn"
    first = head.splitlines()[0] if head else ""
    columns = {c.strip().strip('"').upper() for c in first.split(",")}
    if "," in first and len(columns & _CSV_KEYS) >= 2:
        return "csv"
    return None
