"""Shared fixtures: paths to real data bundled with the package or copied into tests/data."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
SAMPLE = Path(str(files("spacecommons") / "data" / "sample"))


@pytest.fixture
def iridium_text() -> str:
    """CelesTrak 'iridium-33-debris' group, 2021-10-02 (332 objects, CRLF, name + 2 lines)."""
    return (SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt").read_text()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"
