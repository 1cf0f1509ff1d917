"""catalog: space objects and element-set history

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "space_objects",
        sa.Column("norad_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(128), nullable=False, server_default=""),
        sa.Column("object_id", sa.String(32), nullable=False, server_default=""),
        sa.Column("hbr_m", sa.Float, nullable=True),
        sa.Column("hbr_source", sa.String(64), nullable=True),
        sa.Column("mass_kg", sa.Float, nullable=True),
    )
    op.create_table(
        "element_sets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("norad_id", sa.Integer, sa.ForeignKey("space_objects.norad_id"), nullable=False),
        sa.Column("epoch", sa.String(32), nullable=False),
        sa.Column("epoch_jd", sa.Float, nullable=False),
        sa.Column("epoch_fr", sa.Float, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_line", sa.Integer, nullable=False),
        sa.Column("line1", sa.String(69), nullable=True),
        sa.Column("line2", sa.String(69), nullable=True),
        sa.Column("fields_json", sa.Text, nullable=False),
        sa.Column("original", sa.Text, nullable=False),
        sa.Column("loaded_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("norad_id", "digest", name="uq_element_sets_object_digest"),
    )
    op.create_index("ix_element_sets_object_epoch", "element_sets", ["norad_id", "epoch_jd", "epoch_fr"])


def downgrade() -> None:
    op.drop_table("element_sets")
    op.drop_table("space_objects")
