"""The dashboard's follow-up racing the deletions a tenant can make: neither fails, and nothing deleted
is counted again."""

from __future__ import annotations

import threading

from sqlalchemy import delete, select

import workers.dashboard
from common.db import session_scope
from common.models import Organization, Scan
from common.models.scans import DashboardSummary, ScanRollup
from tests.factories import component, make_scan
from workers.dashboard import roll_up


def test_deleting_an_organization_while_its_follow_up_counts_is_not_a_deadlock(make_user, monkeypatch):
    """The follow-up of a completion rolled the scans up (a key-share lock on each) and then waited for
    the organization's row; deleting the organization locks that row, then deletes its scans: each waited
    for the other, and PostgreSQL aborted one of the two (an admin's ``DELETE`` answered 503). The
    deletion now goes through, and the follow-up counts nothing of what it deleted."""
    user, neighbour = make_user(), make_user()
    scan_id = make_scan(user.org_id, components=[component("model", "gpt-4o")])
    kept = make_scan(neighbour.org_id, components=[component("model", "o1")])
    roll_up(kept)
    deletion: dict[str, object] = {}

    def delete_organization() -> None:
        try:
            with session_scope() as session:
                session.execute(delete(Organization).where(Organization.id == user.org_id))
            deletion["outcome"] = "deleted"
        except Exception as exc:
            deletion["outcome"] = exc

    refresh = workers.dashboard.refresh_summary
    deleting = threading.Thread(target=delete_organization)

    def refresh_while_deleting(connection, organization_id):
        deleting.start()
        deleting.join(2)  # the deletion finishes, or waits for what the follow-up still holds
        refresh(connection, organization_id)

    monkeypatch.setattr(workers.dashboard, "refresh_summary", refresh_while_deleting)
    roll_up(scan_id)
    deleting.join(30)
    assert deletion["outcome"] == "deleted", deletion
    with session_scope() as session:
        assert session.get(Organization, user.org_id) is None
        assert session.scalar(select(Scan.id).where(Scan.organization_id == user.org_id)) is None
        assert session.get(DashboardSummary, user.org_id) is None
        assert session.scalar(select(ScanRollup.scan_id).where(ScanRollup.scan_id == scan_id)) is None
        assert session.get(DashboardSummary, neighbour.org_id) is not None
