"""An organization always keeps an admin, and a personal workspace always keeps its owner.

- Two admins removing each other (or leaving) at the same moment each counted two admins, before either
  removal was committed, and both went through: the organization was left with members and no admin, so
  nobody could manage its members, SSO, webhooks or deletion any more.
- The owner of a personal workspace cannot leave it, but an admin they had invited there could remove them:
  the account's default organization (every request without ``X-Organization-Id``) then answered 403, and
  the invited admin kept the workspace, its scans and its keys.
"""

from __future__ import annotations

import secrets
import threading

from sqlalchemy import event, func, select

from common.db import get_engine, session_scope
from common.models import Membership, Organization
from tests.helpers import PASSWORD, add_member, register_user


def _team_of_two_admins(client):
    first, second = register_user(client), register_user(client)
    org = client.post(
        "/api/v1/organizations", json={"name": f"Team {secrets.token_hex(3)}"}, headers=first.headers()
    )
    assert org.status_code == 201, org.json
    add_member(client, first, org.json["id"], second, "admin")
    return first, second, org.json["id"]


def _admins(org_id: str) -> int:
    with session_scope() as session:
        return session.scalar(
            select(func.count()).where(Membership.organization_id == org_id, Membership.role == "admin")
        )


def test_two_admins_removing_each_other_at_once_leave_one_admin(client):
    first, second, org_id = _team_of_two_admins(client)
    answers: dict[str, int] = {}

    def second_removes_first() -> None:
        removed = client.delete(
            f"/api/v1/organizations/{org_id}/members/{first.id}", headers=second.headers()
        )
        answers["second"] = removed.status_code

    racing = threading.Thread(target=second_removes_first)

    def once_counted(_conn, _cursor, statement, *_args):
        # The first removal has counted the admins: the second one runs now, before the first commits.
        if "count(" in statement.lower() and "memberships" in statement and racing.ident is None:
            racing.start()
            racing.join(2)  # it finishes, or waits for what the first removal holds

    engine = get_engine()
    event.listen(engine, "after_cursor_execute", once_counted)
    try:
        removed = client.delete(
            f"/api/v1/organizations/{org_id}/members/{second.id}", headers=first.headers()
        )
        answers["first"] = removed.status_code
        racing.join(30)
    finally:
        event.remove(engine, "after_cursor_execute", once_counted)

    assert sorted(answers.values()) == [204, 409], answers
    assert _admins(org_id) == 1


def test_two_admins_leaving_at_once_leave_one_admin(client):
    first, second, org_id = _team_of_two_admins(client)
    answers: dict[str, int] = {}

    def second_leaves() -> None:
        answers["second"] = client.delete(
            f"/api/v1/organizations/{org_id}/membership", headers=second.headers()
        ).status_code

    racing = threading.Thread(target=second_leaves)

    def once_counted(_conn, _cursor, statement, *_args):
        if "count(" in statement.lower() and "memberships" in statement and racing.ident is None:
            racing.start()
            racing.join(2)

    engine = get_engine()
    event.listen(engine, "after_cursor_execute", once_counted)
    try:
        answers["first"] = client.delete(
            f"/api/v1/organizations/{org_id}/membership", headers=first.headers()
        ).status_code
        racing.join(30)
    finally:
        event.remove(engine, "after_cursor_execute", once_counted)

    assert sorted(answers.values()) == [204, 409], answers
    assert _admins(org_id) == 1


def test_an_invited_admin_cannot_remove_the_owner_of_a_personal_workspace(client):
    owner, guest = register_user(client), register_user(client)
    add_member(client, owner, owner.org_id, guest, "admin")

    removed = client.delete(
        f"/api/v1/organizations/{owner.org_id}/members/{owner.id}", headers=guest.headers(owner.org_id)
    )

    assert removed.status_code == 409, removed.json
    assert client.get("/api/v1/scans", headers=owner.headers()).status_code == 200
    # the guest is an ordinary member there: the owner may still remove them
    assert (
        client.delete(
            f"/api/v1/organizations/{owner.org_id}/members/{guest.id}", headers=owner.headers()
        ).status_code
        == 204
    )


def test_deleting_the_account_leaves_no_organization_without_members(client):
    """The sole member of a team organization deleted their account: the organization lived on with nobody
    in it, its schedules scanning with its saved credentials and its webhooks posting, and nobody left
    who could stop them. The account is kept until its organizations are deleted or handed over."""
    user = register_user(client)
    org = client.post(
        "/api/v1/organizations", json={"name": f"Solo {secrets.token_hex(3)}"}, headers=user.headers()
    ).json

    refused = client.delete("/api/v1/auth/account", json={"password": PASSWORD}, headers=user.headers())

    assert refused.status_code == 409, refused.json
    with session_scope() as session:
        assert session.scalar(select(func.count()).where(Membership.organization_id == org["id"])) == 1
    assert client.delete(f"/api/v1/organizations/{org['id']}", headers=user.headers()).status_code == 204
    deleted = client.delete("/api/v1/auth/account", json={"password": PASSWORD}, headers=user.headers())
    assert deleted.status_code == 204, deleted.json


def test_a_personal_workspace_goes_with_its_owners_account_whoever_else_is_in_it(client):
    """An owner who had invited an admin into their personal workspace deleted their account: the workspace
    stayed, still personal, which only its (gone) owner's account deletion could remove, so nobody could
    ever delete it."""
    owner, admin, viewer = register_user(client), register_user(client), register_user(client)
    add_member(client, owner, owner.org_id, admin, "admin")
    add_member(client, owner, owner.org_id, viewer, "viewer")
    guest_key = client.post(
        "/api/v1/auth/api-key", json={"name": "k"}, headers=admin.headers(owner.org_id)
    ).json

    deleted = client.delete("/api/v1/auth/account", json={"password": PASSWORD}, headers=owner.headers())

    assert deleted.status_code == 204, deleted.json
    with session_scope() as session:
        assert session.get(Organization, owner.org_id) is None
    assert client.get("/api/v1/scans", headers=admin.headers(owner.org_id)).status_code in (403, 404)
    assert (
        client.get("/api/v1/scans", headers={"Authorization": f"Bearer {guest_key['key']}"}).status_code
        == 401
    )
    assert (
        client.get("/api/v1/scans", headers=admin.headers()).status_code == 200
    )  # their own workspace stays
