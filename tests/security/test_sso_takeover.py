"""An organization's identity provider can sign in only the accounts it owns, and only into that organization.

The hostile provider is the real `oidc-provider` (tests/integration/oidc_provider), run by an attacker who
registered, created an organization and pointed its SSO at it with the victim's domain in allowed_domains.
"""

from __future__ import annotations

import secrets

import pytest
import requests
from sqlalchemy import select

from common.db import session_scope
from common.models import Membership, Organization, User
from common.models.identity import MemberInvitation
from common.models.sso import SsoIdentity
from tests.helpers import PASSWORD, TestUser, register_user
from tests.ops.test_ws_limits import first_answer, ws_url
from tests.sso_support import (
    confidential_client,
    last_failure,
    put_config,
    running_provider,
    sso_sign_in,
    toggle,
)

DOMAIN = "corp-victim.test"
RUN = secrets.token_hex(3)
VICTIM = f"victim-{RUN}@{DOMAIN}"
NEWCOMER = f"newcomer-{RUN}@{DOMAIN}"
EMPLOYEE = f"employee-{RUN}@{DOMAIN}"
PRECLAIMED = f"preclaimed-{RUN}@{DOMAIN}"
SLUGS = {
    name: f"{name}-{RUN}"
    for name in ("evil", "evil-unverified", "evil-preclaim", "corp", "corp-bound", "corp-preclaim")
}
CLIENT = {"client_id": "platform", "client_secret": secrets.token_urlsafe(24)}

# What the attacker's provider asserts: the victim's address, verified, and one address with no claim.
HOSTILE_ACCOUNTS = [
    {"id": "says-victim", "email": VICTIM, "password": "attacker-pw"},
    {"id": "no-verified-claim", "email": f"ghost-{RUN}@{DOMAIN}", "email_verified": None, "password": "g"},
    {"id": "pre-claims", "email": PRECLAIMED, "password": "attacker-pw"},
]
# The victim company's own provider.
CORP_ACCOUNTS = [
    {"id": "newcomer", "email": NEWCOMER, "password": "newcomer-idp-pw"},
    {"id": "employee", "email": EMPLOYEE, "password": "employee-idp-pw"},
    {"id": "preclaimed", "email": PRECLAIMED, "password": "preclaimed-idp-pw"},
]


def _callbacks(live_server) -> list[str]:
    return [f"{live_server}/api/v1/sso/{slug}/callback" for slug in SLUGS.values()]


@pytest.fixture(scope="module")
def hostile_idp(live_server, tmp_path_factory):
    clients = [confidential_client(CLIENT["client_id"], CLIENT["client_secret"], _callbacks(live_server))]
    with running_provider(
        tmp_path_factory.mktemp("hostile"), clients=clients, accounts=HOSTILE_ACCOUNTS
    ) as issuer:
        yield issuer


@pytest.fixture(scope="module")
def corp_idp(live_server, tmp_path_factory):
    clients = [confidential_client(CLIENT["client_id"], CLIENT["client_secret"], _callbacks(live_server))]
    with running_provider(tmp_path_factory.mktemp("corp"), clients=clients, accounts=CORP_ACCOUNTS) as issuer:
        yield issuer


def _org_with_sso(client, owner: TestUser, slug: str, issuer: str, **config) -> dict:
    org = client.post("/api/v1/organizations", json={"name": slug, "slug": slug}, headers=owner.headers())
    assert org.status_code == 201, org.json
    put_config(
        client, owner, org.json, issuer, allowed_domains=[DOMAIN], role_mapping=None, **CLIENT, **config
    )
    toggle(client, owner, org.json, True)
    return org.json


def _register(client, email: str) -> TestUser:
    body = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD}).json
    return TestUser(
        body["user"]["id"],
        email,
        body["access_token"],
        body["refresh_token"],
        body["user"]["personal_organization_id"],
    )


def _memberships(user_id: str) -> set[str]:
    with session_scope() as session:
        return set(session.scalars(select(Membership.organization_id).where(Membership.user_id == user_id)))


def _identities(user_id: str) -> list[SsoIdentity]:
    with session_scope() as session:
        return list(session.scalars(select(SsoIdentity).where(SsoIdentity.user_id == user_id)))


def _personal(signed_in: dict) -> str:
    with session_scope() as session:
        return session.get(User, signed_in["user"]["id"]).personal_org_id


def _bearer(token: str, org_id: str | None = None) -> dict:
    return {"Authorization": f"Bearer {token}", **({"X-Organization-Id": org_id} if org_id else {})}


