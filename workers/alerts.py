"""``alerts.evaluate_scan``: match a finished scan against its organization's alert rules.

A match opens an alert unless one for the same rule and target is still unresolved
(then that alert just counts another occurrence), and fires ``alert.triggered``, which
reaches the WebSocket and the webhooks (subscribers plus the rule's channels).
Running twice for one scan opens nothing twice: alerts are unique per rule and scan.
"""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common import alerting, events, jobs
from common.accounts import hold_organization
from common.baseline import previous_completed_scan, scan_source
from common.db import session_scope
from common.jobs import JobStatus
from common.models import Component, Scan
from common.models.alerts import Alert, AlertRule, mapped_model
from common.tasks import ALERTS_EVALUATE_SCAN
from common.webhooks import ALERT_EVENT
from workers.app import app
from workers.base import TRANSIENT_ERRORS, PlatformTask

log = logging.getLogger(__name__)


def open_key(rule_id: str, target: str) -> str:
    """One unresolved alert per rule and target (``baseline.scan_source``: by ``target``, else ``n8n_url``,
    every repository scan was one target, and one repository's open alert counted the others' matches as
    its occurrences, announcing none of them)."""
    return f"{rule_id}:{hashlib.sha256(target.encode()).hexdigest()}"


def _policy_evaluations(session: Session, scan_id: str) -> list[dict]:
    """Policy outcomes of the scan, when the compliance feature's ``PolicyEvaluation`` model exists."""
    model = mapped_model("PolicyEvaluation")
    if model is None:
        return []
    rows = session.scalars(select(model).where(model.scan_id == scan_id)).all()
    return [
        {
            "policy_id": row.policy_id,
            "passed": bool(row.passed),
            "name": getattr(row, "name", None),
            "action": getattr(row, "action", None),
        }
        for row in rows
    ]


def gather_facts(session: Session, scan: Scan, triggers: set[str]) -> alerting.ScanFacts:
    """Load only what the organization's rules look at."""
    facts = alerting.ScanFacts(
        scan_id=scan.id,
        target=scan_source(scan),
        status=scan.status,
        error=scan.error,
        summary=scan.summary or {},
    )
    if scan.status != JobStatus.COMPLETED:
        return facts
    if triggers & {"severity_at_least", "new_component", "risk_score_above"}:
        facts.components = [
            c.to_dict() for c in session.scalars(select(Component).where(Component.scan_id == scan.id))
        ]
    if "new_component" in triggers and (previous := previous_completed_scan(session, scan)) is not None:
        facts.previous_scan_id = previous.id
        facts.previous_component_ids = set(
            session.scalars(select(Component.fingerprint).where(Component.scan_id == previous.id))
        )
    if "policy_failed" in triggers:
        facts.policy_evaluations = _policy_evaluations(session, scan.id)
    if "evidence_expiring" in triggers and (evidence := mapped_model("ControlEvidence")) is not None:
        rows = session.scalars(select(evidence).where(evidence.organization_id == scan.organization_id))
        facts.attestations = [row.to_engine() for row in rows]
    return facts


def _open_alert(
    rule: AlertRule, scan_id: str, facts: alerting.ScanFacts, match: alerting.Match
) -> Alert | None:
    """The new alert, or None when an unresolved one already covers this rule and target (or the
    organization is gone). The organization is held first, in its deletion's order (``hold_organization``)."""
    key = open_key(rule.id, facts.target)
    try:
        with session_scope() as session:
            if not hold_organization(session, rule.organization_id):
                return None
            current = session.scalar(select(Alert).where(Alert.open_key == key).with_for_update())
            if current is not None:
                if scan_id not in (current.scan_id, current.last_scan_id):
                    current.occurrences += 1
                    current.last_scan_id = scan_id
                return None
            if session.scalar(select(Alert.id).where(Alert.rule_id == rule.id, Alert.scan_id == scan_id)):
                return None
            alert = Alert(
                organization_id=rule.organization_id,
                rule_id=rule.id,
                scan_id=scan_id,
                last_scan_id=scan_id,
                target=facts.target,
                open_key=key,
                status="open",
                severity=match.severity,
                title=match.title[:1000],
                details={**match.details, "trigger": rule.trigger, "rule_name": rule.name},
            )
            session.add(alert)
            session.flush()
            events.record(
                session,
                alert.organization_id,
                ALERT_EVENT,
                alert_id=alert.id,
                rule_id=rule.id,
                rule_name=rule.name,
                scan_id=scan_id,
                target=alert.target,
                severity=alert.severity,
                title=alert.title,
                components=[c.get("name") for c in (alert.details or {}).get("components", [])[:3]],
            )
        return alert
    except IntegrityError:  # a concurrent evaluation opened it first
        return None


def _evaluate(rule: AlertRule, facts: alerting.ScanFacts) -> alerting.Match | None:
    """One rule's match; a rule whose stored params no longer evaluate is skipped, not fatal to the others."""
    try:
        return alerting.evaluate(rule.trigger, rule.params or {}, facts)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("alert rule %s (%s) skipped: %s", rule.id, rule.trigger, exc)
        return None


@app.task(bind=True, base=PlatformTask, name=ALERTS_EVALUATE_SCAN)
def evaluate_scan(self: PlatformTask, scan_id: str) -> int:
    try:
        with session_scope() as session:
            scan = session.get(Scan, scan_id)
            if scan is None or not jobs.is_finished(scan):
                return 0
            rules = session.scalars(
                select(AlertRule).where(
                    AlertRule.organization_id == scan.organization_id, AlertRule.enabled.is_(True)
                )
            ).all()
            if not rules:
                return 0
            facts = gather_facts(session, scan, {rule.trigger for rule in rules})
        matches = [(rule, m) for rule in rules if (m := _evaluate(rule, facts))]
        opened = [alert for rule, match in matches if (alert := _open_alert(rule, scan_id, facts, match))]
    except TRANSIENT_ERRORS as exc:
        raise self.retry_later(exc) from exc
    return len(opened)
