"""Every /auth endpoint through the HTTP layer, against real PostgreSQL and Redis."""

from __future__ import annotations

import argon2
import pytest
from sqlalchemy import select

from common.db import session_scope
from common.models import ApiKey, Membership, Organization, User
from tests.helpers import PASSWORD


def test_register_returns_tokens_and_personal_admin_org(client):
    response = client.post(
        "/api/v1/auth/register", json={"email": "New.Person@Example.com", "password": PASSWORD, "name": "New"}
    )
    assert response.status_code == 201
    body = response.json
    assert body["token_type"] == "Bearer" and body["access_token"] and body["refresh_token"]
    assert body["user"]["email"] == "new.person@example.com"
    assert body["user"]["organizations"][0]["role"] == "admin"
    assert "password" not in str(body).lower().replace("password_login", "")


def test_register_taken_email_is_409(client, make_user):
    user = make_user()
    response = client.post("/api/v1/auth/register", json={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 409
    assert response.json["code"] == 409 and response.json["message"]


@pytest.mark.usefixtures("production_password_hashing")
def test_password_is_stored_with_argon2(client, make_user):
    user = make_user()
    with session_scope() as session:
        stored = session.get(User, user.id).password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert argon2.extract_parameters(stored) == argon2.profiles.RFC_9106_LOW_MEMORY  # 64 MiB, 3 passes
    login = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert login.status_code == 200


def test_login_success_and_same_error_for_unknown_email(client, make_user):
    user = make_user()
    ok = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert ok.status_code == 200 and ok.json["user"]["id"] == user.id and ok.json["expires_in"] > 0
    wrong_password = client.post("/api/v1/auth/login", json={"email": user.email, "password": "nope-nope"})
    unknown = client.post("/api/v1/auth/login", json={"email": "ghost@example.com", "password": "nope-nope"})
    assert wrong_password.status_code == unknown.status_code == 401
    assert wrong_password.json["message"] == unknown.json["message"]


def test_me_requires_a_valid_token(client, make_user):
    user = make_user()
    assert client.get("/api/v1/auth/me").status_code == 401
    assert client.get("/api/v1/auth/me", headers={"Authorization": "Bearer garbage"}).status_code == 401
    assert client.get("/api/v1/auth/me", headers=user.headers()).json["email"] == user.email


def test_refresh_rotates_and_old_refresh_token_dies(client, make_user):
    user = make_user()
    first = client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {user.refresh_token}"})
    assert first.status_code == 200
    assert first.json["refresh_token"] != user.refresh_token
    reused = client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {user.refresh_token}"})
    assert reused.status_code == 401
    # reuse of a rotated token ends the whole session, including the newest refresh token
    newest = client.post(
        "/api/v1/auth/refresh", headers={"Authorization": f"Bearer {first.json['refresh_token']}"}
    )
    assert newest.status_code == 401


def test_access_token_is_not_a_refresh_token(client, make_user):
    user = make_user()
    assert client.post("/api/v1/auth/refresh", headers=user.headers()).status_code == 401


def test_logout_revokes_access_and_refresh(client, make_user):
    user = make_user()
    assert client.post("/api/v1/auth/logout", headers=user.headers()).status_code == 204
    assert client.get("/api/v1/auth/me", headers=user.headers()).status_code == 401
    refreshed = client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {user.refresh_token}"})
    assert refreshed.status_code == 401


def test_profile_update_and_onboarding(client, make_user):
    user = make_user()
    response = client.put("/api/v1/auth/profile", json={"name": "Renamed"}, headers=user.headers())
    assert response.status_code == 200 and response.json["name"] == "Renamed"
    assert client.put("/api/v1/auth/profile", json={"name": ""}, headers=user.headers()).status_code == 422
    done = client.post("/api/v1/auth/onboarding-complete", headers=user.headers())
    assert done.status_code == 200 and done.json["onboarding_completed"] is True


def test_password_change_reverifies_and_renews_every_session(client, make_user):
    user = make_user()
    other = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}).json
    wrong = client.put(
        "/api/v1/auth/password",
        json={"current_password": "not-it-at-all", "new_password": "a brand new pass"},
        headers=user.headers(),
    )
    assert wrong.status_code == 403
    changed = client.put(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a brand new pass"},
        headers=user.headers(),
    )
    assert changed.status_code == 200
    assert client.get("/api/v1/auth/me", headers=user.headers()).status_code == 401
    new_headers = {"Authorization": f"Bearer {changed.json['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=new_headers).status_code == 200
    other_headers = {"Authorization": f"Bearer {other['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=other_headers).status_code == 401
    assert (
        client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 401
    )
    relogin = client.post("/api/v1/auth/login", json={"email": user.email, "password": "a brand new pass"})
    assert relogin.status_code == 200


def test_api_key_lifecycle(client, make_user):
    user = make_user()
    created = client.post("/api/v1/auth/api-key", json={"name": "CI"}, headers=user.headers())
    assert created.status_code == 201
    key = created.json["key"]
    assert key.startswith("tsk_") and len(key) >= 36
    with session_scope() as session:
        row = session.get(ApiKey, created.json["id"])
        assert key not in (row.key_hash, row.prefix) and row.key_hash and row.prefix == key[4:12]
    listed = client.get("/api/v1/auth/api-keys", headers=user.headers()).json
    assert (
        listed["total"] == 1 and listed["items"][0]["prefix"] == key[4:12] and "key" not in listed["items"][0]
    )
    assert key not in str(listed)
    key_headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/scans", headers=key_headers).status_code == 200
    assert (
        client.post(f"/api/v1/auth/api-key/{created.json['id']}/revoke", headers=user.headers()).status_code
        == 200
    )
    assert client.get("/api/v1/scans", headers=key_headers).status_code == 401
    assert (
        client.delete(f"/api/v1/auth/api-key/{created.json['id']}", headers=user.headers()).status_code == 204
    )
    assert client.get("/api/v1/auth/api-keys", headers=user.headers()).json["total"] == 0


def test_api_keys_are_listed_page_by_page_newest_first(client, make_user):
    user = make_user()
    created = [
        client.post("/api/v1/auth/api-key", json={"name": f"key {n}"}, headers=user.headers()).json["id"]
        for n in range(3)
    ]
    first = client.get("/api/v1/auth/api-keys?per_page=2", headers=user.headers()).json
    second = client.get("/api/v1/auth/api-keys?per_page=2&page=2", headers=user.headers()).json
    assert (first["page"], first["per_page"], first["total"]) == (1, 2, 3)
    assert (second["page"], second["per_page"], second["total"]) == (2, 2, 3)
    listed = [item["id"] for item in first["items"] + second["items"]]
    assert listed == created[::-1] and len(first["items"]) == 2
    default = client.get("/api/v1/auth/api-keys", headers=user.headers()).json
    assert (default["page"], default["per_page"], default["total"]) == (1, 20, 3)
    for bad in ("per_page=101", "per_page=0", "page=0", "page=x"):
        response = client.get(f"/api/v1/auth/api-keys?{bad}", headers=user.headers())
        assert response.status_code == 422 and response.json["code"] == 422, bad


def test_expired_api_key_is_401(client, make_user):
    user = make_user()
    created = client.post(
        "/api/v1/auth/api-key", json={"name": "old", "expires_in_days": 1}, headers=user.headers()
    )
    from datetime import timedelta

    with session_scope() as session:
        row = session.get(ApiKey, created.json["id"])
        row.expires_at = row.created_at - timedelta(days=1)
    assert (
        client.get("/api/v1/scans", headers={"Authorization": f"Bearer {created.json['key']}"}).status_code
        == 401
    )


def test_api_key_of_another_user_is_404(client, make_user):
    owner, stranger = make_user(), make_user()
    key_id = client.post("/api/v1/auth/api-key", json={"name": "mine"}, headers=owner.headers()).json["id"]
    assert client.delete(f"/api/v1/auth/api-key/{key_id}", headers=stranger.headers()).status_code == 404
    assert client.post(f"/api/v1/auth/api-key/{key_id}/revoke", headers=stranger.headers()).status_code == 404


def test_account_deletion_removes_personal_data(client, make_user):
    user = make_user()
    client.post("/api/v1/auth/api-key", json={"name": "k"}, headers=user.headers())
    assert (
        client.delete(
            "/api/v1/auth/account", json={"password": "wrong-password"}, headers=user.headers()
        ).status_code
        == 403
    )
    deleted = client.delete("/api/v1/auth/account", json={"password": PASSWORD}, headers=user.headers())
    assert deleted.status_code == 204
    with session_scope() as session:
        assert session.get(User, user.id) is None
        assert session.get(Organization, user.org_id) is None
        assert not session.scalars(select(ApiKey).where(ApiKey.user_id == user.id)).all()
        assert not session.scalars(select(Membership).where(Membership.user_id == user.id)).all()
    assert client.get("/api/v1/auth/me", headers=user.headers()).status_code == 401
    assert (
        client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 401
    )


def test_repeated_failures_lock_one_address_whatever_the_client(client, make_user):
    """Ten wrong passwords for one address lock that address (even from a fresh IP window), not others,
    and the answer is the same whether the account exists or not."""
    from web.core.ratelimits import limiter

    user = make_user()
    wrong = {"email": user.email, "password": "not-the-password"}
    for _ in range(10):
        assert client.post("/api/v1/auth/login", json=wrong).status_code == 401
    with client.application.app_context():
        limiter.reset()  # a botnet: every guess from a new address
    locked = client.post("/api/v1/auth/login", json={"email": user.email.upper(), "password": PASSWORD})
    assert locked.status_code == 429 and 0 < int(locked.headers["Retry-After"]) <= 900
    assert "try again in" in locked.json["message"]
    other = make_user()
    assert (
        client.post("/api/v1/auth/login", json={"email": other.email, "password": PASSWORD}).status_code
        == 200
    )
    ghost = {"email": "nobody-here@example.com", "password": "x" * 12}
    answers = [client.post("/api/v1/auth/login", json=ghost).status_code for _ in range(11)]
    assert answers == [401] * 10 + [429]


def test_a_successful_login_clears_the_failure_count(client, make_user):
    user = make_user()
    wrong = {"email": user.email, "password": "not-the-password"}
    for _ in range(9):
        assert client.post("/api/v1/auth/login", json=wrong).status_code == 401
    assert (
        client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 200
    )
    for _ in range(9):
        assert client.post("/api/v1/auth/login", json=wrong).status_code == 401
    assert (
        client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 200
    )
