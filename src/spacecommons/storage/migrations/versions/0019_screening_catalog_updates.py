"""screening runs: the input catalog out of the run's row, and the objects incremental updates changed

A run's input catalog moves from ``screening_runs.catalog_json`` to ``screening_run_catalogs`` (one
row per run: ids and names in ``names_json``, element sets in ``texts_json``), because SQLite writes a
row's whole record again when a column changes size, and every update of a run changes its counts and
statistics: with the catalog in the row, that was 4 MB of JSON again per update of a whole-catalog
run. The run row's ``catalog_json`` stays as ``''`` (dropping a column on SQLite rebuilds the table
and its foreign keys). An update stores only the objects it changed (``screening_catalog_updates``);
the run's catalog is its catalog row with these rows replacing or joining entries
(``storage.screening_repo.run_catalog``). The downgrade writes each run's catalog as it stands, the
update rows folded in, back into ``catalog_json``, so that the schema before this revision reads it.

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


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"))


def upgrade() -> None:
    op.create_table(
        "screening_run_catalogs",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("screening_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("names_json", sa.Text, nullable=False),
        sa.Column("texts_json", sa.Text, nullable=False),
    )
    op.create_table(
        "screening_catalog_updates",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("screening_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("norad_id", sa.Integer, primary_key=True, autoincrement=False),
        # both as JSON, as the run's catalog holds them: a 2-line list or an OMM/OEM string; the name a
        # JSON string (a lone surrogate of a JSON upload survives as its escape)
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    conn = op.get_bind()
    run_ids = conn.execute(sa.text("SELECT id FROM screening_runs ORDER BY id")).scalars().all()
    for run_id in run_ids:  # one run at a time: a whole-catalog run's JSON is 4 MB
        text = conn.execute(sa.text("SELECT catalog_json FROM screening_runs WHERE id = :id"), {"id": run_id})
        cat = json.loads(text.scalar_one() or "{}")
        if not isinstance(cat, dict):  # a row written by hand with no catalog
            cat = {}
        names = _dumps({"norad_ids": cat.get("norad_ids", []), "names": cat.get("names", [])})
        conn.execute(
            sa.text("INSERT INTO screening_run_catalogs (run_id, names_json, texts_json) VALUES (:id, :n, :t)"),
            {"id": run_id, "n": names, "t": _dumps(cat.get("texts", []))},
        )
        conn.execute(sa.text("UPDATE screening_runs SET catalog_json = '' WHERE id = :id"), {"id": run_id})


def downgrade() -> None:
    conn = op.get_bind()
    run_ids = conn.execute(sa.text("SELECT run_id FROM screening_run_catalogs ORDER BY run_id")).scalars().all()
    for run_id in run_ids:
        row = conn.execute(
            sa.text("SELECT names_json, texts_json FROM screening_run_catalogs WHERE run_id = :id"), {"id": run_id}
        ).one()
        cat = json.loads(row[0])
        ids, names, texts = list(cat["norad_ids"]), list(cat["names"]), list(json.loads(row[1]))
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
    op.drop_table("screening_run_catalogs")
