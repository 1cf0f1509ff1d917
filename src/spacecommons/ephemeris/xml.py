"""OEM and OPM in NDM/XML (ndmxml-1.0-oem-2.0.xsd, -opm-2.0.xsd): read untrusted XML with defusedxml,
write in schema order."""

from __future__ import annotations

from xml.etree.ElementTree import TreeBuilder
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as DET
import numpy as np

from .keywords import (
    ACCELERATION_KEYS,
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
    VERSIONS,
)
from .model import (
    Covariance,
    Item,
    Maneuver,
    OdmError,
    Oem,
    OemSegment,
    Opm,
    check_header,
    check_metadata,
    check_numbers,
    covariance_fields,
    covariance_from_terms,
    epoch_to_jd,
    format_number,
    maneuver_fields,
    maneuver_from,
    maneuver_value,
    number,
    state_fields,
)

_SCHEMA_LOCATION = "http://sanaregistry.org/r/ndmxml/ndmxml-1.0-master.xsd"


class _Lines(TreeBuilder):
    """A tree builder that remembers the line each element starts on (for error messages)."""

    def __init__(self) -> None:
        super().__init__()
        self.parser = None
        self.lines: dict[int, int] = {}

    def start(self, tag, attrs):  # noqa: ANN001, ANN201 - TreeBuilder's signature
        el = super().start(tag, attrs)
        if self.parser is not None:
            self.lines[id(el)] = self.parser.parser.CurrentLineNumber
        return el


def _parse(text: str | bytes, source: str, kind: str):
    builder = _Lines()
    parser = DET.XMLParser(target=builder)
    builder.parser = parser
    try:
        parser.feed(text.encode() if isinstance(text, str) else text)
        root = parser.close()
    except Exception as exc:
        raise OdmError(source, 0, "XML", f"not well-formed or forbidden XML: {exc}") from exc
    if _local(root.tag) != kind:
        raise OdmError(
            source, builder.lines.get(id(root), 0), kind, f"root element is <{_local(root.tag)}>, expected <{kind}>"
        )
    version = root.get("version", "")
    if version not in VERSIONS:
        raise OdmError(
            source, builder.lines.get(id(root), 0), "version", f"{version!r}; this reader knows {', '.join(VERSIONS)}"
        )
    return root, builder.lines, version


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(el) -> str:  # noqa: ANN001
    return (el.text or "").strip()


def _find(el, name: str):  # noqa: ANN001, ANN202
    return next((c for c in el if _local(c.tag) == name), None)


def _items(el, lines: dict[int, int], allowed: tuple[str, ...], source: str) -> list[Item]:  # noqa: ANN001
    out = []
    for c in el:
        key = _local(c.tag)
        if key != "COMMENT" and key not in allowed:
            raise OdmError(source, lines.get(id(c), 0), key, f"not allowed in <{_local(el.tag)}>")
        out.append(Item(key, _text(c), lines.get(id(c), 0)))
    return out


def _number(el, lines: dict[int, int], source: str) -> float:  # noqa: ANN001
    return number(_text(el), source, lines.get(id(el), 0), _local(el.tag))


def _header(root, lines: dict[int, int], kind: str, version: str, source: str) -> list[Item]:  # noqa: ANN001
    head = _find(root, "header")
    if head is None:
        raise OdmError(source, lines.get(id(root), 0), "header", "missing")
    items = [Item(f"CCSDS_{kind}_VERS", version, lines.get(id(root), 0)), *_items(head, lines, HEADER_KEYS, source)]
    check_header(items, source, lines.get(id(head), 0))
    return items


def _segments(root, lines: dict[int, int], source: str) -> list:  # noqa: ANN001
    body = _find(root, "body")
    if body is None:
        raise OdmError(source, lines.get(id(root), 0), "body", "missing")
    segs = [c for c in body if _local(c.tag) == "segment"]
    if not segs:
        raise OdmError(source, lines.get(id(body), 0), "segment", "missing")
    return segs


