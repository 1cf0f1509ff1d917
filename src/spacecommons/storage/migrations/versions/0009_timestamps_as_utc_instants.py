"""timestamps as UTC instants: every text timestamp column becomes a timezone-aware time

Revision ID: 0009
Revises: 0008

Before this revision every timestamp was text, written in several forms by different writers:
``2026-01-01T00:00:00.123456Z`` (the CLI's and the service's clocks), ``2021-10-02T03:14:15.926Z``
(conjunction TCA and span, milliseconds), ``2026-01-31T00:00:00Z`` (computed release dates),
whatever a partner sent as a release date (``2027-01-01``, an offset such as ``+02:00``, no zone),
PDS4 label times with 0 to 9 decimals, and ``""`` for an event without a span. Each value is read
here as an instant: an explicit offset is honoured, a value without one is UTC (every writer wrote
UTC; the old text comparison treated it so), a date alone is its midnight UTC, and empty is NULL.

A value that is not a time becomes NULL where the column allows it, with a warning naming the row:
for release dates that keeps the product embargoed, as the text comparison did (a letter sorts
after every digit, so such a date was never reached); PDS4 start/stop text stays in the product's
label metadata. In a NOT NULL column (clock-written times) it stops the migration with the table,
column, row id and value, and nothing is changed (the migration runs in one transaction).

PostgreSQL: the column becomes ``timestamp with time zone``. SQLite has no time type and cannot
change a column's declared type without rebuilding tables (which, with foreign keys on, would
cascade deletes): the declared type stays and each value is rewritten as the UTC text that
``storage.types.UTCDateTime`` writes and reads (``YYYY-MM-DD HH:MM:SS.ffffff``, fixed width, so it
also sorts in time order).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

# table -> [(column, nullable, old text length)]
COLUMNS: dict[str, list[tuple[str, bool, int]]] = {
    "element_sets": [("loaded_at", False, 32)],
    "screening_runs": [("created_at", False, 32)],
    "conjunction_events": [("tca", False, 32), ("span_start", True, 32), ("span_end", True, 32)],
    "small_body_orbits": [("loaded_at", False, 32)],
    "partners": [("created_at", False, 32)],
    "members": [("created_at", False, 32)],
    "api_keys": [("created_at", False, 32), ("revoked_at", True, 32)],
    "audit_log": [("at", False, 32)],
    "watch_entries": [("created_at", False, 32)],
    "webhooks": [("created_at", False, 32)],
    "alerts": [("tca", False, 32), ("created_at", False, 32)],
    "webhook_deliveries": [("at", False, 32)],
    "products": [
        ("start", True, 40),
        ("stop", True, 40),
        ("ingested_at", False, 32),
        ("partners_release_at", True, 32),
        ("public_release_at", True, 32),
        ("tombstoned_at", True, 32),
    ],
    "product_files": [("created_at", False, 32)],
    "access_requests": [("created_at", False, 32), ("decided_at", True, 32)],
    "access_decisions": [("at", False, 32)],
}


def to_instant(text: str | None) -> datetime | None:
    """One stored text timestamp as an aware UTC datetime; None for NULL or empty text.
    Raises ValueError for text that is not a time."""
    if text is None:
        return None
    s = text.strip()
    if not s:
        return None
    if s[-1] in "Zz":
        s = s[:-1] + "+00:00"
    t = datetime.fromisoformat(s)
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC)


def _stored(t: datetime | None, dialect: str) -> str | None:
    if t is None:
        return None
    if dialect == "sqlite":
        return t.strftime("%Y-%m-%d %H:%M:%S.%f")  # what UTCDateTime binds on SQLite
    return t.isoformat()  # explicit +00:00, cast below


def _rewrite(conn, table: str, column: str, nullable: bool, dialect: str) -> None:
    t = sa.table(table, sa.column("id", sa.Integer), sa.column(column, sa.String))
    col = t.c[column]
    rows = conn.execute(sa.select(t.c.id, col).where(col.is_not(None))).all()
    new: dict[str, str | None] = {}
    for row_id, text in rows:
        if text in new:
            continue
        try:
            new[text] = _stored(to_instant(text), dialect)
        except ValueError:
            if not nullable:
                raise ValueError(
                    f"{table}.{column} row id={row_id}: {text!r} is not a time; fix it and run the migration again"
                ) from None
            log.warning("%s.%s row id=%s: %r is not a time; stored as NULL", table, column, row_id, text)
            new[text] = None
    changed = {old: value for old, value in new.items() if value != old}
    if len(changed) <= 1000:  # few distinct values (clock-written batches): one update per value
        for old, value in changed.items():
            conn.execute(sa.update(t).where(col == old).values({column: value}))
    else:  # many (event times): one update per row
        rows_changed = [{"row_id": i, "value": changed[x]} for i, x in rows if x in changed]
        conn.execute(
            sa.update(t).where(t.c.id == sa.bindparam("row_id")).values({column: sa.bindparam("value")}),
            rows_changed,
        )


def upgrade() -> None:
    conn = op.get_bind()
    dialect = conn.dialect.name
    for table, columns in COLUMNS.items():
        for column, nullable, length in columns:
            _rewrite(conn, table, column, nullable, dialect)
            if dialect != "sqlite":
                op.alter_column(
                    table,
                    column,
                    type_=sa.DateTime(timezone=True),
                    existing_type=sa.String(length),
                    existing_nullable=nullable,
                    postgresql_using=f'"{column}"::timestamp with time zone',
                )


def downgrade() -> None:
    """Back to text, in the one form ``2026-01-01T00:00:00.000000Z`` (PostgreSQL and SQLite alike)."""
    conn = op.get_bind()
    dialect = conn.dialect.name
    for table, columns in COLUMNS.items():
        for column, nullable, length in columns:
            if dialect != "sqlite":
                op.alter_column(
                    table,
                    column,
                    type_=sa.String(length),
                    existing_type=sa.DateTime(timezone=True),
                    existing_nullable=nullable,
                    postgresql_using=f'to_char("{column}" AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\')',
                )
                continue
            t = sa.table(table, sa.column("id", sa.Integer), sa.column(column, sa.String))
            col = t.c[column]
            for (text,) in conn.execute(sa.select(col).where(col.is_not(None)).distinct()).all():
                value = datetime.fromisoformat(text).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                conn.execute(sa.update(t).where(col == text).values({column: value}))
