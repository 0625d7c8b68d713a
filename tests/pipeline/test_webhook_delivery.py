"""Webhook deliveries through the real path: event → outbox → ``webhooks`` queue → real worker → receiver.

The receiver listens on loopback (allow-listed for tests) and verifies the signature of every request.
Retry delays are shortened through the same environment variables operators use.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from common import events, netguard
from common.celery_client import enqueue
from common.config import get_settings
from common.db import session_scope
from common.models.webhooks import Webhook, WebhookDelivery, WebhookEvent
from common.tasks import WEBHOOK_DELIVER, WEBHOOK_DISPATCH
from tests.helpers import wait_for, wait_for_scan
from tests.webhook_receiver import Receiver
from workers.maintenance import reconcile_jobs

pytestmark = pytest.mark.usefixtures("celery_worker")


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setenv("WEBHOOK_RETRY_BASE_SECONDS", "0.5")
    monkeypatch.setenv("WEBHOOK_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "5")


def create_webhook(client, user, receiver: Receiver, events_: list[str], url: str | None = None) -> dict:
    response = client.post(
        "/api/v1/webhooks", json={"url": url or receiver.url, "events": events_}, headers=user.headers()
    )
    assert response.status_code == 201, response.json
    receiver.secret = response.json["secret"]
    return response.json


def deliveries(webhook_id: str) -> list[WebhookDelivery]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.webhook_id == webhook_id)
                .order_by(WebhookDelivery.created_at)
            )
        )


def settled(webhook_id: str, count: int):
    """The webhook's deliveries once ``count`` of them have reached a final status."""
    done = [d for d in deliveries(webhook_id) if d.status in ("succeeded", "failed")]
    return done if len(done) >= count else None


def history(client, user, webhook_id: str) -> list[dict]:
    response = client.get(f"/api/v1/webhooks/{webhook_id}/deliveries?per_page=100", headers=user.headers())
    assert response.status_code == 200
    return list(reversed(response.json["items"]))  # oldest first


def test_scan_completed_is_retried_on_500_with_growing_delays(client, make_user, scan_root, fast_retries):
    user = make_user()
    (scan_root / "app.py").write_text("import openai\nclient = openai.OpenAI()\n")
    with Receiver([500, 500, 200]) as receiver:
        hook = create_webhook(client, user, receiver, ["scan.completed"])
        scan = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers()).json
        assert wait_for_scan(client, user, scan["id"])["status"] == "completed"
        [delivery] = wait_for(lambda: settled(hook["id"], 1), timeout=30)
    assert delivery.status == "succeeded" and delivery.attempts == 3
    assert len(receiver.requests) == 3 and all(r.verified for r in receiver.requests)
    assert {r.headers["webhook-id"] for r in receiver.requests} == {delivery.id}
    body = receiver.requests[-1].json
    assert body["type"] == "scan.completed" and body["data"]["scan_id"] == scan["id"]
    assert body["data"]["summary"]["total_components"] >= 1
    first_gap = receiver.requests[1].at - receiver.requests[0].at
    second_gap = receiver.requests[2].at - receiver.requests[1].at
    assert 0.5 <= first_gap < second_gap, (first_gap, second_gap)
    attempts = history(client, user, hook["id"])
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert [a["status_code"] for a in attempts] == [500, 500, 200]
    assert [a["success"] for a in attempts] == [False, False, True]
    assert attempts[0]["error"] == "HTTP 500" and attempts[2]["error"] is None
    assert (
        attempts[0]["next_retry_at"] and attempts[1]["next_retry_at"] and attempts[2]["next_retry_at"] is None
    )
    assert all(a["delivery_id"] == delivery.id and a["event_type"] == "scan.completed" for a in attempts)
    assert all(a["duration_ms"] >= 0 and '"received"' in a["response_excerpt"] for a in attempts)
    assert all(a["delivery_status"] == "succeeded" for a in attempts)


def test_retry_after_is_honoured_on_429(client, make_user, monkeypatch):
    monkeypatch.setenv("WEBHOOK_RETRY_BASE_SECONDS", "0.1")
    user = make_user()
    with Receiver([429, 200], extra_headers={429: {"Retry-After": "2"}}) as receiver:
        hook = create_webhook(client, user, receiver, ["export.completed"])
        events.publish(user.org_id, "export.completed", export_id=str(uuid.uuid4()))
        [delivery] = wait_for(lambda: settled(hook["id"], 1), timeout=30)
    assert delivery.status == "succeeded" and len(receiver.requests) == 2
    assert receiver.requests[1].at - receiver.requests[0].at >= 2.0
    assert all(r.verified for r in receiver.requests)