def _covariance(el, lines: dict[int, int], source: str, with_epoch: bool) -> Covariance:  # noqa: ANN001
    values: dict[str, float] = {}
    comments, epoch, frame = [], None, None
    for c in el:
        key = _local(c.tag)
        if key == "COMMENT":
            comments.append(_text(c))
        elif key == "EPOCH" and with_epoch:
            epoch = _text(c)
            epoch_to_jd(epoch, source, lines.get(id(c), 0), key)
        elif key == "COV_REF_FRAME":
            frame = _text(c)
        elif key in COVARIANCE_KEYS:
            values[key] = _number(c, lines, source)
        else:
            raise OdmError(source, lines.get(id(c), 0), key, "not allowed in <covarianceMatrix>")
    cov = covariance_from_terms(values, source, lines.get(id(el), 0), epoch, frame, comments)
    if with_epoch and epoch is None:
        raise OdmError(source, lines.get(id(el), 0), "EPOCH", "missing from the covariance block")
    return cov


def _state_vector(el, lines: dict[int, int], source: str):  # noqa: ANN001, ANN202
    """(epoch text, six state values, the elements by name, comments) of a <stateVector>."""
    fields, comments = {}, []
    for f in el:
        if _local(f.tag) == "COMMENT":
            comments.append(_text(f))
        else:
            fields[_local(f.tag)] = f
    for k in ("EPOCH", *STATE_KEYS):
        if k not in fields:
            raise OdmError(source, lines.get(id(el), 0), k, "missing from <stateVector>")
    epoch = _text(fields["EPOCH"])
    epoch_to_jd(epoch, source, lines.get(id(fields["EPOCH"]), 0))
    return epoch, [_number(fields[k], lines, source) for k in STATE_KEYS], fields, comments


def read_oem_xml(text: str | bytes, source: str = "<oem.xml>") -> Oem:
    """Parse an XML OEM (untrusted input: defusedxml refuses entity tricks); errors name line and element."""
    root, lines, version = _parse(text, source, "oem")
    header = _header(root, lines, "OEM", version, source)
    segments = []
    for seg in _segments(root, lines, source):
        meta_el, data_el = _find(seg, "metadata"), _find(seg, "data")
        if meta_el is None or data_el is None:
            raise OdmError(source, lines.get(id(seg), 0), "metadata" if meta_el is None else "data", "missing")
        meta = _items(meta_el, lines, OEM_METADATA_KEYS, source)
        check_metadata(meta, OEM_REQUIRED_METADATA, source, lines.get(id(meta_el), 0))
        comments, epochs, rows, accs, covs = [], [], [], [], []
        for c in data_el:
            key = _local(c.tag)
            if key == "COMMENT":
                comments.append(_text(c))
            elif key == "stateVector":
                epoch, state, fields, _ = _state_vector(c, lines, source)
                epochs.append(epoch)
                rows.append(state)
                if any(k in fields for k in ACCELERATION_KEYS):
                    accs.append([_number(fields[k], lines, source) for k in ACCELERATION_KEYS])
            elif key == "covarianceMatrix":
                covs.append(_covariance(c, lines, source, with_epoch=True))
            else:
                raise OdmError(source, lines.get(id(c), 0), key, "not allowed in <data>")
        if not rows:
            raise OdmError(source, lines.get(id(data_el), 0), "stateVector", "segment without states")
        if accs and len(accs) != len(rows):
            raise OdmError(
                source, lines.get(id(data_el), 0), "X_DDOT", "some states have accelerations and some do not"
            )
        segments.append(OemSegment(meta, epochs, np.array(rows), np.array(accs) if accs else None, covs, comments))
    return Oem(header, segments, source)


