"""Policies: rule validation, component and scan rules, metrics, the CLI gate and policy files."""

from __future__ import annotations

import json

import pytest

from common.compliance.conditions import ComponentTable
from common.compliance.metrics import metric_errors, parse_metric, summarize
from common.compliance.policies import (
    PolicyFileError,
    evaluate_policy,
    gate,
    load_policy_file,
    validate_policy,
    validate_policy_rules,
)

COMPONENTS = [
    {
        "id": "k1",
        "name": "openai",
        "type": "llm_provider",
        "flags": ["hardcoded_api_key"],
        "severity": "critical",
        "risk_score": 90,
    },
    {
        "id": "d1",
        "name": "deepseek-chat",
        "type": "model",
        "provider": "DeepSeek",
        "severity": "medium",
        "risk_score": 40,
    },
    {
        "id": "d2",
        "name": "deepseek-coder",
        "type": "model",
        "provider": "deepseek",
        "severity": "low",
        "risk_score": 20,
    },
    {"id": "t1", "name": "search", "type": "tool", "severity": "info", "risk_score": 0},
]
SUMMARY = {
    "total_components": 4,
    "by_type": {"llm_provider": 1, "model": 2, "tool": 1},
    "by_severity": {"critical": 1, "medium": 1, "low": 1, "info": 1},
    "highest_risk_score": 90,
    "files_scanned": 12,
}
NO_KEYS = {"condition": {"field": "flags", "operator": "contains", "value": "hardcoded_api_key"}}


def policy(*rules, action="block", **extra):
    return {"name": "p", "description": "", "enabled": True, "action": action, "rules": list(rules), **extra}


def test_component_rule_reports_every_matching_component():
    evaluation = evaluate_policy(
        policy({"condition": {"field": "provider", "operator": "equals", "value": "deepseek"}}, id="pol-1"),
        COMPONENTS,
        SUMMARY,
    )
    assert evaluation["policy_id"] == "pol-1"
    assert evaluation["passed"] is False
    assert [(v["rule_index"], v["component_id"], v["severity"]) for v in evaluation["violations"]] == [
        (0, "d1", "medium"),
        (0, "d2", "low"),
    ]
    assert evaluation["violations"][0]["message"] == "model deepseek-chat matches: provider equals 'deepseek'"


def test_rule_severity_and_description_override_defaults():
    rule = {**NO_KEYS, "severity": "high", "description": "hard-coded key"}
    (violation,) = evaluate_policy(policy(rule), COMPONENTS, SUMMARY)["violations"]
    assert violation == {
        "rule_index": 0,
        "component_id": "k1",
        "message": "llm_provider openai matches: hard-coded key",
        "severity": "high",
    }


@pytest.mark.parametrize(
    ("metric", "operator", "value", "violated"),
    [
        ("by_severity.critical", "gt", 0, True),
        ("by_severity.high", "gt", 0, False),  # absent from the breakdown: zero
        ("highest_risk_score", "gte", 70, True),
        ("highest_risk_score", "gte", 91, False),
        ("total_components", "equals", 4, True),
        ("files_scanned", "lt", 10, False),
        ("by_type.model", "gte", 2, True),
        ("count(type=model, provider=deepseek)", "gt", 1, True),
        ("count(type=model, provider=deepseek)", "gt", 2, False),
        ("count(flags=hardcoded_api_key)", "equals", 1, True),
        ("count(risk_score=40)", "equals", 1, True),
        ({"count": {"field": "severity", "operator": "gte", "value": "medium"}}, "equals", 2, True),
    ],
)
def test_scan_rules(metric, operator, value, violated):
    evaluation = evaluate_policy(
        policy({"metric": metric, "operator": operator, "value": value}), COMPONENTS, SUMMARY
    )
    assert evaluation["passed"] is not violated
    if violated:
        (violation,) = evaluation["violations"]
        assert violation["component_id"] is None
        assert violation["severity"] == "high"


def test_scan_rule_message_and_warn_severity():
    evaluation = evaluate_policy(
        policy({"metric": "by_severity.critical", "operator": "gt", "value": 0}, action="warn"),
        COMPONENTS,
        SUMMARY,
    )
    assert evaluation["action"] == "warn"
    assert evaluation["violations"] == [
        {
            "rule_index": 0,
            "component_id": None,
            "message": "by_severity.critical is 1: by_severity.critical gt 0",
            "severity": "medium",
        }
    ]


def test_metrics_fall_back_to_components_when_the_summary_is_silent():
    table = ComponentTable(COMPONENTS)
    assert parse_metric("by_severity.critical").value({}, table) == 1
    assert parse_metric("highest_risk_score").value({}, table) == 90
    assert parse_metric("total_components").value(None, table) == 4
    assert parse_metric("by_type.model").value({"by_type": {}}, table) == 0  # the summary says none
    assert parse_metric("highest_risk_score").value({"highest_risk_score": 12}, table) == 12
    assert parse_metric("by_type.model").evidence(table) == {1, 2}


