"""Scans an organization has queued or running: each a job on the ``scans`` queue every organization shares.

Before, ``POST /scans`` was bounded only by its rate limit (10 a minute), which counts per principal: a
user may hold many API keys and an organization many users, so one organization could fill the queue and
every other organization's scans waited behind it. Schedules added their runs with no bound but one scan
in flight each. Now an organization has at most ``SCANS_IN_FLIGHT_PER_ORG`` scans queued or running.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from common import jobs, scan_quota
from common.celery_client import celery_client, enqueue
from common.config import InsecureConfiguration, get_settings, load_settings
from common.db import session_scope
from common.models import AuditLog, Scan
from common.models.base import utcnow
from common.models.schedules import Schedule
from common.redis_client import get_redis
from common.tasks import SCAN_INGEST, SCAN_RUN
from tests.helpers import flooding_organization, register_user, wait_for, wait_for_scan
from workers import maintenance
from workers.schedules import SKIPPED_AT_ORGANIZATION_LIMIT, dispatch_due

API = "/api/v1"


@pytest.fixture
def limit(monkeypatch):
    def set_limit(in_flight: int) -> None:
        small = dataclasses.replace(get_settings(), scans_in_flight_per_org=in_flight)
        monkeypatch.setattr("web.api.scans.get_settings", lambda: small)
        monkeypatch.setattr("workers.schedules.get_settings", lambda: small)

    return set_limit


@pytest.fixture
def backlog(monkeypatch):
    """No worker drains the queue: every scan the API or a schedule creates stays queued."""
    monkeypatch.setattr("web.core.enqueueing.enqueue", lambda *_args, **_kwargs: "task-id")
    monkeypatch.setattr("workers.schedules.enqueue", lambda *_args, **_kwargs: None)


def _scan(client, headers: dict, target) -> object:
    return client.post(f"{API}/scans", json={"target": str(target)}, headers=headers)


def _count(*conditions) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).where(*conditions))


@pytest.mark.usefixtures("backlog")
def test_api_keys_and_members_cannot_queue_scans_past_the_organizations_limit(client, limit, scan_root):
    limit(3)
    admin, org_id, analyst, keys = flooding_organization(client, 4)
    admitted = [_scan(client, key, scan_root) for key in keys[:3]]
    assert [r.status_code for r in admitted] == [202, 202, 202]
    for headers in (keys[3], analyst.headers(org_id), admin.headers(org_id)):  # each its own rate window
        refused = _scan(client, headers, scan_root)
        assert refused.status_code == 429, refused.json
        assert (
            int(refused.headers["Retry-After"]) >= scan_quota.RETRY_AFTER_SECONDS
        )  # or the rate window's end
        assert "SCANS_IN_FLIGHT_PER_ORG" in refused.json["message"]
    # Nothing written for a refusal: neither a scan nor its audit entry.
    assert _count(Scan.organization_id == org_id) == 3
    assert _count(AuditLog.organization_id == org_id, AuditLog.action == "scan.create") == 3
    other = register_user(client)  # another organization is not held up
    assert _scan(client, other.headers(), scan_root).status_code == 202
    with session_scope() as session:  # a finished scan frees its slot
        session.get(Scan, admitted[0].json["id"]).status = "failed"
    assert _scan(client, keys[3], scan_root).status_code == 202


@pytest.mark.usefixtures("backlog")
def test_an_idempotent_replay_is_answered_even_at_the_limit(client, limit, scan_root):
    limit(1)
    user = register_user(client)
    headers = {**user.headers(), "Idempotency-Key": "build-42"}
    first = _scan(client, headers, scan_root)
    assert first.status_code == 202
    again = _scan(client, headers, scan_root)
    assert (again.status_code, again.json["id"]) == (202, first.json["id"])
    assert _scan(client, user.headers(), scan_root).status_code == 429


@pytest.mark.usefixtures("backlog")
def test_concurrent_requests_of_one_organization_are_held_near_the_limit(app, limit, scan_root):
    """The count is part of the insert and takes no lock (the hot path's price, ``common.scan_quota``):
    requests whose inserts run at the same moment may pass the limit together, by at most the number of
    them, and once their scans are stored every further request is refused."""
    limit(2)
    user = register_user(app.test_client())
    requests = 8  # with the one after them, within one principal's rate limit (10 a minute)
    start = threading.Barrier(requests)
    codes: list[int] = []

    def ask() -> None:
        with FlaskClient(app) as own_client:
            start.wait()
            codes.append(_scan(own_client, user.headers(), scan_root).status_code)

    threads = [threading.Thread(target=ask) for _ in range(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    admitted = codes.count(202)
    assert sorted(codes) == [202] * admitted + [429] * (requests - admitted)
    assert 2 <= admitted == _count(Scan.organization_id == user.org_id)
    assert _scan(app.test_client(), user.headers(), scan_root).status_code == 429


@pytest.mark.usefixtures("backlog")
def test_schedules_start_no_run_while_their_organization_is_at_the_limit(client, limit, scan_root):
    limit(2)
    with session_scope() as session:  # only this test's schedules are due
        session.execute(update(Schedule).values(enabled=False, next_run_at=None))
    user = register_user(client)
    assert _scan(client, user.headers(), scan_root).status_code == 202  # one slot taken over the API
    tick = datetime(2031, 3, 1, 8, 0, tzinfo=UTC)
    schedule_ids = []
    for number in range(3):
        body = {"name": f"s{number}", "target": str(scan_root), "cron": "* * * * *", "timezone": "UTC"}
        schedule_ids.append(client.post(f"{API}/schedules", json=body, headers=user.headers()).json["id"])
    with session_scope() as session:
        session.execute(update(Schedule).where(Schedule.id.in_(schedule_ids)).values(next_run_at=tick))
    started = dispatch_due(now=tick)
    assert len(started) == 1 and _count(Scan.organization_id == user.org_id) == 2
    shown = [client.get(f"{API}/schedules/{i}", headers=user.headers()).json for i in schedule_ids]
    assert sorted(s["last_error"] or "" for s in shown) == sorted(["", *[SKIPPED_AT_ORGANIZATION_LIMIT] * 2])


@pytest.mark.usefixtures("celery_worker")
def test_a_slot_is_free_again_once_the_worker_has_scanned(client, limit, scan_root):
    limit(1)
    (scan_root / "app.py").write_text("import openai\n")
    user = register_user(client)
    first = _scan(client, user.headers(), scan_root)
    assert first.status_code == 202
    scan_id = first.json["id"]

    def settled() -> bool:
        return client.get(f"{API}/scans/{scan_id}", headers=user.headers()).json["status"] in (
            "completed",
            "failed",
        )

    if not settled():  # a quick worker may have finished already
        assert _scan(client, user.headers(), scan_root).status_code == 429
    assert wait_for_scan(client, user, scan_id)["status"] == "completed"
    second = _scan(client, user.headers(), scan_root)
    assert second.status_code == 202
    wait_for(lambda: _count(Scan.id == second.json["id"], Scan.status == "completed"), timeout=60)


@pytest.mark.usefixtures("backlog")
def test_a_scan_whose_worker_vanished_holds_its_slot_only_until_the_reconciler_ends_it(
    client, limit, scan_root
):
    """A scan left running by a lost worker would keep its organization at the limit for ever; the
    reconciler fails it once its heartbeat is older than ``SCAN_STALE_MINUTES`` and its attempts are
    used up (before that it re-queues it, and the re-sent scan runs and ends)."""
    limit(1)
    user = register_user(client)
    stuck = _scan(client, user.headers(), scan_root).json["id"]
    long_ago = utcnow() - timedelta(minutes=get_settings().scan_stale_minutes + 1)
    with session_scope() as session:
        scan = session.get(Scan, stuck)
        scan.status, scan.started_at, scan.heartbeat_at = "running", long_ago, long_ago
        scan.attempts = jobs.MAX_ATTEMPTS
    assert _scan(client, user.headers(), scan_root).status_code == 429
    assert stuck in maintenance.reconcile_jobs()["failed"]
    assert _scan(client, user.headers(), scan_root).status_code == 202


@pytest.mark.usefixtures("backlog")
def test_a_scan_whose_task_never_starts_fails_after_its_resends_and_frees_its_slot(
    client, limit, scan_root, monkeypatch
):
    """Its message never arrives (no worker drains the queue): the reconciler re-sends it once per
    ``SCAN_STALE_MINUTES``. Before, it did so for ever and the scan kept its organization at the limit;
    now the ``jobs.MAX_RESENDS``-th unstarted re-send is the last, and the next pass fails it."""
    monkeypatch.setattr("workers.maintenance.enqueue", lambda *_args, **_kwargs: None)  # re-sends lost too
    limit(1)
    user = register_user(client)
    stuck = _scan(client, user.headers(), scan_root).json["id"]
    with session_scope() as session:
        session.get(Scan, stuck).created_at = utcnow() - timedelta(
            minutes=get_settings().scan_stale_minutes * (jobs.MAX_RESENDS + 2)
        )
    for _ in range(jobs.MAX_RESENDS):
        get_redis().delete(f"trusera:job-resent:{stuck}")  # as if a bound had passed since the last re-send
        outcome = maintenance.reconcile_jobs()
        assert stuck in outcome["requeued"] and stuck not in outcome["failed"]
        assert _scan(client, user.headers(), scan_root).status_code == 429
    get_redis().delete(f"trusera:job-resent:{stuck}")
    assert stuck in maintenance.reconcile_jobs()["failed"]
    shown = client.get(f"{API}/scans/{stuck}", headers=user.headers()).json
    assert shown["status"] == "failed" and shown["error"] == jobs.NEVER_STARTED_ERROR
    assert _scan(client, user.headers(), scan_root).status_code == 202


@pytest.mark.usefixtures("backlog")
def test_a_scan_that_started_counts_its_resends_again(client, limit, scan_root, monkeypatch):
    """A worker starting the job resets its count: only re-sends no worker answered add up."""
    monkeypatch.setattr("workers.maintenance.enqueue", lambda *_args, **_kwargs: None)
    limit(5)
    user = register_user(client)
    scan_id = _scan(client, user.headers(), scan_root).json["id"]
    with session_scope() as session:
        scan = session.get(Scan, scan_id)
        scan.resends = jobs.MAX_RESENDS
        jobs.start(scan)
        jobs.requeue(scan)
        scan.created_at = utcnow() - timedelta(minutes=get_settings().scan_stale_minutes + 1)
    get_redis().delete(f"trusera:job-resent:{scan_id}")
    outcome = maintenance.reconcile_jobs()
    assert scan_id in outcome["requeued"] and scan_id not in outcome["failed"]


@pytest.mark.usefixtures("backlog")
def test_a_scan_whose_message_waits_behind_a_backlog_is_neither_resent_nor_failed(
    client, limit, scan_root, monkeypatch
):
    """A scan queued behind a long backlog (one busy worker, a long scan ahead of it) looked to the
    reconciler like one whose message was lost: it was re-sent once per ``SCAN_STALE_MINUTES`` (a duplicate
    run each) and, after ``jobs.MAX_RESENDS`` of them, failed as "never started" while its first message
    was still in line. Now a job whose message is still in the broker (its queue, or prefetched by a busy
    worker in kombu's ``unacked``) is left alone; only another task's message naming it does not count."""
    monkeypatch.setattr("workers.maintenance.enqueue", lambda *_args, **_kwargs: None)  # re-sends lost
    line = f"test-backlog-{uuid.uuid4().hex}"  # a queue no worker of the session consumes
    monkeypatch.setattr("common.celery_client.queue_for", lambda _task_name: line)
    broker = redis.Redis.from_url(celery_client().conf.broker_url)
    limit(1)
    user = register_user(client)
    waiting = _scan(client, user.headers(), scan_root).json["id"]
    with session_scope() as session:
        scan = session.get(Scan, waiting)
        scan.resends = jobs.MAX_RESENDS - 1
        scan.created_at = utcnow() - timedelta(minutes=get_settings().scan_stale_minutes * 5)

    def reconciled() -> dict:
        get_redis().delete(f"trusera:job-resent:{waiting}")  # as if a bound had passed since the last look
        return maintenance.reconcile_jobs()

    try:
        enqueue(SCAN_INGEST, waiting)  # another task naming the scan: not its message
        assert waiting in reconciled()["requeued"]  # its last re-send (lost too)
        enqueue(SCAN_RUN, waiting)
        enqueue(SCAN_RUN, waiting)  # the second through the prepared message, as a busy API sends it
        for _ in range(2):
            outcome = reconciled()
            assert waiting not in outcome["failed"] and waiting not in outcome["requeued"]
        for raw in broker.lrange(line, 0, -1):  # a busy worker prefetched them: taken, not yet started
            broker.hset("unacked", f"tag-{uuid.uuid4().hex}", json.dumps([json.loads(raw), "", line]))
        broker.delete(line)
        outcome = reconciled()
        assert waiting not in outcome["failed"] and waiting not in outcome["requeued"]
    finally:
        broker.delete(line)
        for tag, raw in broker.hscan_iter("unacked"):
            if line.encode() in raw:
                broker.hdel("unacked", tag)
    assert waiting in reconciled()["failed"]  # nothing of it left in the broker: lost, and out of re-sends
    with session_scope() as session:
        assert session.get(Scan, waiting).error == jobs.NEVER_STARTED_ERROR


IMPORTED_BOM = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "version": 1,
    "components": [
        {"type": "library", "name": "openai", "version": "1.30.0", "purl": "pkg:pypi/openai@1.30.0"}
    ],
}


def _import(client, headers: dict):
    return client.post(f"{API}/scans/import", json=IMPORTED_BOM, headers=headers)


@pytest.mark.usefixtures("backlog")
def test_uploaded_results_cannot_queue_scans_past_the_organizations_limit(client, limit, scan_root):
    """``POST /scans/import`` creates a scan too (running, its ``ingest`` job on the queue every organization
    shares): it was not counted, so any number of API keys uploading kept an organization's scans in flight
    past the limit, and a full organization could still add to the queue."""
    limit(2)
    admin = register_user(client)
    org_id = admin.org_id
    keys = []
    for name in ("ci-1", "ci-2", "ci-3"):
        created = client.post(f"{API}/auth/api-key", json={"name": name}, headers=admin.headers())
        keys.append({"Authorization": f"Bearer {created.json['key']}"})
    assert [_import(client, key).status_code for key in keys[:2]] == [202, 202]
    refused = _import(client, keys[2])
    assert refused.status_code == 429, refused.json
    assert "SCANS_IN_FLIGHT_PER_ORG" in refused.json["message"]
    assert int(refused.headers["Retry-After"]) >= scan_quota.RETRY_AFTER_SECONDS
    assert (
        _scan(client, admin.headers(), scan_root).status_code == 429
    )  # uploads hold slots for POST /scans too
    # Nothing written for a refusal: neither a scan nor its audit entry.
    assert _count(Scan.organization_id == org_id) == 2
    assert _count(AuditLog.organization_id == org_id, AuditLog.action == "scan.import") == 2
    replay = _import(client, {**keys[0], "Idempotency-Key": "ci-run-7"})
    assert replay.status_code == 429  # a new upload, not a replay: refused as well
    with session_scope() as session:  # a finished scan frees its slot
        session.execute(update(Scan).where(Scan.organization_id == org_id).values(status="completed"))
    assert _import(client, keys[2]).status_code == 202


@pytest.mark.parametrize("setting", ["SCANS_IN_FLIGHT_PER_ORG", "EXPORTS_KEPT_PER_ORG"])
def test_a_negative_per_organization_bound_is_refused_at_start(monkeypatch, setting):
    """``SCANS_IN_FLIGHT_PER_ORG=-1`` reached the scan's ``INSERT`` as ``LIMIT -1``, which PostgreSQL rejects:
    every ``POST /scans`` answered 500 and every schedule dispatch failed (``EXPORTS_KEPT_PER_ORG=-1`` did
    the same to every export). A bound of 0 is a setting (nothing admitted); below it, none."""
    monkeypatch.setenv(setting, "-1")
    with pytest.raises(InsecureConfiguration, match=setting):
        load_settings()
    monkeypatch.setenv(setting, "0")
    assert getattr(load_settings(), setting.lower()) == 0