def read_opm_xml(text: str | bytes, source: str = "<opm.xml>") -> Opm:
    """Parse an XML OPM with its maneuvers (defusedxml); errors name line and element."""
    root, lines, version = _parse(text, source, "opm")
    header = _header(root, lines, "OPM", version, source)
    seg = _segments(root, lines, source)[0]
    meta_el, data_el = _find(seg, "metadata"), _find(seg, "data")
    if meta_el is None or data_el is None:
        raise OdmError(source, lines.get(id(seg), 0), "metadata" if meta_el is None else "data", "missing")
    meta = _items(meta_el, lines, METADATA_KEYS, source)
    check_metadata(meta, REQUIRED_METADATA, source, lines.get(id(meta_el), 0))
    state_comments: list[str] = []
    epoch, state = None, None
    kep: list[Item] = []
    sc: list[Item] = []
    cov = None
    mans: list[Maneuver] = []
    user: list[Item] = []
    for c in data_el:
        key = _local(c.tag)
        line = lines.get(id(c), 0)
        if key == "COMMENT":
            state_comments.append(_text(c))
        elif key == "stateVector":
            epoch, values, _, comments = _state_vector(c, lines, source)
            state = np.array(values)
            state_comments += comments
        elif key in ("keplerianElements", "spacecraftParameters"):
            block = _items(c, lines, KEPLERIAN_KEYS if key == "keplerianElements" else SPACECRAFT_KEYS, source)
            check_numbers(block, source)
            if key == "keplerianElements":
                kep = block
            else:
                sc = block
        elif key == "covarianceMatrix":
            cov = _covariance(c, lines, source, with_epoch=False)
        elif key == "maneuverParameters":
            fields, comments = {}, []
            for f in c:
                name = _local(f.tag)
                if name == "COMMENT":
                    comments.append(_text(f))
                elif name in MANEUVER_KEYS:
                    fields[name] = maneuver_value(name, _text(f), source, lines.get(id(f), 0))
                else:
                    raise OdmError(source, lines.get(id(f), 0), name, "not allowed in <maneuverParameters>")
            mans.append(maneuver_from(fields, comments, source, line))
        elif key == "userDefinedParameters":
            for f in c:
                name = _local(f.tag)
                if name == "COMMENT":
                    user.append(Item("COMMENT", _text(f)))
                else:
                    user.append(Item(f"USER_DEFINED_{f.get('parameter', '')}", _text(f), lines.get(id(f), 0)))
        else:
            raise OdmError(source, line, key, "not allowed in <data>")
    if epoch is None or state is None:
        raise OdmError(source, lines.get(id(data_el), 0), "stateVector", "an OPM needs a state vector")
    return Opm(header, meta, epoch, state, state_comments, kep, sc, cov, mans, user, source)


# -- writing -----------------------------------------------------------------------------------
def _el(key: str, value: str, indent: str) -> str:
    return f"{indent}<{key}>{escape(value)}</{key}>"


def _comments_first(items: list[Item], indent: str) -> list[str]:
    """Items of a header or metadata block with comments first (the schemas put COMMENT* first)."""
    com = [_el("COMMENT", i.value, indent) for i in items if i.key == "COMMENT"]
    return com + [_el(i.key, i.value, indent) for i in items if i.key != "COMMENT"]


def _open(kind: str, version: str) -> list[str]:
    return [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<{kind} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:noNamespaceSchemaLocation="{_SCHEMA_LOCATION}" '
        f'id="CCSDS_{kind.upper()}_VERS" version={quoteattr(version)}>',
    ]


def _ordered(items: list[Item], order: tuple[str, ...]) -> list[Item]:
    rank = {k: n for n, k in enumerate(order)}
    return [i for i in items if i.key == "COMMENT"] + sorted(
        (i for i in items if i.key != "COMMENT"), key=lambda i: rank.get(i.key, len(rank))
    )


def _header_xml(header: list[Item]) -> list[str]:
    items = [i for i in header if not i.key.startswith("CCSDS_")]
    return ["  <header>", *_comments_first(_ordered(items, HEADER_KEYS), "    "), "  </header>"]


