"""Two-line element sets: 2-line and 3-line (``0 NAME``) forms, Alpha-5, checksums.

As python-sgp4 reads them, lines starting with ``#`` are comments and columns after 69 are
ignored when column 70 is blank (Vallado's ``SGP4-VER.TLE`` writes its start/stop/step minutes
there); such extra text is kept in the element set's ``original`` only."""

from __future__ import annotations

from datetime import datetime

from sgp4.alpha5 import from_alpha5

from ..errors import InputError, RecordError, RecordIssue
from .elements import ElementSet, ParseResult, epoch_from_tle

TLE_LENGTH = 69


# each ASCII byte -> what it adds to the checksum ('0'-'9' their value, '-' 1, others 0): the sum of the
# translated bytes is one pass in C (a whole-catalog read spent a quarter of its time in the checksum)
_CHECK_VALUES = bytes(int(chr(b)) if chr(b).isdigit() else 1 if b == ord("-") else 0 for b in range(128)) + bytes(128)


def checksum(line: str) -> int:
    """Modulo-10 checksum of the first 68 columns: digits count, '-' counts 1.

    ASCII text (what ``parse_tle`` checks for first) is counted in C through a byte table
    (``bytes.translate``, then ``sum``); other text takes the per-character rule."""
    head = line[:68]
    if head.isascii():
        return sum(head.encode("ascii").translate(_CHECK_VALUES)) % 10
    return sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in head) % 10


def _assumed_decimal(text: str) -> float:
    """TLE ``' 12345-3'`` -> 0.12345e-3 (implied leading decimal point, signed exponent)."""
    s = text.strip()
    if not s:
        return 0.0
    sign = -1.0 if s[0] == "-" else 1.0
    s = s.lstrip("+-")
    if len(s) >= 2 and s[-2] in "+-":
        mantissa, exponent = s[:-2], s[-2:]
    else:
        mantissa, exponent = s, "0"
    return sign * float("0." + mantissa) * 10.0 ** int(exponent)


def _field(src: str, lineno: int, line: str, cols: tuple[int, int], name: str, kind):
    """Columns are 1-based inclusive as in the Space-Track TLE format description."""
    text = line[cols[0] - 1 : cols[1]]
    try:
        return kind(text)
    except (ValueError, IndexError) as exc:
        raise RecordError(src, lineno, name, f"columns {cols[0]}-{cols[1]} {text!r} is not a valid {name}") from exc


def _catnum(text: str) -> int:
    s = text.strip()
    if not s:
        raise InputError("empty")
    if s[0].isalpha():
        if s[0] in "IO" or not s[1:].isdigit():
            raise InputError(s)
        return from_alpha5(s)
    return int(s)


def _trim(line: str) -> str:
    """The 69 TLE columns of a line; trailing text after a blank column 70 is not part of the set."""
    if len(line) > TLE_LENGTH and line[TLE_LENGTH].isspace():
        return line[:TLE_LENGTH]
    return line


