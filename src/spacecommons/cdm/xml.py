"""CDM in NDM/XML (ndmxml-1.0-cdm-1.0.xsd): read with defusedxml, write in schema order."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as DET

from . import keywords as kw
from .model import Cdm, CdmError, Item

_DATA_BLOCKS = ("odParameters", "additionalParameters", "stateVector", "covarianceMatrix")

# Value ranges the NDM/XML schema puts on optional CDM keywords (ndmxml-1.0-cdm-1.0.xsd and
# ndmxml-1.0-navwg-common.xsd: xsd:positiveInteger, ndm:positiveDouble (dayIntervalType),
# ndm:nonNegativeDouble (areaType, massType, m2kgType, wkgType), range100Type, probabilityType).
# KVN has no such types: CARA's sample CDMs carry NaN and negative values here.
_POSITIVE_INTEGER = ("OBS_AVAILABLE", "OBS_USED", "TRACKS_AVAILABLE", "TRACKS_USED")
_RANGES: dict[str, tuple[float, float, bool, str]] = {  # key: (low, high, low inclusive, what)
    **{
        k: (0.0, float("inf"), True, "non-negative number")
        for k in (
            "AREA_PC",
            "AREA_DRG",
            "AREA_SRP",
            "MASS",
            "CD_AREA_OVER_MASS",
            "CR_AREA_OVER_MASS",
            "SEDR",
            "WEIGHTED_RMS",
        )
    },
    **{k: (0.0, float("inf"), False, "positive number") for k in ("RECOMMENDED_OD_SPAN", "ACTUAL_OD_SPAN")},
    "RESIDUALS_ACCEPTED": (0.0, 100.0, True, "percentage 0-100"),
    "COLLISION_PROBABILITY": (0.0, 1.0, True, "probability 0-1"),
}


def _schema_problem(item: Item) -> str | None:
    """Why the schema would reject this optional value, or None."""
    if item.key in _POSITIVE_INTEGER:
        try:
            ok = int(item.value) >= 1
        except ValueError:
            ok = False
        return None if ok else "a positive integer"
    if item.key in _RANGES:
        low, high, inclusive, what = _RANGES[item.key]
        try:
            x = float(item.value)
        except ValueError:
            return what
        ok = (x >= low if inclusive else x > low) and x <= high  # NaN fails both
        return None if ok else what
    return None


def schema_omissions(cdm: Cdm) -> tuple[Cdm, list[str]]:
    """A copy of ``cdm`` without the optional values the NDM/XML schema rejects, and one warning
    per omitted value naming source, line and keyword. The original keeps them (KVN is lossless)."""
    from dataclasses import replace

    warnings: list[str] = []

    def keep(items: list[Item]) -> list[Item]:
        out = []
        for item in items:
            problem = _schema_problem(item) if item.key != "COMMENT" else None
            if problem:
                warnings.append(
                    f"{cdm.source}:{item.line}: {item.key}: {item.value!r} is not {problem} as NDM/XML requires; "
                    "omitted from the XML (optional keyword)"
                )
                continue
            out.append(item)
        return out

    clean = replace(cdm, header=keep(cdm.header), relative=keep(cdm.relative), objects=[keep(o) for o in cdm.objects])
    return clean, warnings


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_xml(text: str | bytes, source: str = "<cdm.xml>", validate: bool = True, strict: bool = False) -> Cdm:
    """Parse an XML CDM (untrusted input: defusedxml refuses entity tricks)."""
    try:
        root = DET.fromstring(text)
    except Exception as exc:
        raise CdmError(source, 0, "XML", f"not well-formed or forbidden XML: {exc}") from exc
    if _local(root.tag) != "cdm":
        raise CdmError(source, 0, "cdm", f"root element is <{_local(root.tag)}>, expected <cdm>")
    cdm = Cdm(source=source)
    cdm.header.append(Item("CCSDS_CDM_VERS", root.get("version", "1.0")))

    def leaves(el, into: list[Item]) -> None:
        for child in el:
            name = _local(child.tag)
            if len(child):
                leaves(child, into)
            else:
                into.append(Item(name, (child.text or "").strip(), child.get("units")))

    n_obj = 0
    for el in root.iter():
        name = _local(el.tag)
        if name == "header":
            leaves(el, cdm.header)
        elif name == "relativeMetadataData":
            leaves(el, cdm.relative)
        elif name == "segment":
            if n_obj == 2:
                raise CdmError(source, 0, "segment", "more than two segments")
            leaves(el, cdm.objects[n_obj])
            n_obj += 1
    if validate:
        cdm.validate(strict)
    return cdm


def _blocks(items: list[Item]) -> dict[str, list[Item]]:
    """Group items into their XML blocks; a comment goes to the block of the keyword after it."""
    out: dict[str, list[Item]] = {}
    pending: list[Item] = []
    last = None
    for item in items:
        if item.key == "COMMENT":
            pending.append(item)
            continue
        block = kw.BLOCKS.get(item.key, "header")
        last = block
        out.setdefault(block, []).extend(pending)
        out[block].append(item)
        pending = []
    if pending:
        out.setdefault(last or "header", []).extend(pending)
    return out


def _element(item: Item, indent: str) -> str:
    unit = item.unit if item.unit is not None else kw.UNITS.get(item.key)
    attr = f" units={quoteattr(unit)}" if unit and item.key != "COMMENT" else ""
    return f"{indent}<{item.key}{attr}>{escape(item.value)}</{item.key}>"


def _ordered(block: list[Item], order: tuple[str, ...]) -> list[Item]:
    comments = [i for i in block if i.key == "COMMENT"]
    rank = {k: n for n, k in enumerate(order)}
    fields = sorted((i for i in block if i.key != "COMMENT"), key=lambda i: rank.get(i.key, len(rank)))
    return comments + fields


def write_xml(cdm: Cdm) -> str:
    """XML that validates against the CCSDS NDM/XML CDM schema (comments lead their block);
    optional values the schema rejects are left out (see :func:`write_xml_report`)."""
    return write_xml_report(cdm)[0]


def write_xml_report(cdm: Cdm) -> tuple[str, list[str]]:
    """:func:`write_xml` and the warnings for each optional value left out (NaN in an integer
    field, a negative area or mass, ...), naming source, line and keyword."""
    cdm, omitted = schema_omissions(cdm)
    return _write_xml(cdm), omitted


def _write_xml(cdm: Cdm) -> str:
    version = cdm.get("CCSDS_CDM_VERS") or "1.0"
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<cdm xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="http://sanaregistry.org/r/ndmxml/ndmxml-1.0-master.xsd" '
        f'id="CCSDS_CDM_VERS" version={quoteattr(version)}>',
    ]
    head = _blocks([i for i in cdm.header if i.key != "CCSDS_CDM_VERS"]).get("header", [])
    lines.append("  <header>")
    lines += [_element(i, "    ") for i in _ordered(head, kw.HEADER)]
    lines.append("  </header>")
    lines.append("  <body>")
    rel = _blocks(cdm.relative).get("relativeMetadataData", [])
    lines.append("    <relativeMetadataData>")
    ordered = _ordered(rel, kw.RELATIVE)
    in_state = False
    for item in ordered:
        if item.key in kw.RELATIVE_STATE and not in_state:
            lines.append("      <relativeStateVector>")
            in_state = True
        elif item.key not in kw.RELATIVE_STATE and in_state:
            lines.append("      </relativeStateVector>")
            in_state = False
        lines.append(_element(item, "        " if in_state else "      "))
    if in_state:
        lines.append("      </relativeStateVector>")
    lines.append("    </relativeMetadataData>")
    for items in cdm.objects:
        blocks = _blocks(items)
        lines.append("    <segment>")
        lines.append("      <metadata>")
        lines += [_element(i, "        ") for i in _ordered(blocks.get("metadata", []), kw.METADATA)]
        lines.append("      </metadata>")
        lines.append("      <data>")
        orders = {
            "odParameters": kw.OD,
            "additionalParameters": kw.ADDITIONAL,
            "stateVector": kw.STATE,
            "covarianceMatrix": kw.COVARIANCE,
        }
        for block in _DATA_BLOCKS:
            if block not in blocks:
                continue
            lines.append(f"        <{block}>")
            lines += [_element(i, "          ") for i in _ordered(blocks[block], orders[block])]
            lines.append(f"        </{block}>")
        lines.append("      </data>")
        lines.append("    </segment>")
    lines.append("  </body>")
    lines.append("</cdm>")
    return "\n".join(lines) + "\n"
