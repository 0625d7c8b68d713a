"""Round trips per request on the hot paths: each endpoint has a budget of SQL statements, and a change that
adds a query to it fails here. The principal, its membership and its organization come in one query.

The hot lists answer from Core rows, not ORM objects: their plain dicts are checked against the one wire
form (``scan_json``, ``Component.to_dict``) and the documented schema, so the three cannot drift."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from common.dashboard_cache import entry_key
from common.db import session_scope
from common.models import Component, Scan
from common.models.base import utcnow
from common.models.scans import COMPONENT_WIRE_FIELDS
from common.redis_client import get_redis
from tests.helpers import add_member, counted_statements, redis_round_trips
from web.api.scans import SCAN_WIRE_FIELDS, UNFILTERED_SCAN_PAGE
from web.core.openapi import ComponentSchema, ScanSchema

BUDGETS = {
    # The principal and its membership come from Redis (cached, in the revocation check's round trip)
    "GET /scans/:id/components": 1,  # the scan joined to its page
    "GET /scans/:id/components?type=model": 2,  # a filtered page also counts its rows
    "GET /scans/:id/components?page=9": 1,  # past the end: the scan still answers, with no items
    "GET /scans": 1,  # the page, its rows counted by a sub-select of the same statement
    "GET /scans?status=completed": 1,
    "GET /scans?page=5": 1,  # past the end: the unfiltered list's one row still carries its total
    "GET /scans?status=completed&page=5": 2,  # a filtered list past the end counts on its own
    "GET /scans/:id": 1,
    "GET /auth/me": 2,  # the user, their organizations
}
DASHBOARD_BUDGET = 1  # the whole document, built as JSON by one statement; none from its cache
API_KEY_PAGE_BUDGET = (
    2  # an API key's principal is not cached: principal + membership + organization, the page
)
POST_SCAN_BUDGET = 1  # the principal from Redis; the scan with its audit row
OVERVIEW = "/api/v1/dashboard/overview"


@pytest.fixture
def completed_scan(make_user):
    user = make_user()
    with session_scope() as session:
        scan = Scan(
            organization_id=user.org_id,
            target="/srv/budget",
            status="completed",
            progress=100,
            finished_at=utcnow(),
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
                provider="openai" if index % 2 else None,
                severity="low",
                risk_score=index,
                locations=[{"file": "app.py", "line": index + 1}],
                flags=["unpinned_model"],
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


def test_the_dashboard_counts_in_one_statement_and_answers_from_its_cache_in_none(client, completed_scan):
    user, _scan_id = completed_scan
    assert client.get(OVERVIEW, headers=user.headers()).status_code == 200  # warm: nothing lazy left
    get_redis().delete(entry_key(user.org_id))
    with counted_statements() as counting:
        counted = client.get(OVERVIEW, headers=user.headers())
    with counted_statements() as reading, redis_round_trips() as sent:
        cached = client.get(OVERVIEW, headers=user.headers())
    assert counted.status_code == cached.status_code == 200 and cached.data == counted.data
    assert len(counting) <= DASHBOARD_BUDGET, "\n".join(counting)
    assert reading == []
    [dashboard_trip] = [trip for trip in sent if b"trusera:dashboard" in trip]  # one read, nothing stored
    assert b"MGET" in dashboard_trip


def test_an_api_key_resolves_in_the_same_single_query(client, completed_scan):
    user, scan_id = completed_scan
    key = client.post("/api/v1/auth/api-key", json={"name": "ci"}, headers=user.headers()).json["key"]
    client.get(f"/api/v1/scans/{scan_id}", headers={"Authorization": f"Bearer {key}"})  # notes its use
    with counted_statements() as statements:
        response = client.get(
            f"/api/v1/scans/{scan_id}/components", headers={"Authorization": f"Bearer {key}"}
        )
    assert response.status_code == 200
    assert len(statements) <= API_KEY_PAGE_BUDGET, "\n".join(statements)


def test_the_stored_total_is_the_real_number_of_rows(client, completed_scan):
    user, scan_id = completed_scan
    page = client.get(f"/api/v1/scans/{scan_id}/components?per_page=7", headers=user.headers()).json
    with session_scope() as session:
        stored = session.scalar(select(func.count()).where(Component.scan_id == scan_id))
    assert page["total"] == stored == 30 and len(page["items"]) == 7
    filtered = client.get(f"/api/v1/scans/{scan_id}/components?type=model", headers=user.headers()).json
    assert filtered["total"] == 10
    flagged = client.get(f"/api/v1/scans/{scan_id}/components?flag=unpinned_model", headers=user.headers())
    assert flagged.status_code == 200 and flagged.json["total"] == 30
    unflagged = client.get(f"/api/v1/scans/{scan_id}/components?flag=other", headers=user.headers()).json
    assert unflagged["total"] == 0 and unflagged["items"] == []


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


def test_creating_a_scan_stays_within_its_query_budget(client, completed_scan, scan_root):
    user, _scan_id = completed_scan
    (scan_root / "app.py").write_text("import openai\n")
    client.get("/api/v1/scans", headers=user.headers())  # the principal cached, as on any later request
    with counted_statements() as statements:
        response = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers())
    assert response.status_code == 202, response.json
    assert len(statements) <= POST_SCAN_BUDGET, "\n".join(statements)


def test_a_listed_scan_is_the_scan_itself(client, completed_scan):
    """The list's Core rows and the single scan's ORM object give the same object, key for key."""
    user, scan_id = completed_scan
    listed = client.get("/api/v1/scans", headers=user.headers()).json["items"]
    single = client.get(f"/api/v1/scans/{scan_id}", headers=user.headers()).json
    assert listed == [single]
    recent = client.get("/api/v1/dashboard/overview", headers=user.headers()).json["recent_scans"]
    assert recent == [single]


def test_a_page_of_components_is_their_wire_form(client, completed_scan):
    user, scan_id = completed_scan
    page = client.get(f"/api/v1/scans/{scan_id}/components?per_page=100", headers=user.headers()).json
    with session_scope() as session:
        rows = session.scalars(
            select(Component)
            .where(Component.scan_id == scan_id)
            .order_by(Component.risk_score.desc(), Component.name, Component.id)
        ).all()
        assert page["items"] == [row.to_dict() for row in rows]
    assert all(set(item) == set(COMPONENT_WIRE_FIELDS) for item in page["items"])


def test_the_wire_fields_are_the_documented_ones():
    """The documented fields are exactly the wire's: one mapping serves rows and objects alike."""
    assert set(ScanSchema().fields) == set(SCAN_WIRE_FIELDS)
    assert set(ComponentSchema().fields) == set(COMPONENT_WIRE_FIELDS)


