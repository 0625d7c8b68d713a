"""A scan waiting its organization's turn to run says when it looks again (``scans.next_look_at``)

An organization runs at most ``SCANS_RUNNING_PER_ORG`` scans at once; a scan over that cap goes back on the
queue with a delay, still ``queued``. The reconciler re-sends a queued job whose message looks lost and
fails it after ``jobs.MAX_RESENDS`` re-sends: it counts a waiting scan's time from its last look, not from
its creation, so a scan waiting its turn is left to its own message.

Revision ID: 0025_sec_scanfair17
Revises: 0024_sec_residue15
Create Date: 2026-12-07 07:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0025_sec_scanfair17"
down_revision = "0024_sec_residue15"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("scans", sa.Column("next_look_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("scans", "next_look_at")
