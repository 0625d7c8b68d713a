"""Compliance on the real path: rules and policies via HTTP → scan of a fixture tree by a real worker →
``compliance`` queue → stored results → ``policy.violated`` events → alerts, then re-evaluation,
framework switches and the dry run."""

from __future__ import annotations

import json
import secrets
import string

import pytest
from sqlalchemy import func, select

from common.compliance.evaluator import compliance_score
from common.db import session_scope
from common.events import channel_for
from common.models.compliance import ComplianceResult, EvaluationRun, Policy, PolicyEvaluation
from common.redis_client import get_redis
from tests.helpers import add_member, register_user, wait_for

pytestmark = pytest.mark.usefixtures("celery_worker")

API = "/api/v1"


def fake_openai_key() -> str:
    alphabet = string.ascii_letters + string.digits
    return "sk-proj-" + "".join(secrets.choice(alphabet) for _ in range(48))


def write_project(root) -> None:
    (root / "app.py").write_text(
        "import openai\n"
        "\n"
        f'client = openai.OpenAI(api_key="{fake_openai_key()}")\n'
        'old = client.chat.completions.create(model="gpt-3.5-turbo-0301", messages=[])\n'
        'cheap = client.chat.completions.create(model="deepseek-chat", messages=[])\n'
    )


def post(client, user, org_id, path, body, status=201):
    response = client.post(f"{API}{path}", json=body, headers=user.headers(org_id))
    assert response.status_code == status, response.json
    return response.json


def get(client, user, org_id, path):
    response = client.get(f"{API}{path}", headers=user.headers(org_id))
    assert response.status_code == 200, response.json
    return response.json


def wait_for_completed_scan(client, user, org_id, scan_id) -> dict:
    def finished():
        scan = get(client, user, org_id, f"/scans/{scan_id}")
        return scan if scan["status"] in ("completed", "failed") else None

    scan = wait_for(finished, timeout=90, interval=0.2)
    assert scan["status"] == "completed", scan
    return scan


def completed_runs(client, user, org_id, scan_id, count):
    def done():
        runs = get(client, user, org_id, f"/compliance/evaluations?scan_id={scan_id}")["items"]
        finished = [run for run in runs if run["status"] in ("completed", "failed")]
        return runs if len(finished) >= count else None

    return wait_for(done, timeout=60)


def drain_events(pubsub, wanted_type: str, count: int) -> list[dict]:
    found: list[dict] = []

    def more():
        while (message := pubsub.get_message(timeout=0.2)) is not None:
            if message["type"] == "message":
                event = json.loads(message["data"])
                if event["type"] == wanted_type:
                    found.append(event)
        return len(found) >= count

    wait_for(more, timeout=30)
    return found


def stored_evaluations(scan_id: str) -> int:
    with session_scope() as session:
        return session.scalar(
            select(func.count()).select_from(PolicyEvaluation).where(PolicyEvaluation.scan_id == scan_id)
        )


