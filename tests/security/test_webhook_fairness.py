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

import pytest

from common import events
from tests.helpers import wait_for
from tests.pipeline.test_webhook_delivery import create_webhook, history, settled
from tests.webhook_receiver import Receiver

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
