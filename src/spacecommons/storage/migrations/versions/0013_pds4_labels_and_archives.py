"""exchange: PDS4 labels kept verbatim (content-addressed), label validation policy per mission,
DOIs, and the members of bundles and collections

Revision ID: 0013
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None

PRODUCT_COLUMNS = (
    ("label_sha256", sa.String(64)),
    ("label_changes", sa.Text),
    ("label_findings", sa.Text),
    ("doi", sa.String(255)),
)


def upgrade() -> None:
    # plain ALTER TABLE ADD/DROP COLUMN (SQLite >= 3.35 and PostgreSQL): a batch rebuild of tables
    # that others reference would fail with foreign keys on
    for name, kind in PRODUCT_COLUMNS:
        op.add_column("products", sa.Column(name, kind, nullable=True))
    op.add_column("missions", sa.Column("label_policy", sa.String(16), nullable=False, server_default="strict"))
    op.create_table(
        "archive_members",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
        sa.Column("member_lid", sa.String(255), nullable=False),
        sa.Column("member_vid", sa.String(32), nullable=True),
        sa.Column("member_status", sa.String(16), nullable=False),
        sa.Column("reference_type", sa.String(64), nullable=True),
        sa.UniqueConstraint("parent_id", "member_lid", name="uq_archive_members"),
    )
    op.create_index("ix_archive_members_member_lid", "archive_members", ["member_lid"])


def downgrade() -> None:
    op.drop_index("ix_archive_members_member_lid", table_name="archive_members")
    op.drop_table("archive_members")
    op.drop_column("missions", "label_policy")
    for name, _ in PRODUCT_COLUMNS:
        op.drop_column("products", name)
