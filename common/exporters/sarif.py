"""SARIF 2.1.0: what code-scanning dashboards (GitHub, GitLab, Azure DevOps) ingest.

Rules are checks, not components: one rule per risk flag, per failed policy and per failed
compliance control. Results are findings: one per component x flag x location, so each
shows up on the line that caused it. Fingerprints come from the stable component id, so a
dashboard keeps a finding's history across scans.
"""

from __future__ import annotations

import hashlib
import json

from common.exporters.bundle import (
    SEVERITY_RANK,
    Finding,
    control_results,
    findings,
    iso,
    parse_time,
    rule_for,
    sarif_level,
    security_severity,
)
from common.job_status import JobStatus
from common.scanner.display import uri_path

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SOURCE_ROOT = "%SRCROOT%"
FINGERPRINT_KEY = "truseraFinding/v1"


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:32]


def _location(file: str | None, line: int, snippet: str = "") -> list[dict]:
    if not file:
        return []
    physical: dict = {"artifactLocation": {"uri": uri_path(file), "uriBaseId": SOURCE_ROOT}}
    if line > 0:
        region: dict = {"startLine": line}
        if snippet:
            region["snippet"] = {"text": snippet}
        physical["region"] = region
    return [{"physicalLocation": physical}]


def _rule(rule_id: str, title: str, help_text: str, severity: str, tags: list[str]) -> dict:
    return {
        "id": rule_id,
        "name": title,
        "shortDescription": {"text": title},
        "fullDescription": {"text": help_text},
        "help": {"text": help_text, "markdown": f"**{title}**\n\n{help_text}"},
        "defaultConfiguration": {"level": sarif_level(severity)},
        "properties": {
            "security-severity": security_severity(severity),
            "problem.severity": severity,
            "tags": tags,
        },
    }


class _RuleTable:
    """Rules in first-seen order, so ``ruleIndex`` is stable for a given bundle."""

    def __init__(self) -> None:
        self.rules: list[dict] = []
        self.index: dict[str, int] = {}

    def add(self, rule_id: str, title: str, help_text: str, severity: str, tags: list[str]) -> int:
        if rule_id not in self.index:
            self.index[rule_id] = len(self.rules)
            self.rules.append(_rule(rule_id, title, help_text, severity, tags))
        return self.index[rule_id]


def _component_properties(component: dict) -> dict:
    return {
        "componentId": component["id"],
        "componentType": component["type"],
        "componentName": component["name"],
        "riskScore": component.get("risk_score", 0),
        "severity": component.get("severity") or "info",
        "scope": component.get("scope") or "production",
    }


def _flag_result(finding: Finding, table: _RuleTable) -> dict:
    rule = rule_for(finding.flag)
    index = table.add(rule.id, rule.title, rule.help, rule.severity, ["security", "ai-bom", "flag"])
    component = finding.component
    place = f" at {finding.file}:{finding.line}" if finding.file and finding.line else ""
    return {
        "ruleId": rule.id,
        "ruleIndex": index,
        "level": sarif_level(rule.severity),
        "message": {"text": f"{rule.title}: {component['type']} '{component['name']}'{place}."},
        "locations": _location(finding.file, finding.line, finding.snippet),
        "partialFingerprints": {
            FINGERPRINT_KEY: _fingerprint(component["id"], finding.flag, finding.file, finding.line)
        },
        "properties": _component_properties(component),
    }


def _first_location(component: dict | None) -> tuple[str | None, int]:
    locations = (component or {}).get("locations") or []
    return (locations[0]["file"], int(locations[0].get("line") or 0)) if locations else (None, 0)


def _policy_results(bundle: dict, by_id: dict[str, dict], table: _RuleTable) -> list[dict]:
    results = []
    for policy in bundle.get("policies") or []:
        if policy.get("passed"):
            continue
        rule_id = f"policy/{policy['policy_id']}"
        worst = max(
            (v.get("severity") or "medium" for v in policy["violations"]),
            key=SEVERITY_RANK.get,
            default="medium",
        )
        title = f"Policy '{policy['name']}' ({policy['action']})"
        help_text = (
            f"The scan violates the organization policy '{policy['name']}' (action: {policy['action']})."
        )
        index = table.add(rule_id, title, help_text, worst, ["policy"])
        for violation in policy["violations"]:
            component = by_id.get(violation.get("component_id") or "")
            file, line = _first_location(component)
            results.append(
                {
                    "ruleId": rule_id,
                    "ruleIndex": index,
                    "level": sarif_level(violation.get("severity") or worst),
                    "message": {"text": violation["message"]},
                    "locations": _location(file, line),
                    "partialFingerprints": {
                        FINGERPRINT_KEY: _fingerprint(
                            rule_id, violation.get("rule_index"), violation.get("component_id")
                        )
                    },
                }
            )
    return results