def test_list_totals_past_the_end_and_filtered(client, completed_scan):
    user, _scan_id = completed_scan
    past_the_end = client.get("/api/v1/scans?page=5", headers=user.headers()).json
    assert past_the_end["items"] == [] and past_the_end["total"] == 1
    assert client.get("/api/v1/scans?status=completed", headers=user.headers()).json["total"] == 1
    assert client.get("/api/v1/scans?status=queued", headers=user.headers()).json["total"] == 0


def test_the_list_reads_its_page_off_the_index_and_counts_the_rest_once(client, completed_scan, make_user):
    """A busy organization's queued scans are counted, not read and windowed, for a page of twenty: the
    statement has no window over the list, and its total still covers every scan of the organization
    (and no other's)."""
    user, _scan_id = completed_scan
    with session_scope() as session:
        session.add_all(
            Scan(organization_id=org, target=f"/srv/queued-{i}", status="queued")
            for org in (user.org_id, make_user().org_id)
            for i in range(45)
        )
    page = client.get("/api/v1/scans?per_page=20&page=3", headers=user.headers()).json
    assert page["total"] == 46 and len(page["items"]) == 6
    assert client.get("/api/v1/scans?status=queued", headers=user.headers()).json["total"] == 45
    with session_scope() as session:
        connection = session.connection()
        compiled = UNFILTERED_SCAN_PAGE.compile(connection, compile_kwargs={"render_postcompile": True})
        plan = "\n".join(
            connection.exec_driver_sql(
                f"EXPLAIN {compiled}",
                {**compiled.params, "organization_id": user.org_id, "limit": 20, "offset": 0},
            ).scalars()
        )
    assert "WindowAgg" not in plan, plan


def test_an_empty_page_still_finds_the_scan_and_a_foreign_one_does_not(client, completed_scan, make_user):
    user, scan_id = completed_scan
    past_the_end = client.get(f"/api/v1/scans/{scan_id}/components?page=9", headers=user.headers())
    assert past_the_end.status_code == 200
    assert past_the_end.json["items"] == [] and past_the_end.json["total"] == 30
    stranger = make_user()
    assert client.get(f"/api/v1/scans/{scan_id}/components", headers=stranger.headers()).status_code == 404
    unknown = client.get("/api/v1/scans/no-such-scan/components", headers=user.headers())
    assert unknown.status_code == 404


