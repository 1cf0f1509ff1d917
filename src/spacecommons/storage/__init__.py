"""Persistence: engine factory, tables, repositories and Alembic migrations.

``make_engine``, ``session_factory`` and ``upgrade`` are imported from ``storage.engine`` on first
use (PEP 562), so that ``storage.core_reads`` (the CLI's light commands) imports no SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .engine import make_engine, session_factory, upgrade

__all__ = ["make_engine", "session_factory", "upgrade"]


def __getattr__(name: str):
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import engine

    return getattr(engine, name)
