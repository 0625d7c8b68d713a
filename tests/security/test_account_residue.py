"""What the last boundary review left open on accounts, each played as the attack it allows.

- A member removed from an organization kept their API keys for it; the key checks the membership on
  each request, so it worked again the day the user rejoined, without anyone issuing it.
- A wrong current password on ``PUT /auth/password`` or ``DELETE /auth/account`` was not counted: a
  stolen session could guess the password without limit, then change it or delete the account.
- Round 34: a stolen session that changed address at every wrong current password had ten guesses per
  address and 500 in all; it now has ten, counted against the session wherever it comes from.
- An organization's API key could accept or decline its user's invitations, an account-level decision.
- ``/sso/<slug>/check`` answered for a personal workspace, whose slug is made from its owner's email:
  anyone could ask whether an email has an account.
"""

from __future__ import annotations

import dataclasses
import secrets

from common.config import get_settings
from common.db import session_scope
from common.models import Organization, User
from common.models.base import utcnow
from tests.helpers import PASSWORD, add_member
from web.core.database import db
from web.core.tokens import start_session

ATTACKER, OWNER = "203.0.113.9", "198.51.100.4"


def test_a_removed_members_key_does_not_come_back_when_they_rejoin(client, make_user):
    admin, member = make_user(), make_user()
    org = client.post("/api/v1/organizations", json={"name": "rejoin"}, headers=admin.headers()).json
    add_member(client, admin, org["id"], member, "analyst")
    key = client.post("/api/v1/auth/api-key", json={"name": "ci"}, headers=member.headers(org["id"])).json
    as_key = {"Authorization": f"Bearer {key['key']}"}
    assert client.get("/api/v1/scans", headers=as_key).status_code == 200
    removed = client.delete(f"/api/v1/organizations/{org['id']}/members/{member.id}", headers=admin.headers())
    assert removed.status_code == 204
    assert client.get("/api/v1/scans", headers=as_key).status_code == 401
    add_member(client, admin, org["id"], member, "analyst")
    assert client.get("/api/v1/scans", headers=as_key).status_code == 401
    keys = client.get("/api/v1/auth/api-keys", headers=member.headers()).json["items"]
    assert next(k for k in keys if k["id"] == key["id"])["revoked_at"] is not None


def test_a_removed_members_sso_session_does_not_come_back_when_they_rejoin(app, client, make_user):
    """The same for a session single sign-on started, bound to the organization: it outlived the removal
    (refused for want of a membership) and worked again, refresh token and all, once its user rejoined."""
    admin, member = make_user(), make_user()
    org = client.post("/api/v1/organizations", json={"name": "rejoin sso"}, headers=admin.headers()).json
    add_member(client, admin, org["id"], member, "analyst")
    with app.app_context():
        tokens = start_session(
            db().get(User, member.id), organization_id=org["id"], sso_signed_in_at=utcnow()
        )
        db().commit()
    bound = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/v1/scans", headers=bound).status_code == 200
    removed = client.delete(f"/api/v1/organizations/{org['id']}/members/{member.id}", headers=admin.headers())
    assert removed.status_code == 204
    add_member(client, admin, org["id"], member, "analyst")
    assert client.get("/api/v1/scans", headers=bound).status_code == 401
    refreshed = client.post(
        "/api/v1/auth/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"}
    )
    assert refreshed.status_code == 401
    assert client.get("/api/v1/scans", headers=member.headers(org["id"])).status_code == 200


def test_a_member_who_leaves_takes_no_key_back_either(client, make_user):
    admin, member = make_user(), make_user()
    org = client.post("/api/v1/organizations", json={"name": "leave"}, headers=admin.headers()).json
    add_member(client, admin, org["id"], member, "viewer")
    key = client.post("/api/v1/auth/api-key", json={"name": "ci"}, headers=member.headers(org["id"])).json
    own = client.post("/api/v1/auth/api-key", json={"name": "mine"}, headers=member.headers()).json
    left = client.delete(f"/api/v1/organizations/{org['id']}/membership", headers=member.headers(org["id"]))
    assert left.status_code == 204
    add_member(client, admin, org["id"], member, "viewer")
    assert client.get("/api/v1/scans", headers={"Authorization": f"Bearer {key['key']}"}).status_code == 401
    # The key of the personal workspace, which the member did not leave, still works.
    assert client.get("/api/v1/scans", headers={"Authorization": f"Bearer {own['key']}"}).status_code == 200