def test_a_hostile_idp_asserting_the_victims_email_gets_no_session(live_server, client, hostile_idp):
    victim = _register(client, VICTIM)
    victim_team = client.post(
        "/api/v1/organizations", json={"name": "Victim Team"}, headers=victim.headers()
    ).json
    attacker = register_user(client)
    evil = _org_with_sso(client, attacker, SLUGS["evil"], hostile_idp)

    answer = sso_sign_in(live_server, evil["slug"], HOSTILE_ACCOUNTS[0])

    assert answer.status_code == 409, answer.text
    assert "access_token" not in answer.json() and "refresh_token" not in answer.json()
    # the link step wants the victim's platform password, which the attacker does not have
    guess = requests.post(
        answer.json()["link_url"],
        json={"link_token": answer.json()["link_token"], "password": "attacker-pw"},
        timeout=10,
    )
    assert guess.status_code == 401 and "access_token" not in guess.json()
    assert last_failure(evil["id"], "sso.link_failed").details["reason"] == "link_password_rejected"
    assert _memberships(victim.id) == {victim.org_id, victim_team["id"]}
    assert _identities(victim.id) == []


def test_a_missing_email_verified_is_unverified_unless_the_admin_trusts_the_idp(
    live_server, client, hostile_idp
):
    attacker = register_user(client)
    org = _org_with_sso(client, attacker, SLUGS["evil-unverified"], hostile_idp)
    ghost = HOSTILE_ACCOUNTS[1]

    refused = sso_sign_in(live_server, org["slug"], ghost)

    assert refused.status_code == 403, refused.text
    assert last_failure(org["id"]).details["reason"] == "email_unverified"
    with session_scope() as session:
        assert session.scalar(select(User).where(User.email == ghost["email"])) is None
    # the admin's explicit choice: this provider's missing claim means verified
    put_config(
        client,
        attacker,
        org,
        hostile_idp,
        allowed_domains=[DOMAIN],
        role_mapping=None,
        trust_email_without_verified_claim=True,
        **CLIENT,
    )
    assert sso_sign_in(live_server, org["slug"], ghost).status_code == 200


def test_a_pre_registered_account_never_captures_the_sso_identity(live_server, client, corp_idp):
    """The attacker registers the newcomer's address first; the newcomer's SSO sign-in hands the
    attacker's account neither the identity nor the membership."""
    squatter = _register(client, NEWCOMER)
    corp_admin = register_user(client)
    corp = _org_with_sso(client, corp_admin, SLUGS["corp"], corp_idp, allow_password_login=False)

    answer = sso_sign_in(live_server, corp["slug"], CORP_ACCOUNTS[0])

    assert answer.status_code == 409 and "access_token" not in answer.json()
    assert _memberships(squatter.id) == {squatter.org_id}
    assert _identities(squatter.id) == []
    relogin = client.post("/api/v1/auth/login", json={"email": NEWCOMER, "password": PASSWORD}).json
    for token in (squatter.token, relogin["access_token"]):
        assert client.get(f"/api/v1/organizations/{corp['id']}", headers=_bearer(token)).status_code == 404
        assert client.get("/api/v1/scans", headers=_bearer(token, corp["id"])).status_code == 403
    assert [o["id"] for o in relogin["user"]["organizations"]] == [squatter.org_id]


