"""Audit retention: the admin's queued cleanup and beat's daily run, through the real maintenance worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from common.celery_client import enqueue
from common.db import session_scope
from common.models import AuditLog, Organization
from common.models.base import utcnow
from common.tasks import AUDIT_CLEANUP
from tests.helpers import add_member, wait_for

pytestmark = pytest.mark.usefixtures("celery_worker")

CLEANUP = "/api/v1/audit-log/cleanup"


def _entries(organization_id: str | None, *ages_in_days: int) -> list[str]:
    now = utcnow()
    rows = [
        AuditLog(
            organization_id=organization_id, action=f"test.age{days}", created_at=now - timedelta(days=days)
        )
        for days in ages_in_days
    ]
    with session_scope() as session:
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def _remaining(ids: list[str]) -> set[str]:
    with session_scope() as session:
        return set(session.scalars(select(AuditLog.id).where(AuditLog.id.in_(ids))))


def _finished_job(client, user, response) -> dict:
    assert response.status_code == 202, response.json
    location = response.headers["Location"]
    return wait_for(
        lambda: (
            (job := client.get(location, headers=user.headers()).json)["status"] in ("completed", "failed")
            and job
        )
    )


def test_cleanup_deletes_exactly_the_old_entries_of_the_organization(client, make_user):
    alice, bob = make_user(), make_user()
    old = _entries(alice.org_id, 91, 120, 400)
    kept = _entries(alice.org_id, 89, 10, 0)
    bobs = _entries(bob.org_id, 91, 400)
    response = client.delete(CLEANUP, headers=alice.headers())
    assert response.json["status"] == "queued" and response.json["organization_id"] == alice.org_id
    assert response.json["older_than_days"] == 90
    assert response.headers["Location"].endswith(f"{CLEANUP}/{response.json['id']}")
    job = _finished_job(client, alice, response)
    assert job["status"] == "completed" and job["deleted"] == 3, job
    assert _remaining(old + kept + bobs) == set(kept + bobs)
    longer_kept, longer_old = _entries(alice.org_id, 100), _entries(alice.org_id, 130)
    override = _finished_job(
        client, alice, client.delete(f"{CLEANUP}?older_than_days=120", headers=alice.headers())
    )
    assert override["older_than_days"] == 120 and override["deleted"] == 1
    assert _remaining(kept + bobs + longer_kept + longer_old) == set(kept + bobs + longer_kept)


def test_an_admin_cannot_erase_entries_younger_than_the_retention(client, make_user):
    """The attack: an admin covers their tracks by cleaning up everything older than a day."""
    admin = make_user()
    recent = _entries(admin.org_id, 2, 30, 89)
    for days in (1, 5, 89):
        response = client.delete(f"{CLEANUP}?older_than_days={days}", headers=admin.headers())
        assert response.status_code == 422, response.json
        assert "90 days" in response.json["errors"]["older_than_days"][0]
    assert _remaining(recent) == set(recent)
    jobs = client.get("/api/v1/audit-log?action=audit_log.cleanup", headers=admin.headers()).json["items"]
    assert jobs == []


def test_cleanup_is_admin_only_and_validated(client, make_user):
    admin, editor, stranger = make_user(), make_user(), make_user()
    add_member(client, admin, admin.org_id, editor, "editor")
    assert client.delete(CLEANUP, headers=editor.headers(admin.org_id)).status_code == 403
    for days in (0, 3651, "soon"):
        assert client.delete(f"{CLEANUP}?older_than_days={days}", headers=admin.headers()).status_code == 422
    job = _finished_job(client, admin, client.delete(CLEANUP, headers=admin.headers()))
    assert client.get(f"{CLEANUP}/{job['id']}", headers=stranger.headers()).status_code == 404
    actions = client.get("/api/v1/audit-log?action=audit_log.cleanup", headers=admin.headers()).json["items"]
    assert [entry["target_id"] for entry in actions] == [job["id"]]


def test_the_daily_run_applies_each_organizations_retention(client, make_user):
    strict, relaxed = make_user(), make_user()
    with session_scope() as session:
        session.get(Organization, strict.org_id).audit_retention_days = 30
    strict_old, strict_kept = _entries(strict.org_id, 31, 45), _entries(strict.org_id, 29)
    relaxed_kept = _entries(relaxed.org_id, 31, 89)
    relaxed_old = _entries(relaxed.org_id, 91)
    orphan_old, orphan_kept = _entries(None, 100), _entries(None, 80)
    everything = strict_old + strict_kept + relaxed_kept + relaxed_old + orphan_old + orphan_kept
    enqueue(AUDIT_CLEANUP)  # what beat sends once a day
    survivors = set(strict_kept + relaxed_kept + orphan_kept)
    wait_for(lambda: _remaining(everything) == survivors)
