"""screening runs: each object's SGP4 velocity mismatch per chunk, reused by incremental updates

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "screening_mismatch",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("screening_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("chunk_index", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("catalog_digest", sa.String(64), nullable=False),
        sa.Column("mismatch", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("screening_mismatch")
