"""An invitation is an admin's offer: it lapses with the admin's authority to make it, and with the
invitee's removal.

Nobody else in the organization can see or withdraw a pending invitation, so an admin who is removed
(or who leaves, or whose account is deleted) would otherwise leave behind a way in, up to the admin
role, for an account of their choosing. And an invitee who joined another way (SSO) kept the invitation:
removed later, they came back through it, with its role rather than the one SSO gave them.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, update

from common.config import get_settings
from common.db import session_scope
from common.models.base import utcnow
from common.models.identity import MemberInvitation
from tests.helpers import PASSWORD, TestUser, add_member, register_user
from tests.sso_support import confidential_client, put_config, running_provider, sso_sign_in, toggle

DOMAIN = "corp-invite.test"
RUN = secrets.token_hex(3)
SLUG = f"invite-residue-{RUN}"
EMPLOYEE = {"id": "employee", "email": f"employee-{RUN}@{DOMAIN}", "password": "employee-idp-pw"}
CLIENT = {"client_id": "platform", "client_secret": secrets.token_urlsafe(24)}


def _team(client, owner) -> str:
    org = client.post(
        "/api/v1/organizations", json={"name": f"Team {secrets.token_hex(3)}"}, headers=owner.headers()
    )
    assert org.status_code == 201, org.json
    return org.json["id"]


def _invite(client, admin, org_id, email, role):
    answer = client.post(
        f"/api/v1/organizations/{org_id}/members",
        json={"email": email, "role": role},
        headers=admin.headers(),
    )
    assert answer.status_code == 202, answer.json
    return answer.json["invitation_code"]


def _pending(client, user, org_id) -> list[dict]:
    items = client.get("/api/v1/auth/invitations", headers=user.headers()).json["items"]
    return [i for i in items if i["organization"]["id"] == org_id]


def _role_in(client, user, org_id) -> int | str:
    answer = client.get(f"/api/v1/organizations/{org_id}", headers=user.headers())
    return answer.json["role"] if answer.status_code == 200 else answer.status_code


def _accept(client, user, invitation_id, code):
    return client.post(
        f"/api/v1/auth/invitations/{invitation_id}/accept", json={"code": code}, headers=user.headers()
    )


def test_a_removed_admins_invitation_lets_nobody_in(client):
    owner, rogue, accomplice = register_user(client), register_user(client), register_user(client)
    org_id = _team(client, owner)
    add_member(client, owner, org_id, rogue, "admin")
    code = _invite(client, rogue, org_id, accomplice.email, "admin")
    [invitation] = _pending(client, accomplice, org_id)

    removed = client.delete(f"/api/v1/organizations/{org_id}/members/{rogue.id}", headers=owner.headers())
    assert removed.status_code == 204

    assert _pending(client, accomplice, org_id) == []
    assert _accept(client, accomplice, invitation["id"], code).status_code == 404
    assert _role_in(client, accomplice, org_id) == 404


def test_an_invitation_lapses_when_its_admin_leaves_or_deletes_the_account(client):
    owner, leaver, deleted = register_user(client), register_user(client), register_user(client)
    first, second = register_user(client), register_user(client)
    org_id = _team(client, owner)
    add_member(client, owner, org_id, leaver, "admin")
    add_member(client, owner, org_id, deleted, "admin")
    first_code = _invite(client, leaver, org_id, first.email, "editor")
    second_code = _invite(client, deleted, org_id, second.email, "admin")
    [first_invitation] = _pending(client, first, org_id)
    [second_invitation] = _pending(client, second, org_id)

    left = client.delete(f"/api/v1/organizations/{org_id}/membership", headers=leaver.headers())
    assert left.status_code == 204
    gone = client.delete("/api/v1/auth/account", json={"password": PASSWORD}, headers=deleted.headers())
    assert gone.status_code == 204, gone.json

    for invitee, invitation, code in (
        (first, first_invitation, first_code),
        (second, second_invitation, second_code),
    ):
        assert _pending(client, invitee, org_id) == []
        assert _accept(client, invitee, invitation["id"], code).status_code == 404
        assert _role_in(client, invitee, org_id) == 404


def test_an_invitation_from_a_standing_admin_still_admits(client):
    owner, admin, invitee = register_user(client), register_user(client), register_user(client)
    org_id = _team(client, owner)
    add_member(client, owner, org_id, admin, "admin")
    code = _invite(client, admin, org_id, invitee.email, "analyst")
    [invitation] = _pending(client, invitee, org_id)

    assert _accept(client, invitee, invitation["id"], code).status_code == 200
    assert _role_in(client, invitee, org_id) == "analyst"


def test_a_standing_admin_renews_a_lapsed_invitation_in_their_own_name(client):
    owner, former, invitee = register_user(client), register_user(client), register_user(client)
    org_id = _team(client, owner)
    add_member(client, owner, org_id, former, "admin")
    _invite(client, former, org_id, invitee.email, "admin")
    assert (
        client.delete(
            f"/api/v1/organizations/{org_id}/members/{former.id}", headers=owner.headers()
        ).status_code
        == 204
    )

    code = _invite(client, owner, org_id, invitee.email, "viewer")
    [invitation] = _pending(client, invitee, org_id)

    assert invitation["role"] == "viewer"
    assert _accept(client, invitee, invitation["id"], code).status_code == 200
    assert _role_in(client, invitee, org_id) == "viewer"


@pytest.fixture(scope="module")
def corp_idp(live_server, tmp_path_factory):
    clients = [
        confidential_client(
            CLIENT["client_id"], CLIENT["client_secret"], [f"{live_server}/api/v1/sso/{SLUG}/callback"]
        )
    ]
    with running_provider(tmp_path_factory.mktemp("corp"), clients=clients, accounts=[EMPLOYEE]) as issuer:
        yield issuer


def test_a_member_removed_after_joining_through_sso_does_not_come_back_through_the_invitation(
    live_server, client, corp_idp
):
    owner = register_user(client)
    org = client.post(
        "/api/v1/organizations", json={"name": SLUG, "slug": SLUG}, headers=owner.headers()
    ).json
    put_config(client, owner, org, corp_idp, allowed_domains=[DOMAIN], role_mapping=None, **CLIENT)
    toggle(client, owner, org, True)
    registered = client.post(
        "/api/v1/auth/register", json={"email": EMPLOYEE["email"], "password": PASSWORD}
    ).json
    employee = TestUser(
        registered["user"]["id"],
        EMPLOYEE["email"],
        registered["access_token"],
        registered["refresh_token"],
        "",
    )
    code = _invite(client, owner, org["id"], employee.email, "editor")
    [invitation] = _pending(client, employee, org["id"])
    offer = sso_sign_in(live_server, org["slug"], EMPLOYEE)
    assert offer.status_code == 409, offer.text
    linked = requests.post(
        offer.json()["link_url"],
        json={"link_token": offer.json()["link_token"], "password": PASSWORD},
        timeout=10,
    )
    assert linked.status_code == 200, linked.text
    assert _role_in(client, employee, org["id"]) == "viewer"  # SSO's default role, not the invitation's

    removed = client.delete(
        f"/api/v1/organizations/{org['id']}/members/{employee.id}", headers=owner.headers()
    )
    assert removed.status_code == 204

    assert _pending(client, employee, org["id"]) == []
    assert _accept(client, employee, invitation["id"], code).status_code == 404
    assert _role_in(client, employee, org["id"]) == 404


def test_an_invitation_lapses_after_invitation_days_unless_renewed(client):
    """An admin cannot withdraw an invitation sent to the wrong account or with too high a role; it stood
    for ever, accepted whenever that account chose. Now it lapses after ``INVITATION_DAYS``."""
    admin, invitee = register_user(client), register_user(client)
    org_id = _team(client, admin)
    code = _invite(client, admin, org_id, invitee.email, "admin")
    days = get_settings().invitation_days
    with session_scope() as session:
        session.execute(
            update(MemberInvitation)
            .where(MemberInvitation.organization_id == org_id)
            .values(created_at=utcnow() - timedelta(days=days, minutes=1))
        )
    [lapsed] = _stored_invitations(org_id)  # still in the table: the inviter may renew it
    assert client.get("/api/v1/auth/invitations", headers=invitee.headers()).json["items"] == []
    assert _accept(client, invitee, lapsed.id, code).status_code == 404
    code = _invite(client, admin, org_id, invitee.email, "viewer")  # renewed, in the admin's current choice
    [renewed] = client.get("/api/v1/auth/invitations", headers=invitee.headers()).json["items"]
    accepted = _accept(client, invitee, renewed["id"], code)
    assert accepted.status_code == 200 and accepted.json["role"] == "viewer"


def _stored_invitations(org_id: str) -> list:
    with session_scope() as session:
        return session.scalars(
            select(MemberInvitation).where(MemberInvitation.organization_id == org_id)
        ).all()