def parse_tle(
    line1: str,
    line2: str,
    name: str = "",
    src: str = "<tle>",
    lineno: int = 1,
    verify_checksum: bool = True,
) -> ElementSet:
    """Parse one element set; ``lineno`` is the line number of line 1 in ``src``. Text after a blank
    column 70 is ignored. ``verify_checksum=False`` accepts a wrong column-69 checksum, as
    python-sgp4's ``twoline2rv`` does (Vallado's verification set has three such records)."""
    l2no = lineno + 1
    raw1, raw2 = line1, line2
    line1, line2 = _trim(line1), _trim(line2)
    for no, line, tag in ((lineno, line1, "1"), (l2no, line2, "2")):
        if not line.isascii():
            raise RecordError(src, no, f"line {tag}", "contains non-ASCII characters")
        if len(line) != TLE_LENGTH:
            raise RecordError(src, no, f"line {tag}", f"has {len(line)} columns, expected {TLE_LENGTH}")
        if line[0] != tag:
            raise RecordError(src, no, "line number", f"column 1 is {line[0]!r}, expected {tag!r}")
        expected = checksum(line)
        if verify_checksum and (not line[68].isdigit() or int(line[68]) != expected):
            raise RecordError(src, no, "checksum", f"column 69 is {line[68]!r}, computed checksum is {expected}")
    try:  # every field at once; any field that does not parse takes the field-by-field path below
        fast = _fast_fields(line1, line2)
    except (ValueError, IndexError, InputError):
        fast = None
    if fast is not None:
        n1, year2, day, ndot, nddot, bstar, elnum, incl, raan, ecc, argp, ma, mm, rev = fast
    else:
        n1, year2, day, ndot, nddot, bstar, elnum, incl, raan, ecc, argp, ma, mm, rev = _checked_fields(
            src, lineno, line1, line2
        )
    ephtype = line1[62].strip() or "0"
    if not 1.0 <= day < 367.0:
        raise RecordError(src, lineno, "epoch day", f"{day} is outside 1..366")
    if not 0.0 <= incl <= 180.0:
        raise RecordError(src, l2no, "inclination", f"{incl} deg is outside 0..180")
    if mm <= 0.0:
        raise RecordError(src, l2no, "mean motion", f"{mm} rev/day must be positive")
    object_id = tle_object_id(line1)
    name = name.strip()
    if name.startswith("0 "):
        name = name[2:].strip()
    epoch = epoch_from_tle(year2, day)
    fields = {
        "OBJECT_NAME": name,
        "OBJECT_ID": object_id,
        "NORAD_CAT_ID": str(n1),
        "CLASSIFICATION_TYPE": line1[7].strip() or "U",
        "EPOCH": _format_epoch(epoch),
        "MEAN_MOTION": repr(mm),
        "ECCENTRICITY": repr(ecc),
        "INCLINATION": repr(incl),
        "RA_OF_ASC_NODE": repr(raan),
        "ARG_OF_PERICENTER": repr(argp),
        "MEAN_ANOMALY": repr(ma),
        "EPHEMERIS_TYPE": ephtype,
        "ELEMENT_SET_NO": str(elnum),
        "REV_AT_EPOCH": str(rev),
        "BSTAR": repr(bstar),
        "MEAN_MOTION_DOT": repr(ndot),
        "MEAN_MOTION_DDOT": repr(nddot),
    }
    original = (name and f"{name}\n" or "") + f"{raw1.rstrip()}\n{raw2.rstrip()}\n"
    return ElementSet(
        norad_id=n1,
        name=name,
        fields=fields,
        source=src,
        line=lineno,
        format="tle",
        line1=line1,
        line2=line2,
        original=original,
        parsed_epoch=epoch,
    )


def _format_epoch(t: datetime) -> str:
    """``format_epoch`` (``strftime("%Y-%m-%dT%H:%M:%S.%f")``) for the years a TLE can hold (1957-2056)."""
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}.{t.microsecond:06d}"


def _fast_fields(line1: str, line2: str) -> tuple | None:
    """The numeric fields of two checked lines, as ``_checked_fields`` reads them, without its per-field
    error handling (``None`` where the catalog numbers differ: the checked path says which line)."""
    n1 = _catnum(line1[2:7])
    if n1 != _catnum(line2[2:7]):
        return None
    return (
        n1,
        int(line1[18:20]),
        float(line1[20:32]),
        float(line1[33:43]),
        _assumed_decimal(line1[44:52]),
        _assumed_decimal(line1[53:61]),
        int(line1[64:68].strip() or 0),
        float(line2[8:16]),
        float(line2[17:25]),
        float("0." + line2[26:33].strip()),
        float(line2[34:42]),
        float(line2[43:51]),
        float(line2[52:63]),
        int(line2[63:68].strip() or 0),
    )


