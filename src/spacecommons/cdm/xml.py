"""CDM in NDM/XML (ndmxml-1.0-cdm-1.0.xsd): read with defusedxml, write in schema order."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as DET

from . import keywords as kw
from .model import Cdm, CdmError, Item

_DATA_BLOCKS = ("odParameters", "additionalParameters", "stateVector", "covarianceMatrix")


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
    """XML that validates against the CCSDS NDM/XML CDM schema (comments lead their block)."""
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
