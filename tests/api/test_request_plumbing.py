"""What every request pays besides its view, cut without changing what it answers: no cookie session,
``ensure_sync`` asked once per function, the metrics' children kept, valid query arguments loaded without
webargs' proxy, the components page's prepared statement kept on its generic plan, and the hot pages' one
statement run without an ORM session on a connection of its own."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import flask
import psycopg
import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from common.dashboard_cache import entry_key
from common.db import bulk_insert, get_engine, plain_read, session_scope
from common.models import Component, Scan
from common.models.base import new_id, utcnow
from common.redis_client import get_redis
from tests.helpers import counted_statements
from web.api import scans
from web.core import pagination
from web.core.metrics import registry
from web.core.pagination import query_arguments


def test_no_cookie_session_is_opened_or_sent(client, make_user):
    """Nothing in the API keeps state in Flask's signed cookie: a request carrying one is answered as any
    other, no cookie is ever set, and a write to ``flask.session`` fails instead of being signed."""
    user = make_user()
    client.set_cookie("session", "eyJ4IjoxfQ.forged.signature")
    response = client.get("/api/v1/scans", headers=user.headers())
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    with client.application.test_request_context("/api/v1/scans"):
        assert flask.session.get("anything") is None
        with pytest.raises(RuntimeError):
            flask.session["user"] = "someone"


def test_ensure_sync_is_remembered_per_function_and_bounded(app):
    def view():
        return "ok"

    assert app.ensure_sync(view) is view and view in app._sync_functions
    before = len(app._sync_functions)
    closures = [lambda response, n=n: response for n in range(app.SYNC_FUNCTIONS_REMEMBERED + 50)]
    for closure in closures:
        assert app.ensure_sync(closure) is closure
    assert before <= len(app._sync_functions) <= app.SYNC_FUNCTIONS_REMEMBERED


def test_each_request_is_counted_once_under_its_route_and_status(client):
    def count(route: str, status: str) -> float:
        labels = {"method": "GET", "route": route, "status": status}
        return registry.get_sample_value("trusera_http_requests_total", labels) or 0.0

    def observed(route: str) -> float:
        labels = {"method": "GET", "route": route}
        return registry.get_sample_value("trusera_http_request_duration_seconds_count", labels) or 0.0

    health, missing = count("/api/v1/health", "200"), count("unmatched", "404")
    timed = observed("/api/v1/health")
    for _ in range(3):
        assert client.get("/api/v1/health").status_code == 200
    assert client.get("/api/v1/no-such-route").status_code == 404
    assert count("/api/v1/health", "200") == health + 3
    assert count("unmatched", "404") == missing + 1
    assert observed("/api/v1/health") == timed + 3


QUERIES = [
    "per_page=5",
    "page=2&per_page=100&type=model",
    "type=model&type=llm_provider",  # repeated: the first value, as webargs reads a single-valued field
    "surprise=1&per_page=3",  # unknown names are left out
    "name=%25_x&min_risk=50&severity=low&flag=unpinned_model",
    "per_page=",
]
INVALID_QUERIES = ["per_page=0", "type=bogus", "min_risk=abc", "page=1&per_page=101"]


def _loaded_by_both(app, query: str):
    """The arguments ``query_arguments`` hands the view, and what webargs itself parses, for one query."""
    schema = scans.ComponentListArgs()
    view = query_arguments(scans.blp, schema)(lambda arguments: arguments)
    answers = []
    for parse in (view, lambda: scans.blp.ARGUMENTS_PARSER.parse(schema, location="query")):
        with app.test_request_context(f"/?{query}"):
            try:
                answers.append(("loaded", parse()))
            except HTTPException as refusal:
                answers.append(("refused", refusal.code, getattr(refusal, "data", None)))
    return answers


@pytest.mark.parametrize("query", QUERIES + INVALID_QUERIES)
def test_query_arguments_load_exactly_what_webargs_loads(app, query):
    ours, webargs = _loaded_by_both(app, query)
    assert ours == webargs
    assert (ours[0] == "refused") == (query in INVALID_QUERIES or query == "per_page=")


def test_valid_query_arguments_never_reach_webargs(client, make_user, monkeypatch):
    user = make_user()

    def unused(*_args, **_kwargs):
        raise AssertionError("webargs parsed a valid query")

    monkeypatch.setattr(scans.blp.ARGUMENTS_PARSER, "parse", unused)
    page = client.get("/api/v1/scans?per_page=5&status=completed", headers=user.headers())
    assert page.status_code == 200 and page.json["per_page"] == 5


def test_a_valid_query_is_loaded_once_and_a_refusal_every_time(app, monkeypatch):
    """The arguments of a query string seen before are what loading it gave, without loading it again; each
    request gets its own dict; a refused query, a query past ``QUERY_REMEMBERED_BYTES`` and a query beyond
    the ``QUERIES_REMEMBERED`` last are loaded (or refused) afresh."""
    schema = scans.ComponentListArgs()
    view = query_arguments(scans.blp, schema)(lambda arguments: arguments)
    loads = []  # ours; webargs loads a refused query once more for its answer
    load = schema.load

    def counted(data, **kwargs):
        if type(data) is dict:
            loads.append(data)
        return load(data, **kwargs)

    monkeypatch.setattr(schema, "load", counted)

    def arguments(query: str):
        with app.test_request_context(f"/?{query}"):
            try:
                return view()
            except HTTPException as refusal:
                return refusal.code

    first = arguments("per_page=5&type=model")
    first["per_page"] = 99  # a view's change to its arguments is its own
    assert arguments("per_page=5&type=model") == {"page": 1, "per_page": 5, "type": "model"}
    assert len(loads) == 1
    assert arguments("per_page=6") == {"page": 1, "per_page": 6} and len(loads) == 2
    assert [arguments("per_page=0"), arguments("per_page=0")] == [422, 422]
    assert len(loads) == 4  # refused twice, loaded twice: nothing remembered
    long_query = "surprise=" + "y" * pagination.QUERY_REMEMBERED_BYTES + "&per_page=7"
    assert arguments(long_query) == arguments(long_query) == {"page": 1, "per_page": 7}
    assert len(loads) == 6
    for per_page in range(1, 101):
        for page in range(1, 4):
            arguments(f"page={page}&per_page={per_page}")
    assert view.remembered_queries.cache_info().currsize == pagination.QUERIES_REMEMBERED
    before = len(loads)
    assert arguments("per_page=5&type=model")["per_page"] == 5
    assert len(loads) == before + 1  # long forgotten: loaded again


def _plans_after_pages(sql: str, parameters: dict) -> tuple[int, int]:
    """(generic, custom) plans PostgreSQL made for ``sql`` prepared and run ten times on a connection of
    its own (a pooled one holds the statements earlier requests prepared)."""
    url = get_engine().url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as connection:
        for _ in range(10):
            connection.execute(sql, parameters, prepare=True).fetchall()
        (plans,) = connection.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
        ).fetchall()
        return plans


def test_the_components_page_keeps_its_generic_plan(make_user):
    """With the page's values visible PostgreSQL planned the prepared page anew on every request (a custom
    plan knows ``LIMIT 20``, the generic one must assume a tenth of the scan); read through sub-selects,
    every plan is estimated alike and the generic one is kept. Both forms give the same page."""
    user = make_user()
    with session_scope() as session:
        scan = Scan(
            organization_id=user.org_id, target="/srv/plans", status="completed", finished_at=utcnow()
        )
        session.add(scan)
        session.flush()
        bulk_insert(
            session,
            Component.__table__,
            (
                {
                    "id": new_id(),
                    "scan_id": scan.id,
                    "organization_id": user.org_id,
                    "fingerprint": f"plan-{index}",
                    "name": f"component-{index}",
                    "type": "model",
                    "locations": [],
                    "flags": [],
                    "risk_score": index % 100,
                    "severity": "low",
                    "risk_factors": [],
                    "detector": "plans",
                    "confidence": 1.0,
                    "scope": "production",
                    "metadata": {},
                }
                for index in range(3000)
            ),
        )
        scan_id = scan.id
    values = {"scan_id": scan_id, "organization_id": user.org_id, "limit": 20, "offset": 0}
    with session_scope() as session:
        session.connection().exec_driver_sql("ANALYZE components")
    dialect = get_engine().dialect
    hidden = scans.unfiltered_component_json_page_sql(dialect)
    visible = scans.UNFILTERED_COMPONENT_JSON_PAGE.compile(dialect=dialect)
    visible_values = {**visible.params, **values}
    generic, _custom = _plans_after_pages(hidden, values)
    assert generic > 0
    generic_when_visible, _custom = _plans_after_pages(str(visible), visible_values)
    assert generic_when_visible == 0  # the cost the sub-selects remove
    with session_scope() as session:
        connection = session.connection()
        assert (
            connection.exec_driver_sql(hidden, values).all()
            == connection.exec_driver_sql(str(visible), visible_values).all()
        )


def test_the_json_list_is_the_wire_form_page_by_page(client, make_user):
    """The unfiltered list is written by PostgreSQL as JSON: each item equals ``scan_json`` of the scan
    (odd values included, warnings stored as JSON null), in the list's order, with the organization's
    total on every page and past the end."""
    user, stranger = make_user(), make_user()
    created = utcnow()
    with session_scope() as session:
        session.add(Scan(organization_id=stranger.org_id, target="/srv/not-yours", status="queued"))
        session.add_all(
            Scan(
                organization_id=user.org_id,
                target=f"/srv/list-{index}",
                status="failed" if index % 2 else "completed",
                error='a "quoted" ünïcode error ✓\n' if index % 2 else None,
                warnings=None if index % 3 else ["slow", {"nested": [1, 2.5, None]}],
                summary={"total_components": index, "ratio": 0.1, "big": 2**53},
                created_at=created - timedelta(minutes=index),
                finished_at=None if index % 2 else created,
            )
            for index in range(5)
        )
    with session_scope() as session:
        rows = session.scalars(
            select(Scan).where(Scan.organization_id == user.org_id).order_by(Scan.created_at.desc())
        ).all()
        expected = [scans.scan_json(row) for row in rows]
    for page, per_page, wanted in ((1, 20, expected), (1, 2, expected[:2]), (3, 2, expected[4:]), (4, 2, [])):
        answer = client.get(f"/api/v1/scans?page={page}&per_page={per_page}", headers=user.headers())
        assert answer.status_code == 200 and answer.mimetype == "application/json"
        assert answer.json == {"items": wanted, "page": page, "per_page": per_page, "total": 5}
    recent = client.get("/api/v1/dashboard/overview", headers=user.headers()).json["recent_scans"]
    assert recent == expected  # the same SQL wire form (a JSON null of warnings is [] there too)


def _completed_scan(organization_id: str, components: int) -> str:
    with session_scope() as session:
        scan = Scan(
            organization_id=organization_id,
            target="/srv/own-connection",
            status="completed",
            progress=100,
            finished_at=utcnow(),
            summary={"total_components": components, "by_type": {}, "by_severity": {}},
        )
        session.add(scan)
        session.flush()
        session.add_all(
            Component(
                scan_id=scan.id,
                organization_id=organization_id,
                fingerprint=f"{scan.id}-{index}",
                name=f"component-{index}",
                type="model",
                severity="low",
                risk_score=index,
                locations=[],
                flags=[],
                detector="own-connection",
            )
            for index in range(components)
        )
        return scan.id


@contextmanager
def checkouts_and_session_transactions():
    """Per request, the pool connections it held at once at most, and how many ORM session transactions it
    began."""
    engine = get_engine()
    seen = {"out": 0, "most": 0, "sessions": 0}

    def checkout(*_args):
        seen["out"] += 1
        seen["most"] = max(seen["most"], seen["out"])

    def checkin(*_args):
        seen["out"] -= 1

    def began(*_args):
        seen["sessions"] += 1

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    event.listen(Session, "after_begin", began)
    try:
        yield seen
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)
        event.remove(Session, "after_begin", began)


def test_the_hot_pages_read_without_a_session_and_on_one_connection(client, make_user):
    """A GET whose principal came from Redis runs its page's one statement on a pooled connection of its
    own, with no ORM session around it (``common.db.plain_read``); an API key's principal is read through
    the session, and the page then runs on that session's connection: never two connections at once."""
    user = make_user()
    scan_id = _completed_scan(user.org_id, components=3)
    paths = (f"/api/v1/scans/{scan_id}/components", "/api/v1/scans", "/api/v1/dashboard/overview")
    key = client.post("/api/v1/auth/api-key", json={"name": "ci"}, headers=user.headers()).json["key"]
    for path in paths:
        client.get(path, headers=user.headers())  # the principal cached, the rollups written
        get_redis().delete(entry_key(user.org_id))  # the dashboard counted, not read from its cache
        with checkouts_and_session_transactions() as seen, counted_statements() as statements:
            response = client.get(path, headers=user.headers())
        assert response.status_code == 200, path
        assert (len(statements), seen["most"], seen["sessions"]) == (1, 1, 0), path
        get_redis().delete(entry_key(user.org_id))
        with checkouts_and_session_transactions() as seen, counted_statements() as statements:
            by_key = client.get(path, headers={"Authorization": f"Bearer {key}"})
        assert by_key.status_code == 200 and by_key.get_data() == response.get_data(), path
        assert seen["most"] == 1 and seen["sessions"] == 1 and len(statements) >= 2, path


