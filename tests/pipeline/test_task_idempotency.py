"""Two deliveries of one message, run at the same time, record each side effect once.

A barrier holds both deliveries at the point where they would race (both evaluated, neither stored;
both past the lookup of the scan's automatic run, neither committed), against the real PostgreSQL.
Where a delivery would wait on a row lock instead of reaching the barrier, the barrier times out and
lets the other one through.
"""

from __future__ import annotations

import threading
import time
from contextlib import suppress
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from common import events, jobs, webhooks
from common.celery_client import enqueue
from common.db import session_scope
from common.models import AuditLog, Scan
from common.models.base import utcnow
from common.models.compliance import EvaluationRun
from common.models.webhooks import Webhook, WebhookDelivery, WebhookEvent
from common.tasks import AUDIT_CLEANUP, COMPLIANCE_EVALUATE_SCAN, SCAN_RUN, WEBHOOK_DELIVER
from tests.factories import component, make_scan
from tests.helpers import register_user, wait_for, wait_for_scan
from tests.webhook_receiver import Receiver
from workers import compliance, maintenance
from workers import webhooks as webhook_tasks
from workers.base import PlatformTask

API = "/api/v1"
OVERLAP_SECONDS = 3


def _meet(barrier: threading.Barrier) -> None:
    # Broken: the other delivery waits on a lock, which is the serialization under test.
    with suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=OVERLAP_SECONDS)


def _organization_with_failing_policy(client) -> tuple[str, object]:
    """An organization whose one policy fails on any component, and a (disabled) webhook that keeps
    each ``policy.violated`` in the outbox, so the recorded events can be counted in the database."""
    user = register_user(client)
    response = client.post(f"{API}/organizations", json={"name": "Twice"}, headers=user.headers())
    org_id = response.json["id"]
    body = {
        "name": "No components",
        "action": "warn",
        "rules": [{"condition": {"field": "type", "operator": "exists"}}],
    }
    response = client.post(f"{API}/policies", json=body, headers=user.headers(org_id))
    assert response.status_code == 201, response.json
    with session_scope() as session:
        session.add(
            Webhook(
                organization_id=org_id,
                url="https://hooks.example.com/twice",
                events=["policy.violated"],
                secret_encrypted="unused",
                enabled=False,
            )
        )
    return org_id, user


def _violations_recorded(org_id: str) -> int:
    with session_scope() as session:
        return session.scalar(
            select(func.count()).where(
                WebhookEvent.organization_id == org_id, WebhookEvent.type == "policy.violated"
            )
        )


def _scan(org_id: str) -> str:
    return make_scan(org_id, components=[component("model", "gpt-4o", provider="openai")])


@pytest.mark.usefixtures("celery_worker")
def test_a_redelivered_evaluation_running_beside_the_first_records_its_violation_once(client, monkeypatch):
    org_id, user = _organization_with_failing_policy(client)
    scan_id = _scan(org_id)
    barrier, stored = threading.Barrier(2), []
    evaluate, store = compliance._evaluate, compliance._store

    def evaluate_then_meet(inputs, job):
        result = evaluate(inputs, job)
        _meet(barrier)
        return result

    def store_and_count(*args):
        try:
            store(*args)
        finally:
            stored.append(args[0])

    monkeypatch.setattr(compliance, "_evaluate", evaluate_then_meet)
    monkeypatch.setattr(compliance, "_store", store_and_count)

    response = client.post(f"{API}/scans/{scan_id}/evaluate", headers=user.headers(org_id))
    assert response.status_code == 202, response.json
    run_id = response.json["id"]
    enqueue(COMPLIANCE_EVALUATE_SCAN, scan_id, run_id)  # the same message, delivered again

    wait_for(lambda: len(stored) == 2, timeout=60)
    with session_scope() as session:
        assert session.get(EvaluationRun, run_id).status == "completed"
    assert _violations_recorded(org_id) == 1


