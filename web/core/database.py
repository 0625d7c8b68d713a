"""One SQLAlchemy session per request, closed at teardown.

A GET or HEAD reads outside a transaction until its first write (``common.db.new_session``): a read-only
request then costs no ``BEGIN`` and no ``ROLLBACK`` round trip, and one that writes still commits atomically.
So does a view marked ``reads_before_writing``.
"""

from __future__ import annotations

import json

from flask import Flask, current_app, g, has_request_context, request
from psycopg.types.json import set_json_loads
from sqlalchemy.orm import Session

from common.db import new_session

_decode_json = json.JSONDecoder().decode
READING_METHODS = frozenset({"GET", "HEAD"})


def db() -> Session:
    if "db_session" not in g:
        g.db_session = new_session(reads_outside_transaction=has_request_context() and _reads_first())
    return g.db_session


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
