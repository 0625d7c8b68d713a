"""webhooks: a destination kind (generic, slack, teams)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 04:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=20), nullable=False, server_default="generic"))


def downgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.drop_column("kind")
