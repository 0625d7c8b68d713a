"""Single sign-on end to end.

Against a real, certified OpenID provider (the npm package ``oidc-provider``, run with Node on loopback):
the browser-less authorization-code + PKCE flow, just-in-time users and memberships, role mapping, and
configuration changes that apply at once. Against a small Python provider that signs whatever it is told
to: every refusal — forged or replayed state, wrong issuer, expired or tampered ID token, unknown slug,
disallowed domain, unreachable provider — is a clear 4xx (502 when unreachable) plus an audit entry.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc.jwk import RSAKey
from sqlalchemy import select

from common.accounts import create_user
from common.db import session_scope
from common.models import AuditLog, Membership, Organization, User
from common.models.sso import SsoIdentity
from common.redis_client import get_redis
from common.sso import DISCOVERY_KEY
from tests import sso_support
from tests.helpers import PASSWORD, register_user
from tests.integration.fake_idp import FakeIdentityProvider
from tests.sso_support import (
    audit_rows,
    authorize,
    confidential_client,
    free_port,
    last_failure,
    running_provider,
    sso_sign_in,
    start_login,
    toggle,
)

CLIENT_ID = "trusera-platform"
CLIENT_SECRET = secrets.token_urlsafe(32)
CLIENT = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
SLUGS = {name: f"{name}-{secrets.token_hex(3)}" for name in ("acme", "globex")}
ACCOUNTS = [
    {"id": "alice", "email": "alice@acme.test", "password": "alice-pw", "name": "Alice", "groups": ["eng"]},
    {"id": "bob", "email": "bob@acme.test", "password": "bob-pw", "name": "Bob", "groups": ["sales"]},
    {"id": "mallory", "email": "mallory@evil.test", "password": "mallory-pw", "groups": ["eng"]},
]


@pytest.fixture(scope="module")
def oidc_provider(live_server, tmp_path_factory):
    """The real provider, with one confidential client whose redirect URIs are the platform's callbacks."""
    callbacks = [f"{live_server}/api/v1/sso/{slug}/callback" for slug in SLUGS.values()]
    with running_provider(
        tmp_path_factory.mktemp("oidc"),
        clients=[confidential_client(CLIENT_ID, CLIENT_SECRET, callbacks)],
        accounts=ACCOUNTS,
    ) as issuer:
        yield issuer


@pytest.fixture(scope="module")
def acme(app, oidc_provider):
    """A team organization whose SSO points at the real provider, enabled."""
    client = app.test_client()
    owner = register_user(client)
    org = client.post(
        "/api/v1/organizations", json={"name": "Acme", "slug": SLUGS["acme"]}, headers=owner.headers()
    ).json
    put_config(client, owner, org, oidc_provider)
    toggle(client, owner, org, True)
    return owner, org


def put_config(client, owner, org, issuer, **overrides):
    return sso_support.put_config(client, owner, org, issuer, **{**CLIENT, **overrides})


# ---------------------------------------------------------------- the real provider


def test_login_redirects_with_state_nonce_and_pkce_s256(live_server, acme, oidc_provider):
    response = start_login(live_server, SLUGS["acme"])
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{oidc_provider}/auth"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == f"{live_server}/api/v1/sso/{SLUGS['acme']}/callback"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert set(query["scope"].split()) == {"openid", "email", "profile", "groups"}


def test_first_sign_in_creates_the_user_with_the_mapped_role_and_returns_platform_tokens(
    live_server, acme, client
):
    _owner, org = acme
    response = sso_sign_in(live_server, SLUGS["acme"], ACCOUNTS[0])
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["refresh_token"] and body["organization_id"] == org["id"]
    assert body["user"]["email"] == "alice@acme.test" and body["user"]["name"] == "Alice"
    assert {"id": org["id"], "name": "Acme", "slug": org["slug"], "role": "editor"} in body["user"][
        "organizations"
    ]
    headers = {"Authorization": f"Bearer {body['access_token']}", "X-Organization-Id": org["id"]}
    assert client.get("/api/v1/auth/me", headers=headers).json["email"] == "alice@acme.test"
    assert client.get(f"/api/v1/organizations/{org['id']}", headers=headers).json["role"] == "editor"
    refreshed = client.post(
        "/api/v1/auth/refresh", headers={"Authorization": f"Bearer {body['refresh_token']}"}
    )
    assert refreshed.status_code == 200
    success = audit_rows(org["id"], "sso.login")[-1]
    assert success.actor_user_id == body["user"]["id"] and success.details["joined"] is True


