"""ephemerides: uploaded owner/operator OEMs (content-addressed text, one row per object with span)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ephemeris_texts",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_table(
        "ephemerides",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("digest", sa.String(64), sa.ForeignKey("ephemeris_texts.digest"), nullable=False),
        sa.Column("norad_id", sa.Integer, nullable=False),
        sa.Column("object_name", sa.String(128), nullable=False),
        sa.Column("object_id", sa.String(64), nullable=False),
        sa.Column("owner_partner_id", sa.Integer, nullable=True),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("time_system", sa.String(16), nullable=False),
        sa.Column("ref_frame", sa.String(32), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stop_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n_states", sa.Integer, nullable=False),
        sa.Column("n_covariances", sa.Integer, nullable=False),
        sa.Column("source", sa.String(256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ephemerides_object_stop", "ephemerides", ["norad_id", "stop_time"])


def downgrade() -> None:
    op.drop_index("ix_ephemerides_object_stop", table_name="ephemerides")
    op.drop_table("ephemerides")
    op.drop_table("ephemeris_texts")
