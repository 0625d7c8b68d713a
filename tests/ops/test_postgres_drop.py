"""PostgreSQL connections dropped under the running API (``pg_terminate_backend``, as a failover or an
administrator would): requests answer 503 with a clear body while the database refuses connections,
and the same process serves again as soon as it accepts them — no restart."""

from __future__ import annotations

import contextlib
import os
import threading
import time

import psycopg
import pytest

from tests.helpers import metrics_headers
from tests.services import PG_ADMIN_URL, TEST_DB_NAME


def _terminate_app_connections() -> int:
    """Terminate every backend of the test database, and return once they have exited: only then has
    each one sent its goodbye to its client (``pg_terminate_backend`` merely signals the backend), which
    is what a pooled connection's next checkout sees. A failover gives a pool far more than that."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        pids = [
            row[0]
            for row in admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (TEST_DB_NAME,),
            )
        ]
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 10
        while admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)).fetchone()[
            0
        ]:
            assert time.monotonic() < deadline, "terminated backends did not exit"
            time.sleep(0.01)
        return len(pids)


@contextlib.contextmanager
def _database_refusing_connections():
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{TEST_DB_NAME}" WITH ALLOW_CONNECTIONS false')
        try:
            _terminate_app_connections()
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{TEST_DB_NAME}" WITH ALLOW_CONNECTIONS true')


@pytest.fixture
def user_with_data(make_user, client):
    user = make_user()
    assert client.get("/api/v1/scans", headers=user.headers()).status_code == 200
    return user


def test_dropped_connections_are_replaced_on_the_next_request(client, user_with_data):
    assert os.environ["DATABASE_URL"].endswith(TEST_DB_NAME)
    assert _terminate_app_connections() >= 1  # the pool held at least one live connection
    for _ in range(3):  # every pooled connection is dead; pre-ping replaces each one
        response = client.get("/api/v1/scans", headers=user_with_data.headers())
        assert response.status_code == 200, response.json


def test_database_down_answers_503_then_recovers_in_process(client, user_with_data, scan_root):
    headers = user_with_data.headers()
    with _database_refusing_connections():
        for path in ("/api/v1/scans", "/api/v1/auth/me", "/api/v1/dashboard/overview"):
            response = client.get(path, headers=headers)
            assert response.status_code == 503, (path, response.status_code, response.json)
            body = response.json
            assert body["code"] == 503 and "database" in body["message"].lower(), body
        outside = client.post("/api/v1/scans", json={"target": "/nowhere"}, headers=headers)
        assert outside.status_code == 400  # the cached principal's scan roots refuse it without the database
        created = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=headers)
        assert created.status_code == 503 and created.json["code"] == 503, created.json
        login = client.post(
            "/api/v1/auth/login", json={"email": user_with_data.email, "password": "correct horse battery"}
        )
        assert login.status_code == 503 and login.json["code"] == 503, login.json
        health = client.get("/api/v1/health")
        assert health.status_code == 503 and health.json["checks"]["database"] != "ok", health.json
        metrics = client.get("/api/v1/metrics", headers=metrics_headers())
        assert metrics.status_code == 200 and b"trusera_queue_depth" in metrics.data
    # The same process, the same pool: the very next requests succeed.
    assert client.get("/api/v1/scans", headers=headers).status_code == 200
    assert client.get("/api/v1/health").json["checks"]["database"] == "ok"


def test_connection_killed_mid_request_is_503_not_500(client, user_with_data):
    """A backend terminated while a request waits on it: that request fails cleanly, the next one works."""
    test_db_url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{TEST_DB_NAME}"
    outcome: dict = {}

    def request_blocked_on_a_lock():
        outcome["response"] = client.get("/api/v1/scans", headers=user_with_data.headers())

    with psycopg.connect(test_db_url) as locker:
        locker.execute("LOCK TABLE scans IN ACCESS EXCLUSIVE MODE")
        thread = threading.Thread(target=request_blocked_on_a_lock)
        thread.start()

        def request_is_waiting():
            # pg_stat_activity is read once per transaction and the locker's stays open: clear its snapshot
            locker.execute("SELECT pg_stat_clear_snapshot()")
            row = locker.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
                (TEST_DB_NAME,),
            ).fetchone()
            return row[0] >= 1

        deadline = time.monotonic() + 10
        while not request_is_waiting():
            assert time.monotonic() < deadline, "the request never reached the database"
            time.sleep(0.05)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND wait_event_type = 'Lock'",
                (TEST_DB_NAME,),
            ).fetchone()[0]
        assert killed >= 1
        thread.join(timeout=10)
        locker.rollback()
    response = outcome["response"]
    assert response.status_code == 503, (response.status_code, response.json)
    assert response.json["code"] == 503 and "database" in response.json["message"].lower()
    assert client.get("/api/v1/scans", headers=user_with_data.headers()).status_code == 200
