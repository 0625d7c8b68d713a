"""dashboard: a scan's target key, the indexes of each target's latest completed scan and of the
completed scans by their finish, and each organization's summary row

The dashboard grouped scans by ``coalesce(target, n8n_url)``: every repository scan (no ``target``) fell
into one group, and every upload into one per format (``upload:json``). ``scans.target_key`` (generated
from the scan's own columns, ``models.scans.TARGET_KEY_SQL``) tells paths, n8n instances, repositories at
a ref and uploads by the repository and branch they name apart. PostgreSQL stores it (a generated column
there is always stored); SQLite computes it when read, as ``ALTER TABLE`` can only add such a column.

The newest scans of an organization (the dashboard's recent scans, the scan list) and each scan's rollup
total (the dashboard's trend, and whether a scan was rolled up) get indexes of their own.

``dashboard_summaries`` keeps an organization's current state as the dashboard's statement returns it, with
the key of the latest scans it was counted from (``common.dashboard``).

Revision ID: 0016_perf_dash2
Revises: 0015_perf_ingest2
Create Date: 2026-12-06 12:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_perf_dash2"
down_revision = "0015_perf_ingest2"
branch_labels = None
depends_on = None

# Written out rather than imported: a migration keeps the definition it was written with.
TARGET_KEY_SQL = (
    "CASE"
    " WHEN substr(target, 1, 7) = 'upload:'"
    " THEN 'upload ' || coalesce(repository_url || ' ' || coalesce(source_branch, ''), id)"
    " WHEN repository_url IS NOT NULL"
    " THEN 'repository ' || repository_url || ' ' || coalesce(repository_ref, 'HEAD')"
    " ELSE coalesce('path ' || target, '') || coalesce(' n8n ' || n8n_url, '')"
    " END"
)
COMPLETED = sa.text("status = 'completed'")
TOTALS = sa.text("kind = 'total'")


def upgrade() -> None:
    op.create_table(
        "dashboard_summaries",
        sa.Column(
            "organization_id",
            sa.String(36),
            sa.ForeignKey("organizations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("latest_scans", sa.String(32)),
        sa.Column("current", sa.Text(), nullable=False),
    )
    stored = op.get_bind().dialect.name == "postgresql"
    op.add_column("scans", sa.Column("target_key", sa.Text(), sa.Computed(TARGET_KEY_SQL, persisted=stored)))
    op.create_index(
        "ix_scans_completed_by_target",
        "scans",
        ["organization_id", "target_key", sa.text("finished_at DESC"), sa.text("id DESC")],
        postgresql_where=COMPLETED,
        sqlite_where=COMPLETED,
    )
    op.create_index(
        "ix_scans_completed_by_finish",
        "scans",
        ["organization_id", "finished_at"],
        postgresql_where=COMPLETED,
        sqlite_where=COMPLETED,
    )

    op.create_index("ix_scans_org_created", "scans", ["organization_id", sa.text("created_at DESC"), "id"])
    op.create_index(
        "ix_scan_rollups_totals",
        "scan_rollups",
        ["scan_id"],
        postgresql_include=["components", "highest_risk_score"],
        postgresql_where=TOTALS,
        sqlite_where=TOTALS,
    )


def downgrade() -> None:
    op.drop_index("ix_scan_rollups_totals", table_name="scan_rollups")
    op.drop_index("ix_scans_org_created", table_name="scans")
    op.drop_index("ix_scans_completed_by_finish", table_name="scans")
    op.drop_index("ix_scans_completed_by_target", table_name="scans")
    with op.batch_alter_table("scans") as batch:
        batch.drop_column("target_key")
    op.drop_table("dashboard_summaries")
