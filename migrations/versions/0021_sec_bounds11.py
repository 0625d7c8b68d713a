"""scans: ix_scans_org_in_flight; webhook_deliveries.sending_since

The index serves the count of an organization's queued and running scans that every scan creation and
every scheduled run makes (``SCANS_IN_FLIGHT_PER_ORG``): without it the count read all of the
organization's scans.

``sending_since`` is a delivery attempt's claim: the worker records it in a short transaction, sends the
request outside any transaction, and records the outcome in another (it held the delivery's row lock,
and a database connection, for the whole send before).

Revision ID: 0021_sec_bounds11
Revises: 0020_sec_sso8
Create Date: 2026-12-07 03:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_sec_bounds11"
down_revision = "0020_sec_sso8"
branch_labels = None
depends_on = None

IN_FLIGHT = sa.text("status IN ('queued', 'running')")


def upgrade() -> None:
    op.create_index(
        "ix_scans_org_in_flight",
        "scans",
        ["organization_id"],
        postgresql_where=IN_FLIGHT,
        sqlite_where=IN_FLIGHT,
    )
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("sending_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("sending_since")
    op.drop_index("ix_scans_org_in_flight", table_name="scans")
