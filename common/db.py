"""Engine and sessions shared by the API and the workers.

Engines are created lazily per process (and disposed after fork) so that a
Celery prefork child never reuses its parent's sockets.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import select as io_select
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import JSON, BindParameter, Select, Table, bindparam, create_engine, event, exc
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.dml import UpdateBase

from common import fastjson
from common.config import DB_POOL_OVERFLOW, DB_POOL_SIZE, get_settings

JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    pass


# A pooled connection that sat unused longer than this is pinged before use; a younger one only when
# its socket has something to read (the server's goodbye when it terminated the backend or restarted).
IDLE_SECONDS_BEFORE_PING = 5.0
POOL_SIZE = DB_POOL_SIZE
POOL_OVERFLOW = DB_POOL_OVERFLOW
# Execution option of one statement that is a whole change on its own (say an INSERT with another in a
# CTE): a session reading outside a transaction runs it in autocommit, where PostgreSQL commits it as
# its own transaction, instead of spending a ``BEGIN`` and a ``COMMIT`` round trip on it. A session
# already in a transaction runs it there, as any statement.
COMMITS_ALONE = "trusera_commits_alone"
_CHECKED_IN_AT = "trusera_checked_in_at"
_READS_OUTSIDE_TRANSACTION = "trusera_reads_outside_transaction"
# The execution option by which a statement given as driver SQL (``exec_driver_sql``), which SQLAlchemy has
# not compiled and so cannot be seen to be one, says it is a plain read (``_is_plain_read``).
PLAIN_READ = "trusera_plain_read"

_engine: Engine | None = None
_engine_pid: int | None = None
_session_factory: sessionmaker[Session] | None = None


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            json_serializer=fastjson.dumps,
            json_deserializer=fastjson.loads,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL stays consistent and only a power cut can lose the last commits; FULL
            # would fsync on every commit, and a scan commits several times (`make run` is a laptop).
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        from common import dashboard_cache

        dashboard_cache.install(engine)
        return engine
    # The pool keeps as many connections as one gevent API process serves requests at once under load
    # (32 connections in ``bench_api.py``): with 10 kept, every burst past ten closed its extra
    # connections on return and opened new ones, a PostgreSQL backend start per few requests.
    # Last in, first out: the connection returned last is handed out next, so at a low request rate a few
    # connections stay warm (their backends' caches and prepared plans; a page cost its backend a quarter
    # less CPU, measured in bench/README.md), and the others sit idle instead of each being rotated through
    # and pinged after its idle seconds (``_ping_if_stale``).
    engine = create_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        pool_use_lifo=True,
        pool_recycle=1800,
        json_serializer=fastjson.dumps,
        json_deserializer=fastjson.loads,
    )
    event.listen(engine, "connect", _note_checkin)
    event.listen(engine, "checkin", _note_checkin)
    dialect = engine.dialect

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, connection_record, _proxy) -> None:
        _ping_if_stale(dialect, dbapi_connection, connection_record)

    event.listen(engine, "before_cursor_execute", _transaction_before_writing)
    from common import dashboard_cache  # it reads this module's constants

    dashboard_cache.install(engine)
    return engine


def _note_checkin(dbapi_connection, connection_record, *_args) -> None:
    """When the connection went back to the pool; one lent for reads outside a transaction goes back
    to transactions (its next user may write). One that cannot is closed, so its next checkout replaces it."""
    connection_record.info[_CHECKED_IN_AT] = time.monotonic()
    if not connection_record.info.pop(_READS_OUTSIDE_TRANSACTION, False) or dbapi_connection is None:
        return
    try:
        dbapi_connection.autocommit = False
    except Exception:
        dbapi_connection.close()


@functools.cache
def _poll_without_yielding():
    """The operating system's ``poll``, also where gevent patched the module (the API's worker): gevent's
    own yields to the event loop on purpose even with a zero timeout, which under load sent every pool
    checkout to the back of the queue of ready requests, a wait as long as all their CPU work, for a poll
    that cannot block. ``poll``, not ``select``: ``select`` refuses a descriptor past ``FD_SETSIZE`` (1024),
    which a gevent worker holding a thousand client sockets reaches, and every checkout was then pinged.
    Only a process that imported ``gevent.monkey`` can be patched."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey.get_original("select", "poll") if monkey is not None else io_select.poll


def _socket_has_data(dbapi_connection) -> bool:
    """An idle PostgreSQL connection has nothing to read unless the server spoke first: a terminated
    backend or a server shutting down sends its error and closes, which a zero-timeout poll sees (as data,
    or as a hang-up or an error: any event counts)."""
    try:
        poller = _poll_without_yielding()()
        poller.register(dbapi_connection.pgconn.socket, io_select.POLLIN)
        return bool(poller.poll(0))
    except Exception:  # psycopg raises when the connection is known to be lost
        return True