def test_a_scan_is_judged_by_frameworks_rules_and_policies_then_reevaluated(client, scan_root):
    admin, analyst = register_user(client), register_user(client)
    org_id = post(client, admin, None, "/organizations", {"name": "Audited"})["id"]
    add_member(client, admin, org_id, analyst, "analyst")

    def rule(name, condition, severity="high", **extra):
        body = {"name": name, "condition": condition, "severity": severity, **extra}
        return post(client, admin, org_id, "/compliance/rules", body)["id"]

    def policy(name, action, rules, enabled=True):
        body = {"name": name, "action": action, "rules": rules, "enabled": enabled}
        return post(client, admin, org_id, "/policies", body)["id"]

    no_keys = rule(
        "No hardcoded keys",
        {"field": "flags", "operator": "contains", "value": "hardcoded_api_key"},
        "critical",
    )
    no_vectors = rule("No vector stores", {"field": "type", "operator": "equals", "value": "vector_db"})
    rule("Switched off", {"field": "type", "operator": "exists"}, enabled=False)
    owasp_extra = rule(
        "Shadow AI",
        {"field": "flags", "operator": "contains", "value": "shadow_ai"},
        framework="owasp-llm-top10",
    )
    deepseek = policy(
        "No DeepSeek",
        "block",
        [{"metric": "count(type=model, provider=deepseek)", "operator": "gt", "value": 0}],
    )
    retired = policy(
        "Retired or deprecated models",
        "warn",
        [{"condition": {"field": "flags", "operator": "in", "value": ["deprecated_model", "retired_model"]}}],
    )
    critical = policy(
        "No critical findings", "block", [{"metric": "by_severity.critical", "operator": "gt", "value": 0}]
    )
    vectors = policy(
        "No vector stores",
        "warn",
        [{"condition": {"field": "type", "operator": "equals", "value": "vector_db"}}],
    )
    policy("Everything", "block", [{"condition": {"field": "type", "operator": "exists"}}], enabled=False)
    alert_rule = post(
        client,
        admin,
        org_id,
        "/alert-rules",
        {
            "name": "DeepSeek gate",
            "trigger": "policy_failed",
            "params": {"policy_id": deepseek},
            "webhook_ids": [],
        },
    )["id"]

    pubsub = get_redis().pubsub()
    pubsub.subscribe(channel_for(org_id))
    write_project(scan_root)
    scan_id = post(client, analyst, org_id, "/scans", {"target": str(scan_root)}, status=202)["id"]
    wait_for_completed_scan(client, admin, org_id, scan_id)
    [run] = completed_runs(client, admin, org_id, scan_id, 1)
    assert (run["status"], run["trigger"], run["progress"]) == ("completed", "scan", 100), run
    assert run["outcome"] == {
        "frameworks": 4,
        "custom_rules": 3,
        "custom_rules_failed": 2,
        "policies": 4,
        "policies_failed": 3,
        "blocking_policies_failed": 2,
        "violations": 3,
    }

    components = get(client, admin, org_id, f"/scans/{scan_id}/components?per_page=100")["items"]
    ids = {c["name"]: c["id"] for c in components}
    openai, old_model, deepseek_model = ids["openai"], ids["gpt-3.5-turbo-0301"], ids["deepseek-chat"]

    # frameworks: per-control results with their evidence
    compliance = get(client, admin, org_id, f"/scans/{scan_id}/compliance")
    frameworks = {f["id"]: f for f in compliance["frameworks"]}
    assert set(frameworks) == {"eu-ai-act", "owasp-llm-top10", "nist-ai-rmf", "iso-iec-42001"}
    assert compliance["not_evaluated"] == []
    controls = {(f, c["id"]): c for f, framework in frameworks.items() for c in framework["controls"]}
    expected_controls = {
        ("owasp-llm-top10", "LLM02"): ("fail", [openai]),
        ("owasp-llm-top10", "LLM03"): ("fail", [old_model]),
        ("owasp-llm-top10", "LLM08"): ("not_applicable", []),
        ("owasp-llm-top10", "LLM09"): ("warning", [old_model]),
        # no AI system profile yet: provider obligations only "apply if", so they warn
        ("eu-ai-act", "ART15"): ("warning", [openai]),
        ("eu-ai-act", "ART11"): ("warning", [deepseek_model]),
        # a manual control: what the scan sees of it is a warning-only indicator
        ("iso-iec-42001", "A.6.2.6"): ("warning", [old_model]),
        ("nist-ai-rmf", "MS-2.7"): ("fail", [openai]),
        ("nist-ai-rmf", "MG-3.1"): ("fail", [old_model]),
    }
    for key, (status, evidence) in expected_controls.items():
        assert (controls[key]["status"], controls[key]["evidence"]) == (status, evidence), key
        assert controls[key]["message"] and controls[key]["limitations"]
    for framework in frameworks.values():
        tally = {s: sum(c["status"] == s for c in framework["controls"]) for s in framework["counts"]}
        assert framework["counts"] == tally and framework["score"] == compliance_score(tally)
    custom = {r["name"]: r for r in compliance["custom_rules"]}
    assert set(custom) == {"No hardcoded keys", "No vector stores", "Shadow AI"}
    assert (custom["No hardcoded keys"]["id"], custom["No hardcoded keys"]["status"]) == (no_keys, "fail")
    assert (
        custom["No hardcoded keys"]["matched"] == [openai]
        and custom["No hardcoded keys"]["severity"] == "critical"
    )
    assert (custom["No vector stores"]["id"], custom["No vector stores"]["status"]) == (no_vectors, "pass")
    assert custom["No vector stores"]["matched"] == []
    assert custom["Shadow AI"]["framework"] == "owasp-llm-top10" and custom["Shadow AI"]["matched"] == [
        openai
    ]

    # policies: exact violations, blocking ones first
    violations = get(client, admin, org_id, f"/scans/{scan_id}/violations")
    assert violations["total"] == 3
    assert [
        (v["policy_name"], v["action"], v["rule_index"], v["component_id"], v["severity"])
        for v in violations["items"]
    ] == [
        ("No critical findings", "block", 0, None, "high"),
        ("No DeepSeek", "block", 0, None, "high"),
        ("Retired or deprecated models", "warn", 0, old_model, "medium"),
    ]
    by_policy = {v["policy_id"]: v for v in violations["items"]}
    assert by_policy[deepseek]["message"] == (
        "count(type=model, provider=deepseek) is 1: count(type=model, provider=deepseek) gt 0"
    )
    assert by_policy[critical]["message"] == "by_severity.critical is 1: by_severity.critical gt 0"
    assert "gpt-3.5-turbo-0301" in by_policy[retired]["message"]
    warn_only = get(client, admin, org_id, f"/scans/{scan_id}/violations?action=warn")["items"]
    assert [v["policy_id"] for v in warn_only] == [retired]
    evaluations = get(client, admin, org_id, f"/scans/{scan_id}/evaluations")
    assert {e["policy_id"]: e["passed"] for e in evaluations["items"]} == {
        deepseek: False,
        retired: False,
        critical: False,
        vectors: True,
    }
    [first] = get(client, admin, org_id, f"/policies/{deepseek}/evaluations")["items"]
    assert (first["scan_id"], first["violation_count"], first["action"]) == (scan_id, 1, "block")

    # each failed policy was announced, and the alert rules ran after the evaluation
    announced = drain_events(pubsub, "policy.violated", 3)
    assert {(e["policy_id"], e["scan_id"], e["action"], e["violations"]) for e in announced} == {
        (deepseek, scan_id, "block", 1),
        (critical, scan_id, "block", 1),
        (retired, scan_id, "warn", 1),
    }
    alerts = wait_for(lambda: get(client, admin, org_id, f"/alerts?rule_id={alert_rule}")["items"])
    assert [a["scan_id"] for a in alerts] == [scan_id] and "No DeepSeek" in alerts[0]["title"]

    # re-evaluation replaces the scan's results instead of adding to them
    changed = client.put(f"{API}/policies/{critical}", json={"enabled": False}, headers=admin.headers(org_id))
    assert changed.status_code == 200
    assert (
        client.post(f"{API}/scans/{scan_id}/evaluate", headers=register_user(client).headers()).status_code
        == 404
    )
    requested = client.post(f"{API}/scans/{scan_id}/evaluate", headers=analyst.headers(org_id))
    assert requested.status_code == 202 and requested.json["status"] == "queued"
    assert requested.json["trigger"] == "manual" and requested.json["requested_by"] == analyst.id
    location = requested.headers["Location"]
    assert location.endswith(f"{API}/compliance/evaluations/{requested.json['id']}")

    def finished():
        body = client.get(location, headers=analyst.headers(org_id)).json
        return body if body["status"] in ("completed", "failed") else None

    rerun = wait_for(finished, timeout=60)
    assert rerun["status"] == "completed" and rerun["outcome"]["policies"] == 3, rerun
    assert rerun["outcome"]["policies_failed"] == 2 and rerun["outcome"]["violations"] == 2
    assert stored_evaluations(scan_id) == 3
    after = get(client, admin, org_id, f"/scans/{scan_id}/evaluations")
    assert {e["policy_id"] for e in after["items"]} == {deepseek, retired, vectors}
    [second] = get(client, admin, org_id, f"/policies/{deepseek}/evaluations")["items"]
    assert second["id"] != first["id"] and second["evaluated_at"] > first["evaluated_at"]
    assert get(client, admin, org_id, f"/scans/{scan_id}/violations")["total"] == 2
    assert get(client, admin, org_id, f"/policies/{critical}/evaluations")["total"] == 0

    # a framework switched off disappears at once (with its rules); switched back on it awaits re-evaluation
    switched = client.put(
        f"{API}/compliance/frameworks/owasp-llm-top10", json={"active": False}, headers=admin.headers(org_id)
    )
    assert switched.status_code == 200
    hidden = get(client, admin, org_id, f"/scans/{scan_id}/compliance")
    assert {f["id"] for f in hidden["frameworks"]} == {"eu-ai-act", "nist-ai-rmf", "iso-iec-42001"}
    assert {r["id"] for r in hidden["custom_rules"]} == {no_keys, no_vectors}
    again = post(client, analyst, org_id, f"/scans/{scan_id}/evaluate", {}, status=202)
    completed_runs(client, admin, org_id, scan_id, 3)
    assert get(client, admin, org_id, f"/compliance/evaluations/{again['id']}")["outcome"]["frameworks"] == 3
    with session_scope() as session:
        stored = session.get(ComplianceResult, scan_id).result
    assert "owasp-llm-top10" not in {f["id"] for f in stored["frameworks"]}
    assert owasp_extra not in {r["id"] for r in stored["custom_rules"]}
    client.put(
        f"{API}/compliance/frameworks/owasp-llm-top10", json={"active": True}, headers=admin.headers(org_id)
    )
    pending = get(client, admin, org_id, f"/scans/{scan_id}/compliance")
    assert pending["not_evaluated"] == ["owasp-llm-top10"] and len(pending["frameworks"]) == 3
    only = get(client, admin, org_id, f"/scans/{scan_id}/compliance?framework=eu-ai-act")
    assert [f["id"] for f in only["frameworks"]] == ["eu-ai-act"] and only["custom_rules"] == []

    # the dry run answers on the latest completed scan and stores nothing
    def counts():
        with session_scope() as session:
            return tuple(
                session.scalar(select(func.count()).select_from(model))
                for model in (Policy, PolicyEvaluation, EvaluationRun, ComplianceResult)
            )

    before = counts()
    preview = post(
        client,
        admin,
        org_id,
        "/policies/preview",
        {
            "name": "Keys out of code",
            "action": "block",
            "rules": [
                {"condition": {"field": "flags", "operator": "contains", "value": "hardcoded_api_key"}},
                {"metric": "highest_risk_score", "operator": "gte", "value": 101},
            ],
        },
        status=200,
    )
    assert preview["scan"]["id"] == scan_id
    evaluation = preview["evaluation"]
    assert (evaluation["policy_id"], evaluation["passed"], evaluation["action"]) == (None, False, "block")
    assert [(v["rule_index"], v["component_id"], v["severity"]) for v in evaluation["violations"]] == [
        (0, openai, "critical")
    ]
    assert counts() == before
    assert client.post(f"{API}/policies/preview", json={}, headers=analyst.headers(org_id)).status_code == 422
    pubsub.close()


