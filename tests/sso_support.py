"""Shared by the SSO tests (tests/integration, tests/security): the real `oidc-provider` on loopback,
the platform's SSO configuration calls, and a browser-less walk through the provider's login pages."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from sqlalchemy import select

from common.db import session_scope
from common.models import AuditLog
from tests.helpers import npm_install

PROVIDER_DIR = Path(__file__).resolve().parent / "integration" / "oidc_provider"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_provider(config_dir: Path, *, clients: list[dict], accounts: list[dict]):
    """Start the real provider with these clients and accounts; yield its issuer URL."""
    npm_install(PROVIDER_DIR, "oidc-provider")
    port = free_port()
    config_path = config_dir / "provider.json"
    config_path.write_text(json.dumps({"port": port, "clients": clients, "accounts": accounts}))
    process = subprocess.Popen(
        ["node", "server.js", str(config_path)],
        cwd=PROVIDER_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"oidc-provider exited: {process.stdout.read()}")
            try:
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail("oidc-provider did not start within 20 s")
        yield issuer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def confidential_client(client_id: str, client_secret: str, redirect_uris: list[str]) -> dict:
    return {
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uris": redirect_uris,
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
    }


def put_config(client, owner, org, issuer, **fields):
    body = {
        "issuer": issuer,
        "scopes": ["openid", "email", "profile", "groups"],
        "allowed_domains": ["acme.test"],
        "default_role": "viewer",
        "role_mapping": {"claim": "groups", "values": {"eng": "editor"}},
        "allow_password_login": True,
    }
    body.update(fields)  # client_id and client_secret at least
    response = client.put(f"/api/v1/organizations/{org['id']}/sso", json=body, headers=owner.headers())
    assert response.status_code in (200, 201), response.json
    return response.json


def toggle(client, owner, org, enabled: bool) -> None:
    response = client.post(
        f"/api/v1/organizations/{org['id']}/sso/toggle", json={"enabled": enabled}, headers=owner.headers()
    )
    assert response.status_code == 200, response.json


def authorize(authorization_url: str, email: str, password: str) -> str:
    """Play the browser at the provider: log in, consent, and return the callback URL it redirects to."""
    browser = requests.Session()
    url = authorization_url
    issuer = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}"
    for _ in range(12):
        response = browser.get(url, allow_redirects=False, timeout=10)
        if response.status_code in (302, 303):
            url = urljoin(url, response.headers["Location"])
            if not url.startswith(issuer):
                return url
            continue
        assert response.status_code == 200, response.text
        interaction = response.json()
        step = "login" if interaction["prompt"] == "login" else "confirm"
        form = {"email": email, "password": password} if step == "login" else {}
        answer = browser.post(
            f"{issuer}/interaction/{interaction['uid']}/{step}", data=form, allow_redirects=False, timeout=10
        )
        assert answer.status_code == 303, answer.text
        url = urljoin(url, answer.headers["Location"])
    raise AssertionError("the provider never redirected back to the platform")


def start_login(live_server, slug) -> requests.Response:
    return requests.get(f"{live_server}/api/v1/sso/{slug}/login", allow_redirects=False, timeout=10)


def sso_sign_in(live_server, slug, account) -> requests.Response:
    started = start_login(live_server, slug)
    assert started.status_code == 302, started.text
    callback_url = authorize(started.headers["Location"], account["email"], account["password"])
    return requests.get(callback_url, cookies=started.cookies, timeout=10)


def audit_rows(organization_id: str | None, action: str) -> list[AuditLog]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(AuditLog)
                .where(AuditLog.organization_id == organization_id, AuditLog.action == action)
                .order_by(AuditLog.created_at)
            )
        )


def last_failure(organization_id: str | None, action: str = "sso.login_failed") -> AuditLog:
    rows = audit_rows(organization_id, action)
    assert rows, "no audit entry for the refused sign-in"
    return rows[-1]
