"""Minor Planet Center formats: packed designations and epochs, MPCORB one-line orbits.

MPCORB.DAT columns (MPC "Export Format for Minor-Planet Orbits"): designation 1-7, H 9-13,
G 15-19, epoch 21-25 (packed, TT), M 27-35, argument of perihelion 38-46, node 49-57,
inclination 60-68 (J2000 ecliptic, deg), e 71-79, n 81-91 (deg/day), a 93-103 (au),
readable designation 167-194. Epochs are TT; TT - TDB is below 2 ms, far inside any orbit's
uncertainty, and is ignored."""

from __future__ import annotations

from datetime import UTC, datetime

from ..errors import InputError, RecordIssue
from ..timescales import datetime_to_jd
from .orbit import SmallBodyOrbit

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CENTURY = {"I": 1800, "J": 1900, "K": 2000, "L": 2100}


def _b62(c: str) -> int:
    v = _B62.find(c)
    if v < 0:
        raise InputError(f"{c!r} is not a base-62 digit")
    return v


def unpack_designation(packed: str) -> str:
    """'00433' -> '433', 'A0345' -> '100345', '~0000' -> '620000', 'K04M04N' -> '2004 MN4'."""
    p = packed.strip()
    if len(p) == 5:
        if p[0] == "~":
            n = 0
            for c in p[1:]:
                n = n * 62 + _b62(c)
            return str(620_000 + n)
        if p.isdigit():
            return str(int(p))
        if p[0].isalpha() and p[1:].isdigit():
            return str(_b62(p[0]) * 10_000 + int(p[1:]))
    if len(p) == 7 and p[0] in _CENTURY and p[1:3].isdigit() and p[3].isupper() and p[6].isalpha():
        year = _CENTURY[p[0]] + int(p[1:3])
        cycle = _b62(p[4]) * 10 + int(p[5])
        return f"{year} {p[3]}{p[6]}{cycle if cycle else ''}"
    raise InputError(f"{packed!r} is not a packed MPC designation")


def unpack_epoch(packed: str) -> tuple[int, int, int]:
    """'K2555' -> (2025, 5, 5): century letter, year, month and day in base 32 (1-9, A=10, ...)."""
    p = packed.strip()
    if len(p) != 5 or p[0] not in _CENTURY or not p[1:3].isdigit():
        raise InputError(f"{packed!r} is not a packed MPC epoch")
    return _CENTURY[p[0]] + int(p[1:3]), _b62(p[3]), _b62(p[4])


def read_mpcorb(text: str, source: str = "<MPCORB>") -> tuple[list[SmallBodyOrbit], list[RecordIssue]]:
    """Orbits from MPCORB one-line records; the header (up to the dashed line) and blank lines are
    skipped; each bad record is an issue naming line and field."""
    lines = text.splitlines()
    start = next((k + 1 for k, line in enumerate(lines) if line.startswith("-----")), 0)
    orbits: list[SmallBodyOrbit] = []
    issues: list[RecordIssue] = []
    fields = {
        "H": (8, 13),
        "M": (26, 35),
        "peri": (37, 46),
        "node": (48, 57),
        "incl": (59, 68),
        "e": (70, 79),
        "a": (92, 103),
    }
    for no, line in enumerate(lines[start:], start=start + 1):
        if not line.strip():
            continue
        field = "designation"
        try:
            des = unpack_designation(line[0:7])
            field = "epoch"
            y, m, d = unpack_epoch(line[20:25])
            epoch_jd = sum(datetime_to_jd(datetime(y, m, d, tzinfo=UTC)))
            values = {}
            for field, (a, b) in fields.items():
                text_value = line[a:b].strip()
                if field == "H" and not text_value:
                    values[field] = None
                    continue
                values[field] = float(text_value)
            field = "e"
            if not 0.0 <= values["e"] < 1.0:
                raise InputError(f"{values['e']} is not an elliptic eccentricity")
            readable = line[166:194].strip()
            orbits.append(
                SmallBodyOrbit(
                    designation=des,
                    name=readable.split(")", 1)[-1].strip() if readable.startswith("(") else "",
                    epoch_jd_tdb=epoch_jd,
                    a_au=values["a"],
                    e=values["e"],
                    i_deg=values["incl"],
                    om_deg=values["node"],
                    w_deg=values["peri"],
                    ma_deg=values["M"],
                    h_mag=values["H"],
                    orbit_id=line[107:116].strip(),
                    source=source,
                    line=no,
                )
            )
        except (ValueError, IndexError) as exc:
            issues.append(RecordIssue(source, no, field, str(exc) or "malformed"))
    return orbits, issues
