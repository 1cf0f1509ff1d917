"""MPC 80-column optical astrometry ("MPC1992" format), including two-line satellite and roving
observer records.

Columns (1-based; MPC, "Format for optical astrometric observations of comets, minor planets and
natural satellites"): packed number 1-5, packed provisional or temporary designation 6-12,
discovery asterisk 13, note 1 / program code 14, note 2 15, date "YYYY MM DD.dddddd" (UTC)
16-32, RA "HH MM SS.ddd" 33-44, Dec "sDD MM SS.dd" 45-56, magnitude 66-70, band 71,
astrometric catalog 72, reference 73-77, observatory code 78-80.

Second lines: a satellite observation ('S') is followed by an 's' line with the spacecraft's
geocentric J2000 equatorial position: column 33 gives the unit (1 km, 2 au), then X, Y and Z
signed in columns 35-45, 47-57, 59-69 (MPC, "Satellite observations"). A roving observer ('V')
is followed by a 'v' line with east longitude (deg), geodetic latitude (deg) and altitude (m)
after column 34 (MPC, "Roving observers"; WGS-84). The values are read as whitespace-separated
numbers with their signs, so a sign written apart from its number ("- 5634.1734") is accepted.

80-column radar records ('R'/'r') are reported, not read: radar is read from JPL's radar
astrometry files (``radar.py``).
"""

from __future__ import annotations

import re
from datetime import date

from ...constants import AU_KM
from ...errors import InputError, RecordIssue
from ..mpc import unpack_designation
from .model import MPC_CATALOG_CODES, OpticalObservation

JD_ORDINAL_OFFSET = 1721424.5  # Julian date of 0001-01-01 00:00 minus 1 (proleptic Gregorian ordinal)
_HEADER_KEYWORDS = {"COD", "CON", "OBS", "MEA", "TEL", "NET", "BND", "COM", "NUM", "ACK", "AC2"}
_SIGNED = re.compile(r"([+-]?)\s*(\d+(?:\.\d*)?|\.\d+)")


def calendar_to_jd(year: int, month: int, day: float) -> float:
    """Julian date of a (proleptic Gregorian) calendar date with a fractional day.

    >>> calendar_to_jd(2000, 1, 1.5)
    2451545.0
    """
    whole = int(day)
    if not 0 <= day - whole < 1:
        raise InputError(f"day {day} out of range")
    return date(year, month, whole).toordinal() + JD_ORDINAL_OFFSET + (day - whole)


def _designation(line: str) -> str:
    number, provisional = line[0:5].strip(), line[5:12].strip()
    if number:
        if number[:4].isdigit() and number[4:] in ("P", "C", "D", "X", "I", "A"):  # periodic comet: 0001P
            return f"{int(number[:4])}{number[4]}" + (f"/{provisional}" if provisional else "")
        return unpack_designation(number)
    if not provisional:
        raise InputError("no designation in columns 1-12")
    try:
        return unpack_designation(provisional)
    except InputError:
        return provisional  # a temporary designation, kept as the observer wrote it


def _sexagesimal(text: str, what: str, limit: float) -> tuple[float, int]:
    """'HH MM SS.ddd' (or 'HH MM.mmm') -> value in the first unit, and the decimals given."""
    parts = text.split()
    if not 2 <= len(parts) <= 3:
        raise InputError(f"{what} {text.strip()!r} is not 'hh mm ss.s'")
    whole = [float(p) for p in parts]
    if any(x < 0 for x in whole) or any(x >= 60 for x in whole[1:]) or whole[0] >= limit:
        raise InputError(f"{what} {text.strip()!r} out of range")
    value = whole[0] + whole[1] / 60 + (whole[2] / 3600 if len(whole) == 3 else 0.0)
    last = parts[-1]
    digits = len(last.split(".", 1)[1]) if "." in last else 0
    return value, digits


def _epoch(line: str) -> float:
    text = line[15:32]
    parts = text.split()
    if len(parts) != 3:
        raise InputError(f"{text.strip()!r} is not 'YYYY MM DD.ddddd'")
    return calendar_to_jd(int(parts[0]), int(parts[1]), float(parts[2]))


def _signed_numbers(text: str, count: int, what: str) -> list[float]:
    values = [float(sign + number) for sign, number in _SIGNED.findall(text)]
    if len(values) != count or _SIGNED.sub("", text).strip():
        raise InputError(f"{what}: expected {count} numbers, found {text.strip()!r}")
    return values


def _satellite_position_km(line: str) -> tuple[float, float, float]:
    unit = line[32]
    if unit not in "12":
        raise InputError(f"parallax unit {unit!r} in column 33 is not 1 (km) or 2 (au)")
    x, y, z = _signed_numbers(line[33:77], 3, "spacecraft X, Y, Z")
    scale = 1.0 if unit == "1" else AU_KM
    return (x * scale, y * scale, z * scale)


