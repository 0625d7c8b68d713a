"""Redis (broker, pub/sub, token blocklist) killed and restarted under a running stack.

The stack is the product's own processes — the compose ``api`` (gunicorn threads) and ``ws``
(gunicorn gevent) commands and Celery workers — pointed at a private redis-server without
persistence, so a restart loses every queued message, exactly the worst case.
"""

from __future__ import annotations

import ast
import contextlib
import json
import re
import threading
import time
from pathlib import Path

import pytest
import redis
import requests
import websocket
from celery import Celery

from common.events import channel_for
from common.tasks import QUEUES, RECONCILE_JOBS, SCAN_RUN
from tests.helpers import wait_for
from tests.ops.conftest import ApiUser, Stack, free_port, write_ai_project

KOMBU_BRPOP_TIMEOUT = 1  # kombu.transport.redis.Channel.brpop_timeout
STALE_SECONDS = 4  # the reconciler's bound for this stack (SCAN_STALE_MINUTES, in minutes, may be fractional)


def _big_tree(root: Path, files: int) -> Path:
    body = "import openai\n" + "".join(
        f"def handler_{i}(event):\n    return event * {i}\n" for i in range(60)
    )
    for index in range(files):
        folder = root / f"pkg{index % 40}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod_{index}.py").write_text(body)
    return root


def _keep_only(root: Path, files: int) -> None:
    for path in sorted(root.rglob("*.py"))[files:]:
        path.unlink()


@pytest.fixture(scope="module")
def stack(private_redis, private_database, tmp_path_factory):
    stack = Stack(
        tmp_path_factory.mktemp("redis-stack"),
        DATABASE_URL=private_database,
        REDIS_URL=private_redis.url,
        BROKER_URL=private_redis.url,
        SCAN_STALE_MINUTES=str(STALE_SECONDS / 60),
    )
    stack.ws_port = free_port()
    try:
        stack.start_api()
        stack.start_ws(stack.ws_port)
        # One scan at a time, so a second scan waits in the broker; everything else on a threads worker.
        stack.scans_worker = stack.start_worker("scans", ["scans"], pool="prefork", concurrency=1)
        stack.rest_worker = stack.start_worker(
            "rest", [q for q in QUEUES if q != "scans"], pool="threads", concurrency=4
        )
        stack.wait_http(f"{stack.api}/health")
        stack.wait_http(f"http://127.0.0.1:{stack.ws_port}/api/v1/health")
        stack.celery = Celery("ops-redis-test", broker=private_redis.url)
        yield stack
    finally:
        stack.stop()


def _answers(user: ApiUser, api_key: str, scan_id: str) -> list[tuple[str, int, dict]]:
    """Read the API as a JWT user and as an API key; every answer must be 200 or a clear 503."""
    seen = []
    for path in (f"/scans/{scan_id}", "/scans", f"/scans/{scan_id}/components"):
        for headers in (user.headers, {"Authorization": f"Bearer {api_key}"}):
            response = requests.get(f"{user.api}{path}", headers=headers, timeout=15)
            seen.append((path, response.status_code, response.json()))
    health = requests.get(f"{user.api}/health", timeout=15)
    seen.append(("/health", health.status_code, health.json()))
    return seen