def _change_password(client, user, current: str, address: str):
    return client.put(
        "/api/v1/auth/password",
        json={"current_password": current, "new_password": "a brand new password"},
        headers=user.headers(),
        environ_base={"REMOTE_ADDR": address},
    )


def test_a_stolen_session_cannot_guess_the_password_to_change_it(client, make_user):
    victim = make_user()
    limit = get_settings().login_failure_limit
    answers = [_change_password(client, victim, f"guess {n}", ATTACKER).status_code for n in range(limit)]
    assert answers == [403] * limit
    locked = _change_password(client, victim, PASSWORD, ATTACKER)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    # The guesses lock sign-in from that address too, and nothing else: the owner elsewhere is untouched.
    login = {"email": victim.email, "password": PASSWORD}
    assert (
        client.post("/api/v1/auth/login", json=login, environ_base={"REMOTE_ADDR": ATTACKER}).status_code
        == 429
    )
    assert _change_password(client, _signed_in_again(client, victim), PASSWORD, OWNER).status_code == 200


def _signed_in_again(client, user):
    """The owner's own session, signed in from their address."""
    signed_in = client.post(
        "/api/v1/auth/login",
        json={"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": OWNER},
    )
    assert signed_in.status_code == 200, signed_in.json
    return dataclasses.replace(user, token=signed_in.json["access_token"])


def _addresses(count: int) -> list[str]:
    """``count`` addresses of a network of their own, one per guess."""
    network = secrets.randbelow(250) + 1
    return [f"198.18.{network}.{host + 1}" for host in range(count)]


def test_a_stolen_session_changing_address_meets_its_own_lockout(client, make_user):
    """Round 34: re-authentication was counted per (account, address) and the account-wide ceiling, so a
    stolen session that changed address at every guess had ten per address and 500 in all (the 11th guess,
    from an 11th address, was answered 403 before, not 429). It is counted against the session too."""
    victim = make_user()
    limit = get_settings().login_failure_limit
    addresses = _addresses(limit + 1)
    answers = [_change_password(client, victim, f"guess {n}", addresses[n]).status_code for n in range(limit)]
    assert answers == [403] * limit
    locked = _change_password(client, victim, PASSWORD, addresses[limit])
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    # The owner's own session is not held by the stolen one's count: they change the password and end it.
    assert _change_password(client, _signed_in_again(client, victim), PASSWORD, OWNER).status_code == 200
    assert client.get("/api/v1/auth/me", headers=victim.headers()).status_code == 401


def test_a_stolen_session_changing_address_cannot_guess_the_password_to_delete_the_account(client, make_user):
    victim = make_user()
    limit = get_settings().login_failure_limit
    addresses = _addresses(limit + 1)

    def delete(password: str, address: str):
        return client.delete(
            "/api/v1/auth/account",
            json={"password": password},
            headers=victim.headers(),
            environ_base={"REMOTE_ADDR": address},
        )

    assert [delete(f"guess {n}", addresses[n]).status_code for n in range(limit)] == [403] * limit
    assert delete(PASSWORD, addresses[limit]).status_code == 429
    assert client.get("/api/v1/auth/me", headers=victim.headers()).status_code == 200


def test_a_stolen_session_cannot_guess_the_password_to_delete_the_account(client, make_user):
    victim = make_user()
    limit = get_settings().login_failure_limit

    def delete(password: str):
        return client.delete(
            "/api/v1/auth/account",
            json={"password": password},
            headers=victim.headers(),
            environ_base={"REMOTE_ADDR": ATTACKER},
        )

    assert [delete(f"guess {n}").status_code for n in range(limit)] == [403] * limit
    locked = delete(PASSWORD)
    assert locked.status_code == 429 and "Retry-After" in locked.headers
    assert client.get("/api/v1/auth/me", headers=victim.headers()).status_code == 200


