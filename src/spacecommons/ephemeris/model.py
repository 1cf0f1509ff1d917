"""CCSDS ODM (502.0-B-2 / B-3) OEM and OPM as small value types; nothing read is lost on writing.

Units are the standard's: km, km/s, km/s**2, covariance km**2, km**2/s, km**2/s**2; masses kg,
areas m**2, durations s. Epochs are kept as the text of the message (a lossless round trip) and
read as two-part Julian dates in the message's ``TIME_SYSTEM`` by :func:`epoch_to_jd`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..errors import RecordError
from ..timescales import normalize_jd
from .keywords import COVARIANCE_KEYS, EPOCH_KEYS, MANEUVER_KEYS, MANEUVER_TEXT_KEYS, REQUIRED_HEADER, STATE_KEYS


class OdmError(RecordError):
    """A malformed OEM or OPM: names the source, line and keyword."""


@dataclass(frozen=True)
class Item:
    """``KEY = value`` or a comment (key ``COMMENT``); ``line`` where it was read (0: built)."""

    key: str
    value: str
    line: int = 0


# -- epochs ---------------------------------------------------------------------------------
_EPOCH = re.compile(r"^(\d{4})-(?:(\d{2})-(\d{2})|(\d{3}))T(\d{2}):(\d{2}):(\d{2}(?:\.\d*)?)(Z|[+-]00:00)?$")
_DAYS_BEFORE_MONTH = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def epoch_to_jd(text: str, source: str = "<odm>", line: int = 0, key: str = "EPOCH") -> tuple[float, float]:
    """A CCSDS epoch (``YYYY-MM-DDThh:mm:ss[.d*]`` or ``YYYY-DDDThh:mm:ss[.d*]``) as a two-part Julian
    date in the message's own time system (calendar arithmetic only; seconds keep every digit).

    >>> epoch_to_jd("2000-01-01T12:00:00")
    (2451544.5, 0.5)
    >>> epoch_to_jd("2004-281T17:22:31") == epoch_to_jd("2004-10-07T17:22:31")
    True
    """
    m = _EPOCH.match(text.strip())
    if not m:
        raise OdmError(
            source, line, key, f"{text!r} is not a CCSDS epoch (YYYY-MM-DDThh:mm:ss[.d] or YYYY-DDDThh:mm:ss)"
        )
    year = int(m.group(1))
    if m.group(4):
        doy = int(m.group(4))
        if not 1 <= doy <= 365 + _is_leap(year):
            raise OdmError(source, line, key, f"{text!r}: day of year {doy} out of range")
    else:
        month, day = int(m.group(2)), int(m.group(3))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            raise OdmError(source, line, key, f"{text!r}: month or day out of range")
        doy = _DAYS_BEFORE_MONTH[month - 1] + day + (month > 2 and _is_leap(year))
    hh, mm, ss = int(m.group(5)), int(m.group(6)), float(m.group(7))
    if hh > 23 or mm > 59 or ss >= 61:
        raise OdmError(source, line, key, f"{text!r}: time of day out of range")
    y = year - 1
    jd0 = (
        1721424.5 + 365 * y + y // 4 - y // 100 + y // 400
    )  # JD of year-01-01T00:00 minus one day (0001-01-01 is JD 1721425.5)
    jd = jd0 + doy
    fr = (hh * 3600 + mm * 60 + ss) / 86400.0
    return float(jd), float(fr)


def jd_to_epoch(jd: float, fr: float, digits: int = 6) -> str:
    """Two-part Julian date -> ``YYYY-MM-DDThh:mm:ss.ffffff`` (no zone letter; the message's
    ``TIME_SYSTEM`` says the scale). Rounded to ``digits`` decimals of a second.

    >>> jd_to_epoch(2451544.5, 0.5)
    '2000-01-01T12:00:00.000000'
    """
    j, f = normalize_jd(jd, fr)
    scale = 10**digits
    ticks = int(round(float(f) * 86400.0 * scale))
    day_ticks = 86400 * scale
    j = float(j) + ticks // day_ticks
    ticks %= day_ticks
    # civil date from the Julian day number (Fliegel & Van Flandern 1968)
    n = int(j + 0.5)
    a = n + 68569
    b = 4 * a // 146097
    a -= (146097 * b + 3) // 4
    c = 4000 * (a + 1) // 1461001
    a -= 1461 * c // 4 - 31
    d = 80 * a // 2447
    day = a - 2447 * d // 80
    a = d // 11
    month = d + 2 - 12 * a
    year = 100 * (b - 49) + c + a
    secs, frac = divmod(ticks, scale)
    hh, rem = divmod(secs, 3600)
    mi, ss = divmod(rem, 60)
    text = f"{year:04d}-{month:02d}-{day:02d}T{hh:02d}:{mi:02d}:{ss:02d}"
    return text + (f".{frac:0{digits}d}" if digits else "")


# -- covariance ------------------------------------------------------------------------------
LOWER = np.tril_indices(6)  # row-major lower triangle: the order of COVARIANCE_KEYS


def lower_to_matrix(values: np.ndarray) -> np.ndarray:
    """21 lower-triangle values (row by row) -> symmetric 6x6."""
    m = np.zeros((6, 6))
    m[LOWER] = values
    return m + np.tril(m, -1).T


@dataclass
class Covariance:
    """A 6x6 position/velocity covariance (km**2, km**2/s, km**2/s**2) in ``ref_frame``
    (``None``: the metadata ``REF_FRAME``); ``epoch`` for OEM blocks, ``None`` in an OPM."""

    matrix: np.ndarray
    epoch: str | None = None
    ref_frame: str | None = None
    comments: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.matrix = np.asarray(self.matrix, dtype=float)
        if self.matrix.shape != (6, 6):
            raise ValueError(f"covariance must be 6x6, got {self.matrix.shape}")

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Covariance)
            and np.array_equal(self.matrix, other.matrix)
            and (self.epoch, self.ref_frame, self.comments) == (other.epoch, other.ref_frame, other.comments)
        )


def same_items(a: list[Item], b: list[Item]) -> bool:
    """Equal as messages: the same comments in the same order and the same keyword values (the
    order of keywords inside a block is the schema's business, not information)."""

    def comments(items: list[Item]) -> list[str]:
        return [i.value for i in items if i.key == "COMMENT"]

    def values(items: list[Item]) -> list[tuple[str, str]]:
        return sorted((i.key, i.value) for i in items if i.key != "COMMENT")

    return comments(a) == comments(b) and values(a) == values(b)


def _items_get(items: list[Item], key: str) -> str | None:
    return next((i.value for i in items if i.key == key), None)


def _same_array(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    """Both absent, or both present and equal element by element."""
    return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))


