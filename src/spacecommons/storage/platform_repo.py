"""What the platform reports about itself: the schema revision and row counts."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from .tables import ConjunctionEvent, ScreeningRun, SpaceObject


def schema_revision(session: Session) -> str | None:
    """The Alembic revision the database is at."""
    return session.execute(text("SELECT version_num FROM alembic_version")).scalar()


def row_counts(session: Session) -> dict[str, int]:
    """Catalog objects, screening runs and conjunction events stored."""
    return {
        "objects": session.scalar(select(func.count()).select_from(SpaceObject)),
        "screening_runs": session.scalar(select(func.count()).select_from(ScreeningRun)),
        "conjunction_events": session.scalar(select(func.count()).select_from(ConjunctionEvent)),
    }