def test_an_api_key_neither_accepts_nor_declines_invitations(client, make_user):
    admin, member = make_user(), make_user()
    first = client.post("/api/v1/organizations", json={"name": "first"}, headers=admin.headers()).json
    second = client.post("/api/v1/organizations", json={"name": "second"}, headers=admin.headers()).json
    codes = {}
    for org in (first, second):
        invited = client.post(
            f"/api/v1/organizations/{org['id']}/members",
            json={"email": member.email, "role": "viewer"},
            headers=admin.headers(),
        )
        assert invited.status_code == 202
        codes[org["id"]] = {"code": invited.json["invitation_code"]}
    key = client.post("/api/v1/auth/api-key", json={"name": "ci"}, headers=member.headers()).json["key"]
    as_key = {"Authorization": f"Bearer {key}"}
    invitations = client.get("/api/v1/auth/invitations", headers=member.headers()).json["items"]
    (accept_id, accept_org), (decline_id, _) = ((i["id"], i["organization"]["id"]) for i in invitations)
    code = codes[accept_org]
    assert (
        client.post(f"/api/v1/auth/invitations/{accept_id}/accept", json=code, headers=as_key).status_code
        == 403
    )
    assert client.delete(f"/api/v1/auth/invitations/{decline_id}", headers=as_key).status_code == 403
    still = client.get("/api/v1/auth/invitations", headers=member.headers()).json["items"]
    assert {i["id"] for i in still} == {accept_id, decline_id}
    assert (
        client.post(
            f"/api/v1/auth/invitations/{accept_id}/accept", json=code, headers=member.headers()
        ).status_code
        == 200
    )


def test_an_api_key_cannot_make_its_user_leave_the_organization(client, make_user):
    """A CI job's key that leaked would otherwise remove its user from the organization, and revoke all
    their keys for it with the membership: leaving, like joining, is the account's decision."""
    admin, member = make_user(), make_user()
    org_id = client.post("/api/v1/organizations", json={"name": "kept"}, headers=admin.headers()).json["id"]
    add_member(client, admin, org_id, member, "editor")
    key = client.post("/api/v1/auth/api-key", json={"name": "ci"}, headers=member.headers(org_id)).json["key"]
    as_key = {"Authorization": f"Bearer {key}"}
    refused = client.delete(f"/api/v1/organizations/{org_id}/membership", headers=as_key)
    assert refused.status_code == 403, refused.json
    members = client.get(f"/api/v1/organizations/{org_id}/members", headers=admin.headers()).json["items"]
    assert member.id in {m["user_id"] for m in members}
    assert client.get(f"/api/v1/organizations/{org_id}", headers=as_key).status_code == 200  # key still works
    assert (
        client.delete(f"/api/v1/organizations/{org_id}/membership", headers=member.headers()).status_code
        == 204
    )


def test_an_api_key_cannot_delete_its_organization(client, make_user):
    """An admin's CI key that leaked deleted the whole organization (its scans, evidence, policies, webhooks
    and memberships, for good), though the same key may not even make its user leave it: deleting the
    organization is its admins' own decision, made signed in."""
    admin = make_user()
    org_id = client.post("/api/v1/organizations", json={"name": "kept"}, headers=admin.headers()).json["id"]
    key = client.post("/api/v1/auth/api-key", json={"name": "ci"}, headers=admin.headers(org_id)).json["key"]
    refused = client.delete(f"/api/v1/organizations/{org_id}", headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 403, refused.json
    assert client.get(f"/api/v1/organizations/{org_id}", headers=admin.headers()).status_code == 200
    assert client.delete(f"/api/v1/organizations/{org_id}", headers=admin.headers()).status_code == 204


def test_the_sso_check_does_not_answer_for_a_personal_workspace(client, make_user):
    user = make_user()
    with session_scope() as session:
        slug = session.get(Organization, user.org_id).slug
    personal = client.get(f"/api/v1/sso/{slug}/check")
    unknown = client.get("/api/v1/sso/no-such-organization-slug/check")
    assert personal.status_code == unknown.status_code == 404
    assert personal.json["message"] == unknown.json["message"]
    assert personal.get_data() == unknown.get_data()