def test_two_deliveries_of_a_completed_scan_start_one_automatic_evaluation(client, monkeypatch):
    org_id, _user = _organization_with_failing_policy(client)
    scan_id = _scan(org_id)
    barrier = threading.Barrier(2)
    start = jobs.start

    def start_then_meet(row):
        event = start(row)
        if isinstance(row, EvaluationRun):
            _meet(barrier)
        return event

    monkeypatch.setattr(jobs, "start", start_then_meet)
    errors: list[BaseException] = []

    def deliver():
        try:
            compliance.evaluate_scan(scan_id)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []

    with session_scope() as session:
        runs = session.scalars(select(EvaluationRun).where(EvaluationRun.scan_id == scan_id)).all()
    assert [(run.trigger, run.status) for run in runs] == [("scan", "completed")]
    assert _violations_recorded(org_id) == 1

    compliance.evaluate_scan(scan_id)  # and once more, after both have ended
    with session_scope() as session:
        assert session.scalar(select(func.count()).where(EvaluationRun.scan_id == scan_id)) == 1
    assert _violations_recorded(org_id) == 1


@pytest.mark.usefixtures("celery_worker")
def test_two_deliveries_of_a_scan_at_once_announce_its_start_once(client, monkeypatch, scan_root):
    """The second delivery waits on the scan's row while the first starts it, then found it running and
    started it again, announcing ``scan.started`` a second time to every client and webhook."""
    (scan_root / "app.py").write_text("import openai\n")
    user = register_user(client)
    with session_scope() as session:  # keeps each ``scan.started`` in the outbox, where it is counted
        session.add(
            Webhook(
                organization_id=user.org_id,
                url="https://hooks.example.com/started",
                events=["scan.started"],
                secret_encrypted="unused",
                enabled=False,
            )
        )
    barrier, started = threading.Barrier(2), []
    start = jobs.start

    def start_then_meet(row):
        event = start(row)
        if isinstance(row, Scan):
            started.append(row.id)
            _meet(barrier)
        return event

    monkeypatch.setattr(jobs, "start", start_then_meet)
    response = client.post(f"{API}/scans", json={"target": str(scan_root)}, headers=user.headers())
    assert response.status_code == 202, response.json
    scan_id = response.json["id"]
    enqueue(SCAN_RUN, scan_id)  # the same message, delivered again
    wait_for(lambda: len(started) == 2, timeout=60)
    assert wait_for_scan(client, user, scan_id)["status"] == "completed"
    with session_scope() as session:
        announced = session.scalar(
            select(func.count()).where(
                WebhookEvent.organization_id == user.org_id, WebhookEvent.type == "scan.started"
            )
        )
    assert announced == 1


@pytest.mark.usefixtures("celery_worker")
def test_a_webhook_attempt_delivered_twice_at_once_is_sent_once(client, monkeypatch):
    user = register_user(client)
    barrier, sent = threading.Barrier(2), []
    send = webhooks.send

    with Receiver([200]) as receiver:

        def meet_then_send(url, *args, **kwargs):
            if url.startswith(receiver.url):  # not another test's delivery the shared worker retries now
                _meet(barrier)
                sent.append(args[1])
            return send(url, *args, **kwargs)

        monkeypatch.setattr(webhooks, "send", meet_then_send)
        webhook_id = _webhook_with_one_event(client, user, receiver.url)

        def first_delivery():
            with session_scope() as session:
                return session.scalar(
                    select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == webhook_id)
                )

        delivery_id = wait_for(first_delivery, timeout=30, interval=0.05)
        enqueue(WEBHOOK_DELIVER, delivery_id, 1)  # the same attempt's message, delivered again
        wait_for(lambda: sent, timeout=30)
        with session_scope() as session:
            wait_for(
                lambda: session.get(WebhookDelivery, delivery_id, populate_existing=True).attempts, timeout=30
            )
        time.sleep(OVERLAP_SECONDS)  # whatever a second send would take to reach the receiver
    assert sent == [delivery_id]
    assert len(receiver.requests) == 1


