"""Engine and sessions shared by the API and the workers.

Engines are created lazily per process (and disposed after fork) so that a
Celery prefork child never reuses its parent's sockets.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import JSON, Table, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from common import fastjson
from common.config import get_settings

JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    pass


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

        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_recycle=1800,
        json_serializer=fastjson.dumps,
        json_deserializer=fastjson.loads,
    )


def get_engine() -> Engine:
    global _engine, _engine_pid, _session_factory
    if _engine is None or _engine_pid != os.getpid():
        if _engine is not None:
            _engine.dispose(close=False)
        _engine = _make_engine(get_settings().database_url)
        _engine_pid = os.getpid()
        _session_factory = sessionmaker(bind=_engine, expire_on_commit=False)
    return _engine


def reset_engine() -> None:
    global _engine, _session_factory
    if _engine is not None:
        _engine.dispose()
    _engine = None
    _session_factory = None


def new_session() -> Session:
    get_engine()
    assert _session_factory is not None
    return _session_factory()


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
    # JSON values go in as their text, which the server parses for the column: a plain string is
    # far cheaper for the driver to write than a Jsonb wrapper.
    json_columns = {name for name in columns if isinstance(table.c[name].type, JSON)}
    quoted = ", ".join(f'"{name}"' for name in columns)
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for row in itertools.chain([first], rows):
            copy.write_row(
                [fastjson.dumps(row[name]) if name in json_columns else row[name] for name in columns]
            )
