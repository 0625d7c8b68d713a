"""A password change ends every copy of the session it was made from.

The attacker copied a signed-in user's tokens (a shared machine, a leaked log, a browser extension). The
user notices and changes the password, from that same session. Before, the change signed out the other
sessions only: the copied refresh token kept minting access tokens for weeks, and the copied access token
kept working. Now every session ends, this one included, and the caller goes on with the new tokens the
change answers with.
"""

from __future__ import annotations

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
