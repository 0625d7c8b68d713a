"""An organization governs only its own accounts; adding a member reveals nothing; members can leave."""

from __future__ import annotations

import secrets
import sqlite3

import pytest
from sqlalchemy import select

from common.db import session_scope
from common.models import Membership
from common.models.identity import MemberInvitation
from tests.helpers import PASSWORD, add_member, register_user, sqlite_migrator

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


def _accept(client, user, invitation_id, code):
    return client.post(
        f"/api/v1/auth/invitations/{invitation_id}/accept", json={"code": code}, headers=user.headers()
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

    invited = _invite(client, attacker, org["id"], victim.email)
    assert invited.status_code == 202
    assert _login(client, victim).status_code == 200
    # even once the victim accepts, the account is theirs: the organization's IdP never provisioned it
    invitation = client.get("/api/v1/auth/invitations", headers=victim.headers()).json["items"][0]
    assert _accept(client, victim, invitation["id"], invited.json["invitation_code"]).status_code == 200
    assert _login(client, victim).status_code == 200


def test_adding_a_member_does_not_reveal_whether_the_email_is_registered(client):
    admin, registered = register_user(client), register_user(client)
    org = _team(client, admin)
    unknown_email = f"nobody-{secrets.token_hex(4)}@example.com"

    known = _invite(client, admin, org["id"], registered.email, "editor")
    unknown = _invite(client, admin, org["id"], unknown_email, "editor")

    assert known.status_code == unknown.status_code == 202
    own = ("email", "invitation_code")  # each answer has its code, one that matches nothing for an unknown
    assert {k: v for k, v in known.json.items() if k not in own} == {
        k: v for k, v in unknown.json.items() if k not in own
    }
    assert len(known.json["invitation_code"]) == len(unknown.json["invitation_code"])
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
    code = _invite(client, admin, org["id"], invitee.email, "analyst").json["invitation_code"]
    [invitation] = client.get("/api/v1/auth/invitations", headers=invitee.headers()).json["items"]
    assert invitation["organization"]["id"] == org["id"] and invitation["role"] == "analyst"
    assert _accept(client, stranger, invitation["id"], code).status_code == 404
    assert (
        client.delete(f"/api/v1/auth/invitations/{invitation['id']}", headers=stranger.headers()).status_code
        == 404
    )
    accepted = _accept(client, invitee, invitation["id"], code)
    assert accepted.status_code == 200 and accepted.json == {"organization_id": org["id"], "role": "analyst"}
    assert (
        client.get(f"/api/v1/organizations/{org['id']}", headers=invitee.headers()).json["role"] == "analyst"
    )


def test_an_address_registered_first_by_someone_else_does_not_catch_its_invitations(client):
    """Registration proves no address: a squatter registers the address of an employee-to-be, and the
    invitation the company's admin sends it lands in the squatter's account. Before, it joined with the role
    meant for the employee; now it needs the code the admin passes on to the person, whom it reaches."""
    admin = register_user(client)
    org = _team(client, admin)
    squatted = f"new-hire-{secrets.token_hex(4)}@example.com"
    registered = client.post("/api/v1/auth/register", json={"email": squatted, "password": PASSWORD}).json
    squatter = {"Authorization": f"Bearer {registered['access_token']}"}

    invited = _invite(client, admin, org["id"], squatted, "editor")
    assert invited.status_code == 202
    [invitation] = client.get("/api/v1/auth/invitations", headers=squatter).json["items"]
    for body in ({}, {"code": ""}, {"code": secrets.token_urlsafe(24)}):
        refused = client.post(
            f"/api/v1/auth/invitations/{invitation['id']}/accept", json=body, headers=squatter
        )
        assert refused.status_code in (403, 422), refused.json
    assert client.get(f"/api/v1/organizations/{org['id']}", headers=squatter).status_code == 404
    # an earlier invitation's code is no longer the one: inviting again renews it
    renewed = _invite(client, admin, org["id"], squatted, "viewer")
    stale = client.post(
        f"/api/v1/auth/invitations/{invitation['id']}/accept",
        json={"code": invited.json["invitation_code"]},
        headers=squatter,
    )
    assert stale.status_code == 403
    # the code is what admits: whoever the admin gave it to is the person meant
    accepted = client.post(
        f"/api/v1/auth/invitations/{invitation['id']}/accept",
        json={"code": renewed.json["invitation_code"]},
        headers=squatter,
    )
    assert accepted.status_code == 200 and accepted.json["role"] == "viewer"


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


def test_migration_0026_withdraws_the_invitations_no_code_was_given_for(tmp_path):
    """An invitation pending before codes existed could only be accepted without one: the migration
    deletes them (their admins invite again), and every invitation after it has its code's hash."""
    path = tmp_path / "invitations.db"
    upgrade = sqlite_migrator(path)
    upgrade("0025_sec_scanfair17")
    with sqlite3.connect(path) as database:
        database.execute(
            "INSERT INTO member_invitations (id, organization_id, user_id, role, created_at) "
            "VALUES ('i1', 'o1', 'u1', 'admin', '2026-12-01 00:00:00')"
        )
    upgrade("0026_sec_review19")
    with sqlite3.connect(path) as database:
        assert database.execute("SELECT count(*) FROM member_invitations").fetchone() == (0,)
        with pytest.raises(sqlite3.IntegrityError):
            database.execute(
                "INSERT INTO member_invitations (id, organization_id, user_id, role, created_at) "
                "VALUES ('i2', 'o1', 'u1', 'admin', '2026-12-07 00:00:00')"
            )
