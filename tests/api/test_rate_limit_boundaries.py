"""Attacks on the one-trip rate limiter and its revocation answer (``web.core.ratelimits``).

Each test plays one way around the limits or the revocation list: invented API keys to get a fresh
window per attempt, a refresh token presented as an access token, and a limiter whose Redis call fails
(``swallow_errors``) so that it answers no revocation question.
"""

from __future__ import annotations

import secrets

import redis

from tests.helpers import PASSWORD, register_user
from web.core.ratelimits import GENERAL_LIMIT, GROUP_LIMITS, OneTripMovingWindow, limiter


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def login(client, email: str) -> dict:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.json
    return response.json


def test_invented_api_keys_do_not_give_each_login_attempt_its_own_window(client):
    """Credential stuffing: every attempt carries a new made-up ``tsk_`` key. The auth group's limit is
    still the client address's."""
    allowed = int(GROUP_LIMITS["auth"].split()[0])
    statuses = []
    for attempt in range(allowed + 1):
        response = client.post(
            "/api/v1/auth/login",
            json={"email": f"victim{attempt}@example.com", "password": "guess-" + secrets.token_hex(4)},
            headers=bearer("tsk_" + secrets.token_urlsafe(32)),
        )
        statuses.append(response.status_code)
    assert set(statuses[:allowed]) == {401}, statuses
    assert statuses[allowed] == 429


def remaining(response) -> int:
    return int(response.headers["X-RateLimit-Remaining"])


def test_invented_credentials_on_an_authenticated_endpoint_share_the_address_window(client):
    """A flood of made-up ``tsk_`` keys (and forged bearer tokens) on an endpoint that needs one: none
    verifies, so each is counted by the client address, and once that window is spent the answer is a
    429 that asks the database nothing."""
    from tests.helpers import counted_statements

    allowed = int(GENERAL_LIMIT.split()[0])
    statuses = [
        client.get("/api/v1/scans", headers=bearer(invented(attempt))).status_code
        for attempt in range(allowed)
    ]
    assert set(statuses) == {401}, statuses
    with counted_statements() as statements:
        refused = client.get("/api/v1/scans", headers=bearer(invented(0)))
    assert refused.status_code == 429 and statements == []
    assert client.get("/api/v1/scans").status_code == 429  # the address's own window, spent


def invented(attempt: int) -> str:
    """A new API key each time, and every fifth time a token signed with a guessed key."""
    if attempt % 5 == 4:
        return "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4IiwidHlwZSI6ImFjY2VzcyJ9." + secrets.token_urlsafe(32)
    return "tsk_" + secrets.token_urlsafe(32)


def test_an_api_key_is_counted_by_its_own_window_once_it_verified_and_not_after_its_revocation(
    client, make_user
):
    user = make_user()
    created = client.post("/api/v1/auth/api-key", json={"name": "CI"}, headers=user.headers())
    assert created.status_code == 201, created.json
    key = bearer(created.json["key"])
    assert client.get("/api/v1/scans", headers=key).status_code == 200
    anonymous = remaining(client.get("/api/v1/scans"))
    first, second = (client.get("/api/v1/scans", headers=key) for _ in range(2))
    assert first.status_code == second.status_code == 200
    assert remaining(second) == remaining(first) - 1
    assert (
        remaining(client.get("/api/v1/scans")) == anonymous - 1
    )  # the key's requests were not the address's

    revoke = client.post(f"/api/v1/auth/api-key/{created.json['id']}/revoke", headers=user.headers())
    assert revoke.status_code in (200, 204), revoke.json
    assert client.get("/api/v1/scans", headers=key).status_code == 401
    before = remaining(client.get("/api/v1/scans"))
    assert client.get("/api/v1/scans", headers=key).status_code == 401
    assert remaining(client.get("/api/v1/scans")) == before - 2


def test_an_authenticated_endpoint_still_counts_by_the_principal(client, make_user):
    user = make_user()
    anonymous = int(client.get("/api/v1/scans").headers["X-RateLimit-Remaining"])
    first = int(client.get("/api/v1/scans", headers=user.headers()).headers["X-RateLimit-Remaining"])
    second = client.get("/api/v1/scans", headers=user.headers())
    assert second.status_code == 200
    assert int(second.headers["X-RateLimit-Remaining"]) == first - 1
    assert int(client.get("/api/v1/scans").headers["X-RateLimit-Remaining"]) == anonymous - 1