def test_summarize_matches_the_platform_summary_shape():
    assert summarize(COMPONENTS, files_scanned=12) == SUMMARY


@pytest.mark.parametrize(
    ("metric", "fragment"),
    [
        ("by_colour.red", "unknown metric"),
        ("by_type.robot", "unknown metric"),
        ("count(type=model provider=x)", "count.all.0.value"),
        ("count(colour=red)", "count.all.0.field"),
        ("count(risk_score=high)", "takes a number"),
        ("count(type)", "not field=value"),
        ({"count": {"field": "x"}}, "count.field"),
        ({"sum": 1}, "count"),
        (3, "summary path"),
    ],
)
def test_bad_metrics(metric, fragment):
    errors = metric_errors(metric)
    assert any(fragment in message for message in errors), errors


def test_rule_validation_paths():
    errors = validate_policy_rules(
        [
            NO_KEYS,
            {
                "condition": {
                    "all": [NO_KEYS["condition"], {"field": "name", "operator": "like", "value": "x"}]
                }
            },
            {"metric": "by_colour.red", "operator": "over", "value": "0"},
            {"condition": NO_KEYS["condition"], "metric": "total_components"},
            {"condition": NO_KEYS["condition"], "severity": "urgent", "colour": "red"},
            "no",
        ]
    )
    assert set(errors) == {
        "rules.1.condition.all.1.operator",
        "rules.2.metric",
        "rules.2.operator",
        "rules.2.value",
        "rules.3",
        "rules.4",
        "rules.4.severity",
        "rules.5",
    }
    assert validate_policy_rules([]) == {"rules": ["must be a non-empty list of rules"]}
    assert validate_policy_rules([NO_KEYS]) == {}


def test_policy_validation():
    assert validate_policy(policy(NO_KEYS)) == {}
    errors = validate_policy({"name": "", "action": "stop", "enabled": "yes", "rules": [], "colour": 1})
    assert set(errors) == {"", "name", "action", "enabled", "rules"}


def test_invalid_stored_rules_fail_closed():
    evaluation = evaluate_policy(policy(NO_KEYS, {"metric": "nope", "operator": "gt", "value": 0}), [], {})
    assert evaluation["passed"] is False
    (violation,) = evaluation["violations"]
    assert violation["rule_index"] == 1
    assert violation["message"].startswith("invalid rule: rules.1.metric")
    assert evaluate_policy({"name": "x", "action": "warn", "rules": None}, [], {})["passed"] is False


def test_gate_exit_codes():
    blocking = policy(NO_KEYS)
    warning = policy(NO_KEYS, action="warn")
    disabled = policy(NO_KEYS, enabled=False)
    passing = policy({"metric": "by_severity.high", "operator": "gt", "value": 0})
    assert gate([blocking], COMPONENTS, SUMMARY)[0] == 1
    assert gate([warning, passing], COMPONENTS, SUMMARY)[0] == 0
    code, evaluations = gate([disabled, passing], COMPONENTS, SUMMARY)
    assert code == 0
    assert [e["passed"] for e in evaluations] == [True]
    assert gate([blocking], [c for c in COMPONENTS if c["id"] != "k1"], {})[0] == 0


POLICY_YAML = """
name: CI gate
description: No keys in source, no DeepSeek.
action: block
rules:
  - condition: {field: flags, operator: contains, value: hardcoded_api_key}
  - metric: count(type=model, provider=deepseek)
    operator: gt
    value: 0
"""


def test_load_single_policy_yaml(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY_YAML)
    (loaded,) = load_policy_file(path)
    assert loaded["name"] == "CI gate"
    code, (evaluation,) = gate([loaded], COMPONENTS, summarize(COMPONENTS))
    assert code == 1
    assert [v["component_id"] for v in evaluation["violations"]] == ["k1", None]


def test_load_policy_list_json(tmp_path):
    path = tmp_path / "policies.json"
    path.write_text(json.dumps({"policies": [policy(NO_KEYS), policy(NO_KEYS, action="warn")]}))
    assert [p["action"] for p in load_policy_file(path)] == ["block", "warn"]


@pytest.mark.parametrize(
    ("name", "text", "path"),
    [
        ("bad.yaml", "name: [unclosed", ""),
        ("bad.json", "{", ""),
        ("empty.yaml", "policies: []", "policies"),
        (
            "typo.yaml",
            POLICY_YAML.replace("operator: contains", "operator: contain"),
            "rules.0.condition.operator",
        ),
        (
            "list.yaml",
            "policies:\n  - name: a\n    action: block\n    rules: [{metric: x, operator: gt, value: 0}]",
            "policies.0.rules.0.metric",
        ),
    ],
)
def test_bad_policy_files_name_the_problem(tmp_path, name, text, path):
    file = tmp_path / name
    file.write_text(text)
    with pytest.raises(PolicyFileError) as raised:
        load_policy_file(file)
    assert path in raised.value.errors, raised.value.errors


def test_missing_policy_file(tmp_path):
    with pytest.raises(PolicyFileError):
        load_policy_file(tmp_path / "absent.yaml")
