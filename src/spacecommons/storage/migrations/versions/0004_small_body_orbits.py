"""neo: small-body orbit solutions (SBDB, MPC) with their history

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "small_body_orbits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("designation", sa.String(64), nullable=False),
        sa.Column("orbit_id", sa.String(64), nullable=False),
        sa.Column("epoch_jd_tdb", sa.Float, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_line", sa.Integer, nullable=False),
        sa.Column("orbit_json", sa.Text, nullable=False),
        sa.Column("loaded_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("designation", "digest", name="uq_small_body_orbits_des_digest"),
    )
    op.create_index("ix_small_body_orbits_des", "small_body_orbits", ["designation"])


def downgrade() -> None:
    op.drop_index("ix_small_body_orbits_des", "small_body_orbits")
    op.drop_table("small_body_orbits")