def test_an_sso_session_and_everything_derived_from_it_act_only_in_its_organization(
    live_server, client, corp_idp
):
    corp_admin = register_user(client)
    corp = _org_with_sso(client, corp_admin, SLUGS["corp-bound"], corp_idp)
    first = sso_sign_in(live_server, corp["slug"], CORP_ACCOUNTS[1])
    assert first.status_code == 200, first.text
    user_id = first.json()["user"]["id"]
    # the same person is also an admin elsewhere (the organizations an attacker would want to reach)
    with session_scope() as session:
        other = Organization(name="Elsewhere", slug=f"elsewhere-{RUN}")
        session.add(other)
        session.flush()
        session.add(Membership(organization_id=other.id, user_id=user_id, role="admin"))
        other_id = other.id
        personal_id = session.get(User, user_id).personal_org_id
    signed_in = sso_sign_in(live_server, corp["slug"], CORP_ACCOUNTS[1]).json()
    assert signed_in["user"]["organizations"] == [
        {"id": corp["id"], "name": corp["name"], "slug": corp["slug"], "role": "viewer"}
    ]
    refreshed = client.post("/api/v1/auth/refresh", headers=_bearer(signed_in["refresh_token"])).json
    key = client.post(
        "/api/v1/auth/api-key", json={"name": "derived"}, headers=_bearer(signed_in["access_token"])
    )
    assert key.status_code == 201 and key.json["organization_id"] == corp["id"]

    for token in (signed_in["access_token"], refreshed["access_token"]):
        for foreign in (other_id, personal_id):
            assert client.get(f"/api/v1/organizations/{foreign}", headers=_bearer(token)).status_code == 404
            assert client.get("/api/v1/scans", headers=_bearer(token, foreign)).status_code == 403
            minted = client.post("/api/v1/auth/api-key", json={"name": "x"}, headers=_bearer(token, foreign))
            assert minted.status_code == 403
        assert client.get("/api/v1/scans", headers=_bearer(token)).status_code == 200  # its own organization
        listed = client.get("/api/v1/organizations", headers=_bearer(token)).json
        assert [o["id"] for o in listed["items"]] == [corp["id"]]
        me = client.get("/api/v1/auth/me", headers=_bearer(token)).json
        assert [o["id"] for o in me["organizations"]] == [corp["id"]] and me[
            "personal_organization_id"
        ] is None
    assert (
        client.get(f"/api/v1/organizations/{other_id}", headers=_bearer(key.json["key"])).status_code == 404
    )
    # the event stream too: the other organization's WebSocket refuses the SSO token
    token = signed_in["access_token"]
    refused_ws, kind, _detail = first_answer(ws_url(live_server, token, other_id))
    refused_ws.close()
    own_ws, hello, organization_id = first_answer(ws_url(live_server, token))
    own_ws.close()
    assert kind == "close" and (hello, organization_id) == ("hello", corp["id"])


def test_an_address_a_hostile_idp_claimed_first_never_becomes_its_owners_account(
    live_server, client, hostile_idp, corp_idp
):
    """The attacker's IdP asserts an address nobody registered yet: it gets a password-less account reaching
    only the attacker's organization. Its real owner registering, signing in through their company's IdP,
    or being invited elsewhere never ends with the attacker holding or sharing anything of theirs."""
    attacker = register_user(client)
    evil = _org_with_sso(client, attacker, SLUGS["evil-preclaim"], hostile_idp)
    squat = sso_sign_in(live_server, evil["slug"], HOSTILE_ACCOUNTS[2])
    assert squat.status_code == 200, squat.text
    held = squat.json()

    registering = client.post("/api/v1/auth/register", json={"email": PRECLAIMED, "password": PASSWORD})
    assert registering.status_code == 409 and "access_token" not in registering.json
    corp_admin = register_user(client)
    corp = _org_with_sso(client, corp_admin, SLUGS["corp-preclaim"], corp_idp)
    owner_at_corp = sso_sign_in(live_server, corp["slug"], CORP_ACCOUNTS[2])
    assert owner_at_corp.status_code == 409  # an email match links nothing, and this account has no password
    for password in ("", "attacker-pw", PASSWORD):
        offered = sso_sign_in(live_server, corp["slug"], CORP_ACCOUNTS[2]).json()
        linked = requests.post(
            offered["link_url"], json={"link_token": offered["link_token"], "password": password}, timeout=10
        )
        assert linked.status_code in (401, 422) and "access_token" not in linked.json()
    assert [i.organization_id for i in _identities(held["user"]["id"])] == [evil["id"]]

    elsewhere = register_user(client)
    team = client.post("/api/v1/organizations", json={"name": "Elsewhere"}, headers=elsewhere.headers()).json
    code = client.post(
        f"/api/v1/organizations/{team['id']}/members",
        json={"email": PRECLAIMED, "role": "admin"},
        headers=elsewhere.headers(team["id"]),
    ).json["invitation_code"]
    with session_scope() as session:
        invitation_id = session.scalar(
            select(MemberInvitation.id).where(MemberInvitation.organization_id == team["id"])
        )
    squatter = _bearer(held["access_token"])
    assert client.get("/api/v1/auth/invitations", headers=squatter).json["items"] == []
    assert (
        client.post(
            f"/api/v1/auth/invitations/{invitation_id}/accept", json={"code": code}, headers=squatter
        ).status_code
        == 404
    )
    # nor does the IdP's session give itself a password, the way to a session not bound to its organization
    claimed = client.put(
        "/api/v1/auth/password",
        json={"current_password": "attacker-pw", "new_password": "attacker-pw-2"},
        headers=squatter,
    )
    assert claimed.status_code == 403
    login = client.post("/api/v1/auth/login", json={"email": PRECLAIMED, "password": "attacker-pw-2"})
    assert login.status_code == 401
    assert _memberships(held["user"]["id"]) == {held["user"]["organizations"][0]["id"], _personal(held)}