def test_redis_restart_mid_scan(stack, private_redis, scan_root):
    user = ApiUser(stack.api)
    key = user.post("/auth/api-key", {"name": "ops"})
    assert key.status_code == 201, key.text
    api_key = key.json()["key"]

    long_scan = user.create_scan(_big_tree(scan_root / "big", 2500))
    waiting_scan = user.create_scan(write_ai_project(scan_root / "small", files=3))
    wait_for(lambda: user.scan(long_scan)["status"] == "running", timeout=30)
    assert user.scan(waiting_scan)["status"] == "queued"

    private_redis.kill()  # the queued scan's message and the running one's unacked copy are gone
    # The big tree was only there to be mid-scan now. Its rescan runs one at a time with the two small
    # scans, which fail once re-sent MAX_RESENDS times without starting (every STALE_SECONDS): a loaded
    # machine's rescan of 2,500 files outlasted that, and the scan waiting behind it failed.
    _keep_only(scan_root / "big", files=20)
    try:
        during = _answers(user, api_key, long_scan)
        # Work submitted during the outage is kept (the row is the truth) and sent once Redis is back.
        started = time.monotonic()
        submitted = requests.post(
            f"{stack.api}/scans",
            json={"target": str(write_ai_project(scan_root / "during", files=2))},
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=30,
        )
        submit_seconds = time.monotonic() - started
    finally:
        time.sleep(0.5)
        private_redis.start()
    assert submitted.status_code == 202, (submitted.status_code, submitted.text, stack.logs())
    assert submit_seconds < 10, submit_seconds
    during_scan = submitted.json()["id"]

    for path, status, body in during:
        assert status in (200, 503), (path, status, body, stack.logs())
        if status == 503 and path != "/health":  # /health has its own shape, naming the failed check
            assert body["code"] == 503 and body["message"], (path, body)
    by_key = [status for path, status, _ in during[1::2] if path != "/health"]
    assert by_key == [200, 200, 200], during  # API keys need no Redis: reads keep working
    jwt_refusals = [body for _path, status, body in during[0:6:2] if status == 503]
    assert all("unavailable" in body["message"].lower() for body in jwt_refusals), jwt_refusals
    _path, health_status, health = during[-1]
    assert health_status == 503 and health["checks"]["redis"] != "ok" and health["checks"]["database"] == "ok"

    # Beat's reconciler, every second instead of every five minutes: the bound is STALE_SECONDS.
    stop = threading.Event()

    def reconcile_periodically():
        while not stop.wait(1.0):
            with contextlib.suppress(Exception):  # the broker may still be coming back
                stack.celery.send_task(RECONCILE_JOBS, queue="maintenance")

    beat = threading.Thread(target=reconcile_periodically, daemon=True)
    beat.start()
    scans = (long_scan, waiting_scan, during_scan)
    try:
        finished = wait_for(
            lambda: (
                all(user.scan(s)["status"] in ("completed", "failed") for s in scans)
                and [user.scan(s) for s in scans]
            ),
            timeout=60,
            interval=0.5,
        )
    finally:
        stop.set()
        beat.join(timeout=5)
    long_result, waiting_result, during_result = finished
    # The scan whose message was lost in the queue, and the one accepted during the outage, complete.
    for result in (waiting_result, during_result):
        assert result["status"] == "completed", (result, stack.logs())
        assert user.get(f"/scans/{result['id']}/components").json()["total"] > 0
    # The scan that was running when the connection dropped (its worker cancels it, and its unacked
    # message died with Redis) is requeued by the reconciler once its heartbeat stops, and completes.
    assert long_result["status"] == "completed", (long_result, stack.logs())
    assert user.get(f"/scans/{long_scan}/components").json()["total"] > 0

    # The pipeline is whole again: a new scan goes through without any help.
    fresh = user.create_scan(write_ai_project(scan_root / "fresh"))
    result = wait_for(
        lambda: (scan := user.scan(fresh))["status"] in ("completed", "failed") and scan, timeout=30
    )
    assert result["status"] == "completed", (result, stack.logs())


