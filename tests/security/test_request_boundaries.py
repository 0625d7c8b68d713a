"""The API's request plumbing played by a hostile client: query strings the fast path loads without webargs,
values that reach the precompiled page SQL, ids and filters PostgreSQL cannot compare, made-up HTTP
methods, and the scans pages of an organization the caller was removed from."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select

from common.db import session_scope
from common.models import Scan
from tests.factories import component, make_scan
from tests.helpers import add_member
from web.core.metrics import registry

COUNTED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

HOSTILE_PAGES = [
    "per_page=nan",
    "per_page=inf",
    "per_page=-1",
    "per_page=0",
    "per_page=101",
    "per_page=1e2",
    "per_page=2.5",
    "per_page=" + "9" * 5000,  # past the length Python converts to int
    "page=0",
    "page=100001",
    "page=-9223372036854775808",
    "per_page=abc&per_page=5",  # repeated: the first value counts, as webargs reads it
    "per_page=20;DROP TABLE scans",
    "surprise=1&per_page=1000",
]


def _pages(client, user) -> dict[str, str]:
    scan_id = make_scan(user.org_id, components=[component("model", "gpt-4o")])
    return {"scans": "/api/v1/scans", "components": f"/api/v1/scans/{scan_id}/components"}


@pytest.mark.parametrize("query", HOSTILE_PAGES)
def test_a_hostile_page_is_refused_as_webargs_refuses_it(client, make_user, query):
    """Both fast paths (no webargs while the arguments are valid) answer an invalid page with webargs' own
    422 body, naming the argument."""
    user = make_user()
    for page in _pages(client, user).values():
        response = client.get(f"{page}?{query}", headers=user.headers())
        assert response.status_code == 422, (page, query, response.json)
        assert response.json["message"] == "The request body or parameters are invalid."
        named = {"page", "per_page"} & set(response.json["errors"])
        assert named and all(response.json["errors"][name] for name in named)


@pytest.mark.parametrize(
    ("page", "query"),
    [
        ("scans", "status=COMPLETED"),
        ("scans", "status=completed%27%20OR%20%271%27=%271"),
        ("scans", "commit=" + "a" * 65),
        ("components", "type=model%27--"),
        ("components", "severity=LOW"),
        ("components", "min_risk=101"),
        ("components", "min_risk=1%20OR%201=1"),
        ("components", "name=" + "x" * 301),
    ],
)
def test_a_filter_the_schema_refuses_is_a_422_on_the_fast_path_too(client, make_user, page, query):
    user = make_user()
    response = client.get(f"{_pages(client, user)[page]}?{query}", headers=user.headers())
    assert response.status_code == 422 and query.split("=")[0] in response.json["errors"]


@pytest.mark.parametrize(
    ("page", "argument"),
    [
        ("scans", "target"),
        ("scans", "repository"),
        ("scans", "commit"),
        ("components", "name"),
        ("components", "provider"),
        ("components", "detector"),
        ("components", "flag"),
    ],
)
def test_a_nul_byte_in_a_filter_is_a_422_not_a_500(client, make_user, page, argument):
    """PostgreSQL refuses text holding a NUL byte: the filter is refused by its schema, not by the driver."""
    user = make_user()
    response = client.get(f"{_pages(client, user)[page]}?{argument}=a%00b", headers=user.headers())
    assert response.status_code == 422, response.json
    assert response.json["errors"] == {argument: ["Must not contain a NUL character."]}


@pytest.mark.parametrize(
    "path", ["/api/v1/scans/%00", "/api/v1/scans/%00/components", "/api/v1/scans/ab%00/components"]
)
def test_a_scan_id_holding_a_nul_byte_is_not_found(client, make_user, path):
    user = make_user()
    response = client.get(path, headers=user.headers())
    assert response.status_code == 404 and response.json["message"] == "Scan not found."


@pytest.mark.parametrize(
    "scan_id",
    ["' OR '1'='1", "x') OR TRUE --", "1; DELETE FROM scans", "%", "(SELECT id FROM scans LIMIT 1)"],
)
def test_a_scan_id_shaped_as_sql_reaches_the_precompiled_page_as_a_value(client, make_user, scan_id):
    """The unfiltered components page is driver SQL compiled once; the id is bound through its sub-select,
    never written in: nothing is found, and the organization's scans are all still there."""
    user, stranger = make_user(), make_user()
    make_scan(stranger.org_id, components=[component("model", "o1")])
    mine = make_scan(user.org_id, components=[component("model", "gpt-4o")])
    response = client.get(f"/api/v1/scans/{scan_id}/components", headers=user.headers())
    assert response.status_code == 404 and response.json["message"] == "Scan not found."
    listed = client.get("/api/v1/scans", headers=user.headers()).json
    assert [item["id"] for item in listed["items"]] == [mine] and listed["total"] == 1


