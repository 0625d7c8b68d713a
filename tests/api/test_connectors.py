"""n8n connector credentials: write-only keys, URL validation, tenancy, and the connectivity test."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from common.db import session_scope
from common.models.connectors import N8nCredential
from common.security import decrypt_secret
from tests.helpers import add_member
from tests.n8n_server import FakeN8n, agent_workflow

API_KEY = "n8n_api_0123456789abcdef"
CREDENTIALS = "/api/v1/connectors/n8n/credentials"


@pytest.fixture
def n8n():
    fake = FakeN8n(api_key=API_KEY, workflows=[agent_workflow("w1", "Support bot")]).start()
    yield fake
    fake.stop()


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _save(client, user, url="https://n8n.example.com", name="Production n8n", api_key=API_KEY):
    return client.post(
        CREDENTIALS, json={"name": name, "url": url, "api_key": api_key}, headers=user.headers()
    )


def test_key_is_encrypted_at_rest_and_never_returned(client, make_user):
    user = make_user()
    created = _save(client, user, url="https://n8n.example.com/")
    assert created.status_code == 201, created.json
    body = created.json
    assert body["url"] == "https://n8n.example.com"
    assert body["api_key_masked"] == "n8n_********cdef"
    assert "api_key" not in body and API_KEY not in str(body)
    listed = client.get(CREDENTIALS, headers=user.headers()).json
    assert listed["total"] == 1 and API_KEY not in str(listed)
    assert listed["items"][0]["api_key_masked"] == "n8n_********cdef"
    with session_scope() as session:
        stored = session.get(N8nCredential, body["id"])
        assert API_KEY not in stored.api_key_encrypted
        assert decrypt_secret(stored.api_key_encrypted) == API_KEY


@pytest.mark.parametrize(
    "url",
    [
        "ftp://n8n.example.com",
        "javascript:alert(1)",
        "http://",
        "https://user:pw@n8n.example.com",
        "n8n.local",
        "http://10.0.0.5:5678",
        "http://169.254.169.254",
        "https://n8n.example.com/?x=1",
    ],
)
def test_only_plain_http_urls_are_accepted(client, make_user, url):
    response = _save(client, make_user(), url=url)
    assert response.status_code == 422 and "url" in response.json["errors"], response.json


def test_names_are_unique_per_organization(client, make_user):
    alice, bob = make_user(), make_user()
    assert _save(client, alice).status_code == 201
    assert _save(client, alice).status_code == 409
    assert _save(client, bob).status_code == 201


def test_roles_and_tenancy(client, make_user):
    owner, viewer, analyst, editor, stranger = (make_user() for _ in range(5))
    for member, role in ((viewer, "viewer"), (analyst, "analyst"), (editor, "editor")):
        add_member(client, owner, owner.org_id, member, role)
    credential_id = _save(client, owner).json["id"]
    as_member = {"viewer": viewer.headers(owner.org_id), "analyst": analyst.headers(owner.org_id)}
    as_member["editor"] = editor.headers(owner.org_id)
    assert client.get(CREDENTIALS, headers=as_member["viewer"]).status_code == 403
    assert client.get(CREDENTIALS, headers=as_member["analyst"]).json["total"] == 1
    create = {"name": "x", "url": "https://x.example.com", "api_key": "k"}
    assert client.post(CREDENTIALS, json=create, headers=as_member["analyst"]).status_code == 403
    assert client.get(CREDENTIALS, headers=stranger.headers()).json["total"] == 0
    assert client.delete(f"{CREDENTIALS}/{credential_id}", headers=stranger.headers()).status_code == 404
    assert client.delete(f"{CREDENTIALS}/{credential_id}", headers=as_member["analyst"]).status_code == 403
    assert client.delete(f"{CREDENTIALS}/{credential_id}", headers=as_member["editor"]).status_code == 204
    assert client.get(CREDENTIALS, headers=owner.headers()).json["total"] == 0


def test_a_credential_in_use_by_a_schedule_cannot_be_deleted(client, make_user):
    user = make_user()
    credential_id = _save(client, user).json["id"]
    schedule = client.post(
        "/api/v1/schedules",
        json={"name": "nightly n8n", "n8n_credential_id": credential_id, "cron": "0 2 * * *"},
        headers=user.headers(),
    )
    assert schedule.status_code == 201, schedule.json
    refused = client.delete(f"{CREDENTIALS}/{credential_id}", headers=user.headers())
    assert refused.status_code == 409 and "nightly n8n" in refused.json["message"]


def test_connection_test_reports_each_outcome(client, make_user, n8n):
    user = make_user()

    def probe(**body):
        response = client.post("/api/v1/connectors/n8n/test", json=body, headers=user.headers())
        assert response.status_code == 200, response.json
        return response.json

    reachable = probe(url=n8n.url, api_key=API_KEY)
    assert reachable["status"] == "reachable" and reachable["detail"]
    assert n8n.requests[-1] == {"path": "/api/v1/workflows", "query": "limit=1", "key": API_KEY}
    unauthorized = probe(url=n8n.url, api_key="wrong-key")
    assert unauthorized["status"] == "unauthorized" and "401" in unauthorized["detail"]
    unreachable = probe(url=_closed_port_url(), api_key=API_KEY)
    assert unreachable["status"] == "unreachable" and "Connection" in unreachable["detail"]
    not_n8n = probe(url=n8n.url + "/not-n8n", api_key=API_KEY)
    assert not_n8n["status"] == "unreachable" and "404" in not_n8n["detail"]
    saved = _save(client, user, url=n8n.url).json
    assert probe(credential_id=saved["id"])["status"] == "reachable"
    assert API_KEY not in str(reachable)


def test_connection_test_input_rules(client, make_user, n8n):
    alice, bob = make_user(), make_user()
    saved = _save(client, alice, url=n8n.url).json
    url = "/api/v1/connectors/n8n/test"
    both = {"credential_id": saved["id"], "url": n8n.url, "api_key": API_KEY}
    assert client.post(url, json=both, headers=alice.headers()).status_code == 422
    assert client.post(url, json={"url": n8n.url}, headers=alice.headers()).status_code == 422
    assert client.post(url, json={"credential_id": saved["id"]}, headers=bob.headers()).status_code == 404
    assert n8n.requests == []


def test_scan_accepts_a_saved_credential_of_its_own_organization(client, make_user):
    alice, bob = make_user(), make_user()
    credential_id = _save(client, alice).json["id"]
    both = {"n8n_credential_id": credential_id, "n8n_url": "https://n8n.example.com", "n8n_api_key": "k"}
    mixed = client.post("/api/v1/scans", json=both, headers=alice.headers())
    assert mixed.status_code == 422 and "n8n_credential_id" in mixed.json["errors"]
    foreign = client.post("/api/v1/scans", json={"n8n_credential_id": credential_id}, headers=bob.headers())
    assert foreign.status_code == 404


def test_probe_refuses_names_that_resolve_inside(client, make_user, monkeypatch):
    import ipaddress

    from common import netguard

    user = make_user()
    saved = _save(client, user, url="http://n8n.corp.example:5678").json
    monkeypatch.setattr(netguard, "resolve", lambda host, port: [ipaddress.ip_address("10.0.0.7")])
    refused = client.post(
        "/api/v1/connectors/n8n/test", json={"credential_id": saved["id"]}, headers=user.headers()
    )
    assert refused.json["status"] == "unreachable" and "10.0.0.7" in refused.json["detail"]
    monkeypatch.undo()
    missing = client.post(
        "/api/v1/connectors/n8n/test",
        json={"url": "http://n8n.invalid", "api_key": "k"},
        headers=user.headers(),
    )
    assert missing.json["status"] == "unreachable" and "resolve" in missing.json["detail"]


def test_probe_does_not_follow_redirects(client, make_user):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    followed = []

    class Redirecting(BaseHTTPRequestHandler):
        def do_GET(self):
            followed.append(self.path)
            self.send_response(302)
            self.send_header("Location", "/api/v1/workflows/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        outcome = client.post(
            "/api/v1/connectors/n8n/test", json={"url": url, "api_key": "k"}, headers=make_user().headers()
        ).json
    finally:
        server.shutdown()
        server.server_close()
    assert outcome["status"] == "unreachable" and "Redirect" in outcome["detail"]
    assert followed == ["/api/v1/workflows?limit=1"]


class _DeepAnswer(BaseHTTPRequestHandler):
    """An "n8n instance" answering every request with JSON nested past any parser's recursion."""

    def do_GET(self):
        body = b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


def test_an_instance_answering_json_nested_too_deeply_is_an_outcome_not_the_callers_error(client, make_user):
    """The answer's ``RecursionError`` reached the application's handler for a request body nested too
    deeply: a 400 telling the member their own request was invalid."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DeepAnswer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        response = client.post(
            "/api/v1/connectors/n8n/test",
            json={"url": f"http://127.0.0.1:{server.server_address[1]}", "api_key": API_KEY},
            headers=make_user().headers(),
        )
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 200, response.json
    assert response.json["status"] == "unreachable" and "nested" in response.json["detail"]