def test_deleting_a_policy_keeps_the_scans_record_until_reevaluation(client, scan_root):
    user = register_user(client)
    body = {
        "name": "Any model",
        "action": "warn",
        "rules": [{"condition": {"field": "type", "operator": "equals", "value": "model"}}],
    }
    policy_id = post(client, user, None, "/policies", body)["id"]
    write_project(scan_root)
    scan_id = post(client, user, None, "/scans", {"target": str(scan_root)}, status=202)["id"]
    wait_for_completed_scan(client, user, None, scan_id)
    completed_runs(client, user, None, scan_id, 1)
    assert get(client, user, None, f"/scans/{scan_id}/violations")["total"] == 2
    for _ in range(2):  # two runs of one scan at once write one after the other
        post(client, user, None, f"/scans/{scan_id}/evaluate", {}, status=202)
    runs = completed_runs(client, user, None, scan_id, 3)
    assert [run["status"] for run in runs] == ["completed"] * 3
    assert stored_evaluations(scan_id) == 1
    assert get(client, user, None, f"/scans/{scan_id}/violations")["total"] == 2
    assert client.delete(f"{API}/policies/{policy_id}", headers=user.headers()).status_code == 204
    [kept] = get(client, user, None, f"/scans/{scan_id}/evaluations")["items"]
    assert (kept["policy_id"], kept["name"], kept["passed"]) == (None, "Any model", False)
    post(client, user, None, f"/scans/{scan_id}/evaluate", {}, status=202)
    completed_runs(client, user, None, scan_id, 4)
    assert get(client, user, None, f"/scans/{scan_id}/evaluations")["total"] == 0


