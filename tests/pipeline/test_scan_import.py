"""Results uploaded from CI: HTTP -> ``ingest`` worker -> compliance and policies -> events, and the CLI's
``--upload`` / ``--wait`` against the live API with an API key."""

from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import func, select

from common import cli
from common.db import session_scope
from common.models import Scan, ScanResultPayload
from tests.helpers import scan_event_reader, settings_from, wait_for, wait_for_scan

pytestmark = pytest.mark.usefixtures("celery_worker")

IMPORT = "/api/v1/scans/import"
SHA = "0123456789abcdef0123456789abcdef01234567"
RETIRED_POLICY = {
    "name": "No OpenAI in production",
    "action": "block",
    "rules": [{"metric": "count(type=llm_provider, provider=OpenAI)", "operator": "gt", "value": 0}],
}


def _nested_components(depth: int) -> dict:
    component: dict = {"type": "library", "name": "leaf"}
    for _ in range(depth):
        component = {"type": "library", "name": "outer", "components": [component]}
    return component


def write_project(root):
    (root / "app.py").write_text("import openai\n\nclient = openai.OpenAI()\n")
    (root / "agent.py").write_text("from anthropic import Anthropic\n\nclient = Anthropic()\n")


def cli_result(root, tmp_path) -> dict:
    report = tmp_path / "result.json"
    assert cli.main(["scan", str(root), "--format", "json", "-o", str(report), "--quiet", "--jobs", "1"]) == 0
    return json.loads(report.read_text())


def api_key(client, user) -> str:
    response = client.post("/api/v1/auth/api-key", json={"name": "CI"}, headers=user.headers())
    assert response.status_code == 201, response.json
    return response.json["key"]


def scan_count(organization_id: str) -> int:
    with session_scope() as session:
        return session.scalar(
            select(func.count()).select_from(Scan).where(Scan.organization_id == organization_id)
        )


def evaluations(client, headers, scan_id) -> list[dict]:
    def done():
        runs = client.get(f"/api/v1/compliance/evaluations?scan_id={scan_id}", headers=headers).json["items"]
        return runs if any(run["status"] == "completed" for run in runs) else None

    wait_for(done, timeout=60)
    return client.get(f"/api/v1/scans/{scan_id}/evaluations", headers=headers).json["items"]


def test_the_cli_result_is_ingested_like_a_scan_with_its_source(client, make_user, scan_root, tmp_path):
    user = make_user()
    headers = {"Authorization": f"Bearer {api_key(client, user)}", "Idempotency-Key": "ci-run-42"}
    client.post("/api/v1/policies", json=RETIRED_POLICY, headers=user.headers())
    write_project(scan_root)
    result = cli_result(scan_root, tmp_path)
    source = {
        "repository_url": "https://github.com/acme/agents.git",
        "commit": SHA,
        "branch": "main",
        "ci_run_url": "https://github.com/acme/agents/actions/runs/42",
    }
    response = client.post(IMPORT, json=result, query_string=source, headers=headers)
    assert response.status_code == 202, response.json
    assert response.headers["Location"].endswith(f"/api/v1/scans/{response.json['id']}")
    again = client.post(IMPORT, json=result, query_string=source, headers=headers)
    assert again.status_code == 202 and again.json["id"] == response.json["id"]
    scan = wait_for_scan(client, user, response.json["id"])
    assert scan["status"] == "completed", scan
    assert (scan["repository_url"], scan["commit_sha"], scan["branch"], scan["ci_run_url"]) == tuple(
        source.values()
    )
    imported = client.get(f"/api/v1/scans/{scan['id']}/components?per_page=100", headers=user.headers()).json
    assert {c["id"] for c in imported["items"]} == {c["id"] for c in result["components"]}
    [verdict] = evaluations(client, user.headers(), scan["id"])
    assert verdict["action"] == "block" and verdict["passed"] is False
    listed = client.get(
        "/api/v1/scans?repository=https://github.com/acme/agents.git", headers=user.headers()
    ).json["items"]
    assert [s["id"] for s in listed] == [scan["id"]] and listed[0]["commit_sha"] == SHA


