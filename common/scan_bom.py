"""A stored scan's bill of materials read back from the database, in the shapes the libraries take.

Exports (``common.exporters``), the graph and compare (``common.bom``) are plain libraries over
dicts; this module is the one place that turns a scan's rows into those dicts, so the API and
the ``exports`` worker always hand them the same thing.
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from common.compliance.evidence import apply_evidence
from common.jobs import ACTIVE_STATUSES
from common.models import Component, Scan, ScanRelationship
from common.models.base import isoformat
from common.models.compliance import (
    ComplianceResult,
    EvaluationRun,
    PolicyEvaluation,
    attestations,
    inactive_framework_ids,
)
from common.version import tool


def components(session: Session, scan_id: str) -> list[dict]:
    """The scan's components in the engine's wire form, riskiest first (a stable order)."""
    rows = session.scalars(
        select(Component)
        .where(Component.scan_id == scan_id)
        .order_by(Component.risk_score.desc(), Component.type, Component.name, Component.fingerprint)
    )
    return [row.to_dict() for row in rows]


def relationships(session: Session, scan_id: str) -> list[dict]:
    rows = session.scalars(
        select(ScanRelationship)
        .where(ScanRelationship.scan_id == scan_id)
        .order_by(ScanRelationship.source, ScanRelationship.target, ScanRelationship.relation)
    )
    return [row.to_dict() for row in rows]


def compliance(session: Session, scan: Scan) -> dict | None:
    """Framework and custom-rule results as ``GET /scans/:id/compliance`` shows them (switched-off
    frameworks left out, current evidence applied); None when the scan was never evaluated."""
    stored = session.get(ComplianceResult, scan.id)
    if stored is None:
        return None
    return current_results(session, scan.organization_id, stored.result)


def current_results(session: Session, organization_id: str, result: dict) -> dict:
    """A stored evaluation as it reads now: active frameworks only, with today's attestations applied."""
    active = active_results(result, inactive_framework_ids(session, organization_id))
    return apply_evidence(active, attestations(session, organization_id))


def active_results(result: dict, inactive: set[str]) -> dict:
    """A stored evaluation without the frameworks (and their custom rules) switched off since."""
    return {
        "frameworks": [f for f in result.get("frameworks", []) if f["id"] not in inactive],
        "custom_rules": [r for r in result.get("custom_rules", []) if r.get("framework") not in inactive],
        "profile": result.get("profile"),
    }


def policies(session: Session, scan: Scan) -> list[dict] | None:
    """Each policy's outcome on the scan; None when the scan was never evaluated."""
    if session.get(ComplianceResult, scan.id) is None:
        return None
    rows = session.scalars(
        select(PolicyEvaluation)
        .where(PolicyEvaluation.scan_id == scan.id)
        .order_by(PolicyEvaluation.name, PolicyEvaluation.policy_id)
    )
    return [
        {
            "policy_id": row.policy_id,
            "name": row.name,
            "action": row.action,
            "passed": row.passed,
            "violations": row.violations,
        }
        for row in rows
    ]


def evaluation_pending(session: Session, scan_id: str) -> bool:
    """Is the scan's compliance evaluation still to come (never stored yet, or a run in flight)?"""
    if session.get(ComplianceResult, scan_id) is None:
        return True
    return bool(
        session.scalar(
            select(
                exists().where(EvaluationRun.scan_id == scan_id, EvaluationRun.status.in_(ACTIVE_STATUSES))
            )
        )
    )


def scan_header(scan: Scan) -> dict:
    return {
        "id": scan.id,
        "organization_id": scan.organization_id,
        "target": scan.target or scan.n8n_url or scan.repository_url,
        "source": source_metadata(scan),
        "status": scan.status,
        "deep": scan.deep,
        "created_at": isoformat(scan.created_at),
        "started_at": isoformat(scan.started_at),
        "finished_at": isoformat(scan.finished_at),
        "summary": scan.summary,
    }


def source_metadata(scan: Scan) -> dict | None:
    """Where the scanned code came from (a cloned repository or a CI upload), when known."""
    source = {
        "repository_url": scan.repository_url,
        "ref": scan.repository_ref,
        "commit": scan.commit_sha,
        "branch": scan.source_branch,
        "ci_run_url": scan.ci_run_url,
    }
    return {key: value for key, value in source.items() if value} or None


def export_bundle(session: Session, scan: Scan) -> dict:
    """Everything an exporter reads (see ``common.exporters.bundle``)."""
    return {
        "scan": scan_header(scan),
        "components": components(session, scan.id),
        "relationships": relationships(session, scan.id),
        "compliance": compliance(session, scan),
        "policies": policies(session, scan),
        "tool": tool(),
    }
