"""What an API key may grant, and how many a user may hold.

An admin's API key is a CI secret, readable by whoever runs the pipelines. Before, it could not delete the
organization but could invite an account as admin, or make the identity provider's sign-ins admins, and
that account, signed in, deleted it. Now those grants, like the rest of the SSO policy, take a session.
Rate limits count per key, so keys are also capped per user and organization (API_KEYS_PER_USER).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import update

from common import config
from common.db import session_scope
from common.models import ApiKey
from common.models.base import utcnow
from tests.helpers import add_member, register_user

API = "/api/v1"
SSO_BODY = {
    "issuer": "https://idp.example.com",
    "client_id": "trusera-web",
    "client_secret": "s3cr3t-client-secret-value",
    "scopes": ["openid", "email"],
    "allowed_domains": ["example.com"],
    "default_role": "admin",
    "role_mapping": None,
    "allow_password_login": True,
}


def _team_with_key(client):
    admin = register_user(client)
    org_id = client.post(f"{API}/organizations", json={"name": "keyed"}, headers=admin.headers()).json["id"]
    key = client.post(f"{API}/auth/api-key", json={"name": "ci"}, headers=admin.headers(org_id)).json["key"]
    return admin, org_id, {"Authorization": f"Bearer {key}"}


def test_an_api_key_cannot_invite_an_admin_who_then_deletes_the_organization(client):
    admin, org_id, key = _team_with_key(client)
    accomplice = register_user(client)
    invite = {"email": accomplice.email, "role": "admin"}

    refused = client.post(f"{API}/organizations/{org_id}/members", json=invite, headers=key)

    assert refused.status_code == 403, refused.json
    assert "sign in" in refused.json["message"]
    assert client.get(f"{API}/auth/invitations", headers=accomplice.headers()).json["items"] == []
    # lesser roles still go through a key (a CI job adding viewers), and an admin's session invites admins
    editor = {"email": register_user(client).email, "role": "editor"}
    assert client.post(f"{API}/organizations/{org_id}/members", json=editor, headers=key).status_code == 202
    signed_in = client.post(f"{API}/organizations/{org_id}/members", json=invite, headers=admin.headers())
    assert signed_in.status_code == 202, signed_in.json


def test_an_invitation_sent_with_a_key_does_not_outlive_the_key(client):
    """Round 34: a leaked admin key invited its holder's own account as editor; the owner revoked the key,
    and the invitation still stood, to be accepted at leisure. It now stands while its key is live; a member
    invited signed in stays."""
    admin, org_id, key = _team_with_key(client)
    accomplice, colleague = register_user(client), register_user(client)
    members = f"{API}/organizations/{org_id}/members"
    sent = client.post(members, json={"email": accomplice.email, "role": "editor"}, headers=key)
    assert sent.status_code == 202, sent.json
    add_member(client, admin, org_id, colleague, "viewer")
    invitations = client.get(f"{API}/auth/invitations", headers=accomplice.headers()).json["items"]
    assert [i["organization"]["id"] for i in invitations] == [org_id]
    key_id = client.get(f"{API}/auth/api-keys", headers=admin.headers(org_id)).json["items"][0]["id"]
    assert client.post(f"{API}/auth/api-key/{key_id}/revoke", headers=admin.headers()).status_code == 200

    assert client.get(f"{API}/auth/invitations", headers=accomplice.headers()).json["items"] == []
    accepted = client.post(
        f"{API}/auth/invitations/{invitations[0]['id']}/accept",
        json={"code": sent.json["invitation_code"]},
        headers=accomplice.headers(),
    )
    assert accepted.status_code == 404, accepted.json
    listed = client.get(f"{members}?per_page=100", headers=admin.headers(org_id)).get_data(as_text=True)
    assert accomplice.id not in listed and colleague.id in listed


def test_an_api_key_cannot_set_the_sso_policy(client):
    """An SSO configuration names the default role of whoever signs in through the provider (admin
    here), and whether passwords still work: the key's holder would make their own sign-ins admins."""
    admin, org_id, key = _team_with_key(client)
    sso = f"{API}/organizations/{org_id}/sso"

    assert client.put(sso, json=SSO_BODY, headers=key).status_code == 403
    assert client.get(sso, headers=admin.headers()).status_code == 404
    assert client.put(sso, json=SSO_BODY, headers=admin.headers()).status_code == 201

    toggled = client.post(f"{sso}/toggle", json={"enabled": True}, headers=key)
    assert toggled.status_code == 403 and "sign in" in toggled.json["message"]
    assert client.delete(sso, headers=key).status_code == 403
    assert client.get(sso, headers=admin.headers()).json["enabled"] is False
    assert client.post(f"{sso}/toggle", json={"enabled": True}, headers=admin.headers()).status_code == 200
    assert client.delete(sso, headers=admin.headers()).status_code == 204


def test_an_api_key_cannot_take_admin_rights_away(client):
    """The mirror of granting them: an admin's leaked key removed every other admin, who could then neither
    remove it nor its user, or removed its own user (leaving, which ``DELETE /membership`` refuses to a
    key, through the admin's door) with all their keys. Removing lesser members still works with a key."""
    admin, org_id, key = _team_with_key(client)
    other_admin, editor = register_user(client), register_user(client)
    add_member(client, admin, org_id, other_admin, "admin")
    add_member(client, admin, org_id, editor, "editor")
    members = f"{API}/organizations/{org_id}/members"

    for removed in (other_admin, admin):
        refused = client.delete(f"{members}/{removed.id}", headers=key)
        assert refused.status_code == 403, refused.json
        assert "sign in" in refused.json["message"]
    listed = client.get(members, headers=admin.headers(org_id)).json["items"]
    assert {m["user_id"] for m in listed if m["role"] == "admin"} == {admin.id, other_admin.id}
    assert client.get(f"{API}/auth/me", headers=key).status_code == 200  # the key was not revoked either
    assert client.delete(f"{members}/{editor.id}", headers=key).status_code == 204
    assert client.delete(f"{members}/{other_admin.id}", headers=admin.headers(org_id)).status_code == 204


def test_a_user_cannot_create_api_keys_past_the_cap(client, monkeypatch):
    monkeypatch.setattr(config, "_settings", dataclasses.replace(config.get_settings(), api_keys_per_user=2))
    hoarder = register_user(client)
    headers = hoarder.headers(hoarder.org_id)

    def create(name):
        return client.post(f"{API}/auth/api-key", json={"name": name}, headers=headers)

    first, second = create("one").json, create("two").json
    refused = create("three")

    assert refused.status_code == 409, refused.json
    assert "limit per user (2)" in refused.json["message"]
    # revoked and expired keys do not count; keys past a lowered cap keep working
    assert client.post(f"{API}/auth/api-key/{first['id']}/revoke", headers=headers).status_code == 200
    with session_scope() as session:
        session.execute(
            update(ApiKey).where(ApiKey.id == second["id"]).values(expires_at=utcnow() - timedelta(days=1))
        )
    third, fourth = create("three"), create("four")
    assert third.status_code == fourth.status_code == 201, (third.json, fourth.json)
    monkeypatch.setattr(config, "_settings", dataclasses.replace(config.get_settings(), api_keys_per_user=1))
    still = client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {third.json['key']}"})
    assert still.status_code == 200, still.json
