"""The element set: SGP4 mean elements of one object at one epoch, with provenance."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import InitVar, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sgp4 import omm as sgp4_omm
from sgp4.api import WGS72, Satrec

from ..constants import EARTH_RADIUS_WGS72_KM, GM_EARTH_WGS72_KM3_S2, MINUTES_PER_DAY, SECONDS_PER_DAY
from ..errors import RecordIssue
from ..timescales import datetime_to_jd, jd_to_datetime, parse_utc

# The OMM keywords that define an SGP4 element set (CCSDS 502.0-B-2, Table 4-3 / 4-4).
MEAN_ELEMENT_KEYS = (
    "EPOCH",
    "MEAN_MOTION",
    "ECCENTRICITY",
    "INCLINATION",
    "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER",
    "MEAN_ANOMALY",
    "BSTAR",
    "MEAN_MOTION_DOT",
    "MEAN_MOTION_DDOT",
)
# Alpha-5 cannot encode more; such objects still propagate, under a placeholder number.
MAX_SGP4_SATNUM = 339999


@dataclass(frozen=True)
class ElementSet:
    """One SGP4 element set. ``fields`` holds the OMM keywords as text, whatever the input."""

    norad_id: int
    name: str
    fields: dict[str, str]
    source: str = ""
    line: int = 0
    format: str = "tle"
    line1: str | None = None
    line2: str | None = None
    original: str = ""
    epoch_jd: float = field(init=False)
    epoch_fr: float = field(init=False)
    # the instant of fields["EPOCH"] where the reader already holds it (``parse_tle``), so that the
    # text is not parsed back (a whole-catalog read spent a tenth of its time there); not stored
    parsed_epoch: InitVar[datetime | None] = None

    def __post_init__(self, parsed_epoch: datetime | None = None) -> None:
        epoch = parse_utc(self.fields["EPOCH"] + "Z") if parsed_epoch is None else parsed_epoch
        jd, fr = datetime_to_jd(epoch)
        object.__setattr__(self, "epoch_jd", jd)
        object.__setattr__(self, "epoch_fr", fr)

    @property
    def epoch(self) -> datetime:
        """Epoch as an aware UTC datetime."""
        return jd_to_datetime(self.epoch_jd, self.epoch_fr)

    @property
    def object_id(self) -> str:
        """International designator (COSPAR id), e.g. ``1998-067A``; empty when unknown."""
        return self.fields.get("OBJECT_ID", "")

    @property
    def mean_motion_rev_day(self) -> float:
        return float(self.fields["MEAN_MOTION"])

    @property
    def eccentricity(self) -> float:
        return float(self.fields["ECCENTRICITY"])

    @property
    def digest(self) -> str:
        """sha256 of the mean elements: two element sets with the same digest are the same."""
        core = {k: _canonical_number(self.fields[k]) for k in MEAN_ELEMENT_KEYS}
        core["NORAD_CAT_ID"] = str(self.norad_id)
        blob = json.dumps(core, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def satrec(self) -> Satrec:
        """An initialised ``sgp4`` satellite record (TLE text when we have it, else OMM)."""
        if self.line1 and self.line2:
            return Satrec.twoline2rv(self.line1, self.line2, WGS72)
        f = dict(self.fields)
        f.setdefault("CLASSIFICATION_TYPE", "U")
        f.setdefault("EPHEMERIS_TYPE", "0")
        f.setdefault("ELEMENT_SET_NO", "999")
        f.setdefault("REV_AT_EPOCH", "0")
        f.setdefault("OBJECT_ID", "")
        f["NORAD_CAT_ID"] = str(self.norad_id if self.norad_id <= MAX_SGP4_SATNUM else 0)
        sat = Satrec()
        sgp4_omm.initialize(sat, f, WGS72)
        return sat

    def to_tle_lines(self) -> tuple[str, str]:
        """The element set as TLE text (from the original when it was a TLE)."""
        if self.line1 and self.line2:
            return self.line1, self.line2
        from sgp4.exporter import export_tle

        return export_tle(self.satrec())


def _canonical_number(text: str) -> str:
    try:
        return repr(float(text))
    except ValueError:
        return text.strip()


def format_epoch(t: datetime) -> str:
    """OMM EPOCH text with microseconds and no zone (OMM epochs are UTC)."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")


