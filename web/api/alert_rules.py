"""``/alert-rules``: which scan outcomes raise an alert, and which webhooks hear about it."""

from __future__ import annotations

import marshmallow as ma
from flask import url_for
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from common import alerting
from common.models.alerts import ALERT_TRIGGERS, AlertRule, mapped_model
from common.models.base import isoformat
from common.models.webhooks import Webhook
from common.rule_quota import parts_problem
from web.core.access import access, context, scoped_get_or_404
from web.core.audit_recorder import audit
from web.core.database import db
from web.core.filtering import apply_filters, equals, is_
from web.core.openapi import REQUIRED_LOCATION, PageSchema, ResourceSchema
from web.core.pagination import page_args_with, paginate
from web.core.visible_text import visible_text

blp = Blueprint("alert_rules", __name__, url_prefix="/api/v1/alert-rules", description="Alert rules")

MAX_CHANNELS = 20
# Ids are looked up in the database: text PostgreSQL cannot store (a NUL byte) must be a 422, not a 500.
WEBHOOK_ID = ma.validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$", error="Not a webhook id.")


class AlertRuleUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=[ma.validate.Length(min=1, max=200), visible_text])
    enabled = ma.fields.Boolean()
    trigger = ma.fields.String(validate=ma.validate.OneOf(ALERT_TRIGGERS))
    params = ma.fields.Dict(keys=ma.fields.String())
    webhook_ids = ma.fields.List(
        ma.fields.String(validate=WEBHOOK_ID),
        validate=ma.validate.Length(max=MAX_CHANNELS),
    )


class AlertRuleCreateSchema(AlertRuleUpdateSchema):
    name = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=200), visible_text])
    enabled = ma.fields.Boolean(load_default=True)
    trigger = ma.fields.String(required=True, validate=ma.validate.OneOf(ALERT_TRIGGERS))
    params = ma.fields.Dict(keys=ma.fields.String(), load_default=dict)
    webhook_ids = ma.fields.List(
        ma.fields.String(validate=WEBHOOK_ID),
        load_default=list,
        validate=ma.validate.Length(max=MAX_CHANNELS),
    )


RuleListArgs = page_args_with(
    trigger=ma.fields.String(validate=ma.validate.OneOf(ALERT_TRIGGERS)),
    enabled=ma.fields.Boolean(),
)


def rule_json(rule: AlertRule) -> dict:
    return {
        "id": rule.id,
        "organization_id": rule.organization_id,
        "name": rule.name,
        "enabled": rule.enabled,
        "trigger": rule.trigger,
        "params": rule.params,
        "webhook_ids": rule.webhook_ids,
        "created_by": rule.created_by,
        "created_at": isoformat(rule.created_at),
        "updated_at": isoformat(rule.updated_at),
    }


def _reference_errors(organization_id: str, params: dict, webhook_ids: list[str]) -> dict[str, list[str]]:
    """Channels must be webhooks of this organization; a named policy must be one of its policies."""
    errors: dict[str, list[str]] = {}
    wanted = set(webhook_ids)
    known = set(
        db().scalars(
            select(Webhook.id).where(Webhook.organization_id == organization_id, Webhook.id.in_(wanted))
        )
    )
    if unknown := sorted(wanted - known):
        errors["webhook_ids"] = [f"Unknown webhook: {webhook_id}." for webhook_id in unknown]
    policy_model = mapped_model("Policy")
    policy_id = params.get("policy_id")
    if policy_model is not None and isinstance(policy_id, str):
        policy = db().get(policy_model, policy_id)
        if policy is None or policy.organization_id != organization_id:
            errors["params.policy_id"] = ["Unknown policy."]
    return errors


def _validated(
    organization_id: str, trigger: str, params: dict, webhook_ids: list[str], replacing: str | None
) -> None:
    errors = alerting.validate_params(trigger, params)
    if "params.policy_id" not in errors:  # an id that is not one is never looked up
        errors.update(_reference_errors(organization_id, params, webhook_ids))
    if errors:
        abort(422, message="The alert rule is invalid.", errors=errors)
    if problem := parts_problem(db(), organization_id, "alert rules", params, replacing):
        db().rollback()
        abort(409, message=problem)


@blp.route("", methods=["POST"])
@blp.alt_response(201, schema=ResourceSchema, success=True, headers=REQUIRED_LOCATION)
@blp.alt_response(409, response="CONFLICT")
@access("admin")
@blp.arguments(AlertRuleCreateSchema)
def create_rule(body):
    ctx = context()
    webhook_ids = list(dict.fromkeys(body["webhook_ids"]))
    _validated(ctx.organization_id, body["trigger"], body["params"], webhook_ids, None)
    rule = AlertRule(
        organization_id=ctx.organization_id,
        created_by=ctx.user_id,
        name=body["name"],
        enabled=body["enabled"],
        trigger=body["trigger"],
        params=body["params"],
        webhook_ids=webhook_ids,
    )
    db().add(rule)
    db().commit()
    audit("alert_rule.create", "alert_rule", rule.id, trigger=rule.trigger)
    return rule_json(rule), 201, {"Location": url_for("alert_rules.get_rule", rule_id=rule.id)}


@blp.route("", methods=["GET"])
@blp.alt_response(200, schema=PageSchema, success=True)
@access("viewer")
@blp.arguments(RuleListArgs, location="query")
def list_rules(args):
    query = select(AlertRule).where(AlertRule.organization_id == context().organization_id)
    query = apply_filters(query, AlertRule, args, {"trigger": equals(), "enabled": is_()})
    return paginate(query.order_by(AlertRule.created_at.desc()), args["page"], args["per_page"], rule_json)


@blp.route("/<rule_id>", methods=["GET"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@access("viewer")
def get_rule(rule_id):
    return rule_json(scoped_get_or_404(AlertRule, rule_id, "Alert rule"))


@blp.route("/<rule_id>", methods=["PUT"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@blp.alt_response(409, response="CONFLICT")
@access("admin")
@blp.arguments(AlertRuleUpdateSchema)
def update_rule(body, rule_id):
    rule = scoped_get_or_404(AlertRule, rule_id, "Alert rule")
    trigger = body.get("trigger", rule.trigger)
    params = body.get("params", rule.params if trigger == rule.trigger else {})
    webhook_ids = list(dict.fromkeys(body.get("webhook_ids", rule.webhook_ids)))
    _validated(rule.organization_id, trigger, params, webhook_ids, rule.id)
    rule.trigger, rule.params, rule.webhook_ids = trigger, params, webhook_ids
    for field in ("name", "enabled"):
        if field in body:
            setattr(rule, field, body[field])
    db().commit()
    audit("alert_rule.update", "alert_rule", rule.id, fields=sorted(body))
    return rule_json(rule)


@blp.route("/<rule_id>", methods=["DELETE"])
@blp.alt_response(204, description="No Content", success=True)
@access("admin")
def delete_rule(rule_id):
    rule = scoped_get_or_404(AlertRule, rule_id, "Alert rule")
    db().delete(rule)
    db().commit()
    audit("alert_rule.delete", "alert_rule", rule_id)
    return "", 204
