"""Read small-body orbits from any supported file: JPL SBDB query CSV, SBDB API JSON, MPCORB."""

from __future__ import annotations

from pathlib import Path

from ..errors import RecordError, RecordIssue
from .mpc import read_mpcorb
from .orbit import SmallBodyOrbit
from .sbdb import read_sbdb_csv
from .sbdb_api import read_sbdb_api


def read_orbits(path: str | Path) -> tuple[list[SmallBodyOrbit], list[RecordIssue]]:
    """Orbits and the issues of the records that could not be read, by the file's content."""
    path = Path(path)
    text = path.read_text(encoding="utf-8", errors="replace")
    head = text.lstrip()[:200]
    if head.startswith("{"):
        try:
            return [read_sbdb_api(text, str(path))], []
        except RecordError as exc:
            return [], [exc.issue]
    first = head.splitlines()[0] if head else ""
    if "," in first and "pdes" in first:
        return read_sbdb_csv(text, str(path))
    return read_mpcorb(text, str(path))
