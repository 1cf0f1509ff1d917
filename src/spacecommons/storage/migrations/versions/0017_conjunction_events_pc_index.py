"""conjunction events: an index for the sort by Pc (run, Pc highest first with no Pc last, id)

Revision ID: 0017
Revises: 0015 (written against 0014; re-chained after 0015 reached main)
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the expression of tables.PC_SORT_KEY, word for word: the planner matches it to the ORDER BY
    op.create_index(
        "ix_conjunction_events_run_pc",
        "conjunction_events",
        ["run_id", sa.text("coalesce(pc, -1.0) DESC"), "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_conjunction_events_run_pc", table_name="conjunction_events")
