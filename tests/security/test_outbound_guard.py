"""The server never calls private, loopback or link-local addresses on a tenant's behalf through SSO.

Anyone can trigger the calls: ``GET /sso/<slug>/login`` is anonymous. A recorder on loopback stands for the
internal service or metadata endpoint an admin would like the server to reach.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from common import netguard
from common.config import get_settings
from tests.helpers import register_user
from tests.integration.fake_idp import FakeIdentityProvider
from tests.sso_support import last_failure, put_config, toggle

CLIENT = {"client_id": "platform", "client_secret": "client-secret-value", "role_mapping": None}
INTERNAL_BANNER = "internal-admin-console-v9"


class Recorder:
    """A loopback HTTP server that counts every connection and answers 500 with a telling body."""

    def __init__(self):
        recorder = self
        self.connections = 0

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def _answer(self):
                body = INTERNAL_BANNER.encode()
                self.send_response(500)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

        class Server(ThreadingHTTPServer):
            def process_request(self, request, client_address):
                recorder.connections += 1
                super().process_request(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder():
    with Recorder() as running:
        yield running


@pytest.fixture
def no_allowlist(monkeypatch):
    """Production's default: nothing is allowlisted (the test suite itself allowlists loopback)."""
    monkeypatch.setattr(
        netguard, "get_settings", lambda: dataclasses.replace(get_settings(), outbound_allowlist=[])
    )


def _org(client):
    owner = register_user(client)
    org = client.post(
        "/api/v1/organizations", json={"name": f"Org {secrets.token_hex(3)}"}, headers=owner.headers()
    )
    return owner, org.json


@pytest.mark.parametrize(
    "issuer",
    [
        "https://169.254.169.254",
        "https://10.0.0.5/realms/x",
        "https://[fd00:ec2::254]",
        "https://[64:ff9b::a9fe:a9fe]",
    ],
)
def test_an_internal_address_is_refused_as_issuer(client, issuer):
    owner, org = _org(client)
    body = {"issuer": issuer, "allowed_domains": ["example.com"], **CLIENT}
    response = client.put(f"/api/v1/organizations/{org['id']}/sso", json=body, headers=owner.headers())
    assert response.status_code == 422 and "issuer" in response.json["errors"]


def test_an_anonymous_login_does_not_make_the_server_connect_to_a_loopback_host(
    client, recorder, no_allowlist
):
    owner, org = _org(client)
    put_config(
        client, owner, org, f"https://localhost:{recorder.port}", allowed_domains=["example.com"], **CLIENT
    )
    toggle(client, owner, org, True)

    response = client.get(f"/api/v1/sso/{org['slug']}/login")

    assert recorder.connections == 0
    assert (
        response.status_code == 502
        and response.json["message"] == "The identity provider could not be reached."
    )
    assert last_failure(org["id"]).details["reason"] == "idp_unreachable"


def test_errors_do_not_echo_the_providers_status_or_body(client, recorder):
    owner, org = _org(client)
    put_config(
        client, owner, org, f"http://127.0.0.1:{recorder.port}", allowed_domains=["example.com"], **CLIENT
    )
    toggle(client, owner, org, True)

    response = client.get(f"/api/v1/sso/{org['slug']}/login")

    assert recorder.connections == 1  # allowlisted loopback (the tests' setting): the call is made
    assert response.status_code == 502
    text = response.get_data(as_text=True)
    assert "500" not in text and INTERNAL_BANNER not in text


def test_the_token_request_follows_no_redirect(client, recorder):
    owner, org = _org(client)
    with FakeIdentityProvider() as idp:
        put_config(client, owner, org, idp.issuer, allowed_domains=["fake.test"], **CLIENT)
        toggle(client, owner, org, True)
        started = client.get(f"/api/v1/sso/{org['slug']}/login")
        query = {k: v[0] for k, v in parse_qs(urlsplit(started.headers["Location"]).query).items()}
        idp.id_token = idp.sign(idp.claims(query["nonce"], CLIENT["client_id"]))
        idp.token_redirect = f"http://127.0.0.1:{recorder.port}/steal"

        response = client.get(
            f"/api/v1/sso/{org['slug']}/callback", query_string={"code": "c0de", "state": query["state"]}
        )

    assert len(idp.token_requests) == 1
    assert response.status_code == 502 and "access_token" not in response.json
    assert recorder.connections == 0


def test_a_host_resolving_to_cloud_metadata_is_refused_at_call_time(client, monkeypatch):
    """A name that passes when saved but resolves to 169.254.169.254 when called (DNS rebinding)."""
    owner, org = _org(client)
    put_config(client, owner, org, "https://idp.rebind.example", allowed_domains=["example.com"], **CLIENT)
    toggle(client, owner, org, True)
    resolved = []

    def metadata_dns(host, port):
        resolved.append((host, port))
        return [ipaddress.ip_address("169.254.169.254")]

    monkeypatch.setattr(netguard, "resolve", metadata_dns)

    response = client.get(f"/api/v1/sso/{org['slug']}/login")

    assert response.status_code == 502 and resolved == [("idp.rebind.example", 443)]
    assert response.json["message"] == "The identity provider could not be reached."


@pytest.mark.parametrize(
    "translated",
    [
        "::ffff:0:a9fe:a9fe",  # RFC 2765 SIIT's IPv4-translated form of 169.254.169.254
        "::ffff:0:7f00:1",  # ... of 127.0.0.1
        "100:0:0:1::a9fe:a9fe",  # RFC 9780's dummy prefix, outside the internet's global unicast 2000::/3
    ],
)
def test_a_webhook_host_resolving_to_an_ipv4_translated_internal_address_is_refused(
    client, monkeypatch, no_allowlist, translated
):
    """A receiver's name whose AAAA record is an IPv4-translated address: a stateless translator (SIIT,
    464XLAT) on the server's network turns it into the internal IPv4 address it carries. Python's
    ``is_global`` calls such an address public, so the guard connected to it."""
    owner, org = _org(client)
    created = client.post(
        "/api/v1/webhooks",
        json={"url": "https://hooks.translated.example/in", "events": ["scan.completed"]},
        headers=owner.headers(org["id"]),
    )
    assert created.status_code == 201, created.json
    monkeypatch.setattr(netguard, "resolve", lambda _host, _port: [ipaddress.ip_address(translated)])
    connected = []

    def connect(_scheme, _host, address, _port, _timeout):
        connected.append(address)
        raise ConnectionRefusedError("the test stops here: the guard let the connection go ahead")

    monkeypatch.setattr(netguard, "_pinned_pool", connect)

    sent = client.post(f"/api/v1/webhooks/{created.json['id']}/test", headers=owner.headers(org["id"]))

    assert sent.status_code == 200 and sent.json["success"] is False
    assert connected == []
    assert sent.json["error"].startswith("refused:") and "non-public" in sent.json["error"]
