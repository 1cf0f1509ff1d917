"""exchange: bounding coordinates of products (search by region)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = ("west", "east", "north", "south")


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("products") as batch:
        for name in COLUMNS:
            batch.drop_column(name)
