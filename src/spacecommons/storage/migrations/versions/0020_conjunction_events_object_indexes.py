"""conjunction events: indexes on (run, first object) and (run, second object)

An incremental update deletes the events of its changed objects and reads the co-located groups they
are in: without these, both read every event of the run. (The events list filtered by one object keeps
its plan on SQLite: it walks the TCA index, for its sort.)

Revision ID: 0020
Revises: 0019
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_conjunction_events_run_id1", "conjunction_events", ["run_id", "id1"])
    op.create_index("ix_conjunction_events_run_id2", "conjunction_events", ["run_id", "id2"])


def downgrade() -> None:
    op.drop_index("ix_conjunction_events_run_id2", table_name="conjunction_events")
    op.drop_index("ix_conjunction_events_run_id1", table_name="conjunction_events")
