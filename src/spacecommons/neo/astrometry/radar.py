"""JPL radar astrometry: round-trip delay and Doppler measurements of small bodies.

One record per line, tab- or space-separated (JPL SSD "Small-Body Radar Astrometry" table and
its API fields ``des, epoch, value, sigma, units, freq, rcvr, xmit, bp``): object name, UTC
receive time "YYYY-MM-DD HH:MM:SS", value, 1-sigma, units (``us`` round-trip delay in
microseconds, ``Hz`` Doppler shift), transmitter frequency (MHz), receiver and transmitter
(MPC codes, e.g. 251 Arecibo, 253 Goldstone DSS-14), bounce point (``C`` centre of mass,
``P`` peak power). Delays are returned in seconds, Doppler shifts in Hz.
"""

from __future__ import annotations

import math
import re

from ...errors import InputError, RecordIssue
from .model import RadarObservation
from .mpc80 import calendar_to_jd

MICROSECOND_S = 1e-6
_RECORD = re.compile(
    r"^(?P<name>.+?)\s+(?P<date>\d{4}-\d\d-\d\d)[ T](?P<time>\d\d:\d\d:\d\d(?:\.\d*)?)\s+(?P<value>\S+)\s+"
    r"(?P<sigma>\S+)\s+(?P<units>\S+)\s+(?P<freq>\S+)\s+(?P<rcvr>\S+)\s+(?P<xmit>\S+)\s+(?P<bp>\S+)\s*$"
)
_NUMBERED = re.compile(r"^(\d+)(?:\s|$)")
_PROVISIONAL = re.compile(r"^(\d{4} [A-Z]{2}\d*)(?:\s|$)")


def radar_designation(name: str) -> str:
    """'99942 Apophis (2004 MN4)' -> '99942'; '2005 YU55' -> '2005 YU55'; otherwise the name."""
    name = name.strip()
    for pattern in (_PROVISIONAL, _NUMBERED):
        m = pattern.match(name)
        if m:
            return m.group(1)
    return name


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(f"{what} {text!r} is not finite")
    return value


def _record(m: re.Match, source: str, no: int) -> RadarObservation:
    field = "epoch"
    try:
        y, mo, d = (int(x) for x in m["date"].split("-"))
        hh, mm, ss = m["time"].split(":")
        if int(hh) > 23 or int(mm) > 59 or float(ss) >= 61:
            raise InputError(f"time {m['time']!r} out of range")
        epoch = calendar_to_jd(y, mo, d) + (int(hh) * 3600 + int(mm) * 60 + float(ss)) / 86_400.0
        field = "units"
        units = m["units"]
        if units not in ("us", "Hz"):
            raise InputError(f"{units!r} is not 'us' (delay) or 'Hz' (Doppler)")
        field = "value"
        value = _number(m["value"], "value")
        field = "sigma"
        sigma = _number(m["sigma"], "sigma")
        if sigma <= 0:
            raise InputError(f"{sigma} is not positive")
        field = "frequency"
        freq = _number(m["freq"], "frequency")
        if freq <= 0:
            raise InputError(f"{freq} MHz is not positive")
        field = "bounce point"
        if m["bp"] not in ("C", "P"):
            raise InputError(f"{m['bp']!r} is not C (centre of mass) or P (peak power)")
        field = "value"
        if units == "us" and value <= 0:
            raise InputError(f"delay {value} us is not positive")
    except (ValueError, OverflowError) as exc:
        raise _Bad(field, str(exc)) from None
    scale = MICROSECOND_S if units == "us" else 1.0
    return RadarObservation(
        designation=radar_designation(m["name"]),
        epoch_utc_jd=epoch,
        kind="delay" if units == "us" else "doppler",
        value=value * scale,
        sigma=sigma * scale,
        frequency_mhz=freq,
        transmitter=m["xmit"],
        receiver=m["rcvr"],
        source=f"{source}:{no}",
        bounce_point=m["bp"],
    )


class _Bad(Exception):
    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message


def read_jpl_radar(text: str, source: str = "<radar>") -> tuple[list[RadarObservation], list[RecordIssue]]:
    """Radar observations from JPL radar astrometry lines, and one issue (file, line, field) per
    bad record; blank lines and ``#`` comments are skipped."""
    observations: list[RadarObservation] = []
    issues: list[RecordIssue] = []
    for no, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _RECORD.match(line.strip())
        if m is None:
            issues.append(
                RecordIssue(source, no, "record", "expected: name, date time, value, sigma, units, MHz, rcvr, xmit, bp")
            )
            continue
        try:
            observations.append(_record(m, source, no))
        except _Bad as bad:
            issues.append(RecordIssue(source, no, bad.field, bad.message))
    return observations, issues