def test_the_cli_gate_gives_the_platforms_answer(client, scan_root, tmp_path):
    """The same tree and policy: the CLI's local evaluation equals the one the worker stored."""
    from common import cli

    policy = {
        "name": "No retired or leaked",
        "action": "block",
        "rules": [
            {"condition": {"any": [{"field": "flags", "operator": "contains", "value": "retired_model"}]}},
            {"condition": {"field": "flags", "operator": "contains", "value": "hardcoded_api_key"}},
            {"metric": "count(type=model, provider=deepseek)", "operator": "gt", "value": 0},
        ],
    }
    user = register_user(client)
    post(client, user, None, "/policies", policy)
    write_project(scan_root)
    scan_id = post(client, user, None, "/scans", {"target": str(scan_root)}, status=202)["id"]
    wait_for_completed_scan(client, user, None, scan_id)
    completed_runs(client, user, None, scan_id, 1)
    platform = get(client, user, None, f"/scans/{scan_id}/violations?per_page=100")["items"]

    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(policy))
    report = tmp_path / "report.json"
    argv = ["scan", str(scan_root), "--policy", str(policy_file), "--format", "json", "-o", str(report)]
    assert cli.main([*argv, "--quiet", "--jobs", "1"]) == 1
    [local] = json.loads(report.read_text())["policies"]

    def essence(violations):
        return sorted((v["rule_index"], v.get("component_id"), v["message"]) for v in violations)

    assert len(platform) == 3
    assert essence(local["violations"]) == essence(platform)
