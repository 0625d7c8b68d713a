"""components: an index in the listing's order (scan, risk descending, name, id)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 02:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_components_scan_rank",
        "components",
        ["scan_id", sa.text("risk_score DESC"), "name", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_components_scan_rank", table_name="components")