def _header(kind: str, version: str, comments: list[str] | None, creation_date: str, originator: str) -> list[Item]:
    """The header items of a message built from values (``kind`` OEM or OPM)."""
    header = [Item(f"CCSDS_{kind}_VERS", version), *(Item("COMMENT", c) for c in comments or [])]
    return header + [Item("CREATION_DATE", creation_date), Item("ORIGINATOR", originator)]


def _metadata(object_name: str, object_id: str, center_name: str, ref_frame: str, time_system: str) -> list[Item]:
    """The metadata every OEM segment and OPM carries (REQUIRED_METADATA), in the standard's order."""
    return [
        Item("OBJECT_NAME", object_name),
        Item("OBJECT_ID", object_id),
        Item("CENTER_NAME", center_name),
        Item("REF_FRAME", ref_frame),
        Item("TIME_SYSTEM", time_system),
    ]


# -- OEM ---------------------------------------------------------------------------------------
@dataclass
class OemSegment:
    """One OEM segment: ``metadata`` items in order, then states ``(n, 6)`` [km, km/s] at the
    ``epochs`` (text), optional accelerations ``(n, 3)`` [km/s**2] and covariance blocks."""

    metadata: list[Item]
    epochs: list[str]
    states: np.ndarray
    accelerations: np.ndarray | None = None
    covariances: list[Covariance] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)  # data-section comments

    def __post_init__(self) -> None:
        self.states = np.asarray(self.states, dtype=float).reshape(-1, 6)
        if len(self.epochs) != len(self.states):
            raise ValueError(f"{len(self.epochs)} epochs but {len(self.states)} states")
        if self.accelerations is not None:
            self.accelerations = np.asarray(self.accelerations, dtype=float).reshape(-1, 3)
            if len(self.accelerations) != len(self.states):
                raise ValueError("one acceleration per state")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OemSegment):
            return False
        return (
            same_items(self.metadata, other.metadata)
            and self.epochs == other.epochs
            and np.array_equal(self.states, other.states)
            and _same_array(self.accelerations, other.accelerations)
            and self.covariances == other.covariances
            and self.comments == other.comments
        )

    def get(self, key: str) -> str | None:
        """Value of a metadata keyword, or None."""
        return _items_get(self.metadata, key)

    @property
    def object_name(self) -> str:
        return self.get("OBJECT_NAME") or ""

    @property
    def object_id(self) -> str:
        return self.get("OBJECT_ID") or ""

    @property
    def ref_frame(self) -> str:
        return self.get("REF_FRAME") or ""

    @property
    def time_system(self) -> str:
        return self.get("TIME_SYSTEM") or ""

    @property
    def interpolation(self) -> str:
        """``LAGRANGE``, ``HERMITE`` (or another method the message names); ``LAGRANGE`` if absent."""
        return (self.get("INTERPOLATION") or "LAGRANGE").upper()

    @property
    def interpolation_degree(self) -> int:
        """INTERPOLATION_DEGREE, 5 if absent (a common default; the standard sets none)."""
        text = self.get("INTERPOLATION_DEGREE")
        return int(text) if text else 5

    def jd(self) -> tuple[np.ndarray, np.ndarray]:
        """Epochs as two-part Julian dates ``(n,)``, ``(n,)`` in the segment's ``TIME_SYSTEM``."""
        pairs = np.array([epoch_to_jd(e) for e in self.epochs]).reshape(-1, 2)
        return np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1])

    @property
    def r_km(self) -> np.ndarray:
        return self.states[:, :3]

    @property
    def v_km_s(self) -> np.ndarray:
        return self.states[:, 3:]

    @classmethod
    def from_arrays(
        cls,
        *,
        object_name: str,
        object_id: str,
        jd: np.ndarray,
        fr: np.ndarray,
        r_km: np.ndarray,
        v_km_s: np.ndarray,
        ref_frame: str = "EME2000",
        center_name: str = "EARTH",
        time_system: str = "UTC",
        interpolation: str | None = "LAGRANGE",
        interpolation_degree: int | None = 7,
        accelerations_km_s2: np.ndarray | None = None,
        covariances: list[Covariance] | None = None,
        comments: list[str] | None = None,
        digits: int = 6,
    ) -> OemSegment:
        """A segment from arrays: epochs ``(n,)`` two-part Julian dates in ``time_system``, states
        ``(n, 3)`` each; START/STOP_TIME are the first and last epoch."""
        jd = np.atleast_1d(np.asarray(jd, dtype=float))
        fr = np.broadcast_to(np.asarray(fr, dtype=float), jd.shape)
        epochs = [jd_to_epoch(a, b, digits) for a, b in zip(jd, fr, strict=True)]
        meta = _metadata(object_name, object_id, center_name, ref_frame, time_system)
        meta += [Item("START_TIME", epochs[0]), Item("STOP_TIME", epochs[-1])]
        if interpolation:
            meta.append(Item("INTERPOLATION", interpolation))
            if interpolation_degree:
                meta.append(Item("INTERPOLATION_DEGREE", str(int(interpolation_degree))))
        states = np.hstack([np.asarray(r_km, float).reshape(-1, 3), np.asarray(v_km_s, float).reshape(-1, 3)])
        return cls(meta, epochs, states, accelerations_km_s2, list(covariances or []), list(comments or []))


