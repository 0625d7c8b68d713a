"""scan_results: the posted results of ended scans deleted

A scan's posted result is its scanner's output as sent: snippets and metadata not yet masked (ingest masks
what it stores in ``components``). From this revision on, the transaction that ends a scan deletes it
(``Scan.discard_inputs``); this deletes the ones that scans which ended before kept, so that no unmasked
key found by a scan stays at rest. Nothing reads them: a completed or failed scan is never ingested again.

There is no way back: the downgrade leaves them deleted.

Revision ID: 0017_sec_residue
Revises: 0016_perf_dash2
Create Date: 2026-12-06 12:50:00.000000
"""

from alembic import op

revision = "0017_sec_residue"
down_revision = "0016_perf_dash2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM scan_results WHERE scan_id IN (SELECT id FROM scans WHERE status IN ('completed', 'failed'))"
    )


def downgrade() -> None:
    """The deleted results are gone; the schema is unchanged."""
