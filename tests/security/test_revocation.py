"""Credentials stop working when they are revoked (issue 12, item 6).

The attack: keep a WebSocket open with a token or API key, then keep receiving the organization's
events after the token was signed out, the key revoked or deleted, or the user removed from the
organization. The socket must be closed with 1008, at once on the revocation notice (these tests
set the periodic re-check to an hour to prove it), and by the periodic re-check when a notice is
lost. And an API key must not take over its owner's account.
"""

from __future__ import annotations

import dataclasses
import json
import time

import pytest
import websocket

from common import events, revocation
from tests.helpers import PASSWORD, add_member, register_user

POLICY_VIOLATION = 1008


@pytest.fixture
def recheck_every(monkeypatch):
    import common.config as config

    def set_interval(seconds: float) -> None:
        monkeypatch.setattr(
            config, "_settings", dataclasses.replace(config.get_settings(), ws_recheck_seconds=seconds)
        )

    set_interval(3600)
    return set_interval


def open_socket(live_server: str, token: str, organization_id: str) -> websocket.WebSocket:
    """Authenticated by a first message: the token never appears in a URL."""
    url = live_server.replace("http://", "ws://", 1) + f"/api/v1/ws?organization_id={organization_id}"
    ws = websocket.create_connection(url, timeout=10)
    ws.send(json.dumps({"type": "auth", "token": token}))
    hello = json.loads(ws.recv())
    assert hello == {"type": "hello", "organization_id": organization_id}
    return ws


def receives_event(ws: websocket.WebSocket, organization_id: str) -> bool:
    marker = events.publish(organization_id, "scan.progress", scan_id="probe")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        opcode, frame = ws.recv_data_frame(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return False
        if opcode == websocket.ABNF.OPCODE_TEXT and json.loads(frame.data).get("seq") == marker["seq"]:
            return True
    return False


def close_code(ws: websocket.WebSocket, within: float) -> int:
    """The close code the server sends within ``within`` seconds; events before it are skipped."""
    ws.settimeout(within)
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            opcode, frame = ws.recv_data_frame(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return int.from_bytes(frame.data[:2], "big")
    except websocket.WebSocketTimeoutException:
        pass
    finally:
        ws.close()
    raise AssertionError(f"the socket was still open {within}s after the revocation")


def test_signing_out_closes_the_sessions_socket(live_server, client, recheck_every):
    user = register_user(client)
    ws = open_socket(live_server, user.token, user.org_id)
    assert receives_event(ws, user.org_id)
    assert client.post("/api/v1/auth/logout", headers=user.headers()).status_code == 204
    assert close_code(ws, within=5) == POLICY_VIOLATION


def test_changing_the_password_closes_the_other_sessions_sockets(live_server, client, recheck_every):
    user = register_user(client)
    stolen = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}).json
    ws = open_socket(live_server, stolen["access_token"], user.org_id)
    changed = client.put(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "another long password"},
        headers=user.headers(),
    )
    assert changed.status_code == 200
    assert close_code(ws, within=5) == POLICY_VIOLATION


@pytest.mark.parametrize("how", ["revoke", "delete"])
def test_revoking_or_deleting_an_api_key_closes_its_socket(live_server, client, recheck_every, how):
    user = register_user(client)
    key = client.post("/api/v1/auth/api-key", json={"name": "ws"}, headers=user.headers()).json
    ws = open_socket(live_server, key["key"], user.org_id)
    assert receives_event(ws, user.org_id)
    if how == "revoke":
        answer = client.post(f"/api/v1/auth/api-key/{key['id']}/revoke", headers=user.headers())
    else:
        answer = client.delete(f"/api/v1/auth/api-key/{key['id']}", headers=user.headers())
    assert answer.status_code in (200, 204)
    assert close_code(ws, within=5) == POLICY_VIOLATION


def test_removing_a_member_closes_their_socket(live_server, client, recheck_every):
    admin, member = register_user(client), register_user(client)
    team = client.post("/api/v1/organizations", json={"name": "Revocations"}, headers=admin.headers()).json
    add_member(client, admin, team["id"], member, "viewer")
    ws = open_socket(live_server, member.token, team["id"])
    assert receives_event(ws, team["id"])
    removed = client.delete(
        f"/api/v1/organizations/{team['id']}/members/{member.id}", headers=admin.headers()
    )
    assert removed.status_code == 204
    assert close_code(ws, within=5) == POLICY_VIOLATION


def test_a_lost_notice_is_caught_by_the_periodic_recheck(live_server, client, recheck_every, monkeypatch):
    monkeypatch.setattr(revocation, "publish", lambda user_ids: None)  # the notice never arrives
    recheck_every(1)
    user = register_user(client)
    key = client.post("/api/v1/auth/api-key", json={"name": "ws"}, headers=user.headers()).json
    ws = open_socket(live_server, key["key"], user.org_id)
    assert client.post(f"/api/v1/auth/api-key/{key['id']}/revoke", headers=user.headers()).status_code == 200
    assert close_code(ws, within=6) == POLICY_VIOLATION


def test_the_default_recheck_is_at_most_30_seconds():
    from common.config import get_settings

    assert get_settings().ws_recheck_seconds <= 30


def test_an_unrelated_revocation_leaves_other_sockets_open(live_server, client, recheck_every):
    user, other = register_user(client), register_user(client)
    ws = open_socket(live_server, user.token, user.org_id)
    assert client.post("/api/v1/auth/logout", headers=other.headers()).status_code == 204
    assert receives_event(ws, user.org_id)
    ws.close()


def test_an_api_key_cannot_take_over_its_owners_account(client):
    user = register_user(client)
    key = client.post("/api/v1/auth/api-key", json={"name": "ci"}, headers=user.headers()).json
    other = client.post("/api/v1/auth/api-key", json={"name": "laptop"}, headers=user.headers()).json
    as_key = {"Authorization": f"Bearer {key['key']}"}
    attempts = [
        client.put(
            "/api/v1/auth/password",
            json={"current_password": PASSWORD, "new_password": "attacker's password"},
            headers=as_key,
        ),
        client.post("/api/v1/auth/api-key", json={"name": "persistence"}, headers=as_key),
        client.get("/api/v1/auth/api-keys", headers=as_key),
        client.post(f"/api/v1/auth/api-key/{other['id']}/revoke", headers=as_key),
        client.delete(f"/api/v1/auth/api-key/{other['id']}", headers=as_key),
        client.delete("/api/v1/auth/account", json={"password": PASSWORD}, headers=as_key),
    ]
    assert [a.status_code for a in attempts] == [403] * len(attempts)
    assert all("API key cannot" in a.json["message"] for a in attempts)
    # Nothing happened: the password still signs in, both keys are listed and live.
    login = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert login.status_code == 200
    keys = client.get("/api/v1/auth/api-keys", headers=user.headers()).json["items"]
    assert {k["id"] for k in keys} == {key["id"], other["id"]} and all(k["revoked_at"] is None for k in keys)
    assert client.get("/api/v1/auth/me", headers=as_key).status_code == 200  # the key still works for its job
