"""CDM KVN: ``KEY = value [unit]`` lines and ``COMMENT`` lines, in the standard's order."""

from __future__ import annotations

import re

from ..textguard import kvn_safe
from . import keywords as kw
from .model import Cdm, CdmError, Item

_LINE = re.compile(r"^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*(?:\[([^\]]*)\])?\s*$")


def read_kvn(text: str, source: str = "<cdm.kvn>", validate: bool = True, strict: bool = False) -> Cdm:
    """Parse one KVN CDM; raises :class:`CdmError` naming line and keyword."""
    cdm = Cdm(source=source)
    section = cdm.header
    pending: list[Item] = []
    n_obj = 0
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("COMMENT"):
            pending.append(Item("COMMENT", line[7:].strip(), None, no))
            continue
        m = _LINE.match(line)
        if not m:
            raise CdmError(source, no, line.split("=")[0].strip()[:40] or "?", "expected KEY = value [unit]")
        key, value, unit = m.group(1), m.group(2), m.group(3)
        if unit is None and "[" in value:  # an unterminated unit, seen in CARA sample messages
            value, _, unit = (x.strip() for x in value.partition("["))
            cdm.warnings.append(f"{source}:{no}: {key}: unterminated unit bracket")
            unit = unit or None
        if key == "OBJECT":
            n_obj += 1
            if n_obj > 2 or value not in ("OBJECT1", "OBJECT2"):
                raise CdmError(source, no, key, f"{value!r}: a CDM has OBJECT1 then OBJECT2")
            section = cdm.objects[n_obj - 1]
        elif n_obj == 0:
            section = cdm.header if key in kw.HEADER else cdm.relative
        item = Item(key, value, unit.strip() if unit is not None else None, no)
        section.extend(pending)
        pending = []
        section.append(item)
    (cdm.objects[1] if n_obj == 2 else cdm.relative).extend(pending)
    if validate:
        cdm.validate(strict)
    return cdm


def write_kvn(cdm: Cdm) -> str:
    """KVN text in the items' order; units written where the reader had them or the standard has one."""
    width = max(len(k) for k in kw.BLOCKS) + 1
    out: list[str] = []
    for items in (cdm.header, cdm.relative, *cdm.objects):
        for item in items:
            if item.key == "COMMENT":
                out.append(f"COMMENT {kvn_safe(item.value)}".rstrip())
                continue
            unit = item.unit if item.unit is not None else kw.UNITS.get(item.key)
            suffix = f" [{kvn_safe(unit)}]" if unit else ""  # kvn_safe: one printable line per value
            out.append(f"{kvn_safe(item.key):<{width}}= {kvn_safe(item.value)}{suffix}")
    return "\n".join(out) + "\n"
