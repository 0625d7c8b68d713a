"""A personal workspace's audit log shows its owner's sign-ins to the owner only.

A sign-in is the account's, not one organization's, and is recorded in the account's personal workspace
(``auth.login``, ``auth.register``), with the address and browser it came from. The owner may invite
others into the workspace, as admins too. Before, such an admin read every sign-in of the owner there,
whatever organization the owner signed in to work in: where and on what device they were, each time.
"""

from __future__ import annotations

from tests.helpers import PASSWORD, add_member

OWNERS_PHONE = {"User-Agent": "OwnersPhone/1.0"}
OWNERS_ADDRESS = {"REMOTE_ADDR": "203.0.113.9"}


def _sign_in(client, user) -> None:
    signed_in = client.post(
        "/api/v1/auth/login",
        json={"email": user.email, "password": PASSWORD},
        headers=OWNERS_PHONE,
        environ_base=OWNERS_ADDRESS,
    )
    assert signed_in.status_code == 200, signed_in.json


def test_an_admin_of_a_personal_workspace_does_not_read_its_owners_sign_ins(client, make_user):
    owner, guest = make_user(), make_user()
    add_member(client, owner, owner.org_id, guest, "admin")
    _sign_in(client, owner)
    client.post("/api/v1/auth/api-key", json={"name": "workspace key"}, headers=owner.headers())

    seen_by_guest = client.get("/api/v1/audit-log", headers=guest.headers(owner.org_id)).json["items"]
    seen_by_owner = client.get("/api/v1/audit-log", headers=owner.headers()).json["items"]

    assert not [e for e in seen_by_guest if e["action"] in ("auth.login", "auth.register")]
    assert "203.0.113.9" not in str(seen_by_guest) and "OwnersPhone" not in str(seen_by_guest)
    assert "auth.api_key_create" in [e["action"] for e in seen_by_guest]  # the workspace's own trail stays
    owners_actions = [e["action"] for e in seen_by_owner]
    assert "auth.login" in owners_actions and "auth.register" in owners_actions
