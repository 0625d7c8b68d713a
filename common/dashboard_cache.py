"""The dashboard's overview kept in Redis, and the versions that end it after every write it could show.

An organization's overview (``web/api/dashboard.py``) is kept as the JSON text it was answered with,
tagged with the versions it was computed under (the organization's, and everyone's for a write whose
organization is not known) and the day (its trend's days). A view reads the versions before it reads the
database, and a version is bumped only after the write's commit: a view that read the rows before the
commit kept them under a version that is no longer current.

Writes are seen where every one of them passes, the engine: each statement that writes a table the
overview reads (``READ_TABLES``), or deletes from a table whose rows those reference with ``ON DELETE``
(a user's deletion nulls its scans' ``created_by``), marks its connection, and the marks are bumped when
the connection goes back to the pool, which follows its commit (or rollback: a bump too many costs only a
recount). A statement is one organization's when it says so (``WRITES_ORGANIZATION``) or belongs to a
flush whose watched objects all name theirs; otherwise it bumps everyone's version. ``bulk_insert``'s
``COPY``, which the engine does not see, marks its connection itself (``mark``).

If Redis refuses a bump, the entries it should have ended live out their ``ENTRY_SECONDS``.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import redis
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Delete, Insert, Update

from common.db import PLAIN_READ
from common.redis_client import get_redis

log = logging.getLogger(__name__)

# What the overview's statements read (``tests/api/test_dashboard_cache.py`` checks them against these).
READ_TABLES = frozenset(
    {"scans", "components", "scan_rollups", "dashboard_summaries", "alerts", "policy_evaluations"}
)
# Execution option of a statement that writes only rows of this organization.
WRITES_ORGANIZATION = "trusera_writes_organization"
ENTRY_SECONDS = 60  # the longest a missed bump can leave an overview standing
VERSION_SECONDS = 86_400  # far longer than an entry: a version key that expired reads 0 again
EVERYONE = "trusera:dashboard-version:all"
SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what may go into a key; any other organization is not cached
_EVERYONE_MARK = ""  # no organization id is empty
_PENDING = "trusera_dashboard_writes"  # in a pooled connection's ``info``: marks to bump at its checkin
_FLUSHING = "trusera_dashboard_flush"  # in it while a flush runs: the organizations of its watched objects
_DML = re.compile(
    r"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|COPY)\s+(?:ONLY\s+)?\"?(\w+)", re.IGNORECASE
)


def version_key(organization_id: str) -> str:
    return f"trusera:dashboard-version:org:{organization_id}"


def entry_key(organization_id: str) -> str:
    return f"trusera:dashboard:{organization_id}"


@functools.cache
def _deleted_into() -> frozenset[str]:
    """The tables whose deletions reach ``READ_TABLES`` through ``ON DELETE CASCADE / SET NULL`` (and so
    on, transitively): ``organizations`` and ``users`` among them."""
    from common import models  # every model module imported, so every foreign key is known

    tables = models.Base.metadata.tables
    reached = set(READ_TABLES)
    changed = True
    while changed:
        changed = False
        for name in list(reached):
            for key in tables[name].foreign_keys if name in tables else ():
                parent = key.column.table.name
                if key.ondelete and key.ondelete.upper() != "RESTRICT" and parent not in reached:
                    reached.add(parent)
                    changed = True
    return frozenset(reached - READ_TABLES)


def _watched(table: str, verb: str) -> bool:
    """Whether writing ``table`` this way (``INSERT``, ``UPDATE``, ``DELETE``…) can change an overview."""
    if table in READ_TABLES:
        return True
    return verb in ("DELETE", "TRUNCATE") and table in _deleted_into()


def _written_tables(statement: str, context) -> list[tuple[str, str]]:
    """(verb, table) of each write the statement makes: from the compiled statement and its CTEs when
    SQLAlchemy compiled it, else from its text (driver SQL, ``text()``)."""
    compiled = getattr(context, "compiled", None)
    root = getattr(compiled, "statement", None)
    if root is not None and not isinstance(root, str) and not hasattr(root, "text"):
        writes = [root, *(cte.element for cte in getattr(compiled, "ctes", None) or ())]
        return [
            (_verb(write), write.table.name)
            for write in writes
            if isinstance(write, Insert | Update | Delete)
        ]
    return [(verb.split()[0].upper(), table) for verb, table in _DML.findall(statement)]


def _verb(write: Insert | Update | Delete) -> str:
    return "INSERT" if isinstance(write, Insert) else "UPDATE" if isinstance(write, Update) else "DELETE"


def _note_statement(conn, _cursor, statement, _parameters, context, _executemany) -> None:
    """Engine ``before_cursor_execute``: mark the connection with what this statement's writes may change.
    A ``plain_read`` (no ``Connection``, or ``PLAIN_READ``) writes nothing."""
    if conn is None or (context is not None and context.execution_options.get(PLAIN_READ)):
        return
    written = [table for verb, table in _written_tables(statement, context) if _watched(table, verb)]
    if not written:
        return
    organization = context.execution_options.get(WRITES_ORGANIZATION) if context is not None else None
    if organization is not None:
        organizations = {organization}
    else:
        organizations = conn.info.get(_FLUSHING) or {_EVERYONE_MARK}
    conn.info.setdefault(_PENDING, set()).update(organizations)


def mark(connection, table: str, organizations: Iterable[str | None]) -> None:
    """Mark ``connection`` (a ``Connection``) with rows written into ``table`` that the engine did not see
    (a ``COPY``), the rows of these organizations (None: unknown, everyone's)."""
    if not _watched(table, "INSERT"):
        return
    marks = {_EVERYONE_MARK if organization is None else organization for organization in organizations}
    connection.info.setdefault(_PENDING, set()).update(marks or {_EVERYONE_MARK})


def _organization_of(obj) -> str | None:
    organization = getattr(obj, "organization_id", None)
    return organization if isinstance(organization, str) else None


def _before_flush(session: Session, _flush_context, _instances) -> None:
    """The organizations a flush writes for: those its watched objects name (``_EVERYONE_MARK`` for one
    that names none), kept on its connection until the flush ends."""
    changed = [
        (obj, verb)
        for objects, verb in ((session.new, "INSERT"), (session.dirty, "UPDATE"), (session.deleted, "DELETE"))
        for obj in objects
    ]
    organizations = {
        _organization_of(obj) or _EVERYONE_MARK
        for obj, verb in changed
        if (table := getattr(obj, "__tablename__", None)) is not None and _watched(table, verb)
    }
    if organizations:
        session.connection().info[_FLUSHING] = organizations


def _after_flush(session: Session, _flush_context) -> None:
    if session.in_transaction():
        session.connection().info.pop(_FLUSHING, None)


def _forget_flush(conn, *_args) -> None:
    conn.info.pop(_FLUSHING, None)


def _bump_at_checkin(_dbapi_connection, connection_record) -> None:
    """Pool ``checkin``: the connection's transaction has ended; bump what it wrote."""
    connection_record.info.pop(_FLUSHING, None)
    marks = connection_record.info.pop(_PENDING, None)
    if marks:
        try:
            bump(marks)
        except Exception:  # a checkin from a garbage-collected connection must not raise
            log.exception("cached dashboards not invalidated; they expire on their own")


def take(connection) -> set[str]:
    """The marks of what ``connection`` wrote so far, which the caller now bumps itself after its commit
    (``bump_commands`` in a pipeline it sends anyway, else ``bump``) instead of the checkin."""
    return connection.info.pop(_PENDING, None) or set()


def bump_commands(marks: set[str]) -> list[tuple]:
    """The Redis commands (``(method, *args)`` of a pipeline) that bump these marks' versions."""
    keys = sorted(version_key(mark) for mark in marks if mark and SAFE_ID.fullmatch(mark))
    if _EVERYONE_MARK in marks or any(mark and not SAFE_ID.fullmatch(mark) for mark in marks):
        keys.append(EVERYONE)
    return [command for key in keys for command in (("incr", key), ("expire", key, VERSION_SECONDS))]


def bump(marks: set[str]) -> None:
    try:
        pipe = get_redis().pipeline(transaction=False)
        for name, *args in bump_commands(marks):
            getattr(pipe, name)(*args)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("cached dashboards not invalidated (Redis: %s); they expire on their own", exc)


def install(engine: Engine) -> None:
    """Watch every statement of ``engine`` and every session's flushes (idempotent for the sessions)."""
    event.listen(engine, "before_cursor_execute", _note_statement)
    event.listen(engine, "checkin", _bump_at_checkin)
    event.listen(engine, "rollback", _forget_flush)
    event.listen(engine, "rollback_savepoint", _forget_flush)
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush_postexec", _after_flush)


@dataclass
class Lookup:
    """An organization's cached overview (``body``), or the tag to store a fresh one under (``tag`` None:
    not cacheable now, Redis refused or the organization's id cannot be a key)."""

    organization_id: str
    tag: str | None
    body: str | None

    def store(self, body: str) -> None:
        if self.tag is None:
            return
        try:
            get_redis().set(entry_key(self.organization_id), f"{self.tag}|{body}", ex=ENTRY_SECONDS)
        except redis.RedisError as exc:
            log.warning("dashboard not cached (Redis: %s)", exc)


def lookup(organization_id: str, today: date) -> Lookup:
    """The versions now and the entry, in one round trip: read before the view reads the database."""
    if not SAFE_ID.fullmatch(organization_id):
        return Lookup(organization_id, None, None)
    try:
        own, everyone, entry = get_redis().mget(
            version_key(organization_id), EVERYONE, entry_key(organization_id)
        )
    except redis.RedisError as exc:
        log.warning("dashboard cache unavailable (Redis: %s)", exc)
        return Lookup(organization_id, None, None)
    tag = f"{own or 0}:{everyone or 0}:{today.isoformat()}"
    if entry is not None and entry.startswith(tag + "|"):
        return Lookup(organization_id, tag, entry[len(tag) + 1 :])
    return Lookup(organization_id, tag, None)
