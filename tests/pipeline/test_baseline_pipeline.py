"""``new_since_baseline`` on the real path: a policy via HTTP → scans of one target by a real worker →
``compliance`` queue comparing each scan with the previous completed scan of the same target."""

from __future__ import annotations

import pytest

from tests.helpers import register_user
from tests.pipeline.test_compliance_pipeline import completed_runs, get, post, wait_for_completed_scan

pytestmark = pytest.mark.usefixtures("celery_worker")

NO_NEW_PROVIDERS = {
    "name": "No new providers",
    "action": "block",
    "rules": [
        {
            "condition": {
                "all": [
                    {"field": "new_since_baseline", "operator": "equals", "value": True},
                    {"field": "type", "operator": "equals", "value": "llm_provider"},
                ]
            }
        }
    ],
}


def scan_and_judge(client, user, org_id, target) -> tuple[dict, list[dict]]:
    scan_id = post(client, user, org_id, "/scans", {"target": str(target)}, status=202)["id"]
    wait_for_completed_scan(client, user, org_id, scan_id)
    completed_runs(client, user, org_id, scan_id, 1)
    [evaluation] = get(client, user, org_id, f"/scans/{scan_id}/evaluations")["items"]
    violations = get(client, user, org_id, f"/scans/{scan_id}/violations?per_page=100")["items"]
    return evaluation, violations


def test_a_policy_gates_only_on_what_is_new_since_the_previous_scan_of_the_target(client, scan_root):
    user = register_user(client)
    org_id = post(client, user, None, "/organizations", {"name": "Baselined"})["id"]
    post(client, user, org_id, "/policies", NO_NEW_PROVIDERS)
    project = scan_root / "service"
    project.mkdir()
    (project / "app.py").write_text("import openai\nclient = openai.OpenAI()\n")

    # The first scan of a target is its baseline: nothing in it is new.
    evaluation, violations = scan_and_judge(client, user, org_id, project)
    assert evaluation["passed"] is True and violations == []

    # A provider added since the previous completed scan fails the policy, and only it is named.
    (project / "agent.py").write_text("import anthropic\nanthropic.Anthropic()\n")
    evaluation, violations = scan_and_judge(client, user, org_id, project)
    assert evaluation["passed"] is False
    assert len(violations) == 1 and "anthropic" in violations[0]["message"]

    # The dry run on the latest scan compares with the same baseline.
    preview = post(client, user, org_id, "/policies/preview", NO_NEW_PROVIDERS, status=200)["evaluation"]
    assert preview["passed"] is False and [v["component_id"] for v in preview["violations"]] == [
        violations[0]["component_id"]
    ]

    # Scanned again unchanged: the baseline moved to the previous scan, so nothing is new.
    evaluation, violations = scan_and_judge(client, user, org_id, project)
    assert evaluation["passed"] is True

    # Another target's history does not count: its first scan is its own baseline.
    other = scan_root / "other"
    other.mkdir()
    (other / "app.py").write_text("import mistralai\nimport anthropic\n")
    evaluation, _ = scan_and_judge(client, user, org_id, other)
    assert evaluation["passed"] is True

    # Another organization scanning the same tree starts from its own (empty) history.
    stranger = register_user(client)
    stranger_org = post(client, stranger, None, "/organizations", {"name": "Elsewhere"})["id"]
    post(client, stranger, stranger_org, "/policies", NO_NEW_PROVIDERS)
    evaluation, _ = scan_and_judge(client, stranger, stranger_org, project)
    assert evaluation["passed"] is True


def test_the_condition_field_is_validated_by_the_api(client):
    user = register_user(client)
    bad = {
        **NO_NEW_PROVIDERS,
        "rules": [{"condition": {"field": "new_since_baseline", "operator": "equals", "value": "yes"}}],
    }
    response = client.post("/api/v1/policies", json=bad, headers=user.headers())
    assert response.status_code == 422
    assert "must be true or false" in str(response.json)