def test_an_endpoint_that_keeps_failing_is_disabled_then_its_missed_deliveries_are_replayed(
    client, make_user, monkeypatch
):
    monkeypatch.setenv("WEBHOOK_RETRY_BASE_SECONDS", "0.2")
    monkeypatch.setenv("WEBHOOK_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("WEBHOOK_DISABLE_AFTER_FAILURES", "2")
    user = make_user()
    started = datetime.now(UTC).isoformat()
    with Receiver([503]) as receiver:
        hook = create_webhook(client, user, receiver, ["export.completed"])
        for _ in range(2):
            events.publish(user.org_id, "export.completed", export_id=str(uuid.uuid4()))
        wait_for(lambda: settled(hook["id"], 2), timeout=30)
        shown = client.get(f"/api/v1/webhooks/{hook['id']}", headers=user.headers()).json
        assert shown["enabled"] is False and shown["consecutive_failures"] == 2
        assert "2 consecutive failed deliveries" in shown["disabled_reason"]
        assert "HTTP 503" in shown["disabled_reason"] and shown["disabled_at"]
        assert len(receiver.requests) == 4 and all(r.verified for r in receiver.requests)
        assert all(d.status == "failed" and d.attempts == 2 for d in deliveries(hook["id"]))
        # disabled: a later event is kept as a skipped delivery, and nothing is sent
        events.publish(user.org_id, "export.completed", export_id=str(uuid.uuid4()))
        [skipped] = wait_for(lambda: [d for d in deliveries(hook["id"]) if d.status == "skipped"], timeout=30)
        assert skipped.attempts == 0 and len(receiver.requests) == 4
        shown = client.get(
            f"/api/v1/webhooks/{hook['id']}/deliveries?status=skipped", headers=user.headers()
        ).json["items"]
        assert [(i["delivery_id"], i["attempt"]) for i in shown] == [(skipped.id, 0)]
        replay = {"since": started}
        refused = client.post(
            f"/api/v1/webhooks/{hook['id']}/deliveries/replay", json=replay, headers=user.headers()
        )
        assert refused.status_code == 409
        enabled = client.put(f"/api/v1/webhooks/{hook['id']}", json={"enabled": True}, headers=user.headers())
        assert enabled.json["enabled"] is True and enabled.json["disabled_reason"] is None
        receiver.statuses = [200]
        # the admin replays the window: both failed deliveries and the skipped one, each as its next attempt
        replayed = client.post(
            f"/api/v1/webhooks/{hook['id']}/deliveries/replay", json=replay, headers=user.headers()
        )
        assert replayed.status_code == 202 and replayed.json["replayed"] == 3, replayed.json
        assert replayed.headers["Location"].startswith(f"/api/v1/webhooks/{hook['id']}/deliveries")
        wait_for(lambda: settled(hook["id"], 3) if len(receiver.requests) >= 7 else None, timeout=30)
        again = client.post(
            f"/api/v1/webhooks/{hook['id']}/deliveries/replay", json=replay, headers=user.headers()
        )
        assert again.status_code == 202 and again.json["replayed"] == 0
    final = deliveries(hook["id"])
    assert [d.status for d in final] == ["succeeded"] * 3
    assert sorted(d.attempts for d in final) == [1, 3, 3]
    assert len(receiver.requests) == 7 and all(r.verified for r in receiver.requests)
    assert {r.headers["webhook-id"] for r in receiver.requests[4:]} == {d.id for d in final}


def _resolve_to_loopback(monkeypatch, name: str, after: float = 0.0) -> None:
    """``name`` resolves to 127.0.0.1 (after ``after`` seconds); every other name as it would."""
    real_resolve = netguard.resolve

    def resolve(host, port):
        if host == name:
            time.sleep(after)
            return [ipaddress.ip_address("127.0.0.1")]
        return real_resolve(host, port)

    monkeypatch.setattr(netguard, "resolve", resolve)


def test_a_name_resolving_to_a_private_address_is_refused_at_delivery_unless_allowlisted(
    client, make_user, monkeypatch, fast_retries
):
    _resolve_to_loopback(monkeypatch, "hooks.internal.test")
    # the tests' allow-list admits 127.0.0.1 itself; here only names may be allowed
    settings = get_settings()
    names_only = dataclasses.replace(settings, outbound_allowlist=["localhost"])
    monkeypatch.setattr(netguard, "get_settings", lambda: names_only)
    user = make_user()
    with Receiver([200]) as receiver:
        url = f"http://hooks.internal.test:{receiver.port}/hook"
        hook = create_webhook(client, user, receiver, ["export.completed"], url=url)
        events.publish(user.org_id, "export.completed", export_id="first")
        [refused] = wait_for(lambda: settled(hook["id"], 1), timeout=30)
        assert refused.status == "failed" and refused.attempts == 1 and receiver.requests == []
        [attempt] = history(client, user, hook["id"])
        assert "non-public" in attempt["error"] and attempt["status_code"] is None
        allowing = dataclasses.replace(settings, outbound_allowlist=["localhost", "hooks.internal.test"])
        monkeypatch.setattr(netguard, "get_settings", lambda: allowing)
        events.publish(user.org_id, "export.completed", export_id="second")
        wait_for(lambda: settled(hook["id"], 2), timeout=30)
    assert deliveries(hook["id"])[-1].status == "succeeded"
    [received] = receiver.requests
    # the connection went to the address that was checked, with the webhook's own Host header
    assert received.headers["Host"] == f"hooks.internal.test:{receiver.port}" and received.verified
    assert received.json["data"] == {"export_id": "second"}


def test_redelivered_messages_send_nothing_twice(client, make_user):
    user = make_user()
    with Receiver([200]) as receiver:
        hook = create_webhook(client, user, receiver, ["export.completed"])
        events.publish(user.org_id, "export.completed", export_id="once")
        [delivery] = wait_for(lambda: settled(hook["id"], 1), timeout=30)
        enqueue(WEBHOOK_DISPATCH, delivery.event_id)
        enqueue(WEBHOOK_DELIVER, delivery.id, 1)
        time.sleep(2)
    assert len(receiver.requests) == 1
    assert len(deliveries(hook["id"])) == 1 and len(history(client, user, hook["id"])) == 1


def test_one_event_fans_out_to_every_subscribed_enabled_webhook(client, make_user):
    user = make_user()
    with Receiver([200]) as first, Receiver([200]) as second, Receiver([200]) as unsubscribed:
        hooks = [
            create_webhook(client, user, first, ["scan.failed", "export.completed"]),
            create_webhook(client, user, second, ["export.completed"]),
            create_webhook(client, user, unsubscribed, ["scan.completed"]),
        ]
        events.publish(user.org_id, "export.completed", export_id="fan-out")
        for hook in hooks[:2]:
            wait_for(lambda hook=hook: settled(hook["id"], 1), timeout=30)
    assert len(first.requests) == len(second.requests) == 1 and unsubscribed.requests == []
    assert first.requests[0].verified and second.requests[0].verified
    assert first.requests[0].headers["webhook-id"] != second.requests[0].headers["webhook-id"]
    assert first.requests[0].json["id"] == second.requests[0].json["id"]  # one event, two deliveries
    with session_scope() as session:
        assert session.get(Webhook, hooks[2]["id"]).consecutive_failures == 0


def test_a_slow_dns_answer_ends_the_send_within_the_claim(client, make_user, monkeypatch):
    """The claim that keeps a second worker from sending the same attempt is sized on the send's deadline,
    but the host was resolved before that deadline started: a DNS answer slower than the claim's margin
    let another worker take the attempt over and send it twice. The lookup is now inside the deadline."""
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "0.3")  # a 0.9 s exchange deadline
    monkeypatch.setenv("WEBHOOK_MAX_ATTEMPTS", "1")
    _resolve_to_loopback(monkeypatch, "hooks.slowdns.test", after=3)  # answers after the claim lapsed
    user = make_user()
    with Receiver([200]) as receiver:
        url = f"http://hooks.slowdns.test:{receiver.port}/hook"
        hook = create_webhook(client, user, receiver, ["export.completed"], url=url)
        events.publish(user.org_id, "export.completed", export_id="slow-dns")
        [delivery] = wait_for(lambda: settled(hook["id"], 1), timeout=30)
        time.sleep(3)  # what the unbounded lookup would have sent by now
    assert delivery.status == "failed" and receiver.requests == []
    [attempt] = history(client, user, hook["id"])
    assert "did not resolve within" in attempt["error"]
    assert attempt["duration_ms"] < 3 * 300 + 500


