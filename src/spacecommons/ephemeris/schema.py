"""Validation of OEM/OPM XML against the shipped CCSDS NDM/XML 1.0 schemas (OEM 2.0, OPM 2.0)."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files


@lru_cache(maxsize=1)
def _schema():
    import xmlschema

    # the schemas ship in the package (like skyfield's bundled tables): no network, no user path
    path = files("spacecommons") / "data" / "schemas" / "ndm" / "ndmxml-1.0-master.xsd"
    return xmlschema.XMLSchema(str(path))


def schema_errors(text: str, limit: int = 20) -> list[str]:
    """Reasons the XML ``text`` fails the NDM/XML master schema (empty when it validates), at most
    ``limit``, each naming the element path. Only version 2.0 OEM/OPM can pass: the shipped schemas
    fix ``version="2.0"`` (ODM 3.0 XML schemas are not in the set)."""
    import defusedxml.ElementTree as DET

    root = DET.fromstring(text)  # defused parse first: xmlschema then sees a safe tree
    out = []
    for err in _schema().iter_errors(root):
        out.append(f"{err.path or '/'}: {err.reason}")
        if len(out) >= limit:
            break
    return out
