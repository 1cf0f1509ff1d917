"""risk: collision probability and its method on each conjunction event

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conjunction_events") as batch:
        batch.add_column(sa.Column("pc", sa.Float, nullable=True))
        batch.add_column(sa.Column("pc_method", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conjunction_events") as batch:
        batch.drop_column("pc_method")
        batch.drop_column("pc")
