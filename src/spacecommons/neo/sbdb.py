"""JPL SBDB query output (CSV): orbital elements of small bodies, with record-level errors."""

from __future__ import annotations

import csv
import io

from ..errors import InputError, RecordIssue
from .orbit import SmallBodyOrbit

REQUIRED = ("pdes", "epoch", "e", "a", "i", "om", "w", "ma")


def _opt(text: str) -> float | None:
    return float(text) if text.strip() else None


def read_sbdb_csv(text: str, source: str = "<sbdb.csv>") -> tuple[list[SmallBodyOrbit], list[RecordIssue]]:
    """Every good row becomes an orbit; every bad one an issue naming line and column."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        return [], [RecordIssue(source, 1, ",".join(missing), "required SBDB columns missing")]
    orbits: list[SmallBodyOrbit] = []
    issues: list[RecordIssue] = []
    for no, row in enumerate(reader, start=2):
        try:
            values = {}
            for col in ("epoch", "e", "a", "i", "om", "w", "ma"):
                try:
                    values[col] = float(row[col])
                except (TypeError, ValueError) as exc:
                    raise InputError(col, f"{row.get(col)!r} is not a number") from exc
            if not 0.0 <= values["e"] < 1.0:
                raise InputError("e", f"{values['e']} is not an elliptic eccentricity")
            orbits.append(
                SmallBodyOrbit(
                    designation=row["pdes"].strip(),
                    name=(row.get("name") or "").strip(),
                    epoch_jd_tdb=values["epoch"],
                    a_au=values["a"],
                    e=values["e"],
                    i_deg=values["i"],
                    om_deg=values["om"],
                    w_deg=values["w"],
                    ma_deg=values["ma"],
                    h_mag=_opt(row.get("H", "")),
                    orbit_id=(row.get("orbit_id") or "").strip(),
                    moid_au=_opt(row.get("moid", "")),
                    q_au=_opt(row.get("q", "")),
                    tp_jd_tdb=_opt(row.get("tp", "")),
                    nongrav=tuple(_opt(row.get(k, "")) or 0.0 for k in ("A1", "A2", "A3")),
                    diameter_km=_opt(row.get("diameter", "")),
                    albedo=_opt(row.get("albedo", "")),
                    source=source,
                    line=no,
                )
            )
        except ValueError as exc:
            col, msg = exc.args if len(exc.args) == 2 else ("row", str(exc))
            issues.append(RecordIssue(source, no, col, msg))
    return orbits, issues
