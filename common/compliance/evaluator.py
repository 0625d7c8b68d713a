"""Evaluate a scan against compliance frameworks and custom rules.

The frameworks are the YAML files in ``frameworks/`` next to this module: adding
or changing a control is a data change. The result is the shared "compliance
result" shape (see the helper contract), stored by the ``compliance`` worker and
served by ``GET /scans/:id/compliance``.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from common.compliance.conditions import (
    UNSEARCHED_REASON,
    ComponentTable,
    InvalidCondition,
    compile_condition,
    searched_in_time,
)
from common.compliance.framework import (
    CONTROL_STATUSES,
    EVALUATED_STATUSES,
    Control,
    ControlOutcome,
    Framework,
    ScanContext,
    parse_framework,
)

FRAMEWORKS_DIR = Path(__file__).with_name("frameworks")
DEFAULT_EVIDENCE_LIMIT = 500


def load_frameworks(directory: Path | None = None) -> list[Framework]:
    """Every framework data file in ``directory`` (the built-in ones by default), ordered by file name."""
    return list(_load_frameworks(directory or FRAMEWORKS_DIR))


@lru_cache(maxsize=4)
def _load_frameworks(directory: Path) -> tuple[Framework, ...]:
    frameworks = []
    for path in sorted(directory.glob("*.yaml")):
        with path.open(encoding="utf-8") as handle:
            frameworks.append(parse_framework(yaml.safe_load(handle), origin=path.name))
    ids = [framework.id for framework in frameworks]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate framework ids in {directory}: {', '.join(duplicates)}")
    return tuple(frameworks)


def framework_catalog(frameworks: list[Framework] | None = None) -> list[dict]:
    """The frameworks with their controls, checks and limitations, for ``GET /compliance/frameworks``."""
    return [framework.to_catalog() for framework in (load_frameworks() if frameworks is None else frameworks)]


def evaluate_frameworks(
    components: list[dict],
    summary: dict,
    relationships: list[dict],
    frameworks: list[Framework] | None = None,
    custom_rules: list[dict] | None = None,
    *,
    evidence_limit: int | None = DEFAULT_EVIDENCE_LIMIT,
    table: ComponentTable | None = None,
    profile: dict | None = None,
    on: date | None = None,
) -> dict:
    """The compliance result of one scan.

    ``frameworks`` defaults to every built-in framework (pass the organization's
    active ones). Evidence and matched lists keep the first ``evidence_limit``
    ids in scan order (None keeps all), so that a huge scan stays storable;
    ``evidence_count`` / ``matched_count`` always give the full number. Pass
    ``table`` (a :class:`ComponentTable` of ``components``) to share one
    normalised scan with policy evaluation. ``profile`` is the AI system profile
    (role, risk_class, places_gpai_model; None when none is set) that decides which
    obligations bind; ``on`` is the date obligations are judged at (today by default).
    """
    context = ScanContext(components, summary, relationships, table)
    chosen = load_frameworks() if frameworks is None else frameworks
    on = on or date.today()
    return {
        "frameworks": [
            _evaluate_framework(framework, context, evidence_limit, profile, on) for framework in chosen
        ],
        "custom_rules": [_evaluate_custom_rule(rule, context, evidence_limit) for rule in custom_rules or []],
    }


def _evaluate_framework(
    framework: Framework, context: ScanContext, evidence_limit: int | None, profile: dict | None, on: date
) -> dict:
    controls = []
    for control in framework.controls:
        outcome = control.evaluate(context, profile, on)
        controls.append(_control_result(control, outcome, context, evidence_limit))
    return {
        "id": framework.id,
        "name": framework.name,
        "version": framework.version,
        "revision": framework.revision,
        "source": framework.source,
        "inventory_empty": not len(context.table),
        "controls": controls,
        **score_summary(controls, inventory_empty=not len(context.table)),
    }


def _control_result(
    control: Control, outcome: ControlOutcome, context: ScanContext, limit: int | None
) -> dict:
    obligation = control.obligation or {}
    return {
        "id": control.id,
        "title": control.title,
        "reference": control.reference,
        "assessment": control.assessment,
        "status": outcome.status,
        "evidence": _limited(context.table.ids(outcome.rows), limit),
        "evidence_count": len(outcome.rows),
        "message": outcome.message,
        "evidence_required": control.evidence_required or None,
        "applicability": outcome.applicability,
        "applies_if": control.applicability.condition if control.applicability else None,
        "applies_from": obligation.get("applies_from"),
        "date_source": obligation.get("source"),
        "amendments": obligation.get("amendments", []),
        "remediation": control.remediation,
        "limitations": control.limitations,
    }


def score_summary(controls: list[dict], *, inventory_empty: bool) -> dict:
    """``counts``, ``coverage`` (evaluated / total), ``score`` and ``score_reason`` of a framework's controls.

    Also used after evidence turned manual controls into passes, so it reads only the results.
    """
    counts = dict.fromkeys(CONTROL_STATUSES, 0)
    for control in controls:
        counts[control["status"]] += 1
    evaluated = sum(counts[status] for status in EVALUATED_STATUSES)
    coverage = {"evaluated": evaluated, "total": len(controls)}
    if inventory_empty:
        reason = "No AI component was inventoried, so the scan gives no evidence either way."
        return {"score": None, "score_reason": reason, "coverage": coverage, "counts": counts}
    score = compliance_score(counts)
    reason = None if score is not None else "No control could be evaluated from this scan or from evidence."
    return {"score": score, "score_reason": reason, "coverage": coverage, "counts": counts}


def compliance_score(counts: dict[str, int]) -> int | None:
    """Percentage of evaluated controls met, a warning counting half; None when nothing was evaluated.

    ``no_indicator``, ``manual`` and ``not_applicable`` controls are not evaluated, so they do not count.
    """
    evaluated = sum(counts.get(status, 0) for status in EVALUATED_STATUSES)
    if not evaluated:
        return None
    return round(100 * (counts.get("pass", 0) + 0.5 * counts.get("warning", 0)) / evaluated)


def _evaluate_custom_rule(rule: dict, context: ScanContext, evidence_limit: int | None) -> dict:
    """A rule fails when any component matches its condition; an invalid stored rule fails and says why,
    and so does one whose regex search ran out of time: names chosen to make the pattern backtrack would
    otherwise pass a control that was never checked."""
    rule = rule if isinstance(rule, dict) else {}
    result = {"id": rule.get("id"), "name": rule.get("name"), "severity": rule.get("severity")}
    try:
        condition = compile_condition(rule.get("condition"))
    except InvalidCondition as exc:
        return {**result, "status": "fail", "matched": [], "matched_count": 0, "errors": exc.errors}
    rows = condition.select(context.table)
    checked = searched_in_time(rule.get("condition"), context.table)
    outcome = {
        **result,
        "status": "fail" if rows or not checked else "pass",
        "matched": _limited(context.table.ids(rows), evidence_limit),
        "matched_count": len(rows),
    }
    if not checked:
        outcome["errors"] = {"condition": [f"The rule could not be checked: {UNSEARCHED_REASON}."]}
    return outcome


def _limited(ids: list[str], limit: int | None) -> list[str]:
    return ids if limit is None else ids[:limit]