@dataclass
class Oem:
    """An Orbit Ephemeris Message: header items (``CCSDS_OEM_VERS`` first) and segments."""

    header: list[Item]
    segments: list[OemSegment]
    source: str = "<oem>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Oem) and same_items(self.header, other.header) and self.segments == other.segments

    @property
    def version(self) -> str:
        return _items_get(self.header, "CCSDS_OEM_VERS") or "2.0"

    @classmethod
    def build(
        cls,
        segments: list[OemSegment],
        *,
        creation_date: str,
        originator: str,
        version: str = "2.0",
        comments: list[str] | None = None,
    ) -> Oem:
        """A message around ``segments``; ``creation_date`` is a CCSDS epoch text (UTC) the caller
        supplies (the core does not read the clock)."""
        return cls(_header("OEM", version, comments, creation_date, originator), segments)


# -- OPM ---------------------------------------------------------------------------------------
@dataclass
class Maneuver:
    """One OPM maneuver block: ignition epoch (text in TIME_SYSTEM), duration [s] (0: impulsive),
    mass change [kg, <= 0], the frame of the Δv (``RTN``, ``TNW``, ``EME2000``...) and Δv [km/s]."""

    epoch_ignition: str
    duration_s: float
    delta_mass_kg: float
    ref_frame: str
    dv_km_s: np.ndarray
    comments: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.dv_km_s = np.asarray(self.dv_km_s, dtype=float).reshape(3)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Maneuver)
            and (self.epoch_ignition, self.duration_s, self.delta_mass_kg, self.ref_frame, self.comments)
            == (other.epoch_ignition, other.duration_s, other.delta_mass_kg, other.ref_frame, other.comments)
            and np.array_equal(self.dv_km_s, other.dv_km_s)
        )


