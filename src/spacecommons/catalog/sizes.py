"""NASA CARA hard-body radius and mass estimates per catalog object."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

from ..errors import RecordIssue


@dataclass(frozen=True)
class ObjectSize:
    """HBR (m) and mass (kg) with 1-sigma and source; NaN where CARA gives no value."""

    norad_id: int
    hbr_m: float
    hbr_sigma_m: float
    hbr_source: str
    mass_kg: float
    mass_sigma_kg: float
    mass_source: str


def _num(text: str) -> float:
    return float(text) if text.strip() else math.nan


def read_cara_sizes(text: str, source: str = "<hbr.csv>") -> tuple[dict[int, ObjectSize], list[RecordIssue]]:
    """Parse ``HBR_Mass_Estimates_*.csv`` (ObjectID,HBR,HBRSigma,HBRSource,Mass,MassSigma,MassSource)."""
    rows = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(rows, [])]
    expected = ["ObjectID", "HBR", "HBRSigma", "HBRSource", "Mass", "MassSigma", "MassSource"]
    if header[: len(expected)] != expected:
        return {}, [RecordIssue(source, 1, "header", f"expected columns {','.join(expected)}")]
    sizes: dict[int, ObjectSize] = {}
    issues: list[RecordIssue] = []
    for no, row in enumerate(rows, start=2):
        if not row:
            continue
        if len(row) < len(expected):
            issues.append(RecordIssue(source, no, "columns", f"{len(row)} values, expected {len(expected)}"))
            continue
        try:
            oid = int(row[0])
            size = ObjectSize(
                oid, _num(row[1]), _num(row[2]), row[3].strip(), _num(row[4]), _num(row[5]), row[6].strip()
            )
        except ValueError as exc:
            issues.append(RecordIssue(source, no, "number", str(exc)))
            continue
        sizes[oid] = size
    return sizes, issues
