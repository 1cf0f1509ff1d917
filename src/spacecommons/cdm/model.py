"""The CDM as an ordered list of items per section, so that nothing read is lost on writing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from ..errors import InputError, RecordError
from . import keywords as kw


class CdmError(RecordError):
    """A malformed CDM: names the source, line and keyword."""


@dataclass(frozen=True)
class Item:
    """``KEY = value [unit]`` or a comment (key ``COMMENT``); ``line`` where it was read."""

    key: str
    value: str
    unit: str | None = None
    line: int = 0


@dataclass
class Cdm:
    """Sections: ``header``, ``relative`` (relative metadata/data), ``objects`` (two lists)."""

    header: list[Item] = field(default_factory=list)
    relative: list[Item] = field(default_factory=list)
    objects: list[list[Item]] = field(default_factory=lambda: [[], []])
    source: str = "<cdm>"
    warnings: list[str] = field(default_factory=list)

    # -- access -------------------------------------------------------------------------
    def _find(self, items: list[Item], key: str) -> Item | None:
        return next((i for i in items if i.key == key), None)

    def get(self, key: str, obj: int | None = None) -> str | None:
        """Value text of a keyword in the header/relative section, or in object 1 or 2."""
        items = self.objects[obj - 1] if obj else self.header + self.relative
        item = self._find(items, key)
        return item.value if item else None

    def number(self, key: str, obj: int | None = None) -> float:
        """Numeric value in the standard unit of the keyword (CDM values are in standard units)."""
        text = self.get(key, obj)
        if text is None:
            raise KeyError(key)
        return float(text)

    def comments(self, obj: int | None = None) -> list[str]:
        items = self.objects[obj - 1] if obj else self.header + self.relative
        return [i.value for i in items if i.key == "COMMENT"]

    @property
    def tca(self) -> datetime:
        return parse_cdm_time(self.get("TCA") or "")

    def state_km(self, obj: int) -> tuple[np.ndarray, np.ndarray]:
        """Position (km) and velocity (km/s) of object 1 or 2 in its REF_FRAME."""
        r = np.array([self.number(k, obj) for k in kw.STATE[:3]])
        v = np.array([self.number(k, obj) for k in kw.STATE[3:]])
        return r, v

    def covariance_rtn(self, obj: int, size: int = 6) -> np.ndarray:
        """Symmetric RTN covariance (m, m/s units as in the CDM), 6x6 or up to 9x9 if present."""
        n = size
        out = np.full((n, n), np.nan)
        names = kw.COVARIANCE
        k = 0
        for i in range(9):
            for j in range(i + 1):
                if i < n and j < n:
                    text = self.get(names[k], obj)
                    if text is not None:
                        out[i, j] = out[j, i] = float(text)
                k += 1
        return out

    def hbr_m(self) -> float | None:
        """Hard-body radius from the ``COMMENT HBR = 10 [m]`` convention (CARA), if present."""
        for text in self.comments() + self.comments(1) + self.comments(2):
            m = re.match(r"\s*HBR\s*=\s*([0-9.eE+-]+)\s*(?:\[(\w+)\])?", text)
            if m:
                value = float(m.group(1))
                return value * 1000.0 if (m.group(2) or "m").lower() == "km" else value
        return None

    # -- checks ---------------------------------------------------------------------------
    def validate(self, strict: bool = False) -> None:
        """Mandatory keywords present, numbers and times parse, units standard.

        Raises :class:`CdmError` naming line and keyword. A unit of the right dimension but the
        wrong scale (``[km]`` for metres) is always an error: the value would be misread 1000-fold.
        Mislabels seen in real operational messages (``[m]`` on a velocity, an empty optional
        time) are kept as ``warnings`` unless ``strict``."""
        for items in (self.header, self.relative, *self.objects):
            for n, item in enumerate(items):
                warning = check_item(item, self.source)
                if not warning:
                    continue
                if strict:
                    raise CdmError(self.source, item.line, item.key, warning)
                self.warnings.append(f"{self.source}:{item.line}: {item.key}: {warning}")
                if item.unit is not None and item.key in kw.UNITS:
                    # the value is read in the standard unit: say so when writing it out
                    items[n] = Item(item.key, item.value, kw.UNITS[item.key], item.line)
        for key in kw.MANDATORY_HEADER:
            if self._find(self.header, key) is None:
                raise CdmError(self.source, 0, key, "mandatory header keyword missing")
        for key in kw.MANDATORY_RELATIVE:
            if self._find(self.relative, key) is None:
                raise CdmError(self.source, 0, key, "mandatory relative metadata/data keyword missing")
        for n, items in enumerate(self.objects, start=1):
            if not items:
                raise CdmError(self.source, 0, "OBJECT", f"OBJECT{n} section missing")
            last = items[-1].line
            for key in kw.MANDATORY_OBJECT:
                if self._find(items, key) is None:
                    what = "covariance truncated" if key in kw.COVARIANCE else "mandatory keyword missing"
                    raise CdmError(self.source, last, key, f"OBJECT{n}: {what}")


def check_item(item: Item, source: str) -> str | None:
    """Raise for errors; return a warning text for tolerated deviations."""
    if item.key == "COMMENT":
        return None
    if item.key not in kw.BLOCKS and item.key != "CCSDS_CDM_VERS":
        raise CdmError(source, item.line, item.key, "not a CDM 1.0 keyword")
    if item.value == "":
        if item.key in kw.MANDATORY_OBJECT or item.key in kw.MANDATORY_RELATIVE or item.key in kw.MANDATORY_HEADER:
            raise CdmError(source, item.line, item.key, "mandatory keyword has no value")
        return "empty value (ignored)"
    if item.key in kw.NUMERIC:
        try:
            float(item.value)
        except ValueError as exc:
            raise CdmError(source, item.line, item.key, f"{item.value!r} is not a number") from exc
    if item.key in kw.TIMES:
        try:
            parse_cdm_time(item.value)
        except ValueError as exc:
            raise CdmError(source, item.line, item.key, f"{item.value!r} is not a CCSDS time") from exc
    expected = kw.UNITS.get(item.key)
    if item.unit is not None and expected and item.unit != expected:
        if item.unit.replace("km", "m") == expected or item.unit == expected.replace("km", "m"):
            raise CdmError(
                source,
                item.line,
                item.key,
                f"unit [{item.unit}] where the standard requires [{expected}]: the value would be misread",
            )
        return f"unit [{item.unit}] where the standard requires [{expected}]; value read in [{expected}]"
    return None


_DOY = re.compile(r"^(\d{4})-(\d{3})T(\d{2}):(\d{2}):(\d{2}(?:\.\d+)?)$")
_CAL = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2}(?:\.\d+)?)$")


def parse_cdm_time(text: str) -> datetime:
    """CCSDS ASCII time, calendar ``2010-03-13T22:37:52.618`` or day-of-year ``2018-229T13:56:33.000`` (UTC)."""
    s = text.strip().rstrip("Zz")
    m = _CAL.match(s)
    if m:
        y, mo, d, hh, mi, ss = m.groups()
        base = datetime(int(y), int(mo), int(d), int(hh), int(mi), tzinfo=UTC)
        return base + timedelta(seconds=float(ss))
    m = _DOY.match(s)
    if m:
        y, doy, hh, mi, ss = m.groups()
        base = datetime(int(y), 1, 1, int(hh), int(mi), tzinfo=UTC) + timedelta(days=int(doy) - 1)
        return base + timedelta(seconds=float(ss))
    raise InputError(f"not a CCSDS time: {text!r}")
