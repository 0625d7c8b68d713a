"""A chat webhook's URL is its credential: only the organization's admins, who manage webhooks, read it.

The attacker is a member of the organization below admin (a viewer, an editor). A Slack or Teams
incoming-webhook URL carries the token that lets anyone post into the channel
(``hooks.slack.com/services/T…/B…/<token>``), as generic receivers often carry theirs in the path or the
query (``?token=``, ``?code=``). ``GET /webhooks`` showed every member the whole URL, so any member could
post messages into the organization's channels as the platform.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers import add_member

SLACK_TOKEN = "aBcDeFgHiJkLmNoPqRsTuVwX"
URLS = {
    "slack": f"https://hooks.slack.com/services/T0000AAAA/B0000BBBB/{SLACK_TOKEN}",
    "generic": f"https://receiver.example.com/hooks/trusera?token={SLACK_TOKEN}",
}


@pytest.mark.parametrize("kind", sorted(URLS))
def test_members_below_admin_see_where_a_webhook_goes_not_its_token(client, make_user, kind):
    admin, member = make_user(), make_user()
    org = client.post("/api/v1/organizations", json={"name": "team"}, headers=admin.headers()).json
    add_member(client, admin, org["id"], member, "editor")
    created = client.post(
        "/api/v1/webhooks",
        json={"url": URLS[kind], "kind": kind, "events": ["alert.triggered"]},
        headers=admin.headers(org["id"]),
    )
    assert created.status_code == 201 and created.json["url"] == URLS[kind], created.json
    webhook_id = created.json["id"]
    listed = client.get("/api/v1/webhooks", headers=member.headers(org["id"]))
    fetched = client.get(f"/api/v1/webhooks/{webhook_id}", headers=member.headers(org["id"]))
    assert listed.status_code == fetched.status_code == 200
    assert SLACK_TOKEN not in listed.get_data(as_text=True) + fetched.get_data(as_text=True)
    host = URLS[kind].split("/")[2]
    assert fetched.json["url"].startswith(f"https://{host}/") and fetched.json["url_masked"] is True
    as_admin = client.get(f"/api/v1/webhooks/{webhook_id}", headers=admin.headers(org["id"])).json
    assert as_admin["url"] == URLS[kind] and as_admin["url_masked"] is False


class EchoingReceiver(BaseHTTPRequestHandler):
    """Answers as Express does for a path it has no route for: ``Cannot POST /hooks/<token>``."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        reply = f"<pre>Cannot POST {self.path}</pre>".encode()
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *_args):
        pass


def test_members_below_admin_do_not_read_the_token_in_what_the_receiver_answered(client, make_user):
    """The delivery history showed every member the receiver's answer, and a receiver that echoes the
    request's path (Express's 404 page, a request bin) gave back the token the URL was masked for."""
    admin, member = make_user(), make_user()
    org = client.post("/api/v1/organizations", json={"name": "team"}, headers=admin.headers()).json
    add_member(client, admin, org["id"], member, "viewer")
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hooks/{SLACK_TOKEN}"
        created = client.post(
            "/api/v1/webhooks",
            json={"url": url, "kind": "generic", "events": ["alert.triggered"]},
            headers=admin.headers(org["id"]),
        ).json
        sent = client.post(f"/api/v1/webhooks/{created['id']}/test", headers=admin.headers(org["id"]))
        assert sent.status_code == 200 and sent.json["status_code"] == 404, sent.json
    finally:
        server.shutdown()
        server.server_close()
    history = f"/api/v1/webhooks/{created['id']}/deliveries"
    as_member = client.get(history, headers=member.headers(org["id"]))
    assert as_member.status_code == 200 and as_member.json["items"][0]["status_code"] == 404
    assert SLACK_TOKEN not in as_member.get_data(as_text=True)
    assert as_member.json["items"][0]["response_excerpt"] is None
    as_admin = client.get(history, headers=admin.headers(org["id"])).json
    assert SLACK_TOKEN in as_admin["items"][0]["response_excerpt"]
