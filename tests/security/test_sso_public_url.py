"""A forged Host header cannot choose where the identity provider sends the authorization code.

With PUBLIC_URL configured, the SSO redirect_uri (and the login and link URLs the API hands out) come from
it; the request's host is used only while PUBLIC_URL is left at its default."""

from __future__ import annotations

import dataclasses
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from common import config
from tests.helpers import register_user
from tests.sso_support import authorize, confidential_client, put_config, running_provider, toggle

RUN = secrets.token_hex(3)
SLUG = f"public-url-{RUN}"
CLIENT = {"client_id": "platform", "client_secret": secrets.token_urlsafe(24)}
ACCOUNT = {"id": "member", "email": f"member-{RUN}@acme.test", "password": "member-idp-pw"}
FORGED = {"Host": "attacker.test"}


@pytest.fixture(scope="module")
def idp(live_server, tmp_path_factory):
    clients = [
        confidential_client(
            CLIENT["client_id"], CLIENT["client_secret"], [f"{live_server}/api/v1/sso/{SLUG}/callback"]
        )
    ]
    with running_provider(tmp_path_factory.mktemp("idp"), clients=clients, accounts=[ACCOUNT]) as issuer:
        yield issuer


@pytest.fixture(scope="module")
def sso_org(app, idp):
    client = app.test_client()
    owner = register_user(client)
    org = client.post("/api/v1/organizations", json={"name": SLUG, "slug": SLUG}, headers=owner.headers())
    assert org.status_code == 201, org.json
    put_config(client, owner, org.json, idp, **CLIENT)
    toggle(client, owner, org.json, True)
    return owner, org.json


def _configure_public_url(monkeypatch, url: str) -> None:
    settings = dataclasses.replace(config.get_settings(), public_url=url, public_url_configured=True)
    monkeypatch.setattr(config, "_settings", settings)


def test_a_forged_host_does_not_redirect_the_authorization_code(live_server, sso_org, monkeypatch):
    owner, org = sso_org
    _configure_public_url(monkeypatch, live_server)
    callback = f"{live_server}/api/v1/sso/{SLUG}/callback"

    started = requests.get(
        f"{live_server}/api/v1/sso/{SLUG}/login", headers=FORGED, allow_redirects=False, timeout=10
    )

    assert started.status_code == 302, started.text
    assert parse_qs(urlsplit(started.headers["Location"]).query)["redirect_uri"] == [callback]
    back = authorize(started.headers["Location"], ACCOUNT["email"], ACCOUNT["password"])
    assert back.startswith(callback)
    binding = {
        "trusera_sso_binding": started.cookies["trusera_sso_binding"]
    }  # the jar filed it under the forged host
    assert requests.get(back, cookies=binding, timeout=10).status_code == 200
    check = requests.get(f"{live_server}/api/v1/sso/{SLUG}/check", headers=FORGED, timeout=10).json()
    assert check["login_url"] == f"{live_server}/api/v1/sso/{SLUG}/login"
    shown = requests.get(
        f"{live_server}/api/v1/organizations/{org['id']}/sso",
        headers={**owner.headers(), **FORGED},
        timeout=10,
    ).json()
    assert shown["redirect_uri"] == callback


def test_the_request_host_is_used_while_public_url_is_left_at_its_default(client, sso_org, monkeypatch):
    monkeypatch.setattr(
        config, "_settings", dataclasses.replace(config.get_settings(), public_url_configured=False)
    )

    check = client.get(f"/api/v1/sso/{SLUG}/check", headers={"Host": "platform.internal"}).json

    assert check["login_url"] == f"http://platform.internal/api/v1/sso/{SLUG}/login"
