"""Exports, the graph and compare through the API: validation, roles, tenancy, states and shapes.

Scans and exports are written straight to the database here; the real worker path is in
``tests/pipeline/test_exports_pipeline.py``.
"""

from __future__ import annotations

import hashlib

import pytest

from common.db import session_scope
from common.exporters import FORMATS
from common.models.base import utcnow
from common.models.exports import Export
from tests.factories import component, make_scan
from tests.helpers import add_member, register_user

API = "/api/v1"


def make_export(org_id: str, scan_id: str, *, status: str, content: bytes = b"", error=None) -> str:
    with session_scope() as session:
        export = Export(organization_id=org_id, scan_id=scan_id, format="csv", status=status, error=error)
        if status == "completed":
            export.content = content
            export.content_type = FORMATS["csv"]["content_type"]
            export.filename = f"trusera-scan-{scan_id}.csv"
            export.size_bytes = len(content)
            export.sha256 = hashlib.sha256(content).hexdigest()
            export.finished_at = utcnow()
        session.add(export)
        session.flush()
        return export.id


@pytest.fixture
def sent(monkeypatch):
    """Tasks the API enqueues, each with whether its row was committed (visible to another session)."""
    calls = []

    def record(task_name, *args, countdown=None):
        with session_scope() as session:
            row = session.get(Export, args[0])
            calls.append((task_name, args, row is not None and row.status == "queued"))
        return "task-id"

    monkeypatch.setattr("web.core.enqueueing.enqueue", record)
    return calls


def test_export_is_queued_after_commit_with_location(client, make_user, sent):
    user = make_user()
    scan_id = make_scan(user.org_id, components=[component("llm_provider", "openai")])
    response = client.post(f"{API}/scans/{scan_id}/export", json={"format": "sarif"}, headers=user.headers())
    assert response.status_code == 202, response.json
    body = response.json
    assert {k: body[k] for k in ("scan_id", "format", "status")} == {
        "scan_id": scan_id,
        "format": "sarif",
        "status": "queued",
    }
    assert response.headers["Location"].endswith(f"{API}/exports/{body['id']}")
    assert sent == [("exports.render", (body["id"],), True)]
    polled = client.get(response.headers["Location"], headers=user.headers())
    assert polled.status_code == 200 and polled.json["status"] == "queued"
    assert "download_url" not in polled.json
    early = client.get(f"{API}/exports/{body['id']}/download", headers=user.headers())
    assert early.status_code == 409
    assert early.json["message"] == "This export is queued; its file can be downloaded once it is completed."


@pytest.mark.parametrize("format_name", sorted(FORMATS))
def test_every_format_is_accepted(client, make_user, sent, format_name):
    user = make_user()
    scan_id = make_scan(user.org_id)
    response = client.post(
        f"{API}/scans/{scan_id}/export", json={"format": format_name}, headers=user.headers()
    )
    assert response.status_code == 202 and response.json["format"] == format_name


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"format": "pdf"}, "format"),
        ({"format": "CycloneDX"}, "format"),
        ({"format": 7}, "format"),
        ({}, "format"),
        ({"format": "csv", "compress": True}, "compress"),
    ],
)
def test_bad_export_bodies_are_422(client, make_user, sent, body, field):
    user = make_user()
    scan_id = make_scan(user.org_id)
    response = client.post(f"{API}/scans/{scan_id}/export", json=body, headers=user.headers())
    assert response.status_code == 422, response.json
    assert set(response.json["errors"]) == {field}
    assert sent == []


def test_unknown_format_lists_the_allowed_ones(client, make_user, sent):
    user = make_user()
    scan_id = make_scan(user.org_id)
    response = client.post(f"{API}/scans/{scan_id}/export", json={"format": "pdf"}, headers=user.headers())
    [message] = response.json["errors"]["format"]
    assert (
        message
        == "'pdf' is not an export format; use one of: cyclonedx, sarif, spdx3, html, csv, markdown, junit."
    )


@pytest.mark.parametrize("status", ["queued", "running", "failed"])
def test_only_a_completed_scan_is_exported_graphed_or_compared(client, make_user, sent, status):
    user = make_user()
    scan_id = make_scan(user.org_id, status=status)
    done = make_scan(user.org_id)
    export = client.post(f"{API}/scans/{scan_id}/export", json={"format": "csv"}, headers=user.headers())
    assert export.status_code == 409
    assert export.json["message"] == f"Only a completed scan can be exported; scan {scan_id} is {status}."
    assert client.get(f"{API}/scans/{scan_id}/graph", headers=user.headers()).status_code == 409
    assert client.get(f"{API}/scans/{scan_id}/compare/{done}", headers=user.headers()).status_code == 409
    assert client.get(f"{API}/scans/{done}/compare/{scan_id}", headers=user.headers()).status_code == 409
    assert sent == []


