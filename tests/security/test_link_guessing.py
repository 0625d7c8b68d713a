"""Password guesses through SSO linking meet the same lockout as guesses at ``POST /auth/login``.

The attacker runs an identity provider and an organization whose SSO trusts it for the victim's email
domain. Each sign-in asserting the victim's email ends in a 409 with a one-time link token, and
``POST /sso/<slug>/link`` checks the password of the victim's account. Spending a sign-in per guess costs
the attacker nothing (the provider is theirs), and the link endpoint never counted failures: ten wrong
passwords lock a login from one address for 15 minutes, while linking went on guessing, locked or not.
"""

from __future__ import annotations

import dataclasses
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest

from common import login_guard
from common.config import get_settings
from tests.helpers import PASSWORD, register_user
from tests.integration.fake_idp import FakeIdentityProvider
from tests.sso_support import put_config, toggle

LIMIT = 3
CLIENT = {"client_id": "platform", "client_secret": "client-secret-value", "role_mapping": None}


@pytest.fixture
def small_lockout(monkeypatch):
    """A lockout after three failures: the guesses stay within the address's ``auth`` rate limit."""
    settings = dataclasses.replace(get_settings(), login_failure_limit=LIMIT)
    monkeypatch.setattr(login_guard, "get_settings", lambda: settings)


@pytest.fixture
def hostile_sso(client):
    victim_email = f"victim-{secrets.token_hex(4)}@victims.test"
    registered = client.post(
        "/api/v1/auth/register", json={"email": victim_email, "password": PASSWORD, "name": "Victim"}
    )
    assert registered.status_code == 201, registered.json
    attacker = register_user(client)
    org = client.post("/api/v1/organizations", json={"name": "Hostile"}, headers=attacker.headers()).json
    with FakeIdentityProvider() as idp:
        put_config(client, attacker, org, idp.issuer, allowed_domains=["victims.test"], **CLIENT)
        toggle(client, attacker, org, True)

        def link_with(password: str):
            started = client.get(f"/api/v1/sso/{org['slug']}/login")
            query = {k: v[0] for k, v in parse_qs(urlsplit(started.headers["Location"]).query).items()}
            idp.id_token = idp.sign(idp.claims(query["nonce"], CLIENT["client_id"], email=victim_email))
            offered = client.get(
                f"/api/v1/sso/{org['slug']}/callback", query_string={"code": "c0de", "state": query["state"]}
            )
            assert offered.status_code == 409, offered.json
            return client.post(
                f"/api/v1/sso/{org['slug']}/link",
                json={"link_token": offered.json["link_token"], "password": password},
            )

        yield victim_email, link_with


def test_wrong_passwords_through_linking_lock_it_as_they_lock_login(client, small_lockout, hostile_sso):
    victim_email, link_with = hostile_sso
    guesses = [link_with(f"guess-{n}").status_code for n in range(LIMIT)]
    locked = link_with(PASSWORD)
    assert guesses == [401] * LIMIT
    assert locked.status_code == 429 and "Retry-After" in locked.headers, locked.json
    assert "access_token" not in (locked.json or {})
    login = client.post("/api/v1/auth/login", json={"email": victim_email, "password": PASSWORD})
    assert login.status_code == 429  # one count: the same (account, address) pair as a login


def test_a_login_lockout_stops_linking_too(client, small_lockout, hostile_sso):
    victim_email, link_with = hostile_sso
    for n in range(LIMIT):
        client.post("/api/v1/auth/login", json={"email": victim_email, "password": f"guess-{n}"})
    assert link_with(PASSWORD).status_code == 429
