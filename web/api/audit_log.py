"""``/audit-log``: the organization's trail, for admins."""

from __future__ import annotations

import logging
from datetime import timedelta

import marshmallow as ma
from flask import url_for
from flask_smorest import Blueprint, abort
from sqlalchemy import or_, select

from common.models import AuditLog
from common.models.base import isoformat, utcnow
from common.models.maintenance import AUDIT_CLEANUP_JOB, MaintenanceJob
from common.tasks import AUDIT_CLEANUP
from web.core.access import access, context, scoped_get_or_404
from web.core.audit_recorder import audit
from web.core.database import db
from web.core.enqueueing import enqueue_or_leave_queued
from web.core.filtering import apply_filters, at_least, at_most, equal_columns, equals, starts_with
from web.core.openapi import REQUIRED_LOCATION, PageSchema, QueuedSchema, ResourceSchema
from web.core.pagination import page_args_with, paginate

log = logging.getLogger(__name__)

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit-log", description="Audit log")

AuditListArgs = page_args_with(
    action=ma.fields.String(validate=ma.validate.Length(max=100)),
    actor=ma.fields.String(validate=ma.validate.Length(max=36)),
    target_type=ma.fields.String(validate=ma.validate.Length(max=50)),
    target_id=ma.fields.String(validate=ma.validate.Length(max=200)),
    since=ma.fields.AwareDateTime(),
    until=ma.fields.AwareDateTime(),
)

AUDIT_FILTERS = {
    "action": starts_with(),
    "actor": equals("actor_user_id"),
    **equal_columns("target_type", "target_id"),
    "since": at_least("created_at"),
    "until": at_most("created_at"),
}


# The account's sign-ins, recorded in its personal workspace (``web.api.auth``): not the workspace's events.
ACCOUNT_ACTIONS = ("auth.login", "auth.register")


class CleanupArgs(ma.Schema):
    older_than_days = ma.fields.Integer(
        validate=ma.validate.Range(min=1, max=3650),
        metadata={"description": "Keep more than the organization's audit retention; never less."},
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
@blp.alt_response(200, schema=PageSchema, success=True)
@access("admin")
@blp.arguments(AuditListArgs, location="query")
def list_entries(args):
    """In a personal workspace, the sign-ins it records are its owner's to see: an admin the owner invited
    read where and on what device the owner signed in, to work in any organization."""
    ctx = context()
    query = select(AuditLog).where(AuditLog.organization_id == ctx.organization_id)
    if ctx.organization.personal:
        query = query.where(
            or_(AuditLog.action.not_in(ACCOUNT_ACTIONS), AuditLog.actor_user_id == ctx.user_id)
        )
    query = apply_filters(query, AuditLog, args, AUDIT_FILTERS)
    return paginate(query.order_by(AuditLog.created_at.desc()), args["page"], args["per_page"], audit_json)


def cleanup_job_json(job: MaintenanceJob) -> dict:
    return {
        "id": job.id,
        "organization_id": job.organization_id,
        "status": job.status,
        "older_than_days": job.params["older_than_days"],
        "cutoff": job.params["cutoff"],
        "deleted": (job.result or {}).get("deleted"),
        "error": job.error,
        "created_by": job.created_by,
        "created_at": isoformat(job.created_at),
        "started_at": isoformat(job.started_at),
        "finished_at": isoformat(job.finished_at),
    }


@blp.route("/cleanup", methods=["DELETE"])
@blp.alt_response(202, schema=QueuedSchema, success=True, headers=REQUIRED_LOCATION)
@access("admin")
@blp.arguments(CleanupArgs, location="query")
def cleanup(args):
    """Queue deletion of the entries older than the retention (the organization's, or a longer override).

    An override may only keep more: an admin cannot erase entries younger than the organization's retention,
    so a compromised or departing admin cannot wipe the record of what they just did.
    """
    ctx = context()
    retention = ctx.organization.audit_retention_days
    days = args.get("older_than_days") or retention
    if days < retention:
        problem = f"Must be at least the organization's audit retention ({retention} days)."
        abort(422, message=problem, errors={"older_than_days": [problem]})
    cutoff = isoformat(utcnow() - timedelta(days=days))
    job = MaintenanceJob(
        organization_id=ctx.organization_id,
        created_by=ctx.user_id,
        kind=AUDIT_CLEANUP_JOB,
        params={"older_than_days": days, "cutoff": cutoff},
    )
    db().add(job)
    db().commit()
    audit("audit_log.cleanup", "maintenance_job", job.id, older_than_days=days)
    enqueue_or_leave_queued(job, AUDIT_CLEANUP, job.id, what="audit cleanup")
    return cleanup_job_json(job), 202, {"Location": url_for("audit.get_cleanup_job", job_id=job.id)}


@blp.route("/cleanup/<job_id>", methods=["GET"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@access("admin")
def get_cleanup_job(job_id):
    job = scoped_get_or_404(MaintenanceJob, job_id, "Cleanup job")
    if job.kind != AUDIT_CLEANUP_JOB:
        abort(404, message="Cleanup job not found.")
    return cleanup_job_json(job)