def test_a_refresh_token_is_not_accepted_as_an_access_token(client, make_user):
    user = make_user()
    tokens = login(client, user.email)
    refused = client.get("/api/v1/scans", headers=bearer(tokens["refresh_token"]))
    assert refused.status_code == 401
    assert client.get("/api/v1/auth/me", headers=bearer(tokens["refresh_token"])).status_code == 401
    assert client.get("/api/v1/scans", headers=bearer(tokens["access_token"])).status_code == 200


def test_a_signed_out_token_is_refused_when_the_limiter_cannot_reach_redis(client, make_user, monkeypatch):
    """The limiter swallows its Redis errors and lets the request through unanswered: the revocation
    must then be asked again, not assumed."""
    user = make_user()
    token = login(client, user.email)["access_token"]
    assert client.get("/api/v1/scans", headers=bearer(token)).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code in (200, 204)

    def unreachable(self, *args, **kwargs):
        raise redis.ConnectionError("limiter storage down")

    monkeypatch.setattr(OneTripMovingWindow, "hit", unreachable)
    refused = client.get("/api/v1/scans", headers=bearer(token))
    assert refused.status_code == 401
    assert "revoked" in refused.json["message"]


def test_a_signed_out_token_is_refused_on_a_grouped_endpoint_and_with_limits_off(client, make_user):
    user = make_user()
    token = login(client, user.email)["access_token"]
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code in (200, 204)
    body = {"target": "."}
    assert client.post("/api/v1/scans", json=body, headers=bearer(token)).status_code == 401
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
    limiter.enabled = False
    try:
        assert client.post("/api/v1/scans", json=body, headers=bearer(token)).status_code == 401
    finally:
        limiter.enabled = True


def test_a_signed_out_session_ends_every_access_token_of_it(client, make_user):
    """Signing out ends the session: an access token of it that was never presented (so never cached
    as verified) and one that was both stop working."""
    user = make_user()
    tokens = login(client, user.email)
    presented = tokens["access_token"]
    assert client.get("/api/v1/scans", headers=bearer(presented)).status_code == 200
    refreshed = client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
    assert refreshed.status_code == 200
    assert client.post("/api/v1/auth/logout", headers=bearer(presented)).status_code in (200, 204)
    assert client.get("/api/v1/scans", headers=bearer(presented)).status_code == 401
    assert client.get("/api/v1/scans", headers=bearer(refreshed.json["access_token"])).status_code == 401
    assert (
        client.post("/api/v1/auth/refresh", headers=bearer(refreshed.json["refresh_token"])).status_code
        == 401
    )


def test_a_forged_forwarded_address_does_not_give_each_attempt_its_own_window(client):
    """Without trusted proxies (the default), ``X-Forwarded-For`` is the client's word, not its address."""
    allowed = int(GROUP_LIMITS["auth"].split()[0])
    statuses = [
        client.post(
            "/api/v1/auth/register",
            json={"email": "not-an-email", "password": "x"},
            headers={"X-Forwarded-For": f"203.0.113.{attempt}", "X-Real-IP": f"198.51.100.{attempt}"},
        ).status_code
        for attempt in range(allowed + 1)
    ]
    assert 429 not in statuses[:allowed], statuses
    assert statuses[allowed] == 429


def test_a_full_token_cache_evicted_by_another_thread_still_answers(client, monkeypatch):
    """The per-process cache of verified tokens is shared by every request thread: when another thread
    changes it while this one evicts, the request still authenticates instead of failing with a 500."""
    from web.core import principal

    class ChangedDuringIteration(dict):
        def __iter__(self):
            raise RuntimeError("dictionary changed size during iteration")

    user = register_user(client)
    full = ChangedDuringIteration({f"token-{n}": {"exp": 0} for n in range(principal.VERIFIED_TOKENS)})
    monkeypatch.setattr(principal, "_verified_claims", full)
    response = client.get("/api/v1/auth/me", headers=user.headers())
    assert response.status_code == 200, response.json
    assert user.token in full
