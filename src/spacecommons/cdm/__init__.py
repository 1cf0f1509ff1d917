"""CCSDS 508.0-B-1 Conjunction Data Messages: read and write KVN and XML."""

from .kvn import read_kvn, write_kvn
from .model import Cdm, CdmError, Item
from .xml import read_xml, write_xml

__all__ = ["Cdm", "CdmError", "Item", "read_cdm", "read_kvn", "read_xml", "write_kvn", "write_xml"]


def read_cdm(text: str | bytes, source: str = "<cdm>") -> Cdm:
    """Read a CDM in KVN or XML (chosen by content)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return read_xml(text, source) if text.lstrip().startswith("<") else read_kvn(text, source)
