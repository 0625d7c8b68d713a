"""dashboard_summaries: when each row was counted, and the row deleted with a completed scan of its
organization

``dashboard.reconcile`` (beat, every five minutes) read every completed scan of every organization to
find the summaries a lost follow-up or a deletion had left stale. It now looks only at the organizations
with a scan completed since their row was counted (``counted_at``; NULL for the rows counted before this
revision, which are looked at once) or with no row at all (``common.dashboard.organizations_to_reconcile``).

A deletion leaves no completed scan behind to find, so on PostgreSQL (the only database with summary
rows) deleting completed scans deletes their organizations' rows, in the deleting statement's
transaction: the dashboard counts live until the next reconcile counts the row again, and an
organization whose scans are all deleted keeps no summary of them.

Revision ID: 0018_dash_reconcile
Revises: 0017_sec_residue
Create Date: 2026-12-06 16:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_dash_reconcile"
down_revision = "0017_sec_residue"
branch_labels = None
depends_on = None

# The organizations' rows are locked first, as a refresh locks its organization's
# (``common.dashboard.refresh_summary``): a refresh that began reading before the deletion committed
# finishes before the row is deleted, and one that begins after reads without the deleted scans.
FORGET_FUNCTION = """
CREATE FUNCTION dashboard_summaries_forget_deleted_scans() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM organizations
    WHERE id IN (SELECT organization_id FROM deleted_scans WHERE status = 'completed')
    ORDER BY id
    FOR NO KEY UPDATE;
    DELETE FROM dashboard_summaries
    WHERE organization_id IN (SELECT organization_id FROM deleted_scans WHERE status = 'completed');
    RETURN NULL;
END
$$
"""
FORGET_TRIGGER = """
CREATE TRIGGER scans_deleted_forget_dashboard_summaries
AFTER DELETE ON scans
REFERENCING OLD TABLE AS deleted_scans
FOR EACH STATEMENT EXECUTE FUNCTION dashboard_summaries_forget_deleted_scans()
"""


def upgrade() -> None:
    op.add_column("dashboard_summaries", sa.Column("counted_at", sa.DateTime(timezone=True)))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FORGET_FUNCTION)
        op.execute(FORGET_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER scans_deleted_forget_dashboard_summaries ON scans")
        op.execute("DROP FUNCTION dashboard_summaries_forget_deleted_scans()")
    with op.batch_alter_table("dashboard_summaries") as batch:
        batch.drop_column("counted_at")