@pytest.mark.usefixtures("celery_worker")
def test_an_audit_cleanup_delivered_twice_at_once_reports_what_it_deleted(client, monkeypatch):
    user = register_user(client)
    now = utcnow()
    with session_scope() as session:
        session.add_all(
            AuditLog(organization_id=user.org_id, action="test.old", created_at=now - timedelta(days=days))
            for days in (100, 200, 300)
        )
    barrier, deleting = threading.Barrier(2), []
    delete_entries = maintenance._delete_entries

    def meet_then_delete(*args):
        deleting.append(1)
        _meet(barrier)
        return delete_entries(*args)

    monkeypatch.setattr(maintenance, "_delete_entries", meet_then_delete)
    response = client.delete(f"{API}/audit-log/cleanup", headers=user.headers())
    assert response.status_code == 202, response.json
    job_id = response.json["id"]
    enqueue(AUDIT_CLEANUP, job_id)  # the same message, delivered again
    wait_for(lambda: deleting, timeout=30)
    time.sleep(OVERLAP_SECONDS + 1)  # the second delivery, waiting on the job's row, has its turn

    def finished():
        job = client.get(response.headers["Location"], headers=user.headers()).json
        return job if job["status"] == "completed" else None

    assert wait_for(finished, timeout=30)["deleted"] == 3


def _webhook_with_one_event(client, user, url: str) -> str:
    """A webhook for ``policy.violated`` at ``url``, and one such event published: one delivery to send."""
    response = client.post(
        f"{API}/webhooks", json={"url": url, "events": ["policy.violated"]}, headers=user.headers()
    )
    assert response.status_code == 201, response.json
    events.publish(user.org_id, "policy.violated", scan_id="s", policy_id="p", name="n", action="warn")
    return response.json["id"]


def _waiting_on_a_lock(statement: str) -> int:
    with session_scope() as session:
        return session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND query LIKE :prefix"
            ),
            {"prefix": f"{statement}%"},
        )


def _transactions_held_on_webhooks() -> int:
    """Connections idle inside a transaction whose last statement read or locked a webhook's rows."""
    with session_scope() as session:
        return session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state LIKE 'idle in transaction%' AND query ILIKE '%webhook%'"
            )
        )


@pytest.mark.usefixtures("celery_worker")
def test_a_slow_receiver_holds_no_transaction_and_its_webhook_may_be_deleted_meanwhile(client, monkeypatch):
    """The attempt held its delivery's row, and a connection, for the whole send: a receiver answering
    slowly (up to the timeout) kept a transaction open, many of them took the pool, and a deletion of the
    webhook waited for the answer. Now the send runs between two short transactions: the deletion is
    answered during it, and the outcome, with nothing left to record it on, is dropped quietly."""
    user = register_user(client)
    answer, recorded, retried = threading.Event(), [], []
    record, retry_later = webhook_tasks._record, PlatformTask.retry_later

    def record_and_note(*args, **kwargs):
        recorded.append(record(*args, **kwargs))
        return recorded[-1]

    def note_retry(self, exc):
        retried.append(exc)
        return retry_later(self, exc)

    monkeypatch.setattr(webhook_tasks, "_record", record_and_note)
    monkeypatch.setattr(PlatformTask, "retry_later", note_retry)
    with Receiver([200], answer_when=answer) as receiver:
        try:
            webhook_id = _webhook_with_one_event(client, user, receiver.url)
            wait_for(lambda: receiver.requests, timeout=30, interval=0.05)  # sent; the answer waits
            time.sleep(0.5)  # whatever the worker would still do before the answer
            assert _transactions_held_on_webhooks() == 0
            deleted = []
            deleting = threading.Thread(
                target=lambda: deleted.append(
                    client.delete(f"{API}/webhooks/{webhook_id}", headers=user.headers())
                )
            )
            deleting.start()
            deleting.join(timeout=10)  # answered while the receiver still holds its answer back
            assert not deleting.is_alive() and deleted[0].status_code == 204, deleted
        finally:
            answer.set()
        wait_for(lambda: recorded or retried, timeout=30)
    assert recorded == [None] and not retried, retried
    assert len(receiver.requests) == 1
    with session_scope() as session:
        assert session.get(Webhook, webhook_id) is None


