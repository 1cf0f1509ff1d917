"""ADES optical astrometry (IAU Astrometry Data Exchange Standard), PSV and XML, in and out.

Read: ``permID``/``provID``/``trkSub``, ``obsTime`` (ISO-8601 UTC), ``ra``/``dec`` (deg),
``rmsRA`` (of RA·cos Dec) and ``rmsDec`` (arcsec), ``rmsCorr``, ``rmsTime`` (s), ``astCat``,
``mode``, ``stn``, ``mag``, ``band``, ``disc``, ``prog``, and for observers not fixed on the Earth
``sys``/``ctr``/``pos1..3``/``vel1..3`` (``ICRF_KM`` or ``ICRF_AU`` about ``ctr`` 399: spacecraft;
``WGS84``: east longitude deg, latitude deg, altitude m: roving). Reference: ADES description
(MPC/IAU Commission 20, "ADES", version 2017/2022). ADES radar records are reported, not read
(radar comes from JPL's radar astrometry, ``radar.py``). XML is parsed with ``defusedxml``
(untrusted input: no entity expansion, no external references).

Write: ``write_ades_psv`` gives a PSV block that :func:`read_ades` reads back to the same
observations (RA/Dec to 1e-9 deg, time to 1 µs).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ...constants import AU_KM
from ...errors import InputError, RecordIssue
from ...timescales import jd_to_iso, parse_utc
from .model import ADES_MODE_TO_NOTE2, OpticalObservation

_NOTE2_TO_ADES_MODE = {v: k for k, v in ADES_MODE_TO_NOTE2.items()}
PSV_FIELDS = (
    "permID", "provID", "trkSub", "mode", "stn", "obsTime", "ra", "dec", "rmsRA", "rmsDec", "rmsCorr",
    "rmsTime", "astCat", "mag", "band", "disc", "prog", "sys", "ctr", "pos1", "pos2", "pos3", "vel1",
    "vel2", "vel3",
)  # fmt: skip


@dataclass
class _Record:
    line: int
    values: dict[str, str] = field(default_factory=dict)


def _jd(text: str) -> float:
    t = parse_utc(text)
    midnight = t.replace(hour=0, minute=0, second=0, microsecond=0)
    from .mpc80 import calendar_to_jd

    return calendar_to_jd(t.year, t.month, t.day) + (t - midnight).total_seconds() / 86_400.0


def _float(values: dict[str, str], key: str, required: bool = False) -> float | None:
    text = values.get(key, "").strip()
    if not text:
        if required:
            raise _Bad(key, "missing")
        return None
    try:
        value = float(text)
    except ValueError:
        raise _Bad(key, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise _Bad(key, f"{text!r} is not finite")
    return value


class _Bad(Exception):
    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message


def _observer(values: dict[str, str]) -> tuple[tuple | None, tuple | None, tuple | None, str | None]:
    """(gcrs_km, gcrs_km_s, itrf_km, mode override) from sys/ctr/pos/vel."""
    system = values.get("sys", "").strip()
    if not system:
        return None, None, None, None
    pos = tuple(_float(values, f"pos{k}", required=True) for k in (1, 2, 3))
    if system in ("ICRF_KM", "ICRF_AU"):
        ctr = values.get("ctr", "399").strip() or "399"
        if ctr != "399":
            raise _Bad("ctr", f"spacecraft positions about body {ctr} are not supported (only 399, the Earth)")
        scale = 1.0 if system == "ICRF_KM" else AU_KM
        vel_values = [_float(values, f"vel{k}") for k in (1, 2, 3)]
        vel = None
        if all(v is not None for v in vel_values):
            vscale = 1.0 if system == "ICRF_KM" else AU_KM / 86_400.0  # ADES: km/s or au/day
            vel = tuple(v * vscale for v in vel_values)
        return tuple(p * scale for p in pos), vel, None, "S"
    if system == "WGS84":
        lon, lat, alt_m = pos
        if not (-360.0 <= lon <= 360.0 and -90.0 <= lat <= 90.0 and -1000.0 < alt_m < 10_000.0):
            raise _Bad("pos1", f"WGS84 position ({lon}, {lat}, {alt_m} m) out of range")
        from ...frames import itrf_from_geodetic

        xyz = itrf_from_geodetic(lat, lon, alt_m / 1000.0)
        return None, None, (float(xyz[0]), float(xyz[1]), float(xyz[2])), "V"
    raise _Bad("sys", f"{system!r} is not ICRF_KM, ICRF_AU or WGS84")


def _observation(rec: _Record, source: str) -> OpticalObservation:
    v = rec.values
    designation = next((v[k].strip() for k in ("permID", "provID", "trkSub") if v.get(k, "").strip()), "")
    if not designation:
        raise _Bad("permID", "no permID, provID or trkSub")
    text = v.get("obsTime", "").strip()
    if not text:
        raise _Bad("obsTime", "missing")
    try:
        epoch = _jd(text)
    except (ValueError, OverflowError) as exc:
        raise _Bad("obsTime", str(exc)) from None
    ra = _float(v, "ra", required=True)
    dec = _float(v, "dec", required=True)
    if not 0.0 <= ra < 360.0:
        raise _Bad("ra", f"{ra} outside [0, 360)")
    if not -90.0 <= dec <= 90.0:
        raise _Bad("dec", f"{dec} outside [-90, 90]")
    sigmas = {}
    for key in ("rmsRA", "rmsDec", "rmsTime"):
        sigmas[key] = _float(v, key)
        if sigmas[key] is not None and sigmas[key] <= 0:
            raise _Bad(key, f"{sigmas[key]} is not positive")
    corr = _float(v, "rmsCorr")
    if corr is not None and not -1.0 <= corr <= 1.0:
        raise _Bad("rmsCorr", f"{corr} outside [-1, 1]")
    station = v.get("stn", "").strip()
    if not station:
        raise _Bad("stn", "missing")
    gcrs, gcrs_v, itrf, mode_override = _observer(v)
    mode = v.get("mode", "").strip() or None
    if mode_override:
        mode = mode_override
    elif mode:
        mode = ADES_MODE_TO_NOTE2.get(mode, mode)
    return OpticalObservation(
        designation=designation,
        epoch_utc_jd=epoch,
        ra_deg=ra,
        dec_deg=dec,
        station=station,
        sigma_ra_arcsec=sigmas["rmsRA"],
        sigma_dec_arcsec=sigmas["rmsDec"],
        catalog=v.get("astCat", "").strip() or None,
        mode=mode,
        observer_gcrs_km=gcrs,
        source=f"{source}:{rec.line}",
        observer_gcrs_km_s=gcrs_v,
        observer_itrf_km=itrf,
        sigma_corr=corr,
        sigma_time_s=sigmas["rmsTime"],
        mag=_float(v, "mag"),
        band=v.get("band", "").strip() or None,
        note1=v.get("prog", "").strip() or None,
        discovery=v.get("disc", "").strip() == "*",
    )


def _psv_records(text: str, source: str, issues: list[RecordIssue]) -> list[_Record]:
    records: list[_Record] = []
    header: list[str] | None = None
    for no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if line.lstrip().startswith(("#", "!")):
            header = None  # a new block: its field line follows
            continue
        cells = [c.strip() for c in line.split("|")]
        if header is None:
            header = cells
            if "obsTime" not in header:
                issues.append(RecordIssue(source, no, "header", "the field line of a PSV block must name obsTime"))
                header = None
            continue
        if len(cells) != len(header):
            issues.append(RecordIssue(source, no, "fields", f"{len(cells)} fields, the header has {len(header)}"))
            continue
        records.append(_Record(no, dict(zip(header, cells, strict=True))))
    return records


def _xml_records(text: str, source: str, issues: list[RecordIssue]) -> list[_Record]:
    import xml.sax

    import defusedxml.sax
    from defusedxml import DefusedXmlException

    records: list[_Record] = []

    class Handler(xml.sax.handler.ContentHandler):
        def __init__(self) -> None:
            super().__init__()
            self.locator = None
            self.record: _Record | None = None
            self.key: str | None = None
            self.text: list[str] = []

        def setDocumentLocator(self, locator):  # noqa: N802 (SAX API)
            self.locator = locator

        def startElement(self, name, attrs):  # noqa: N802
            name = name.rsplit(":", 1)[-1]
            line = self.locator.getLineNumber() if self.locator else 0
            if name == "optical":
                self.record = _Record(line)
            elif name == "radar":
                issues.append(RecordIssue(source, line, "radar", "ADES radar records are not read; use JPL radar"))
            elif self.record is not None:
                self.key, self.text = name, []

        def characters(self, content):
            if self.key is not None:
                self.text.append(content)

        def endElement(self, name):  # noqa: N802
            name = name.rsplit(":", 1)[-1]
            if name == "optical" and self.record is not None:
                records.append(self.record)
                self.record = None
            elif self.record is not None and name == self.key:
                self.record.values[name] = "".join(self.text).strip()
                self.key = None

    handler = Handler()
    try:
        defusedxml.sax.parseString(text.encode("utf-8"), handler)
    except xml.sax.SAXParseException as exc:
        issues.append(RecordIssue(source, exc.getLineNumber(), "xml", exc.getMessage()))
    except DefusedXmlException as exc:
        issues.append(RecordIssue(source, 1, "xml", f"refused: {exc}"))
    return records


def read_ades(text: str, source: str = "<ades>") -> tuple[list[OpticalObservation], list[RecordIssue]]:
    """Optical observations from ADES PSV or XML (chosen by content), and one issue (file, line,
    field) per bad record; the good records land."""
    issues: list[RecordIssue] = []
    head = text.lstrip("\ufeff \t\r\n")
    records = _xml_records(head, source, issues) if head.startswith("<") else _psv_records(text, source, issues)
    observations = []
    for rec in records:
        try:
            observations.append(_observation(rec, source))
        except _Bad as bad:
            issues.append(RecordIssue(source, rec.line, bad.field, bad.message))
    return observations, issues


def _itrf_to_wgs84(xyz: Sequence[float]) -> tuple[float, float, float]:
    """ITRF km -> WGS-84 east longitude (deg, 0..360), geodetic latitude (deg), height (m), the
    order and units of ADES ``pos1..3`` (``frames.geodetic_from_itrf``)."""
    from ...frames import geodetic_from_itrf

    lat, lon, h = geodetic_from_itrf(xyz)
    return float(lon) % 360.0, float(lat), float(h) * 1000.0


def _designation_fields(designation: str) -> tuple[str, str, str]:
    if designation.isdigit():
        return designation, "", ""
    parts = designation.split()
    if len(parts) == 2 and parts[0].isdigit() and len(parts[0]) == 4:
        return "", designation, ""
    return "", "", designation


def _fmt(value: float | None, spec: str) -> str:
    return "" if value is None else format(value, spec)


def _ra_text(ra_deg: float) -> str:
    text = format(ra_deg % 360.0, ".10f")
    return "0.0000000000" if float(text) >= 360.0 else text  # 359.99999999999 rounds to 360


def write_ades_psv(observations: Iterable[OpticalObservation]) -> str:
    """An ADES PSV block (version 2022) of the observations; :func:`read_ades` reads it back."""
    lines = ["# version=2022", "|".join(PSV_FIELDS)]
    for o in observations:
        perm, prov, trk = _designation_fields(o.designation)
        jd = math.floor(o.epoch_utc_jd - 0.5) + 0.5
        system = ctr = ""
        pos = vel = ("", "", "")
        mode = _NOTE2_TO_ADES_MODE.get(o.mode or "", o.mode or "")
        if o.observer_gcrs_km is not None:
            system, ctr, mode = "ICRF_KM", "399", "UNK"
            pos = tuple(format(c, ".6f") for c in o.observer_gcrs_km)
            if o.observer_gcrs_km_s is not None:
                vel = tuple(format(c, ".9f") for c in o.observer_gcrs_km_s)
        elif o.observer_itrf_km is not None:
            system, mode = "WGS84", "UNK"
            lon, lat, h = _itrf_to_wgs84(o.observer_itrf_km)
            pos = (format(lon, ".9f"), format(lat, ".9f"), format(h, ".4f"))
        if mode in ("S", "V", "P") and o.observer_gcrs_km is None and o.observer_itrf_km is None:
            mode = {"P": "PHO"}.get(mode, "UNK")
        row = {
            "permID": perm,
            "provID": prov,
            "trkSub": trk,
            "mode": mode,
            "stn": o.station,
            "obsTime": jd_to_iso(jd, o.epoch_utc_jd - jd, 6),
            "ra": _ra_text(o.ra_deg),
            "dec": format(o.dec_deg, "+.10f"),
            "rmsRA": _fmt(o.sigma_ra_arcsec, ".6g"),
            "rmsDec": _fmt(o.sigma_dec_arcsec, ".6g"),
            "rmsCorr": _fmt(o.sigma_corr, ".6g"),
            "rmsTime": _fmt(o.sigma_time_s, ".6g"),
            "astCat": o.catalog or "",
            "mag": _fmt(o.mag, ".2f"),
            "band": o.band or "",
            "disc": "*" if o.discovery else "",
            "prog": o.note1 or "",
            "sys": system,
            "ctr": ctr,
            "pos1": pos[0],
            "pos2": pos[1],
            "pos3": pos[2],
            "vel1": vel[0],
            "vel2": vel[1],
            "vel3": vel[2],
        }
        cells = [row[k] for k in PSV_FIELDS]
        if any("|" in c or "\n" in c for c in cells):
            raise InputError(f"{o.source}: a field contains '|' or a line break and cannot be written as PSV")
        lines.append("|".join(cells))
    return "\n".join(lines) + "\n"