def test_deliveries_left_waiting_with_no_message_are_sent_again_once(client, make_user):
    """A delivery whose message the broker refused (its first, a retry, or the "claim still live, look
    again later" one) stayed pending for ever: nothing but that message would send it. The jobs
    reconciler now re-sends such deliveries; one whose claim is still live is left to its sender."""
    user = make_user()
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    with Receiver([200]) as receiver:
        hook = create_webhook(client, user, receiver, ["export.completed"])
        ids = {}
        with session_scope() as session:
            for name, sending_since in (
                ("never-sent", None),
                ("lapsed-claim", long_ago),
                ("live-claim", datetime.now(UTC)),
            ):
                event = WebhookEvent(
                    organization_id=user.org_id,
                    type="export.completed",
                    body=json.dumps({"type": "export.completed", "data": {"export_id": name}}),
                )
                session.add(event)
                session.flush()
                delivery = WebhookDelivery(
                    webhook_id=hook["id"],
                    event_id=event.id,
                    event_type=event.type,
                    created_at=long_ago,
                    sending_since=sending_since,
                )
                session.add(delivery)
                session.flush()
                ids[name] = delivery.id
        first = reconcile_jobs()["webhook_deliveries_resent"]
        again = reconcile_jobs()["webhook_deliveries_resent"]
        assert {ids["never-sent"], ids["lapsed-claim"]} <= set(first) and ids["live-claim"] not in first
        assert not {*ids.values()} & set(again)  # once per bound, across maintenance workers
        wait_for(lambda: len(receiver.requests) >= 2, timeout=30)
        time.sleep(2)  # any second send would have come by now
    sent = sorted(r.headers["webhook-id"] for r in receiver.requests)
    assert sent == sorted([ids["never-sent"], ids["lapsed-claim"]])
    with session_scope() as session:
        statuses = {name: session.get(WebhookDelivery, i).status for name, i in ids.items()}
    assert statuses == {"never-sent": "succeeded", "lapsed-claim": "succeeded", "live-claim": "pending"}
