"""The services of the suites that need them: a private PostgreSQL database, a private Redis
database number, the API served on a real loopback port, and one real Celery worker for every
pipeline test.

A pytest plugin, loaded by ``use_services`` from the ``conftest.py`` of each suite that needs
services (never by ``tests/unit``). Importing it claims the Redis database and sets the
service environment, so it must be loaded before the suite's test modules import the application:
settings are read once per process.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_BASE = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
REDIS_LOCK_DB = 0
REDIS_TEST_DBS = range(1, 16)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _holder_is_gone(holder: bytes | None) -> bool:
    """A lock whose session was killed (so its teardown never released it) is free again. Process
    ids only mean something when Redis runs on this machine."""
    if holder is None:
        return True
    if urlsplit(REDIS_BASE).hostname not in ("127.0.0.1", "localhost"):
        return False
    try:
        os.kill(int(holder), 0)
    except ProcessLookupError:
        return True
    except (ValueError, PermissionError):
        return False
    return False


def _take_lock(locks: redis.Redis, key: str) -> bool:
    with locks.pipeline() as pipe:
        try:
            pipe.watch(key)
            if not _holder_is_gone(pipe.get(key)):
                return False
            pipe.multi()
            pipe.set(key, os.getpid(), ex=3 * 3600)
            pipe.execute()
        except redis.WatchError:  # another session took it in between
            return False
    return True


def _claim_redis_db() -> int:
    """Parallel test sessions on one machine each take their own Redis database number."""
    locks = redis.Redis.from_url(f"{REDIS_BASE}/{REDIS_LOCK_DB}")
    for number in REDIS_TEST_DBS:
        if _take_lock(locks, f"trusera:test-db-lock:{number}"):
            redis.Redis.from_url(f"{REDIS_BASE}/{number}").flushdb()
            return number
    raise RuntimeError("no free Redis database number for tests (all 15 are locked)")


TEST_DB_NAME = f"trusera_test_{os.getpid()}_{secrets.token_hex(3)}"
REDIS_DB = _claim_redis_db()
PORT = _free_port()
SCAN_ROOT = Path(tempfile.mkdtemp(prefix="trusera-scan-root-")).resolve()

os.environ.update(
    {
        "DATABASE_URL": PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        + f"/{TEST_DB_NAME}",
        "REDIS_URL": f"{REDIS_BASE}/{REDIS_DB}",
        "BROKER_URL": os.environ.get("TEST_BROKER_URL", f"{REDIS_BASE}/{REDIS_DB}"),
        "INTERNAL_API_URL": f"http://127.0.0.1:{PORT}/api/v1",
        "SCAN_ROOTS": str(SCAN_ROOT),
        "PORT": str(PORT),
    }
)


def _create_database() -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{TEST_DB_NAME}"')


def _drop_database() -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEST_DB_NAME}" WITH (FORCE)')


@pytest.fixture(scope="session", autouse=True)
def database():
    from alembic import command
    from alembic.config import Config

    _create_database()
    project_root = Path(__file__).resolve().parent.parent
    config = Config(str(project_root / "alembic.ini"))
    config.set_main_option("script_location", str(project_root / "migrations"))
    command.upgrade(config, "head")
    yield os.environ["DATABASE_URL"]
    from common.db import reset_engine

    reset_engine()
    _drop_database()
    redis.Redis.from_url(f"{REDIS_BASE}/{REDIS_DB}").flushdb()
    redis.Redis.from_url(f"{REDIS_BASE}/{REDIS_LOCK_DB}").delete(f"trusera:test-db-lock:{REDIS_DB}")


@pytest.fixture(scope="session")
def app(database):
    from web import create_app

    application = create_app()
    application.config["TESTING"] = True
    return application


@pytest.fixture(autouse=True)
def _fresh_rate_limits(request):
    """Each test starts with empty rate-limit windows (all test clients share 127.0.0.1)."""
    if "app" in request.fixturenames or "client" in request.fixturenames:
        from web.core.ratelimits import limiter

        with request.getfixturevalue("app").app_context():
            limiter.reset()
    yield


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(app):
    """The API on a real port: workers post results to it and WebSocket clients connect to it."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", PORT, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{PORT}"
    server.shutdown()


@pytest.fixture(scope="session")
def celery_worker(live_server):
    """One real worker consuming every queue, shared by all pipeline tests."""
    from celery.contrib.testing.worker import start_worker

    from common.tasks import QUEUES
    from workers.app import app as celery_app

    with start_worker(
        celery_app,
        pool="threads",
        concurrency=4,
        queues=list(QUEUES),
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=30,
    ) as worker:
        yield worker


# kombu's names for the sets that record a queue's declaration
BINDING, PERMANENT_BINDING = "_kombu.binding.", "_kombu.binding_permanent."


@pytest.fixture
def scan_queue(monkeypatch):
    """``scans.run`` routed to a queue of the test's own, which no worker consumes: once a pipeline test
    has started the session's worker, it consumes ``scans`` and runs a scan a test has just created (its
    status moves under the test's feet) or takes a task before the test reads it back."""
    import common.celery_client
    from common.celery_client import celery_client
    from common.tasks import SCAN_RUN, queue_for

    queue = f"scans-{secrets.token_hex(4)}"
    monkeypatch.setattr(
        common.celery_client,
        "queue_for",
        lambda task_name: queue if task_name == SCAN_RUN else queue_for(task_name),
    )
    yield queue
    broker = redis.Redis.from_url(celery_client().conf.broker_url)
    broker.delete(queue, f"{BINDING}{queue}", f"{PERMANENT_BINDING}{queue}")


@pytest.fixture
def held_ingest(monkeypatch):
    """The scan messages the test's own requests make the API send held back, their scan ids listed
    (``scans.ingest`` for results and uploads, ``scans.run`` for ``POST /scans``): a test reads the stored
    result before ingest deletes it, or runs the task itself, whether a worker is running or not.

    Only the test's thread is held (the test client runs its requests there): the session's worker may
    still be finishing an earlier test's scan, whose result it posts to ``live_server`` in a thread of its
    own. Held too, that scan's ``scans.ingest`` was lost and its id listed beside the test's."""
    from web.api import internal, scans

    held: list[str] = []
    test_thread = threading.current_thread()
    send_ingest, send_scan = internal.enqueue, scans.enqueue_or_leave_queued

    def hold_ingest(task_name, scan_id):
        if threading.current_thread() is not test_thread:
            return send_ingest(task_name, scan_id)
        held.append(scan_id)
        return None

    def hold_scan(scan, *args, **kwargs):
        if threading.current_thread() is not test_thread:
            return send_scan(scan, *args, **kwargs)
        held.append(scan.id)
        return None

    monkeypatch.setattr(internal, "enqueue", hold_ingest)
    monkeypatch.setattr(scans, "enqueue_or_leave_queued", hold_scan)
    return held


@pytest.fixture
def scan_root() -> Path:
    path = SCAN_ROOT / f"t-{secrets.token_hex(4)}"
    path.mkdir()
    return path


@pytest.fixture
def make_user(client):
    from tests.helpers import register_user

    return lambda **kwargs: register_user(client, **kwargs)


def use_services(config: pytest.Config) -> None:
    """Register this module as a plugin once per session, whichever suite asks first."""
    if not config.pluginmanager.has_plugin(__name__):
        config.pluginmanager.register(sys.modules[__name__], __name__)