def test_made_up_http_methods_add_no_metric_children(client):
    """The method is the client's word, answered 405 before any authentication: each new one used to add
    a child to the request counter and the latency histogram (and to their memo), kept for the process's
    life. Every method outside the standard ones is counted as one."""

    def other_count() -> float:
        labels = {"method": "OTHER", "route": "unmatched", "status": "405"}
        return registry.get_sample_value("trusera_http_requests_total", labels) or 0.0

    before = other_count()
    made_up = [f"X{secrets.token_hex(4).upper()}" for _ in range(25)]
    for method in made_up:
        assert client.open("/api/v1/scans", method=method).status_code == 405
    assert other_count() == before + len(made_up)
    methods = {
        sample.labels["method"]
        for metric in registry.collect()
        if metric.name in ("trusera_http_requests", "trusera_http_request_duration_seconds")
        for sample in metric.samples
    }
    assert methods <= COUNTED_METHODS | {"OTHER"}


def test_a_removed_member_reads_no_scans_page_of_the_organization(client, make_user):
    """The pages' compiled SQL is remembered per dialect, the member's principal per token: once removed,
    the member reads neither the list nor a scan's components, however warm both were, while the admin
    and an unrelated organization each still read exactly their own."""
    admin, member, stranger = make_user(), make_user(), make_user()
    team = client.post("/api/v1/organizations", json={"name": "Team"}, headers=admin.headers()).json["id"]
    add_member(client, admin, team, member, "viewer")
    scan_id = make_scan(team, components=[component("model", "gpt-4o")])
    make_scan(stranger.org_id)
    pages = ["/api/v1/scans", f"/api/v1/scans/{scan_id}/components", "/api/v1/scans?per_page=5"]
    for page in pages:
        assert client.get(page, headers=member.headers(team)).status_code == 200
    removed = client.delete(f"/api/v1/organizations/{team}/members/{member.id}", headers=admin.headers(team))
    assert removed.status_code == 204
    for page in pages:
        response = client.get(page, headers=member.headers(team))
        assert response.status_code == 403, (page, response.json)
    assert client.get(pages[1], headers=member.headers()).status_code == 404  # nor from their own
    assert [item["id"] for item in client.get(pages[0], headers=admin.headers(team)).json["items"]] == [
        scan_id
    ]
    stranger_list = client.get(pages[0], headers=stranger.headers()).json
    assert stranger_list["total"] == 1 and stranger_list["items"][0]["id"] != scan_id


def test_the_fast_list_answers_each_organization_its_own_total(client, make_user):
    """Nothing of one request's page is kept for the next: two organizations alternating on the same
    precompiled statement each get their own items and total, on every page and past the end."""
    first, second = make_user(), make_user()
    owned = {first.org_id: {make_scan(first.org_id, target=f"/srv/a{n}") for n in range(3)}}
    owned[second.org_id] = {make_scan(second.org_id, target="/srv/b")}
    for _ in range(2):
        for user, total in ((first, 3), (second, 1)):
            for page in (1, 2, 9):
                body = client.get(f"/api/v1/scans?page={page}&per_page=2", headers=user.headers()).json
                assert body["total"] == total and body["page"] == page
                assert {item["id"] for item in body["items"]} <= owned[user.org_id]
                assert all(item["organization_id"] == user.org_id for item in body["items"])


