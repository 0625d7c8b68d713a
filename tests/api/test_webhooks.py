"""``/webhooks``: validation, the write-only secret, roles, tenancy, re-enabling, test sends, the outbox."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from common import events
from common.db import session_scope
from common.models.alerts import AlertRule
from common.models.webhooks import Webhook, WebhookEvent
from common.security import decrypt_secret
from tests.helpers import add_member, register_user
from tests.webhook_receiver import Receiver

API = "/api/v1/webhooks"


def create(client, user, **body):
    body = {"url": "https://hooks.example.com/trusera", "events": ["scan.completed"], **body}
    return client.post(API, json=body, headers=user.headers())


def test_create_generates_a_secret_shown_once_and_stored_encrypted(client, make_user):
    user = make_user()
    response = create(client, user, events=["scan.completed", "alert.triggered", "scan.completed"])
    assert response.status_code == 201, response.json
    webhook = response.json
    secret = webhook["secret"]
    assert secret.startswith("whsec_")
    assert response.headers["Location"].endswith(f"{API}/{webhook['id']}")
    assert webhook["events"] == ["scan.completed", "alert.triggered"] and webhook["enabled"] is True
    with session_scope() as session:
        stored = session.get(Webhook, webhook["id"])
        assert secret not in stored.secret_encrypted and decrypt_secret(stored.secret_encrypted) == secret
    later = [
        client.get(f"{API}/{webhook['id']}", headers=user.headers()),
        client.get(API, headers=user.headers()),
        client.put(f"{API}/{webhook['id']}", json={"events": ["scan.failed"]}, headers=user.headers()),
        client.get(f"{API}/{webhook['id']}/deliveries", headers=user.headers()),
        client.get("/api/v1/audit-log", headers=user.headers()),
    ]
    for later_response in later:
        assert later_response.status_code == 200
        assert secret not in later_response.get_data(as_text=True)
    assert "secret" not in later[0].json and "secret" not in later[1].json["items"][0]


def test_a_chosen_secret_is_never_echoed(client, make_user):
    user = make_user()
    response = create(client, user, secret="my-own-signing-secret-123")
    assert response.status_code == 201
    assert "secret" not in response.json
    assert "my-own-signing-secret-123" not in response.get_data(as_text=True)
    rotated = client.put(
        f"{API}/{response.json['id']}", json={"secret": "rotated-signing-secret-456"}, headers=user.headers()
    )
    assert rotated.status_code == 200 and "rotated-signing-secret-456" not in rotated.get_data(as_text=True)
    with session_scope() as session:
        assert decrypt_secret(session.get(Webhook, response.json["id"]).secret_encrypted).startswith(
            "rotated"
        )


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/x",
        "http://10.0.0.8/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/",
        "http://167772161/",
        "http://admin:hunter2@hooks.example.com/",
        "hooks.example.com/no-scheme",
    ],
)
def test_literal_ips_other_schemes_and_credentials_are_422(client, make_user, url):
    response = create(client, make_user(), url=url)
    assert response.status_code == 422, response.json
    assert response.json["errors"]["url"], response.json


def test_unresolvable_host_names_and_allowlisted_loopback_are_accepted(client, make_user):
    user = make_user()
    assert create(client, user, url="https://not-yet-registered.invalid/hook").status_code == 201
    assert create(client, user, url="http://127.0.0.1:9/hook").status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"events": ["scan.exploded"]},
        {"events": []},
        {"events": "scan.completed"},
        {"secret": "short"},
        {"surprise": True},
        {"enabled": "sometimes"},
    ],
)
def test_bad_bodies_are_422(client, make_user, body):
    response = create(client, make_user(), **body)
    assert response.status_code == 422, response.json


def test_every_documented_event_is_accepted(client, make_user):
    all_events = [
        "scan.started",
        "scan.completed",
        "scan.failed",
        "policy.violated",
        "alert.triggered",
        "export.completed",
        "webhook.test",
    ]
    response = create(client, make_user(), events=all_events)
    assert response.status_code == 201 and response.json["events"] == all_events


def test_roles_and_tenancy(client, make_user):
    owner, viewer, stranger = make_user(), make_user(), make_user()
    org = client.post("/api/v1/organizations", json={"name": "Hooks Org"}, headers=owner.headers()).json
    add_member(client, owner, org["id"], viewer, "viewer")
    hook = client.post(
        API,
        json={"url": "https://hooks.example.com/a", "events": ["scan.failed"]},
        headers=owner.headers(org["id"]),
    ).json
    listed = client.get(API, headers=viewer.headers(org["id"]))
    assert listed.status_code == 200 and [h["id"] for h in listed.json["items"]] == [hook["id"]]
    assert "secret" not in listed.json["items"][0]
    denied = client.post(
        API,
        json={"url": "https://x.example.com", "events": ["scan.failed"]},
        headers=viewer.headers(org["id"]),
    )
    assert denied.status_code == 403
    assert client.delete(f"{API}/{hook['id']}", headers=viewer.headers(org["id"])).status_code == 403
    for method in ("get", "put", "delete"):
        assert (
            getattr(client, method)(f"{API}/{hook['id']}", json={}, headers=stranger.headers()).status_code
            == 404
        )
    assert client.get(f"{API}/{hook['id']}/deliveries", headers=stranger.headers()).status_code == 404
    assert client.post(f"{API}/{hook['id']}/test", headers=stranger.headers()).status_code == 404


def test_put_enabled_true_clears_the_automatic_disable(client, make_user):
    user = make_user()
    hook = create(client, user).json
    with session_scope() as session:
        row = session.get(Webhook, hook["id"])
        row.enabled, row.disabled_reason, row.consecutive_failures = (
            False,
            "Disabled automatically after 10",
            10,
        )
    shown = client.get(f"{API}/{hook['id']}", headers=user.headers()).json
    assert shown["enabled"] is False and shown["disabled_reason"].startswith("Disabled automatically")
    enabled = client.put(f"{API}/{hook['id']}", json={"enabled": True}, headers=user.headers()).json
    assert enabled["enabled"] is True
    assert enabled["disabled_reason"] is None and enabled["consecutive_failures"] == 0


def test_delete_removes_the_webhook_from_alert_rule_channels(client, make_user):
    user = make_user()
    keep, gone = create(client, user).json, create(client, user).json
    rule = client.post(
        "/api/v1/alert-rules",
        json={"name": "r", "trigger": "scan_failed", "params": {}, "webhook_ids": [keep["id"], gone["id"]]},
        headers=user.headers(),
    ).json
    assert client.delete(f"{API}/{gone['id']}", headers=user.headers()).status_code == 204
    assert client.get(f"{API}/{gone['id']}", headers=user.headers()).status_code == 404
    with session_scope() as session:
        assert session.get(AlertRule, rule["id"]).webhook_ids == [keep["id"]]


def test_test_send_is_signed_recorded_and_reports_the_outcome(client, make_user):
    user = make_user()
    with Receiver([200, 500]) as receiver:
        hook = create(client, user, url=receiver.url, events=["scan.completed"]).json
        receiver.secret = hook["secret"]
        ok = client.post(f"{API}/{hook['id']}/test", headers=user.headers())
        assert ok.status_code == 200, ok.json
        assert ok.json["success"] is True and ok.json["status_code"] == 200 and ok.json["error"] is None
        failing = client.post(f"{API}/{hook['id']}/test", headers=user.headers()).json
    assert failing["success"] is False and failing["status_code"] == 500 and failing["error"] == "HTTP 500"
    assert [r.verified for r in receiver.requests] == [True, True]
    first = receiver.requests[0]
    assert first.headers["webhook-id"] == ok.json["delivery_id"]
    assert first.json["type"] == "webhook.test" and first.json["data"]["webhook_id"] == hook["id"]
    history = client.get(f"{API}/{hook['id']}/deliveries", headers=user.headers()).json
    assert history["total"] == 2
    assert [item["status_code"] for item in history["items"]] == [500, 200]
    assert history["items"][1]["event_type"] == "webhook.test" and history["items"][1]["attempt"] == 1
    assert history["items"][1]["response_excerpt"].startswith("{") and history["items"][0]["duration_ms"] >= 0
    failed_only = client.get(f"{API}/{hook['id']}/deliveries?status=failed", headers=user.headers()).json
    assert failed_only["total"] == 1
    # a failing test send does not count towards disabling the endpoint
    after = client.get(f"{API}/{hook['id']}", headers=user.headers()).json
    assert after["enabled"] is True and after["consecutive_failures"] == 0


def test_test_send_is_limited_to_5_per_minute(client, make_user):
    user = make_user()
    with Receiver([204]) as receiver:
        hook = create(client, user, url=receiver.url).json
        codes = [
            client.post(f"{API}/{hook['id']}/test", headers=user.headers()).status_code for _ in range(6)
        ]
    assert codes == [200] * 5 + [429]
    assert len(receiver.requests) == 5


def test_test_send_to_a_refused_address_is_reported_not_sent(client, make_user, monkeypatch):
    import ipaddress

    from common import netguard

    user = make_user()
    hook = create(client, user, url="http://internal.example.test:9/hook").json
    monkeypatch.setattr(netguard, "resolve", lambda _h, _p: [ipaddress.ip_address("10.0.0.7")])
    outcome = client.post(f"{API}/{hook['id']}/test", headers=user.headers()).json
    assert outcome["success"] is False and outcome["status_code"] is None
    assert "non-public" in outcome["error"] and "10.0.0.7" in outcome["error"]


def test_outbox_records_only_events_someone_subscribed_to(client, make_user):
    """A disabled webhook's events are kept too: they become skipped deliveries an admin can replay."""
    user = make_user()
    other = register_user(client)

    def stored(org_id):
        with session_scope() as session:
            return [
                e.type
                for e in session.scalars(select(WebhookEvent).where(WebhookEvent.organization_id == org_id))
            ]

    events.publish(user.org_id, "scan.completed", scan_id="s-1", summary={})
    assert stored(user.org_id) == []
    create(client, user, events=["scan.completed"])
    disabled = create(client, user, events=["scan.failed"], enabled=False).json
    assert disabled["enabled"] is False
    events.publish(user.org_id, "scan.progress", scan_id="s-1", progress=5, stage="walking")
    events.publish(user.org_id, "scan.failed", scan_id="s-1", error="x")
    events.publish(user.org_id, "scan.completed", scan_id="s-1", summary={"total_components": 3})
    events.publish(other.org_id, "scan.completed", scan_id="s-2", summary={})
    assert sorted(stored(user.org_id)) == ["scan.completed", "scan.failed"]
    assert stored(other.org_id) == []
    with session_scope() as session:
        body = json.loads(
            session.scalar(
                select(WebhookEvent.body).where(
                    WebhookEvent.organization_id == user.org_id, WebhookEvent.type == "scan.completed"
                )
            )
        )
    assert body["type"] == "scan.completed" and body["organization_id"] == user.org_id
    assert body["data"] == {"scan_id": "s-1", "summary": {"total_components": 3}}
    assert body["timestamp"].endswith("Z") and body["id"]


def test_test_send_holds_no_database_connection_while_it_waits_on_the_receiver(
    client, make_user, monkeypatch
):
    """The receiver may answer as slowly as the exchange's deadline allows: a connection held meanwhile
    (a transaction re-opened to read the webhook after the delivery's commit) lets slow receivers take
    the API's pool."""
    from common import webhooks as webhook_sending
    from web.core.database import db

    user = make_user()
    hook = create(client, user, url="https://hooks.example.com/slow").json
    during_send = []
    send = webhook_sending.send

    def observed_send(*args, **kwargs):
        during_send.append(db().in_transaction())
        return send(*args, **kwargs)

    monkeypatch.setattr(webhook_sending, "send", observed_send)
    response = client.post(f"{API}/{hook['id']}/test", headers=user.headers())
    assert response.status_code == 200, response.json
    assert during_send == [False]
