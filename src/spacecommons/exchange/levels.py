"""Processing levels: China's CLPDS levels and their PDS4 equivalents (crosswalk).

CLPDS (Chang'e data release) levels 0B (raw, time-ordered, decoded), 01 (radiometrically
corrected / with geometry), 02 (calibrated, physical units), 2B and 2C (derived / mapped products)
map onto PDS4 `processing_level` values Raw, Partially Processed, Calibrated and Derived. The
mapping back from PDS4 is to the lowest CLPDS level of that class."""

from __future__ import annotations

from ..errors import InputError

CLPDS_TO_PDS4 = {"0B": "Raw", "01": "Partially Processed", "02": "Calibrated", "2B": "Derived", "2C": "Derived"}
PDS4_TO_CLPDS = {"Raw": "0B", "Partially Processed": "01", "Calibrated": "02", "Derived": "2B"}
PDS4_LEVELS = ("Raw", "Partially Processed", "Calibrated", "Derived")


def to_pds4(level: str) -> str:
    """A CLPDS level (``2C``) or a PDS4 level in any case (``calibrated``) -> the PDS4 value."""
    s = level.strip()
    if s.upper() in CLPDS_TO_PDS4:
        return CLPDS_TO_PDS4[s.upper()]
    for p in PDS4_LEVELS:
        if s.lower() == p.lower():
            return p
    raise InputError(
        f"unknown processing level {level!r}: CLPDS {', '.join(CLPDS_TO_PDS4)} or PDS4 {', '.join(PDS4_LEVELS)}"
    )


def to_clpds(level: str) -> str:
    return PDS4_TO_CLPDS[to_pds4(level)] if level.strip().upper() not in CLPDS_TO_PDS4 else level.strip().upper()