def test_a_foreign_cyclonedx_bom_is_governed(client, make_user):
    user = make_user()
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {"tools": {"components": [{"type": "application", "name": "syft", "version": "1.0.0"}]}},
        "components": [
            {
                "type": "library",
                "bom-ref": "pkg:pypi/openai@1.30.0",
                "name": "openai",
                "version": "1.30.0",
                "purl": "pkg:pypi/openai@1.30.0",
            },
            {
                "type": "library",
                "bom-ref": "pkg:npm/langchain@0.2.0",
                "name": "langchain",
                "version": "0.2.0",
                "purl": "pkg:npm/langchain@0.2.0",
            },
            {
                "type": "library",
                "bom-ref": "pkg:pypi/requests@2.32.0",
                "name": "requests",
                "version": "2.32.0",
                "purl": "pkg:pypi/requests@2.32.0",
            },
            {"type": "machine-learning-model", "bom-ref": "model-1", "name": "gpt-4o"},
        ],
        "dependencies": [{"ref": "pkg:npm/langchain@0.2.0", "dependsOn": ["pkg:pypi/openai@1.30.0"]}],
    }
    response = client.post(IMPORT, json=bom, headers=user.headers())
    assert response.status_code == 202, response.json
    scan = wait_for_scan(client, user, response.json["id"])
    assert scan["status"] == "completed", scan
    found = client.get(f"/api/v1/scans/{scan['id']}/components?per_page=100", headers=user.headers()).json[
        "items"
    ]
    assert {(c["type"], c["name"]) for c in found} >= {("llm_provider", "openai"), ("model", "gpt-4o")}
    assert "requests" not in {c["name"] for c in found}
    assert all(c["risk_score"] > 0 for c in found)
    assert any("not AI components" in w["message"] for w in scan["warnings"])
    assert scan["summary"]["total_components"] == len(found)


def test_a_platform_cyclonedx_export_comes_back_with_the_same_components(client, make_user, scan_root):
    user = make_user()
    write_project(scan_root)
    native = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers()).json
    assert wait_for_scan(client, user, native["id"])["status"] == "completed"
    export = client.post(
        f"/api/v1/scans/{native['id']}/export", json={"format": "cyclonedx"}, headers=user.headers()
    )

    def downloaded():
        state = client.get(export.headers["Location"], headers=user.headers()).json
        return state if state["status"] == "completed" else None

    wait_for(downloaded, timeout=60)
    document = client.get(export.headers["Location"] + "/download", headers=user.headers()).get_data()
    response = client.post(IMPORT, data=document, content_type="application/json", headers=user.headers())
    assert response.status_code == 202, response.json
    assert wait_for_scan(client, user, response.json["id"])["status"] == "completed"
    difference = client.get(
        f"/api/v1/scans/{native['id']}/compare/{response.json['id']}", headers=user.headers()
    ).json
    assert difference["added"] == [] and difference["removed"] == []


@pytest.mark.parametrize(
    ("document", "bad_part"),
    [
        ({"bomFormat": "CycloneDX", "specVersion": "1.4", "version": 1}, "specVersion"),
        ({"hello": "world"}, "_body"),
        ([1, 2, 3], "_body"),
    ],
)
def test_an_upload_of_no_accepted_format_is_a_422_naming_the_bad_part_and_stores_nothing(
    client, make_user, document, bad_part
):
    """What the document's top level decides is decided by the API, before anything is stored."""
    user = make_user()
    response = client.post(IMPORT, json=document, headers=user.headers())
    assert response.status_code == 422, response.json
    assert bad_part in response.json["errors"], response.json
    assert scan_count(user.org_id) == 0


def test_an_upload_that_is_not_json_is_a_400_and_stores_nothing(client, make_user):
    user = make_user()
    response = client.post(
        IMPORT, data=b'{"components": [', content_type="application/json", headers=user.headers()
    )
    assert response.status_code == 400, response.json
    assert scan_count(user.org_id) == 0