def test_the_list_fast_path_never_serves_another_query(client, make_user):
    """A filtered list never takes the unfiltered precompiled page: the filter applies."""
    user = make_user()
    make_scan(user.org_id, target="/srv/one")
    make_scan(user.org_id, target="/srv/two", status="failed")
    body = client.get("/api/v1/scans?status=failed", headers=user.headers()).json
    assert body["total"] == 1 and [item["target"] for item in body["items"]] == ["/srv/two"]


def test_the_precompiled_pages_answer_as_the_filtered_ones(client, make_user):
    """The unfiltered pages are written by precompiled SQL, the filtered ones by the general statements:
    with a filter every row passes, both answer the same items for odd values (quotes, backslashes,
    non-ASCII, a NUL-free control character, JSON nulls, whole and fractional numbers), and a scan of
    another organization is in neither."""
    user, stranger = make_user(), make_user()
    odd = 'a "quoted" \\ back\\slash ünïcode ✓ \t tab'
    make_scan(stranger.org_id, target=odd, components=[component("model", odd)])
    scan_id = make_scan(
        user.org_id,
        target=odd,
        summary={"total_components": 3, "ratio": 0.1, "whole": 2.0, "text": odd},
        warnings=None,
        components=[
            component("model", odd, provider=odd, version="1.0", locations=[("a.py", 1, odd)], risk=0),
            component("llm_provider", "openai", flags=["unpinned_model"], confidence=1.0, risk=55),
            component("library", "torch", metadata={"nested": [1, 2.5, None, odd]}, confidence=0.25),
        ],
    )
    headers = user.headers()
    for unfiltered, filtered in (
        ("/api/v1/scans", "/api/v1/scans?status=completed"),
        (f"/api/v1/scans/{scan_id}/components", f"/api/v1/scans/{scan_id}/components?min_risk=0"),
    ):
        fast, general = client.get(unfiltered, headers=headers), client.get(filtered, headers=headers)
        assert fast.status_code == general.status_code == 200
        assert fast.json == general.json
        assert fast.json["total"] == len(fast.json["items"]) >= 1
        assert stranger.org_id not in fast.get_data(as_text=True)


def test_the_scan_create_limit_holds_on_the_faster_create_path(client, make_user, scan_root, held_ingest):
    """``POST /scans`` is still limited per caller: past ten a minute it is refused before anything is
    written or sent, and another organization's caller is not refused for it."""
    user, other = make_user(), make_user()
    (scan_root / "app.py").write_text("import openai\n")
    body = {"target": str(scan_root)}
    answers = [client.post("/api/v1/scans", json=body, headers=user.headers()) for _ in range(12)]
    assert [answer.status_code for answer in answers] == [202] * 10 + [429] * 2
    assert answers[-1].json["message"].startswith("Rate limit exceeded")
    with session_scope() as session:
        created = session.scalars(select(Scan.id).where(Scan.organization_id == user.org_id)).all()
    assert sorted(created) == sorted(answer.json["id"] for answer in answers[:10]) == sorted(held_ingest)
    assert client.post("/api/v1/scans", json=body, headers=other.headers()).status_code == 202


def test_the_scans_of_a_deleted_organization_are_gone_from_every_page(client, make_user):
    """Deleting an organization deletes its scans: neither its former members nor its admin reads them
    again, through the organization or from their own, on the precompiled pages or the filtered ones."""
    admin, member = make_user(), make_user()
    team = client.post("/api/v1/organizations", json={"name": "Gone"}, headers=admin.headers()).json["id"]
    add_member(client, admin, team, member, "viewer")
    scan_id = make_scan(team, components=[component("model", "gpt-4o")])
    pages = [f"/api/v1/scans/{scan_id}/components", f"/api/v1/scans/{scan_id}/components?min_risk=0"]
    assert all(client.get(page, headers=member.headers(team)).status_code == 200 for page in pages)
    assert client.delete(f"/api/v1/organizations/{team}", headers=admin.headers(team)).status_code == 204
    for user in (admin, member):
        for page in pages:
            assert client.get(page, headers=user.headers(team)).status_code == 403
            assert client.get(page, headers=user.headers()).status_code == 404
        assert client.get("/api/v1/scans", headers=user.headers(team)).status_code == 403
        assert client.get("/api/v1/scans", headers=user.headers()).json["total"] == 0
