"""Alert rules on the real path: result → ingest → ``alerts`` queue → alert → ``alert.triggered`` webhook.

Scans are completed by posting a crafted result to the internal API, so the components (and
their severities and scores) are exactly what each rule is meant to see.
"""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select

from common.celery_client import enqueue
from common.db import session_scope
from common.models import Scan
from common.models.alerts import Alert, mapped_model
from common.tasks import ALERTS_EVALUATE_SCAN
from tests.factories import component
from tests.helpers import post_result, running_scan, wait_for
from tests.webhook_receiver import Receiver
from workers.base import PlatformTask

pytestmark = pytest.mark.usefixtures("celery_worker")


OPENAI = component("llm_provider", "openai", severity="medium", risk=40)
ANTHROPIC = component("llm_provider", "anthropic", severity="high", risk=65)
LEAKED_KEY = component("endpoint", "api.example.com", severity="critical", risk=92)


def new_target() -> str:
    return f"/srv/repos/{secrets.token_hex(4)}"


def finish_scan(client, org_id: str, target: str, components: list[dict]) -> str:
    """A running scan whose result the internal API accepts; returns once ingestion completed it."""
    scan_id = running_scan(org_id, target)
    response = post_result(
        client, scan_id, {"components": components, "relationships": [], "warnings": [], "files_scanned": 1}
    )
    assert response.status_code == 202, response.json

    def completed():
        with session_scope() as session:
            return session.get(Scan, scan_id).status == "completed"

    wait_for(completed, timeout=30)
    return scan_id


