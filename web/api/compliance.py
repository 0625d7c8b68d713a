"""``/compliance``: the built-in frameworks and which are active, custom rules, and evaluation runs.

Conditions are validated by the compliance library when saved, so a bad part is a 422 whose
``errors`` key is its path (``condition.all.1.operator``), whatever the body holds.
"""

from __future__ import annotations

import marshmallow as ma
from flask import url_for
from flask_smorest import Blueprint, abort
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from common.compliance import Framework, load_frameworks, validate_condition
from common.compliance.conditions import MAX_DEPTH
from common.jobs import JOB_STATUSES
from common.models.base import isoformat
from common.models.compliance import (
    CUSTOM_FRAMEWORK,
    CustomRule,
    EvaluationRun,
    FrameworkSetting,
    inactive_framework_ids,
)
from common.rule_quota import parts_problem
from common.scanner.model import SEVERITIES
from web.core.access import access, context, scoped_get_or_404
from web.core.audit_recorder import audit
from web.core.database import db
from web.core.filtering import apply_filters, equal_columns, is_, matching
from web.core.openapi import REQUIRED_LOCATION, PageSchema, ResourceSchema
from web.core.pagination import page_args_with, paginate
from web.core.visible_text import visible_text

blp = Blueprint(
    "compliance",
    __name__,
    url_prefix="/api/v1/compliance",
    description="Compliance frameworks, custom rules and evaluation runs",
)


def refuse_deep_nesting(_exc: RecursionError):
    """The JSON parser gives up on bodies nested thousands of levels deep: invalid input, not a fault."""
    message = f"The JSON body is nested too deeply; a condition may nest at most {MAX_DEPTH} levels."
    errors = {"_body": [message]}
    return {"code": 422, "status": "Unprocessable Entity", "message": message, "errors": errors}, 422


blp.register_error_handler(RecursionError, refuse_deep_nesting)


def paginate_list(items: list, page: int, per_page: int) -> dict:
    """The list shape for collections computed in memory."""
    start = (page - 1) * per_page
    return {"items": items[start : start + per_page], "page": page, "per_page": per_page, "total": len(items)}


# ---------------------------------------------------------------- frameworks


class FrameworkUpdateSchema(ma.Schema):
    active = ma.fields.Boolean(required=True)


FrameworkListArgs = page_args_with(active=ma.fields.Boolean())


def framework_json(framework: Framework, inactive: set[str]) -> dict:
    return {**framework.to_catalog(), "active": framework.id not in inactive}


def framework_or_404(framework_id: str) -> Framework:
    for framework in load_frameworks():
        if framework.id == framework_id:
            return framework
    abort(404, message="Framework not found.")


@blp.route("/frameworks", methods=["GET"])
@blp.alt_response(200, schema=PageSchema, success=True)
@access("viewer")
@blp.arguments(FrameworkListArgs, location="query")
def list_frameworks(args):
    inactive = inactive_framework_ids(db(), context().organization_id)
    items = [framework_json(framework, inactive) for framework in load_frameworks()]
    return paginate_list(matching(items, args, ["active"]), args["page"], args["per_page"])


@blp.route("/frameworks/<framework_id>", methods=["GET"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@access("viewer")
def get_framework(framework_id):
    framework = framework_or_404(framework_id)
    return framework_json(framework, inactive_framework_ids(db(), context().organization_id))


@blp.route("/frameworks/<framework_id>", methods=["PUT"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@access("editor")
@blp.arguments(FrameworkUpdateSchema)
def update_framework(body, framework_id):
    ctx = context()
    framework = framework_or_404(framework_id)
    setting = FrameworkSetting(
        organization_id=ctx.organization_id,
        framework_id=framework.id,
        active=body["active"],
        updated_by=ctx.user_id,
    )
    try:
        db().merge(setting)
        db().commit()
    except IntegrityError:  # a concurrent first toggle inserted the row: update it instead
        db().rollback()
        db().merge(setting)
        db().commit()
    audit("compliance.framework.update", "framework", framework.id, active=body["active"])
    return framework_json(framework, inactive_framework_ids(db(), ctx.organization_id))


# ---------------------------------------------------------------- custom rules


class RuleUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=[ma.validate.Length(min=1, max=200), visible_text])
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=5000))
    framework = ma.fields.String(validate=ma.validate.Length(min=1, max=100))
    condition = ma.fields.Raw()
    severity = ma.fields.String(validate=ma.validate.OneOf(SEVERITIES))
    enabled = ma.fields.Boolean()


class RuleCreateSchema(RuleUpdateSchema):
    name = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=200), visible_text])
    description = ma.fields.String(load_default="", allow_none=True, validate=ma.validate.Length(max=5000))
    framework = ma.fields.String(load_default=CUSTOM_FRAMEWORK, validate=ma.validate.Length(min=1, max=100))
    condition = ma.fields.Raw(required=True)
    severity = ma.fields.String(load_default="medium", validate=ma.validate.OneOf(SEVERITIES))
    enabled = ma.fields.Boolean(load_default=True)


RuleListArgs = page_args_with(
    framework=ma.fields.String(validate=ma.validate.Length(max=100)),
    severity=ma.fields.String(validate=ma.validate.OneOf(SEVERITIES)),
    enabled=ma.fields.Boolean(),
)


