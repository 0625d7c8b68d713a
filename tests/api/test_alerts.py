"""``/alert-rules`` and ``/alerts``: rule validation, channels, roles, filters and the alert lifecycle."""

from __future__ import annotations

import pytest

from common.db import session_scope
from common.models import Scan
from common.models.alerts import Alert, mapped_model
from tests.helpers import add_member

RULES = "/api/v1/alert-rules"
ALERTS = "/api/v1/alerts"


def make_webhook(client, user, org_id=None):
    response = client.post(
        "/api/v1/webhooks",
        json={"url": "https://hooks.example.com/alerts", "events": ["alert.triggered"]},
        headers=user.headers(org_id),
    )
    assert response.status_code == 201
    return response.json["id"]


def make_alert(org_id, *, severity="high", status="open", rule_id=None, target="/repo") -> str:
    with session_scope() as session:
        scan = Scan(organization_id=org_id, target=target, status="completed")
        session.add(scan)
        session.flush()
        alert = Alert(
            organization_id=org_id,
            rule_id=rule_id,
            scan_id=scan.id,
            last_scan_id=scan.id,
            target=target,
            open_key=f"{rule_id or scan.id}:{target}" if status != "resolved" else None,
            status=status,
            severity=severity,
            title=f"{severity} things in {target}",
            details={"count": 1},
        )
        session.add(alert)
        session.flush()
        return alert.id


def test_rule_crud_with_channels(client, make_user):
    user = make_user()
    hook = make_webhook(client, user)
    body = {
        "name": "Critical findings",
        "trigger": "severity_at_least",
        "params": {"severity": "critical"},
        "webhook_ids": [hook, hook],
    }
    created = client.post(RULES, json=body, headers=user.headers())
    assert created.status_code == 201, created.json
    rule = created.json
    assert (
        rule["enabled"] is True
        and rule["webhook_ids"] == [hook]
        and rule["params"] == {"severity": "critical"}
    )
    assert created.headers["Location"].endswith(f"{RULES}/{rule['id']}")
    assert client.get(f"{RULES}/{rule['id']}", headers=user.headers()).json == rule
    assert [r["id"] for r in client.get(RULES, headers=user.headers()).json["items"]] == [rule["id"]]
    updated = client.put(
        f"{RULES}/{rule['id']}",
        json={"trigger": "risk_score_above", "params": {"score": 80}, "enabled": False},
        headers=user.headers(),
    )
    assert updated.status_code == 200, updated.json
    assert updated.json["trigger"] == "risk_score_above" and updated.json["enabled"] is False
    assert updated.json["webhook_ids"] == [hook] and updated.json["name"] == "Critical findings"
    assert client.get(f"{RULES}?enabled=false", headers=user.headers()).json["total"] == 1
    assert client.get(f"{RULES}?trigger=scan_failed", headers=user.headers()).json["total"] == 0
    assert client.delete(f"{RULES}/{rule['id']}", headers=user.headers()).status_code == 204
    assert client.get(f"{RULES}/{rule['id']}", headers=user.headers()).status_code == 404


@pytest.mark.parametrize(
    ("body", "error_key"),
    [
        ({"trigger": "moon_phase", "params": {}}, "trigger"),
        ({"trigger": "severity_at_least", "params": {}}, "params.severity"),
        ({"trigger": "severity_at_least", "params": {"severity": "dire"}}, "params.severity"),
        ({"trigger": "risk_score_above", "params": {"score": 150}}, "params.score"),
        ({"trigger": "scan_failed", "params": {"score": 1}}, "params.score"),
        (
            {"trigger": "new_component", "params": {"condition": {"field": "type", "operator": "equals"}}},
            None,
        ),
        ({"trigger": "new_component", "params": {"condition": {"all": [{"field": "nope"}]}}}, None),
        ({"trigger": "scan_failed", "params": {}, "webhook_ids": ["not-a-webhook"]}, "webhook_ids"),
        # Text PostgreSQL cannot hold reached the id look-ups and answered 500 (found by the fuzzer).
        ({"trigger": "scan_failed", "params": {}, "webhook_ids": ["ab\x00cd"]}, "webhook_ids"),
        ({"trigger": "policy_failed", "params": {"policy_id": "ab\x00cd"}}, "params.policy_id"),
        ({"trigger": "scan_failed", "params": {}, "colour": "red"}, "colour"),
        ({"trigger": "scan_failed"}, "name"),
    ],
)
def test_invalid_rules_are_422_with_the_bad_part_named(client, make_user, body, error_key):
    body = {"name": "rule", **body} if error_key != "name" else body
    response = client.post(RULES, json=body, headers=make_user().headers())
    assert response.status_code == 422, response.json
    errors = response.json["errors"]
    if error_key:
        assert error_key in errors, errors
    else:
        assert any(key.startswith("params.condition") for key in errors), errors


def test_channels_must_be_webhooks_of_the_same_organization(client, make_user):
    alice, bob = make_user(), make_user()
    bobs_hook = make_webhook(client, bob)
    response = client.post(
        RULES,
        json={"name": "r", "trigger": "scan_failed", "params": {}, "webhook_ids": [bobs_hook]},
        headers=alice.headers(),
    )
    assert response.status_code == 422 and "webhook_ids" in response.json["errors"]