def _checked_fields(src: str, lineno: int, line1: str, line2: str) -> tuple:
    """The numeric fields of an element set, each checked on its own: the first that does not parse
    is a ``RecordError`` naming its line, columns and field."""
    l2no = lineno + 1
    n1 = _field(src, lineno, line1, (3, 7), "catalog number", _catnum)
    n2 = _field(src, l2no, line2, (3, 7), "catalog number", _catnum)
    if n1 != n2:
        raise RecordError(src, l2no, "catalog number", f"line 2 has {n2}, line 1 has {n1}")
    year2 = _field(src, lineno, line1, (19, 20), "epoch year", int)
    day = _field(src, lineno, line1, (21, 32), "epoch day", float)
    if not 1.0 <= day < 367.0:
        raise RecordError(src, lineno, "epoch day", f"{day} is outside 1..366")
    ndot = _field(src, lineno, line1, (34, 43), "mean motion dot", float)
    nddot = _field(src, lineno, line1, (45, 52), "mean motion ddot", _assumed_decimal)
    bstar = _field(src, lineno, line1, (54, 61), "bstar", _assumed_decimal)
    elnum = _field(src, lineno, line1, (65, 68), "element set number", lambda s: int(s.strip() or 0))
    incl = _field(src, l2no, line2, (9, 16), "inclination", float)
    raan = _field(src, l2no, line2, (18, 25), "right ascension of node", float)
    ecc = _field(src, l2no, line2, (27, 33), "eccentricity", lambda s: float("0." + s.strip()))
    argp = _field(src, l2no, line2, (35, 42), "argument of perigee", float)
    ma = _field(src, l2no, line2, (44, 51), "mean anomaly", float)
    mm = _field(src, l2no, line2, (53, 63), "mean motion", float)
    rev = _field(src, l2no, line2, (64, 68), "revolution number", lambda s: int(s.strip() or 0))
    return n1, year2, day, ndot, nddot, bstar, elnum, incl, raan, ecc, argp, ma, mm, rev


def read_tle(text: str | bytes, source: str = "<tle>", verify_checksum: bool = True) -> ParseResult:
    """Read every element set in a TLE/3LE text; bad records become issues, good ones land.
    Lines starting with ``#`` are comments."""
    result = ParseResult()
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    lines = text.splitlines()
    name: tuple[int, str] | None = None
    i = 0
    while i < len(lines):
        raw = lines[i].rstrip()
        no = i + 1
        if not raw.strip() or raw.startswith("#"):
            i += 1
            continue
        if raw.startswith("1 ") or (raw.startswith("1") and len(raw) == TLE_LENGTH):
            nxt = lines[i + 1].rstrip() if i + 1 < len(lines) else ""
            if not nxt.startswith("2"):
                result.issues.append(RecordIssue(source, no, "line 2", "line 1 is not followed by a line 2"))
                name = None
                i += 1
                continue
            try:
                result.records.append(parse_tle(raw, nxt, name[1] if name else "", source, no, verify_checksum))
            except RecordError as exc:
                result.issues.append(exc.issue)
            name = None
            i += 2
            continue
        if raw.startswith("2 "):
            result.issues.append(RecordIssue(source, no, "line 1", "line 2 without a line 1 before it"))
            name = None
            i += 1
            continue
        if name is not None:
            result.issues.append(RecordIssue(source, name[0], "name", f"name line {name[1]!r} has no element lines"))
        if not raw.isascii():
            result.issues.append(RecordIssue(source, no, "name", "contains non-ASCII characters"))
            name = None
        else:
            name = (no, raw)
        i += 1
    if name is not None:
        result.issues.append(RecordIssue(source, name[0], "name", f"name line {name[1]!r} has no element lines"))
    return result


def tle_object_id(line1: str) -> str:
    """The international designator (COSPAR id) of TLE line 1, columns 10-17 (``98067A`` ->
    ``1998-067A``; two-digit launch years 57-99 are 19xx, as in the TLE format); empty when the
    field is blank or not a designator."""
    intl = line1[9:17].strip()
    if len(intl) >= 5 and intl[:5].isdigit():
        yy = int(intl[:2])
        return f"{1900 + yy if yy >= 57 else 2000 + yy}-{intl[2:5]}{intl[5:]}"
    return ""
