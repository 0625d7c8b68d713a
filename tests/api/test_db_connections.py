"""The connection pool without a ping per checkout, and GET requests that read outside a transaction.

A pooled connection is pinged only when it sat idle for a while or its socket shows the server spoke
(``common.db``): a connection that PostgreSQL terminated must still be replaced without the request
noticing. A GET's plain reads run in autocommit mode (no ``BEGIN``/``ROLLBACK`` round trips); its first
write, row lock or server-side cursor opens a real transaction, so atomicity is unchanged.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import event, func, insert, select

from common import db as db_module
from common.db import COMMITS_ALONE, get_engine, new_session, session_scope
from common.models import Organization, Scan
from common.models.base import new_id
from tests.helpers import wait_for

IDLE = psycopg.pq.TransactionStatus.IDLE
INTRANS = psycopg.pq.TransactionStatus.INTRANS


def _admin_url() -> str:
    return os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")


def _terminate_pooled_connections() -> list[int]:
    """PostgreSQL ends every other backend of the test database, as an administrator or a restart would."""
    others = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        pids = [pid for (pid,) in admin.execute(others)]
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

        def gone():
            alive = admin.execute("SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)).fetchall()
            return not alive

        wait_for(gone, timeout=10)
    return pids


@contextmanager
def transaction_states():
    """The driver's transaction status after each statement the engine runs, with the statement (read off
    the cursor: a ``plain_read`` on a connection of its own has no ``Connection`` to pass)."""
    states: list[tuple[object, str]] = []

    def record(_conn, cursor, statement, *_args):
        states.append((cursor.connection.info.transaction_status, statement))

    event.listen(get_engine(), "after_cursor_execute", record)
    try:
        yield states
    finally:
        event.remove(get_engine(), "after_cursor_execute", record)


@contextmanager
def counted_pings():
    dialect = get_engine().dialect
    pings: list[int] = []
    original = dialect.do_ping

    def ping(dbapi_connection):
        pings.append(1)
        return original(dbapi_connection)

    dialect.do_ping = ping
    try:
        yield pings
    finally:
        del dialect.do_ping


def test_connections_killed_by_postgresql_are_replaced_without_an_error(client, make_user):
    user = make_user()
    assert client.get("/api/v1/scans", headers=user.headers()).status_code == 200
    killed = _terminate_pooled_connections()
    assert killed, "the pool held no connection to kill"
    with counted_pings() as pings:
        listed = client.get("/api/v1/scans", headers=user.headers())
        created = client.post("/api/v1/auth/api-key", json={"name": "after-restart"}, headers=user.headers())
    assert listed.status_code == 200, listed.json
    assert created.status_code == 201, created.json
    assert pings, "the dead connection was not noticed before use"
    with psycopg.connect(_admin_url()) as admin:
        serving = {pid for (pid,) in admin.execute("SELECT pid FROM pg_stat_activity")}
    assert not serving & set(killed)


def test_a_recently_used_healthy_connection_is_not_pinged(client, make_user, monkeypatch):
    user = make_user()
    client.get("/api/v1/scans", headers=user.headers())
    monkeypatch.setattr(db_module, "IDLE_SECONDS_BEFORE_PING", 3600.0)
    with counted_pings() as pings:
        for _ in range(3):
            assert client.get("/api/v1/scans", headers=user.headers()).status_code == 200
    assert pings == []


def test_a_connection_idle_past_the_threshold_is_pinged(client, make_user, monkeypatch):
    user = make_user()
    client.get("/api/v1/scans", headers=user.headers())
    monkeypatch.setattr(db_module, "IDLE_SECONDS_BEFORE_PING", 0.0)
    time.sleep(0.01)
    with counted_pings() as pings:
        assert client.get("/api/v1/scans", headers=user.headers()).status_code == 200
    assert len(pings) == 1


def test_a_get_reads_outside_a_transaction_and_a_post_inside_one(client, make_user):
    user = make_user()
    client.get("/api/v1/scans", headers=user.headers())
    with transaction_states() as reading:
        assert client.get("/api/v1/scans", headers=user.headers()).status_code == 200
    assert reading and all(state == IDLE for state, _ in reading), reading
    with transaction_states() as writing:
        assert (
            client.post("/api/v1/auth/api-key", json={"name": "k"}, headers=user.headers()).status_code == 201
        )
    assert any(state == INTRANS for state, _ in writing), writing


def test_a_reading_session_opens_a_transaction_for_its_first_write_and_can_roll_it_back():
    session = new_session(reads_outside_transaction=True)
    try:
        before = session.scalar(select(func.count()).select_from(Organization))
        assert session.connection().connection.driver_connection.info.transaction_status == IDLE
        session.add(Organization(name="rolled back", slug="rolled-back-org"))
        session.flush()
        assert session.connection().connection.driver_connection.info.transaction_status == INTRANS
        session.add(Organization(name="also rolled back", slug="also-rolled-back-org"))
        session.flush()
        session.rollback()
        assert session.scalar(select(func.count()).select_from(Organization)) == before
    finally:
        session.close()


def test_a_row_lock_in_a_reading_session_is_held_until_the_end_of_its_transaction(make_user):
    user = make_user()
    with session_scope() as setup:
        scan = Scan(organization_id=user.org_id, target="/srv/lock", status="queued")
        setup.add(scan)
        setup.flush()
        scan_id = scan.id
    reader = new_session(reads_outside_transaction=True)
    try:
        assert reader.get(Scan, scan_id, with_for_update=True) is not None
        assert reader.connection().connection.driver_connection.info.transaction_status == INTRANS
        with (
            psycopg.connect(_admin_url(), autocommit=True) as other,
            pytest.raises(psycopg.errors.LockNotAvailable),
        ):
            other.execute("SELECT id FROM scans WHERE id = %s FOR UPDATE NOWAIT", (scan_id,))
    finally:
        reader.close()


@pytest.mark.parametrize("reads_outside_transaction", [True, False])
def test_a_connection_goes_back_to_the_pool_ready_for_transactions(reads_outside_transaction):
    reader = new_session(reads_outside_transaction=reads_outside_transaction)
    reader.scalar(select(func.count()).select_from(Organization))
    reader.close()
    writer = new_session()
    try:
        writer.scalar(select(func.count()).select_from(Organization))
        driver = writer.connection().connection.driver_connection
        assert driver.autocommit is False
        assert driver.info.transaction_status == INTRANS
    finally:
        writer.close()


def _new_organization(name: str):
    return insert(Organization).values(id=new_id(), name=name, slug=f"org-{new_id()}")


def test_a_statement_that_commits_alone_needs_no_transaction_in_a_reading_session():
    name = f"alone {new_id()}"
    session = new_session(reads_outside_transaction=True)
    try:
        session.scalar(select(func.count()).select_from(Organization))
        with transaction_states() as states:
            session.execute(_new_organization(name).execution_options(**{COMMITS_ALONE: True}))
        assert [state for state, _ in states] == [IDLE]  # autocommitted: no BEGIN before, nothing to COMMIT
        session.rollback()  # too late: it committed as its own transaction
    finally:
        session.close()
    with session_scope() as check:
        assert check.scalar(select(func.count()).where(Organization.name == name)) == 1


def test_a_statement_that_commits_alone_joins_a_transaction_already_open():
    opened, joined = f"opened {new_id()}", f"joined {new_id()}"
    session = new_session(reads_outside_transaction=True)
    try:
        session.scalar(select(func.count()).select_from(Organization))
        session.execute(_new_organization(opened))  # a write: the transaction opens
        with transaction_states() as states:
            session.execute(_new_organization(joined).execution_options(**{COMMITS_ALONE: True}))
        assert [state for state, _ in states] == [INTRANS]
        session.rollback()
    finally:
        session.close()
    with session_scope() as check:
        assert check.scalar(select(func.count()).where(Organization.name.in_((opened, joined)))) == 0


def test_the_pool_keeps_a_connection_for_each_of_32_concurrent_requests():
    """A burst of 32 concurrent sessions (one gevent API process under ``bench_api.py``'s load) returns
    every connection to the pool, so the next burst opens none: no PostgreSQL backend start per request."""
    opened: list[int] = []

    def count(*_args):
        opened.append(1)

    def burst() -> None:
        sessions = [new_session() for _ in range(32)]
        try:
            for session in sessions:
                session.scalar(select(1))
        finally:
            for session in sessions:
                session.close()

    burst()
    event.listen(get_engine(), "connect", count)
    try:
        burst()
    finally:
        event.remove(get_engine(), "connect", count)
    assert opened == []


def test_after_a_burst_a_slow_trickle_of_requests_reuses_one_warm_connection(client, make_user, monkeypatch):
    """The pool hands out the connection returned last: after a burst opened several, requests arriving one
    at a time keep to one of them, which is never idle long enough to be pinged (in turn, each pooled
    connection sat idle as long as the trickle took to go round all of them, and was pinged every time)."""
    user = make_user()
    burst = [get_engine().raw_connection() for _ in range(4)]
    for pooled in burst:
        pooled.close()
    monkeypatch.setattr(db_module, "IDLE_SECONDS_BEFORE_PING", 0.2)
    backends: set[int] = set()

    def note_backend(dbapi_connection, *_args):
        backends.add(dbapi_connection.info.backend_pid)

    event.listen(get_engine(), "checkout", note_backend)
    try:
        with counted_pings() as pings:
            for _ in range(4):
                time.sleep(0.1)
                assert client.get("/api/v1/scans", headers=user.headers()).status_code == 200
    finally:
        event.remove(get_engine(), "checkout", note_backend)
    assert len(backends) == 1 and pings == []


CHECKOUT_UNDER_GEVENT = """
from gevent import monkey

monkey.patch_all()
import greenlet

from common.db import get_engine

engine = get_engine()
with engine.connect():
    pass  # a pooled connection, checked in
switches = []
greenlet.settrace(lambda event, _args: switches.append(event))
with engine.connect():
    pass
greenlet.settrace(None)
print(len(switches))
"""


def test_a_pool_checkout_under_gevent_does_not_yield_to_other_requests():
    """In the API's gevent worker the checkout's look at the socket must not switch greenlets: gevent's
    patched ``select`` yields even with a zero timeout, and under load every checkout then waited for all
    other ready requests' CPU work (``bench_api.py``'s ``POST /scans`` at 32 connections)."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", CHECKOUT_UNDER_GEVENT],
        capture_output=True,
        text=True,
        env=os.environ,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "0", result.stdout