def test_ws_relay_survives_redis_restart(stack, private_redis, scan_root):
    user = ApiUser(stack.api)
    socket = websocket.create_connection(
        f"ws://127.0.0.1:{stack.ws_port}/api/v1/ws?token={user.token}", timeout=10
    )
    try:
        assert json.loads(socket.recv())["type"] == "hello"
        publisher = redis.Redis.from_url(private_redis.url)

        def deliver(marker: str) -> bool:
            """Publish until the relay (re)subscribed and the client got the marker event."""
            event = {"type": "scan.progress", "organization_id": user.org_id, "seq": 0, "marker": marker}
            try:
                publisher.publish(channel_for(user.org_id), json.dumps(event))
            except redis.ConnectionError:
                return False
            socket.settimeout(0.5)
            try:
                while True:
                    if json.loads(socket.recv()).get("marker") == marker:
                        return True
            except websocket.WebSocketTimeoutException:
                return False

        wait_for(lambda: deliver("before"), timeout=10, interval=0)
        private_redis.kill()
        time.sleep(1.5)
        private_redis.start()
        wait_for(lambda: deliver("after"), timeout=20, interval=0)
        assert socket.connected

        # And real events from the product flow again: a scan sent now is relayed live.
        scan_id = user.create_scan(write_ai_project(scan_root))
        socket.settimeout(30)
        seen = set()
        deadline = time.monotonic() + 30
        while "scan.completed" not in seen and time.monotonic() < deadline:
            event = json.loads(socket.recv())
            if event.get("scan_id") == scan_id:
                seen.add(event["type"])
        assert {"scan.queued", "scan.started", "scan.completed"} <= seen, seen
    finally:
        socket.close()


def _reconcile_outcomes(stack: Stack, task_ids: list[str]) -> list[dict] | None:
    """What each of these reconciler runs returned, as its worker logged it; None until all have finished."""
    log = stack.rest_worker.log_path.read_text(errors="replace")
    outcomes = []
    for task_id in task_ids:
        finished = re.search(rf"{re.escape(RECONCILE_JOBS)}\[{task_id}\] succeeded in \S+: (.*)", log)
        if finished is None:
            return None
        outcomes.append(ast.literal_eval(finished.group(1)))
    return outcomes


def _reconciled(stack: Stack, runs: int) -> list[dict]:
    """Send ``runs`` reconciler runs and wait until every one has finished (a loaded machine's worker may
    take its time); what each returned."""
    task_ids = [stack.celery.send_task(RECONCILE_JOBS, queue="maintenance").id for _ in range(runs)]
    return wait_for(lambda: _reconcile_outcomes(stack, task_ids), timeout=120, interval=0.2)


def test_scan_message_lost_with_redis_is_resent_once(stack, private_redis, scan_root):
    """The reconciler re-sends a lost message once, not on every run: the runs after the one that re-sent
    it leave it alone while its message waits (within the bound the re-send is claimed, and past it the
    message is seen in the broker), however long a loaded machine takes to run them."""
    user = ApiUser(stack.api)
    scans = stack.celery
    inspector = redis.Redis.from_url(private_redis.url)
    # Pause the scans consumer so re-sent messages stay visible in the queue.
    worker = [stack.scans_worker.hostname]
    assert scans.control.cancel_consumer("scans", destination=worker, reply=True, timeout=5), stack.logs()
    # A BRPOP the consumer issued before the cancel still waits (kombu's 1 s timeout): a message it pops
    # goes back to the queue (no consumer), possibly after the delete below, and would look like a re-send.
    time.sleep(KOMBU_BRPOP_TIMEOUT + 0.5)
    try:
        scan_id = user.create_scan(write_ai_project(scan_root / "lost"))
        inspector.delete("scans")  # the broker lost the message
        time.sleep(STALE_SECONDS + 0.5)  # the scan is now older than the reconciler's bound
        [first] = _reconciled(stack, 1)
        assert scan_id in first["requeued"], (first, stack.logs())
        later = _reconciled(stack, 2)
        assert all(scan_id not in outcome["requeued"] for outcome in later), (later, stack.logs())
        messages = [json.loads(m) for m in inspector.lrange("scans", 0, -1)]
        # Every send has its own task id; a copy with the same id is the transport restoring a message a
        # cancelled consumer had fetched, not a second re-send.
        sends = {m["headers"]["id"] for m in messages if m["headers"]["task"] == SCAN_RUN}
        assert len(sends) == 1, messages
    finally:
        scans.control.add_consumer("scans", destination=worker, reply=True, timeout=5)
    result = wait_for(
        lambda: (scan := user.scan(scan_id))["status"] in ("completed", "failed") and scan, timeout=30
    )
    assert result["status"] == "completed", result
