"""OEM and OPM in KVN (CCSDS 502.0-B-2 and B-3): read naming line and keyword, write in the standard's order."""

from __future__ import annotations

import re

import numpy as np

from ..textguard import kvn_safe
from .keywords import (
    COVARIANCE_KEYS,
    HEADER_KEYS,
    KEPLERIAN_KEYS,
    MANEUVER_KEYS,
    METADATA_KEYS,
    OEM_METADATA_KEYS,
    OEM_REQUIRED_METADATA,
    REQUIRED_METADATA,
    SPACECRAFT_KEYS,
    STATE_KEYS,
    UNITS,
    VERSIONS,
)
from .model import (
    Covariance,
    Item,
    OdmError,
    Oem,
    OemSegment,
    Opm,
    check_header,
    check_metadata,
    covariance_fields,
    covariance_from_terms,
    epoch_to_jd,
    format_number,
    lower_to_matrix,
    maneuver_fields,
    maneuver_from,
    maneuver_value,
    number,
    state_fields,
)

_LINE = re.compile(r"^([A-Z0-9_]+)\s*=\s*(.*?)\s*(?:\[([^\]]*)\])?\s*$")


def _check_unit(key: str, unit: str | None, source: str, line: int) -> None:
    if unit is None:
        return
    expected = UNITS.get(key)
    if expected is None or unit.strip().lower() != expected.lower():
        raise OdmError(source, line, key, f"unit [{unit}] where the standard has [{expected or 'none'}]")


def _tokens(text: str, source: str):
    """(line number, stripped line) of the non-blank lines."""
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line:
            yield no, line


def _kv(line: str, no: int, source: str) -> tuple[str, str, str | None]:
    m = _LINE.match(line)
    if not m:
        raise OdmError(source, no, line.split("=")[0].strip()[:40] or "?", "expected KEY = value [unit]")
    return m.group(1), m.group(2), m.group(3)


def _header(lines: list[tuple[int, str]], pos: int, kind: str, source: str) -> tuple[list[Item], int]:
    """Header items from ``lines[pos:]``; returns them and the index of the first line after."""
    key_vers = f"CCSDS_{kind}_VERS"
    if pos >= len(lines):
        raise OdmError(source, 1, key_vers, "empty message")
    no, line = lines[pos]
    key, value, _ = _kv(line, no, source) if not line.startswith("COMMENT") else ("COMMENT", "", None)
    if key != key_vers:
        raise OdmError(source, no, key, f"the message must start with {key_vers}")
    if value not in VERSIONS:
        raise OdmError(source, no, key, f"version {value!r}; this reader knows {', '.join(VERSIONS)}")
    header = [Item(key, value, no)]
    pos += 1
    while pos < len(lines):
        no, line = lines[pos]
        if line.startswith("COMMENT"):
            if any(i.key == "ORIGINATOR" for i in header):
                break  # comments after the header belong to what follows
            header.append(Item("COMMENT", line[7:].strip(), no))
        else:
            if line == "META_START":
                break
            key, value, _ = _kv(line, no, source)
            if key not in HEADER_KEYS:
                break
            if key == "CREATION_DATE":
                epoch_to_jd(value, source, no, key)
            header.append(Item(key, value, no))
        pos += 1
    check_header(header, source, header[-1].line)
    return header, pos


# -- OEM ---------------------------------------------------------------------------------------
def read_oem_kvn(text: str, source: str = "<oem>") -> Oem:
    """Parse a KVN OEM (versions 1.0-3.0); raises :class:`OdmError` naming line and keyword."""
    lines = list(_tokens(text, source))
    header, pos = _header(lines, 0, "OEM", source)
    segments: list[OemSegment] = []
    while pos < len(lines):
        no, line = lines[pos]
        if line.startswith("COMMENT") and not segments:
            header.append(Item("COMMENT", line[7:].strip(), no))
            pos += 1
            continue
        if line != "META_START":
            raise OdmError(source, no, line.split("=")[0].split()[0][:40], "expected META_START")
        seg, pos = _oem_segment(lines, pos + 1, no, source)
        segments.append(seg)
    if not segments:
        raise OdmError(source, lines[-1][0], "META_START", "an OEM needs at least one segment")
    return Oem(header, segments, source)