def test_another_organizations_scans_and_exports_are_404(client, make_user, sent):
    alice, bob = make_user(), make_user()
    alice_scan = make_scan(alice.org_id, components=[component("llm_provider", "openai")])
    bob_scan = make_scan(bob.org_id, components=[component("llm_provider", "openai")])
    alice_export = make_export(alice.org_id, alice_scan, status="completed", content=b"id,name\r\n")
    checks = [
        ("POST", f"{API}/scans/{alice_scan}/export", "Scan not found."),
        ("GET", f"{API}/scans/{alice_scan}/graph", "Scan not found."),
        ("GET", f"{API}/scans/{alice_scan}/compare/{bob_scan}", "Scan not found."),
        ("GET", f"{API}/scans/{bob_scan}/compare/{alice_scan}", "Scan not found."),
        ("GET", f"{API}/exports/{alice_export}", "Export not found."),
        ("GET", f"{API}/exports/{alice_export}/download", "Export not found."),
        ("GET", f"{API}/exports/not-an-id", "Export not found."),
    ]
    for method, path, message in checks:
        response = client.open(path, method=method, json={"format": "csv"}, headers=bob.headers())
        assert (response.status_code, response.json["message"]) == (404, message), path
    assert sent == []
    assert client.get(f"{API}/exports/{alice_export}", headers=alice.headers()).status_code == 200


def test_roles_any_member_may_export_and_read_outsiders_may_not(client, sent):
    admin = register_user(client)
    org_id = client.post(f"{API}/organizations", json={"name": "Exporters"}, headers=admin.headers()).json[
        "id"
    ]
    scan_id = make_scan(org_id, components=[component("llm_provider", "openai")])
    other = make_scan(org_id, components=[component("llm_provider", "anthropic")])
    for role in ("viewer", "analyst", "editor"):
        member = register_user(client)
        add_member(client, admin, org_id, member, role)
        created = client.post(
            f"{API}/scans/{scan_id}/export", json={"format": "junit"}, headers=member.headers(org_id)
        )
        assert created.status_code == 202, (role, created.json)
        assert created.json["status"] == "queued"
        for path in (
            f"{API}/exports/{created.json['id']}",
            f"{API}/scans/{scan_id}/graph",
            f"{API}/scans/{scan_id}/compare/{other}",
        ):
            assert client.get(path, headers=member.headers(org_id)).status_code == 200, (role, path)
    outsider = register_user(client)
    denied = client.post(
        f"{API}/scans/{scan_id}/export", json={"format": "csv"}, headers=outsider.headers(org_id)
    )
    assert denied.status_code == 403
    anonymous = client.post(f"{API}/scans/{scan_id}/export", json={"format": "csv"})
    assert anonymous.status_code == 401
    assert len(sent) == 3