def _compliance_results(bundle: dict, by_id: dict[str, dict], table: _RuleTable) -> list[dict]:
    results = []
    for framework, control in control_results(bundle.get("compliance")):
        if control["status"] != "fail":
            continue
        rule_id = f"compliance/{framework['id']}/{control['id']}"
        title = f"{framework['name']} {control['id']}: {control['title']}"
        help_text = control.get("remediation") or control.get("message") or title
        index = table.add(rule_id, title, help_text, "medium", ["compliance"])
        for component_id in control.get("evidence") or [None]:
            file, line = _first_location(by_id.get(component_id or ""))
            results.append(
                {
                    "ruleId": rule_id,
                    "ruleIndex": index,
                    "level": "warning",
                    "message": {"text": control.get("message") or title},
                    "locations": _location(file, line),
                    "partialFingerprints": {FINGERPRINT_KEY: _fingerprint(rule_id, component_id)},
                }
            )
    return results


def _suppressed_results(suppressions: list[dict], table: _RuleTable) -> list[dict]:
    """Findings silenced by ``trusera:ignore`` (CLI): kept as SARIF in-source suppressions, never dropped."""
    results = []
    for silenced in suppressions:
        for flag in silenced["flags"]:
            rule = rule_for(flag)
            index = table.add(rule.id, rule.title, rule.help, rule.severity, ["security", "ai-bom", "flag"])
            where = f" at {silenced['file']}:{silenced['line']}"
            results.append(
                {
                    "ruleId": rule.id,
                    "ruleIndex": index,
                    "level": sarif_level(rule.severity),
                    "message": {"text": f"{rule.title}: {silenced['type']} '{silenced['name']}'{where}."},
                    "locations": _location(silenced["file"], silenced["line"]),
                    "partialFingerprints": {
                        FINGERPRINT_KEY: _fingerprint(
                            silenced["type"], silenced["name"], flag, silenced["file"], silenced["line"]
                        )
                    },
                    "suppressions": [{"kind": "inSource", "justification": silenced["reason"]}],
                }
            )
    return results


def render(bundle: dict) -> bytes:
    scan = bundle.get("scan") or {}
    tool = bundle.get("tool") or {"name": "trusera", "version": "0.0.0"}
    components = bundle.get("components") or []
    by_id = {c["id"]: c for c in components}
    table = _RuleTable()
    results = [_flag_result(finding, table) for finding in findings(components)]
    results += _policy_results(bundle, by_id, table)
    results += _compliance_results(bundle, by_id, table)
    results += _suppressed_results(bundle.get("suppressions") or [], table)
    invocation: dict = {"executionSuccessful": scan.get("status", JobStatus.COMPLETED) == JobStatus.COMPLETED}
    for key, field in (("started_at", "startTimeUtc"), ("finished_at", "endTimeUtc")):
        if scan.get(key):
            invocation[field] = iso(parse_time(scan[key]))
    run = {
        "tool": {
            "driver": {
                "name": tool["name"],
                "version": tool["version"],
                "semanticVersion": tool["version"],
                "rules": table.rules,
            }
        },
        "automationDetails": {"id": f"{tool['name']}/{scan.get('target') or 'scan'}/{scan.get('id') or ''}"},
        "invocations": [invocation],
        "results": results,
        "properties": {
            "scanId": scan.get("id"),
            "organizationId": scan.get("organization_id"),
            "target": scan.get("target"),
            "deep": bool(scan.get("deep")),
        },
    }
    source = scan.get("source") or {}
    if source.get("repository_url"):
        provenance = {"repositoryUri": source["repository_url"]}
        if source.get("commit"):
            provenance["revisionId"] = source["commit"]
        if source.get("branch") or source.get("ref"):
            provenance["branch"] = source.get("branch") or source["ref"]
        run["versionControlProvenance"] = [provenance]
    if source.get("ci_run_url"):
        run["properties"]["ciRunUrl"] = source["ci_run_url"]
    document = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, ensure_ascii=False).encode("utf-8")