def _roving_itrf_km(line: str) -> tuple[float, float, float]:
    lon, lat, alt_m = _signed_numbers(line[33:77], 3, "roving observer longitude, latitude, altitude")
    if not (-360.0 <= lon <= 360.0 and -90.0 <= lat <= 90.0 and -1000.0 < alt_m < 10_000.0):
        raise InputError(f"roving observer ({lon}, {lat}, {alt_m} m) out of range")
    from ...frames import itrf_from_geodetic

    xyz = itrf_from_geodetic(lat, lon, alt_m / 1000.0)
    return (float(xyz[0]), float(xyz[1]), float(xyz[2]))


def _optional_float(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


def _first_line(line: str, source: str, no: int) -> tuple[OpticalObservation, str]:
    field = "designation"
    try:
        designation = _designation(line)
        field = "date"
        epoch = _epoch(line)
        field = "ra"
        ra_h, ra_digits = _sexagesimal(line[32:44], "RA", 24.0)
        field = "dec"
        sign = line[44]
        if sign not in "+- ":
            raise InputError(f"Dec sign {sign!r} in column 45 is not + or -")
        dec, dec_digits = _sexagesimal(line[45:56], "Dec", 90.0 + 1e-9)
        if dec > 90.0:
            raise InputError(f"Dec {dec} beyond the pole")
        field = "mag"
        mag = _optional_float(line[65:70])
        field = "station"
        station = line[77:80]
        if len(station.strip()) != 3:
            raise InputError(f"observatory code {station!r} in columns 78-80 is not three characters")
    except (ValueError, IndexError, OverflowError) as exc:
        raise _Bad(field, str(exc) or "malformed") from None
    catalog_code = line[71]
    obs = OpticalObservation(
        designation=designation,
        epoch_utc_jd=epoch,
        ra_deg=ra_h * 15.0,
        dec_deg=-dec if sign == "-" else dec,
        station=station,
        sigma_ra_arcsec=None,
        sigma_dec_arcsec=None,
        catalog=MPC_CATALOG_CODES.get(catalog_code, catalog_code) if catalog_code.strip() else None,
        mode=line[14] if line[14].strip() else "P",  # MPC: a blank note 2 means photographic
        observer_gcrs_km=None,
        source=f"{source}:{no}",
        mag=mag,
        band=line[70].strip() or None,
        note1=line[13].strip() or None,
        discovery=line[12] == "*",
        ra_digits=ra_digits,
        dec_digits=dec_digits,
    )
    return obs, field


class _Bad(Exception):
    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message


def read_mpc80(text: str, source: str = "<mpc80>") -> tuple[list[OpticalObservation], list[RecordIssue]]:
    """Optical observations from MPC 80-column records, and one issue (file, line, field) per bad
    record; the good records land. Blank lines and MPC1992 header lines (``COD``, ``OBS``, ...)
    are skipped."""
    observations: list[OpticalObservation] = []
    issues: list[RecordIssue] = []
    lines = text.splitlines()
    k = 0
    while k < len(lines):
        no, line = k + 1, lines[k].rstrip("\r\n")
        k += 1
        if not line.strip() or (line[:3] in _HEADER_KEYWORDS and line[3:4] == " "):
            continue
        if len(line.rstrip()) > 80 or len(line) < 80:
            if len(line) < 80 and len(line) >= 77:
                line = line.ljust(80)
            else:
                issues.append(RecordIssue(source, no, "line", f"{len(line)} columns; an 80-column record has 80"))
                continue
        note2 = line[14]
        if note2 in "Rr":
            issues.append(
                RecordIssue(source, no, "note2", "80-column radar records are not read; use JPL radar astrometry")
            )
            continue
        if note2 in "svr":
            issues.append(RecordIssue(source, no, "note2", f"second line {note2!r} without its first line"))
            continue
        try:
            obs, _ = _first_line(line, source, no)
        except _Bad as bad:
            issues.append(RecordIssue(source, no, bad.field, bad.message))
            if note2 in "SV" and k < len(lines) and lines[k][14:15] in ("s", "v"):
                k += 1  # the second line belongs to the bad record
            continue
        if note2 in "SV":
            want = note2.lower()
            if k >= len(lines) or lines[k][14:15] != want:
                issues.append(RecordIssue(source, no, "second line", f"{note2!r} record without its {want!r} line"))
                continue
            second = lines[k].rstrip("\r\n").ljust(80)
            k += 1
            if second[:14] != line[:14] or second[15:32] != line[15:32] or second[77:80] != line[77:80]:
                issues.append(
                    RecordIssue(
                        source, no + 1, "second line", "designation, date or station differ from the first line"
                    )
                )
                continue
            try:
                if want == "s":
                    obs = _replace(obs, observer_gcrs_km=_satellite_position_km(second))
                else:
                    obs = _replace(obs, observer_itrf_km=_roving_itrf_km(second))
            except (ValueError, IndexError, OverflowError) as exc:
                issues.append(RecordIssue(source, no + 1, "observer position", str(exc) or "malformed"))
                continue
        observations.append(obs)
    return observations, issues


def _replace(obs: OpticalObservation, **changes) -> OpticalObservation:
    from dataclasses import replace

    return replace(obs, **changes)