def _ping_if_stale(dialect, dbapi_connection, connection_record) -> None:
    """What ``pool_pre_ping`` did on every checkout (a ``SELECT 1`` round trip), done only for a
    connection idle for a while or whose socket shows the server has spoken; a failed ping discards it
    and the pool's older connections, and the pool hands out a new one, as ``pool_pre_ping`` would."""
    idle = time.monotonic() - connection_record.info.get(_CHECKED_IN_AT, 0.0)
    if idle <= IDLE_SECONDS_BEFORE_PING and not _socket_has_data(dbapi_connection):
        return
    try:
        dialect.do_ping(dbapi_connection)
    except Exception as error:
        raise exc.InvalidatePoolError(f"pooled connection failed its ping: {error}") from error


def _is_plain_read(context) -> bool:
    """A compiled SELECT that neither locks rows nor writes through a CTE, on a client-side cursor:
    outside a transaction it sees exactly what it would see as a statement of a READ COMMITTED one."""
    if context is not None and context.execution_options.get(PLAIN_READ):
        return True
    compiled = context.compiled if context is not None else None
    statement = getattr(compiled, "statement", None)
    if not isinstance(statement, Select) or statement._for_update_arg is not None:
        return False
    if context.execution_options.get("stream_results"):
        return False
    return not any(isinstance(cte.element, UpdateBase) for cte in getattr(compiled, "ctes", None) or ())


def _transaction_before_writing(conn, _cursor, _statement, _parameters, context, _executemany) -> None:
    """A session that reads outside a transaction opens one before its first statement that is not a
    plain read (nor ``COMMITS_ALONE``), so that writes, row locks and savepoints keep their transaction.
    A ``plain_read`` on a connection of its own (no ``Connection``) has nothing to switch."""
    if (
        conn is not None
        and conn.info.get(_READS_OUTSIDE_TRANSACTION)
        and not _is_plain_read(context)
        and not (context is not None and context.execution_options.get(COMMITS_ALONE))
    ):
        conn.info[_READS_OUTSIDE_TRANSACTION] = False
        conn.connection.driver_connection.autocommit = False


def _reads_outside_transaction(session: Session, _transaction, connection) -> None:
    """``after_begin`` of a session made with ``reads_outside_transaction``: its PostgreSQL connection
    runs plain reads in autocommit mode, which costs no ``BEGIN`` and no ``ROLLBACK`` round trip."""
    if not session.info.get(_READS_OUTSIDE_TRANSACTION) or connection.dialect.name != "postgresql":
        return
    driver_connection = connection.connection.driver_connection
    if driver_connection.autocommit or driver_connection.info.transaction_status != 0:
        return
    driver_connection.autocommit = True
    connection.info[_READS_OUTSIDE_TRANSACTION] = True


def get_engine() -> Engine:
    global _engine, _engine_pid, _session_factory
    if _engine is None or _engine_pid != os.getpid():
        if _engine is not None:
            _engine.dispose(close=False)
        _engine = _make_engine(get_settings().database_url)
        _engine_pid = os.getpid()
        _session_factory = sessionmaker(bind=_engine, expire_on_commit=False)
        if not event.contains(Session, "after_begin", _reads_outside_transaction):
            event.listen(Session, "after_begin", _reads_outside_transaction)
    return _engine


def reset_engine() -> None:
    global _engine, _session_factory
    if _engine is not None:
        _engine.dispose()
    _engine = None
    _session_factory = None


def new_session(*, reads_outside_transaction: bool = False) -> Session:
    """``reads_outside_transaction``: for a request that mostly reads (a GET): plain SELECTs run in
    autocommit mode until the first other statement, which opens the transaction that ``commit`` ends."""
    get_engine()
    assert _session_factory is not None
    session = _session_factory()
    if reads_outside_transaction:
        session.info[_READS_OUTSIDE_TRANSACTION] = True
    return session


def set_reads_outside_transaction(session: Session, reads_outside_transaction: bool) -> None:
    """Change how ``session`` begins its next transaction (``new_session``); the current one is unchanged."""
    session.info[_READS_OUTSIDE_TRANSACTION] = reads_outside_transaction


