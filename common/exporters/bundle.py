"""What every exporter reads from an export bundle, computed one way for all seven formats.

The bundle shape is the platform contract (see the scan, component, compliance and policy
shapes); these helpers keep the formats consistent with each other: the same findings,
the same rule texts, the same severity order and the same summary.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"

# Most severe first: the order of tables, charts and counts in every human-readable format.
SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")
SEVERITY_RANK = {name: rank for rank, name in enumerate(reversed(SEVERITY_ORDER))}


@cache
def load_data(name: str) -> dict:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Rule:
    """One check a finding can fail: a risk flag, with its text and severity."""

    id: str
    title: str
    severity: str
    help: str


def rule_for(flag: str) -> Rule:
    rules = load_data("rules.json")
    entry = rules["flags"].get(flag, rules["unknown_flag"])
    return Rule(id=flag, title=entry["title"], severity=entry["severity"], help=entry["help"])


def sarif_level(severity: str) -> str:
    return load_data("rules.json")["levels"].get(severity, "warning")


def security_severity(severity: str) -> str:
    return load_data("rules.json")["security_severity"].get(severity, "5.5")


@dataclass(frozen=True)
class Finding:
    """A component failing one flag at one place: the unit of SARIF results and table rows."""

    component: dict
    flag: str
    file: str | None
    line: int
    snippet: str


def findings(components: list[dict]) -> Iterator[Finding]:
    """component x flag x location, in component order, then flag, then location order.

    A flagged component without locations still yields one finding (no file), so no flag is
    silently lost from an export.
    """
    for component in components:
        locations = component.get("locations") or []
        for flag in sorted(component.get("flags") or []):
            if not locations:
                yield Finding(component, flag, None, 0, "")
            for location in locations:
                yield Finding(
                    component,
                    flag,
                    location["file"],
                    int(location.get("line") or 0),
                    location.get("snippet") or "",
                )


def summary(bundle: dict) -> dict:
    """The scan summary stored with the scan, or the same numbers computed from the components."""
    stored = (bundle.get("scan") or {}).get("summary")
    if stored:
        return stored
    components = bundle.get("components") or []
    return {
        "total_components": len(components),
        "by_type": dict(sorted(Counter(c["type"] for c in components).items())),
        "by_severity": dict(Counter(c.get("severity") or "info" for c in components)),
        "highest_risk_score": max((c.get("risk_score") or 0 for c in components), default=0),
        "files_scanned": 0,
    }


def severity_counts(bundle: dict) -> list[tuple[str, int]]:
    """(severity, count) for every severity, most severe first, zeros included."""
    by_severity = summary(bundle).get("by_severity") or {}
    return [(name, int(by_severity.get(name, 0))) for name in SEVERITY_ORDER]


def parse_time(value: str | datetime) -> datetime:
    """An ISO 8601 string or datetime as an aware datetime (naive values are UTC)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def generated_at(bundle: dict) -> datetime:
    """When the scan finished (or was created): exports of the same scan stay byte-identical."""
    scan = bundle.get("scan") or {}
    for key in ("finished_at", "started_at", "created_at"):
        if scan.get(key):
            return parse_time(scan[key])
    return datetime(1970, 1, 1, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def location_text(component: dict) -> str:
    """All locations as 'file:line' separated by '; ' (line omitted for whole-file findings)."""
    return "; ".join(
        f"{loc['file']}:{loc['line']}" if loc.get("line") else loc["file"]
        for loc in component.get("locations") or []
    )


def control_results(compliance: dict | None) -> Iterator[tuple[dict, dict]]:
    """(framework, control) for every control of every framework, in the order evaluated."""
    for framework in (compliance or {}).get("frameworks") or []:
        for control in framework.get("controls") or []:
            yield framework, control


def score_text(framework: dict) -> str:
    """The score, or why there is none."""
    if framework.get("score") is None:
        return f"no score: {framework.get('score_reason') or 'no control was evaluated'}"
    return str(framework["score"])


def coverage_text(framework: dict) -> str:
    """'evaluated/total' controls; empty for a result stored before coverage was reported."""
    coverage = framework.get("coverage")
    return f"{coverage['evaluated']}/{coverage['total']}" if coverage else ""


def evidence_reference(control: dict) -> str:
    """Who attested a manual control, until when, and the file's digest; empty without an attestation."""
    attestation = control.get("attestation")
    if not attestation:
        return ""
    validity = (
        f"expired {attestation['expires_at']}"
        if attestation.get("expired")
        else f"valid until {attestation['expires_at']}"
    )
    who = f"{attestation['attested_by']} on {attestation['attested_at']}"
    text = f"attestation {attestation['id']} by {who}, {validity}"
    if attestation.get("filename"):
        text += f"; file {attestation['filename']} (sha256 {attestation['sha256']})"
    return text