def _pending_delivery(client, user, url: str, **columns) -> str:
    """A webhook at ``url`` and one delivery of it awaiting attempt 1, with ``columns`` set; written
    directly, so that no worker of the session dispatches it."""
    response = client.post(
        f"{API}/webhooks", json={"url": url, "events": ["policy.violated"]}, headers=user.headers()
    )
    assert response.status_code == 201, response.json
    with session_scope() as session:
        event = WebhookEvent(organization_id=user.org_id, type="policy.violated", body='{"type": "x"}')
        session.add(event)
        session.flush()
        delivery = WebhookDelivery(
            webhook_id=response.json["id"], event_id=event.id, event_type=event.type, **columns
        )
        session.add(delivery)
        session.flush()
        return delivery.id


def test_an_attempt_claimed_by_a_delivery_still_sending_is_looked_at_again_once_the_claim_lapses(
    client, monkeypatch
):
    user = register_user(client)
    queued: list[tuple] = []
    monkeypatch.setattr(webhook_tasks, "enqueue", lambda *args, **kwargs: queued.append((args, kwargs)))
    with Receiver([200]) as receiver:
        delivery_id = _pending_delivery(client, user, receiver.url, sending_since=utcnow())
        assert webhook_tasks.deliver(delivery_id, 1) is None
        assert receiver.requests == []
        lapse = webhook_tasks.claim_lapses_after(webhooks.RetryPolicy.from_env()).total_seconds()
        ((args, kwargs),) = queued
        assert args == (WEBHOOK_DELIVER, delivery_id, 1) and 0 < kwargs["countdown"] <= lapse


def test_an_attempt_whose_worker_was_lost_mid_send_is_sent_again_once_its_claim_lapsed(client, monkeypatch):
    user = register_user(client)
    monkeypatch.setattr(webhook_tasks, "enqueue", lambda *args, **kwargs: None)
    lapse = webhook_tasks.claim_lapses_after(webhooks.RetryPolicy.from_env())
    with Receiver([200]) as receiver:
        delivery_id = _pending_delivery(
            client, user, receiver.url, sending_since=utcnow() - lapse - timedelta(seconds=1)
        )
        assert webhook_tasks.deliver(delivery_id, 1) == "succeeded"
    assert len(receiver.requests) == 1
    with session_scope() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        assert (delivery.attempts, delivery.sending_since) == (1, None)


@pytest.mark.usefixtures("celery_worker")
def test_an_export_asked_for_while_its_scan_results_are_stored_waits_without_deadlock(client, monkeypatch):
    """The export's quota holds the organization's row, then its insert key-shares the scan's row; the
    evaluation's store holds the scan's row, then its inserts key-share the organization's. A lock that
    key-share conflicts with (``FOR UPDATE``) on either row deadlocked these two (PostgreSQL's log, the
    exports pipeline's 503); with ``FOR NO KEY UPDATE`` on both, neither waits for the other."""
    org_id, user = _organization_with_failing_policy(client)
    scan_id = _scan(org_id)
    storing, proceed, stored = threading.Event(), threading.Event(), []
    live, store = compliance._live, compliance._store

    def live_when_told(*args):
        storing.set()
        proceed.wait(timeout=30)
        return live(*args)

    def store_and_note(*args):
        store(*args)
        stored.append(args[0])

    monkeypatch.setattr(compliance, "_live", live_when_told)
    monkeypatch.setattr(compliance, "_store", store_and_note)
    response = client.post(f"{API}/scans/{scan_id}/evaluate", headers=user.headers(org_id))
    assert response.status_code == 202, response.json
    assert storing.wait(timeout=30)
    exported = []
    exporting = threading.Thread(
        target=lambda: exported.append(
            client.post(f"{API}/scans/{scan_id}/export", json={"format": "csv"}, headers=user.headers(org_id))
        )
    )
    exporting.start()
    try:
        exporting.join(timeout=30)  # answered while the store still holds the scan's row
        assert not exporting.is_alive()
    finally:
        proceed.set()
        exporting.join(timeout=60)
    assert exported[0].status_code == 202, exported[0].json
    assert wait_for(lambda: stored, timeout=30) == [response.json["id"]]
