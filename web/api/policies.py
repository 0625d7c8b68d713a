"""``/policies``: named gates over a scan, their dry run, and their evaluation history.

Rules are validated by the compliance library (the same one the CLI gate uses), so a bad
part is a 422 keyed by its path (``rules.0.condition.all.1.operator``, ``rules.2.metric``).
"""

from __future__ import annotations

import marshmallow as ma
from flask import url_for
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from common.baseline import mark_against_previous_scan, references_baseline
from common.compliance import evaluate_policy, validate_policy_rules
from common.jobs import JobStatus
from common.models import Component, Scan
from common.models.base import isoformat
from common.models.compliance import POLICY_ACTIONS, Policy, PolicyEvaluation
from common.rule_quota import parts_problem
from web.api.compliance import refuse_deep_nesting
from web.core.access import access, context, scoped_get_or_404
from web.core.audit_recorder import audit
from web.core.database import db
from web.core.filtering import apply_filters, equals, is_
from web.core.openapi import REQUIRED_LOCATION, ObjectSchema, PageSchema, ResourceSchema
from web.core.pagination import page_args_with, paginate
from web.core.visible_text import visible_text

blp = Blueprint("policies", __name__, url_prefix="/api/v1/policies", description="Policies")
blp.register_error_handler(RecursionError, refuse_deep_nesting)


class PolicyUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=[ma.validate.Length(min=1, max=200), visible_text])
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=5000))
    enabled = ma.fields.Boolean()
    action = ma.fields.String(validate=ma.validate.OneOf(POLICY_ACTIONS))
    rules = ma.fields.Raw()


class PolicyCreateSchema(PolicyUpdateSchema):
    name = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=200), visible_text])
    description = ma.fields.String(load_default="", allow_none=True, validate=ma.validate.Length(max=5000))
    enabled = ma.fields.Boolean(load_default=True)
    action = ma.fields.String(required=True, validate=ma.validate.OneOf(POLICY_ACTIONS))
    rules = ma.fields.Raw(required=True)


class PolicyPreviewSchema(PolicyCreateSchema):
    """The body of a policy about to be saved; a name is optional for a dry run."""

    name = ma.fields.String(
        load_default="Preview", validate=[ma.validate.Length(min=1, max=200), visible_text]
    )


PolicyListArgs = page_args_with(
    enabled=ma.fields.Boolean(),
    action=ma.fields.String(validate=ma.validate.OneOf(POLICY_ACTIONS)),
)

EvaluationListArgs = page_args_with(passed=ma.fields.Boolean())


def policy_json(policy: Policy) -> dict:
    return {
        "id": policy.id,
        "organization_id": policy.organization_id,
        "name": policy.name,
        "description": policy.description,
        "enabled": policy.enabled,
        "action": policy.action,
        "rules": policy.rules,
        "created_by": policy.created_by,
        "created_at": isoformat(policy.created_at),
        "updated_at": isoformat(policy.updated_at),
    }


def policy_evaluation_json(evaluation: PolicyEvaluation) -> dict:
    return {
        "id": evaluation.id,
        "scan_id": evaluation.scan_id,
        "policy_id": evaluation.policy_id,
        "name": evaluation.name,
        "action": evaluation.action,
        "passed": evaluation.passed,
        "violation_count": evaluation.violation_count,
        "violations": evaluation.violations,
        "evaluated_at": isoformat(evaluation.evaluated_at),
    }


def _validated_rules(body: dict) -> None:
    if "rules" in body and (errors := validate_policy_rules(body["rules"])):
        abort(422, message="The policy rules are invalid.", errors=errors)


def _within_parts(organization_id: str, body: dict, replacing: str | None) -> None:
    if "rules" in body and (
        problem := parts_problem(db(), organization_id, "policies", body["rules"], replacing)
    ):
        db().rollback()
        abort(409, message=problem)


