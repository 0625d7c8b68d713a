"""Organizations, members and tenancy. The role rules of every endpoint (every caller: anonymous,
each role, another organization's admin, a revoked key) are walked by tests/ops/test_authz_matrix.py."""

from __future__ import annotations

import pytest

from common.db import session_scope
from common.models import Scan
from tests.helpers import add_member


def test_scan_of_another_organization_is_404(client, make_user):
    alice, bob = make_user(), make_user()
    with session_scope() as session:
        scan = Scan(organization_id=alice.org_id, target="/tmp", status="completed")
        session.add(scan)
        session.flush()
        scan_id = scan.id
    assert client.get(f"/api/v1/scans/{scan_id}", headers=alice.headers()).status_code == 200
    for path in (f"/api/v1/scans/{scan_id}", f"/api/v1/scans/{scan_id}/components"):
        response = client.get(path, headers=bob.headers())
        assert response.status_code == 404 and response.json["message"] == "Scan not found."
    assert scan_id not in str(client.get("/api/v1/scans", headers=bob.headers()).json)


def test_api_key_is_bound_to_its_organization(client, make_user):
    user = make_user()
    team = client.post("/api/v1/organizations", json={"name": "Team"}, headers=user.headers()).json
    key = client.post("/api/v1/auth/api-key", json={"name": "team-ci"}, headers=user.headers(team["id"])).json
    key_headers = {"Authorization": f"Bearer {key['key']}"}
    assert key["organization_id"] == team["id"]
    assert client.get("/api/v1/scans", headers=key_headers).status_code == 200
    assert (
        client.get("/api/v1/scans", headers={**key_headers, "X-Organization-Id": user.org_id}).status_code
        == 403
    )


def test_organization_lifecycle_and_members(client, make_user):
    admin, other = make_user(), make_user()
    created = client.post(
        "/api/v1/organizations", json={"name": "Acme AI", "slug": "acme-ai-x"}, headers=admin.headers()
    )
    assert (
        created.status_code == 201 and created.json["slug"] == "acme-ai-x" and created.json["role"] == "admin"
    )
    org_id = created.json["id"]
    assert (
        client.post(
            "/api/v1/organizations", json={"name": "Dup", "slug": "acme-ai-x"}, headers=admin.headers()
        ).status_code
        == 409
    )
    listed = client.get("/api/v1/organizations", headers=admin.headers()).json
    assert {o["id"] for o in listed["items"]} == {admin.org_id, org_id} and listed["total"] == 2
    unknown = client.post(
        f"/api/v1/organizations/{org_id}/members",
        json={"email": "nobody@example.com", "role": "viewer"},
        headers=admin.headers(),
    )
    assert unknown.status_code == 202 and unknown.json["status"] == "invited"  # the same as for an account
    bad_role = client.post(
        f"/api/v1/organizations/{org_id}/members",
        json={"email": other.email, "role": "owner"},
        headers=admin.headers(),
    )
    assert bad_role.status_code == 422 and "role" in bad_role.json["errors"]
    add_member(client, admin, org_id, other, "editor")
    members = client.get(f"/api/v1/organizations/{org_id}/members", headers=other.headers()).json
    assert {m["email"]: m["role"] for m in members["items"]} == {admin.email: "admin", other.email: "editor"}
    last_admin = client.delete(f"/api/v1/organizations/{org_id}/members/{admin.id}", headers=admin.headers())
    assert last_admin.status_code == 409
    assert (
        client.delete(
            f"/api/v1/organizations/{org_id}/members/{other.id}", headers=admin.headers()
        ).status_code
        == 204
    )
    assert client.get(f"/api/v1/organizations/{org_id}", headers=other.headers()).status_code == 404
    assert client.delete(f"/api/v1/organizations/{admin.org_id}", headers=admin.headers()).status_code == 409
    assert client.delete(f"/api/v1/organizations/{org_id}", headers=admin.headers()).status_code == 204
    assert client.get(f"/api/v1/organizations/{org_id}", headers=admin.headers()).status_code == 404


@pytest.mark.parametrize("per_page", [0, 101, "x"])
def test_list_pagination_is_validated(client, make_user, per_page):
    user = make_user()
    response = client.get(f"/api/v1/scans?per_page={per_page}", headers=user.headers())
    assert response.status_code == 422 and "per_page" in response.json["errors"]