def test_the_dashboard_counts_a_scan_once_it_completes(client, completed_scan):
    """A completed scan counts on the very next view, rolled up or not (its follow-up has not run here)."""
    user, _scan_id = completed_scan
    first = client.get("/api/v1/dashboard/overview", headers=user.headers()).json
    assert first["targets"] == 1 and first["severity_distribution"]["low"] == 30
    assert len(first["top_models"]) == 10 and {model["components"] for model in first["top_models"]} == {1}
    assert first["top_providers"] == [{"name": "openai", "components": 15, "targets": 1}]
    with session_scope() as session:
        later = Scan(
            organization_id=user.org_id, target="/srv/later", status="completed", finished_at=utcnow()
        )
        session.add(later)
        session.flush()
        session.add(
            Component(
                scan_id=later.id,
                organization_id=user.org_id,
                fingerprint="later",
                name="gpt-4o",
                type="model",
                provider="openai",
                severity="critical",
                risk_score=99,
            )
        )
    second = client.get("/api/v1/dashboard/overview", headers=user.headers()).json
    assert second["targets"] == 2 and second["severity_distribution"]["critical"] == 1
    assert second["top_providers"] == [{"name": "openai", "components": 16, "targets": 2}]
    assert second["trend"][-1]["components"] == 31 and second["trend"][-1]["highest_risk_score"] == 99


def test_views_still_reach_the_user_and_organization_the_principal_query_no_longer_hydrates(
    client, make_user
):
    """The principal is plain columns; ``Principal.user`` and ``Context.organization`` load the session's
    objects on demand, so views that read or delete them keep working."""
    user = make_user()
    created = client.post("/api/v1/organizations", json={"name": "Lazy Team"}, headers=user.headers())
    assert created.status_code == 201, created.json  # current_principal().user
    org_id = created.json["id"]
    shown = client.get(f"/api/v1/organizations/{org_id}", headers=user.headers(org_id))
    assert (shown.status_code, shown.json["name"], shown.json["role"]) == (200, "Lazy Team", "admin")
    assert client.delete(f"/api/v1/organizations/{org_id}", headers=user.headers(org_id)).status_code == 204
    assert client.get(f"/api/v1/organizations/{org_id}", headers=user.headers(org_id)).status_code == 404
    personal = client.delete(f"/api/v1/organizations/{user.org_id}", headers=user.headers(user.org_id))
    assert personal.status_code == 409  # Context.organization.personal read from the loaded row


def same_json(left, right) -> bool:
    """Equal, and of the same JSON types all the way down (``1 == 1.0`` is not enough for the wire)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same_json(left[key], right[key]) for key in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same_json, left, right))
    return left == right


def test_the_json_page_writes_every_value_as_the_wire_form_does(client, make_user):
    """PostgreSQL writes the page's items as JSON itself: floats, text and nested metadata must come out
    exactly as ``Component.to_dict`` would be encoded."""
    user = make_user()
    odd_values = [
        ("plain", 1.0, {}),
        (
            'quoted "name" \\ with ünïcode ✓',
            0.1,
            {"nested": {"list": [1, 2.5, None, True]}, "ключ": "значение"},
        ),
        ("thirds", 1 / 3, {"big": 2**53, "tiny": 1e-7}),
        ("zero", 0.0, {"empty": []}),
    ]
    with session_scope() as session:
        scan = Scan(organization_id=user.org_id, target="/srv/wire", status="completed", finished_at=utcnow())
        session.add(scan)
        session.flush()
        session.add_all(
            Component(
                scan_id=scan.id,
                organization_id=user.org_id,
                fingerprint=f"wire-{index}",
                name=name,
                type="model",
                severity="low",
                risk_score=index,
                confidence=confidence,
                details=details,
                locations=[{"file": "a.py", "line": index, "snippet": "key = '…'"}],
                detector="wire",
            )
            for index, (name, confidence, details) in enumerate(odd_values)
        )
        scan_id = scan.id
    page = client.get(f"/api/v1/scans/{scan_id}/components", headers=user.headers())
    assert page.status_code == 200 and page.mimetype == "application/json"
    with session_scope() as session:
        rows = session.scalars(
            select(Component).where(Component.scan_id == scan_id).order_by(Component.risk_score.desc())
        ).all()
        expected = {"items": [row.to_dict() for row in rows], "page": 1, "per_page": 20, "total": 4}
    assert same_json(page.json, expected), page.get_data(as_text=True)


def test_the_hot_lists_parse_a_query_string_and_document_it_as_before(client, completed_scan):
    """``query_arguments`` skips webargs only when there is nothing to parse: the parameters stay in the
    OpenAPI document and a bad value is still refused."""
    user, scan_id = completed_scan
    spec = client.get("/api/v1/openapi.json").json
    for path in ("/api/v1/scans", "/api/v1/scans/{scan_id}/components"):
        documented = {parameter["name"] for parameter in spec["paths"][path]["get"]["parameters"]}
        assert {"page", "per_page"} <= documented, documented
    for list_path in ("/api/v1/scans", f"/api/v1/scans/{scan_id}/components"):
        assert client.get(f"{list_path}?per_page=0", headers=user.headers()).status_code == 422
        default = client.get(list_path, headers=user.headers()).json
        assert (default["page"], default["per_page"]) == (1, 20)
        explicit = client.get(f"{list_path}?page=1&per_page=20", headers=user.headers()).json
        assert explicit == default