def test_rule_roles_and_tenancy(client, make_user):
    owner, editor, stranger = make_user(), make_user(), make_user()
    org = client.post("/api/v1/organizations", json={"name": "Alert Org"}, headers=owner.headers()).json
    add_member(client, owner, org["id"], editor, "editor")
    body = {"name": "fail", "trigger": "scan_failed", "params": {}}
    assert client.post(RULES, json=body, headers=editor.headers(org["id"])).status_code == 403
    rule = client.post(RULES, json=body, headers=owner.headers(org["id"])).json
    assert client.get(f"{RULES}/{rule['id']}", headers=editor.headers(org["id"])).status_code == 200
    assert client.put(f"{RULES}/{rule['id']}", json={}, headers=editor.headers(org["id"])).status_code == 403
    assert client.get(f"{RULES}/{rule['id']}", headers=stranger.headers()).status_code == 404
    assert client.delete(f"{RULES}/{rule['id']}", headers=stranger.headers()).status_code == 404


def test_alert_list_filters(client, make_user):
    user, other = make_user(), make_user()
    rule = client.post(
        RULES, json={"name": "r", "trigger": "scan_failed", "params": {}}, headers=user.headers()
    ).json
    high = make_alert(user.org_id, severity="high", rule_id=rule["id"])
    low = make_alert(user.org_id, severity="low", status="resolved", target="/other")
    make_alert(other.org_id, severity="high")

    def ids(query=""):
        return {a["id"] for a in client.get(f"{ALERTS}{query}", headers=user.headers()).json["items"]}

    assert ids() == {high, low}
    assert ids("?status=open") == {high}
    assert ids("?severity=low") == {low}
    assert ids(f"?rule_id={rule['id']}") == {high}
    assert client.get(f"{ALERTS}?status=snoozed", headers=user.headers()).status_code == 422
    shown = client.get(f"{ALERTS}/{high}", headers=user.headers()).json
    assert set(shown) >= {
        "id",
        "rule_id",
        "scan_id",
        "status",
        "severity",
        "title",
        "details",
        "created_at",
        "acknowledged_by",
        "acknowledged_at",
        "resolved_by",
        "resolved_at",
    }
    assert client.get(f"{ALERTS}/{high}", headers=other.headers()).status_code == 404


def test_acknowledge_then_resolve_records_who_and_when(client, make_user):
    owner, analyst, viewer = make_user(), make_user(), make_user()
    org = client.post("/api/v1/organizations", json={"name": "Triage Org"}, headers=owner.headers()).json
    add_member(client, owner, org["id"], analyst, "analyst")
    add_member(client, owner, org["id"], viewer, "viewer")
    alert_id = make_alert(org["id"])
    assert (
        client.post(f"{ALERTS}/{alert_id}/acknowledge", headers=viewer.headers(org["id"])).status_code == 403
    )
    acked = client.post(f"{ALERTS}/{alert_id}/acknowledge", headers=analyst.headers(org["id"]))
    assert acked.status_code == 200, acked.json
    assert acked.json["status"] == "acknowledged" and acked.json["acknowledged_by"] == analyst.id
    assert acked.json["acknowledged_at"].endswith("Z") and acked.json["resolved_at"] is None
    again = client.post(f"{ALERTS}/{alert_id}/acknowledge", headers=analyst.headers(org["id"]))
    assert again.status_code == 409 and again.json["message"]
    resolved = client.post(f"{ALERTS}/{alert_id}/resolve", headers=owner.headers(org["id"])).json
    assert (
        resolved["status"] == "resolved" and resolved["resolved_by"] == owner.id and resolved["resolved_at"]
    )
    assert resolved["acknowledged_by"] == analyst.id
    assert client.post(f"{ALERTS}/{alert_id}/resolve", headers=owner.headers(org["id"])).status_code == 409
    assert (
        client.post(f"{ALERTS}/{alert_id}/acknowledge", headers=owner.headers(org["id"])).status_code == 409
    )
    with session_scope() as session:
        assert session.get(Alert, alert_id).open_key is None


def test_an_open_alert_can_be_resolved_directly(client, make_user):
    user = make_user()
    alert_id = make_alert(user.org_id)
    response = client.post(f"{ALERTS}/{alert_id}/resolve", headers=user.headers())
    assert response.status_code == 200 and response.json["acknowledged_at"] is None
    assert client.post(f"{ALERTS}/{alert_id}/resolve", headers=make_user().headers()).status_code == 404


@pytest.mark.skipif(mapped_model("Policy") is None, reason="waits for the compliance feature's Policy model")
def test_a_named_policy_must_belong_to_the_organization(client, make_user):
    alice, bob = make_user(), make_user()
    with session_scope() as session:
        bobs = mapped_model("Policy")(organization_id=bob.org_id, name="Bob's", action="warn", rules=[])
        session.add(bobs)
        session.flush()
        bobs_id = bobs.id
    body = {"name": "r", "trigger": "policy_failed", "params": {"policy_id": bobs_id}}
    refused = client.post(RULES, json=body, headers=alice.headers())
    assert refused.status_code == 422 and "params.policy_id" in refused.json["errors"]
    assert client.post(RULES, json=body, headers=bob.headers()).status_code == 201
