"""Opening a WebSocket is counted like any other request: an upgrade past the address's limit is a 429
before any credential is looked at.

The attacker has no account. Each upgrade with a made-up ``tsk_`` key costs a database lookup, and each
upgrade without a token holds a connection for the five seconds the first message may take. This holds
because the upgrade is not exempt from the rate limits (the exemption list named the endpoint ``ws``, which
never matched flask-sock's ``__flask_sock.ws``, and was dropped): these tests keep it so.
"""

from __future__ import annotations

import secrets

import websocket

from tests.helpers import counted_statements
from web.core.ratelimits import GENERAL_LIMIT

ALLOWED = int(GENERAL_LIMIT.split()[0])
PAST_THE_LIMIT = 15


def _ws_url(live_server: str) -> str:
    return live_server.replace("http://", "ws://", 1) + "/api/v1/ws"


def _open(url: str) -> int:
    """101 (then closed by the server or by us), or the HTTP status that refused the upgrade."""
    try:
        ws = websocket.create_connection(url, timeout=10)
    except websocket.WebSocketBadStatusException as refused:
        return refused.status_code
    ws.close()
    return 101


def test_made_up_api_keys_on_the_websocket_meet_the_addresss_limit(client, live_server):
    url = _ws_url(live_server)
    with counted_statements() as statements:
        answers = [
            _open(f"{url}?token=tsk_{secrets.token_urlsafe(32)}") for _ in range(ALLOWED + PAST_THE_LIMIT)
        ]
    lookups = [statement for statement in statements if "api_keys" in statement]
    assert answers[:ALLOWED] == [101] * ALLOWED
    assert answers[ALLOWED:] == [429] * PAST_THE_LIMIT
    assert len(lookups) == ALLOWED


def test_sockets_waiting_for_their_first_message_are_bounded_per_address(client, live_server):
    """Upgrades without a token wait for the first message: past the limit they are not even opened."""
    url = _ws_url(live_server)
    waiting = []
    try:
        for _ in range(ALLOWED):
            waiting.append(websocket.create_connection(url, timeout=10))
        assert _open(url) == 429
    finally:
        for ws in waiting:
            ws.close()
