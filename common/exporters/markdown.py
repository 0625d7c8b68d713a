"""GitHub-flavoured Markdown: a report that reads well in a pull request or wiki."""

from __future__ import annotations

from common.compliance.framework import CONTROL_STATUSES
from common.exporters.bundle import (
    control_results,
    coverage_text,
    evidence_reference,
    location_text,
    score_text,
    severity_counts,
    summary,
)
from common.scanner.display import terminal_text

# Every character that starts Markdown syntax inline: links and images ([ ] ( ) !), emphasis
# (* _ ~), code (`), tables (|), escapes (\\); HTML and entities become entities.
_ESCAPES = str.maketrans(
    {
        **{char: "\\" + char for char in "\\`*_[]()!|~"},
        "<": "&lt;",
        ">": "&gt;",
        "&": "&amp;",
    }
)


def cell(value: object) -> str:
    """Repository-controlled text as inert Markdown: no link, image, HTML or table syntax survives; line
    breaks become spaces and other controls are shown escaped, so every value stays in its cell."""
    text = "" if value is None else str(value)
    return terminal_text(text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")).translate(_ESCAPES)


def table(headers: list[str], rows) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in values) + " |" for values in rows]
    return lines


def _policy_lines(policies: list[dict] | None) -> list[str]:
    if policies is None:
        return ["Policies were not evaluated for this scan."]
    rows = [
        (p["name"], p["action"], "pass" if p["passed"] else "fail", len(p.get("violations") or []))
        for p in policies
    ]
    lines = table(["Policy", "Action", "Result", "Violations"], rows)
    violations = [
        (p["name"], v.get("severity") or "", v.get("component_id") or "(scan)", v["message"])
        for p in policies
        for v in p.get("violations") or []
    ]
    if violations:
        lines += ["", *table(["Policy", "Severity", "Component", "Message"], violations)]
    return lines


def _compliance_lines(compliance: dict | None) -> list[str]:
    if compliance is None:
        return ["Compliance was not evaluated for this scan."]
    frameworks = compliance.get("frameworks") or []
    lines = table(
        [
            "Framework",
            "Version",
            "Score",
            "Evaluated",
            "Pass",
            "Fail",
            "Warning",
            "No indicator",
            "Manual",
            "N/A",
        ],
        (
            (
                f["name"],
                f.get("version"),
                score_text(f),
                coverage_text(f),
                *(f["counts"].get(k, 0) for k in CONTROL_STATUSES),
            )
            for f in frameworks
        ),
    )
    controls = [
        (
            framework["name"],
            control["id"],
            control["title"],
            control["status"],
            control.get("message") or "",
            evidence_reference(control),
        )
        for framework, control in control_results(compliance)
    ]
    if controls:
        lines += ["", *table(["Framework", "Control", "Title", "Status", "Message", "Evidence"], controls)]
    rules = compliance.get("custom_rules") or []
    if rules:
        lines += [
            "",
            *table(
                ["Custom rule", "Severity", "Status", "Matched"],
                ((r["name"], r["severity"], r["status"], len(r.get("matched") or [])) for r in rules),
            ),
        ]
    return lines


def render(bundle: dict) -> bytes:
    scan = bundle.get("scan") or {}
    tool = bundle.get("tool") or {}
    totals = summary(bundle)
    components = bundle.get("components") or []
    lines = [
        f"# AI-BOM report: {cell(scan.get('target'))}",
        "",
        f"Scan `{cell(scan.get('id'))}` · status {cell(scan.get('status'))} · "
        f"finished {cell(scan.get('finished_at'))} · {cell(tool.get('name'))} {cell(tool.get('version'))}",
        "",
        "## Summary",
        "",
        *table(
            ["Components", "Highest risk", "Files scanned"],
            [(totals.get("total_components"), totals.get("highest_risk_score"), totals.get("files_scanned"))],
        ),
        "",
        *table(["Severity", "Components"], severity_counts(bundle)),
        "",
        *table(["Type", "Components"], sorted((totals.get("by_type") or {}).items())),
        "",
        "## Components",
        "",
        *table(
            ["Name", "Type", "Provider", "Version", "Severity", "Risk", "Flags", "Scope", "Locations"],
            (
                (
                    c["name"],
                    c["type"],
                    c.get("provider"),
                    c.get("version"),
                    c.get("severity"),
                    c.get("risk_score"),
                    ", ".join(c.get("flags") or []),
                    c.get("scope"),
                    location_text(c),
                )
                for c in components
            ),
        ),
        "",
        "## Compliance",
        "",
        *_compliance_lines(bundle.get("compliance")),
        "",
        "## Policies",
        "",
        *_policy_lines(bundle.get("policies")),
        "",
    ]
    return "\n".join(lines).encode("utf-8")
