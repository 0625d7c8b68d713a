"""The principal cache (``web.core.principal``, ``common.principal_versions``) under attack.

A user's token acting in an organization is answered from Redis without a query. Each test warms the
cache, proves the next request is served from it (one SQL statement: the view's own), changes what the
cache holds, and checks the very next request sees the change: a demoted or removed member, a deleted
organization or account, a signed-out or superseded token, a revoked API key, an API key aimed at
another organization, and entries planted or shaped by crafted ids.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from common import principal_versions
from common.db import session_scope
from common.models import Membership, Organization
from common.redis_client import get_redis
from tests.helpers import PASSWORD, add_member, counted_statements, redis_round_trips

SCANS = "/api/v1/scans"


def served_from_cache(client, headers: dict) -> None:
    """Warm the entry, then check the next request runs the list's statement alone, after one Redis
    round trip (the limiter's, or the revocation check's)."""
    assert client.get(SCANS, headers=headers).status_code == 200
    with counted_statements() as statements, redis_round_trips() as sent:
        assert client.get(SCANS, headers=headers).status_code == 200
    assert len(statements) == 1, statements
    assert len(sent) == 1, sent


@pytest.fixture(params=["rate limits on", "rate limits off"])
def limits(request):
    """With limits on, the entry is read in the limiter's round trip; off, in the revocation check's."""
    from web.core.ratelimits import limiter

    limiter.enabled = request.param == "rate limits on"
    yield
    limiter.enabled = True


@pytest.fixture
def shared_org(client, make_user, limits):
    """An organization of ``admin`` where ``member`` is an analyst."""
    admin, member = make_user(), make_user()
    org_id = client.post("/api/v1/organizations", json={"name": "Cached"}, headers=admin.headers()).json["id"]
    add_member(client, admin, org_id, member, "analyst")
    return admin, member, org_id


def set_role(user_id: str, org_id: str, role: str) -> None:
    with session_scope() as session:
        membership = session.scalar(
            select(Membership).where(Membership.user_id == user_id, Membership.organization_id == org_id)
        )
        membership.role = role


def test_a_demoted_member_loses_the_role_on_the_next_request(client, shared_org):
    _admin, member, org_id = shared_org
    served_from_cache(client, member.headers(org_id))
    assert client.post(SCANS, json={}, headers=member.headers(org_id)).status_code != 403
    set_role(member.id, org_id, "viewer")
    refused = client.post(SCANS, json={}, headers=member.headers(org_id))
    assert refused.status_code == 403 and "analyst" in refused.json["message"]


def test_a_bulk_update_of_memberships_takes_effect_on_the_next_request(client, shared_org):
    _admin, member, org_id = shared_org
    served_from_cache(client, member.headers(org_id))
    with session_scope() as session:
        session.execute(
            update(Membership)
            .where(Membership.user_id == member.id, Membership.organization_id == org_id)
            .values(role="viewer")
        )
    assert client.post(SCANS, json={}, headers=member.headers(org_id)).status_code == 403


def test_a_removed_member_is_refused_on_the_next_request(client, shared_org):
    admin, member, org_id = shared_org
    served_from_cache(client, member.headers(org_id))
    removed = client.delete(f"/api/v1/organizations/{org_id}/members/{member.id}", headers=admin.headers())
    assert removed.status_code == 204
    assert client.get(SCANS, headers=member.headers(org_id)).status_code == 403


def test_a_member_who_left_is_refused_on_the_next_request(client, shared_org):
    _admin, member, org_id = shared_org
    served_from_cache(client, member.headers(org_id))
    left = client.delete(f"/api/v1/organizations/{org_id}/membership", headers=member.headers())
    assert left.status_code == 204
    assert client.get(SCANS, headers=member.headers(org_id)).status_code == 403


def test_a_deleted_organization_refuses_its_cached_members(client, shared_org):
    admin, member, org_id = shared_org
    served_from_cache(client, member.headers(org_id))
    served_from_cache(client, admin.headers(org_id))
    assert client.delete(f"/api/v1/organizations/{org_id}", headers=admin.headers()).status_code == 204
    assert client.get(SCANS, headers=member.headers(org_id)).status_code == 403
    assert client.get(SCANS, headers=admin.headers(org_id)).status_code == 403


def test_an_organization_changed_ends_every_cached_principal(client, shared_org):
    """Its scan roots travel in the cached membership: any change to an organization bumps every entry."""
    _admin, member, org_id = shared_org
    served_from_cache(client, member.headers(org_id))
    with session_scope() as session:
        session.get(Organization, org_id).scan_roots = ["/srv/narrowed"]
    with counted_statements() as statements:
        assert client.get(SCANS, headers=member.headers(org_id)).status_code == 200
    assert len(statements) == 2, statements  # the principal asked again, then the list


def test_a_signed_out_token_is_refused_on_the_next_request(client, make_user, limits):
    user = make_user()
    served_from_cache(client, user.headers())
    assert client.post("/api/v1/auth/logout", headers=user.headers()).status_code == 204
    assert client.get(SCANS, headers=user.headers()).status_code == 401


def test_a_password_change_ends_the_other_sessions_at_once(client, make_user, limits):
    user = make_user()
    other = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}).json
    other_headers = {"Authorization": f"Bearer {other['access_token']}"}
    served_from_cache(client, other_headers)
    changed = client.put(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": PASSWORD + "-changed"},
        headers=user.headers(),
    )
    assert changed.status_code == 200, changed.json
    assert client.get(SCANS, headers=other_headers).status_code == 401
    assert client.get(SCANS, headers=user.headers()).status_code == 401
    new_headers = {"Authorization": f"Bearer {changed.json['access_token']}"}
    assert client.get(SCANS, headers=new_headers).status_code == 200


def test_a_deleted_account_is_refused_on_the_next_request(client, make_user, limits):
    user = make_user()
    served_from_cache(client, user.headers())
    deleted = client.delete("/api/v1/auth/account", json={"password": PASSWORD}, headers=user.headers())
    assert deleted.status_code == 204
    assert client.get(SCANS, headers=user.headers()).status_code == 401


def test_a_revoked_api_key_is_refused_on_the_next_request(client, make_user, limits):
    user = make_user()
    created = client.post("/api/v1/auth/api-key", json={"name": "ci"}, headers=user.headers()).json
    key_headers = {"Authorization": f"Bearer {created['key']}"}
    assert client.get(SCANS, headers=key_headers).status_code == 200
    served_from_cache(client, user.headers())
    revoked = client.post(f"/api/v1/auth/api-key/{created['id']}/revoke", headers=user.headers())
    assert revoked.status_code == 200
    assert client.get(SCANS, headers=key_headers).status_code == 401


def test_an_api_key_never_acts_through_its_owners_cached_membership_elsewhere(client, shared_org):
    """The member's token has its entry for the shared organization; the member's key, bound to their own
    organization, is still refused there."""
    _admin, member, org_id = shared_org
    served_from_cache(client, member.headers(org_id))
    key = client.post("/api/v1/auth/api-key", json={"name": "ci"}, headers=member.headers()).json["key"]
    aimed = client.get(SCANS, headers={"Authorization": f"Bearer {key}", "X-Organization-Id": org_id})
    assert aimed.status_code == 403 and "bound" in aimed.json["message"]


def test_crafted_organization_ids_never_reach_another_entry(client, shared_org, make_user):
    """The personal organization's entry is not named by any header, and an id that is not plainly an id
    is not cached at all: each is asked of the database, which refuses it."""
    _admin, member, org_id = shared_org
    served_from_cache(client, member.headers())
    served_from_cache(client, member.headers(org_id))
    for crafted in (principal_versions.OWN, "own", f"{org_id}:x", f"{org_id}|x", "x" * 65, f"{org_id}*"):
        response = client.get(SCANS, headers=member.headers(crafted))
        assert response.status_code in (403, 404), crafted
    expected = {principal_versions.entry_key(member.id, org) for org in (principal_versions.OWN, org_id)}
    assert set(get_redis().keys(f"trusera:principal:{member.id}:*")) == expected


def test_an_entry_written_under_old_versions_is_never_served(client, shared_org):
    """A request that read the membership before a demotion was committed may still write it to the cache
    afterwards: written under the versions it read first, the entry is dead on arrival."""
    _admin, member, org_id = shared_org
    served_from_cache(client, member.headers(org_id))
    key = principal_versions.entry_key(member.id, org_id)
    stale = get_redis().get(key)
    set_role(member.id, org_id, "viewer")
    get_redis().set(key, stale, ex=60)  # the slow request's write lands after the bump
    assert client.post(SCANS, json={}, headers=member.headers(org_id)).status_code == 403


def test_an_entry_naming_another_organization_is_not_trusted(client, shared_org, make_user):
    """A planted entry with current versions but another organization's membership is not served."""
    admin, member, org_id = shared_org
    served_from_cache(client, member.headers(org_id))
    stranger = make_user()
    redis = get_redis()
    user_version = redis.get(principal_versions.user_version_key(stranger.id)) or "0"
    versions = f"{user_version}:{redis.get(principal_versions.EVERYONE) or '0'}"
    planted = f'{versions}|["admin", "{org_id}", null]'
    redis.set(principal_versions.entry_key(stranger.id, admin.org_id), planted, ex=60)
    assert client.get(SCANS, headers=stranger.headers(admin.org_id)).status_code == 403
