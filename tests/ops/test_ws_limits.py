"""WebSocket limits on the live server: concurrent sockets per principal and per organization, and a
client that does not read its events (bounded send queue, the socket dropped when it overflows).
Also who may open a socket at all (the WebSocket row of the authorization matrix)."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
import redis
import websocket

from common.events import channel_for
from tests.helpers import add_member, register_user, wait_for
from tests.ops.conftest import Stack, free_port

PER_PRINCIPAL, PER_ORG, QUEUE = 2, 3, 50


@pytest.fixture
def ws_limits(monkeypatch):
    """Small limits for this test, read by the live server (same process) at each connection."""
    import common.config as config

    monkeypatch.setattr(
        config,
        "_settings",
        dataclasses.replace(
            config.get_settings(),
            ws_max_sockets_per_principal=PER_PRINCIPAL,
            ws_max_sockets_per_org=PER_ORG,
            ws_send_queue_size=QUEUE,
        ),
    )


def ws_url(live_server: str, token: str, organization_id: str | None = None) -> str:
    url = live_server.replace("http://", "ws://", 1) + f"/api/v1/ws?token={token}"
    return url + (f"&organization_id={organization_id}" if organization_id else "")


def first_answer(url: str) -> tuple[websocket.WebSocket, str, object]:
    """("hello", organization_id) or ("close", (code, reason)) for a new socket."""
    ws = websocket.create_connection(url, timeout=10)
    opcode, frame = ws.recv_data_frame(control_frame=True)
    if opcode == websocket.ABNF.OPCODE_CLOSE:
        return ws, "close", (int.from_bytes(frame.data[:2], "big"), frame.data[2:].decode())
    message = json.loads(frame.data)
    assert message["type"] == "hello", message
    return ws, "hello", message["organization_id"]


def close_code(url: str) -> tuple[int, str]:
    ws, kind, detail = first_answer(url)
    ws.close()
    assert kind == "close", f"expected a close frame, got {kind} {detail}"
    return detail


def slots(kind: str, ident: str) -> int:
    from common.redis_client import get_redis

    return get_redis().zcard(f"trusera:ws:sockets:{kind}:{ident}")


def test_who_may_open_a_socket(live_server, client):
    owner = register_user(client)
    team = client.post("/api/v1/organizations", json={"name": "WS Team"}, headers=owner.headers()).json
    viewer, outsider = register_user(client), register_user(client)
    add_member(client, owner, team["id"], viewer, "viewer")
    key = client.post("/api/v1/auth/api-key", json={"name": "ws"}, headers=owner.headers(team["id"])).json
    client.post(f"/api/v1/auth/api-key/{key['id']}/revoke", headers=owner.headers())

    assert close_code(live_server.replace("http://", "ws://", 1) + "/api/v1/ws")[0] == 1008
    assert close_code(ws_url(live_server, key["key"]))[0] == 1008
    assert close_code(ws_url(live_server, outsider.token, team["id"]))[0] == 1008
    ws, kind, organization_id = first_answer(ws_url(live_server, viewer.token, team["id"]))
    ws.close()
    assert (kind, organization_id) == ("hello", team["id"])


@pytest.mark.usefixtures("ws_limits")
def test_sockets_over_the_principal_or_organization_cap_are_closed_with_1013(live_server, client):
    owner = register_user(client)
    team = client.post("/api/v1/organizations", json={"name": "Capped"}, headers=owner.headers()).json
    member, other_member, stranger = register_user(client), register_user(client), register_user(client)
    add_member(client, owner, team["id"], member, "viewer")
    add_member(client, owner, team["id"], other_member, "viewer")
    key = client.post("/api/v1/auth/api-key", json={"name": "ws"}, headers=owner.headers(team["id"])).json
    owner_url = ws_url(live_server, owner.token, team["id"])
    opened = []
    try:
        for _ in range(PER_PRINCIPAL):
            ws, kind, _org = first_answer(owner_url)
            opened.append(ws)
            assert kind == "hello"
        code, reason = close_code(owner_url)
        assert (
            code == 1013 and "this user and their API keys" in reason and f"limit {PER_PRINCIPAL}" in reason
        )
        assert close_code(ws_url(live_server, key["key"]))[0] == 1013  # the owner's key: the same person
        ws, kind, _org = first_answer(ws_url(live_server, member.token, team["id"]))
        opened.append(ws)
        assert kind == "hello" and slots("org", team["id"]) == PER_ORG
        code, reason = close_code(ws_url(live_server, other_member.token, team["id"]))
        assert code == 1013 and "organization" in reason and f"limit {PER_ORG}" in reason
        # Other organizations are not affected.
        ws, kind, _org = first_answer(ws_url(live_server, stranger.token))
        ws.close()
        assert kind == "hello"
        # A closed socket gives its slot back.
        opened.pop(0).close()
        wait_for(lambda: slots("org", team["id"]) == PER_ORG - 1, timeout=10)
        ws, kind, _org = first_answer(ws_url(live_server, member.token, team["id"]))
        opened.append(ws)
        assert kind == "hello"
    finally:
        for ws in opened:
            ws.close()


@pytest.mark.usefixtures("ws_limits")
def test_api_keys_do_not_multiply_one_persons_sockets(live_server, client):
    """Each key was a principal with sockets of its own: a viewer's keys (they may create up to
    API_KEYS_PER_USER) filled the organization's cap, and the members' own sockets were refused."""
    owner, viewer = register_user(client), register_user(client)
    team = client.post("/api/v1/organizations", json={"name": "Keyed"}, headers=owner.headers()).json
    add_member(client, owner, team["id"], viewer, "viewer")
    keys = [
        client.post("/api/v1/auth/api-key", json={"name": f"ws{n}"}, headers=viewer.headers(team["id"])).json
        for n in range(PER_ORG)
    ]
    opened = []
    try:
        for key in keys[:PER_PRINCIPAL]:
            ws, kind, _org = first_answer(ws_url(live_server, key["key"]))
            opened.append(ws)
            assert kind == "hello"
        code, reason = close_code(ws_url(live_server, keys[PER_PRINCIPAL]["key"]))
        assert code == 1013 and "this user and their API keys" in reason
        assert close_code(ws_url(live_server, viewer.token, team["id"]))[0] == 1013
        ws, kind, _org = first_answer(ws_url(live_server, owner.token, team["id"]))
        opened.append(ws)
        assert kind == "hello"
    finally:
        for ws in opened:
            ws.close()


def stalled_socket(live_server: str, token: str) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads (4 KiB receive buffer)."""
    parts = urlsplit(live_server)
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect((parts.hostname, parts.port))
    key = base64.b64encode(os.urandom(16)).decode()
    raw.sendall(
        (
            f"GET /api/v1/ws?token={token} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += raw.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return raw


def stalled_client_is_dropped(base_url: str, user, subscribers) -> None:
    """A client that never reads is dropped once its queue overflows; the one that reads gets every
    event. ``subscribers()`` counts the organization's sockets on the server under test."""
    stalled = stalled_socket(base_url, user.token)
    wait_for(lambda: subscribers() == 1, timeout=10)
    reader = websocket.create_connection(ws_url(base_url, user.token), timeout=30)
    assert json.loads(reader.recv())["type"] == "hello"
    wait_for(lambda: subscribers() == 2, timeout=10)
    assert slots("principal", f"user:{user.id}") == 2

    events = 1500  # 12 MB: more than the stalled client's socket buffers plus its queue of QUEUE events
    received: list[int] = []

    def read_all():
        while len(received) < events:
            message = json.loads(reader.recv())
            if message.get("type") == "bench.padding":
                received.append(message["n"])

    thread = threading.Thread(target=read_all, daemon=True)
    thread.start()
    publisher = redis.Redis.from_url(os.environ["REDIS_URL"])
    padding = "x" * 8192
    for n in range(events):
        publisher.publish(
            channel_for(user.org_id), json.dumps({"type": "bench.padding", "n": n, "pad": padding})
        )
        while n - len(received) > QUEUE // 2:  # a pace the reading client keeps up with, however slow
            time.sleep(0.001)
    thread.join(timeout=60)
    reader.close()

    assert received == list(range(events)), "the client that reads lost events"
    # The stalled socket was dropped: no longer subscribed, its serving loop ended (its slot is free) ...
    wait_for(lambda: subscribers() == 0, timeout=10)
    wait_for(lambda: slots("principal", f"user:{user.id}") == 0, timeout=10)
    # ... and the connection is closed: what the client finally reads ends (EOF or reset).
    stalled.settimeout(10)
    with pytest.raises((ConnectionResetError, EOFError)):
        while True:
            if not stalled.recv(65536):
                raise EOFError
    stalled.close()


@pytest.mark.usefixtures("ws_limits")
def test_a_client_that_does_not_read_is_dropped_and_others_get_every_event(live_server, client):
    from web.api.ws import relay

    user = register_user(client)
    stalled_client_is_dropped(live_server, user, lambda: relay.subscribers(user.org_id))


def test_the_production_ws_service_drops_a_stalled_client_too(client, tmp_path):
    """The same, served as the compose ``ws`` service serves it: gunicorn with gevent."""
    user = register_user(client)
    stack = Stack(tmp_path, WS_SEND_QUEUE_SIZE=str(QUEUE))
    port = free_port()
    stack.start_ws(port)
    try:
        stack.wait_http(f"http://127.0.0.1:{port}/api/v1/health")
        stalled_client_is_dropped(f"http://127.0.0.1:{port}", user, lambda: slots("org", user.org_id))
    finally:
        stack.stop()


def test_a_busy_socket_keeps_renewing_its_slot(live_server, client, monkeypatch):
    """Events arriving faster than the idle timeout must not starve the lease renewal."""
    import web.api.ws

    monkeypatch.setattr(web.api.ws, "LEASE_SECONDS", 2)
    monkeypatch.setattr(web.api.ws, "RENEW_EVERY_SECONDS", 0.5)
    user = register_user(client)
    reader = websocket.create_connection(ws_url(live_server, user.token), timeout=10)
    try:
        assert json.loads(reader.recv())["type"] == "hello"
        publisher = redis.Redis.from_url(os.environ["REDIS_URL"])
        for n in range(16):  # 4.8 s of an event every 0.3 s: more than two leases
            publisher.publish(channel_for(user.org_id), json.dumps({"type": "bench.padding", "n": n}))
            assert json.loads(reader.recv())["n"] == n
            time.sleep(0.3)
        assert slots("principal", f"user:{user.id}") == 1, "the open socket's lease expired"
    finally:
        reader.close()


def test_a_server_failure_after_the_handshake_closes_with_1011(live_server, client, monkeypatch):
    """A bug in the relay must not look like a network fault: the client gets 1011 and the slot comes back."""
    import web.api.ws as ws_module

    def broken_snapshot(organization_id: str) -> list[str]:
        raise RuntimeError("snapshot query failed")

    monkeypatch.setattr(ws_module, "_snapshot", broken_snapshot)
    user = register_user(client)
    ws, kind, _org = first_answer(ws_url(live_server, user.token))
    try:
        assert kind == "hello"
        opcode, frame = ws.recv_data_frame(control_frame=True)
        assert opcode == websocket.ABNF.OPCODE_CLOSE
        assert int.from_bytes(frame.data[:2], "big") == 1011
    finally:
        ws.close()
    wait_for(lambda: slots("user", user.id) == 0, timeout=10)


def test_a_database_failure_while_authorizing_closes_with_1011(live_server, client, monkeypatch):
    """The database failing under load (here: the credential lookup) is a server fault, not a refusal."""
    import sqlalchemy.exc

    import web.api.ws as ws_module

    def unreachable_database(token):
        raise sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("connection pool exhausted"))

    monkeypatch.setattr(ws_module, "_authorize", unreachable_database)
    user = register_user(client)
    assert close_code(ws_url(live_server, user.token))[0] == 1011
