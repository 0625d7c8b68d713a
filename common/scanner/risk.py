"""Risk scoring from the documented table in ``data/risk.json``.

Scores are additive over distinct flags, so a factor seen on many lines or by
two detectors counts once; superseded flags (deprecated when retired) are
dropped before scoring.
"""

from __future__ import annotations

from common.scanner.catalog import load_json
from common.scanner.model import SEVERITIES, Component, RiskFactor


def _severity_for(score: int, bands: list[list]) -> str:
    for name, lower_bound in bands:
        if score >= lower_bound:
            return name
    return "info"


def score_component(component: Component) -> None:
    """Fill ``risk_score``, ``severity`` and ``risk_factors`` in place."""
    table = load_json("risk.json")
    flags = set(component.flags)
    for winner, losers in table["supersedes"].items():
        if winner in flags:
            flags -= set(losers)
    base = table["base"].get(component.type, 0)
    factors = [RiskFactor("component_type", base, f"Base exposure of a {component.type}")]
    for flag in sorted(flags):
        rule = table["flags"].get(flag)
        if rule:
            factors.append(RiskFactor(flag, rule["points"], rule["reason"]))
    adjustment = table["scope_adjustment"].get(component.scope)
    if adjustment:
        factors.append(RiskFactor(f"scope_{component.scope}", adjustment["points"], adjustment["reason"]))
    score = max(0, min(100, sum(f.points for f in factors)))
    severity = _severity_for(score, table["severity_bands"])
    for flag in flags:
        floor = table["minimum_severity"].get(flag)
        if floor and SEVERITIES.index(floor) > SEVERITIES.index(severity):
            severity = floor
            score = max(score, dict(table["severity_bands"])[floor])
    component.risk_score = score
    component.severity = severity
    component.risk_factors = factors
