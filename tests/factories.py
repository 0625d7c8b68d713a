"""Builders for test data: a component as the scanner reports it, and a scan row written straight
to the database. Every test that needs one calls these, so a new component field or scan column
is added in one place. Keyword defaults describe an unremarkable component; a test names only what
it is about.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from common.db import session_scope
from common.models import Component, Scan, ScanRelationship
from common.models.base import utcnow

# The score a test gets when it states only the severity: the values the tests have always paired with
# each one (the scanner's own bands are in common/scanner/data/risk.json; no test here depends on them).
SEVERITY_RISK = {"info": 0, "low": 10, "medium": 45, "high": 70, "critical": 90}


def component_id(kind: str, name: str) -> str:
    return hashlib.sha256(f"{kind}:{name}".lower().encode()).hexdigest()[:24]


def location(file: str, line: int, snippet: str = "") -> dict:
    return {"file": file, "line": line, "snippet": snippet}


def component(
    kind: str,
    name: str,
    *,
    id: str | None = None,
    provider: str | None = None,
    version: str | None = None,
    model_name: str | None = None,
    locations: Iterable[dict | Sequence] = (),
    flags: Iterable[str] = (),
    severity: str = "low",
    risk: int | None = None,
    detector: str = "test",
    confidence: float = 0.9,
    scope: str = "production",
    metadata: dict | None = None,
) -> dict:
    """A component in the shape of a scan result (what the internal API ingests and exporters read).

    ``locations`` takes dicts or ``(file, line[, snippet])`` tuples; ``risk`` defaults to a score of
    ``severity``; each flag becomes a risk factor."""
    flags = list(flags)
    return {
        "id": id or component_id(kind, name),
        "name": name,
        "type": kind,
        "provider": provider,
        "version": version,
        "model_name": model_name,
        "locations": [place if isinstance(place, dict) else location(*place) for place in locations],
        "flags": flags,
        "risk_score": SEVERITY_RISK[severity] if risk is None else risk,
        "severity": severity,
        "risk_factors": [{"factor": flag, "points": 10, "reason": f"because {flag}"} for flag in flags],
        "detector": detector,
        "confidence": confidence,
        "scope": scope,
        "metadata": metadata or {},
    }


def component_columns(result: dict) -> dict:
    """A result component as ``Component`` model columns: its id is the row's fingerprint."""
    columns = {key: value for key, value in result.items() if key not in ("id", "metadata")}
    return {**columns, "fingerprint": result["id"], "details": result.get("metadata", {})}


def make_scan(
    organization_id: str,
    *,
    status: str = "completed",
    target: str | None = "/srv/app",
    components: Iterable[dict] = (),
    edges: Iterable[tuple[str, str, str]] = (),
    session=None,
    **columns,
) -> str:
    """A scan row with its components (from ``component``) and relationships, added to ``session``
    or committed in a session of its own; returns its id. ``columns`` sets any other ``Scan``
    column; a finished scan gets ``finished_at`` and a completed one full progress unless given."""
    if session is None:
        with session_scope() as own_session:
            return make_scan(
                organization_id,
                status=status,
                target=target,
                components=components,
                edges=edges,
                session=own_session,
                **columns,
            )
    columns.setdefault("progress", 100 if status == "completed" else 0)
    columns.setdefault("finished_at", utcnow() if status in ("completed", "failed") else None)
    scan = Scan(organization_id=organization_id, target=target, status=status, **columns)
    session.add(scan)
    session.flush()
    for result in components:
        session.add(Component(scan_id=scan.id, organization_id=organization_id, **component_columns(result)))
    for source, relation_target, relation in edges:
        session.add(
            ScanRelationship(scan_id=scan.id, source=source, target=relation_target, relation=relation)
        )
    return scan.id
