"""ingest: components keep their organization without a foreign key or an index of it, and a stored
result says whether its components were checked

``components.organization_id`` referenced ``organizations`` with ``ON DELETE CASCADE``: PostgreSQL checked
that reference for every ingested row (≈ 0.19 s of backend CPU per 20,000 rows) and wrote its index
(≈ 0.06 s), which no query uses on its own. A component's organization is its scan's (ingest copies it from
the scan row), ``components.scan_id`` references ``scans`` with ``ON DELETE CASCADE`` and so does
``scans.organization_id``: deleting an organization deletes its scans and, through them, their components.
The column stays, filled and filtered as before (the component listing matches it against the caller's
organization besides the scan).

``scan_results.components_checked`` is set by the API, which keeps only the components the platform can
store before it writes a result (the internal endpoint and uploads alike), so that ingest does not check
each component a second time. Rows written before, and any row written otherwise, stay ``false`` and are
checked at ingest.

Revision ID: 0015_perf_ingest2
Revises: 0014_perf_ingest
Create Date: 2026-12-06 10:40:00.000000
"""

from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0015_perf_ingest2"
down_revision = "0014_perf_ingest"
branch_labels = None
depends_on = None

INDEX = "ix_components_organization_id"
# The name PostgreSQL gave the unnamed constraint of 0001, and the one it gets back on a downgrade.
FOREIGN_KEY = "components_organization_id_fkey"
# SQLite's constraint of 0001 has no name: a batch copy of the table names it by this convention.
SQLITE_NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
RANK_INDEX = ("ix_components_scan_rank", ["scan_id", sa.text("risk_score DESC"), "name", "id"])


def _organization_foreign_key(bind) -> str | None:
    """The name of the constraint from ``components`` to ``organizations`` (None: SQLite's unnamed one)."""
    for foreign_key in sa.inspect(bind).get_foreign_keys("components"):
        if foreign_key["referred_table"] == "organizations":
            return foreign_key["name"]
    raise RuntimeError("components has no foreign key to organizations")


@contextmanager
def _components_altered(bind):
    """A batch on ``components``: ``ALTER TABLE`` on PostgreSQL; on SQLite, which alters no constraint, a
    copy of the table, whose rebuilt listing index would lose its descending column: rebuilt as 0007 made it."""
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        op.drop_index(RANK_INDEX[0], table_name="components")
    with op.batch_alter_table("components", naming_convention=SQLITE_NAMING) as batch:
        yield batch
    if sqlite:
        op.create_index(RANK_INDEX[0], "components", RANK_INDEX[1], unique=False)


def upgrade() -> None:
    op.add_column(
        "scan_results", sa.Column("components_checked", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.drop_index(INDEX, table_name="components")
    bind = op.get_bind()
    name = _organization_foreign_key(bind) or "fk_components_organization_id_organizations"
    with _components_altered(bind) as batch:
        batch.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    with _components_altered(op.get_bind()) as batch:
        batch.create_foreign_key(FOREIGN_KEY, "organizations", ["organization_id"], ["id"], ondelete="CASCADE")
    op.create_index(INDEX, "components", ["organization_id"], unique=False)
    with op.batch_alter_table("scan_results") as batch:
        batch.drop_column("components_checked")
