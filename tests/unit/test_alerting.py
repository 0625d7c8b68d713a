"""Alert triggers: parameter validation and when each one matches a finished scan."""

from __future__ import annotations

import pytest

from common.alerting import ScanFacts, evaluate, validate_params
from tests.factories import component

OPENAI = component("llm_provider", "openai", id="c-openai", severity="medium", risk=40)
KEY = component("endpoint", "hardcoded key", id="c-key", severity="critical", risk=95)
ANTHROPIC = component("llm_provider", "anthropic", id="c-anthropic", severity="high", risk=70)


def facts(components, **kwargs):
    return ScanFacts(scan_id="s2", target="/repo", status="completed", components=components, **kwargs)


@pytest.mark.parametrize(
    ("trigger", "params", "error_key"),
    [
        ("nope", {}, "trigger"),
        ("severity_at_least", {}, "params.severity"),
        ("severity_at_least", {"severity": "urgent"}, "params.severity"),
        ("severity_at_least", {"severity": "high", "extra": 1}, "params.extra"),
        ("risk_score_above", {"score": "80"}, "params.score"),
        ("risk_score_above", {"score": 101}, "params.score"),
        ("risk_score_above", {"score": True}, "params.score"),
        ("new_component", {}, "params.condition"),
        ("new_component", {"condition": {"field": "colour", "operator": "equals", "value": "x"}}, None),
        ("policy_failed", {"policy_id": 7}, "params.policy_id"),
        ("scan_failed", {"severity": "high"}, "params.severity"),
    ],
)
def test_invalid_params_name_the_bad_part(trigger, params, error_key):
    errors = validate_params(trigger, params)
    assert errors
    if error_key:
        assert error_key in errors
    else:
        assert all(key.startswith("params.condition") for key in errors)


@pytest.mark.parametrize(
    ("trigger", "params"),
    [
        ("severity_at_least", {"severity": "high"}),
        ("risk_score_above", {"score": 0}),
        ("new_component", {"condition": {"field": "type", "operator": "equals", "value": "llm_provider"}}),
        ("policy_failed", {}),
        ("policy_failed", {"policy_id": "p-1"}),
        ("scan_failed", {}),
    ],
)
def test_valid_params(trigger, params):
    assert validate_params(trigger, params) == {}


def test_severity_at_least_reports_the_highest_and_lists_by_risk():
    match = evaluate("severity_at_least", {"severity": "high"}, facts([OPENAI, ANTHROPIC, KEY]))
    assert match.severity == "critical"
    assert [c["id"] for c in match.details["components"]] == ["c-key", "c-anthropic"]
    assert "2 components at or above high" in match.title
    assert evaluate("severity_at_least", {"severity": "critical"}, facts([OPENAI])) is None


def test_risk_score_above_is_strict():
    assert evaluate("risk_score_above", {"score": 95}, facts([KEY])) is None
    match = evaluate("risk_score_above", {"score": 60}, facts([OPENAI, ANTHROPIC, KEY]))
    assert match.severity == "critical" and match.details["highest_risk_score"] == 95
    assert {c["id"] for c in match.details["components"]} == {"c-key", "c-anthropic"}


def test_new_component_needs_a_baseline_and_matches_only_new_ones():
    condition = {"field": "type", "operator": "equals", "value": "llm_provider"}
    assert evaluate("new_component", {"condition": condition}, facts([OPENAI, ANTHROPIC])) is None
    later = facts([OPENAI, ANTHROPIC, KEY], previous_scan_id="s1", previous_component_ids={"c-openai"})
    match = evaluate("new_component", {"condition": condition}, later)
    assert [c["id"] for c in match.details["components"]] == ["c-anthropic"]
    assert match.details["previous_scan_id"] == "s1" and match.severity == "high"
    unchanged = facts([OPENAI], previous_scan_id="s1", previous_component_ids={"c-openai"})
    assert evaluate("new_component", {"condition": condition}, unchanged) is None


def test_policy_failed_for_any_or_one_policy():
    evaluations = [
        {"policy_id": "p-warn", "name": "No keys", "action": "warn", "passed": False},
        {"policy_id": "p-block", "name": "Approved providers", "action": "block", "passed": True},
    ]
    scan = facts([], policy_evaluations=evaluations)
    match = evaluate("policy_failed", {}, scan)
    assert match.severity == "medium" and "No keys" in match.title
    assert evaluate("policy_failed", {"policy_id": "p-block"}, scan) is None
    evaluations[1]["passed"] = False
    assert evaluate("policy_failed", {"policy_id": "p-block"}, scan).severity == "high"


def test_scan_failed_only_on_failed_scans_and_nothing_else_does():
    failed = ScanFacts(scan_id="s", target="/repo", status="failed", error="boom", components=[KEY])
    assert evaluate("scan_failed", {}, failed).details == {"error": "boom"}
    assert evaluate("severity_at_least", {"severity": "low"}, failed) is None
    assert evaluate("scan_failed", {}, facts([KEY])) is None
    running = ScanFacts(scan_id="s", target="/repo", status="running", components=[KEY])
    assert evaluate("severity_at_least", {"severity": "low"}, running) is None


def attestation(aid, control_id, expires, attested="2026-01-01T00:00:00+00:00"):
    return {
        "id": aid,
        "framework_id": "eu-ai-act",
        "control_id": control_id,
        "note": "n",
        "attested_by": "auditor@example.com",
        "attested_at": attested,
        "expires_at": expires,
    }


@pytest.mark.parametrize("days", [-1, 366, "30", True])
def test_evidence_expiring_days_are_validated(days):
    assert "params.days" in validate_params("evidence_expiring", {"days": days})


def test_evidence_expiring_looks_at_the_attestation_that_speaks_for_each_control():
    from datetime import UTC, datetime

    now = datetime(2026, 6, 1, tzinfo=UTC)
    soon = attestation("a1", "ART12", "2026-06-20T00:00:00+00:00")
    renewed = attestation("a2", "ART12", "2027-06-01T00:00:00+00:00", attested="2026-05-01T00:00:00+00:00")
    lapsed = attestation("a3", "ART99", "2026-05-01T00:00:00+00:00")
    assert validate_params("evidence_expiring", {}) == {}
    assert evaluate("evidence_expiring", {}, facts([], attestations=[soon, renewed], now=now)) is None
    match = evaluate("evidence_expiring", {"days": 30}, facts([], attestations=[soon], now=now))
    assert (match.severity, [a["id"] for a in match.details["attestations"]]) == ("medium", ["a1"])
    assert evaluate("evidence_expiring", {"days": 7}, facts([], attestations=[soon], now=now)) is None
    match = evaluate("evidence_expiring", {"days": 0}, facts([], attestations=[soon, lapsed], now=now))
    assert (match.severity, match.details["expired"], match.details["attestations"][0]["id"]) == (
        "high",
        1,
        "a3",
    )
    assert evaluate("evidence_expiring", {}, facts([], now=now)) is None
