"""Alert rule triggers: how each one's ``params`` are validated and when a scan outcome matches it.

Plain functions over plain data (:class:`ScanFacts`), so the API validates with the same
code the ``alerts`` worker evaluates with, and tests need no database.

Triggers and params:
- ``severity_at_least`` ``{"severity"}``: a component at or above that severity is present;
- ``new_component`` ``{"condition"}``: a component absent (by id) from the previous completed scan of
  the same target matches the condition (custom-rule language); the first scan of a target is the
  baseline and matches nothing;
- ``policy_failed`` ``{"policy_id"?}``: that policy (or any policy) did not pass on the scan;
- ``risk_score_above`` ``{"score"}``: the scan's highest component risk score is above ``score``;
- ``scan_failed`` ``{}``: the scan failed;
- ``evidence_expiring`` ``{"days"?}`` (default 30): the attestation that satisfies a manual compliance
  control of the organization has expired, or expires within ``days``; checked each time a scan of
  the organization is evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from common.compliance.conditions import (
    UNSEARCHED_REASON,
    ComponentTable,
    compile_condition,
    searched_in_time,
    validate_condition,
)
from common.compliance.evidence import current_attestation, expires_at
from common.jobs import JobStatus
from common.scanner.model import SEVERITIES

SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
TRIGGER_PARAMS = {
    "severity_at_least": {"severity"},
    "new_component": {"condition"},
    "policy_failed": {"policy_id"},
    "risk_score_above": {"score"},
    "scan_failed": set(),
    "evidence_expiring": {"days"},
}
DEFAULT_EXPIRY_DAYS = 30
MAX_EXPIRY_DAYS = 365
REQUIRED_PARAMS = {
    "severity_at_least": {"severity"},
    "new_component": {"condition"},
    "risk_score_above": {"score"},
}
LISTED_COMPONENTS = 20
UNCHECKED_RULE_SEVERITY = "high"  # as a policy rule that could not be checked
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")  # looked up in the database: no NUL or other odd text


@dataclass
class ScanFacts:
    """What a rule may look at: the scan's outcome, its components, and what came before."""

    scan_id: str
    target: str
    status: str
    error: str | None = None
    components: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    previous_scan_id: str | None = None
    previous_component_ids: set[str] | None = None
    policy_evaluations: list[dict] = field(default_factory=list)
    attestations: list[dict] = field(default_factory=list)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    _new_components: tuple[list[dict], ComponentTable] | None = field(default=None, repr=False)

    def new_components(self) -> tuple[list[dict], ComponentTable]:
        """The components absent from the previous scan, and one table over them for every rule: the
        table holds the regex time budget, so a table per rule gave each of an admin's rules its own."""
        if self._new_components is None:
            previous = self.previous_component_ids or set()
            new = [c for c in self.components if c.get("id") not in previous]
            self._new_components = (new, ComponentTable(new))
        return self._new_components


@dataclass
class Match:
    severity: str
    title: str
    details: dict