def plain_read(session: Session | None, sql: str, parameters: dict) -> list[tuple]:
    """The rows of a plain read given as PostgreSQL driver SQL, compiled once (the hot pages' statements).

    While ``session`` holds no connection yet (an authenticated GET whose principal came from Redis), the
    statement runs on a pooled connection of its own in autocommit, checked out and back in around it:
    no session transaction, ``Connection``, execution context or result object, which cost a page more
    CPU than psycopg's whole round trip. The pool's checkout and checkin events run as for any connection
    (the stale-connection check, autocommit off again at checkin), and the engine's cursor-execute events
    see the statement with no ``Connection``, so statement counters count it. A session already holding
    a connection (its principal read from the database, a write) runs it there, as before: a request
    never holds two connections, nor reads outside the transaction it opened.
    """
    if session is not None and session.in_transaction():
        connection = session.connection()
        return connection.exec_driver_sql(sql, parameters, execution_options={PLAIN_READ: True}).all()
    engine = get_engine()
    try:
        pooled = engine.raw_connection()
    except engine.dialect.loaded_dbapi.Error as error:  # the database is down
        raise _as_raised_by_sqlalchemy(engine, sql, parameters, error, lost=True) from error
    try:
        return _read_on(engine, pooled, sql, parameters)
    finally:
        pooled.close()


def _read_on(engine: Engine, pooled, sql: str, parameters: dict) -> list[tuple]:
    """``plain_read``'s statement on a checked-out connection; a lost connection is dropped from the pool."""
    driver_connection = pooled.driver_connection
    dispatch = engine.dispatch
    cursor = None
    try:
        if not driver_connection.autocommit:
            driver_connection.autocommit = True
            pooled.info[_READS_OUTSIDE_TRANSACTION] = True  # ``_note_checkin`` turns it off again
        from psycopg import RawCursor  # the hot pages' driver: processes that never serve them skip it

        query, names = _numbered(sql)
        cursor = RawCursor(driver_connection)
        dispatch.before_cursor_execute(None, cursor, sql, parameters, None, False)
        cursor.execute(query, [parameters[name] for name in names])
        rows = cursor.fetchall()
        dispatch.after_cursor_execute(None, cursor, sql, parameters, None, False)
        return rows
    except engine.dialect.loaded_dbapi.Error as error:
        lost = engine.dialect.is_disconnect(error, driver_connection, cursor)
        if lost:
            pooled.invalidate(error)
        raise _as_raised_by_sqlalchemy(engine, sql, parameters, error, lost=lost) from error
    finally:
        if cursor is not None:
            cursor.close()


_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


@functools.lru_cache(maxsize=64)
def _numbered(sql: str) -> tuple[bytes, tuple[str, ...]]:
    """``sql`` (SQLAlchemy's ``%(name)s`` placeholders, ``%%`` for a ``%``) with PostgreSQL's own ``$1``,
    ``$2``… and the names they stand for, in order: what psycopg works out from the text on every
    execution, splitting it with a regular expression, and remembers only for a statement of at most
    4 KB (the dashboard's is 9.6 KB). Run through a ``RawCursor``, the text goes out as it is."""
    names: list[str] = []

    def number(match: re.Match) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PLACEHOLDER.sub(number, sql).encode(), tuple(names)


def _as_raised_by_sqlalchemy(engine: Engine, sql: str, parameters: dict, error: Exception, *, lost: bool):
    """A driver error as SQLAlchemy wraps it (``OperationalError``, ``DataError``…), which the API's error
    handlers answer (503 for a database that is down, 400 for a NUL byte)."""
    return exc.DBAPIError.instance(
        sql, parameters, error, engine.dialect.loaded_dbapi.Error, connection_invalidated=lost
    )


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work: commit on success, roll back on error, always close."""
    session = new_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def typed_bindparams(table: Table, columns: Iterable[str], prefix: str) -> list[BindParameter]:
    """One parameter ``<prefix><column>`` per column, typed as the column (a JSON value is serialised as
    JSON): the values of an ``INSERT`` or of the ``SELECT`` an ``INSERT … SELECT`` inserts."""
    return [bindparam(prefix + name, type_=table.c[name].type) for name in columns]


def bulk_insert(session: Session, table: Table, rows: Iterable[dict]) -> None:
    """Many rows of one table in the session's transaction, keyed by column name.

    PostgreSQL takes them through one ``COPY`` stream, row by row as ``rows`` yields them (a generator
    is never held whole); other databases through one executemany. The ORM's bulk path is avoided: it
    splits the rows into one statement per pattern of None values.
    """
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(table.insert(), [first, *rows])
        return
    columns = list(first)
    organizations: set[str | None] = set()  # whose rows these are, for the dashboard's cache
    # JSON values go in as their text, which the server parses for the column: a plain string is
    # far cheaper for the driver to write than a Jsonb wrapper.
    json_columns = {name for name in columns if isinstance(table.c[name].type, JSON)}
    quoted = ", ".join(f'"{name}"' for name in columns)
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for row in itertools.chain([first], rows):
            organizations.add(row.get("organization_id"))
            copy.write_row(
                [fastjson.dumps(row[name]) if name in json_columns else row[name] for name in columns]
            )
    from common import dashboard_cache

    dashboard_cache.mark(session.connection(), table.name, organizations)
