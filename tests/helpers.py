"""Small helpers shared by API and pipeline tests."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy import event

from common.config import reset_settings

PASSWORD = "correct horse battery"


def metrics_headers() -> dict:
    """What the Prometheus scrape sends: the ``METRICS_TOKEN`` the tests' environment sets."""
    return {"Authorization": f"Bearer {os.environ['METRICS_TOKEN']}"}


@dataclass
class TestUser:
    __test__ = False

    id: str
    email: str
    token: str
    refresh_token: str
    org_id: str

    def headers(self, org_id: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"}
        if org_id:
            headers["X-Organization-Id"] = org_id
        return headers


STORED_TEXT_TYPES = ("text", "character varying", "json", "jsonb", "bytea", "ARRAY")


def all_stored_text() -> str:
    """Every text, JSON, array and binary value of every table, as one string to search for a secret
    (``bytea`` decoded: ``pg_dump`` would show it as hex, where a key is not found)."""
    from sqlalchemy import text

    from common.db import session_scope

    with session_scope() as session:
        columns = session.execute(
            text(
                "SELECT table_name, column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = 'public' AND data_type = ANY(:types)"
            ),
            {"types": list(STORED_TEXT_TYPES)},
        ).all()
        values = []
        for table, column, data_type in columns:
            value = f"encode(\"{column}\", 'escape')" if data_type == "bytea" else f'"{column}"::text'
            values.extend(
                session.scalars(text(f'SELECT {value} FROM "{table}" WHERE "{column}" IS NOT NULL'))
            )
    return "\n".join(values)


def register_user(client, *, name: str = "Tester") -> TestUser:
    email = f"user-{secrets.token_hex(6)}@example.com"
    response = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": name})
    assert response.status_code == 201, response.json
    body = response.json
    return TestUser(
        id=body["user"]["id"],
        email=email,
        token=body["access_token"],
        refresh_token=body["refresh_token"],
        org_id=body["user"]["personal_organization_id"],
    )


def flooding_organization(client, keys: int) -> tuple[TestUser, str, TestUser, list[dict]]:
    """An organization made by its admin, with an analyst member holding ``keys`` API keys: each key, the
    analyst and the admin have a rate-limit window of their own, which is how one organization multiplies
    a per-principal limit. (admin, organization id, analyst, each key's headers)."""
    admin = register_user(client)
    created = client.post("/api/v1/organizations", json={"name": "Flood"}, headers=admin.headers())
    org_id = created.json["id"]
    analyst = register_user(client)
    add_member(client, admin, org_id, analyst, "analyst")
    headers = []
    for number in range(1, keys + 1):
        key = client.post(
            "/api/v1/auth/api-key", json={"name": f"ci-{number}"}, headers=analyst.headers(org_id)
        )
        headers.append({"Authorization": f"Bearer {key.json['key']}"})
    return admin, org_id, analyst, headers


def add_member(client, admin: TestUser, org_id: str, member: TestUser, role: str) -> None:
    """Invite ``member`` as the admin, then accept the invitation as the member."""
    response = client.post(
        f"/api/v1/organizations/{org_id}/members",
        json={"email": member.email, "role": role},
        headers=admin.headers(),
    )
    assert response.status_code == 202, response.json
    invitations = client.get("/api/v1/auth/invitations", headers=member.headers()).json["items"]
    invitation = next(i for i in invitations if i["organization"]["id"] == org_id)
    accepted = client.post(
        f"/api/v1/auth/invitations/{invitation['id']}/accept",
        json={"code": response.json["invitation_code"]},
        headers=member.headers(),
    )
    assert accepted.status_code == 200, accepted.json


def running_scan(org_id: str, target: str = "/srv/posted") -> str:
    """A scan in the state its scanner posts the result from (running, scanning); its id."""
    from common.db import session_scope
    from common.models import Scan

    with session_scope() as session:
        scan = Scan(organization_id=org_id, target=target, status="running", stage="scanning")
        session.add(scan)
        session.flush()
        return scan.id


def post_result(client, scan_id: str, result: dict | bytes):
    """The scanner's ``POST /internal/scans/:id/result``: a dict as JSON, bytes as they are."""
    return client.post(
        f"/api/v1/internal/scans/{scan_id}/result",
        data=result if isinstance(result, bytes) else json.dumps(result).encode(),
        headers={"X-Internal-API-Key": os.environ["INTERNAL_API_KEY"], "Content-Type": "application/json"},
    )


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1):
    """Poll until ``predicate()`` returns a truthy value; fail with the last value otherwise."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {value!r})")


def wait_for_scan(client, user: TestUser, scan_id: str, timeout: float = 60.0) -> dict:
    def finished():
        scan = client.get(f"/api/v1/scans/{scan_id}", headers=user.headers()).json
        return scan if scan["status"] in ("completed", "failed") else None

    return wait_for(finished, timeout=timeout, interval=0.2)


def child_pids(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def descendant_pids(pid: int) -> list[int]:
    found = []
    for child in child_pids(pid):
        found += [child, *descendant_pids(child)]
    return found


@contextmanager
def separate_scans_worker(celery_worker, name: str, **environment: str) -> Iterator[subprocess.Popen]:
    """A prefork worker process of one pool process, with ``environment`` added to the test's, owns the
    scans queue in the block (the session's thread-pool worker scans nothing meanwhile): a scan there runs
    as in compose, on a pool process's main thread. Yields it once its pool process is up."""
    from workers.app import app as celery_app

    celery_app.control.cancel_consumer("scans", destination=[celery_worker.hostname], reply=True, timeout=5)
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "workers.app", "worker", "-Q", "scans"),
            *("--pool", "prefork", "--concurrency", "1", "-n", f"{name}@%h", "--loglevel", "WARNING"),
        ],
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, **environment},
    )
    try:
        wait_for(lambda: child_pids(worker.pid), timeout=30)
        yield worker
    finally:
        for pid in [*descendant_pids(worker.pid), worker.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        worker.wait(timeout=10)
        celery_app.control.add_consumer("scans", destination=[celery_worker.hostname], reply=True, timeout=5)


def npm_install(directory: Path, marker_package: str) -> None:
    """`npm ci` once per checkout for a test's Node tools; later sessions reuse node_modules."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node.js and npm are required for this test (scripts/ensure_services.sh installs them)")
    if not (directory / "node_modules" / marker_package).is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"],
            cwd=directory,
            check=True,
            capture_output=True,
            timeout=300,
        )


def scan_event_reader(live_server: str, user: TestUser, timeout: float = 60):
    """A WebSocket of ``user``'s organization, read in the background until a scan finishes.

    Returns (socket, hello, received events, an Event set on ``scan.completed``/``scan.failed``).
    """
    import websocket

    socket = websocket.create_connection(
        live_server.replace("http://", "ws://") + f"/api/v1/ws?token={user.token}", timeout=timeout
    )
    hello = json.loads(socket.recv())
    received: list[dict] = []
    done = threading.Event()

    def collect():
        while not done.is_set():
            try:
                event = json.loads(socket.recv())
            except Exception:
                return
            received.append(event)
            if event["type"] in ("scan.completed", "scan.failed"):
                done.set()

    threading.Thread(target=collect, daemon=True).start()
    return socket, hello, received, done


@contextmanager
def settings_from(monkeypatch, **environment: str) -> Iterator[None]:
    """The settings as read with these environment values, for the block; the earlier ones after it
    (settings are read once and cached, so each change is followed by ``reset_settings``)."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    try:
        yield
    finally:
        monkeypatch.undo()
        reset_settings()


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    """The SQL statements the engine sends while the block runs (pings and BEGIN/ROLLBACK are not)."""
    from common.db import get_engine

    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(get_engine(), "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(get_engine(), "before_cursor_execute", record)


@contextmanager
def redis_round_trips() -> Iterator[list[bytes]]:
    """What each round trip to Redis (a command, or a pipeline's commands) sent, from any client of this
    thread: a Celery worker a pipeline test started runs in threads of its own, with its own traffic."""
    sent: list[bytes] = []
    original, own_thread = redis.connection.AbstractConnection.send_packed_command, threading.current_thread()

    def send(connection, packed, *args, **kwargs):
        if threading.current_thread() is own_thread:
            sent.append(
                b"".join(bytes(part) for part in packed) if isinstance(packed, list) else bytes(packed)
            )
        return original(connection, packed, *args, **kwargs)

    redis.connection.AbstractConnection.send_packed_command = send
    try:
        yield sent
    finally:
        redis.connection.AbstractConnection.send_packed_command = original


def sqlite_migrator(database: Path, **environment: str):
    """``upgrade(revision)`` for a scratch SQLite database, as ``alembic upgrade`` runs it on a fresh
    machine (its own process, no test settings but ``environment``): migration tests load rows between two
    revisions."""
    return _migrator(f"sqlite:///{database}", environment)


def insert_organization(db) -> None:
    """Organization ``o`` as a migration finds it, through sqlite3 or psycopg."""
    personal, created_at = ("0", "'2026-12-06'") if type(db).__module__ == "sqlite3" else ("false", "now()")
    db.execute(
        "INSERT INTO organizations (id, name, slug, personal, audit_retention_days, created_at)"
        f" VALUES ('o', 'O', 'o', {personal}, 90, {created_at})"
    )


@contextmanager
def postgres_migrator(**environment: str) -> Iterator[tuple]:
    """``sqlite_migrator`` on a scratch PostgreSQL database, dropped afterwards, for a migration whose
    PostgreSQL path differs (JSONB): (``upgrade``, the database's psycopg URL)."""
    from tests.services import PG_ADMIN_URL

    name = f"trusera_migrate_{os.getpid()}_{secrets.token_hex(3)}"
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _migrator(url.replace("postgresql://", "postgresql+psycopg://"), environment), url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrator(database_url: str, environment: dict[str, str]):
    root = Path(__file__).resolve().parents[1]
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin", **environment}

    def upgrade(revision: str) -> None:
        command = [sys.executable, "-m", "alembic", "upgrade", revision]
        result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr

    return upgrade


PAUSE_SECONDS = 5


def paused_once(function, reached: threading.Event, resume: threading.Event):
    """``function``, whose first call signals ``reached`` and waits for ``resume`` first."""

    def paused(*args, **kwargs):
        if not reached.is_set():
            reached.set()
            assert resume.wait(PAUSE_SECONDS)
        return function(*args, **kwargs)

    return paused


def in_thread(target) -> tuple[threading.Thread, dict]:
    """``target`` run in a thread; the dict gets its ``result`` or its ``error`` once it ends."""
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = target()
        except BaseException as exc:  # reported by the test, not lost in the thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def waits_for_a_lock(statement_start: str) -> bool:
    """Whether a statement of this database that starts so waits for a lock (PostgreSQL)."""
    from sqlalchemy import func, select, text

    from common.db import session_scope

    with session_scope() as session:
        waiting = (
            select(func.count())
            .select_from(text("pg_stat_activity"))
            .where(
                text("datname = current_database() AND wait_event_type = 'Lock'"),
                text("query LIKE :start").bindparams(start=f"{statement_start}%"),
            )
        )
        return session.scalar(waiting) > 0