def test_a_refused_export_stays_queued_for_the_reconciler(client, make_user, monkeypatch):
    def broker_down(*_args, **_kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr("web.core.enqueueing.enqueue", broker_down)
    user = make_user()
    scan_id = make_scan(user.org_id)
    response = client.post(f"{API}/scans/{scan_id}/export", json={"format": "csv"}, headers=user.headers())
    assert response.status_code == 202 and response.json["status"] == "queued", response.json
    with session_scope() as session:
        [export] = session.query(Export).filter_by(scan_id=scan_id).all()
        assert (export.status, export.error) == ("queued", None)


def test_completed_export_downloads_the_stored_file(client, make_user):
    user = make_user()
    scan_id = make_scan(user.org_id)
    content = b'id,name\r\nabc,"=cmd"\r\n'
    export_id = make_export(user.org_id, scan_id, status="completed", content=content)
    body = client.get(f"{API}/exports/{export_id}", headers=user.headers()).json
    assert body["status"] == "completed" and body["download_url"] == f"{API}/exports/{export_id}/download"
    assert body["size_bytes"] == len(content) and body["sha256"] == hashlib.sha256(content).hexdigest()
    download = client.get(body["download_url"], headers=user.headers())
    assert download.status_code == 200
    assert download.data == content
    assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert download.headers["Content-Disposition"] == f'attachment; filename="trusera-scan-{scan_id}.csv"'
    assert download.headers["ETag"] == f'"{body["sha256"]}"'
    assert download.headers["X-RateLimit-Limit"] == "200"


def test_failed_export_download_is_409_with_the_reason(client, make_user):
    user = make_user()
    scan_id = make_scan(user.org_id)
    export_id = make_export(user.org_id, scan_id, status="failed", error="unknown export format 'pdf'")
    response = client.get(f"{API}/exports/{export_id}/download", headers=user.headers())
    assert response.status_code == 409
    assert "failed" in response.json["message"] and "unknown export format 'pdf'" in response.json["message"]
    assert client.get(f"{API}/exports/{export_id}", headers=user.headers()).json["error"] == (
        "unknown export format 'pdf'"
    )


def test_graph_names_node_types_and_relations_and_is_capped(client, make_user):
    user = make_user()
    openai = component("llm_provider", "openai", risk=70, severity="high")
    model = component("model", "gpt-4o", risk=20)
    edges = [
        ("file:requirements.txt", openai["id"], "declares"),
        ("file:app.py", model["id"], "contains"),
        (openai["id"], model["id"], "uses_model"),
        ("nowhere", model["id"], "contains"),
    ]
    scan_id = make_scan(user.org_id, components=[openai, model], edges=edges)
    graph = client.get(f"{API}/scans/{scan_id}/graph", headers=user.headers()).json
    assert graph["scan_id"] == scan_id and graph["truncated"] is False and graph["limit"] == 2000
    assert [(n["id"], n["type"], n["label"]) for n in graph["nodes"]] == [
        (openai["id"], "llm_provider", "openai"),
        (model["id"], "model", "gpt-4o"),
        ("file:app.py", "file", "app.py"),
        ("file:requirements.txt", "manifest", "requirements.txt"),
    ]
    assert sorted((e["source"], e["target"], e["relation"]) for e in graph["edges"]) == sorted(edges[:3])
    assert (graph["total_nodes"], graph["total_edges"]) == (4, 3)
    capped = client.get(f"{API}/scans/{scan_id}/graph?limit=2", headers=user.headers()).json
    assert capped["truncated"] is True and capped["limit"] == 2
    assert [n["id"] for n in capped["nodes"]] == [openai["id"], model["id"]]
    assert [e["relation"] for e in capped["edges"]] == ["uses_model"]
    for bad in ("0", "10001", "many"):
        response = client.get(f"{API}/scans/{scan_id}/graph?limit={bad}", headers=user.headers())
        assert response.status_code == 422 and "limit" in response.json["errors"], bad


def test_compare_reports_added_removed_and_changed_fields(client, make_user):
    user = make_user()
    kept = component("llm_provider", "openai", version="1.40.0", flags=[], risk=10)
    dropped = component("llm_provider", "cohere")
    before = make_scan(user.org_id, components=[kept, dropped, component("model", "gpt-4o")])
    after = make_scan(
        user.org_id,
        components=[
            {
                **kept,
                "version": "1.52.0",
                "flags": ["hardcoded_api_key"],
                "risk_score": 60,
                "severity": "high",
            },
            component("model", "gpt-4o"),
            component("model", "claude-3-5-sonnet"),
        ],
    )
    diff = client.get(f"{API}/scans/{before}/compare/{after}", headers=user.headers())
    assert diff.status_code == 200
    body = diff.json
    assert (body["before_scan_id"], body["after_scan_id"]) == (before, after)
    assert [(c["type"], c["name"]) for c in body["added"]] == [("model", "claude-3-5-sonnet")]
    assert [(c["type"], c["name"]) for c in body["removed"]] == [("llm_provider", "cohere")]
    assert body["changed"] == [
        {
            "id": kept["id"],
            "name": "openai",
            "type": "llm_provider",
            "changes": {
                "version": {"before": "1.40.0", "after": "1.52.0"},
                "flags": {"before": [], "after": ["hardcoded_api_key"]},
                "risk_score": {"before": 10, "after": 60},
                "severity": {"before": "low", "after": "high"},
            },
        }
    ]
    assert body["summary"] == {
        "added": 1,
        "removed": 1,
        "changed": 1,
        "unchanged": 1,
        "risk_before": 30,
        "risk_after": 80,
        "risk_delta": 50,
    }
    reverse = client.get(f"{API}/scans/{after}/compare/{before}", headers=user.headers()).json
    assert reverse["summary"]["risk_delta"] == -50
    assert [c["name"] for c in reverse["added"]] == ["cohere"]
    same = client.get(f"{API}/scans/{before}/compare/{before}", headers=user.headers()).json
    assert same["summary"]["unchanged"] == 3 and not (same["added"] or same["removed"] or same["changed"])
