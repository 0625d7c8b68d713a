"""One organization's slow webhook receivers do not hold every delivery worker.

The attacker is the admin of any organization (anyone may register and create one). They point a few
webhooks at a receiver of their own that answers each request just inside the timeout (a send may take
three times ``WEBHOOK_TIMEOUT_SECONDS``, 30 s by default, without failing, so the webhook is never
disabled) and raise an event now and then. The deliveries workers are shared by every organization
(16 threads in the compose file): before, one event fanned out to as many sends as the organization had
webhooks, each holding a thread, so 16 webhooks held them all and every other organization's deliveries
waited behind them. An organization now sends at most ``WEBHOOK_SENDS_PER_ORG`` at once; its further
deliveries wait their turn (sent later, not failed, no attempt counted).
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from common import events
from common.db import session_scope
from common.models.base import utcnow
from common.models.webhooks import WebhookDelivery
from common.org_slots import Slot
from common.tasks import WEBHOOK_DELIVER
from tests.helpers import register_user, wait_for
from tests.pipeline.test_task_idempotency import _pending_delivery
from tests.pipeline.test_webhook_delivery import create_webhook, history, settled
from tests.webhook_receiver import Receiver
from workers import webhooks as webhook_tasks
from workers.maintenance import reconcile_jobs

pytestmark = pytest.mark.usefixtures("celery_worker")

SLOW_WEBHOOKS = 4  # as many as the session's worker has threads


def test_an_organizations_slow_receivers_leave_workers_for_the_others(client, make_user, monkeypatch):
    monkeypatch.setenv("WEBHOOK_SENDS_PER_ORG", "2")
    attacker, victim = make_user(), make_user()
    answer = threading.Event()
    with Receiver([200], answer_when=answer) as tarpit, Receiver([200]) as victims_receiver:
        try:
            hooks = [
                create_webhook(client, attacker, tarpit, ["export.completed"]) for _ in range(SLOW_WEBHOOKS)
            ]
            victims_hook = create_webhook(client, victim, victims_receiver, ["export.completed"])
            events.publish(attacker.org_id, "export.completed", export_id="tarpit")
            wait_for(lambda: len(tarpit.requests) >= 2, timeout=30, interval=0.05)  # sent; answers held
            events.publish(victim.org_id, "export.completed", export_id="victim")
            wait_for(lambda: victims_receiver.requests, timeout=10, interval=0.05)
            assert len(tarpit.requests) == 2  # the attacker's other deliveries wait for their turn
        finally:
            answer.set()
        for hook in hooks:  # waiting was no failed attempt: each is sent once, as its first attempt
            wait_for(lambda hook=hook: settled(hook["id"], 1), timeout=60)
    assert len(tarpit.requests) == SLOW_WEBHOOKS
    assert [[attempt["attempt"] for attempt in history(client, attacker, hook["id"])] for hook in hooks] == [
        [1]
    ] * SLOW_WEBHOOKS
    assert victims_receiver.requests[0].json["data"] == {"export_id": "victim"}
    assert settled(victims_hook["id"], 1)


def test_a_delivery_waiting_its_turn_is_left_to_its_message_and_sent_once_a_slot_frees(client, monkeypatch):
    """Waiting is no attempt: the delivery stays pending, says when it looks again (so the reconciler does
    not send it a second message meanwhile), and is sent by the next look once its organization has room."""
    monkeypatch.setenv("WEBHOOK_SENDS_PER_ORG", "1")
    user = register_user(client)
    queued: list[tuple] = []
    monkeypatch.setattr(webhook_tasks, "enqueue", lambda *args, **kwargs: queued.append((args, kwargs)))
    sending = Slot("webhook-sends")  # a send of the organization in flight elsewhere
    with Receiver([200]) as receiver:
        delivery_id = _pending_delivery(client, user, receiver.url, created_at=utcnow() - timedelta(hours=2))
        assert sending.take(user.org_id, 1, 60)
        try:
            assert webhook_tasks.deliver(delivery_id, 1, 3) is None
            assert receiver.requests == []
            [(args, kwargs)] = queued
            assert args == (WEBHOOK_DELIVER, delivery_id, 1, 4) and 8 <= kwargs["countdown"] <= 10
            with session_scope() as session:
                delivery = session.get(WebhookDelivery, delivery_id)
                assert (delivery.status, delivery.attempts, delivery.sending_since) == ("pending", 0, None)
            assert delivery_id not in reconcile_jobs()["webhook_deliveries_resent"]
        finally:
            sending.release()
        assert webhook_tasks.deliver(delivery_id, 1, 4) == "succeeded"
    assert len(receiver.requests) == 1 and len(queued) == 1
