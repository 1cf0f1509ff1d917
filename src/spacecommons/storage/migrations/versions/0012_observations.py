"""neo: astrometric observations (optical, radar) with their provenance (file, digest, submitter)

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "observations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("designation", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("epoch_utc_jd", sa.Float, nullable=False),
        sa.Column("station", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("record_json", sa.Text, nullable=False),
        sa.Column("source_file", sa.Text, nullable=False),
        sa.Column("source_line", sa.Integer, nullable=False),
        sa.Column("file_digest", sa.String(64), nullable=False),
        sa.Column("submitter", sa.String(256), nullable=False),
        sa.Column("partner_id", sa.Integer, nullable=True),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("submitter", "digest", name="uq_observations_submitter_digest"),
    )
    op.create_index("ix_observations_des_epoch", "observations", ["designation", "epoch_utc_jd"])


def downgrade() -> None:
    op.drop_index("ix_observations_des_epoch", "observations")
    op.drop_table("observations")