def test_a_read_on_its_own_connection_gives_it_back_ready_for_a_transaction(make_user):
    """The connection lent in autocommit goes back to the pool in transaction mode (its next user may
    write), and a failing statement is raised as SQLAlchemy raises it, the connection still usable."""
    engine = get_engine()
    engine.dispose()  # one pooled connection: the one the read used is the one checked out after it
    assert plain_read(None, "SELECT %(n)s::int + 1", {"n": 1}) == [(2,)]
    with pytest.raises(ProgrammingError):
        plain_read(None, "SELECT no_such_column", {})
    pooled = engine.raw_connection()
    try:
        assert pooled.driver_connection.autocommit is False
        assert engine.pool.checkedin() == 0 and engine.pool.checkedout() == 1
    finally:
        pooled.close()
    assert plain_read(None, "SELECT 1", {}) == [(1,)]


def test_a_read_on_its_own_connection_goes_out_with_postgresql_placeholders(make_user):
    """``plain_read`` sends the statement numbered as PostgreSQL numbers parameters (``$1``…, each name once,
    ``%%`` a percent sign), through a ``RawCursor`` that leaves the text as it is, and answers what the
    driver's own conversion of ``%(name)s`` answers; the engine's events still see SQLAlchemy's text."""
    sql = "SELECT %(word)s || '%%' || %(word)s, %(number)s::int + 1, to_char(%(number)s::int, '99%%'), '$1'"
    parameters = {"word": "a", "number": 41}
    seen = []

    def note(_connection, cursor, statement, values, _context, _many):
        seen.append((type(cursor), statement, values))

    event.listen(get_engine(), "before_cursor_execute", note)
    try:
        rows = plain_read(None, sql, parameters)
    finally:
        event.remove(get_engine(), "before_cursor_execute", note)
    url = get_engine().url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as connection:
        assert rows == connection.execute(sql, parameters).fetchall() == [("a%a", 42, " 41%", "$1")]
    assert seen == [(psycopg.RawCursor, sql, parameters)]
