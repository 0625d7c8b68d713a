"""Scan-level metrics: numbers read from a scan summary, or counted over its components.

A metric is a summary path (``total_components``, ``files_scanned``,
``highest_risk_score``, ``by_type.<type>``, ``by_severity.<severity>``), a
count expression ``count(type=model, provider=deepseek)`` (every pair is a
case-insensitive ``equals``), or ``{"count": <condition>}`` for anything the
condition language can say. Used by policy thresholds and framework checks.

A summary that lacks a path (e.g. the CLI before the platform summarised the
scan) falls back to the same number computed from the components, so the CLI
gate and the platform agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.compliance.conditions import (
    FIELD_KINDS,
    NUMBER,
    SEVERITY_RANK,
    ComponentTable,
    Condition,
    compile_condition,
    is_finite_number,
    validate_condition,
)
from common.scanner.model import COMPONENT_TYPES, SEVERITIES

SUMMARY_SCALARS = ("total_components", "files_scanned", "highest_risk_score")
METRIC_OPERATORS = ("equals", "not_equals", "gt", "gte", "lt", "lte")
COMPARISONS = {
    "equals": lambda left, right: left == right,
    "not_equals": lambda left, right: left != right,
    "gt": lambda left, right: left > right,
    "gte": lambda left, right: left >= right,
    "lt": lambda left, right: left < right,
    "lte": lambda left, right: left <= right,
}


@dataclass(frozen=True)
class Metric:
    """A parsed metric. ``path`` is a summary path; ``count`` a condition whose matches are counted."""

    text: str
    path: tuple[str, ...] = ()
    count: Condition | None = None

    def value(self, summary: object, table: ComponentTable) -> float:
        if self.count is not None:
            return float(len(self.count.select(table)))
        found = _summary_number(summary, self.path)
        return found if found is not None else self._from_components(table)

    def evidence(self, table: ComponentTable) -> frozenset[int]:
        """The components a metric counts, so a threshold result can name them."""
        if self.count is not None:
            return self.count.select(table)
        head = self.path[0]
        if head == "by_type":
            return frozenset(table.index("type").get(self.path[1], ()))
        if head == "by_severity":
            return frozenset(table.index("severity").get(SEVERITY_RANK[self.path[1]], ()))
        if head == "highest_risk_score":
            scores = table.column("risk_score")
            top = max((s for s in scores if s is not None), default=None)
            return frozenset(row for row, score in enumerate(scores) if top is not None and score == top)
        return frozenset()

    def _from_components(self, table: ComponentTable) -> float:
        head = self.path[0]
        if head == "total_components":
            return float(len(table))
        if head == "highest_risk_score":
            return max((s for s in table.column("risk_score") if s is not None), default=0.0)
        if head in ("by_type", "by_severity"):
            return float(len(self.evidence(table)))
        return 0.0  # files_scanned is known only to the scanner


def _summary_number(summary: object, path: tuple[str, ...]) -> float | None:
    """The number at ``path``; None when the summary does not say (a breakdown that omits a key says 0)."""
    node = summary
    for depth, key in enumerate(path):
        if not isinstance(node, dict):
            return None
        if key not in node:
            return 0.0 if depth == 1 and path[0] in ("by_type", "by_severity") else None
        node = node[key]
    if is_finite_number(node):
        return float(node)
    return None


def metric_errors(metric: object) -> list[str]:
    """Why ``metric`` is not a metric; empty when it is."""
    if isinstance(metric, dict):
        if set(metric) != {"count"}:
            return ['an object metric is {"count": <condition>}']
        return [
            f"{path}: {'; '.join(messages)}"
            for path, messages in validate_condition(metric["count"], "count").items()
        ]
    if not isinstance(metric, str) or not metric.strip():
        return ['must be a summary path, count(field=value, ...) or {"count": <condition>}']
    text = metric.strip()
    if text.startswith("count(") and text.endswith(")"):
        condition, errors = _count_condition(text[len("count(") : -1])
        if errors:
            return errors
        return [
            f"{path}: {'; '.join(messages)}"
            for path, messages in validate_condition(condition, "count").items()
        ]
    head, _, key = text.partition(".")
    if head in SUMMARY_SCALARS and not key:
        return []
    if head == "by_type" and key in COMPONENT_TYPES:
        return []
    if head == "by_severity" and key in SEVERITIES:
        return []
    return [
        f"unknown metric {text!r}; use {', '.join(SUMMARY_SCALARS)}, by_type.<type>, by_severity.<severity> "
        "or count(field=value, ...)"
    ]


def _count_condition(arguments: str) -> tuple[dict, list[str]]:
    leaves, errors = [], []
    for pair in filter(None, (part.strip() for part in arguments.split(","))):
        field, equals, value = (piece.strip() for piece in pair.partition("="))
        if not equals or not field or not value:
            errors.append(f"count argument {pair!r} is not field=value")
            continue
        if FIELD_KINDS.get(field) == NUMBER:
            try:
                leaves.append({"field": field, "operator": "equals", "value": float(value)})
            except ValueError:
                errors.append(f"count argument {pair!r}: {field} takes a number")
            continue
        leaves.append({"field": field, "operator": "equals", "value": value.strip("'\"")})
    return {"all": leaves}, errors


def parse_metric(metric: object) -> Metric:
    """Parse a metric that :func:`metric_errors` accepted."""
    errors = metric_errors(metric)
    if errors:
        raise ValueError(errors[0])
    if isinstance(metric, dict):
        return Metric(text="count(<condition>)", count=compile_condition(metric["count"]))
    text = metric.strip()
    if text.startswith("count("):
        condition, _ = _count_condition(text[len("count(") : -1])
        return Metric(text=text, count=compile_condition(condition))
    return Metric(text=text, path=tuple(text.split(".")))


def threshold_errors(operator: object, value: object) -> dict[str, list[str]]:
    """Errors of a metric threshold's operator and value, keyed ``operator`` / ``value``."""
    errors: dict[str, list[str]] = {}
    if operator not in METRIC_OPERATORS:
        errors["operator"] = [f"must be one of: {', '.join(METRIC_OPERATORS)}"]
    if not is_finite_number(value):
        errors["value"] = ["must be a number"]
    return errors


def summarize(components: list[dict], files_scanned: int = 0) -> dict:
    """The platform's scan summary computed locally, for the CLI gate."""
    table = ComponentTable(components)
    by_type: dict[str, int] = {}
    by_severity: dict[str, int] = {}
    for row in table.rows:
        component_type, severity = row.get("type"), row.get("severity")
        if isinstance(component_type, str):
            by_type[component_type] = by_type.get(component_type, 0) + 1
        if isinstance(severity, str):
            by_severity[severity] = by_severity.get(severity, 0) + 1
    scores = [s for s in table.column("risk_score") if s is not None]
    return {
        "total_components": len(table),
        "by_type": by_type,
        "by_severity": by_severity,
        "highest_risk_score": int(max(scores, default=0)),
        "files_scanned": files_scanned,
    }
