"""Read astrometry from any supported text, chosen by content: ADES (XML or PSV), JPL radar
astrometry, MPC 80-column."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...errors import RecordIssue
from .ades import read_ades
from .model import OpticalObservation, RadarObservation
from .mpc80 import _HEADER_KEYWORDS, read_mpc80
from .radar import _RECORD, read_jpl_radar

_MPC80_DATE = re.compile(r"^.{15}\d{4} \d\d \d\d\.\d")  # columns 16-32: "YYYY MM DD.ddddd"
FORMATS = ("ADES XML", "ADES PSV", "JPL radar astrometry", "MPC 80-column")


@dataclass(frozen=True)
class ObservationBatch:
    """What one file gave: its optical and radar observations and the issues of its bad records."""

    format: str
    optical: list[OpticalObservation] = field(default_factory=list)
    radar: list[RadarObservation] = field(default_factory=list)
    issues: list[RecordIssue] = field(default_factory=list)


def observation_format(text: str) -> str | None:
    """``ades-xml``, ``ades-psv``, ``jpl-radar``, ``mpc80``, or None when the text is none of them."""
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith("<"):
        return "ades-xml"
    lines = [line for line in head.splitlines()[:60] if line.strip()]
    if not lines:
        return None
    if any(line.startswith("# version") for line in lines[:3]) or any(
        "|" in line and "obsTime" in line for line in lines
    ):
        return "ades-psv"
    data = [line for line in lines if not line.lstrip().startswith("#")]
    if data and sum(bool(_RECORD.match(line.strip())) for line in data) * 2 >= len(data):
        return "jpl-radar"
    records = [line for line in data if not (line[:3] in _HEADER_KEYWORDS and line[3:4] == " ")]
    if records and sum(bool(_MPC80_DATE.match(line)) for line in records) * 2 >= len(records):
        return "mpc80"
    return None


def read_observations_text(text: str, source: str) -> ObservationBatch:
    """Observations of a text by its content; text that is none of the formats is one issue."""
    fmt = observation_format(text)
    if fmt in ("ades-xml", "ades-psv"):
        optical, issues = read_ades(text, source)
        return ObservationBatch(fmt, optical=optical, issues=issues)
    if fmt == "jpl-radar":
        radar, issues = read_jpl_radar(text, source)
        return ObservationBatch(fmt, radar=radar, issues=issues)
    if fmt == "mpc80":
        optical, issues = read_mpc80(text, source)
        return ObservationBatch(fmt, optical=optical, issues=issues)
    what = "the file is empty" if not text.strip() else "not a recognised astrometry format"
    return ObservationBatch(
        "unknown", issues=[RecordIssue(source, 1, "format", f"{what} (tried {', '.join(FORMATS)})")]
    )
