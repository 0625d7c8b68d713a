"""Attacks across organizations on the hot paths changed for speed: the dashboard's one statement,
``POST /scans``'s idempotency keys and a member of two organizations switching with ``X-Organization-Id``.

Each test plays one attack: an Idempotency-Key reused by another organization to obtain its scan, an
API key bound to one organization sent with the header of another, a member removed from an
organization reading its dashboard with a token issued while still a member.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from common.db import session_scope
from common.models import AuditLog, Scan
from common.models.base import utcnow
from tests.helpers import add_member


@pytest.fixture(autouse=True)
def no_tasks(monkeypatch):
    """Nothing is sent to a worker: the attacks are on what the API answers and writes."""
    monkeypatch.setattr("web.core.enqueueing.enqueue", lambda *_args, **_options: None)


def _completed_scan(organization_id: str, target: str) -> str:
    with session_scope() as session:
        scan = Scan(
            organization_id=organization_id,
            target=target,
            status="completed",
            finished_at=utcnow() - timedelta(minutes=1),
        )
        session.add(scan)
        session.flush()
        return scan.id


def _dashboard_scans(client, headers: dict) -> set[str]:
    response = client.get("/api/v1/dashboard/overview", headers=headers)
    assert response.status_code == 200, response.json
    return {scan["id"] for scan in response.json["recent_scans"]}


def test_an_idempotency_key_reused_by_another_organization_names_its_own_scan(client, make_user, scan_root):
    (scan_root / "app.py").write_text("import openai\n")
    victim, attacker = make_user(), make_user()
    key = {"Idempotency-Key": "ci-build-1"}
    body = {"target": str(scan_root)}
    theirs = client.post("/api/v1/scans", json=body, headers={**victim.headers(), **key})
    mine = client.post("/api/v1/scans", json=body, headers={**attacker.headers(), **key})
    assert theirs.status_code == mine.status_code == 202
    assert mine.json["id"] != theirs.json["id"]
    assert mine.json["organization_id"] == attacker.org_id
    replay = client.post("/api/v1/scans", json=body, headers={**attacker.headers(), **key})
    assert replay.json["id"] == mine.json["id"]
    assert client.get(f"/api/v1/scans/{theirs.json['id']}", headers=attacker.headers()).status_code == 404
    with session_scope() as session:
        audited = session.execute(
            select(AuditLog.organization_id, AuditLog.target_id).where(AuditLog.action == "scan.create")
        ).all()
    assert (attacker.org_id, theirs.json["id"]) not in audited
    assert (victim.org_id, theirs.json["id"]) in audited and (attacker.org_id, mine.json["id"]) in audited


def test_a_member_of_two_organizations_sees_each_dashboard_apart(client, make_user):
    owner, member = make_user(), make_user()
    add_member(client, owner, owner.org_id, member, "viewer")
    shared = _completed_scan(owner.org_id, "/srv/shared")
    personal = _completed_scan(member.org_id, "/srv/personal")
    assert _dashboard_scans(client, member.headers(owner.org_id)) == {shared}
    assert _dashboard_scans(client, member.headers()) == {personal}
    assert _dashboard_scans(client, owner.headers()) == {shared}


def test_an_api_key_bound_to_one_organization_cannot_read_another_dashboard(client, make_user):
    owner, member = make_user(), make_user()
    add_member(client, owner, owner.org_id, member, "admin")
    _completed_scan(owner.org_id, "/srv/owner")
    created = client.post("/api/v1/auth/api-key", json={"name": "personal"}, headers=member.headers())
    assert created.status_code == 201, created.json
    key_headers = {"Authorization": f"Bearer {created.json['key']}"}
    crossing = client.get(
        "/api/v1/dashboard/overview", headers={**key_headers, "X-Organization-Id": owner.org_id}
    )
    assert crossing.status_code == 403
    assert "recent_scans" not in crossing.json
    assert _dashboard_scans(client, key_headers) == set()


def test_a_removed_member_reads_no_dashboard_with_a_token_issued_before(client, make_user):
    owner, member = make_user(), make_user()
    add_member(client, owner, owner.org_id, member, "viewer")
    _completed_scan(owner.org_id, "/srv/removed")
    assert _dashboard_scans(client, member.headers(owner.org_id))
    removed = client.delete(
        f"/api/v1/organizations/{owner.org_id}/members/{member.id}", headers=owner.headers()
    )
    assert removed.status_code in (200, 204), removed.json
    refused = client.get("/api/v1/dashboard/overview", headers=member.headers(owner.org_id))
    assert refused.status_code == 403
    spoofed = client.get(
        "/api/v1/dashboard/overview", headers={**member.headers(), "X-Organization-Id": f" {owner.org_id}"}
    )
    assert spoofed.status_code == 403
