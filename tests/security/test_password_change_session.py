"""A password change ends every copy of the session it was made from.

The attacker copied a signed-in user's tokens (a shared machine, a leaked log, a browser extension). The
user notices and changes the password, from that same session. Before, the change signed out the other
sessions only: the copied refresh token kept minting access tokens for weeks, and the copied access token
kept working. Now every session ends, this one included, and the caller goes on with the new tokens the
change answers with.

Nor do the API keys the attacker minted from the copied session: before, they outlived the change (and
nothing showed the user they existed unless they looked), so the change did not end the intruder's access.
Now the change revokes the account's keys, unless the caller asks to keep them (``keep_api_keys``), a
routine change of a CI user's password.
"""

from __future__ import annotations

import threading

from sqlalchemy import event

from common.db import get_engine
from tests.helpers import PASSWORD, register_user

NEW_PASSWORD = "a brand new passphrase"


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_the_copied_tokens_of_the_changing_session_stop_working(client):
    user = register_user(client)
    copied_access, copied_refresh = user.token, user.refresh_token

    changed = client.put(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=user.headers(),
    )

    assert changed.status_code == 200, changed.json
    assert client.post("/api/v1/auth/refresh", headers=_bearer(copied_refresh)).status_code == 401
    assert client.get("/api/v1/scans", headers=_bearer(copied_access)).status_code == 401
    # the user goes on with the tokens of the new session
    assert client.get("/api/v1/scans", headers=_bearer(changed.json["access_token"])).status_code == 200
    renewed = client.post("/api/v1/auth/refresh", headers=_bearer(changed.json["refresh_token"]))
    assert renewed.status_code == 200, renewed.json


def _key(client, user, name: str) -> dict:
    created = client.post("/api/v1/auth/api-key", json={"name": name}, headers=user.headers())
    assert created.status_code == 201, created.json
    return _bearer(created.json["key"])


def test_api_keys_minted_from_a_stolen_session_end_with_the_password_change(client):
    user = register_user(client)
    intruders_key = _key(client, user, "looks like ci")
    assert client.get("/api/v1/scans", headers=intruders_key).status_code == 200  # its principal is cached

    changed = client.put(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=user.headers(),
    )

    assert changed.status_code == 200, changed.json
    assert changed.json["api_keys_revoked"] == 1
    assert client.get("/api/v1/scans", headers=intruders_key).status_code == 401
    keys = client.get("/api/v1/auth/api-keys", headers=_bearer(changed.json["access_token"])).json["items"]
    assert [k["revoked_at"] is not None for k in keys] == [True]


def test_a_routine_password_change_may_keep_the_api_keys(client):
    user = register_user(client)
    ci_key = _key(client, user, "ci")

    changed = client.put(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "keep_api_keys": True},
        headers=user.headers(),
    )

    assert changed.status_code == 200, changed.json
    assert changed.json["api_keys_revoked"] == 0
    assert "GET /auth/api-keys" in changed.json["message"]
    assert client.get("/api/v1/scans", headers=ci_key).status_code == 200


def test_a_key_minted_while_the_password_changes_is_revoked_with_the_others(client):
    """The intruder's key request was authenticated (its session still live) when the owner's password
    change ran; the change revoked the keys it found, then the key was written: it outlived the change.
    Now a key is written only while its session is held live (a key request that finds it ended is a
    401), so the change waits for the key and revokes it."""
    user = register_user(client)
    owner = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}).json
    answers: dict[str, object] = {}

    def change_password() -> None:
        answers["change"] = client.put(
            "/api/v1/auth/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers=_bearer(owner["access_token"]),
        )

    racing = threading.Thread(target=change_password)

    def before_insert(_conn, _cursor, statement, *_args):
        if statement.startswith("INSERT INTO api_keys") and racing.ident is None:
            racing.start()
            racing.join(1)  # it finishes, or waits for the session the key request holds

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", before_insert)
    try:
        minted = client.post("/api/v1/auth/api-key", json={"name": "intruder"}, headers=user.headers())
        racing.join(30)
    finally:
        event.remove(engine, "before_cursor_execute", before_insert)

    assert minted.status_code == 201, minted.json
    assert answers["change"].status_code == 200, answers["change"].json
    assert answers["change"].json["api_keys_revoked"] == 1
    assert client.get("/api/v1/scans", headers=_bearer(minted.json["key"])).status_code == 401
