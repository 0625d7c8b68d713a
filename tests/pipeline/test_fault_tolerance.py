"""A worker's pool process SIGKILLed mid-scan: the scan is redelivered and completes exactly once."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis

from common.db import session_scope
from common.events import channel_for
from common.models import Component, Scan
from tests.helpers import wait_for, wait_for_scan

ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _descendants(pid: int) -> list[int]:
    found = []
    for child in _children(pid):
        found += [child, *_descendants(child)]
    return found


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
    from workers.app import app as celery_app

    celery_app.control.cancel_consumer("scans", destination=[celery_worker.hostname], reply=True, timeout=5)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.app",
            "worker",
            "-Q",
            "scans",
            "--pool",
            "prefork",
            "--concurrency",
            "1",
            "-n",
            f"killtest-{os.getpid()}@%h",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    wait_for(lambda: _children(worker.pid), timeout=30)
    yield worker
    for pid in [*_descendants(worker.pid), worker.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    worker.wait(timeout=10)
    celery_app.control.add_consumer("scans", destination=[celery_worker.hostname], reply=True, timeout=5)


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
        return _children(scans_only_worker.pid)

    pool_children = wait_for(running_pool_child, timeout=60, interval=0.05)

    def engine_workers():  # a loaded machine can take seconds to walk the tree and start them
        return [pid for child in pool_children for pid in _descendants(child)] or None

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