def rule_json(rule: CustomRule) -> dict:
    return {
        "id": rule.id,
        "organization_id": rule.organization_id,
        "name": rule.name,
        "description": rule.description,
        "framework": rule.framework,
        "condition": rule.condition,
        "severity": rule.severity,
        "enabled": rule.enabled,
        "created_by": rule.created_by,
        "created_at": isoformat(rule.created_at),
        "updated_at": isoformat(rule.updated_at),
    }


def _within_parts(organization_id: str, body: dict, replacing: str | None) -> None:
    if "condition" in body and (
        problem := parts_problem(db(), organization_id, "custom rules", body["condition"], replacing)
    ):
        db().rollback()
        abort(409, message=problem)


def _validated_rule(body: dict) -> None:
    errors: dict[str, list[str]] = {}
    if "condition" in body:
        errors.update(validate_condition(body["condition"]))
    known = [CUSTOM_FRAMEWORK, *(framework.id for framework in load_frameworks())]
    if "framework" in body and body["framework"] not in known:
        errors["framework"] = [f"must be one of: {', '.join(known)}"]
    if errors:
        abort(422, message="The custom rule is invalid.", errors=errors)


@blp.route("/rules", methods=["POST"])
@blp.alt_response(201, schema=ResourceSchema, success=True, headers=REQUIRED_LOCATION)
@blp.alt_response(409, response="CONFLICT")
@access("editor")
@blp.arguments(RuleCreateSchema)
def create_rule(body):
    ctx = context()
    _validated_rule(body)
    _within_parts(ctx.organization_id, body, None)
    rule = CustomRule(
        organization_id=ctx.organization_id,
        created_by=ctx.user_id,
        name=body["name"],
        description=body["description"] or "",
        framework=body["framework"],
        condition=body["condition"],
        severity=body["severity"],
        enabled=body["enabled"],
    )
    db().add(rule)
    db().commit()
    audit("compliance.rule.create", "custom_rule", rule.id, name=rule.name)
    return rule_json(rule), 201, {"Location": url_for("compliance.get_rule", rule_id=rule.id)}


@blp.route("/rules", methods=["GET"])
@blp.alt_response(200, schema=PageSchema, success=True)
@access("viewer")
@blp.arguments(RuleListArgs, location="query")
def list_rules(args):
    query = select(CustomRule).where(CustomRule.organization_id == context().organization_id)
    query = apply_filters(
        query, CustomRule, args, {**equal_columns("framework", "severity"), "enabled": is_()}
    )
    query = query.order_by(CustomRule.created_at.desc(), CustomRule.id)
    return paginate(query, args["page"], args["per_page"], rule_json)


@blp.route("/rules/<rule_id>", methods=["GET"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@access("viewer")
def get_rule(rule_id):
    return rule_json(scoped_get_or_404(CustomRule, rule_id, "Custom rule"))


@blp.route("/rules/<rule_id>", methods=["PUT"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@blp.alt_response(409, response="CONFLICT")
@access("editor")
@blp.arguments(RuleUpdateSchema)
def update_rule(body, rule_id):
    rule = scoped_get_or_404(CustomRule, rule_id, "Custom rule")
    _validated_rule(body)
    _within_parts(rule.organization_id, body, rule.id)
    for field, value in body.items():
        setattr(rule, field, "" if field == "description" and value is None else value)
    db().commit()
    audit("compliance.rule.update", "custom_rule", rule.id, fields=sorted(body))
    return rule_json(rule)


@blp.route("/rules/<rule_id>", methods=["DELETE"])
@blp.alt_response(204, description="No Content", success=True)
@access("editor")
def delete_rule(rule_id):
    rule = scoped_get_or_404(CustomRule, rule_id, "Custom rule")
    db().delete(rule)
    db().commit()
    audit("compliance.rule.delete", "custom_rule", rule_id)
    return "", 204


# ---------------------------------------------------------------- evaluation runs


EvaluationListArgs = page_args_with(
    scan_id=ma.fields.String(validate=ma.validate.Length(max=64)),
    status=ma.fields.String(validate=ma.validate.OneOf(JOB_STATUSES)),
)


def evaluation_run_json(run: EvaluationRun) -> dict:
    return {
        "id": run.id,
        "organization_id": run.organization_id,
        "scan_id": run.scan_id,
        "trigger": run.trigger,
        "status": run.status,
        "progress": run.progress,
        "stage": run.stage,
        "error": run.error,
        "outcome": run.outcome,
        "requested_by": run.requested_by,
        "created_at": isoformat(run.created_at),
        "started_at": isoformat(run.started_at),
        "finished_at": isoformat(run.finished_at),
    }


@blp.route("/evaluations", methods=["GET"])
@blp.alt_response(200, schema=PageSchema, success=True)
@access("viewer")
@blp.arguments(EvaluationListArgs, location="query")
def list_evaluations(args):
    query = select(EvaluationRun).where(EvaluationRun.organization_id == context().organization_id)
    query = apply_filters(query, EvaluationRun, args, equal_columns("scan_id", "status"))
    query = query.order_by(EvaluationRun.created_at.desc(), EvaluationRun.id)
    return paginate(query, args["page"], args["per_page"], evaluation_run_json)


@blp.route("/evaluations/<evaluation_id>", methods=["GET"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@access("viewer")
def get_evaluation(evaluation_id):
    return evaluation_run_json(scoped_get_or_404(EvaluationRun, evaluation_id, "Evaluation"))
