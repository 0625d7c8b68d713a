"""An API key shows only the organization it is bound to, and changes nothing of its user's account.

The attacker holds one organization's API key of a user (a CI secret of that organization: anyone who
administers its pipelines can read it). Before, ``GET /auth/me`` and ``GET /organizations`` with the key
listed every organization the user belongs to (names, slugs, ids, roles), and the user's personal
workspace, as a full sign-in does; an SSO session was already limited to its organization. With the
key they could also create organizations in the user's name and rename the user (the name every other
organization's members list shows), as the user's own sign-in does.
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


def test_an_api_key_creates_no_organization_and_renames_nobody(client, make_user):
    user = make_user(name="Dana Original")
    key = client.post("/api/v1/auth/api-key", json={"name": "ci"}, headers=user.headers()).json["key"]
    as_key = {"Authorization": f"Bearer {key}"}
    created = client.post("/api/v1/organizations", json={"name": "made with a key"}, headers=as_key)
    renamed = client.put("/api/v1/auth/profile", json={"name": "Security Team"}, headers=as_key)
    assert created.status_code == 403 and renamed.status_code == 403
    names = [o["name"] for o in client.get("/api/v1/organizations", headers=user.headers()).json["items"]]
    assert "made with a key" not in names
    assert client.get("/api/v1/auth/me", headers=user.headers()).json["name"] == "Dana Original"
