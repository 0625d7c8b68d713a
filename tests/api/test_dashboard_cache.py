"""The dashboard's cache (``common.dashboard_cache``): a view of an organization nothing was written for
since reads no database, and no kind of write leaves a view stale (the API's one-statement insert, a
worker's unit of work, a bulk or driver-SQL statement, a ``COPY``, a deletion the database carries into
the scans through a foreign key). The cache is per organization: one's writes leave another's entry alone
and no view is ever answered with another organization's entry.
"""

from __future__ import annotations

import json

import pytest
import redis
from sqlalchemy import Table, delete, text, update
from sqlalchemy.sql import visitors

from common import dashboard_cache, events, jobs
from common.db import bulk_insert, get_engine, session_scope
from common.models import Component, Scan
from common.models.alerts import Alert
from common.models.base import new_id, utcnow
from common.models.compliance import PolicyEvaluation
from common.models.identity import User
from tests.factories import component, make_scan
from tests.helpers import counted_statements
from web.api.dashboard import _document_select, document_json, selects

OVERVIEW = "/api/v1/dashboard/overview"

# POST /scans must not hand the scan to the session's worker: it would run it between two reads
pytestmark = pytest.mark.usefixtures("scan_queue")


def fresh(org_id: str) -> dict:
    """The overview counted now, without the cache."""
    with get_engine().connect() as connection:
        return json.loads(document_json(connection, org_id, utcnow().date()))


def viewed(client, user) -> tuple[dict, bool]:
    """The overview as the API answers it, and whether it was counted (not answered from the cache)."""
    with counted_statements() as statements:
        response = client.get(OVERVIEW, headers=user.headers())
    assert response.status_code == 200, response.json
    return response.json, any(statement.startswith("WITH latest_scans") for statement in statements)


def warm(client, user) -> dict:
    viewed(client, user)
    body, counted = viewed(client, user)
    assert not counted, "a second view with nothing written in between is answered from the cache"
    return body


def _post_scan(client, user, org, scan_root, _scans):
    (scan_root / "app.py").write_text("import openai\n")
    response = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers())
    assert response.status_code == 202, response.json


def _start(_client, _user, _org, _root, scans):
    with session_scope() as session:
        events.record_job_event(session, jobs.start(session.get(Scan, scans["queued"])))


def _progress(_client, _user, org, _root, scans):
    with session_scope() as session:
        assert jobs.progress(session, Scan, scans["running"], org, {"progress": 55, "stage": "detecting"})


def _copy_components(_client, _user, org, _root, scans):
    """What ingest writes with ``COPY``, which the engine never sees."""
    row = {
        "id": new_id(),
        "scan_id": scans["completed"],
        "organization_id": org,
        "fingerprint": new_id(),
        "name": "o1",
        "type": "model",
        "provider": "openai",
        "locations": [],
        "flags": [],
        "risk_score": 90,
        "severity": "critical",
        "risk_factors": [],
        "detector": "test",
        "confidence": 1.0,
        "scope": "production",
        "metadata": {},
    }
    with session_scope() as session:
        bulk_insert(session, Component.__table__, [row])


def _bulk_update(_client, _user, _org, _root, scans):
    with session_scope() as session:
        session.execute(update(Scan).where(Scan.id == scans["queued"]).values(stage="cloning", progress=3))


def _driver_sql(_client, _user, _org, _root, scans):
    with session_scope() as session:
        session.connection().exec_driver_sql(
            "UPDATE scans SET status = 'failed' WHERE id = %(id)s", {"id": scans["queued"]}
        )


def _text_delete(_client, _user, _org, _root, scans):
    with session_scope() as session:
        session.execute(text("DELETE FROM scans WHERE id = :id"), {"id": scans["completed"]})


def _creator_deleted(_client, _user, _org, _root, scans):
    """The database nulls the scans' ``created_by`` (``ON DELETE SET NULL``): no statement names ``scans``."""
    with session_scope() as session:
        session.execute(delete(User).where(User.id == scans["creator"]))


def _alert_opened(_client, _user, org, _root, _scans):
    with session_scope() as session:
        session.add(Alert(id=new_id(), organization_id=org, status="open", severity="high", title="t"))


def _policy_evaluated(_client, _user, org, _root, scans):
    with session_scope() as session:
        session.add(
            PolicyEvaluation(
                organization_id=org, scan_id=scans["completed"], name="p", action="warn", passed=True
            )
        )