SECRET = "sk-proj-" + "Q7fZ2kLm9XwR4tVb8NcJ1pHs6YdG3eAu5iKo0rTy"


@pytest.mark.parametrize(
    ("document", "bad_part"),
    [
        (
            {"components": [{"id": "a", "name": "x", "type": SECRET}], "tool": {"name": "trusera"}},
            "components.0.type",
        ),
        (
            {
                "components": [{"id": "a", "name": "x", "type": "model", "risk_score": 101}],
                "files_scanned": 1,
            },
            "components.0.risk_score",
        ),
        (
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "version": 1,
                "components": [{"type": "library"}],
            },
            "components.0",
        ),
        (
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "version": 1,
                "components": [{"type": SECRET, "name": "x"}],
            },
            "components.0.type",
        ),
        (
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "version": 1,
                "components": [_nested_components(200)],
            },
            "_body",
        ),
    ],
)
def test_an_upload_its_schema_refuses_fails_its_scan_with_the_bad_parts(
    client, make_user, live_server, document, bad_part
):
    """The schema runs in the ingest worker: the upload is accepted (202), then its scan fails, the errors
    naming the bad parts in the scan's error and its ``scan.failed`` event, no uploaded value quoted, and
    neither components nor the stored body are kept."""
    user = make_user()
    socket, _hello, received, done = scan_event_reader(live_server, user)
    try:
        response = client.post(IMPORT, json=document, headers=user.headers())
        assert response.status_code == 202, response.json
        scan = wait_for_scan(client, user, response.json["id"])
        assert done.wait(30)
    finally:
        socket.close()
    assert scan["status"] == "failed", scan
    assert f"{bad_part}:" in scan["error"] and SECRET not in scan["error"], scan["error"]
    [failed] = [event for event in received if event["type"] == "scan.failed"]
    assert failed["scan_id"] == scan["id"] and failed["error"] == scan["error"]
    components = client.get(f"/api/v1/scans/{scan['id']}/components", headers=user.headers()).json
    assert components["total"] == 0
    with session_scope() as session:
        assert session.get(ScanResultPayload, scan["id"]) is None


def test_a_large_valid_upload_completes(client, make_user):
    """A megabyte of a BOM made elsewhere (one AI package among 5,000 others), validated and converted by the
    worker (~2 s of its CPU)."""
    user = make_user()
    others = [
        {"type": "library", "bom-ref": f"pkg:npm/lib-{i}@1.0.{i}", "name": f"lib-{i}", "version": f"1.0.{i}"}
        | {"purl": f"pkg:npm/lib-{i}@1.0.{i}", "description": "x" * 100}
        for i in range(5_000)
    ]
    openai = {"type": "library", "name": "openai", "version": "1.30.0", "purl": "pkg:pypi/openai@1.30.0"}
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [openai, *others]}
    body = json.dumps(bom).encode()
    assert len(body) > 1_000_000
    response = client.post(IMPORT, data=body, content_type="application/json", headers=user.headers())
    assert response.status_code == 202, response.json
    scan = wait_for_scan(client, user, response.json["id"], timeout=120)
    assert scan["status"] == "completed", scan
    assert scan["summary"]["total_components"] == 1
    assert any("5000 BOM components are not AI components" in w["message"] for w in scan["warnings"])


@pytest.fixture
def small_uploads(monkeypatch):
    with settings_from(monkeypatch, IMPORT_MAX_CONTENT_LENGTH="2000"):
        yield


def test_an_upload_over_the_size_limit_is_a_413(client, make_user, small_uploads):
    user = make_user()
    components = [{"id": f"c{i}", "name": "openai", "type": "llm_provider"} for i in range(100)]
    response = client.post(
        IMPORT, json={"components": components, "tool": {"name": "trusera"}}, headers=user.headers()
    )
    assert response.status_code == 413
    assert scan_count(user.org_id) == 0


