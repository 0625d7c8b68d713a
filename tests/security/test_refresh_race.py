"""A refresh token is good for one refresh, even when it is presented twice at the same moment.

The attacker holds a copied refresh token and presents it in parallel requests (or races the user's own
client). Before, each refresh read the session, saw the token current, and rotated it: both answered 200,
and two token families lived on from one refresh token. Now the session's row is held while it is
rotated, so the second presentation finds the token already used: 401, and the session ends, as for any
reuse of a rotated-out refresh token.
"""

from __future__ import annotations

import threading

from sqlalchemy import event

from common.db import get_engine
from tests.helpers import register_user


def test_one_refresh_token_presented_twice_at_once_refreshes_once(client):
    user = register_user(client)
    headers = {"Authorization": f"Bearer {user.refresh_token}"}
    answers: dict[str, int] = {}

    def refresh_again() -> None:
        answers["second"] = client.post("/api/v1/auth/refresh", headers=headers).status_code

    racing = threading.Thread(target=refresh_again)

    def once_read(_conn, _cursor, statement, *_args):
        # The first refresh has read the session: the second runs now, before the first rotates it.
        if "FROM auth_sessions" in statement and racing.ident is None:
            racing.start()
            racing.join(2)  # it finishes, or waits for what the first refresh holds

    engine = get_engine()
    event.listen(engine, "after_cursor_execute", once_read)
    try:
        answers["first"] = client.post("/api/v1/auth/refresh", headers=headers).status_code
        racing.join(30)
    finally:
        event.remove(engine, "after_cursor_execute", once_read)

    assert sorted(answers.values()) == [200, 401], answers
