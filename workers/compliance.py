"""``compliance.evaluate_scan``: judge a completed scan, then hand it to the alert rules.

The scan is evaluated under the AI system profile of its target (else the organization's), which
decides the obligations that bind, against the organization's active frameworks, its enabled custom
rules (those attached to a switched-off framework are skipped) and its enabled policies,
all over one shared component table. The results replace the scan's previous ones in one
transaction that locks the scan row, so two runs of one scan write one after the other and
running the task twice leaves the same rows. Each failed policy's ``policy.violated`` is recorded
with the results; the alert rules follow the run's end either way (``EVENT_FOLLOW_UPS``), because
their ``policy_failed`` trigger reads what was stored here.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from common import events, jobs
from common.accounts import hold_organization, hold_organization_of
from common.baseline import mark_against_previous_scan, references_baseline
from common.compliance import ComponentTable, evaluate_frameworks, evaluate_policies, load_frameworks
from common.compliance.framework import Framework
from common.db import session_scope
from common.jobs import ACTIVE_STATUSES, JobStatus
from common.models import Component, Scan, ScanRelationship
from common.models.base import new_id, utcnow
from common.models.compliance import (
    CUSTOM_FRAMEWORK,
    ComplianceResult,
    CustomRule,
    EvaluationRun,
    Policy,
    PolicyEvaluation,
    inactive_framework_ids,
    profile_for,
)
from common.tasks import COMPLIANCE_EVALUATE_SCAN
from workers.app import app
from workers.base import TRANSIENT_ERRORS, Job, PermanentTaskError, PlatformTask

log = logging.getLogger(__name__)


def active_frameworks(session: Session, organization_id: str) -> list[Framework]:
    inactive = inactive_framework_ids(session, organization_id)
    return [framework for framework in load_frameworks() if framework.id not in inactive]


# ``FOR NO KEY UPDATE`` on the scan: two deliveries still take it one after the other, but rows that
# merely reference the scan (an export, a manual evaluation, a result) are not blocked behind it
SERIALIZE_ONLY = {"key_share": True}


def _start_automatic_run(scan_id: str) -> tuple[str, str] | None:
    """Create and start the run of the evaluation every completed scan gets, in one transaction.

    Returns its id and organization; None when the scan is gone or unfinished, or its run has ended.
    A scan has one automatic run: a redelivered message starts again the unfinished run it created
    before and leaves a finished one alone. The scan row's lock makes two concurrent deliveries look
    for the run one after the other (a lock on a run that does not exist yet would lock nothing). The
    organization is held before the scan is locked, in the order its deletion locks them.
    """
    with session_scope() as session:
        if hold_organization_of(session, Scan, scan_id) is None:
            return None
        scan = session.get(Scan, scan_id, with_for_update=SERIALIZE_ONLY)
        if scan is None or scan.status != JobStatus.COMPLETED:
            return None
        run = session.scalar(
            select(EvaluationRun)
            .where(EvaluationRun.scan_id == scan_id, EvaluationRun.trigger == "scan")
            .order_by(EvaluationRun.status.in_(ACTIVE_STATUSES).desc(), EvaluationRun.created_at.desc())
            .limit(1)
            .with_for_update()
        )
        if run is not None and jobs.is_finished(run):
            return None
        if run is None:
            run = EvaluationRun(
                id=new_id(), organization_id=scan.organization_id, scan_id=scan_id, trigger="scan"
            )
            session.add(run)
        events.record_job_event(session, jobs.start(run))
        return run.id, run.organization_id


def _load(session: Session, scan_id: str) -> dict | None:
    """The evaluation's inputs; None when the scan is gone (deleted, with its organization or alone, and
    its runs with it)."""
    scan = session.get(Scan, scan_id)
    if scan is None:
        return None
    if scan.status != JobStatus.COMPLETED:
        raise PermanentTaskError(f"scan {scan_id} is not completed; only completed scans are evaluated")
    organization_id = scan.organization_id
    components = session.scalars(
        select(Component)
        .where(Component.scan_id == scan_id)
        .order_by(Component.risk_score.desc(), Component.type, Component.name, Component.fingerprint)
    )
    relationships = session.scalars(select(ScanRelationship).where(ScanRelationship.scan_id == scan_id))
    frameworks = active_frameworks(session, organization_id)
    profile = profile_for(session, organization_id, scan.target or scan.n8n_url)
    framework_ids = {framework.id for framework in frameworks} | {CUSTOM_FRAMEWORK}
    rules = session.scalars(
        select(CustomRule)
        .where(CustomRule.organization_id == organization_id, CustomRule.enabled.is_(True))
        .order_by(CustomRule.created_at, CustomRule.id)
    )
    policies = session.scalars(
        select(Policy)
        .where(Policy.organization_id == organization_id, Policy.enabled.is_(True))
        .order_by(Policy.created_at, Policy.id)
    )
    inputs = {
        "organization_id": organization_id,
        "summary": scan.summary or {},
        "components": [component.to_dict() for component in components],
        "relationships": [edge.to_dict() for edge in relationships],
        "frameworks": frameworks,
        "custom_rules": [
            {
                "id": rule.id,
                "name": rule.name,
                "severity": rule.severity,
                "framework": rule.framework,
                "condition": rule.condition,
            }
            for rule in rules
            if rule.framework in framework_ids
        ],
        "policies": [policy.to_engine() for policy in policies],
        "profile": profile.to_engine() if profile is not None else None,
    }
    if references_baseline([inputs["custom_rules"], inputs["policies"]]):
        mark_against_previous_scan(session, scan, inputs["components"])
    return inputs


def _evaluate(inputs: dict, job: Job) -> tuple[dict, list[dict]]:
    components, summary = inputs["components"], inputs["summary"]
    table = ComponentTable(components)
    job.progress(30, "frameworks")
    compliance = evaluate_frameworks(
        components,
        summary,
        inputs["relationships"],
        inputs["frameworks"],
        inputs["custom_rules"],
        table=table,
        profile=inputs["profile"],
    )
    compliance["profile"] = inputs["profile"]
    for result, rule in zip(compliance["custom_rules"], inputs["custom_rules"], strict=True):
        result["framework"] = rule["framework"]
    job.progress(70, "policies")
    return compliance, evaluate_policies(inputs["policies"], components, summary, table=table)


def _live(session: Session, evaluations: list[dict]) -> list[dict]:
    """The evaluations whose policy still exists; the lock keeps them from disappearing before commit."""
    if not evaluations:
        return []
    live_policies = set(
        session.scalars(
            select(Policy.id)
            .where(Policy.id.in_([e["policy_id"] for e in evaluations]))
            .with_for_update(read=True, key_share=True)
        )
    )
    return [e for e in evaluations if e["policy_id"] in live_policies]


def _store(
    run_id: str, scan_id: str, organization_id: str, compliance: dict, evaluations: list[dict]
) -> None:
    """Replace the scan's results and complete the run, in one transaction.

    Each failed policy's ``policy.violated`` is recorded with them, then ``evaluation.completed``.
    The run row is locked before anything is written: of two deliveries of one run that get here at
    once, the second finds the run finished and writes nothing, so its events are recorded once. The
    organization is held first, in its deletion's order (``hold_organization``): the results reference it.
    """
    now = utcnow()
    with session_scope() as session:
        if not hold_organization(session, organization_id):
            log.info("organization %s deleted during the evaluation of scan %s", organization_id, scan_id)
            return
        if session.get(Scan, scan_id, with_for_update=SERIALIZE_ONLY) is None:
            log.info("scan %s deleted during its evaluation, and its run with it", scan_id)
            return
        run = session.get(EvaluationRun, run_id, with_for_update=True)
        if run is None or jobs.is_finished(run):
            log.info("evaluation run %s ended meanwhile: its results are not stored again", run_id)
            return
        kept = _live(session, evaluations)
        session.merge(
            ComplianceResult(
                scan_id=scan_id, organization_id=organization_id, result=compliance, evaluated_at=now
            )
        )
        session.execute(delete(PolicyEvaluation).where(PolicyEvaluation.scan_id == scan_id))
        if kept:
            session.execute(
                insert(PolicyEvaluation),
                [
                    {
                        "id": new_id(),
                        "organization_id": organization_id,
                        "scan_id": scan_id,
                        "policy_id": e["policy_id"],
                        "name": e["name"],
                        "action": e["action"],
                        "passed": e["passed"],
                        "violation_count": len(e["violations"]),
                        "violations": e["violations"],
                        "evaluated_at": now,
                    }
                    for e in kept
                ],
            )
        failed = [e for e in kept if not e["passed"]]
        run.outcome = {
            "frameworks": len(compliance["frameworks"]),
            "custom_rules": len(compliance["custom_rules"]),
            "custom_rules_failed": sum(rule["status"] == "fail" for rule in compliance["custom_rules"]),
            "policies": len(kept),
            "policies_failed": len(failed),
            "blocking_policies_failed": sum(e["action"] == "block" for e in failed),
            "violations": sum(len(e["violations"]) for e in kept),
        }
        for evaluation in failed:
            events.record(
                session,
                organization_id,
                "policy.violated",
                scan_id=scan_id,
                policy_id=evaluation["policy_id"],
                name=evaluation["name"],
                action=evaluation["action"],
                violations=len(evaluation["violations"]),
            )
        events.record_job_event(session, jobs.complete(run))


def _run(job: Job, run_id: str, scan_id: str) -> None:
    job.progress(5, "loading")
    with session_scope() as session:
        inputs = _load(session, scan_id)
    if inputs is None:
        log.info("scan %s deleted before its evaluation", scan_id)
        return
    compliance, evaluations = _evaluate(inputs, job)
    job.progress(90, "storing")
    _store(run_id, scan_id, inputs["organization_id"], compliance, evaluations)


@app.task(bind=True, base=PlatformTask, name=COMPLIANCE_EVALUATE_SCAN)
def evaluate_scan(self: PlatformTask, scan_id: str, run_id: str | None = None) -> None:
    """Evaluate ``scan_id``; ``run_id`` is the run an API request created, else one is recorded here."""
    if run_id is not None:
        # The run is completed by ``_store``, in the transaction that stores its results.
        with self.job(EvaluationRun, run_id, finish=False) as job:
            if job is not None:
                _run(job, run_id, scan_id)
        return
    try:
        started = _start_automatic_run(scan_id)
    except TRANSIENT_ERRORS as exc:
        raise self.retry_later(exc) from exc
    if started is not None:
        run_id, organization_id = started
        with self.started_job(EvaluationRun, run_id, organization_id, finish=False) as job:
            _run(job, run_id, scan_id)
