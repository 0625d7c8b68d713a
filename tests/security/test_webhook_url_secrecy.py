"""A chat webhook's URL is its credential: only the organization's admins, who manage webhooks, read it.

The attacker is a member of the organization below admin (a viewer, an editor). A Slack or Teams
incoming-webhook URL carries the token that lets anyone post into the channel
(``hooks.slack.com/services/T…/B…/<token>``), as generic receivers often carry theirs in the path or the
query (``?token=``, ``?code=``). ``GET /webhooks`` showed every member the whole URL, so any member could
post messages into the organization's channels as the platform.
"""

from __future__ import annotations

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
