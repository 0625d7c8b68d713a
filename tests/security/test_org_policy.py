"""An organization governs only its own accounts; adding a member reveals nothing; members can leave."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from common.db import session_scope
from common.models import Membership
from common.models.identity import MemberInvitation
from tests.helpers import PASSWORD, add_member, register_user

SSO_REQUIRED = {
    "issuer": "https://idp.attacker.example",
    "client_id": "attacker-client",
    "client_secret": "attacker-client-secret",
    "allowed_domains": ["example.com"],
    "allow_password_login": False,
}


def _team(client, admin) -> dict:
    org = client.post(
        "/api/v1/organizations", json={"name": f"Team {secrets.token_hex(3)}"}, headers=admin.headers()
    )
    assert org.status_code == 201, org.json
    return org.json


def _login(client, user):
    return client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})


def _invite(client, admin, org_id, email, role="viewer"):
    return client.post(
        f"/api/v1/organizations/{org_id}/members",
        json={"email": email, "role": role},
        headers=admin.headers(),
    )


def test_an_admin_cannot_lock_an_outside_account_out_of_password_login(client):
    victim, attacker = register_user(client), register_user(client)
    org = _team(client, attacker)
    assert (
        client.put(
            f"/api/v1/organizations/{org['id']}/sso", json=SSO_REQUIRED, headers=attacker.headers()
        ).status_code
        == 201
    )
    toggled = client.post(
        f"/api/v1/organizations/{org['id']}/sso/toggle", json={"enabled": True}, headers=attacker.headers()
    )
    assert toggled.status_code == 200

    assert _invite(client, attacker, org["id"], victim.email).status_code == 202
    assert _login(client, victim).status_code == 200
    # even once the victim accepts, the account is theirs: the organization's IdP never provisioned it
    invitation = client.get("/api/v1/auth/invitations", headers=victim.headers()).json["items"][0]
    assert (
        client.post(
            f"/api/v1/auth/invitations/{invitation['id']}/accept", headers=victim.headers()
        ).status_code
        == 200
    )
    assert _login(client, victim).status_code == 200


def test_adding_a_member_does_not_reveal_whether_the_email_is_registered(client):
    admin, registered = register_user(client), register_user(client)
    org = _team(client, admin)
    unknown_email = f"nobody-{secrets.token_hex(4)}@example.com"

    known = _invite(client, admin, org["id"], registered.email, "editor")
    unknown = _invite(client, admin, org["id"], unknown_email, "editor")

    assert known.status_code == unknown.status_code == 202
    assert {k: v for k, v in known.json.items() if k != "email"} == {
        k: v for k, v in unknown.json.items() if k != "email"
    }
    # the members list does not change either: an invitation is the invitee's to accept
    members = client.get(f"/api/v1/organizations/{org['id']}/members", headers=admin.headers()).json
    assert [m["email"] for m in members["items"]] == [admin.email]
    # an unknown address leaves nothing behind for whoever registers it first
    with session_scope() as session:
        assert (
            session.scalar(
                select(MemberInvitation).where(MemberInvitation.organization_id == org["id"])
            ).user_id
            == registered.id
        )
    squatter = client.post("/api/v1/auth/register", json={"email": unknown_email, "password": PASSWORD}).json
    squatter_headers = {"Authorization": f"Bearer {squatter['access_token']}"}
    assert client.get("/api/v1/auth/invitations", headers=squatter_headers).json["items"] == []
    assert client.get(f"/api/v1/organizations/{org['id']}", headers=squatter_headers).status_code == 404


def test_an_invitation_is_accepted_by_its_invitee_only(client):
    admin, invitee, stranger = register_user(client), register_user(client), register_user(client)
    org = _team(client, admin)
    _invite(client, admin, org["id"], invitee.email, "analyst")
    [invitation] = client.get("/api/v1/auth/invitations", headers=invitee.headers()).json["items"]
    assert invitation["organization"]["id"] == org["id"] and invitation["role"] == "analyst"
    assert (
        client.post(
            f"/api/v1/auth/invitations/{invitation['id']}/accept", headers=stranger.headers()
        ).status_code
        == 404
    )
    assert (
        client.delete(f"/api/v1/auth/invitations/{invitation['id']}", headers=stranger.headers()).status_code
        == 404
    )
    accepted = client.post(f"/api/v1/auth/invitations/{invitation['id']}/accept", headers=invitee.headers())
    assert accepted.status_code == 200 and accepted.json == {"organization_id": org["id"], "role": "analyst"}
    assert (
        client.get(f"/api/v1/organizations/{org['id']}", headers=invitee.headers()).json["role"] == "analyst"
    )


def test_a_member_leaves_an_organization_they_do_not_solely_administer(client):
    admin, member = register_user(client), register_user(client)
    org = _team(client, admin)
    add_member(client, admin, org["id"], member, "viewer")

    assert (
        client.delete(f"/api/v1/organizations/{org['id']}/membership", headers=member.headers()).status_code
        == 204
    )
    assert client.get(f"/api/v1/organizations/{org['id']}", headers=member.headers()).status_code == 404
    sole = client.delete(f"/api/v1/organizations/{org['id']}/membership", headers=admin.headers())
    assert sole.status_code == 409 and "admin" in sole.json["message"]
    personal = client.delete(f"/api/v1/organizations/{admin.org_id}/membership", headers=admin.headers())
    assert personal.status_code == 409
    add_member(client, admin, org["id"], member, "admin")
    assert (
        client.delete(f"/api/v1/organizations/{org['id']}/membership", headers=admin.headers()).status_code
        == 204
    )
    with session_scope() as session:
        remaining = session.scalars(select(Membership.user_id).where(Membership.organization_id == org["id"]))
        assert list(remaining) == [member.id]
