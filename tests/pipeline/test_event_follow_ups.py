"""``EVENT_FOLLOW_UPS`` is the whole truth about follow-up work: walked event by event on the real path
(HTTP -> real worker -> events -> the tasks sent after them), and an event exists exactly when its state
change commits.
"""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest
from celery.signals import before_task_publish
from sqlalchemy import select

from common import events
from common.db import session_scope
from common.events import channel_for
from common.models import Scan
from common.models.compliance import EvaluationRun
from common.models.webhooks import WebhookEvent
from common.redis_client import get_redis
from common.tasks import DISPATCH_WEBHOOKS, EVENT_FOLLOW_UPS, WEBHOOK_DISPATCH
from common.webhooks import OUTBOX_EVENT_TYPES
from tests.helpers import wait_for, wait_for_scan
from tests.webhook_receiver import Receiver
from workers.base import PlatformTask

pytestmark = pytest.mark.usefixtures("celery_worker")

API = "/api/v1"
FOLLOW_UP_TASKS = {follow_up.task for follow_ups in EVENT_FOLLOW_UPS.values() for follow_up in follow_ups}
FAILING_POLICY = {
    "name": "No OpenAI",
    "action": "warn",
    "rules": [{"metric": "count(type=llm_provider, provider=OpenAI)", "operator": "gt", "value": 0}],
}


class SentTasks:
    """Every task message published in this process (the API, the test and the in-process worker)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple]] = []
        self._lock = threading.Lock()

    def __call__(self, sender=None, body=None, **_kwargs) -> None:
        args = body[0] if isinstance(body, (tuple, list)) else (body or {}).get("args", ())
        with self._lock:
            self.sent.append((sender, tuple(args)))

    def follow_ups_about(self, ids: set[str]) -> Counter:
        """``(task, argument)`` of every follow-up task sent about these ids, counted."""
        with self._lock:
            return Counter(
                (task, args[0]) for task, args in self.sent if task in FOLLOW_UP_TASKS and args[0] in ids
            )


@pytest.fixture
def sent_tasks():
    recorder = SentTasks()
    before_task_publish.connect(recorder, weak=False)
    try:
        yield recorder
    finally:
        before_task_publish.disconnect(recorder)


class Channel:
    """The organization's live events, as the WebSocket relays them."""

    def __init__(self, organization_id: str) -> None:
        self.pubsub = get_redis().pubsub()
        self.pubsub.subscribe(channel_for(organization_id))
        self.seen: list[dict] = []

    def drain(self) -> list[dict]:
        while (message := self.pubsub.get_message(timeout=0.05)) is not None:
            if message["type"] == "message":
                self.seen.append(json.loads(message["data"]))
        return self.seen


def _outbox(organization_id: str) -> dict[str, str]:
    with session_scope() as session:
        rows = session.execute(
            select(WebhookEvent.id, WebhookEvent.type).where(WebhookEvent.organization_id == organization_id)
        )
        return dict(rows.all())


def _declared(seen: list[dict], outbox: dict[str, str]) -> Counter:
    """What the table says must follow the events seen: ``(task, argument)``, once per event."""
    declared = Counter((WEBHOOK_DISPATCH, outbox_id) for outbox_id in outbox)
    for event in seen:
        for follow_up in EVENT_FOLLOW_UPS.get(event["type"], ()):
            if follow_up is not DISPATCH_WEBHOOKS:
                declared[(follow_up.task, event[follow_up.argument])] += 1
    return declared


def _running(model, **fields) -> str:
    with session_scope() as session:
        row = model(status="running", **fields)
        session.add(row)
        session.flush()
        return row.id


def test_every_event_is_followed_by_exactly_the_declared_tasks(client, make_user, scan_root, sent_tasks):
    user = make_user()
    with Receiver() as receiver:
        hook = client.post(
            f"{API}/webhooks",
            json={"url": receiver.url, "events": sorted(OUTBOX_EVENT_TYPES)},
            headers=user.headers(),
        )
        assert hook.status_code == 201, hook.json
        rule = client.post(
            f"{API}/alert-rules",
            json={"name": "any", "trigger": "severity_at_least", "params": {"severity": "info"}},
            headers=user.headers(),
        )
        assert rule.status_code == 201, rule.json
        policy = client.post(f"{API}/policies", json=FAILING_POLICY, headers=user.headers())
        assert policy.status_code == 201, policy.json
        channel = Channel(user.org_id)

        (scan_root / "app.py").write_text("import openai\n\nclient = openai.OpenAI()\n")
        created = client.post(f"{API}/scans", json={"target": str(scan_root)}, headers=user.headers())
        scan_id = created.json["id"]
        assert wait_for_scan(client, user, scan_id, timeout=90)["status"] == "completed"
        export = client.post(f"{API}/scans/{scan_id}/export", json={"format": "csv"}, headers=user.headers())
        assert export.status_code == 202, export.json
        # The failure side: a scan and an evaluation whose jobs end in failure.
        failed_scan = _running(Scan, organization_id=user.org_id, target=str(scan_root))
        PlatformTask.mark_failed(Scan, failed_scan, "the disk is on fire")
        failed_run = _running(EvaluationRun, organization_id=user.org_id, scan_id=scan_id, trigger="manual")
        PlatformTask.mark_failed(EvaluationRun, failed_run, "the rules could not load")

        def walked():
            seen, outbox = channel.drain(), _outbox(user.org_id)
            types = {event["type"] for event in seen}
            if not set(EVENT_FOLLOW_UPS) <= types:
                return None
            declared = _declared(seen, outbox)
            return declared <= sent_tasks.follow_ups_about({scan_id, failed_scan, *outbox}) and (seen, outbox)

        seen, outbox = wait_for(walked, timeout=90, interval=0.3)
        wait_for(lambda: len(receiver.requests) >= len(outbox), timeout=60)
        seen = channel.drain()

    ids = {scan_id, failed_scan, *outbox}
    assert sent_tasks.follow_ups_about(ids) == _declared(seen, outbox)
    # The outbox holds exactly the events the table sends to webhooks.
    to_webhooks = {e["type"] for e in seen if DISPATCH_WEBHOOKS in EVENT_FOLLOW_UPS.get(e["type"], ())}
    assert set(outbox.values()) == to_webhooks == set(OUTBOX_EVENT_TYPES)


def test_an_event_exists_exactly_when_its_change_commits(client, make_user, monkeypatch):
    user = make_user()
    with Receiver() as receiver:
        hook = client.post(
            f"{API}/webhooks", json={"url": receiver.url, "events": ["scan.failed"]}, headers=user.headers()
        )
    assert hook.status_code == 201, hook.json
    sent = []
    monkeypatch.setattr("common.celery_client.enqueue", lambda task, *args, **_kw: sent.append((task, args)))

    with pytest.raises(RuntimeError), session_scope() as session:
        events.record(session, user.org_id, "scan.failed", scan_id="rolled-back", error="x")
        raise RuntimeError("the change is abandoned")
    assert _outbox(user.org_id) == {} and sent == []

    with session_scope() as session:
        events.record(session, user.org_id, "scan.failed", scan_id="kept", error="x")
        assert sent == []  # nothing leaves before the commit
    [(outbox_id, event_type)] = _outbox(user.org_id).items()
    assert event_type == "scan.failed"
    assert sorted(sent) == [("alerts.evaluate_scan", ("kept",)), (WEBHOOK_DISPATCH, (outbox_id,))]
