"""Minting an API key holds rows other account changes lock too: no order of theirs makes a cycle."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event

from common.db import get_engine
from tests.helpers import PASSWORD, add_member


def _race_at(statement_start: str, other_request, mint):
    """Mint a key, and start ``other_request`` just before the minting sends ``statement_start``; both
    answers."""
    answers: dict[str, object] = {}
    racing = threading.Thread(target=lambda: answers.__setitem__("other", other_request()))

    def before(_conn, _cursor, statement, *_args):
        if statement.startswith(statement_start) and racing.ident is None:
            racing.start()
            racing.join(1)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", before)
    try:
        answers["minted"] = mint()
        racing.join(30)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return answers["minted"], answers["other"]


@pytest.mark.parametrize("at", ["SELECT memberships.id", "SELECT auth_sessions.id", "INSERT INTO api_keys"])
def test_deleting_the_account_while_a_key_is_minted_deletes_the_key_and_is_no_deadlock(client, make_user, at):
    """The deletion revoked the sessions first, then waited for the membership the minting held, which waited
    for its session: PostgreSQL broke the cycle by failing the deletion (503)."""
    admin, member = make_user(), make_user()
    org = client.post("/api/v1/organizations", json={"name": "deletion race"}, headers=admin.headers()).json
    add_member(client, admin, org["id"], member, "analyst")
    minted, deleted = _race_at(
        at,
        lambda: client.delete("/api/v1/auth/account", json={"password": PASSWORD}, headers=member.headers()),
        lambda: client.post("/api/v1/auth/api-key", json={"name": "k"}, headers=member.headers(org["id"])),
    )
    assert deleted.status_code == 204, deleted.get_data()
    assert minted.status_code in (201, 401, 403), minted.json
    if minted.status_code == 201:
        key = {"Authorization": f"Bearer {minted.json['key']}"}
        assert client.get("/api/v1/scans", headers=key).status_code == 401


@pytest.mark.parametrize("at", ["SELECT memberships.id", "SELECT auth_sessions.id", "INSERT INTO api_keys"])
@pytest.mark.parametrize("change", ["leave", "delete the organization"])
def test_leaving_or_deleting_the_organization_while_a_key_is_minted_is_no_deadlock(
    client, make_user, at, change
):
    admin, member = make_user(), make_user()
    org = client.post("/api/v1/organizations", json={"name": "key race"}, headers=admin.headers()).json
    add_member(client, admin, org["id"], member, "admin")
    path = f"/api/v1/organizations/{org['id']}" + ("/membership" if change == "leave" else "")
    minted, changed = _race_at(
        at,
        lambda: client.delete(path, headers=member.headers(org["id"])),
        lambda: client.post("/api/v1/auth/api-key", json={"name": "k"}, headers=member.headers(org["id"])),
    )
    assert changed.status_code == 204, changed.get_data()
    assert minted.status_code in (201, 403, 404), minted.json
    if minted.status_code == 201:
        key = {"Authorization": f"Bearer {minted.json['key']}"}
        assert client.get("/api/v1/scans", headers=key).status_code in (401, 403)


@pytest.mark.parametrize("at", ["SELECT memberships.id", "SELECT auth_sessions.id", "INSERT INTO api_keys"])
def test_deleting_the_account_while_a_key_of_its_personal_workspace_is_minted_is_no_deadlock(
    client, make_user, at
):
    """The deletion ends with the personal workspace's row, which the minting holds first."""
    admin, member = make_user(), make_user()
    org = client.post("/api/v1/organizations", json={"name": "personal race"}, headers=admin.headers()).json
    add_member(client, admin, org["id"], member, "analyst")
    minted, deleted = _race_at(
        at,
        lambda: client.delete("/api/v1/auth/account", json={"password": PASSWORD}, headers=member.headers()),
        lambda: client.post(
            "/api/v1/auth/api-key", json={"name": "k"}, headers=member.headers(member.org_id)
        ),
    )
    assert deleted.status_code == 204, deleted.get_data()
    assert minted.status_code in (201, 401, 403, 404), minted.json
    if minted.status_code == 201:
        key = {"Authorization": f"Bearer {minted.json['key']}"}
        assert client.get("/api/v1/scans", headers=key).status_code == 401
