"""Every ```python block in docs/*.md runs (the docs' examples are tests)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
EXAMPLES = [(p.name, i, code) for p in sorted(DOCS.glob("*.md")) for i, code in enumerate(BLOCK.findall(p.read_text()))]


@pytest.mark.parametrize(("doc", "index", "code"), EXAMPLES, ids=[f"{d}#{i}" for d, i, _ in EXAMPLES])
def test_doc_example_runs(doc, index, code, monkeypatch):
    monkeypatch.chdir(DOCS.parent)  # examples run from the repository root, as a reader would
    exec(compile(code, f"{doc} example {index}", "exec"), {"__name__": "__docs__"})


def test_there_are_examples():
    assert len(EXAMPLES) >= 4
