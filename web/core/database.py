"""One SQLAlchemy session per request, closed at teardown.

A GET or HEAD reads outside a transaction until its first write (``common.db.new_session``): a read-only
request then costs no ``BEGIN`` and no ``ROLLBACK`` round trip, and one that writes still commits atomically.
"""

from __future__ import annotations

import json

from flask import Flask, g, has_request_context, request
from psycopg.types.json import set_json_loads
from sqlalchemy.orm import Session

from common.db import new_session

_decode_json = json.JSONDecoder().decode
READING_METHODS = frozenset({"GET", "HEAD"})


def db() -> Session:
    if "db_session" not in g:
        reading = has_request_context() and request.method in READING_METHODS
        g.db_session = new_session(reads_outside_transaction=reading)
    return g.db_session


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
