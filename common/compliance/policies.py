"""Policies: named sets of rules that pass or fail a scan, with a ``warn`` or ``block`` action.

A rule is component-scoped ``{"condition": <condition>}`` (every matching
component is a violation) or scan-scoped ``{"metric", "operator", "value"}``
(one violation when the threshold holds). Either may add ``severity`` (of its
violations) and ``description`` (used in their messages).

The platform (``compliance`` queue, ``POST /policies/preview``) and the CLI gate
(``trusera scan PATH --policy policy.yaml``) both call :func:`evaluate_policy`,
so CI and the platform give the same answer.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from common.compliance.conditions import (
    UNSEARCHED_REASON,
    ComponentTable,
    compile_condition,
    condition_parts,
    describe,
    searched_in_time,
    validate_condition,
)
from common.compliance.metrics import COMPARISONS, metric_errors, parse_metric, threshold_errors
from common.scanner.model import SEVERITIES

ACTIONS = ("warn", "block")
POLICY_KEYS = {"id", "name", "description", "enabled", "action", "rules"}
COMPONENT_RULE_KEYS = {"condition", "severity", "description"}
SCAN_RULE_KEYS = {"metric", "operator", "value", "severity", "description"}
MAX_RULES = 100
# Condition parts in all the rules of one policy: each rule may have 256, but 100 such rules of substring
# tests cost 73 s of CPU over a scan of 50,000 components, in one preview any member may ask for.
MAX_POLICY_PARTS = 512
SCAN_RULE_SEVERITY = {"block": "high", "warn": "medium"}
INVALID_RULE_SEVERITY = "high"


class PolicyFileError(ValueError):
    """A policy file that cannot be read or does not hold valid policies; carries path-keyed errors."""

    def __init__(self, origin: str, errors: dict[str, list[str]]):
        self.errors = errors
        details = "; ".join(f"{path}: {', '.join(messages)}" for path, messages in errors.items())
        super().__init__(f"{origin}: {details}")


# ---------------------------------------------------------------- validation


def validate_policy_rules(rules: object, path: str = "rules") -> dict[str, list[str]]:
    """Errors keyed by path (``rules.0.condition.all.1.operator``, ``rules.2.metric``); empty when valid."""
    errors: dict[str, list[str]] = {}
    if not isinstance(rules, list) or not rules:
        return {path: ["must be a non-empty list of rules"]}
    if len(rules) > MAX_RULES:
        return {path: [f"must have at most {MAX_RULES} rules"]}
    if condition_parts(rules) - len(rules) > MAX_POLICY_PARTS:
        return {path: [f"must have at most {MAX_POLICY_PARTS} condition parts in all"]}
    for position, rule in enumerate(rules):
        _validate_rule(rule, f"{path}.{position}", errors)
    return errors


def _validate_rule(rule: object, path: str, errors: dict[str, list[str]]) -> None:
    if not isinstance(rule, dict):
        errors.setdefault(path, []).append('must be {"condition": ...} or {"metric", "operator", "value"}')
        return
    is_component_rule = "condition" in rule
    if is_component_rule == ("metric" in rule):
        errors.setdefault(path, []).append(
            'needs exactly one of "condition" (component rule) or "metric" (scan rule)'
        )
        return
    allowed = COMPONENT_RULE_KEYS if is_component_rule else SCAN_RULE_KEYS
    unknown = sorted(str(key) for key in rule if key not in allowed)
    if unknown:
        errors.setdefault(path, []).append(f"unknown keys: {', '.join(unknown)}")
    if "severity" in rule and rule["severity"] not in SEVERITIES:
        errors.setdefault(f"{path}.severity", []).append(f"must be one of: {', '.join(SEVERITIES)}")
    if "description" in rule and not isinstance(rule["description"], str):
        errors.setdefault(f"{path}.description", []).append("must be a string")
    if is_component_rule:
        for sub_path, messages in validate_condition(rule["condition"], f"{path}.condition").items():
            errors.setdefault(sub_path, []).extend(messages)
        return
    for message in metric_errors(rule["metric"]):
        errors.setdefault(f"{path}.metric", []).append(message)
    for key, messages in threshold_errors(rule.get("operator"), rule.get("value")).items():
        errors.setdefault(f"{path}.{key}", []).extend(messages)


def validate_policy(policy: object) -> dict[str, list[str]]:
    """Errors of a whole policy body (name, action, enabled, rules); empty when valid."""
    if not isinstance(policy, dict):
        return {"": ["a policy is an object with name, action and rules"]}
    errors: dict[str, list[str]] = {}
    unknown = sorted(str(key) for key in policy if key not in POLICY_KEYS)
    if unknown:
        errors[""] = [f"unknown keys: {', '.join(unknown)}"]
    if not isinstance(policy.get("name"), str) or not policy["name"].strip():
        errors["name"] = ["is required"]
    if "description" in policy and not isinstance(policy["description"], str | None):
        errors["description"] = ["must be a string"]
    if "enabled" in policy and not isinstance(policy["enabled"], bool):
        errors["enabled"] = ["must be true or false"]
    if policy.get("action") not in ACTIONS:
        errors["action"] = [f"must be one of: {', '.join(ACTIONS)}"]
    errors.update(validate_policy_rules(policy.get("rules")))
    return errors


# ---------------------------------------------------------------- evaluation


def evaluate_policy(
    policy: dict, components: list[dict], summary: dict, *, table: ComponentTable | None = None
) -> dict:
    """The "policy evaluation" of one policy on one scan (enabled or not: the caller decides).

    A rule that does not validate (stored before the language changed, or
    hand-edited) is itself a violation: a broken gate must not pass silently.
    Pass ``table`` to share one normalised scan across many policies.
    """
    table = table if table is not None else ComponentTable(components)
    action = policy.get("action") if policy.get("action") in ACTIONS else "block"
    violations: list[dict] = []
    rules = policy.get("rules")
    rule_errors = validate_policy_rules(rules)
    if not isinstance(rules, list) or "rules" in rule_errors:
        violations.append(_invalid_rule_violation(None, rule_errors))
        rules = []
    for index, rule in enumerate(rules):
        own_errors = {
            p: m for p, m in rule_errors.items() if p == f"rules.{index}" or p.startswith(f"rules.{index}.")
        }
        if own_errors:
            violations.append(_invalid_rule_violation(index, own_errors))
        elif "condition" in rule:
            violations.extend(_component_violations(index, rule, table))
            if not searched_in_time(rule["condition"], table):
                violations.append(_unsearched_violation(index))
        else:
            violations.extend(_scan_violations(index, rule, summary, table, action))
    return {
        "policy_id": policy.get("id"),
        "name": policy.get("name"),
        "action": action,
        "passed": not violations,
        "violations": violations,
    }


def _invalid_rule_violation(index: int | None, errors: dict[str, list[str]]) -> dict:
    details = "; ".join(f"{path}: {', '.join(messages)}" for path, messages in errors.items())
    return {
        "rule_index": index,
        "component_id": None,
        "message": f"invalid rule: {details}",
        "severity": INVALID_RULE_SEVERITY,
    }


def _unsearched_violation(index: int) -> dict:
    return {
        "rule_index": index,
        "component_id": None,
        "message": f"the rule could not be checked: {UNSEARCHED_REASON}",
        "severity": INVALID_RULE_SEVERITY,
    }


def _component_violations(index: int, rule: dict, table: ComponentTable) -> list[dict]:
    what = rule.get("description") or describe(rule["condition"])
    rule_severity = rule.get("severity")
    rows, id_column = table.rows, table.id_column
    violations = []
    for row in sorted(compile_condition(rule["condition"]).select(table)):
        component = rows[row]
        severity, label = component.get("severity"), f"{component.get('type')} {component.get('name')}"
        violations.append(
            {
                "rule_index": index,
                "component_id": id_column[row],
                "message": f"{label} matches: {what}",
                "severity": rule_severity or (severity if severity in SEVERITIES else "info"),
            }
        )
    return violations


def _scan_violations(index: int, rule: dict, summary: dict, table: ComponentTable, action: str) -> list[dict]:
    metric = parse_metric(rule["metric"])
    value = metric.value(summary, table)
    if not COMPARISONS[rule["operator"]](value, rule["value"]):
        return []
    shown = int(value) if value == int(value) else value
    condition = f"{metric.text} {rule['operator'].replace('_', ' ')} {rule['value']}"
    what = f"{rule['description']} ({condition})" if rule.get("description") else condition
    return [
        {
            "rule_index": index,
            "component_id": None,
            "message": f"{metric.text} is {shown}: {what}",
            "severity": rule.get("severity") or SCAN_RULE_SEVERITY[action],
        }
    ]


def evaluate_policies(
    policies: list[dict], components: list[dict], summary: dict, *, table: ComponentTable | None = None
) -> list[dict]:
    """Evaluations of several policies over one shared view of the scan."""
    table = table if table is not None else ComponentTable(components)
    return [evaluate_policy(policy, components, summary, table=table) for policy in policies]


def gate(policies: list[dict], components: list[dict], summary: dict) -> tuple[int, list[dict]]:
    """The CLI gate: evaluate the enabled policies; exit code 1 when a ``block`` policy failed, else 0."""
    enabled = [policy for policy in policies if policy.get("enabled", True) is not False]
    evaluations = evaluate_policies(enabled, components, summary)
    blocked = any(not e["passed"] and e["action"] == "block" for e in evaluations)
    return (1 if blocked else 0), evaluations


# ---------------------------------------------------------------- files


def load_policy_file(path: str | Path) -> list[dict]:
    """Policies from a YAML or JSON file holding one policy or ``{"policies": [...]}``.

    Raises :class:`PolicyFileError` (a ValueError) naming every invalid part, so
    the CLI can exit 2 with a useful message rather than gate on a typo.
    """
    origin = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyFileError(origin, {"": [f"cannot read: {exc}"]}) from exc
    try:
        data = json.loads(text) if origin.endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise PolicyFileError(
            origin, {"": [f"not valid {'JSON' if origin.endswith('.json') else 'YAML'}: {exc}"]}
        ) from exc
    if isinstance(data, dict) and set(data) == {"policies"}:
        policies, prefix = data["policies"], "policies"
        if not isinstance(policies, list) or not policies:
            raise PolicyFileError(origin, {"policies": ["must be a non-empty list"]})
    else:
        policies, prefix = [data], None
    errors: dict[str, list[str]] = {}
    for position, policy in enumerate(policies):
        base = f"{prefix}.{position}" if prefix else ""
        for sub_path, messages in validate_policy(policy).items():
            errors[".".join(filter(None, (base, sub_path)))] = messages
    if errors:
        raise PolicyFileError(origin, errors)
    return policies
