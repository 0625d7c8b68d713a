"""``scan.queued`` from concurrent ``POST /scans`` of two organizations, one of whose task pipelines loses
its reply after Redis ran it: each organization's channel carries its own scans' events only, each
once, and each scan's task is on the queue under one id."""

from __future__ import annotations

import base64
import json
import secrets
import threading

import redis

import common.celery_client
from common import events
from common.celery_client import celery_client
from common.redis_client import get_redis
from common.tasks import SCAN_RUN, queue_for

SCANS_EACH = 4


def _task_ids_by_scan(queue: str) -> dict[str, set[str]]:
    broker = redis.Redis.from_url(celery_client().conf.broker_url)
    ids: dict[str, set[str]] = {}
    for message in broker.lrange(queue, 0, -1):
        scan_id = json.loads(base64.b64decode(json.loads(message)["body"]))[0][0]
        ids.setdefault(scan_id, set()).add(json.loads(message)["headers"]["id"])
    return ids


def test_concurrent_creates_publish_to_their_own_organization_once(app, make_user, scan_root, monkeypatch):
    queue = f"scans-{secrets.token_hex(4)}"
    monkeypatch.setattr(
        common.celery_client, "queue_for", lambda task: queue if task == SCAN_RUN else queue_for(task)
    )
    first, second = make_user(), make_user()
    (scan_root / "app.py").write_text("import openai\n")
    original, lost = redis.client.Pipeline.execute, []

    def reply_lost_once(self, *args, **kwargs):
        """The first of the first organization's pipelines that leads with its event: run, reply lost."""
        stack = list(self.command_stack)
        replies = original(self, *args, **kwargs)
        leads = bool(stack) and stack[0][0][0] == "EVAL" and events.channel_for(first.org_id) in stack[0][0]
        if leads and not lost:
            lost.append(replies)
            raise redis.ConnectionError("connection lost before the reply")
        return replies

    monkeypatch.setattr(redis.client.Pipeline, "execute", reply_lost_once)
    pubsub = get_redis().pubsub()
    pubsub.subscribe(events.channel_for(first.org_id), events.channel_for(second.org_id))
    for _ in range(2):
        pubsub.get_message(timeout=1)  # the subscriptions' confirmations
    created: dict[str, list[str]] = {first.org_id: [], second.org_id: []}

    def create(user) -> None:
        client = app.test_client()
        for _ in range(SCANS_EACH):
            answer = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers())
            assert answer.status_code == 202, answer.json
            created[user.org_id].append(answer.json["id"])

    try:
        threads = [threading.Thread(target=create, args=(user,)) for user in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        received: dict[str, list[dict]] = {first.org_id: [], second.org_id: []}
        while (message := pubsub.get_message(timeout=0.5)) is not None:
            if message["type"] == "message":
                channel = message["channel"]
                channel = channel.decode() if isinstance(channel, bytes) else channel
                owner = next(org for org in received if events.channel_for(org) == channel)
                received[owner].append(json.loads(message["data"]))
        assert lost, "no pipeline's reply was lost"
        for organization_id, scan_ids in created.items():
            queued = [event for event in received[organization_id] if event["type"] == "scan.queued"]
            assert sorted(event["scan_id"] for event in queued) == sorted(scan_ids)
            seqs = [event["seq"] for event in received[organization_id]]
            assert len(seqs) == len(set(seqs))
        tasks = _task_ids_by_scan(queue)
        assert set(tasks) == {*created[first.org_id], *created[second.org_id]}
        assert all(len(ids) == 1 for ids in tasks.values()), tasks
    finally:
        pubsub.close()
        broker = redis.Redis.from_url(celery_client().conf.broker_url)
        broker.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
