"""Read a folder of CDMs: every good message lands, every bad one is reported."""

from __future__ import annotations

from pathlib import Path

from ..errors import RecordIssue
from . import read_cdm
from .model import Cdm, CdmError


def read_folder(
    folder: str | Path, patterns: tuple[str, ...] = ("*.cdm", "*.kvn", "*.xml", "*.txt")
) -> tuple[list[Cdm], list[RecordIssue]]:
    good: list[Cdm] = []
    issues: list[RecordIssue] = []
    paths = sorted({p for pat in patterns for p in Path(folder).glob(pat)})
    for path in paths:
        try:
            good.append(read_cdm(path.read_bytes(), str(path)))
        except CdmError as exc:
            issues.append(exc.issue)
        except (OSError, UnicodeError) as exc:
            issues.append(RecordIssue(str(path), 0, "file", str(exc)))
    return good, issues
