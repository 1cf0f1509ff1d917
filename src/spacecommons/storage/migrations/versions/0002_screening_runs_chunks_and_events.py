"""screening: runs with their parameters, resumable chunks, conjunction events

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "screening_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("params_json", sa.Text, nullable=False),
        sa.Column("catalog_digest", sa.String(64), nullable=False),
        sa.Column("catalog_json", sa.Text, nullable=False),
        sa.Column("n_objects", sa.Integer, nullable=False),
        sa.Column("n_chunks", sa.Integer, nullable=False),
        sa.Column("n_events", sa.Integer, nullable=True),
        sa.Column("stats_json", sa.Text, nullable=True),
        sa.Column("message", sa.Text, nullable=True),
    )
    op.create_table(
        "screening_chunks",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("screening_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("index", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("result_json", sa.Text, nullable=False),
    )
    op.create_table(
        "conjunction_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("screening_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("id1", sa.Integer, nullable=False),
        sa.Column("name1", sa.String(128), nullable=False),
        sa.Column("id2", sa.Integer, nullable=False),
        sa.Column("name2", sa.String(128), nullable=False),
        sa.Column("tca", sa.String(32), nullable=False),
        sa.Column("miss_km", sa.Float, nullable=False),
        sa.Column("speed_km_s", sa.Float, nullable=False),
        sa.Column("r_km", sa.Float, nullable=False),
        sa.Column("t_km", sa.Float, nullable=False),
        sa.Column("n_km", sa.Float, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("span_start", sa.String(32), nullable=True),
        sa.Column("span_end", sa.String(32), nullable=True),
        sa.Column("n_minima", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("ix_conjunction_events_run_miss", "conjunction_events", ["run_id", "miss_km"])
    op.create_index("ix_conjunction_events_run_tca", "conjunction_events", ["run_id", "tca"])


def downgrade() -> None:
    op.drop_table("conjunction_events")
    op.drop_table("screening_chunks")
    op.drop_table("screening_runs")
