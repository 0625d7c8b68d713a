"""Round trips per request on the hot paths: each endpoint has a budget of SQL statements, and a change that
adds a query to it fails here. The principal, its membership and its organization come in one query."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from common.db import get_engine, session_scope
from common.models import Component, Scan
from tests.helpers import add_member

BUDGETS = {
    "GET /scans/:id/components": 3,  # principal + membership + organization, the scan, the page
    "GET /scans/:id/components?type=model": 4,  # a filtered page also counts its rows
    "GET /scans": 3,  # principal + membership + organization, count, page
    "GET /scans/:id": 2,
    "GET /auth/me": 2,  # the user, their organizations
}


@contextmanager
def counted_statements():
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(get_engine(), "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(get_engine(), "before_cursor_execute", record)


@pytest.fixture
def completed_scan(make_user):
    user = make_user()
    with session_scope() as session:
        scan = Scan(
            organization_id=user.org_id,
            target="/srv/budget",
            status="completed",
            progress=100,
            summary={"total_components": 30, "by_type": {}, "by_severity": {}},
        )
        session.add(scan)
        session.flush()
        session.add_all(
            Component(
                scan_id=scan.id,
                organization_id=user.org_id,
                fingerprint=f"{scan.id}-{index}",
                name=f"component-{index}",
                type="model" if index % 3 == 0 else "llm_provider",
                severity="low",
                risk_score=index,
                detector="budget",
            )
            for index in range(30)
        )
        scan_id = scan.id
    return user, scan_id


def path_of(endpoint: str, scan_id: str) -> str:
    return "/api/v1" + endpoint.split(" ", 1)[1].replace(":id", scan_id)


@pytest.mark.parametrize("endpoint", BUDGETS)
def test_each_hot_endpoint_stays_within_its_query_budget(client, completed_scan, endpoint):
    user, scan_id = completed_scan
    path = path_of(endpoint, scan_id)
    assert client.get(path, headers=user.headers()).status_code == 200  # warm: nothing lazy left
    with counted_statements() as statements:
        response = client.get(path, headers=user.headers())
    assert response.status_code == 200
    assert len(statements) <= BUDGETS[endpoint], "\n".join(statements)


def test_an_api_key_resolves_in_the_same_single_query(client, completed_scan):
    user, scan_id = completed_scan
    key = client.post("/api/v1/auth/api-key", json={"name": "ci"}, headers=user.headers()).json["key"]
    client.get(f"/api/v1/scans/{scan_id}", headers={"Authorization": f"Bearer {key}"})  # notes its use
    with counted_statements() as statements:
        response = client.get(
            f"/api/v1/scans/{scan_id}/components", headers={"Authorization": f"Bearer {key}"}
        )
    assert response.status_code == 200
    assert len(statements) <= BUDGETS["GET /scans/:id/components"], "\n".join(statements)


def test_the_stored_total_is_the_real_number_of_rows(client, completed_scan):
    user, scan_id = completed_scan
    page = client.get(f"/api/v1/scans/{scan_id}/components?per_page=7", headers=user.headers()).json
    with session_scope() as session:
        stored = session.scalar(select(func.count()).where(Component.scan_id == scan_id))
    assert page["total"] == stored == 30 and len(page["items"]) == 7
    filtered = client.get(f"/api/v1/scans/{scan_id}/components?type=model", headers=user.headers()).json
    assert filtered["total"] == 10


def test_the_single_query_keeps_tenancy(client, completed_scan, make_user):
    """Another organization's member, a header naming a foreign organization, a viewer: all still refused."""
    user, scan_id = completed_scan
    stranger = make_user()
    assert client.get(f"/api/v1/scans/{scan_id}", headers=stranger.headers()).status_code == 404
    foreign = client.get(f"/api/v1/scans/{scan_id}", headers=stranger.headers(user.org_id))
    assert foreign.status_code == 403
    add_member(client, user, user.org_id, stranger, "viewer")
    shared = client.get(f"/api/v1/scans/{scan_id}", headers=stranger.headers(user.org_id))
    assert shared.status_code == 200
    create = client.post("/api/v1/scans", json={"target": "/x"}, headers=stranger.headers(user.org_id))
    assert create.status_code == 403  # a viewer may read, not scan
