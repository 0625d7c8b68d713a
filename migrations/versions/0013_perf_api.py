"""scan rollups: a completed scan's components counted once, for the dashboard

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 06:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scan_rollups",
        sa.Column("scan_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("components", sa.Integer(), nullable=False),
        sa.Column("highest_risk_score", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["scan_id"], ["scans.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("scan_id", "kind", "name"),
    )


def downgrade() -> None:
    op.drop_table("scan_rollups")
