"""exchange: missions, payloads, data products (LID/VID), files, access requests and decisions

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "missions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("owner_partner_id", sa.Integer, sa.ForeignKey("partners.id"), nullable=False),
        sa.Column("proprietary_days", sa.Float, nullable=False),
        sa.Column("public_after_days", sa.Float, nullable=False),
    )
    op.create_table(
        "payloads",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mission_id", sa.Integer, sa.ForeignKey("missions.id"), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("instrument", sa.String(128), nullable=False),
        sa.Column("owner_partner_id", sa.Integer, sa.ForeignKey("partners.id"), nullable=False),
        sa.Column("mass_kg", sa.Float, nullable=True),
        sa.Column("power_w", sa.Float, nullable=True),
        sa.Column("data_rate_kbps", sa.Float, nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("proprietary_days", sa.Float, nullable=True),
        sa.UniqueConstraint("mission_id", "name", name="uq_payload_mission_name"),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("lid", sa.String(255), nullable=False),
        sa.Column("vid", sa.String(32), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("payload_id", sa.Integer, sa.ForeignKey("payloads.id"), nullable=False),
        sa.Column("owner_partner_id", sa.Integer, sa.ForeignKey("partners.id"), nullable=False),
        sa.Column("target", sa.String(64), nullable=True),
        sa.Column("instrument", sa.String(128), nullable=True),
        sa.Column("processing_level", sa.String(32), nullable=True),
        sa.Column("start", sa.String(40), nullable=True),
        sa.Column("stop", sa.String(40), nullable=True),
        sa.Column("licence", sa.String(64), nullable=False),
        sa.Column("citation", sa.Text, nullable=True),
        sa.Column("metadata_json", sa.Text, nullable=False),
        sa.Column("ingested_at", sa.String(32), nullable=False),
        sa.Column("partners_release_at", sa.String(32), nullable=True),
        sa.Column("public_release_at", sa.String(32), nullable=True),
        sa.Column("tombstoned_at", sa.String(32), nullable=True),
        sa.UniqueConstraint("lid", "vid", name="uq_products_lidvid"),
    )
    op.create_index("ix_products_lid", "products", ["lid"])
    op.create_table(
        "product_files",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("product_id", sa.Integer, sa.ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("md5", sa.String(32), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("media_type", sa.String(128), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("product_id", "name", name="uq_product_files_name"),
    )
    op.create_table(
        "access_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("product_id", sa.Integer, sa.ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
        sa.Column("partner_id", sa.Integer, sa.ForeignKey("partners.id"), nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("commitment", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("decided_at", sa.String(32), nullable=True),
    )
    op.create_table(
        "access_decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("product_id", sa.Integer, nullable=False),
        sa.Column("partner_id", sa.Integer, nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("allowed", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for name in ("access_decisions", "access_requests", "product_files"):
        op.drop_table(name)
    op.drop_index("ix_products_lid", "products")
    for name in ("products", "payloads", "missions"):
        op.drop_table(name)
