"""The same code on RabbitMQ: the broker switched with ``BROKER_URL=amqp://…`` (Redis stays for pub/sub),
a scan runs end to end over HTTP, and queue depth is read from RabbitMQ itself.

The test owns a fresh virtual host, so its queues never meet another test session's.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess

import pytest
import requests
from celery import Celery

from common.tasks import QUEUES, RECONCILE_JOBS
from tests.helpers import metrics_headers, wait_for
from tests.ops.conftest import ApiUser, Stack, write_ai_project

AMQP_BASE = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672")
DEPTH = re.compile(r'^trusera_queue_depth\{queue="([a-z]+)"\} ([0-9.e+]+)$', re.MULTILINE)


def _rabbitmqctl(*args: str) -> None:
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    result = subprocess.run([*sudo, "rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"rabbitmqctl {' '.join(args)} failed: {result.stderr or result.stdout}"


@pytest.fixture(scope="module")
def vhost():
    name = f"trusera-test-{os.getpid()}-{secrets.token_hex(3)}"
    _rabbitmqctl("add_vhost", name)
    try:
        user = AMQP_BASE.split("//", 1)[1].split(":", 1)[0]
        _rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
        yield f"{AMQP_BASE}/{name}"
    finally:
        _rabbitmqctl("delete_vhost", name)


def _depths(api: str) -> dict[str, float]:
    text = requests.get(f"{api}/metrics", headers=metrics_headers(), timeout=15).text
    return {queue: float(value) for queue, value in DEPTH.findall(text)}


def test_scan_pipeline_on_rabbitmq(vhost, scan_root, tmp_path):
    stack = Stack(tmp_path, BROKER_URL=vhost)
    try:
        stack.start_api()
        # Two worker processes, as on two hosts: the scan worker and one for the rest of the pipeline.
        # Nothing consumes ``maintenance``: its depth must still be reported.
        stack.start_worker("scans", ["scans"], pool="prefork", concurrency=1)
        stack.start_worker("rest", [q for q in QUEUES if q not in ("scans", "maintenance")], pool="threads")
        stack.wait_http(f"{stack.api}/health")
        health = requests.get(f"{stack.api}/health", timeout=15).json()
        assert health["checks"] == {"database": "ok", "redis": "ok", "broker": "ok"}, health

        sender = Celery("ops-rabbitmq-test", config_source="celeryconfig")
        sender.conf.broker_url = vhost
        for _ in range(2):
            sender.send_task(RECONCILE_JOBS, queue="maintenance")
        sender.close()
        depths = _depths(stack.api)  # read from RabbitMQ: every queue, and what waits in each
        assert set(depths) == set(QUEUES) and depths["maintenance"] == 2, depths

        user = ApiUser(stack.api)
        scan_id = user.create_scan(write_ai_project(scan_root, files=3))
        result = wait_for(
            lambda: (scan := user.scan(scan_id))["status"] in ("completed", "failed") and scan, timeout=60
        )
        assert result["status"] == "completed", (result, stack.logs())
        components = user.get(f"/scans/{scan_id}/components").json()
        assert components["total"] > 0 and any(c["name"] for c in components["items"])
        assert result["summary"]["total_components"] == components["total"]
        drained = {**dict.fromkeys(QUEUES, 0.0), "maintenance": 2.0}
        wait_for(lambda: _depths(stack.api) == drained, timeout=20)
        assert f"amqp://guest:**@127.0.0.1:5672/{vhost.rsplit('/', 1)[1]}" in stack.logs()
    finally:
        stack.stop()
