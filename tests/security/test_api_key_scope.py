"""An API key shows only the organization it is bound to.

The attacker holds one organization's API key of a user (a CI secret of that organization: anyone who
administers its pipelines can read it). Before, ``GET /auth/me`` and ``GET /organizations`` with the key
listed every organization the user belongs to (names, slugs, ids, roles), and the user's personal
workspace, as a full sign-in does; an SSO session was already limited to its organization.
"""

from __future__ import annotations

from tests.helpers import add_member


def test_an_api_key_lists_its_own_organization_only(client, make_user):
    owner, consultant = make_user(), make_user()
    client_org = client.post("/api/v1/organizations", json={"name": "client"}, headers=owner.headers()).json
    add_member(client, owner, client_org["id"], consultant, "analyst")
    other = client.post(
        "/api/v1/organizations", json={"name": "another client, confidential"}, headers=consultant.headers()
    ).json
    key = client.post(
        "/api/v1/auth/api-key", json={"name": "ci"}, headers=consultant.headers(client_org["id"])
    ).json["key"]
    as_key = {"Authorization": f"Bearer {key}"}
    me = client.get("/api/v1/auth/me", headers=as_key).json
    organizations = client.get("/api/v1/organizations", headers=as_key).json
    assert [o["id"] for o in me["organizations"]] == [client_org["id"]]
    assert me["personal_organization_id"] is None
    assert [o["id"] for o in organizations["items"]] == [client_org["id"]] and organizations["total"] == 1
    assert other["id"] not in str(me) + str(organizations) and consultant.org_id not in str(me)
    # The user's own sign-in still sees all of them.
    signed_in = client.get("/api/v1/organizations", headers=consultant.headers()).json
    assert {consultant.org_id, client_org["id"], other["id"]} <= {o["id"] for o in signed_in["items"]}