@dataclass
class Opm:
    """An Orbit Parameter Message: header and metadata items, the state (epoch text, ``(6,)`` km,
    km/s), and the optional Keplerian elements, spacecraft parameters (items in their order),
    covariance, maneuvers and user-defined parameters."""

    header: list[Item]
    metadata: list[Item]
    epoch: str
    state: np.ndarray
    state_comments: list[str] = field(default_factory=list)
    keplerian: list[Item] = field(default_factory=list)
    spacecraft: list[Item] = field(default_factory=list)
    covariance: Covariance | None = None
    maneuvers: list[Maneuver] = field(default_factory=list)
    user_defined: list[Item] = field(default_factory=list)
    source: str = "<opm>"

    def __post_init__(self) -> None:
        self.state = np.asarray(self.state, dtype=float).reshape(6)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Opm)
            and all(
                same_items(getattr(self, n), getattr(other, n))
                for n in ("header", "metadata", "keplerian", "spacecraft", "user_defined")
            )
            and self.epoch == other.epoch
            and np.array_equal(self.state, other.state)
            and self.state_comments == other.state_comments
            and self.covariance == other.covariance
            and self.maneuvers == other.maneuvers
        )

    @property
    def version(self) -> str:
        return _items_get(self.header, "CCSDS_OPM_VERS") or "2.0"

    def get(self, key: str) -> str | None:
        """Value of a header or metadata keyword, or None."""
        return _items_get(self.header + self.metadata, key)

    @property
    def r_km(self) -> np.ndarray:
        return self.state[:3]

    @property
    def v_km_s(self) -> np.ndarray:
        return self.state[3:]

    @classmethod
    def build(
        cls,
        *,
        object_name: str,
        object_id: str,
        epoch: str,
        r_km: np.ndarray,
        v_km_s: np.ndarray,
        creation_date: str,
        originator: str,
        ref_frame: str = "EME2000",
        center_name: str = "EARTH",
        time_system: str = "UTC",
        version: str = "2.0",
        spacecraft: dict[str, float] | None = None,
        covariance: Covariance | None = None,
        maneuvers: list[Maneuver] | None = None,
        comments: list[str] | None = None,
    ) -> Opm:
        """An OPM from values (``spacecraft``: MASS, SOLAR_RAD_AREA, ... in kg and m**2; the
        NDM/XML schema needs all five when the block is present)."""
        header = _header("OPM", version, comments, creation_date, originator)
        meta = _metadata(object_name, object_id, center_name, ref_frame, time_system)
        sc = [Item(k, format_number(float(v))) for k, v in (spacecraft or {}).items()]
        state = np.hstack([np.asarray(r_km, float).reshape(3), np.asarray(v_km_s, float).reshape(3)])
        return cls(header, meta, epoch, state, spacecraft=sc, covariance=covariance, maneuvers=list(maneuvers or []))


# -- shared by the KVN and XML readers and writers ----------------------------------------------
def number(text: str, source: str, line: int, key: str) -> float:
    """A keyword's value as a float, or an error naming line and keyword."""
    try:
        return float(text)
    except ValueError:
        raise OdmError(source, line, key, f"{text!r} is not a number") from None


