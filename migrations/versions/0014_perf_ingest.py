"""ingest: the posted result kept as its text, and the components' redundant indexes dropped

``scan_results.payload`` was ``jsonb``: PostgreSQL parsed and compressed every posted result (10 MB for
20,000 components) and printed it back as text for the ingest worker, which decodes it itself. It is now
the result's UTF-8 JSON text as posted, in a ``bytea`` stored uncompressed out of line (``STORAGE
EXTERNAL``); ``bytea`` rather than ``text`` so that the API hands the database the posted bytes as they are.

Every query on ``components`` and ``scan_relationships`` selects one scan; ``ix_components_scan_id``
and ``ix_scan_relationships_scan_id`` duplicate the leading column of the unique constraint (and of the
listing's index), and ``ix_components_type`` / ``ix_components_severity`` serve no query (the type and
severity filters always come with a scan). Each was written for every ingested row.

Revision ID: 0014_perf_ingest
Revises: 0013
Create Date: 2026-12-06 09:40:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014_perf_ingest"
down_revision = "0013"
branch_labels = None
depends_on = None

REDUNDANT_INDEXES = {
    "ix_components_scan_id": ("components", ["scan_id"]),
    "ix_components_type": ("components", ["type"]),
    "ix_components_severity": ("components", ["severity"]),
    "ix_scan_relationships_scan_id": ("scan_relationships", ["scan_id"]),
}
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    for name, (table, _columns) in REDUNDANT_INDEXES.items():
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("scan_results") as batch:
        batch.alter_column(
            "payload",
            type_=sa.LargeBinary(),
            existing_type=JSON_TYPE,
            existing_nullable=False,
            postgresql_using="convert_to(payload::text, 'UTF8')",
        )
    if op.get_bind().dialect.name == "postgresql":  # SQLite's batch copy casts the values itself
        op.execute("ALTER TABLE scan_results ALTER COLUMN payload SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":  # SQLite's batch copy would keep the values binary
        op.execute("UPDATE scan_results SET payload = CAST(payload AS TEXT)")
    with op.batch_alter_table("scan_results") as batch:
        batch.alter_column(
            "payload",
            type_=JSON_TYPE,
            existing_type=sa.LargeBinary(),
            existing_nullable=False,
            postgresql_using="convert_from(payload, 'UTF8')::jsonb",
        )
    for name, (table, columns) in REDUNDANT_INDEXES.items():
        op.create_index(name, table, columns, unique=False)
