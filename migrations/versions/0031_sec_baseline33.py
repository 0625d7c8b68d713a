"""A scan records the API key it was sent with; a repository's baseline is read off an index

An upload's repository is its sender's word, so an upload is a baseline only for later uploads of the same
sender (``common.baseline.trusted_for``): the same API key, else the same user from a session. An earlier
upload takes its key from its ``scan.import`` audit row, so a CI key keeps its own history as baseline; one
whose row is gone (past the audit retention) or whose key was deleted counts as its user's from a session.

Revision ID: 0031_sec_baseline33
Revises: 0030_review_sec23
Create Date: 2026-12-07 19:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0031_sec_baseline33"
down_revision = "0030_review_sec23"
branch_labels = None
depends_on = None

COMPLETED = sa.text("status = 'completed'")
SENDERS_FROM_AUDIT = (
    "UPDATE scans SET api_key_id = audit_log.actor_api_key_id FROM audit_log"
    " WHERE audit_log.action = 'scan.import' AND audit_log.target_type = 'scan'"
    " AND audit_log.target_id = scans.id"
    " AND audit_log.actor_api_key_id IN (SELECT id FROM api_keys)"
)


def upgrade() -> None:
    api_key_id = sa.Column("api_key_id", sa.String(length=36), nullable=True)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column's reference only with the column; its table is not copied (``target_key``).
        op.execute(
            "ALTER TABLE scans ADD COLUMN api_key_id VARCHAR(36) REFERENCES api_keys (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("scans", api_key_id)
        op.create_foreign_key(
            "scans_api_key_id_fkey", "scans", "api_keys", ["api_key_id"], ["id"], ondelete="SET NULL"
        )
    op.create_index(
        "ix_scans_completed_by_repository",
        "scans",
        ["organization_id", "repository_url", sa.text("created_at DESC")],
        postgresql_where=COMPLETED,
        sqlite_where=COMPLETED,
    )
    op.execute(SENDERS_FROM_AUDIT)


def downgrade() -> None:
    op.drop_index("ix_scans_completed_by_repository", table_name="scans")
    op.drop_column("scans", "api_key_id")  # its reference with it, on either database
