"""``/alerts``: what the alert rules raised, and moving an alert along (open → acknowledged → resolved)."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from common.models.alerts import ALERT_STATUSES, Alert
from common.models.base import isoformat, utcnow
from common.scanner.model import SEVERITIES
from web.core.access import access, context, scoped_get_or_404
from web.core.audit_recorder import audit
from web.core.database import db
from web.core.filtering import apply_filters, equal_columns
from web.core.openapi import PageSchema, ResourceSchema
from web.core.pagination import page_args_with, paginate

blp = Blueprint("alerts", __name__, url_prefix="/api/v1/alerts", description="Alerts")

AlertListArgs = page_args_with(
    status=ma.fields.String(validate=ma.validate.OneOf(ALERT_STATUSES)),
    severity=ma.fields.String(validate=ma.validate.OneOf(SEVERITIES)),
    rule_id=ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
    scan_id=ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
)


def alert_json(alert: Alert) -> dict:
    return {
        "id": alert.id,
        "organization_id": alert.organization_id,
        "rule_id": alert.rule_id,
        "scan_id": alert.scan_id,
        "last_scan_id": alert.last_scan_id,
        "target": alert.target,
        "status": alert.status,
        "severity": alert.severity,
        "title": alert.title,
        "details": alert.details,
        "occurrences": alert.occurrences,
        "created_at": isoformat(alert.created_at),
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": isoformat(alert.acknowledged_at),
        "resolved_by": alert.resolved_by,
        "resolved_at": isoformat(alert.resolved_at),
    }


def _locked(alert_id: str) -> Alert:
    alert = scoped_get_or_404(Alert, alert_id, "Alert")
    db().refresh(alert, with_for_update=True)
    return alert


@blp.route("", methods=["GET"])
@blp.alt_response(200, schema=PageSchema, success=True)
@access("viewer")
@blp.arguments(AlertListArgs, location="query")
def list_alerts(args):
    query = select(Alert).where(Alert.organization_id == context().organization_id)
    query = apply_filters(query, Alert, args, equal_columns("status", "severity", "rule_id", "scan_id"))
    return paginate(query.order_by(Alert.created_at.desc()), args["page"], args["per_page"], alert_json)


@blp.route("/<alert_id>", methods=["GET"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@access("viewer")
def get_alert(alert_id):
    return alert_json(scoped_get_or_404(Alert, alert_id, "Alert"))


@blp.route("/<alert_id>/acknowledge", methods=["POST"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@blp.alt_response(409, response="CONFLICT")
@access("analyst")
def acknowledge_alert(alert_id):
    alert = _locked(alert_id)
    if alert.status != "open":
        abort(409, message=f"Only an open alert can be acknowledged; this one is {alert.status}.")
    alert.status = "acknowledged"
    alert.acknowledged_by = context().user_id
    alert.acknowledged_at = utcnow()
    db().commit()
    audit("alert.acknowledge", "alert", alert.id)
    return alert_json(alert)


@blp.route("/<alert_id>/resolve", methods=["POST"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@blp.alt_response(409, response="CONFLICT")
@access("analyst")
def resolve_alert(alert_id):
    alert = _locked(alert_id)
    if alert.status == "resolved":
        abort(409, message="The alert is already resolved.")
    alert.status = "resolved"
    alert.resolved_by = context().user_id
    alert.resolved_at = utcnow()
    alert.open_key = None  # the next match of this rule and target opens a new alert
    db().commit()
    audit("alert.resolve", "alert", alert.id)
    return alert_json(alert)
