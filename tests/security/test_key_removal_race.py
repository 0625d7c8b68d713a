"""A key minted while its user is being removed from the organization goes with the membership.

The attacker is a member about to be removed (a contractor at the end of the engagement, an employee
leaving). Removing a member revokes their keys for the organization, so a key does not work again the day
they rejoin (``test_account_residue.py``). Before, a key requested while the removal ran was written after
the removal had revoked the keys it found: it outlived the membership and worked again once its user was
invited back, without anyone issuing it.
"""

from __future__ import annotations

import threading

from sqlalchemy import event

from common.db import get_engine
from tests.helpers import add_member
from web.api import organizations


def test_a_key_minted_while_its_user_is_removed_does_not_come_back_when_they_rejoin(client, make_user):
    admin, member = make_user(), make_user()
    org = client.post("/api/v1/organizations", json={"name": "removal race"}, headers=admin.headers()).json
    add_member(client, admin, org["id"], member, "analyst")
    answers: dict[str, object] = {}

    def remove() -> None:
        answers["removal"] = client.delete(
            f"/api/v1/organizations/{org['id']}/members/{member.id}", headers=admin.headers()
        )

    racing = threading.Thread(target=remove)

    def before_insert(_conn, _cursor, statement, *_args):
        if statement.startswith("INSERT INTO api_keys") and racing.ident is None:
            racing.start()
            racing.join(1)  # it finishes, or waits for the membership the key request holds

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", before_insert)
    try:
        minted = client.post(
            "/api/v1/auth/api-key", json={"name": "parting gift"}, headers=member.headers(org["id"])
        )
        racing.join(30)
    finally:
        event.remove(engine, "before_cursor_execute", before_insert)

    assert minted.status_code == 201, minted.json
    assert answers["removal"].status_code == 204, answers["removal"].json
    add_member(client, admin, org["id"], member, "analyst")
    assert (
        client.get("/api/v1/scans", headers={"Authorization": f"Bearer {minted.json['key']}"}).status_code
        == 401
    )


def test_leaving_while_an_admin_removes_you_answers_404_not_500(client, make_user, monkeypatch):
    """The member's row passed the role check, then the admin's removal committed before ``leave`` read it."""
    admin, member = make_user(), make_user()
    org = client.post("/api/v1/organizations", json={"name": "leave race"}, headers=admin.headers()).json
    add_member(client, admin, org["id"], member, "viewer")
    check_session = organizations.user_session_principal

    removals = []

    def removed_meanwhile(action):
        removing = threading.Thread(
            target=lambda: removals.append(
                client.delete(
                    f"/api/v1/organizations/{org['id']}/members/{member.id}", headers=admin.headers()
                )
            )
        )
        removing.start()
        removing.join(30)
        return check_session(action)

    monkeypatch.setattr(organizations, "user_session_principal", removed_meanwhile)
    answer = client.delete(f"/api/v1/organizations/{org['id']}/membership", headers=member.headers())
    assert removals[0].status_code == 204, removals[0].json
    assert answer.status_code == 404, answer.json
    assert answer.json["message"] == "Member not found."
