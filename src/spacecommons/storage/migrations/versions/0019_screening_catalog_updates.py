"""screening runs: the element sets incremental updates changed, kept beside the run's stored catalog

An update stores only the element sets it changed (``screening_catalog_updates``) instead of writing
the run's whole catalog (``screening_runs.catalog_json``, 4 MB for a whole-catalog run) again; the
run's catalog is ``catalog_json`` with these rows replacing or joining its entries
(``storage.screening_repo.run_catalog``). The downgrade folds the rows back into ``catalog_json``
first, so that the schema before this revision reads every run's current catalog.

Revision ID: 0019
Revises: 0018
"""

import json
from bisect import bisect_left

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "screening_catalog_updates",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("screening_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("norad_id", sa.Integer, primary_key=True, autoincrement=False),
        # both as JSON, as catalog_json holds them: a 2-line list or an OMM/OEM string; the name a JSON
        # string (a lone surrogate of a JSON upload survives as its escape)
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )


def downgrade() -> None:
    conn = op.get_bind()
    runs = conn.execute(sa.text("SELECT DISTINCT run_id FROM screening_catalog_updates")).scalars().all()
    for run_id in runs:
        catalog = conn.execute(sa.text("SELECT catalog_json FROM screening_runs WHERE id = :id"), {"id": run_id})
        cat = json.loads(catalog.scalar_one())
        ids, names, texts = list(cat["norad_ids"]), list(cat["names"]), list(cat["texts"])
        rows = conn.execute(
            sa.text("SELECT norad_id, name, text FROM screening_catalog_updates WHERE run_id = :id ORDER BY norad_id"),
            {"id": run_id},
        )
        for nid, name, text in rows:
            i = bisect_left(ids, nid)
            if i < len(ids) and ids[i] == nid:
                names[i], texts[i] = json.loads(name), json.loads(text)
            else:
                ids.insert(i, nid)
                names.insert(i, json.loads(name))
                texts.insert(i, json.loads(text))
        merged = json.dumps({"norad_ids": ids, "names": names, "texts": texts})
        conn.execute(sa.text("UPDATE screening_runs SET catalog_json = :c WHERE id = :id"), {"c": merged, "id": run_id})
    op.drop_table("screening_catalog_updates")