def validate_params(trigger: str, params: object) -> dict[str, list[str]]:
    """Errors keyed by ``params.<name>`` (empty when valid); never raises."""
    if trigger not in TRIGGER_PARAMS:
        return {"trigger": [f"Unknown trigger; use one of {', '.join(TRIGGER_PARAMS)}."]}
    if not isinstance(params, dict):
        return {"params": ["Must be an object."]}
    errors: dict[str, list[str]] = {}
    for name in sorted(set(params) - TRIGGER_PARAMS[trigger]):
        errors[f"params.{name}"] = [f"Not a parameter of '{trigger}'."]
    for name in sorted(REQUIRED_PARAMS.get(trigger, set()) - set(params)):
        errors[f"params.{name}"] = ["Missing data for required field."]
    if "severity" in params and params["severity"] not in SEVERITIES:
        errors["params.severity"] = [f"Must be one of {', '.join(SEVERITIES)}."]
    if "score" in params:
        score = params["score"]
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
            errors["params.score"] = ["Must be an integer from 0 to 100."]
    if "days" in params:
        days = params["days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_EXPIRY_DAYS:
            errors["params.days"] = [f"Must be an integer from 0 to {MAX_EXPIRY_DAYS}."]
    if "condition" in params:
        errors.update(validate_condition(params["condition"], path="params.condition"))
    if "policy_id" in params and not (
        isinstance(params["policy_id"], str) and ID_PATTERN.fullmatch(params["policy_id"])
    ):
        errors["params.policy_id"] = ["Must be a policy id."]
    return errors


def evaluate(trigger: str, params: dict, facts: ScanFacts) -> Match | None:
    """The match of a valid rule against a finished scan, or None."""
    if facts.status == JobStatus.FAILED:
        return _scan_failed(params, facts) if trigger == "scan_failed" else None
    if facts.status != JobStatus.COMPLETED or trigger == "scan_failed":
        return None
    return EVALUATORS[trigger](params, facts)


def _highest(severities: list[str]) -> str:
    return max(severities, key=lambda s: SEVERITY_RANK.get(s, 0), default="info")


def _listing(components: list[dict]) -> list[dict]:
    ranked = sorted(components, key=lambda c: (-int(c.get("risk_score") or 0), c.get("name") or ""))
    return [
        {k: c.get(k) for k in ("id", "name", "type", "severity", "risk_score")}
        for c in ranked[:LISTED_COMPONENTS]
    ]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _severity_at_least(params: dict, facts: ScanFacts) -> Match | None:
    floor = SEVERITY_RANK[params["severity"]]
    hits = [c for c in facts.components if SEVERITY_RANK.get(c.get("severity"), 0) >= floor]
    if not hits:
        return None
    return Match(
        severity=_highest([c.get("severity") for c in hits]),
        title=f"{_plural(len(hits), 'component')} at or above {params['severity']} in {facts.target}",
        details={"count": len(hits), "components": _listing(hits)},
    )


def _new_component(params: dict, facts: ScanFacts) -> Match | None:
    if facts.previous_component_ids is None:
        return None
    new, table = facts.new_components()
    if not new:
        return None
    rows = compile_condition(params["condition"]).select(table)
    hits = [new[row] for row in sorted(rows)]
    details = {"count": len(hits), "previous_scan_id": facts.previous_scan_id, "components": _listing(hits)}
    if not searched_in_time(params["condition"], table):
        # Fail closed: the new names may be the ones chosen to outlast the pattern, so silence would be
        # exactly what they want; the alert says the rule was not fully checked, and why.
        return Match(
            severity=_highest([*(c.get("severity") for c in hits), UNCHECKED_RULE_SEVERITY]),
            title=f"New components in {facts.target} could not all be checked against the rule",
            details={**details, "not_evaluated": UNSEARCHED_REASON},
        )
    if not hits:
        return None
    return Match(
        severity=_highest([c.get("severity") for c in hits]),
        title=f"{_plural(len(hits), 'new component')} matching the rule in {facts.target}",
        details=details,
    )


def _policy_failed(params: dict, facts: ScanFacts) -> Match | None:
    wanted = params.get("policy_id")
    failed = [
        e
        for e in facts.policy_evaluations
        if not e.get("passed") and (wanted is None or e.get("policy_id") == wanted)
    ]
    if not failed:
        return None
    names = ", ".join(sorted({str(e.get("name") or e.get("policy_id")) for e in failed}))
    blocking = any(e.get("action") == "block" for e in failed)
    return Match(
        severity="high" if blocking else "medium",
        title=f"{_plural(len(failed), 'policy failure')} in {facts.target}: {names}",
        details={"policies": [{k: e.get(k) for k in ("policy_id", "name", "action")} for e in failed]},
    )


def _risk_score_above(params: dict, facts: ScanFacts) -> Match | None:
    if not facts.components:
        return None
    top = max(facts.components, key=lambda c: int(c.get("risk_score") or 0))
    score = int(top.get("risk_score") or 0)
    if score <= params["score"]:
        return None
    above = [c for c in facts.components if int(c.get("risk_score") or 0) > params["score"]]
    return Match(
        severity=top.get("severity") or "info",
        title=f"Risk score {score} above {params['score']} in {facts.target}",
        details={"highest_risk_score": score, "threshold": params["score"], "components": _listing(above)},
    )


def _evidence_expiring(params: dict, facts: ScanFacts) -> Match | None:
    """The controls whose current attestation has expired or expires within ``days``."""
    days = params.get("days", DEFAULT_EXPIRY_DAYS)
    by_control: dict[tuple[str, str], list[dict]] = {}
    for attestation in facts.attestations:
        by_control.setdefault((attestation["framework_id"], attestation["control_id"]), []).append(
            attestation
        )
    horizon = facts.now + timedelta(days=days)
    due = [
        current
        for attestations in by_control.values()
        if (current := current_attestation(attestations, facts.now)) and expires_at(current) <= horizon
    ]
    if not due:
        return None
    due.sort(key=expires_at)
    expired = sum(a["expired"] for a in due)
    return Match(
        severity="high" if expired else "medium",
        title=f"{_plural(len(due), 'compliance attestation')} expired or expiring within {days} days",
        details={
            "days": days,
            "expired": expired,
            "attestations": [
                {
                    k: a.get(k)
                    for k in ("id", "framework_id", "control_id", "attested_by", "expires_at", "expired")
                }
                for a in due[:LISTED_COMPONENTS]
            ],
        },
    )


def _scan_failed(_params: dict, facts: ScanFacts) -> Match:
    return Match(severity="high", title=f"Scan of {facts.target} failed", details={"error": facts.error})


EVALUATORS: dict[str, Callable[[dict, ScanFacts], Match | None]] = {
    "severity_at_least": _severity_at_least,
    "new_component": _new_component,
    "policy_failed": _policy_failed,
    "risk_score_above": _risk_score_above,
    "evidence_expiring": _evidence_expiring,
}
