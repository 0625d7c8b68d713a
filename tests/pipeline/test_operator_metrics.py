"""What an operator's Prometheus scrapes, fed by the real worker: task duration histograms, retry, failure
and dead-letter counters, queue depth and oldest-message age, and jobs whose worker went silent."""

from __future__ import annotations

import itertools
import re
import time
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from common import events
from common.celery_client import celery_client
from common.db import session_scope
from common.models import Scan
from common.models.base import utcnow
from common.redis_client import get_redis
from tests.helpers import metrics_headers, wait_for, wait_for_scan
from tests.webhook_receiver import Receiver
from web.core.metrics import oldest_message_ages
from workers.webhooks import deliver

pytestmark = pytest.mark.usefixtures("celery_worker")


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/api/v1/metrics", headers=metrics_headers())
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_a_scan_feeds_the_task_duration_histogram(client, make_user, scan_root):
    user = make_user()
    (scan_root / "app.py").write_text("import anthropic\n")
    scan = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers()).json
    assert wait_for_scan(client, user, scan["id"])["status"] == "completed"
    samples = scrape(client)
    count = value(samples, "trusera_task_duration_seconds_count", task="scans.run")
    assert count and count >= 1
    buckets = sorted(
        (float(dict(labels)["le"]), v)
        for (name, labels), v in samples.items()
        if name == "trusera_task_duration_seconds_bucket" and dict(labels)["task"] == "scans.run"
    )
    assert buckets[-1] == (float("inf"), count)
    assert all(a[1] <= b[1] for a, b in itertools.pairwise(buckets))  # cumulative
    assert value(samples, "trusera_task_duration_seconds_sum", task="scans.run") > 0


def test_a_delivery_given_up_counts_as_a_dead_letter(client, make_user, monkeypatch):
    monkeypatch.setenv("WEBHOOK_MAX_ATTEMPTS", "1")
    user = make_user()
    before = value(scrape(client), "trusera_task_dead_letters_total", task="webhooks.deliver") or 0
    with Receiver([500]) as receiver:
        created = client.post(
            "/api/v1/webhooks", json={"url": receiver.url, "events": ["scan.failed"]}, headers=user.headers()
        )
        assert created.status_code == 201
        events.publish(user.org_id, "scan.failed", scan_id="s-metrics", error="boom")
        wait_for(lambda: receiver.requests, timeout=30)

    def given_up():
        path = f"/api/v1/webhooks/{created.json['id']}/deliveries?status=failed"
        return client.get(path, headers=user.headers()).json["items"]

    assert len(wait_for(given_up, timeout=15)) == 1  # our delivery, given up after its one attempt

    def counted():
        now = value(scrape(client), "trusera_task_dead_letters_total", task="webhooks.deliver") or 0
        return now if now >= before + 1 else None

    # at least ours: a delivery of an earlier test still retrying meets the same one-attempt limit in the
    # shared worker and may be given up in this window too
    assert wait_for(counted, timeout=15) >= before + 1


def test_retries_and_failures_are_counted_per_task(client):
    before = scrape(client)
    deliver.on_retry(None, "t-1", (), {}, None)
    deliver.push_request(retries=deliver.max_retries)
    try:
        deliver.on_failure(RuntimeError("gave up"), "t-2", (), {}, None)
    finally:
        deliver.pop_request()
    after = scrape(client)
    for metric in (
        "trusera_task_retries_total",
        "trusera_task_failures_total",
        "trusera_task_dead_letters_total",
    ):
        was = value(before, metric, task="webhooks.deliver") or 0
        assert value(after, metric, task="webhooks.deliver") == was + 1


def test_the_oldest_waiting_message_age_is_read_from_the_broker():
    probe_queue = f"metrics-probe-{int(time.time() * 1000)}"
    assert oldest_message_ages((probe_queue,)) == {probe_queue: 0.0}
    celery_client().send_task(
        "maintenance.metrics_probe", args=[], queue=probe_queue, routing_key=probe_queue
    )
    time.sleep(1.2)
    celery_client().send_task(
        "maintenance.metrics_probe", args=[], queue=probe_queue, routing_key=probe_queue
    )
    try:
        [age] = oldest_message_ages((probe_queue,)).values()
    finally:
        get_redis().delete(probe_queue)
    assert 1.0 <= age < 30  # the first message, not the newest


def test_a_running_job_whose_worker_went_silent_is_reported_stale(client, make_user):
    user = make_user()
    silent = Scan(
        organization_id=user.org_id,
        target="/srv/silent",
        status="running",
        started_at=utcnow() - timedelta(hours=3),
        heartbeat_at=utcnow() - timedelta(hours=2),
    )
    with session_scope() as session:
        session.add(silent)
    try:
        assert value(scrape(client), "trusera_stale_jobs", kind="scan") >= 1
    finally:
        with session_scope() as session:
            session.delete(session.get(Scan, silent.id))


def test_every_queue_reports_depth_and_age(client):
    text = client.get("/api/v1/metrics", headers=metrics_headers()).get_data(as_text=True)
    for queue in ("scans", "ingest", "compliance", "exports", "webhooks", "alerts", "maintenance"):
        assert re.search(rf'trusera_queue_oldest_message_age_seconds{{queue="{queue}"}} \d', text)
        assert f'trusera_queue_depth{{queue="{queue}"}}' in text
