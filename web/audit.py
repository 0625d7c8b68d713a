"""``/audit-log``: the organization's trail, for admins."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from sqlalchemy import select

from common.models import AuditLog
from common.models.base import isoformat
from web.access import access, context
from web.pagination import page_args_with, paginate

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit-log", description="Audit log")

AuditListArgs = page_args_with(
    action=ma.fields.String(validate=ma.validate.Length(max=100)),
    actor=ma.fields.String(validate=ma.validate.Length(max=36)),
    target_type=ma.fields.String(validate=ma.validate.Length(max=50)),
    target_id=ma.fields.String(validate=ma.validate.Length(max=200)),
    since=ma.fields.AwareDateTime(),
    until=ma.fields.AwareDateTime(),
)


def audit_json(entry: AuditLog) -> dict:
    return {
        "id": entry.id,
        "organization_id": entry.organization_id,
        "actor_user_id": entry.actor_user_id,
        "actor_api_key_id": entry.actor_api_key_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "status_code": entry.status_code,
        "ip": entry.ip,
        "user_agent": entry.user_agent,
        "details": entry.details,
        "created_at": isoformat(entry.created_at),
    }


@blp.route("", methods=["GET"])
@access("admin")
@blp.arguments(AuditListArgs, location="query")
def list_entries(args):
    query = select(AuditLog).where(AuditLog.organization_id == context().organization_id)
    if "action" in args:
        query = query.where(AuditLog.action.startswith(args["action"]))
    if "actor" in args:
        query = query.where(AuditLog.actor_user_id == args["actor"])
    for field in ("target_type", "target_id"):
        if field in args:
            query = query.where(getattr(AuditLog, field) == args[field])
    if "since" in args:
        query = query.where(AuditLog.created_at >= args["since"])
    if "until" in args:
        query = query.where(AuditLog.created_at <= args["until"])
    return paginate(query.order_by(AuditLog.created_at.desc()), args["page"], args["per_page"], audit_json)
