"""One invitation accepted twice at the same moment joins once; the other acceptance is a clean 4xx.
And two admins inviting one person at the same moment both get their answer.

The invitee (or someone holding their session and the code) sends the accept twice in parallel: a double
click, a retried request. Before, both read the pending invitation: both answered 200 and recorded a join
(the second deleting an invitation already gone, which SQLAlchemy only warns about), or, when both found
no membership before either inserted one, the second hit the unique (organization, user) constraint: a
500. Now the invitation's row is held while it is accepted, so the second finds it gone: 404, and one
membership with the invitation's role.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import event, func, select, update

from common.db import get_engine, session_scope
from common.models import Membership
from common.models.base import utcnow
from common.models.identity import MemberInvitation
from tests.helpers import add_member, register_user
from workers.maintenance import prune_spent


def test_one_invitation_accepted_twice_at_once_joins_once(client):
    admin, invitee = register_user(client), register_user(client)
    org_id = client.post("/api/v1/organizations", json={"name": "Race"}, headers=admin.headers()).json["id"]
    invited = client.post(
        f"/api/v1/organizations/{org_id}/members",
        json={"email": invitee.email, "role": "analyst"},
        headers=admin.headers(),
    )
    invitation_id = client.get("/api/v1/auth/invitations", headers=invitee.headers()).json["items"][0]["id"]
    accept_url = f"/api/v1/auth/invitations/{invitation_id}/accept"
    body = {"code": invited.json["invitation_code"]}
    answers: dict[str, int] = {}

    def accept_again() -> None:
        answers["second"] = client.post(accept_url, json=body, headers=invitee.headers()).status_code

    racing = threading.Thread(target=accept_again)

    def once_read(_conn, _cursor, statement, *_args):
        # The first accept has read the invitation: the second runs now, before the first writes.
        if "FROM member_invitations" in statement and racing.ident is None:
            racing.start()
            racing.join(1)  # it finishes, or waits for what the first accept holds

    engine = get_engine()
    event.listen(engine, "after_cursor_execute", once_read)
    try:
        answers["first"] = client.post(accept_url, json=body, headers=invitee.headers()).status_code
        racing.join(30)
    finally:
        event.remove(engine, "after_cursor_execute", once_read)

    assert sorted(answers.values()) == [200, 404], answers
    with session_scope() as session:
        roles = session.scalars(
            select(Membership.role).where(
                Membership.organization_id == org_id, Membership.user_id == invitee.id
            )
        ).all()
        left = session.scalar(
            select(func.count())
            .select_from(MemberInvitation)
            .where(MemberInvitation.organization_id == org_id)
        )
    assert roles == ["analyst"]
    assert left == 0


def test_two_admins_inviting_one_person_at_once_both_get_their_answer(client):
    """Both found no invitation and inserted one: the second met the (organization, user) unique
    constraint, a 500. Now it renews the invitation the first wrote."""
    admin, co_admin, invitee = register_user(client), register_user(client), register_user(client)
    org_id = client.post("/api/v1/organizations", json={"name": "Race"}, headers=admin.headers()).json["id"]
    add_member(client, admin, org_id, co_admin, "admin")
    invite = f"/api/v1/organizations/{org_id}/members"
    answers: dict[str, object] = {}

    def invite_too() -> None:
        answers["second"] = client.post(
            invite, json={"email": invitee.email, "role": "viewer"}, headers=co_admin.headers()
        )

    racing = threading.Thread(target=invite_too)

    def once_read(_conn, _cursor, statement, *_args):
        if "FROM member_invitations" in statement and racing.ident is None:
            racing.start()
            racing.join(5)

    engine = get_engine()
    event.listen(engine, "after_cursor_execute", once_read)
    try:
        answers["first"] = client.post(
            invite, json={"email": invitee.email, "role": "analyst"}, headers=admin.headers()
        )
        racing.join(30)
    finally:
        event.remove(engine, "after_cursor_execute", once_read)

    assert [answers["first"].status_code, answers["second"].status_code] == [202, 202]
    pending = client.get("/api/v1/auth/invitations", headers=invitee.headers()).json["items"]
    assert [i["role"] for i in pending] == ["analyst"]  # the last written stands, with its code
    accepted = client.post(
        f"/api/v1/auth/invitations/{pending[0]['id']}/accept",
        json={"code": answers["first"].json["invitation_code"]},
        headers=invitee.headers(),
    )
    assert accepted.status_code == 200, accepted.json


def test_renewing_an_invitation_the_maintenance_worker_deletes_meanwhile_invites_again(client):
    """The daily prune deletes a lapsed invitation between an admin's read of it and the renewal's write:
    the renewal's update found no row, a 500 (``StaleDataError``). Now it looks again and invites anew."""
    admin, invitee = register_user(client), register_user(client)
    org_id = client.post("/api/v1/organizations", json={"name": "Lapse"}, headers=admin.headers()).json["id"]
    invite = f"/api/v1/organizations/{org_id}/members"
    first = client.post(invite, json={"email": invitee.email, "role": "viewer"}, headers=admin.headers())
    assert first.status_code == 202, first.json
    with session_scope() as session:
        session.execute(
            update(MemberInvitation)
            .where(MemberInvitation.organization_id == org_id)
            .values(created_at=utcnow() - timedelta(days=30))
        )
    pruned: dict = {}

    def prune_after_the_read(_conn, _cursor, statement, *_args):
        if "FROM member_invitations" in statement and not pruned:
            pruned["started"] = True  # the prune's own statements pass through here too
            pruned.update(prune_spent(utcnow()))

    engine = get_engine()
    event.listen(engine, "after_cursor_execute", prune_after_the_read)
    try:
        renewed = client.post(
            invite, json={"email": invitee.email, "role": "analyst"}, headers=admin.headers()
        )
    finally:
        event.remove(engine, "after_cursor_execute", prune_after_the_read)
    assert pruned["lapsed_invitations"] >= 1  # the one the renewal read was deleted under it
    assert renewed.status_code == 202, renewed.json
    pending = client.get("/api/v1/auth/invitations", headers=invitee.headers()).json["items"]
    assert [(i["organization"]["id"], i["role"]) for i in pending] == [(org_id, "analyst")]
