"""Queue operators' view: queue depth on ``/metrics`` for every queue, and Flower (with its basic
authentication, as docker-compose.yml runs it) showing the workers, the queues and the tasks."""

from __future__ import annotations

import importlib.util
import re
import secrets
import sys
from pathlib import Path

import pytest
import requests

from common.celery_client import celery_client, enqueue
from common.tasks import QUEUES, RECONCILE_JOBS
from tests.helpers import metrics_headers, wait_for, wait_for_scan
from tests.ops.conftest import Stack, compose_services, free_port, write_ai_project

ROOT = Path(__file__).resolve().parents[2]
DEPTH = re.compile(r'^trusera_queue_depth\{queue="([a-z]+)"\} ([0-9.e+]+)$', re.MULTILINE)


def _depths(client) -> dict[str, float]:
    response = client.get("/api/v1/metrics", headers=metrics_headers())
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {queue: float(value) for queue, value in DEPTH.findall(response.get_data(as_text=True))}


def test_queue_depth_is_exported_for_every_queue_even_without_a_worker(client):
    queue = "maintenance"
    control = celery_client().control
    control.cancel_consumer(queue, reply=True, timeout=1)  # whichever worker of this session consumes it
    try:
        before = _depths(client)
        assert set(before) == set(QUEUES), before  # every queue, also those nothing was ever sent to
        for _ in range(3):
            enqueue(RECONCILE_JOBS)
        after = _depths(client)
    finally:
        control.add_consumer(queue, reply=True, timeout=1)
    assert after[queue] - before[queue] == 3, (before, after)


def _run_local():
    spec = importlib.util.spec_from_file_location("run_local", ROOT / "scripts" / "run_local.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=["compose", "make run"])
def flower(request, tmp_path_factory):
    """Flower as docker-compose.yml runs it, and as ``FLOWER_PORT=… make run`` runs it."""
    user, password = "operator", secrets.token_urlsafe(12)
    port = free_port()
    stack = Stack(tmp_path_factory.mktemp("flower"), FLOWER_BASIC_AUTH=f"{user}:{password}")
    if request.param == "compose":
        # The compose service's own arguments and its FLOWER_BASIC_AUTH variable, on a loopback port.
        argv = [a for a in compose_services()["flower"]["command"] if not a.startswith(("--port", "--db"))]
        assert argv[:4] == ["celery", "-A", "workers.app", "flower"], argv
        argv = [sys.executable, "-m", *argv, f"--port={port}", "--address=127.0.0.1"]
    else:
        argv = _run_local().flower_command(str(port))
    stack.spawn("flower", [*argv, f"--db={stack.log_dir / 'flower.db'}"])
    base = f"http://127.0.0.1:{port}"
    try:
        stack.wait_http(f"{base}/healthcheck", timeout=30)
        yield base, (user, password), stack
    finally:
        stack.stop()


def test_flower_refuses_anonymous_and_wrong_credentials(flower):
    base, (user, _password), _stack = flower
    assert requests.get(f"{base}/api/workers", timeout=10).status_code == 401
    assert requests.get(f"{base}/api/workers", auth=(user, "wrong"), timeout=10).status_code == 401
    assert requests.get(f"{base}/", timeout=10).status_code == 401


def test_flower_lists_workers_queues_and_tasks(flower, client, make_user, scan_root, celery_worker):
    base, auth, stack = flower

    def get(path: str):
        response = requests.get(f"{base}{path}", auth=auth, timeout=15)
        assert response.status_code == 200, (path, response.status_code, response.text, stack.logs())
        return response.json()

    workers = wait_for(lambda: celery_worker.hostname in get("/api/workers?refresh=1"), timeout=30)
    assert workers
    queues = {q["name"] for q in get("/api/queues/length")["active_queues"]}
    assert set(QUEUES) <= queues, queues

    # Flower follows the event stream from the moment it connected; wait until it sees a task.
    def seen_reconcile():
        task_id = enqueue(RECONCILE_JOBS)
        return wait_for(lambda: get("/api/tasks?limit=500").get(task_id, {}).get("state") == "SUCCESS", 5)

    wait_for(lambda: _quietly(seen_reconcile), timeout=30, interval=0)

    user = make_user()
    scan_id = client.post(
        "/api/v1/scans", json={"target": str(write_ai_project(scan_root))}, headers=user.headers()
    ).json["id"]
    assert wait_for_scan(client, user, scan_id)["status"] == "completed"

    def families():
        tasks = get("/api/tasks?limit=500").values()
        done = {t["name"] for t in tasks if t["state"] == "SUCCESS" and scan_id in (t.get("args") or "")}
        return {"scans.run", "scans.ingest", "compliance.evaluate_scan"} <= done and tasks

    tasks = wait_for(families, timeout=30)
    for task in tasks:
        if task["name"] == "scans.run" and scan_id in task["args"]:
            assert task["worker"] == celery_worker.hostname
            assert task["runtime"] is not None and task["runtime"] >= 0


def _quietly(check) -> bool:
    try:
        return bool(check())
    except AssertionError:
        return False
