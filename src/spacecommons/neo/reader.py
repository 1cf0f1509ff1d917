"""Read small-body orbits from any supported file, chosen by content: JPL SBDB API JSON, JPL SBDB
query CSV, ESA NEOCC OEF2.0 (``.ke0``/``.ke1``/``.eq0``/``.eq1``), MPCORB."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import RecordError, RecordIssue
from .mpc import read_mpcorb
from .neocc import looks_like_oef, read_oef
from .orbit import SmallBodyOrbit
from .sbdb import read_sbdb_csv
from .sbdb_api import read_sbdb_api

FORMATS = ("SBDB API JSON", "SBDB query CSV (with a 'pdes' column)", "NEOCC OEF2.0", "MPCORB")
# an MPCORB record: packed designation (cols 1-7), H, G, packed epoch (cols 21-25)
_MPCORB_RECORD = re.compile(r"^[0-9A-Za-z~]{5}[0-9A-Za-z ]{2} [ 0-9.+-]{5} [ 0-9.+-]{5} [IJKL]\d\d[0-9A-V]{2} ")


def orbit_format(text: str) -> str | None:
    """``sbdb-api``, ``sbdb-csv``, ``oef``, ``mpcorb``, or None when the content is none of them."""
    head = text.lstrip("\ufeff \t\r\n")[:4000]
    if head.startswith("{"):
        return "sbdb-api"
    if looks_like_oef(head):
        return "oef"
    first = head.splitlines()[0] if head else ""
    if "," in first and "pdes" in [c.strip().strip('"') for c in first.split(",")]:
        return "sbdb-csv"
    lines = text.splitlines()
    dashed = next((k for k, line in enumerate(lines[:200]) if line.startswith("-----")), None)
    body = lines[dashed + 1 :] if dashed is not None else lines
    sample = [line for line in body[:50] if line.strip()]
    if sample and sum(bool(_MPCORB_RECORD.match(line)) for line in sample) * 2 >= len(sample):
        return "mpcorb"
    return None


def read_orbits_text(text: str, source: str) -> tuple[list[SmallBodyOrbit], list[RecordIssue]]:
    """Orbits and the issues of the records that could not be read, by the text's content; text that
    is none of the formats is one issue naming the formats tried."""
    fmt = orbit_format(text)
    if fmt == "sbdb-api":
        try:
            return [read_sbdb_api(text, source)], []
        except RecordError as exc:
            return [], [exc.issue]
    if fmt == "oef":
        return read_oef(text, source)
    if fmt == "sbdb-csv":
        return read_sbdb_csv(text, source)
    if fmt == "mpcorb":
        return read_mpcorb(text, source)
    what = "the file is empty" if not text.strip() else "not a recognised orbit format"
    return [], [RecordIssue(source, 1, "format", f"{what} (tried {', '.join(FORMATS)})")]


def read_orbits(path: str | Path) -> tuple[list[SmallBodyOrbit], list[RecordIssue]]:
    """Orbits and the issues of the records that could not be read, by the file's content; a file
    that cannot be read is one issue."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return [], [RecordIssue(str(path), 0, "file", exc.strerror or str(exc))]
    return read_orbits_text(text, str(path))
