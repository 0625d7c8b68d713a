"""Concurrency under gevent is real: the database driver yields to the event loop, so one request stuck
on a slow query does not hold up the others in the same process.

The API runs exactly as ``make run`` serves it (gunicorn, one gevent worker process). A test transaction
locks the ``scans`` table, so ``GET /scans`` waits inside PostgreSQL; while it waits, requests that do
not touch that table must be answered at once. With a driver that blocked the process (a C-level wait
that gevent cannot switch away from), every one of them would wait for the lock too.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time

import psycopg
import requests

from tests.ops.conftest import ROOT, ApiUser, Stack


def make_run_api_command(port: int) -> list[str]:
    spec = importlib.util.spec_from_file_location("run_local", ROOT / "scripts" / "run_local.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    command = module.commands(str(port))["api"]
    return [sys.executable, "-m", "gunicorn", *command[1:]]


def test_a_request_waiting_on_a_slow_query_does_not_block_the_gevent_worker(tmp_path):
    stack = Stack(tmp_path, RATELIMIT_ENABLED="false")
    try:
        stack.spawn("api", make_run_api_command(stack.api_port))
        stack.wait_http(f"{stack.api}/health")
        user = ApiUser(stack.api)
        database_url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(database_url) as locker:
            locker.execute("LOCK TABLE scans IN ACCESS EXCLUSIVE MODE")
            slow: dict = {}

            def list_scans():
                started = time.perf_counter()
                slow["response"] = user.get("/scans")
                slow["seconds"] = time.perf_counter() - started

            waiting = threading.Thread(target=list_scans)
            waiting.start()
            time.sleep(1.0)  # the request is now parked on the lock, inside the one gevent process
            assert waiting.is_alive(), "GET /scans did not wait for the lock"
            quick = []
            for _ in range(5):
                started = time.perf_counter()
                response = user.get("/auth/me")
                quick.append(time.perf_counter() - started)
                assert response.status_code == 200
            health = requests.get(f"{stack.api}/health", timeout=10)
            assert health.status_code == 200
            assert waiting.is_alive(), "the slow request finished while the table was still locked"
            locker.rollback()  # release the lock
        waiting.join(timeout=30)
    finally:
        stack.stop()
    assert max(quick) < 2.0, f"requests waited behind the locked query: {quick}"
    assert slow["response"].status_code == 200 and slow["seconds"] >= 1.0