def test_cli_upload_and_wait_exit_on_the_platforms_block_policy(
    client, make_user, scan_root, live_server, monkeypatch, capsys
):
    user = make_user()
    key = api_key(client, user)
    write_project(scan_root)
    monkeypatch.setenv("TRUSERA_API_KEY", key)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/agents")
    monkeypatch.setenv("GITHUB_SHA", SHA)
    monkeypatch.setenv("GITHUB_REF_NAME", "feature/x")
    monkeypatch.setenv("GITHUB_RUN_ID", "77")
    argv = [
        "scan",
        str(scan_root),
        "--format",
        "json",
        "--quiet",
        "--jobs",
        "1",
        "--upload",
        live_server,
        "--wait",
    ]
    assert cli.main([*argv, "-o", "/dev/null"]) == 0  # no policy yet: the platform lets it through
    first_url = capsys.readouterr().err.strip().splitlines()[-1].removeprefix("uploaded: ")
    scan = requests.get(first_url, headers={"Authorization": f"Bearer {key}"}, timeout=10).json()
    assert scan["status"] == "completed" and scan["commit_sha"] == SHA and scan["branch"] == "feature/x"
    assert scan["repository_url"] == "https://github.com/acme/agents"
    assert scan["ci_run_url"] == "https://github.com/acme/agents/actions/runs/77"

    client.post("/api/v1/policies", json=RETIRED_POLICY, headers=user.headers())
    assert cli.main([*argv, "-o", "/dev/null"]) == 1
    err = capsys.readouterr().err
    assert "platform policy 'No OpenAI in production' [block]: FAILED" in err
    monkeypatch.setenv("TRUSERA_API_KEY", "tsk_not-a-key-not-a-key-not-a-key-0000")
    assert cli.main([*argv, "-o", "/dev/null"]) == 2
    assert "upload failed: HTTP 401" in capsys.readouterr().err


def export_of(client, user, scan_id: str, format_name: str) -> bytes:
    export = client.post(
        f"/api/v1/scans/{scan_id}/export", json={"format": format_name}, headers=user.headers()
    )
    assert export.status_code == 202, export.json

    def finished():
        state = client.get(export.headers["Location"], headers=user.headers()).json
        return state if state["status"] in ("completed", "failed") else None

    assert wait_for(finished, timeout=60)["status"] == "completed"
    return client.get(export.headers["Location"] + "/download", headers=user.headers()).get_data()


def test_the_source_of_an_upload_is_in_its_exports(client, make_user, scan_root, tmp_path):
    from tests.export_validators import check_export

    user = make_user()
    write_project(scan_root)
    result = cli_result(scan_root, tmp_path)
    source = {
        "repository_url": "https://gitlab.example.com/acme/agents.git",
        "commit": SHA,
        "branch": "main",
        "ci_run_url": "https://gitlab.example.com/acme/agents/-/jobs/9",
    }
    queued = client.post(IMPORT, json=result, query_string=source, headers=user.headers()).json
    assert wait_for_scan(client, user, queued["id"])["status"] == "completed"
    components = len(result["components"])
    bom = check_export("cyclonedx", export_of(client, user, queued["id"], "cyclonedx"), components=components)
    properties = {p["name"]: p["value"] for p in bom["metadata"]["properties"]}
    assert properties["trusera:source_commit"] == SHA
    assert properties["trusera:source_repository_url"] == source["repository_url"]
    assert properties["trusera:source_ci_run_url"] == source["ci_run_url"]
    sarif = check_export("sarif", export_of(client, user, queued["id"], "sarif"), components=components)
    assert sarif["runs"][0]["versionControlProvenance"] == [
        {"repositoryUri": source["repository_url"], "revisionId": SHA, "branch": "main"}
    ]
    markdown = export_of(client, user, queued["id"], "markdown").decode()
    assert f"Repository {source['repository_url']} · commit {SHA} · branch main" in markdown
    html = check_export("html", export_of(client, user, queued["id"], "html"), components=components)
    assert f"Repository {source['repository_url']} · commit {SHA} · branch main" in html