def _oem_segment(lines: list[tuple[int, str]], pos: int, start_no: int, source: str) -> tuple[OemSegment, int]:
    meta: list[Item] = []
    while True:
        if pos >= len(lines):
            raise OdmError(source, start_no, "META_STOP", "metadata block not closed")
        no, line = lines[pos]
        pos += 1
        if line == "META_STOP":
            break
        if line.startswith("COMMENT"):
            meta.append(Item("COMMENT", line[7:].strip(), no))
            continue
        key, value, _ = _kv(line, no, source)
        if key not in OEM_METADATA_KEYS:
            raise OdmError(source, no, key, "not an OEM metadata keyword")
        meta.append(Item(key, value, no))
    check_metadata(meta, OEM_REQUIRED_METADATA, source, start_no)
    comments: list[str] = []
    epochs: list[str] = []
    rows: list[list[float]] = []
    covs: list[Covariance] = []
    while pos < len(lines):
        no, line = lines[pos]
        if line == "META_START":
            break
        pos += 1
        if line.startswith("COMMENT"):
            comments.append(line[7:].strip())
            continue
        if line == "COVARIANCE_START":
            covs, pos = _oem_covariances(lines, pos, no, source)
            continue
        parts = line.split()
        if "=" in line:
            raise OdmError(source, no, parts[0][:40], "a keyword inside the ephemeris data (missing META_START?)")
        epoch_to_jd(parts[0], source, no, "EPOCH")
        if len(parts) not in (7, 10):
            raise OdmError(
                source, no, "EPOCH", f"{len(parts) - 1} values; an ephemeris line has 6 (or 9 with accelerations)"
            )
        epochs.append(parts[0])
        rows.append(
            [number(p, source, no, STATE_KEYS[min(k, 5)] if k < 6 else "ACCELERATION") for k, p in enumerate(parts[1:])]
        )
    if not rows:
        raise OdmError(source, start_no, "DATA", "segment without ephemeris lines")
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        raise OdmError(source, start_no, "DATA", "some lines have accelerations and some do not")
    data = np.array(rows)
    acc = data[:, 6:9] if data.shape[1] == 9 else None
    return OemSegment(meta, epochs, data[:, :6], acc, covs, comments), pos


def _oem_covariances(
    lines: list[tuple[int, str]], pos: int, start_no: int, source: str
) -> tuple[list[Covariance], int]:
    covs: list[Covariance] = []
    pending: list[str] = []
    current: dict | None = None

    def close(no: int) -> None:
        if current is None:
            return
        if len(current["values"]) != 21:
            raise OdmError(source, no, "COVARIANCE", f"{len(current['values'])} values; a 6x6 lower triangle has 21")
        covs.append(
            Covariance(
                lower_to_matrix(np.array(current["values"])), current["epoch"], current["frame"], current["comments"]
            )
        )

    row = 0
    while True:
        if pos >= len(lines):
            raise OdmError(source, start_no, "COVARIANCE_STOP", "covariance block not closed")
        no, line = lines[pos]
        pos += 1
        if line == "COVARIANCE_STOP":
            close(no)
            return covs, pos
        if line.startswith("COMMENT"):
            pending.append(line[7:].strip())
            continue
        if "=" in line:
            key, value, _ = _kv(line, no, source)
            if key == "EPOCH":
                close(no)
                epoch_to_jd(value, source, no, key)
                current = {"epoch": value, "frame": None, "values": [], "comments": pending}
                pending, row = [], 0
            elif key == "COV_REF_FRAME" and current is not None and not current["values"]:
                current["frame"] = value
            else:
                raise OdmError(source, no, key, "expected EPOCH, COV_REF_FRAME or a covariance row")
            continue
        if current is None:
            raise OdmError(source, no, "EPOCH", "covariance rows before EPOCH")
        row += 1
        parts = line.split()
        if row > 6 or len(parts) != row:
            raise OdmError(
                source, no, "COVARIANCE", f"row {row} of the lower triangle has {row} values, found {len(parts)}"
            )
        current["values"] += [
            number(p, source, no, COVARIANCE_KEYS[len(current["values"]) + k]) for k, p in enumerate(parts)
        ]


def _comment(text: str) -> str:
    return f"COMMENT {kvn_safe(text)}".rstrip()


def _kv_line(key: str, value: str) -> str:
    unit = UNITS.get(key)
    return f"{key:<20} = {kvn_safe(value)}" + (f" [{unit}]" if unit else "")


def _items_lines(items: list[Item]) -> list[str]:
    """Comments and ``KEY = value [unit]`` lines (header, metadata and user-defined keywords have no unit)."""
    return [_comment(i.value) if i.key == "COMMENT" else _kv_line(i.key, i.value) for i in items]


def write_oem_kvn(oem: Oem) -> str:
    """KVN text: header, then per segment META_START..META_STOP, ephemeris lines and covariances."""
    out = _items_lines(oem.header)
    for seg in oem.segments:
        out += ["", "META_START", *_items_lines(seg.metadata), "META_STOP", ""]
        out += [_comment(c) for c in seg.comments]
        for k, epoch in enumerate(seg.epochs):
            values = list(seg.states[k])
            if seg.accelerations is not None:
                values += list(seg.accelerations[k])
            out.append(" ".join([kvn_safe(epoch), *(format_number(x) for x in values)]))
        if seg.covariances:
            out += ["", "COVARIANCE_START"]
            for cov in seg.covariances:
                out += [_comment(c) for c in cov.comments]
                out.append(f"EPOCH = {kvn_safe(cov.epoch or '')}")
                if cov.ref_frame:
                    out.append(f"COV_REF_FRAME = {kvn_safe(cov.ref_frame)}")
                for i in range(6):
                    out.append(" ".join(format_number(cov.matrix[i, j]) for j in range(i + 1)))
            out.append("COVARIANCE_STOP")
    return "\n".join(out) + "\n"