WRITES = {
    "POST /scans (one statement, committed alone)": _post_scan,
    "a worker starts a scan (unit of work)": _start,
    "a worker saves progress (bulk UPDATE)": _progress,
    "ingest's COPY of components": _copy_components,
    "a bulk UPDATE naming no organization": _bulk_update,
    "driver SQL": _driver_sql,
    "text() DELETE": _text_delete,
    "the scans' creator deleted": _creator_deleted,
    "an alert opened": _alert_opened,
    "a policy evaluated": _policy_evaluated,
}


@pytest.fixture
def scans_of(make_user, client):
    def scans(user) -> dict[str, str]:
        creator_id = make_user().id
        return {
            "running": make_scan(user.org_id, target="/srv/running", status="running", started_at=utcnow()),
            "completed": make_scan(user.org_id, components=[component("model", "gpt-4o")]),
            "queued": make_scan(user.org_id, target="/srv/queued", status="queued", created_by=creator_id),
            "creator": creator_id,
        }

    return scans


@pytest.mark.parametrize("write", WRITES)
def test_no_write_leaves_a_view_stale(client, make_user, scan_root, scans_of, write):
    user = make_user()
    scans = scans_of(user)
    before = warm(client, user)
    WRITES[write](client, user, user.org_id, scan_root, scans)
    after, counted = viewed(client, user)
    assert counted
    assert after == fresh(user.org_id) and after != before


def test_one_organizations_write_leaves_anothers_entry_alone(client, make_user, scan_root, scans_of):
    first, second = make_user(), make_user()
    scans_of(first), scans_of(second)
    first_before, second_before = warm(client, first), warm(client, second)
    assert first_before["recent_scans"] != second_before["recent_scans"]
    _post_scan(client, first, first.org_id, scan_root, {})
    assert viewed(client, second) == (second_before, False)
    first_after, counted = viewed(client, first)
    assert counted and first_after == fresh(first.org_id) != first_before
    assert dashboard_cache.entry_key(first.org_id) != dashboard_cache.entry_key(second.org_id)


def test_a_write_committed_while_a_view_counts_is_not_kept(client, make_user, scans_of, monkeypatch):
    """The view read the rows before the write committed and stores them after it: under the versions it
    read first, which the write's bump has left behind."""
    user = make_user()
    scans = scans_of(user)
    warm(client, user)
    _bulk_update(client, user, user.org_id, None, scans)  # ends the entry: the next view counts
    store = dashboard_cache.Lookup.store

    def commit_a_write_then_store(lookup, body):
        _alert_opened(client, user, user.org_id, None, scans)
        store(lookup, body)

    monkeypatch.setattr(dashboard_cache.Lookup, "store", commit_a_write_then_store)
    stale, _ = viewed(client, user)
    monkeypatch.setattr(dashboard_cache.Lookup, "store", store)
    assert stale["open_alerts"] == 0
    after, counted = viewed(client, user)
    assert counted and after["open_alerts"] == 1


def test_a_day_later_the_trend_is_counted_again(client, make_user, scans_of, monkeypatch):
    user = make_user()
    scans_of(user)
    warm(client, user)
    tomorrow = utcnow().date().toordinal() + 1
    real = dashboard_cache.lookup
    monkeypatch.setattr(dashboard_cache, "lookup", lambda org, today: real(org, today.fromordinal(tomorrow)))
    assert viewed(client, user)[1]


def test_every_table_the_overview_reads_is_watched():
    statements = [_document_select(), *(s for s in vars(selects("sqlite")).values() if s is not None)]
    read = {
        element.name
        for statement in statements
        for element in visitors.iterate(statement, {"column_collections": False})
        if isinstance(element, Table)
    }
    assert read and read <= dashboard_cache.READ_TABLES
    assert {"organizations", "users"} <= dashboard_cache._deleted_into()


def test_a_scan_posted_through_another_broker_ends_the_entry_on_its_own(
    client, make_user, scan_root, scans_of, monkeypatch
):
    """With RabbitMQ there is no Redis pipeline for the task to carry the bump: it goes alone."""
    user = make_user()
    scans_of(user)
    before = warm(client, user)
    monkeypatch.setattr(events, "leading_for", lambda _recorded: None)
    _post_scan(client, user, user.org_id, scan_root, {})
    after, counted = viewed(client, user)
    assert counted and after == fresh(user.org_id) != before


def test_without_redis_every_view_is_counted(client, make_user, scans_of, monkeypatch):
    user = make_user()
    scans = scans_of(user)
    warm(client, user)

    class Refusing:
        def __getattr__(self, _name):
            raise redis.ConnectionError("Redis is down")

    monkeypatch.setattr(dashboard_cache, "get_redis", Refusing)
    _alert_opened(client, user, user.org_id, None, scans)  # its bump is refused too
    after, counted = viewed(client, user)
    assert counted and after == fresh(user.org_id) and after["open_alerts"] == 1
