"""Persistence: engine factory, tables, repositories and Alembic migrations."""

from .engine import make_engine, session_factory, upgrade

__all__ = ["make_engine", "session_factory", "upgrade"]
