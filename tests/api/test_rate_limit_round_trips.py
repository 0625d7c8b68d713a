"""Counting a request costs one Redis round trip (``web.core.ratelimits.OneTripMovingWindow``): the moving
window's entry, the window for the ``X-RateLimit-*`` headers and the token's revocation in one script.
The limits and headers must stay exactly those of limits' own moving window, and a revoked token must
still be refused and counted by the client's address, as any request without valid credentials is."""

from __future__ import annotations

import time

from limits import parse
from limits.strategies import MovingWindowRateLimiter

from tests.helpers import PASSWORD, redis_round_trips
from web.core.ratelimits import GENERAL_LIMIT, limiter


def login(client, email: str) -> str:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.json
    return response.json["access_token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_an_authenticated_get_costs_one_redis_round_trip(client, make_user):
    user = make_user()
    client.get("/api/v1/scans", headers=user.headers())
    with redis_round_trips() as sent:
        response = client.get("/api/v1/scans", headers=user.headers())
    assert response.status_code == 200
    assert len(sent) == 1, sent
    assert response.headers["X-RateLimit-Limit"] == "200"


def test_the_headers_are_the_moving_window_as_limits_reads_it(app, client, make_user):
    user = make_user()
    item = parse(GENERAL_LIMIT)
    plain = MovingWindowRateLimiter(limiter.storage)
    remaining = []
    for _ in range(3):
        response = client.get("/api/v1/scans", headers=user.headers())
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
        reset = int(response.headers["X-RateLimit-Reset"])
        assert time.time() < reset <= time.time() + 61
    assert remaining == [199, 198, 197]
    with app.test_request_context():
        stats = plain.get_window_stats(item, f"user:{user.id}", "global")
    assert stats.remaining == 197
    assert int(stats.reset_time + 1) == reset


def test_the_general_limit_refuses_the_201st_request_of_a_minute(client, make_user):
    user = make_user()
    statuses = [client.get("/api/v1/scans", headers=user.headers()).status_code for _ in range(200)]
    assert set(statuses) == {200}
    limited = client.get("/api/v1/scans", headers=user.headers())
    assert limited.status_code == 429
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert 0 < int(limited.headers["Retry-After"]) <= 60


def test_a_revoked_token_is_refused_and_counted_by_the_client_address(client, make_user):
    user = make_user()
    signed_out, still_valid = login(client, user.email), login(client, user.email)
    assert client.post("/api/v1/auth/logout", headers=bearer(signed_out)).status_code in (200, 204)

    anonymous = client.get("/api/v1/scans")
    assert anonymous.status_code == 401
    by_address = int(anonymous.headers["X-RateLimit-Remaining"])
    before = int(client.get("/api/v1/scans", headers=bearer(still_valid)).headers["X-RateLimit-Remaining"])

    with redis_round_trips() as sent:
        refused = client.get("/api/v1/scans", headers=bearer(signed_out))
    assert refused.status_code == 401
    assert "revoked" in refused.json["message"]
    assert len(sent) == 1, sent
    assert int(refused.headers["X-RateLimit-Remaining"]) == by_address - 1

    after = client.get("/api/v1/scans", headers=bearer(still_valid))
    assert after.status_code == 200
    assert int(after.headers["X-RateLimit-Remaining"]) == before - 1


def test_without_rate_limits_the_revocation_is_still_checked(app, client, make_user):
    user = make_user()
    signed_out = login(client, user.email)
    assert client.post("/api/v1/auth/logout", headers=bearer(signed_out)).status_code in (200, 204)
    limiter.enabled = False
    try:
        refused = client.get("/api/v1/scans", headers=bearer(signed_out))
        allowed = client.get("/api/v1/scans", headers=user.headers())
    finally:
        limiter.enabled = True
    assert refused.status_code == 401 and "revoked" in refused.json["message"]
    assert allowed.status_code == 200 and "X-RateLimit-Limit" not in allowed.headers