def test_unmapped_claim_values_get_the_default_role_and_a_second_sign_in_reuses_the_user(live_server, acme):
    _owner, org = acme
    first = sso_sign_in(live_server, SLUGS["acme"], ACCOUNTS[1]).json()
    second = sso_sign_in(live_server, SLUGS["acme"], ACCOUNTS[1]).json()
    assert first["user"]["id"] == second["user"]["id"]
    with session_scope() as session:
        roles = list(
            session.scalars(
                select(Membership.role).where(
                    Membership.user_id == first["user"]["id"], Membership.organization_id == org["id"]
                )
            )
        )
        assert roles == ["viewer"]
        assert session.get(User, first["user"]["id"]).password_hash is None


def test_an_existing_account_is_linked_only_with_its_password(live_server, oidc_provider, client):
    """An email match links nothing: the callback offers a one-time link token, which the account's
    password redeems; from then on the identity signs in directly."""
    owner = register_user(client)
    org = client.post(
        "/api/v1/organizations", json={"name": "Globex", "slug": SLUGS["globex"]}, headers=owner.headers()
    ).json
    put_config(
        client,
        owner,
        org,
        oidc_provider,
        allowed_domains=["evil.test"],
        default_role="analyst",
        role_mapping=None,
    )
    toggle(client, owner, org, True)
    existing = client.post(
        "/api/v1/auth/register", json={"email": "mallory@evil.test", "password": PASSWORD, "name": "M"}
    ).json["user"]
    offered = sso_sign_in(live_server, SLUGS["globex"], ACCOUNTS[2])
    assert offered.status_code == 409, offered.text
    assert "access_token" not in offered.json() and offered.json()["code"] == 409
    assert offered.json()["link_url"] == f"{live_server}/api/v1/sso/{SLUGS['globex']}/link"
    link_url = offered.json()["link_url"]
    wrong = requests.post(
        link_url, json={"link_token": offered.json()["link_token"], "password": "not-it"}, timeout=10
    )
    assert wrong.status_code == 401 and "access_token" not in wrong.json()
    assert last_failure(org["id"], "sso.link_failed").details["reason"] == "link_password_rejected"
    burned = requests.post(
        link_url, json={"link_token": offered.json()["link_token"], "password": PASSWORD}, timeout=10
    )
    assert burned.status_code == 400  # one password attempt per token: a guess costs a full sign-in
    offered = sso_sign_in(live_server, SLUGS["globex"], ACCOUNTS[2]).json()
    linked = requests.post(
        link_url, json={"link_token": offered["link_token"], "password": PASSWORD}, timeout=10
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["user"]["id"] == existing["id"] and linked.json()["organization_id"] == org["id"]
    assert linked.json()["user"]["organizations"] == [
        {"id": org["id"], "name": "Globex", "slug": org["slug"], "role": "analyst"}
    ]
    again = sso_sign_in(live_server, SLUGS["globex"], ACCOUNTS[2])
    assert again.status_code == 200 and again.json()["user"]["id"] == existing["id"]
    with session_scope() as session:
        identity = session.scalar(select(SsoIdentity).where(SsoIdentity.user_id == existing["id"]))
        assert (identity.organization_id, identity.issuer, identity.subject) == (
            org["id"],
            oidc_provider,
            "mallory",
        )
        membership = session.scalar(
            select(Membership).where(
                Membership.user_id == existing["id"], Membership.organization_id == org["id"]
            )
        )
        assert membership.sso_managed is True


def test_replaying_a_callback_is_refused(live_server, acme):
    _owner, org = acme
    started = start_login(live_server, SLUGS["acme"])
    callback_url = authorize(started.headers["Location"], "bob@acme.test", "bob-pw")
    assert requests.get(callback_url, cookies=started.cookies, timeout=10).status_code == 200
    replay = requests.get(callback_url, cookies=started.cookies, timeout=10)
    assert replay.status_code == 400
    assert replay.json()["code"] == 400 and "already used" in replay.json()["message"]
    assert last_failure(org["id"]).details["reason"] == "invalid_state"


def test_a_callback_from_another_browser_is_refused(live_server, acme):
    """Login CSRF: an attacker's own callback URL, planted in a victim's browser, signs nobody in."""
    _owner, org = acme
    attacker = start_login(live_server, SLUGS["acme"])
    cookie = attacker.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and f"/sso/{SLUGS['acme']}/callback" in cookie
    callback_url = authorize(attacker.headers["Location"], "bob@acme.test", "bob-pw")
    victim = start_login(live_server, SLUGS["acme"])  # the victim's browser holds a binding of its own
    planted = requests.get(callback_url, cookies=victim.cookies, timeout=10)
    assert planted.status_code == 400 and "another browser" in planted.json()["message"]
    assert "access_token" not in planted.json()
    assert last_failure(org["id"]).details["reason"] == "browser_mismatch"
    # the state was used up by the refused attempt: the attacker's own browser cannot finish it either
    assert requests.get(callback_url, cookies=attacker.cookies, timeout=10).status_code == 400


def test_configuration_changes_apply_to_the_next_sign_in(live_server, acme, client, oidc_provider):
    owner, org = acme
    # a wrong client secret: the provider rejects the code exchange of the very next sign-in
    put_config(client, owner, org, oidc_provider, client_secret="not-the-secret")
    refused = sso_sign_in(live_server, SLUGS["acme"], ACCOUNTS[0])
    assert refused.status_code == 401 and refused.json()["message"]
    assert last_failure(org["id"]).details["reason"] == "code_rejected"
    # a domain allowlist without acme.test
    put_config(client, owner, org, oidc_provider, allowed_domains=["other.test"])
    refused = sso_sign_in(live_server, SLUGS["acme"], ACCOUNTS[0])
    assert refused.status_code == 403 and "acme.test" in refused.json()["message"]
    assert last_failure(org["id"]).details["reason"] == "domain_not_allowed"
    # a sign-in started before a change cannot finish under the new configuration
    put_config(client, owner, org, oidc_provider)
    started = start_login(live_server, SLUGS["acme"])
    callback_url = authorize(started.headers["Location"], "alice@acme.test", "alice-pw")
    put_config(client, owner, org, oidc_provider, default_role="analyst")
    assert requests.get(callback_url, cookies=started.cookies, timeout=10).status_code == 409
    # disabled, then removed: no sign-in at all
    toggle(client, owner, org, False)
    assert start_login(live_server, SLUGS["acme"]).status_code == 404
    toggle(client, owner, org, True)
    started = start_login(live_server, SLUGS["acme"])
    callback_url = authorize(started.headers["Location"], "alice@acme.test", "alice-pw")
    toggle(client, owner, org, False)
    assert requests.get(callback_url, cookies=started.cookies, timeout=10).status_code == 404
    assert last_failure(org["id"]).details["reason"] == "sso_disabled"
    toggle(client, owner, org, True)
    assert sso_sign_in(live_server, SLUGS["acme"], ACCOUNTS[0]).status_code == 200


def test_a_user_who_declines_at_the_provider_is_refused(live_server, acme):
    _owner, org = acme
    started = start_login(live_server, SLUGS["acme"])
    state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
    denied = requests.get(
        f"{live_server}/api/v1/sso/{SLUGS['acme']}/callback",
        params={"error": "access_denied", "state": state},
        cookies=started.cookies,
        timeout=10,
    )
    assert denied.status_code == 401 and "access_denied" in denied.json()["message"]
    assert last_failure(org["id"]).details["reason"] == "idp_denied"


# ---------------------------------------------------------------- a provider that misbehaves on request


@pytest.fixture
def fake_idp():
    with FakeIdentityProvider() as idp:
        yield idp


@pytest.fixture
def fake_org(client, fake_idp):
    owner = register_user(client)
    org = client.post(
        "/api/v1/organizations", json={"name": f"Fake {secrets.token_hex(3)}"}, headers=owner.headers()
    )
    org = org.json
    put_config(client, owner, org, fake_idp.issuer, allowed_domains=["fake.test"], role_mapping=None)
    toggle(client, owner, org, True)
    return owner, org


def begin(client, org) -> dict:
    """Start a sign-in through the platform; the query of the authorization URL it redirects to."""
    response = client.get(f"/api/v1/sso/{org['slug']}/login")
    assert response.status_code == 302, response.json
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def finish(client, org, state: str, **params):
    return client.get(
        f"/api/v1/sso/{org['slug']}/callback", query_string={"code": "c0de", "state": state, **params}
    )


def test_the_fake_provider_flow_succeeds_and_sends_the_pkce_verifier(client, fake_idp, fake_org):
    _owner, org = fake_org
    query = begin(client, org)
    fake_idp.id_token = fake_idp.sign(fake_idp.claims(query["nonce"], CLIENT_ID))
    response = finish(client, org, query["state"])
    assert response.status_code == 200, response.json
    assert response.json["user"]["email"] == fake_idp.email
    verifier = fake_idp.token_requests[-1]["form"]["code_verifier"]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert challenge == query["code_challenge"]
    assert fake_idp.token_requests[-1]["authorization"].startswith("Basic ")


def test_accounts_provisioned_before_identities_existed_are_adopted_by_their_organization_only(
    client, fake_idp, fake_org
):
    """After the upgrade that records identities, an SSO-created account (no password) that is a member
    of the organization signs in as before; the same kind of account elsewhere is not adopted."""
    _owner, org = fake_org
    with session_scope() as session:
        member = create_user(session, fake_idp.email, "Legacy", None)
        session.add(Membership(organization_id=org["id"], user_id=member.id, role="editor"))
        stranger = create_user(session, f"stranger-{secrets.token_hex(3)}@fake.test", "", None)
        member_id = member.id
    query = begin(client, org)
    fake_idp.id_token = fake_idp.sign(fake_idp.claims(query["nonce"], CLIENT_ID))
    adopted = finish(client, org, query["state"])
    assert adopted.status_code == 200 and adopted.json["user"]["id"] == member_id
    query = begin(client, org)
    fake_idp.id_token = fake_idp.sign(
        fake_idp.claims(query["nonce"], CLIENT_ID, sub="another-subject", email=stranger.email)
    )
    assert finish(client, org, query["state"]).status_code == 409
    with session_scope() as session:
        assert session.scalar(select(SsoIdentity.subject).where(SsoIdentity.user_id == member_id)) == (
            "fake-subject-1"
        )


def test_userinfo_completes_an_id_token_without_email(client, fake_idp, fake_org):
    _owner, org = fake_org
    query = begin(client, org)
    fake_idp.id_token = fake_idp.sign(
        fake_idp.claims(query["nonce"], CLIENT_ID, email=None, email_verified=None)
    )
    fake_idp.userinfo = {"sub": "someone-else", "email": fake_idp.email}
    assert finish(client, org, query["state"]).status_code == 401
    query = begin(client, org)
    fake_idp.id_token = fake_idp.sign(
        fake_idp.claims(query["nonce"], CLIENT_ID, email=None, email_verified=None)
    )
    fake_idp.userinfo = {"sub": "fake-subject-1", "email": fake_idp.email, "email_verified": True}
    assert finish(client, org, query["state"]).status_code == 200


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _tampered(idp: FakeIdentityProvider, nonce: str) -> str:
    header, _payload, signature = idp.sign(idp.claims(nonce, CLIENT_ID)).split(".")
    forged = _b64(json.dumps(idp.claims(nonce, CLIENT_ID, email="ceo@fake.test")).encode())
    return f"{header}.{forged}.{signature}"


def _foreign_key(idp: FakeIdentityProvider, nonce: str) -> str:
    stranger = RSAKey.generate_key(2048, parameters={"kid": idp.key.kid, "alg": "RS256"})
    return idp.sign(idp.claims(nonce, CLIENT_ID, email="ceo@fake.test"), key=stranger)


def _unsigned(idp: FakeIdentityProvider, nonce: str) -> str:
    claims = idp.claims(nonce, CLIENT_ID, email="ceo@fake.test")
    header = _b64(json.dumps({"alg": "none"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def _expired(idp: FakeIdentityProvider, nonce: str) -> str:
    now = int(time.time())
    return idp.sign(idp.claims(nonce, CLIENT_ID, iat=now - 3600, exp=now - 1800))


BAD_ID_TOKENS = {
    "expired": (_expired, "token_expired"),
    "tampered": (_tampered, "bad_signature"),
    "foreign key": (_foreign_key, "bad_signature"),
    "wrong issuer": (
        lambda idp, nonce: idp.sign(idp.claims(nonce, CLIENT_ID, iss="http://127.0.0.1:1")),
        "issuer_mismatch",
    ),
    "wrong audience": (lambda idp, nonce: idp.sign(idp.claims(nonce, "someone-else")), "audience_mismatch"),
    "wrong nonce": (lambda idp, nonce: idp.sign(idp.claims("another-nonce", CLIENT_ID)), "nonce_mismatch"),
    "no nonce": (lambda idp, nonce: idp.sign(idp.claims(None, CLIENT_ID)), "nonce_mismatch"),
    "unsigned": (_unsigned, "malformed_id_token"),
    "not a jwt": (lambda idp, nonce: "garbage", "malformed_id_token"),
}


@pytest.mark.parametrize("case", sorted(BAD_ID_TOKENS))
def test_bad_id_tokens_are_refused_with_401_and_audited(client, fake_idp, fake_org, case):
    _owner, org = fake_org
    make_token, reason = BAD_ID_TOKENS[case]
    query = begin(client, org)
    fake_idp.id_token = make_token(fake_idp, query["nonce"])
    response = finish(client, org, query["state"])
    assert response.status_code == 401, response.json
    assert response.json["code"] == 401 and response.json["message"]
    failure = last_failure(org["id"])
    assert failure.details["reason"] == reason and failure.status_code == 401
    assert "c0de" not in json.dumps(failure.details) and query["state"] not in json.dumps(failure.details)
    with session_scope() as session:
        assert session.scalar(select(User).where(User.email == "ceo@fake.test")) is None


@pytest.mark.parametrize(
    ("claim", "value", "reason"),
    [("sub", "s" * 256, "invalid_subject"), ("email", "d" * 320 + "@fake.test", "invalid_email")],
)
def test_claims_longer_than_the_platform_stores_are_401_not_500(
    client, fake_idp, fake_org, claim, value, reason
):
    _owner, org = fake_org
    query = begin(client, org)
    fake_idp.id_token = fake_idp.sign(fake_idp.claims(query["nonce"], CLIENT_ID, **{claim: value}))
    response = finish(client, org, query["state"])
    assert response.status_code == 401, response.json
    assert last_failure(org["id"]).details["reason"] == reason


def test_a_name_of_any_length_gets_a_workspace(client, fake_idp, fake_org):
    """The personal workspace is named after the user, within the 200 characters of a name."""
    _owner, org = fake_org
    query = begin(client, org)
    fake_idp.id_token = fake_idp.sign(fake_idp.claims(query["nonce"], CLIENT_ID, name="N" * 5000))
    response = finish(client, org, query["state"])
    assert response.status_code == 200, response.json
    with session_scope() as session:
        user = session.get(User, response.json["user"]["id"])
        assert len(user.name) == 200
        assert session.get(Organization, user.personal_org_id).name == "N" * 188 + "'s workspace"


def test_forged_or_foreign_state_is_refused(client, fake_idp, fake_org):
    _owner, org = fake_org
    forged = finish(client, org, secrets.token_urlsafe(32))
    assert forged.status_code == 400 and forged.json["message"]
    assert last_failure(org["id"]).details["reason"] == "invalid_state"
    assert finish(client, org, "").status_code == 400
    # a state issued for another organization does not open this one
    other_owner = register_user(client)
    other = client.post("/api/v1/organizations", json={"name": "Other"}, headers=other_owner.headers()).json
    put_config(client, other_owner, other, fake_idp.issuer, allowed_domains=["fake.test"])
    toggle(client, other_owner, other, True)
    query = begin(client, other)
    fake_idp.id_token = fake_idp.sign(fake_idp.claims(query["nonce"], CLIENT_ID))
    assert finish(client, org, query["state"]).status_code == 400
    assert finish(client, other, query["state"]).status_code == 400  # consumed by the attempt above


def test_an_issuer_mismatch_anywhere_is_refused(client, fake_idp, fake_org):
    _owner, org = fake_org
    query = begin(client, org)
    fake_idp.id_token = fake_idp.sign(fake_idp.claims(query["nonce"], CLIENT_ID))
    mixed_up = finish(client, org, query["state"], iss="https://attacker.example")
    assert mixed_up.status_code == 401
    assert last_failure(org["id"]).details["reason"] == "issuer_mismatch"
    fake_idp.advertised_issuer = "https://impostor.example"
    # a login uses the document kept for this configuration; the callback fetches it again, and refuses
    query = begin(client, org)
    fake_idp.id_token = fake_idp.sign(fake_idp.claims(query["nonce"], CLIENT_ID))
    assert finish(client, org, query["state"]).status_code == 401
    assert last_failure(org["id"]).details["reason"] == "issuer_mismatch"
    kept = get_redis().keys(DISCOVERY_KEY.format(org["id"], "*", "*"))
    assert kept
    get_redis().delete(*kept)  # it lapses after DISCOVERY_SECONDS
    refused = client.get(f"/api/v1/sso/{org['slug']}/login")
    assert refused.status_code == 401 and "impostor" not in refused.json["message"]  # nothing echoed
    assert last_failure(org["id"]).details["reason"] == "issuer_mismatch"


def test_disallowed_domain_and_unverified_email_are_403(client, fake_idp, fake_org):
    _owner, org = fake_org
    query = begin(client, org)
    fake_idp.id_token = fake_idp.sign(fake_idp.claims(query["nonce"], CLIENT_ID, email="eve@elsewhere.test"))
    assert finish(client, org, query["state"]).status_code == 403
    assert last_failure(org["id"]).details["reason"] == "domain_not_allowed"
    query = begin(client, org)
    fake_idp.id_token = fake_idp.sign(fake_idp.claims(query["nonce"], CLIENT_ID, email_verified=False))
    assert finish(client, org, query["state"]).status_code == 403
    assert last_failure(org["id"]).details["reason"] == "email_unverified"
    with session_scope() as session:
        assert session.scalar(select(User).where(User.email == "eve@elsewhere.test")) is None


def test_unknown_slug_is_404_and_audited(client):
    slug = f"ghost-{secrets.token_hex(4)}"
    for step in ("login", "callback"):
        response = client.get(f"/api/v1/sso/{slug}/{step}", query_string={"state": "x", "code": "y"})
        assert response.status_code == 404 and response.json["message"]
    with session_scope() as session:
        rows = list(session.scalars(select(AuditLog).where(AuditLog.target_id == slug)))
    assert len(rows) == 2 and {r.details["reason"] for r in rows} == {"unknown_organization"}


def test_an_unreachable_provider_is_502(client, fake_idp, fake_org):
    owner, org = fake_org
    query = begin(client, org)
    dead = f"http://127.0.0.1:{free_port()}"
    put_config(client, owner, org, dead, allowed_domains=["fake.test"])
    response = client.get(f"/api/v1/sso/{org['slug']}/login")
    assert response.status_code == 502 and response.json["code"] == 502
    assert last_failure(org["id"]).details["reason"] == "idp_unreachable"
    # the provider vanishing between login and callback is the same answer, not a 500
    put_config(client, owner, org, fake_idp.issuer, allowed_domains=["fake.test"])
    query = begin(client, org)
    fake_idp.stop()
    assert finish(client, org, query["state"]).status_code == 502


def test_a_state_store_outage_is_503_not_500(client, fake_org, monkeypatch):
    import redis

    _owner, org = fake_org
    broken = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    monkeypatch.setattr("common.sso.get_redis", lambda: broken)
    assert client.get(f"/api/v1/sso/{org['slug']}/login").status_code == 503
    assert finish(client, org, secrets.token_urlsafe(32)).status_code == 503
    assert last_failure(org["id"]).details["reason"] == "state_store_unavailable"


def test_a_providers_display_name_is_stored_without_hidden_characters(client, fake_idp, fake_org):
    """Names typed by users refuse bidi overrides and zero-width characters (``visible_text``); the name an
    identity provider sends is shown to other members too, so it loses them (refusing it would lock the
    person out over a field they may not control)."""
    _owner, org = fake_org
    query = begin(client, org)
    sent = "\u202eeci\u200blA\ufeff\x1b[31m "
    fake_idp.id_token = fake_idp.sign(fake_idp.claims(query["nonce"], CLIENT_ID, name=sent))
    response = finish(client, org, query["state"])
    assert response.status_code == 200, response.json
    assert response.json["user"]["name"] == "ecilA[31m"
    with session_scope() as session:
        user = session.get(User, response.json["user"]["id"])
        assert user.name == "ecilA[31m"
        assert session.get(Organization, user.personal_org_id).name == "ecilA[31m's workspace"
