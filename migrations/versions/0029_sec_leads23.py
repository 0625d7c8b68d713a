"""exports, evaluation_runs: a person's jobs in flight, indexed by who asked for them

One person is held to ``EXPORTS_IN_FLIGHT_PER_ORG`` and ``EVALUATIONS_IN_FLIGHT_PER_ORG`` across every
organization they belong to, as each organization is (``web.core.job_quota``): the count at each request
reads only the jobs in flight.

Revision ID: 0029_sec_leads23
Revises: 0028_sec_review20
Create Date: 2026-12-07 16:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0029_sec_leads23"
down_revision = "0028_sec_review20"
branch_labels = None
depends_on = None

IN_FLIGHT = sa.text("status IN ('queued', 'running')")


def upgrade() -> None:
    op.create_index(
        "ix_exports_creator_in_flight",
        "exports",
        ["created_by"],
        postgresql_where=IN_FLIGHT,
        sqlite_where=IN_FLIGHT,
    )
    op.create_index(
        "ix_evaluation_runs_requester_in_flight",
        "evaluation_runs",
        ["requested_by"],
        postgresql_where=IN_FLIGHT,
        sqlite_where=IN_FLIGHT,
    )


def downgrade() -> None:
    op.drop_index("ix_evaluation_runs_requester_in_flight", table_name="evaluation_runs")
    op.drop_index("ix_exports_creator_in_flight", table_name="exports")
