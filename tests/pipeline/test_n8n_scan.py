"""Scans of a live (fake) n8n instance through a saved credential: API and schedule, real worker."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from common.baseline import previous_completed_scan
from common.db import session_scope
from common.models import Scan
from common.models.schedules import Schedule
from tests.helpers import add_member, register_user, wait_for_scan
from tests.n8n_server import FakeN8n, agent_workflow
from tests.pipeline.test_baseline_pipeline import NO_NEW_PROVIDERS
from tests.pipeline.test_compliance_pipeline import completed_runs, post, wait_for_completed_scan
from tests.pipeline.test_scan_sources import judged
from workers.schedules import dispatch_due

pytestmark = pytest.mark.usefixtures("celery_worker")

API_KEY = "n8n_api_live_key_0123456789"
ANALYSTS_OWN_KEY = "n8n_api_analysts_own_key_98765"
WORKFLOWS = ["Support bot", "Lead scoring", "Invoice triage"]


@pytest.fixture
def n8n():
    workflows = [agent_workflow(f"w{index}", name) for index, name in enumerate(WORKFLOWS)]
    fake = FakeN8n(api_key=API_KEY, workflows=workflows, max_page_size=2).start()
    yield fake
    fake.stop()


def _credential(client, user, n8n) -> str:
    response = client.post(
        "/api/v1/connectors/n8n/credentials",
        json={"name": "fake n8n", "url": n8n.url, "api_key": API_KEY},
        headers=user.headers(),
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def _components(client, user, scan_id) -> set[tuple[str, str]]:
    page = client.get(f"/api/v1/scans/{scan_id}/components?per_page=100", headers=user.headers()).json
    return {(c["type"], c["name"]) for c in page["items"]}


def _assert_instance_scanned(client, user, scan, n8n) -> None:
    assert scan["status"] == "completed", scan
    assert scan["n8n_url"] == n8n.url and scan["target"] is None
    found = _components(client, user, scan["id"])
    assert {("workflow", name) for name in WORKFLOWS} <= found
    assert {("llm_provider", "openai"), ("model", "gpt-4o-mini")} <= found
    assert n8n.requests and all(r["key"] == API_KEY for r in n8n.requests)
    assert any("cursor=" in r["query"] for r in n8n.requests)  # followed nextCursor past the first page


def test_scan_through_a_saved_credential(client, make_user, n8n):
    user = make_user()
    credential_id = _credential(client, user, n8n)
    response = client.post("/api/v1/scans", json={"n8n_credential_id": credential_id}, headers=user.headers())
    assert response.status_code == 202, response.json
    assert API_KEY not in str(response.json)
    _assert_instance_scanned(client, user, wait_for_scan(client, user, response.json["id"]), n8n)
    with session_scope() as session:  # the worker's copy of the key ends with the scan
        assert session.get(Scan, response.json["id"]).n8n_api_key_encrypted is None


def test_connector_test_against_the_same_instance(client, make_user, n8n):
    user = make_user()
    credential_id = _credential(client, user, n8n)
    outcome = client.post(
        "/api/v1/connectors/n8n/test", json={"credential_id": credential_id}, headers=user.headers()
    ).json
    assert outcome["status"] == "reachable"
    assert n8n.requests == [{"path": "/api/v1/workflows", "query": "limit=1", "key": API_KEY}]


def test_a_schedule_scans_the_instance_of_its_credential(client, make_user, n8n):
    with session_scope() as session:  # dispatch_due serves every organization: only this schedule is due
        session.execute(update(Schedule).values(enabled=False, next_run_at=None))
    user = make_user()
    credential_id = _credential(client, user, n8n)
    schedule = client.post(
        "/api/v1/schedules",
        json={
            "name": "n8n nightly",
            "n8n_credential_id": credential_id,
            "cron": "0 3 * * *",
            "timezone": "UTC",
        },
        headers=user.headers(),
    ).json
    due_at = datetime(2026, 4, 2, 3, 0, tzinfo=UTC)
    with session_scope() as session:
        session.get(Schedule, schedule["id"]).next_run_at = due_at
    (scan_id,) = dispatch_due(now=due_at)
    _assert_instance_scanned(client, user, wait_for_scan(client, user, scan_id), n8n)
    with session_scope() as session:  # read with the saved credential: a baseline for every later scan
        assert session.get(Scan, scan_id).n8n_from_credential is True


def test_a_raw_instance_url_is_checked_at_creation_and_again_by_the_worker(client, make_user, n8n):
    user = make_user()
    internal = client.post(
        "/api/v1/scans",
        json={"n8n_url": "http://10.0.0.7:5678", "n8n_api_key": API_KEY},
        headers=user.headers(),
    )
    assert internal.status_code == 422 and "n8n_url" in internal.json["errors"]
    direct = client.post(
        "/api/v1/scans", json={"n8n_url": n8n.url, "n8n_api_key": API_KEY}, headers=user.headers()
    ).json
    assert wait_for_scan(client, user, direct["id"])["status"] == "completed"
    unresolvable = client.post(
        "/api/v1/scans",
        json={"n8n_url": "http://n8n.invalid", "n8n_api_key": API_KEY},
        headers=user.headers(),
    ).json
    failed = wait_for_scan(client, user, unresolvable["id"])
    assert failed["status"] == "failed" and "does not resolve" in failed["error"]
    assert API_KEY not in str(failed)


def _anthropic_workflow(workflow_id: str, name: str) -> dict:
    workflow = agent_workflow(workflow_id, name)
    model = workflow["nodes"][2]
    model["type"] = "@n8n/n8n-nodes-langchain.lmChatAnthropic"
    model["parameters"] = {"model": {"__rl": True, "value": "claude-3-5-haiku-20241022", "mode": "list"}}
    return workflow


def _instance_scan(client, user, org_id, body: dict) -> str:
    scan_id = post(client, user, org_id, "/scans", body, status=202)["id"]
    wait_for_completed_scan(client, user, org_id, scan_id)
    completed_runs(client, user, org_id, scan_id, 1)
    return scan_id


def test_an_instance_read_with_an_analysts_own_key_is_no_baseline_for_the_saved_credential(client, n8n):
    """An analyst's own n8n account sees their own workflows: scanned with its key at the organization's
    instance URL, a workflow of theirs holding a new provider was the baseline of the next scan made with
    the credential an editor saved, where the provider then passed the block policy as not new."""
    admin, analyst = register_user(client), register_user(client)
    org_id = post(client, admin, None, "/organizations", {"name": "n8n guarded"})["id"]
    add_member(client, admin, org_id, analyst, "analyst")
    post(client, admin, org_id, "/policies", NO_NEW_PROVIDERS)
    saved = {"name": "production n8n", "url": n8n.url, "api_key": API_KEY}
    credential = {
        "n8n_credential_id": post(client, admin, org_id, "/connectors/n8n/credentials", saved)["id"]
    }
    organizations_workflows = n8n.workflows

    first = _instance_scan(client, analyst, org_id, credential)  # the saved credential: anyone's baseline
    n8n.api_key, n8n.workflows = ANALYSTS_OWN_KEY, [_anthropic_workflow("a1", "Analyst's sandbox")]
    own_key = {"n8n_url": n8n.url, "n8n_api_key": ANALYSTS_OWN_KEY}
    decoy = _instance_scan(client, analyst, org_id, own_key)
    again = _instance_scan(client, analyst, org_id, own_key)
    n8n.api_key = API_KEY
    n8n.workflows = [*organizations_workflows, _anthropic_workflow("w9", "Claims triage")]
    later = _instance_scan(client, admin, org_id, credential)

    assert judged(client, admin, org_id, first) == (True, [])
    assert judged(client, admin, org_id, later) == (False, ["anthropic"])
    with session_scope() as session:
        assert previous_completed_scan(session, session.get(Scan, later)).id == first
        # what the analyst's own key read is still the baseline of their own next scan with it
        assert previous_completed_scan(session, session.get(Scan, again)).id == decoy


def test_a_path_scanned_with_an_instance_is_no_baseline_of_the_path_alone(client, n8n, scan_root):
    """A member may send a path and an n8n credential in one scan: judged by its ``target`` alone, that scan
    was the baseline of the path's next scan, so a provider the instance's workflows used passed the block
    policy as not new when it first appeared in the code."""
    admin = register_user(client)
    org_id = post(client, admin, None, "/organizations", {"name": "mixed sources"})["id"]
    post(client, admin, org_id, "/policies", NO_NEW_PROVIDERS)
    saved = {"name": "production n8n", "url": n8n.url, "api_key": API_KEY}
    credential_id = post(client, admin, org_id, "/connectors/n8n/credentials", saved)["id"]
    n8n.workflows = [_anthropic_workflow("w9", "Claims triage")]
    project = scan_root / "mixed-service"
    project.mkdir()
    (project / "app.py").write_text("import openai\nclient = openai.OpenAI()\n")

    path_alone = _instance_scan(client, admin, org_id, {"target": str(project)})
    _instance_scan(client, admin, org_id, {"target": str(project), "n8n_credential_id": credential_id})
    (project / "agent.py").write_text("import anthropic\nanthropic.Anthropic()\n")
    later = _instance_scan(client, admin, org_id, {"target": str(project)})

    assert judged(client, admin, org_id, later) == (False, ["anthropic"])
    with session_scope() as session:
        assert previous_completed_scan(session, session.get(Scan, later)).id == path_alone
