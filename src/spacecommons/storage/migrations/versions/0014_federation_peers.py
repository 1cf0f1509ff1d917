"""federation: peers (node keys, cursors) and the products' origin node, admitted partners and
feed sequence

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "peers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.String(512), nullable=False, unique=True),
        sa.Column("public_key", sa.String(64), nullable=False, unique=True),
        sa.Column("partner_id", sa.Integer, sa.ForeignKey("partners.id"), nullable=True),
        sa.Column("mirror_partner_id", sa.Integer, sa.ForeignKey("partners.id"), nullable=False),
        sa.Column("cursor_seq", sa.Integer, nullable=False),
        sa.Column("cursor_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    # plain ALTER TABLE ADD COLUMN (see 0013: no batch rebuild of a referenced table)
    op.add_column("products", sa.Column("origin", sa.String(512), nullable=True))
    op.add_column("products", sa.Column("admitted", sa.Text, nullable=True))
    op.add_column("products", sa.Column("feed_seq", sa.Integer, nullable=True))
    op.create_index("ix_products_feed_seq", "products", ["feed_seq"])


def downgrade() -> None:
    op.drop_index("ix_products_feed_seq", "products")
    for name in ("feed_seq", "admitted", "origin"):
        op.drop_column("products", name)
    op.drop_table("peers")
