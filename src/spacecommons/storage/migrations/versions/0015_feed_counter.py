"""federation: the feed's sequence counter, one row whose update serializes the writers that
number changes (PostgreSQL and SQLite alike), seeded with the highest number given so far

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_counter",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_seq", sa.Integer, nullable=False),
    )
    op.execute("INSERT INTO feed_counter (id, last_seq) SELECT 1, COALESCE(MAX(feed_seq), 0) FROM products")


def downgrade() -> None:
    op.drop_table("feed_counter")