# -- OPM ---------------------------------------------------------------------------------------
def read_opm_kvn(text: str, source: str = "<opm>") -> Opm:
    """Parse a KVN OPM (versions 1.0-3.0) with its maneuvers; errors name line and keyword."""
    lines = list(_tokens(text, source))
    header, pos = _header(lines, 0, "OPM", source)
    meta: list[Item] = []
    state: dict[str, float] = {}
    state_line = 0
    epoch: str | None = None
    state_comments: list[str] = []
    kep: list[Item] = []
    sc: list[Item] = []
    cov_values: dict[str, float] = {}
    cov_frame: str | None = None
    cov_comments: list[str] = []
    mans: list[tuple[int, list[str], dict[str, str | float]]] = []  # (line, comments, values)
    user: list[Item] = []
    pending: list[str] = []
    for no, line in lines[pos:]:
        if line.startswith("COMMENT"):
            pending.append(line[7:].strip())
            continue
        key, value, unit = _kv(line, no, source)
        _check_unit(key, unit, source, no)
        if key in METADATA_KEYS and epoch is None:
            meta += [Item("COMMENT", c) for c in pending]
            meta.append(Item(key, value, no))
        elif key == "EPOCH" and epoch is None:
            epoch_to_jd(value, source, no, key)
            epoch, state_line, state_comments = value, no, pending
        elif key in STATE_KEYS and epoch is not None and key not in state:
            state[key] = number(value, source, no, key)
        elif key in KEPLERIAN_KEYS or key in SPACECRAFT_KEYS:
            number(value, source, no, key)
            block = kep if key in KEPLERIAN_KEYS else sc
            block += [Item("COMMENT", c) for c in pending]
            block.append(Item(key, value, no))
        elif key == "COV_REF_FRAME" or key in COVARIANCE_KEYS:
            cov_comments += pending
            if key == "COV_REF_FRAME":
                cov_frame = value
            else:
                cov_values[key] = number(value, source, no, key)
        elif key in MANEUVER_KEYS:
            if key == "MAN_EPOCH_IGNITION":
                epoch_to_jd(value, source, no, key)
                mans.append((no, pending, {}))
            elif not mans:
                raise OdmError(source, no, key, "maneuver keyword before MAN_EPOCH_IGNITION")
            if key in mans[-1][2]:
                raise OdmError(source, no, key, "repeated inside one maneuver block")
            mans[-1][2][key] = maneuver_value(key, value, source, no)
        elif key.startswith("USER_DEFINED_"):
            user += [Item("COMMENT", c) for c in pending]
            user.append(Item(key, value, no))
        else:
            raise OdmError(source, no, key, "not an OPM keyword here")
        pending = []
    state_comments += pending  # trailing comments have no block after them
    check_metadata(meta, REQUIRED_METADATA, source, lines[pos][0] if pos < len(lines) else 0)
    if epoch is None:
        raise OdmError(source, lines[-1][0], "EPOCH", "an OPM needs a state vector")
    for k in STATE_KEYS:
        if k not in state:
            raise OdmError(source, state_line, k, "missing from the state vector")
    covariance = None
    if cov_values:
        covariance = covariance_from_terms(cov_values, source, lines[-1][0], None, cov_frame, cov_comments)
    maneuvers = [maneuver_from(values, comments, source, no) for no, comments, values in mans]
    return Opm(
        header,
        meta,
        epoch,
        np.array([state[k] for k in STATE_KEYS]),
        state_comments,
        kep,
        sc,
        covariance,
        maneuvers,
        user,
        source,
    )


def write_opm_kvn(opm: Opm) -> str:
    """KVN text of an OPM with units in brackets, blocks in the standard's order."""
    out = _items_lines(opm.header) + [""] + _items_lines(opm.metadata) + [""]
    out += [_comment(c) for c in opm.state_comments]
    out += [_kv_line(k, v) for k, v in state_fields(opm.epoch, opm.state)]
    for block in (opm.keplerian, opm.spacecraft):
        if block:
            out += ["", *_items_lines(block)]
    if opm.covariance is not None:
        out.append("")
        out += [_comment(c) for c in opm.covariance.comments]
        if opm.covariance.ref_frame:
            out.append(_kv_line("COV_REF_FRAME", opm.covariance.ref_frame))
        out += [_kv_line(k, v) for k, v in covariance_fields(opm.covariance)]
    for m in opm.maneuvers:
        out.append("")
        out += [_comment(c) for c in m.comments]
        out += [_kv_line(k, v) for k, v in maneuver_fields(m)]
    if opm.user_defined:
        out += ["", *_items_lines(opm.user_defined)]
    return "\n".join(out) + "\n"