def epoch_from_tle(year2: int, day_of_year: float) -> datetime:
    """TLE epoch (two-digit year, fractional day of year) -> UTC datetime (57-99 = 19xx)."""
    from datetime import UTC

    year = 1900 + year2 if year2 >= 57 else 2000 + year2
    start = datetime(year, 1, 1, tzinfo=UTC)
    return start + timedelta(microseconds=round((day_of_year - 1.0) * (SECONDS_PER_DAY * 1e6)))


@dataclass
class ParseResult:
    """What a batch read produced: every good record and every bad one, never fewer."""

    records: list[ElementSet] = field(default_factory=list)
    issues: list[RecordIssue] = field(default_factory=list)

    def extend(self, other: ParseResult) -> None:
        self.records.extend(other.records)
        self.issues.extend(other.issues)


def latest_per_object(records: list[ElementSet]) -> tuple[list[ElementSet], list[RecordIssue]]:
    """Keep the newest epoch of each object; report every superseded duplicate as an issue."""
    best: dict[int, ElementSet] = {}
    issues: list[RecordIssue] = []
    for rec in records:
        old = best.get(rec.norad_id)
        if old is None:
            best[rec.norad_id] = rec
            continue
        newer, older = (rec, old) if (rec.epoch_jd + rec.epoch_fr) > (old.epoch_jd + old.epoch_fr) else (old, rec)
        best[rec.norad_id] = newer
        issues.append(
            RecordIssue(
                older.source,
                older.line,
                "NORAD_CAT_ID",
                f"duplicate object {older.norad_id}: superseded by the element set at "
                f"{newer.source}:{newer.line} (epoch {format_epoch(newer.epoch)})",
            )
        )
    return list(best.values()), issues


class OrbitRegime(StrEnum):
    """The orbit regimes of the default covariance model (``risk.default_covariance``)."""

    LEO = "LEO"
    MEO = "MEO"
    GEO = "GEO"
    HEO = "HEO"


def regime(perigee_alt_km: float, apogee_alt_km: float, period_min: float, ecc: float) -> OrbitRegime:
    """Orbit regime: LEO (perigee below 2,000 km, e < 0.25), GEO (period 1,300-1,800 min, e < 0.1),
    HEO (e >= 0.25), MEO otherwise.

    Prefer :func:`orbit_regime`, which derives the altitudes and period from the mean elements the
    same way everywhere; this one stays public only while ``cdm/generate.py`` calls it."""
    if perigee_alt_km < 2000.0 and ecc < 0.25:
        return OrbitRegime.LEO
    if 1300.0 <= period_min <= 1800.0 and ecc < 0.1:
        return OrbitRegime.GEO
    if ecc >= 0.25:
        return OrbitRegime.HEO
    return OrbitRegime.MEO


def orbit_regime(mean_motion_rev_day: float, ecc: float) -> OrbitRegime:
    """The regime of an SGP4 element set from its (Kozai) mean motion and eccentricity: the
    semi-major axis by Kepler's third law with WGS-72's GM, altitudes above WGS-72's radius.

    From a ``sgp4`` ``Satrec``: ``orbit_regime(sat.no_kozai * MINUTES_PER_DAY / (2 * math.pi), sat.ecco)``.

    >>> orbit_regime(15.5, 0.0005), orbit_regime(1.0027, 0.0002), orbit_regime(2.0, 0.7)
    (<OrbitRegime.LEO: 'LEO'>, <OrbitRegime.GEO: 'GEO'>, <OrbitRegime.HEO: 'HEO'>)
    """
    n_rad_s = mean_motion_rev_day * 2.0 * math.pi / SECONDS_PER_DAY
    a_km = (GM_EARTH_WGS72_KM3_S2 / n_rad_s**2) ** (1.0 / 3.0)
    return regime(
        a_km * (1 - ecc) - EARTH_RADIUS_WGS72_KM,
        a_km * (1 + ecc) - EARTH_RADIUS_WGS72_KM,
        MINUTES_PER_DAY / mean_motion_rev_day,
        ecc,
    )


def element_regime(e: ElementSet) -> OrbitRegime:
    """The regime of an element set (:func:`orbit_regime` of its MEAN_MOTION and ECCENTRICITY)."""
    return orbit_regime(float(e.fields["MEAN_MOTION"]), float(e.fields["ECCENTRICITY"]))
