"""Organizations, members, and the role rules of every endpoint the app exposes."""

from __future__ import annotations

import uuid

import pytest

from common.db import session_scope
from common.models import ROLE_RANK, ROLES, Scan
from tests.helpers import add_member, register_user
from web.access import AUTHENTICATED, PUBLIC

SKIPPED_PREFIXES = ("/api/v1/internal/", "/api/v1/openapi", "/api/v1/ws")


def _protected_routes(app):
    """(method, rule, required role) for every routed view that declares a role."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(SKIPPED_PREFIXES) or rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        role = getattr(view, "required_role", None)
        assert role is not None, f"{rule.rule} declares no access rule"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, rule, role))
    # the organization deletion is destructive: run it last
    return sorted(routes, key=lambda r: r[0] == "DELETE" and r[1].rule == "/api/v1/organizations/<org_id>")


def _url(rule, org_id: str) -> str:
    values = {arg: (org_id if arg == "org_id" else str(uuid.uuid4())) for arg in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def test_every_role_gets_exactly_what_the_reference_allows(app, client):
    owner = register_user(client)
    org = client.post("/api/v1/organizations", json={"name": "Matrix Org"}, headers=owner.headers()).json
    members = {}
    for role in ROLES:
        member = register_user(client)
        add_member(client, owner, org["id"], member, role)
        members[role] = member
    checked = 0
    for method, rule, required in _protected_routes(app):
        if required in (PUBLIC, AUTHENTICATED):
            continue
        url = _url(rule, org["id"])
        anonymous = client.open(url, method=method, json={})
        assert anonymous.status_code == 401, (method, rule.rule)
        for role in ROLES:
            from web.ratelimits import limiter

            limiter.reset()
            response = client.open(url, method=method, json={}, headers=members[role].headers(org["id"]))
            denied = ROLE_RANK[role] < ROLE_RANK[required]
            if denied:
                assert response.status_code == 403, (method, rule.rule, role, response.json)
            else:
                assert response.status_code not in (401, 403), (method, rule.rule, role, response.json)
            checked += 1
    assert checked >= 5 * len(ROLES)


def test_anonymous_is_401_on_authenticated_endpoints(app, client):
    for method, rule, required in _protected_routes(app):
        if required == AUTHENTICATED:
            response = client.open(_url(rule, str(uuid.uuid4())), method=method, json={})
            assert response.status_code == 401, (method, rule.rule)


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


def test_organization_header_must_name_a_membership(client, make_user):
    alice, bob = make_user(), make_user()
    response = client.get("/api/v1/scans", headers=bob.headers(alice.org_id))
    assert response.status_code == 403
    assert client.get(f"/api/v1/organizations/{alice.org_id}", headers=bob.headers()).status_code == 404


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
    assert unknown.status_code == 404
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
