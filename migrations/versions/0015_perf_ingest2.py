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

import sqlalchemy as sa
from alembic import op

revision = "0015_perf_ingest2"
down_revision = "0014_perf_ingest"
branch_labels = None
depends_on = None

INDEX = "ix_components_organization_id"
# The name PostgreSQL gave the unnamed constraint of 0001, and the one it gets back on a downgrade.
FOREIGN_KEY = "components_organization_id_fkey"
# SQLite's constraint has no name: a batch copy of the table names it by this convention to drop it.
SQLITE_NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def _organization_foreign_key(bind) -> str:
    for foreign_key in sa.inspect(bind).get_foreign_keys("components"):
        if foreign_key["referred_table"] == "organizations":
            return foreign_key["name"]
    raise RuntimeError("components has no foreign key to organizations")


def upgrade() -> None:
    op.add_column(
        "scan_results", sa.Column("components_checked", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.drop_index(INDEX, table_name="components")
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("components", naming_convention=SQLITE_NAMING) as batch:
            batch.drop_constraint("fk_components_organization_id_organizations", type_="foreignkey")
    else:
        op.drop_constraint(_organization_foreign_key(bind), "components", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("components") as batch:
        batch.create_foreign_key(FOREIGN_KEY, "organizations", ["organization_id"], ["id"], ondelete="CASCADE")
    op.create_index(INDEX, "components", ["organization_id"], unique=False)
    with op.batch_alter_table("scan_results") as batch:
        batch.drop_column("components_checked")
