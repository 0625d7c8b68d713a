"""One SQLAlchemy session per request, closed at teardown.

A GET or HEAD reads outside a transaction until its first write (``common.db.new_session``): a read-only
request then costs no ``BEGIN`` and no ``ROLLBACK`` round trip, and one that writes still commits atomically.
So does a view marked ``reads_before_writing``.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

from flask import Flask, current_app, g, has_request_context, request
from psycopg.types.json import set_json_loads
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from common import db as common_db
from common.db import new_session, set_reads_outside_transaction

_decode_json = json.JSONDecoder().decode
READING_METHODS = frozenset({"GET", "HEAD"})


def db() -> Session:
    if "db_session" not in g:
        reads_outside = has_request_context() and (
            _reads_first() or g.get("authenticating_before_body", False)
        )
        g.db_session = new_session(reads_outside_transaction=reads_outside)
    return g.db_session


def dialect() -> Dialect:
    """The database's dialect, asked without opening the session or checking out a connection."""
    return common_db.get_engine().dialect


def plain_read(sql: str, parameters: dict) -> list[tuple]:
    """The rows of a precompiled plain read (PostgreSQL driver SQL): on the request's session's connection
    when it already holds one, else on a pooled connection of its own (``common.db.plain_read``)."""
    return common_db.plain_read(g.get("db_session"), sql, parameters)


def reads_before_writing(view):
    """Mark a state-changing view whose reads (the principal, its checks) need no transaction: they run
    as a GET's do, and its writes open one, or commit alone (``common.db.COMMITS_ALONE``)."""
    view.reads_before_writing = True
    return view


def body_to_come() -> bool:
    """Whether the request announces a body (a length, or chunks) that a view has still to read."""
    if request.method in READING_METHODS:
        return False
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


@contextmanager
def connection_released_before_body():
    """Authentication of a request whose body is still to come, on a connection handed back before the body
    is read: a client trickling a 50 MB upload must not hold a pooled connection for its whole transfer (a
    few such clients held every one, and every other request waited). Its reads run outside a transaction
    (so releasing costs no ``COMMIT``); the view's session then works as it would have."""
    if not body_to_come():
        yield
        return
    g.authenticating_before_body = True
    try:
        yield
    finally:
        g.authenticating_before_body = False
    session = g.get("db_session")
    if session is None:
        return
    transaction = session.get_transaction()
    if transaction is not None and not (session.new or session.dirty or session.deleted):
        # It only read, outside a transaction: closed, not committed (no commit hooks, nothing expired,
        # no round trip), its connection goes back to the pool.
        transaction.close()
    set_reads_outside_transaction(session, _reads_first())


def _reads_first() -> bool:
    if request.method in READING_METHODS:
        return True
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, "reads_before_writing", False)


def close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def _json_from_text(data: bytes):
    return _decode_json(data.decode())


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_session)
    # JSON columns are UTF-8 text: decoded straight, without ``json.loads``'s encoding detection (a page
    # of components holds 80 of them).
    set_json_loads(_json_from_text)
