"""One SQLAlchemy session per request, closed at teardown.

A GET or HEAD reads outside a transaction until its first write (``common.db.new_session``): a read-only
request then costs no ``BEGIN`` and no ``ROLLBACK`` round trip, and one that writes still commits atomically.
So does a view marked ``reads_before_writing``.
"""

from __future__ import annotations

import json

from flask import Flask, current_app, g, has_request_context, request
from psycopg.types.json import set_json_loads
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from common import db as common_db
from common.db import new_session

_decode_json = json.JSONDecoder().decode
READING_METHODS = frozenset({"GET", "HEAD"})


def db() -> Session:
    if "db_session" not in g:
        g.db_session = new_session(reads_outside_transaction=has_request_context() and _reads_first())
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
