"""catalog: element-set trust (authoritative | partner) and submitter; an owner partner per object

Revision ID: 0010
Revises: 0009

``element_sets.trust`` and ``element_sets.partner_id`` record where a set came from, so that a
partner's submission for an object it does not own never becomes that object's latest state
(``catalog.trust``); ``space_objects.owner_partner_id`` is the partner whose sets may (None: only the
authoritative source's).

Existing rows: every set is authoritative except those the API stored, whose ``source`` the
submission route wrote as ``api:<partner name>/<member>/<file>``; they become partner sets, of the
partner whose name that prefix spells (the longest such name, should one partner's name be a prefix
of another's; none if no partner has it: such a set still never counts as authoritative). No object
gets an owner: ownership is an administrator's decision.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The partner whose "api:<name>/" prefix starts an element set's source (plain string functions,
# the same on SQLite and PostgreSQL; LIKE is avoided because a name may hold % or _).
_PREFIX = "'api:' || partners.name || '/'"
_SUBMITTER = (
    f"(SELECT partners.id FROM partners WHERE substr(element_sets.source, 1, length({_PREFIX})) = {_PREFIX} "
    "ORDER BY length(partners.name) DESC LIMIT 1)"
)


def upgrade() -> None:
    # plain ADD/DROP COLUMN (SQLite >= 3.35 has both), not batch mode: a batch rebuild of
    # space_objects would drop a table that element_sets references while foreign keys are on
    op.add_column("element_sets", sa.Column("trust", sa.String(16), nullable=False, server_default="authoritative"))
    op.add_column("element_sets", sa.Column("partner_id", sa.Integer, nullable=True))
    op.add_column("space_objects", sa.Column("owner_partner_id", sa.Integer, nullable=True))
    op.execute(f"UPDATE element_sets SET partner_id = {_SUBMITTER} WHERE substr(source, 1, 4) = 'api:'")
    op.execute("UPDATE element_sets SET trust = 'partner' WHERE substr(source, 1, 4) = 'api:'")


def downgrade() -> None:
    op.drop_column("space_objects", "owner_partner_id")
    op.drop_column("element_sets", "partner_id")
    op.drop_column("element_sets", "trust")
