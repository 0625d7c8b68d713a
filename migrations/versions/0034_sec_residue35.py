"""A scan records whether it read its n8n instance with a credential the organization saved

An n8n scan made with a key the requester sent (``n8n_url`` with ``n8n_api_key``) read what that key sees,
the requester's word as much as an upload's repository is, so it is a baseline only for later scans of the
same sender (``common.baseline.trusted_for``); one made with a saved credential speaks for everyone. Which
credential an earlier scan used was never recorded, so every earlier n8n scan counts as made with one, as it
was trusted before: the latest of them is the baseline only until a scan made with a credential completes.

Revision ID: 0034_sec_residue35
Revises: 0033_review_sec34a
Create Date: 2026-12-08 00:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0034_sec_residue35"
down_revision = "0033_review_sec34a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "scans",
        sa.Column("n8n_from_credential", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute("UPDATE scans SET n8n_from_credential = TRUE WHERE n8n_url IS NOT NULL")


def downgrade() -> None:
    op.drop_column("scans", "n8n_from_credential")
