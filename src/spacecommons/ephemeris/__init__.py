"""CCSDS Orbit Data Messages (OEM, OPM): model, KVN/XML readers and writers, interpolation."""

from __future__ import annotations

from .kvn import read_oem_kvn, read_opm_kvn, write_oem_kvn, write_opm_kvn
from .model import Covariance, Item, Maneuver, OdmError, Oem, OemSegment, Opm, epoch_to_jd, jd_to_epoch
from .xml import read_oem_xml, read_opm_xml, write_oem_xml, write_opm_xml


def _is_xml(text: str | bytes) -> bool:
    head = text[:200].lstrip()
    return head.startswith(b"<" if isinstance(head, bytes) else "<")


def _text(text: str | bytes, source: str) -> str:
    if isinstance(text, str):
        return text
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise OdmError(source, 0, "TEXT", f"not UTF-8 (ASCII) text: byte {exc.start}") from None


def read_oem(text: str | bytes, source: str = "<oem>") -> Oem:
    """An OEM from KVN or XML text (XML when it starts with ``<``)."""
    if _is_xml(text):
        return read_oem_xml(text, source)
    return read_oem_kvn(_text(text, source), source)


def read_opm(text: str | bytes, source: str = "<opm>") -> Opm:
    """An OPM from KVN or XML text (XML when it starts with ``<``)."""
    if _is_xml(text):
        return read_opm_xml(text, source)
    return read_opm_kvn(_text(text, source), source)


def write_oem(oem: Oem, fmt: str = "kvn") -> str:
    """OEM text as ``kvn`` or ``xml``."""
    return write_oem_xml(oem) if fmt == "xml" else write_oem_kvn(oem)


def write_opm(opm: Opm, fmt: str = "kvn") -> str:
    """OPM text as ``kvn`` or ``xml``."""
    return write_opm_xml(opm) if fmt == "xml" else write_opm_kvn(opm)


__all__ = [
    "Covariance",
    "Item",
    "Maneuver",
    "OdmError",
    "Oem",
    "OemSegment",
    "Opm",
    "epoch_to_jd",
    "jd_to_epoch",
    "read_oem",
    "read_oem_kvn",
    "read_oem_xml",
    "read_opm",
    "read_opm_kvn",
    "read_opm_xml",
    "write_oem",
    "write_oem_kvn",
    "write_oem_xml",
    "write_opm",
    "write_opm_kvn",
    "write_opm_xml",
]
