"""A scan's compliance: framework and custom-rule results, policy evaluations and violations,
and re-evaluation on the ``compliance`` queue.

Results are stored by the ``compliance`` worker. A framework switched off after the scan was
evaluated disappears from the answer at once; one switched on is listed in ``not_evaluated``
until the scan is evaluated again. A scan with no results yet (still running, failed, or completed
but not evaluated) answers 409 naming its status, so a client never mistakes it for the 404 of an
unknown scan.
"""

from __future__ import annotations

import marshmallow as ma
from flask import url_for
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from common import scan_bom
from common.compliance import load_frameworks
from common.config import get_settings
from common.jobs import JobStatus
from common.models import Scan
from common.models.base import isoformat
from common.models.compliance import (
    POLICY_ACTIONS,
    ComplianceResult,
    EvaluationRun,
    PolicyEvaluation,
    inactive_framework_ids,
)
from common.scanner.model import SEVERITIES
from common.tasks import COMPLIANCE_EVALUATE_SCAN
from web.api.compliance import evaluation_run_json, paginate_list
from web.api.policies import policy_evaluation_json
from web.core.access import access, context, scoped_get_or_404
from web.core.audit_recorder import audit
from web.core.database import db
from web.core.enqueueing import enqueue_or_leave_queued
from web.core.filtering import apply_filters, equal_columns, equals, is_, matching
from web.core.job_quota import admit_job
from web.core.openapi import REQUIRED_LOCATION, ObjectSchema, PageSchema, QueuedSchema
from web.core.pagination import page_args_with, paginate

blp = Blueprint(
    "scan_compliance",
    __name__,
    url_prefix="/api/v1/scans",
    description="Compliance results, policy evaluations and violations of a scan",
)

ComplianceArgs = ma.Schema.from_dict(
    {"framework": ma.fields.String(validate=ma.validate.Length(max=100))}, name="ComplianceArgs"
)

ViolationListArgs = page_args_with(
    severity=ma.fields.String(validate=ma.validate.OneOf(SEVERITIES)),
    action=ma.fields.String(validate=ma.validate.OneOf(POLICY_ACTIONS)),
    policy_id=ma.fields.String(validate=ma.validate.Length(max=64)),
)

EvaluationListArgs = page_args_with(
    passed=ma.fields.Boolean(),
    action=ma.fields.String(validate=ma.validate.OneOf(POLICY_ACTIONS)),
)


@blp.route("/<scan_id>/compliance", methods=["GET"])
@blp.alt_response(200, schema=ObjectSchema, success=True)
@blp.alt_response(409, response="CONFLICT")
@access("viewer")
@blp.arguments(ComplianceArgs, location="query")
def get_compliance(args, scan_id):
    scan = scoped_get_or_404(Scan, scan_id, "Scan")
    stored = db().get(ComplianceResult, scan.id)
    if stored is None:
        abort(
            409,
            message=f"This scan is {scan.status} and not evaluated yet: its compliance results appear once "
            "it has completed and the compliance worker has evaluated it.",
        )
    inactive = inactive_framework_ids(db(), scan.organization_id)
    active = scan_bom.current_results(db(), scan.organization_id, stored.result)
    frameworks, custom_rules = active["frameworks"], active["custom_rules"]
    evaluated = {f["id"] for f in stored.result.get("frameworks", [])}
    not_evaluated = [f.id for f in load_frameworks() if f.id not in inactive and f.id not in evaluated]
    if "framework" in args:
        frameworks = [f for f in frameworks if f["id"] == args["framework"]]
        custom_rules = [r for r in custom_rules if r.get("framework") == args["framework"]]
    return {
        "scan_id": scan.id,
        "evaluated_at": isoformat(stored.evaluated_at),
        "frameworks": frameworks,
        "custom_rules": custom_rules,
        "not_evaluated": not_evaluated,
        "profile": active["profile"],
    }


@blp.route("/<scan_id>/evaluate", methods=["POST"])
@blp.alt_response(202, schema=QueuedSchema, success=True, headers=REQUIRED_LOCATION)
@blp.alt_response(409, response="CONFLICT")
@access("analyst")
def evaluate_scan(scan_id):
    """Queue an evaluation; 429 while the organization has ``EVALUATIONS_IN_FLIGHT_PER_ORG`` of them
    queued or running (those it asked for: the one after each scan is bounded by the scans), or the caller
    has across their organizations."""
    ctx = context()
    scan = scoped_get_or_404(Scan, scan_id, "Scan")
    if scan.status != JobStatus.COMPLETED:
        abort(409, message=f"Only a completed scan can be evaluated; this one is {scan.status}.")
    admit_job(
        EvaluationRun,
        ctx.organization_id,
        get_settings().evaluations_in_flight_per_org,
        "EVALUATIONS_IN_FLIGHT_PER_ORG",
        "evaluations",
        EvaluationRun.trigger == "manual",
        requester=(EvaluationRun.requested_by, ctx.user_id),
    )
    run = EvaluationRun(
        organization_id=ctx.organization_id,
        scan_id=scan.id,
        trigger="manual",
        requested_by=ctx.user_id,
    )
    db().add(run)
    db().commit()
    audit("scan.evaluate", "scan", scan.id, evaluation_id=run.id)
    enqueue_or_leave_queued(run, COMPLIANCE_EVALUATE_SCAN, scan.id, run.id, what="evaluation")
    return (
        evaluation_run_json(run),
        202,
        {"Location": url_for("compliance.get_evaluation", evaluation_id=run.id)},
    )


@blp.route("/<scan_id>/violations", methods=["GET"])
@blp.alt_response(200, schema=PageSchema, success=True)
@access("viewer")
@blp.arguments(ViolationListArgs, location="query")
def list_violations(args, scan_id):
    """Every violation of the scan's failed policies, blocking policies first."""
    scan = scoped_get_or_404(Scan, scan_id, "Scan")
    query = select(PolicyEvaluation).where(
        PolicyEvaluation.scan_id == scan.id, PolicyEvaluation.passed.is_(False)
    )
    query = apply_filters(query, PolicyEvaluation, args, equal_columns("action", "policy_id"))
    evaluations = db().scalars(query).all()
    evaluations = sorted(
        evaluations, key=lambda e: (e.action != "block", e.name.casefold(), e.policy_id or "")
    )
    items = [
        {
            "policy_id": evaluation.policy_id,
            "policy_name": evaluation.name,
            "action": evaluation.action,
            **violation,
            "evaluated_at": isoformat(evaluation.evaluated_at),
        }
        for evaluation in evaluations
        for violation in evaluation.violations
    ]
    return paginate_list(matching(items, args, ["severity"]), args["page"], args["per_page"])


@blp.route("/<scan_id>/evaluations", methods=["GET"])
@blp.alt_response(200, schema=PageSchema, success=True)
@access("viewer")
@blp.arguments(EvaluationListArgs, location="query")
def list_evaluations(args, scan_id):
    scan = scoped_get_or_404(Scan, scan_id, "Scan")
    query = select(PolicyEvaluation).where(PolicyEvaluation.scan_id == scan.id)
    query = apply_filters(query, PolicyEvaluation, args, {"passed": is_(), "action": equals()})
    query = query.order_by(PolicyEvaluation.name, PolicyEvaluation.policy_id)
    return paginate(query, args["page"], args["per_page"], policy_evaluation_json)