def check_header(header: list[Item], source: str, line: int) -> None:
    """The header keywords the standard requires are there (``line``: where to point if not)."""
    for need in REQUIRED_HEADER:
        if not any(i.key == need for i in header):
            raise OdmError(source, line, need, "missing from the header")


def check_metadata(meta: list[Item], required: tuple[str, ...], source: str, line: int) -> None:
    """Required keywords present; epochs readable; INTERPOLATION_DEGREE a positive integer."""
    have = {i.key for i in meta}
    for need in required:
        if need not in have:
            raise OdmError(source, line, need, "missing from the metadata")
    for item in meta:
        if item.key in EPOCH_KEYS:
            epoch_to_jd(item.value, source, item.line, item.key)
        if item.key == "INTERPOLATION_DEGREE" and (not item.value.isdigit() or int(item.value) < 1):
            raise OdmError(source, item.line, item.key, f"{item.value!r} is not a positive integer")


def check_numbers(items: list[Item], source: str) -> None:
    """Every keyword of a numeric block (Keplerian elements, spacecraft parameters) is a number."""
    for i in items:
        if i.key != "COMMENT":
            number(i.value, source, i.line, i.key)


def covariance_from_terms(
    terms: dict[str, float],
    source: str,
    line: int,
    epoch: str | None = None,
    ref_frame: str | None = None,
    comments: list[str] | None = None,
) -> Covariance:
    """A covariance from its 21 keyword terms (CX_X ... CZ_DOT_Z_DOT); a missing one is an error."""
    missing = [k for k in COVARIANCE_KEYS if k not in terms]
    if missing:
        raise OdmError(source, line, missing[0], "missing from the covariance (21 terms)")
    matrix = lower_to_matrix(np.array([terms[k] for k in COVARIANCE_KEYS]))
    return Covariance(matrix, epoch, ref_frame, list(comments or []))


def maneuver_value(key: str, text: str, source: str, line: int) -> str | float:
    """A maneuver keyword's value: the ignition epoch (checked) and frame as text, the rest numbers."""
    if key == "MAN_EPOCH_IGNITION":
        epoch_to_jd(text, source, line, key)
    return text if key in MANEUVER_TEXT_KEYS else number(text, source, line, key)


def maneuver_from(values: dict[str, str | float], comments: list[str], source: str, line: int) -> Maneuver:
    """A maneuver block from its keyword values (``maneuver_value``); a missing keyword is an error."""
    for k in MANEUVER_KEYS:
        if k not in values:
            raise OdmError(source, line, k, "missing from the maneuver block")
    dv = np.array([values["MAN_DV_1"], values["MAN_DV_2"], values["MAN_DV_3"]])
    return Maneuver(
        values["MAN_EPOCH_IGNITION"],
        values["MAN_DURATION"],
        values["MAN_DELTA_MASS"],
        values["MAN_REF_FRAME"],
        dv,
        comments,
    )


def state_fields(epoch: str, state: np.ndarray) -> list[tuple[str, str]]:
    """(keyword, text) of a state vector in the standard's order, as both writers write it."""
    return [("EPOCH", epoch), *zip(STATE_KEYS, map(format_number, state), strict=True)]


def covariance_fields(cov: Covariance) -> list[tuple[str, str]]:
    """(keyword, text) of the 21 lower-triangle terms, row by row."""
    return list(zip(COVARIANCE_KEYS, map(format_number, cov.matrix[LOWER]), strict=True))


def maneuver_fields(m: Maneuver) -> list[tuple[str, str]]:
    """(keyword, text) of a maneuver block in the standard's order."""
    return [
        ("MAN_EPOCH_IGNITION", m.epoch_ignition),
        ("MAN_DURATION", format_number(m.duration_s)),
        ("MAN_DELTA_MASS", format_number(m.delta_mass_kg)),
        ("MAN_REF_FRAME", m.ref_frame),
        *((f"MAN_DV_{i + 1}", format_number(m.dv_km_s[i])) for i in range(3)),
    ]


def format_number(x: float) -> str:
    """The shortest text that reads back as the same float (``repr``), without a ``+`` exponent
    sign pad: ``1e-05`` -> ``1e-05`` stays valid for xsd:double and KVN alike."""
    return repr(float(x))