@blp.route("", methods=["POST"])
@blp.alt_response(201, schema=ResourceSchema, success=True, headers=REQUIRED_LOCATION)
@blp.alt_response(409, response="CONFLICT")
@access("editor")
@blp.arguments(PolicyCreateSchema)
def create_policy(body):
    ctx = context()
    _validated_rules(body)
    _within_parts(ctx.organization_id, body, None)
    policy = Policy(
        organization_id=ctx.organization_id,
        created_by=ctx.user_id,
        name=body["name"],
        description=body["description"] or "",
        enabled=body["enabled"],
        action=body["action"],
        rules=body["rules"],
    )
    db().add(policy)
    db().commit()
    audit("policy.create", "policy", policy.id, name=policy.name, policy_action=policy.action)
    return policy_json(policy), 201, {"Location": url_for("policies.get_policy", policy_id=policy.id)}


@blp.route("", methods=["GET"])
@blp.alt_response(200, schema=PageSchema, success=True)
@access("viewer")
@blp.arguments(PolicyListArgs, location="query")
def list_policies(args):
    query = select(Policy).where(Policy.organization_id == context().organization_id)
    query = apply_filters(query, Policy, args, {"enabled": is_(), "action": equals()})
    query = query.order_by(Policy.created_at.desc(), Policy.id)
    return paginate(query, args["page"], args["per_page"], policy_json)


@blp.route("/preview", methods=["POST"])
@blp.alt_response(200, schema=ObjectSchema, success=True)
@blp.alt_response(409, response="CONFLICT")
@access("viewer")
@blp.arguments(PolicyPreviewSchema)
def preview_policy(body):
    """What the policy would conclude on the latest completed scan; nothing is stored."""
    _validated_rules(body)
    scan = db().scalar(
        select(Scan)
        .where(Scan.organization_id == context().organization_id, Scan.status == JobStatus.COMPLETED)
        .order_by(Scan.finished_at.desc().nulls_last(), Scan.created_at.desc())
        .limit(1)
    )
    if scan is None:
        abort(409, message="The organization has no completed scan to preview the policy on yet.")
    components = [
        component.to_dict()
        for component in db().scalars(
            select(Component)
            .where(Component.scan_id == scan.id)
            .order_by(Component.risk_score.desc(), Component.type, Component.name, Component.fingerprint)
        )
    ]
    if references_baseline(body["rules"]):
        mark_against_previous_scan(db(), scan, components)
    evaluation = evaluate_policy({**body, "id": None}, components, scan.summary or {})
    return {
        "scan": {"id": scan.id, "target": scan.target, "finished_at": isoformat(scan.finished_at)},
        "evaluation": evaluation,
    }


@blp.route("/<policy_id>", methods=["GET"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@access("viewer")
def get_policy(policy_id):
    return policy_json(scoped_get_or_404(Policy, policy_id, "Policy"))


@blp.route("/<policy_id>", methods=["PUT"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@blp.alt_response(409, response="CONFLICT")
@access("editor")
@blp.arguments(PolicyUpdateSchema)
def update_policy(body, policy_id):
    policy = scoped_get_or_404(Policy, policy_id, "Policy")
    _validated_rules(body)
    _within_parts(policy.organization_id, body, policy.id)
    for field, value in body.items():
        setattr(policy, field, "" if field == "description" and value is None else value)
    db().commit()
    audit("policy.update", "policy", policy.id, fields=sorted(body))
    return policy_json(policy)


@blp.route("/<policy_id>", methods=["DELETE"])
@blp.alt_response(204, description="No Content", success=True)
@access("admin")
def delete_policy(policy_id):
    policy = scoped_get_or_404(Policy, policy_id, "Policy")
    db().delete(policy)
    db().commit()
    audit("policy.delete", "policy", policy_id, name=policy.name)
    return "", 204


@blp.route("/<policy_id>/evaluations", methods=["GET"])
@blp.alt_response(200, schema=PageSchema, success=True)
@access("viewer")
@blp.arguments(EvaluationListArgs, location="query")
def list_policy_evaluations(args, policy_id):
    policy = scoped_get_or_404(Policy, policy_id, "Policy")
    query = select(PolicyEvaluation).where(PolicyEvaluation.policy_id == policy.id)
    query = apply_filters(query, PolicyEvaluation, args, {"passed": is_()})
    query = query.order_by(PolicyEvaluation.evaluated_at.desc(), PolicyEvaluation.id)
    return paginate(query, args["page"], args["per_page"], policy_evaluation_json)