FD_SETSIZE = 1024  # what ``select`` accepts; a busy gevent worker's sockets go past it


@contextmanager
def descriptors_past_fd_setsize():
    """Enough descriptors held open that the next one the process opens is past ``FD_SETSIZE``, as in an
    API worker holding a thousand client connections (skipped where the limit forbids it)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = FD_SETSIZE + 64
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"at most {hard} open files here")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    held: list[int] = []
    try:
        while not held or held[-1] < FD_SETSIZE:
            held.append(os.open(os.devnull, os.O_RDONLY))
        yield
    finally:
        for descriptor in held:
            os.close(descriptor)
        if soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_connection_past_fd_setsize_is_pinged_only_once_the_server_spoke():
    """``select`` refuses a descriptor past ``FD_SETSIZE``, which the check took for a server that spoke:
    every checkout of such a connection was pinged. Its socket is looked at as any other's: quiet while
    the backend lives, and seen once PostgreSQL ends it."""
    with (
        descriptors_past_fd_setsize(),
        psycopg.connect(_admin_url(), autocommit=True) as connection,
    ):
        assert connection.pgconn.socket >= FD_SETSIZE
        connection.execute("SELECT 1").fetchall()
        assert not db_module._socket_has_data(connection)
        with psycopg.connect(_admin_url(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (connection.info.backend_pid,))
        wait_for(lambda: db_module._socket_has_data(connection), timeout=10)