def _cov_xml(cov: Covariance, indent: str, with_epoch: bool) -> list[str]:
    out = [f"{indent}<covarianceMatrix>"]
    out += [_el("COMMENT", c, indent + "  ") for c in cov.comments]
    if with_epoch:
        out.append(_el("EPOCH", cov.epoch or "", indent + "  "))
    if cov.ref_frame:
        out.append(_el("COV_REF_FRAME", cov.ref_frame, indent + "  "))
    out += [_el(k, v, indent + "  ") for k, v in covariance_fields(cov)]
    return out + [f"{indent}</covarianceMatrix>"]


def write_oem_xml(oem: Oem) -> str:
    """NDM/XML text of an OEM; a version 2.0 message validates against ndmxml-1.0-oem-2.0.xsd."""
    out = _open("oem", oem.version) + _header_xml(oem.header) + ["  <body>"]
    for seg in oem.segments:
        out += ["    <segment>", "      <metadata>"]
        out += _comments_first(_ordered(seg.metadata, OEM_METADATA_KEYS), "        ")
        out += ["      </metadata>", "      <data>"]
        out += [_el("COMMENT", c, "        ") for c in seg.comments]
        for k, epoch in enumerate(seg.epochs):
            out.append("        <stateVector>")
            out += [_el(key, v, "          ") for key, v in state_fields(epoch, seg.states[k])]
            if seg.accelerations is not None:
                out += [
                    _el(key, format_number(x), "          ")
                    for key, x in zip(ACCELERATION_KEYS, seg.accelerations[k], strict=True)
                ]
            out.append("        </stateVector>")
        for cov in seg.covariances:
            out += _cov_xml(cov, "        ", with_epoch=True)
        out += ["      </data>", "    </segment>"]
    return "\n".join([*out, "  </body>", "</oem>"]) + "\n"


def write_opm_xml(opm: Opm) -> str:
    """NDM/XML text of an OPM with maneuvers; a version 2.0 message validates against
    ndmxml-1.0-opm-2.0.xsd (which wants all five spacecraft parameters when the block is there)."""
    out = _open("opm", opm.version) + _header_xml(opm.header)
    out += ["  <body>", "    <segment>", "      <metadata>"]
    out += _comments_first(_ordered(opm.metadata, METADATA_KEYS), "        ")
    out += ["      </metadata>", "      <data>", "        <stateVector>"]
    out += [_el("COMMENT", c, "          ") for c in opm.state_comments]
    out += [_el(k, v, "          ") for k, v in state_fields(opm.epoch, opm.state)]
    out.append("        </stateVector>")
    if opm.keplerian:
        out += ["        <keplerianElements>", *_comments_first(_ordered(opm.keplerian, KEPLERIAN_KEYS), "          ")]
        out.append("        </keplerianElements>")
    if opm.spacecraft:
        out += [
            "        <spacecraftParameters>",
            *_comments_first(_ordered(opm.spacecraft, SPACECRAFT_KEYS), "          "),
        ]
        out.append("        </spacecraftParameters>")
    if opm.covariance is not None:
        out += _cov_xml(opm.covariance, "        ", with_epoch=False)
    for m in opm.maneuvers:
        out.append("        <maneuverParameters>")
        out += [_el("COMMENT", c, "          ") for c in m.comments]
        out += [_el(k, v, "          ") for k, v in maneuver_fields(m)]
        out.append("        </maneuverParameters>")
    if opm.user_defined:
        out.append("        <userDefinedParameters>")
        for i in opm.user_defined:
            if i.key == "COMMENT":
                out.append(_el("COMMENT", i.value, "          "))
            else:
                name = i.key.removeprefix("USER_DEFINED_")
                out.append(f"          <USER_DEFINED parameter={quoteattr(name)}>{escape(i.value)}</USER_DEFINED>")
        out.append("        </userDefinedParameters>")
    out += ["      </data>", "    </segment>", "  </body>", "</opm>"]
    return "\n".join(out) + "\n"
