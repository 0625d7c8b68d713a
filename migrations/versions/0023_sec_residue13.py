"""Jobs count the reconciler's re-sends, so one whose task never starts fails instead of staying queued

A queued job (a scan, an export, an evaluation, a maintenance job) whose message never arrives or whose
task dies before it starts was re-sent every ``SCAN_STALE_MINUTES`` for ever; a scan kept one of its
organization's ``SCANS_IN_FLIGHT_PER_ORG`` slots all that time. ``resends`` counts the re-sends since a
worker last started the job; past ``jobs.MAX_RESENDS`` the reconciler fails it.

Revision ID: 0023_sec_residue13
Revises: 0022_sec_review12
Create Date: 2026-12-07 04:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_sec_residue13"
down_revision = "0022_sec_review12"
branch_labels = None
depends_on = None

JOB_TABLES = ("scans", "exports", "evaluation_runs", "maintenance_jobs")


def upgrade() -> None:
    for table in JOB_TABLES:
        op.add_column(table, sa.Column("resends", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    for table in JOB_TABLES:
        op.drop_column(table, "resends")
