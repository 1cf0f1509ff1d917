"""exchange: PDS4 labels kept verbatim (content-addressed), label validation policy per mission,
the label's path in its archive, and DOIs

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

PRODUCT_COLUMNS = (
    ("label_sha256", sa.String(64)),
    ("label_changes", sa.Text),
    ("label_findings", sa.Text),
    ("doi", sa.String(255)),
    ("archive_path", sa.String(512)),
)


def upgrade() -> None:
    # plain ALTER TABLE ADD/DROP COLUMN (SQLite >= 3.35 and PostgreSQL): a batch rebuild of tables
    # that others reference would fail with foreign keys on
    for name, kind in PRODUCT_COLUMNS:
        op.add_column("products", sa.Column(name, kind, nullable=True))
    op.add_column("missions", sa.Column("label_policy", sa.String(16), nullable=False, server_default="warn"))


def downgrade() -> None:
    op.drop_column("missions", "label_policy")
    for name, _ in PRODUCT_COLUMNS:
        op.drop_column("products", name)