def rule(client, user, trigger, params, webhook_ids=()) -> str:
    response = client.post(
        "/api/v1/alert-rules",
        json={"name": trigger, "trigger": trigger, "params": params, "webhook_ids": list(webhook_ids)},
        headers=user.headers(),
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def alerts_of(rule_id: str) -> list[Alert]:
    with session_scope() as session:
        return list(session.scalars(select(Alert).where(Alert.rule_id == rule_id).order_by(Alert.created_at)))


def seen_by(rule_id: str, scan_id: str):
    """The rule's alerts once one of them has seen ``scan_id`` (opened by it or counted it)."""
    found = alerts_of(rule_id)
    return found if any(scan_id in (a.scan_id, a.last_scan_id) for a in found) else None


def test_severity_alert_opens_once_per_target_while_unresolved_and_reaches_its_channel(client, make_user):
    user = make_user()
    target = new_target()
    with Receiver([200]) as receiver:
        # subscribed to something else: it hears about alerts only as the rule's channel
        hook = client.post(
            "/api/v1/webhooks",
            json={"url": receiver.url, "events": ["export.completed"]},
            headers=user.headers(),
        ).json
        receiver.secret = hook["secret"]
        rule_id = rule(client, user, "severity_at_least", {"severity": "high"}, [hook["id"]])
        first_scan = finish_scan(client, user.org_id, target, [OPENAI, LEAKED_KEY])
        [alert] = wait_for(lambda: seen_by(rule_id, first_scan), timeout=30)
        assert alert.status == "open" and alert.severity == "critical" and alert.target == target
        assert alert.title == f"1 component at or above high in {target}"
        assert [c["id"] for c in alert.details["components"]] == [LEAKED_KEY["id"]]
        wait_for(lambda: len(receiver.requests) == 1, timeout=30)
        delivered = receiver.requests[0]
        assert delivered.verified and delivered.json["type"] == "alert.triggered"
        assert delivered.json["data"]["alert_id"] == alert.id and delivered.json["data"]["rule_id"] == rule_id
        assert (
            delivered.json["data"]["severity"] == "critical"
            and delivered.json["data"]["scan_id"] == first_scan
        )

        second_scan = finish_scan(client, user.org_id, target, [LEAKED_KEY])
        [same] = wait_for(lambda: seen_by(rule_id, second_scan), timeout=30)
        assert same.id == alert.id and same.occurrences == 2 and same.last_scan_id == second_scan

        resolved = client.post(f"/api/v1/alerts/{alert.id}/resolve", headers=user.headers())
        assert resolved.status_code == 200
        third_scan = finish_scan(client, user.org_id, target, [LEAKED_KEY])
        reopened = wait_for(lambda: seen_by(rule_id, third_scan), timeout=30)
        assert [a.status for a in reopened] == ["resolved", "open"] and reopened[1].scan_id == third_scan

        elsewhere = finish_scan(client, user.org_id, new_target(), [ANTHROPIC])
        assert len(wait_for(lambda: seen_by(rule_id, elsewhere), timeout=30)) == 3
        wait_for(lambda: len(receiver.requests) == 3, timeout=30)
    assert all(r.verified for r in receiver.requests)
    listed = client.get(f"/api/v1/alerts?rule_id={rule_id}&status=open", headers=user.headers()).json
    assert listed["total"] == 2


def test_new_component_compares_with_the_previous_scan_of_the_target(client, make_user):
    user = make_user()
    target = new_target()
    sentinel = rule(client, user, "severity_at_least", {"severity": "info"})
    new_provider = rule(
        client,
        user,
        "new_component",
        {"condition": {"field": "type", "operator": "equals", "value": "llm_provider"}},
    )
    baseline = finish_scan(client, user.org_id, target, [OPENAI])
    wait_for(lambda: seen_by(sentinel, baseline), timeout=30)
    assert alerts_of(new_provider) == []  # the first scan of a target is the baseline
    later = finish_scan(client, user.org_id, target, [OPENAI, ANTHROPIC, LEAKED_KEY])
    [alert] = wait_for(lambda: seen_by(new_provider, later), timeout=30)
    assert [c["id"] for c in alert.details["components"]] == [ANTHROPIC["id"]]
    assert alert.details["previous_scan_id"] == baseline and alert.severity == "high"


def test_risk_score_above_fires_only_above_the_threshold(client, make_user):
    user = make_user()
    sentinel = rule(client, user, "severity_at_least", {"severity": "info"})
    risky = rule(client, user, "risk_score_above", {"score": 70})
    calm = finish_scan(client, user.org_id, new_target(), [OPENAI, ANTHROPIC])
    wait_for(lambda: seen_by(sentinel, calm), timeout=30)
    assert alerts_of(risky) == []
    hot = finish_scan(client, user.org_id, new_target(), [OPENAI, LEAKED_KEY])
    [alert] = wait_for(lambda: seen_by(risky, hot), timeout=30)
    assert alert.details["highest_risk_score"] == 92 and alert.title.startswith("Risk score 92 above 70")


def test_a_failed_scan_raises_scan_failed(client, make_user):
    user = make_user()
    failed_rule = rule(client, user, "scan_failed", {})
    severity_rule = rule(client, user, "severity_at_least", {"severity": "info"})
    target = new_target()
    with session_scope() as session:
        scan = Scan(organization_id=user.org_id, target=target, status="running")
        session.add(scan)
        session.flush()
        scan_id = scan.id
    PlatformTask.mark_failed(Scan, scan_id, "the disk is on fire")
    [alert] = wait_for(lambda: seen_by(failed_rule, scan_id), timeout=30)
    assert alert.title == f"Scan of {target} failed" and alert.details["error"] == "the disk is on fire"
    assert alert.severity == "high" and alerts_of(severity_rule) == []
    shown = client.get(f"/api/v1/alerts/{alert.id}", headers=user.headers()).json
    assert shown["status"] == "open" and shown["rule_id"] == failed_rule and shown["scan_id"] == scan_id


@pytest.mark.skipif(
    mapped_model("PolicyEvaluation") is None,
    reason="waits for the compliance feature's PolicyEvaluation model",
)
def test_policy_failed_reads_the_scans_policy_evaluations(client, make_user):
    policy_model, evaluation_model = mapped_model("Policy"), mapped_model("PolicyEvaluation")
    user = make_user()
    with session_scope() as session:
        blocking = policy_model(organization_id=user.org_id, name="No critical", action="block", rules=[])
        lenient = policy_model(organization_id=user.org_id, name="Approved only", action="warn", rules=[])
        scan = Scan(organization_id=user.org_id, target=new_target(), status="completed")
        session.add_all([blocking, lenient, scan])
        session.flush()
        for policy, passed in ((blocking, False), (lenient, True)):
            session.add(
                evaluation_model(
                    organization_id=user.org_id,
                    scan_id=scan.id,
                    policy_id=policy.id,
                    name=policy.name,
                    action=policy.action,
                    passed=passed,
                )
            )
        scan_id, lenient_id = scan.id, lenient.id
    only_lenient = rule(client, user, "policy_failed", {"policy_id": lenient_id})
    any_policy = rule(client, user, "policy_failed", {})
    enqueue(ALERTS_EVALUATE_SCAN, scan_id)
    [alert] = wait_for(lambda: seen_by(any_policy, scan_id), timeout=30)
    assert alert.severity == "high" and alert.title.endswith(": No critical")
    assert alert.details["policies"][0]["action"] == "block"
    assert alerts_of(only_lenient) == []
