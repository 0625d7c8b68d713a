"""A worker's pool process SIGKILLed mid-scan: the scan is redelivered and completes exactly once."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
import redis

from common.db import session_scope
from common.events import channel_for
from common.models import Component, Scan
from tests.helpers import child_pids, descendant_pids, separate_scans_worker, wait_for, wait_for_scan


def _big_tree(root: Path, files: int) -> None:
    body = "import openai\n" + "".join(
        f"def handler_{i}(event):\n    return event * {i}\n" for i in range(60)
    )
    for index in range(files):
        folder = root / f"pkg{index % 50}"
        folder.mkdir(exist_ok=True)
        (folder / f"mod_{index}.py").write_text(body)


@pytest.fixture
def scans_only_worker(celery_worker):
    """A separate prefork worker process owns the scans queue for the duration of the test."""
    with separate_scans_worker(celery_worker, f"killtest-{os.getpid()}") as worker:
        yield worker


def test_sigkilled_pool_process_scan_completes_once(client, make_user, scan_root, scans_only_worker):
    user = make_user()
    _big_tree(scan_root, 6000)
    pubsub = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True).pubsub()
    pubsub.subscribe(channel_for(user.org_id))
    events: list[dict] = []
    stop = threading.Event()

    def listen():
        while not stop.is_set():
            message = pubsub.get_message(timeout=0.2)
            if message and message["type"] == "message":
                events.append(json.loads(message["data"]))

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    scan_id = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers()).json["id"]

    def running_pool_child():
        with session_scope() as session:
            if session.get(Scan, scan_id).status != "running":
                return None
        return child_pids(scans_only_worker.pid)

    pool_children = wait_for(running_pool_child, timeout=60, interval=0.05)

    def engine_workers():  # a loaded machine can take seconds to walk the tree and start them
        return [pid for child in pool_children for pid in descendant_pids(child)] or None

    doomed = wait_for(engine_workers, timeout=60, interval=0.05)
    for pid in pool_children:
        os.kill(pid, signal.SIGKILL)

    scan = wait_for_scan(client, user, scan_id, timeout=180)
    time.sleep(1)
    stop.set()
    listener.join(timeout=5)
    assert scan["status"] == "completed", scan
    with session_scope() as session:
        assert session.get(Scan, scan_id).attempts >= 2
        fingerprints = [f for (f,) in session.query(Component.fingerprint).filter_by(scan_id=scan_id)]
    assert fingerprints and len(fingerprints) == len(set(fingerprints))
    completed = [e for e in events if e["type"] == "scan.completed" and e["scan_id"] == scan_id]
    assert len(completed) == 1
    assert doomed, "the scan ran no engine workers to orphan"
    survivors = [pid for pid in doomed if Path(f"/proc/{pid}").exists()]
    assert not survivors, f"engine workers outlived their parent: {survivors}"
    assert scan["summary"]["files_scanned"] == 6000
