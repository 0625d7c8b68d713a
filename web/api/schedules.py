"""``/schedules``: scans that run on a cron expression in an IANA timezone.

The row is the scheduler's state (``next_run_at``); the ``schedules.dispatch_due``
beat task reads it every minute, so a change here takes effect without a restart.
"""

from __future__ import annotations

import marshmallow as ma
from flask import url_for
from flask_smorest import Blueprint, abort
from sqlalchemy import func, select

from common import schedule_owner
from common.config import get_settings
from common.cron import CronError, next_run_after, parse_timezone, validate_cron
from common.models import ROLE_RANK, Organization
from common.models.base import isoformat, utcnow
from common.models.schedules import Schedule
from common.targets import TargetError, organization_roots, resolve_target
from web.api.connectors import credential_or_404
from web.api.repositories import RefField, RepositoryUrlField, credential_for
from web.core.access import access, context, scoped_get_or_404
from web.core.audit_recorder import audit
from web.core.database import db
from web.core.filtering import apply_filters, is_
from web.core.openapi import REQUIRED_LOCATION, PageSchema, ResourceSchema
from web.core.pagination import page_args_with, paginate
from web.core.visible_text import visible_text

blp = Blueprint("schedules", __name__, url_prefix="/api/v1/schedules", description="Scheduled scans")

# Changing any of these re-plans the next run from now; other edits keep a pending run.
PLANNING_FIELDS = {"cron", "timezone", "enabled"}
# What a run scans, how and when: whoever changes one of these answers for the runs (``created_by``).
RUN_FIELDS = (
    "target",
    "n8n_credential_id",
    "repository_url",
    "repository_ref",
    "repository_credential_id",
    "deep",
    "cron",
    "timezone",
)


def _check_cron(value: str) -> None:
    try:
        validate_cron(value)
    except CronError as exc:
        raise ma.ValidationError(str(exc)) from exc


def _check_timezone(value: str) -> None:
    try:
        parse_timezone(value)
    except CronError as exc:
        raise ma.ValidationError(str(exc)) from exc


class ScheduleUpdateSchema(ma.Schema):
    """Every field optional: a PUT changes what it names."""

    name = ma.fields.String(validate=[ma.validate.Length(min=1, max=200), visible_text])
    target = ma.fields.String(validate=ma.validate.Length(min=1, max=4096))
    n8n_credential_id = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
    repository_url = RepositoryUrlField()
    ref = RefField()
    repository_credential_id = ma.fields.String(allow_none=True, validate=ma.validate.Length(min=1, max=64))
    deep = ma.fields.Boolean()
    cron = ma.fields.String(validate=[ma.validate.Length(min=1, max=200), _check_cron])
    timezone = ma.fields.String(validate=[ma.validate.Length(min=1, max=64), _check_timezone])
    enabled = ma.fields.Boolean()

    @ma.validates_schema
    def one_source(self, data, **_kwargs):
        if sum(bool(data.get(k)) for k in ("target", "n8n_credential_id", "repository_url")) > 1:
            raise ma.ValidationError(
                "Give one of 'target', 'n8n_credential_id' or 'repository_url'.", "target"
            )


class ScheduleCreateSchema(ScheduleUpdateSchema):
    name = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=200), visible_text])
    cron = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=200), _check_cron])
    timezone = ma.fields.String(
        load_default="UTC", validate=[ma.validate.Length(min=1, max=64), _check_timezone]
    )
    deep = ma.fields.Boolean(load_default=False)
    enabled = ma.fields.Boolean(load_default=True)

    @ma.validates_schema
    def needs_a_source(self, data, **_kwargs):
        if not any(data.get(k) for k in ("target", "n8n_credential_id", "repository_url")):
            raise ma.ValidationError(
                "Give a 'target' path, a 'repository_url' or an 'n8n_credential_id'.", "target"
            )


ScheduleListArgs = page_args_with(enabled=ma.fields.Boolean())


def schedule_json(schedule: Schedule) -> dict:
    return {
        "id": schedule.id,
        "organization_id": schedule.organization_id,
        "name": schedule.name,
        "target": schedule.target,
        "n8n_credential_id": schedule.n8n_credential_id,
        "repository_url": schedule.repository_url,
        "ref": schedule.repository_ref,
        "repository_credential_id": schedule.repository_credential_id,
        "deep": schedule.deep,
        "cron": schedule.cron,
        "timezone": schedule.timezone,
        "enabled": schedule.enabled,
        "next_run_at": isoformat(schedule.next_run_at),
        "last_run_at": isoformat(schedule.last_run_at),
        "last_scan_id": schedule.last_scan_id,
        "last_error": schedule.last_error,
        "created_by": schedule.created_by,
        "created_at": isoformat(schedule.created_at),
        "updated_at": isoformat(schedule.updated_at),
    }


def _confined_target(raw: str) -> str:
    try:
        organization = context().organization
        return resolve_target(raw, organization_roots(organization.id, organization.scan_roots))
    except TargetError as exc:
        abort(400, message=str(exc), errors={"target": [str(exc)]})


def _use_source(schedule: Schedule, **source) -> None:
    """Switch the schedule to exactly one kind of source."""
    for field in (
        "target",
        "n8n_credential_id",
        "repository_url",
        "repository_ref",
        "repository_credential_id",
    ):
        setattr(schedule, field, source.get(field))


def _apply(schedule: Schedule, body: dict) -> None:
    """Copy the given fields, switching the scan source when one is named, and re-plan the next run."""
    for field in ("name", "deep", "enabled", "timezone"):
        if field in body:
            setattr(schedule, field, body[field])
    if "cron" in body:
        schedule.cron = validate_cron(body["cron"])
    if body.get("target"):
        _use_source(schedule, target=_confined_target(body["target"]))
    elif body.get("n8n_credential_id"):
        _use_source(schedule, n8n_credential_id=credential_or_404(body["n8n_credential_id"]).id)
    elif body.get("repository_url"):
        _use_source(schedule, repository_url=body["repository_url"], repository_ref="HEAD")
    if schedule.repository_url:
        if body.get("ref"):
            schedule.repository_ref = body["ref"]
        if body.get("repository_credential_id"):
            schedule.repository_credential_id = body["repository_credential_id"]
        elif "repository_credential_id" in body:
            schedule.repository_credential_id = None
        # A credential named with, or kept for, a new URL goes to its own host only (the worker checks each
        # run as well, so other edits, such as disabling, stay possible for a credential saved before hosts).
        if schedule.repository_credential_id and {"repository_url", "repository_credential_id"} & body.keys():
            credential_for(
                schedule.repository_credential_id, schedule.repository_url, "repository_credential_id"
            )
    if not schedule.target and not schedule.n8n_credential_id and not schedule.repository_url:
        abort(
            422,
            message="A schedule scans a 'target', a 'repository_url' or an 'n8n_credential_id'.",
            errors={"target": ["Required."]},
        )
    if not schedule.enabled:
        schedule.next_run_at = None
    elif schedule.next_run_at is None or PLANNING_FIELDS & body.keys():
        try:
            schedule.next_run_at = next_run_after(schedule.cron, schedule.timezone, utcnow())
        except CronError as exc:  # a stored cron that never runs, saved before such a cron was refused
            abort(422, message="The schedule never runs.", errors={"cron": [str(exc)]})


def _check_schedule_cap(organization_id: str) -> None:
    """Refuse a schedule past SCHEDULES_PER_ORG: the dispatcher reads every organization's due schedules each
    minute, so one organization's unbounded rows slowed everyone's. The organization's row is locked first,
    so concurrent creations are counted one after another."""
    cap = get_settings().schedules_per_org
    db().execute(select(Organization.id).where(Organization.id == organization_id).with_for_update())
    count = db().scalar(select(func.count(Schedule.id)).where(Schedule.organization_id == organization_id))
    if count >= cap:
        abort(
            409,
            message=f"This organization has {count} schedules, the limit ({cap}); delete one before "
            "creating another.",
        )


@blp.route("", methods=["POST"])
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(201, schema=ResourceSchema, success=True, headers=REQUIRED_LOCATION)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(409, response="CONFLICT")
@access("editor")
@blp.arguments(ScheduleCreateSchema)
def create_schedule(body):
    ctx = context()
    schedule = Schedule(organization_id=ctx.organization_id, created_by=ctx.user_id)
    _apply(schedule, body)
    _check_schedule_cap(ctx.organization_id)
    db().add(schedule)
    db().commit()
    audit("schedule.create", "schedule", schedule.id, cron=schedule.cron, timezone=schedule.timezone)
    return (
        schedule_json(schedule),
        201,
        {"Location": url_for("schedules.get_schedule", schedule_id=schedule.id)},
    )


@blp.route("", methods=["GET"])
@blp.alt_response(200, schema=PageSchema, success=True)
@access("viewer")
@blp.arguments(ScheduleListArgs, location="query")
def list_schedules(args):
    query = select(Schedule).where(Schedule.organization_id == context().organization_id)
    query = apply_filters(query, Schedule, args, {"enabled": is_()})
    return paginate(
        query.order_by(Schedule.created_at, Schedule.id), args["page"], args["per_page"], schedule_json
    )


@blp.route("/<schedule_id>", methods=["GET"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@access("viewer")
def get_schedule(schedule_id):
    return schedule_json(scoped_get_or_404(Schedule, schedule_id, "Schedule"))


@blp.route("/<schedule_id>", methods=["PUT"])
@blp.alt_response(200, schema=ResourceSchema, success=True)
@blp.alt_response(400, response="BAD_REQUEST")
@access("editor")
@blp.arguments(ScheduleUpdateSchema)
def update_schedule(body, schedule_id):
    schedule = scoped_get_or_404(Schedule, schedule_id, "Schedule")
    taken_over_from = _take_over_if_enabled(schedule, body)
    runs_before, was_enabled = _what_it_runs(schedule), schedule.enabled
    _apply(schedule, body)
    if taken_over_from is None:
        taken_over_from = _take_over_if_changed(schedule, runs_before, was_enabled, body)
    db().commit()
    if taken_over_from is None:
        audit("schedule.update", "schedule", schedule.id, fields=sorted(body))
    else:
        audit(
            "schedule.take_over",
            "schedule",
            schedule.id,
            fields=sorted(body),
            previous_creator=taken_over_from or None,
        )
    return schedule_json(schedule)


def _take_over_if_enabled(schedule: Schedule, body: dict) -> str | None:
    """Enabling a schedule whose creator can no longer run it makes the caller, an admin, its creator: its
    runs and saved credentials are then a current admin's responsibility. Returns the former creator's id
    ('' for a deleted account) when taken over, else None."""
    if body.get("enabled") is not True or schedule_owner.creator_problem(db(), schedule) is None:
        return None
    ctx = context()
    if ROLE_RANK[ctx.membership.role] < ROLE_RANK[schedule_owner.TAKE_OVER_ROLE]:
        abort(
            403,
            message="This schedule's creator can no longer run it: only an admin enables it, taking it over.",
        )
    previous = _hand_to_caller(schedule, body)
    schedule.last_error = None
    return previous


def _what_it_runs(schedule: Schedule) -> tuple:
    return tuple(getattr(schedule, field) for field in RUN_FIELDS)


def _take_over_if_changed(
    schedule: Schedule, runs_before: tuple, was_enabled: bool, body: dict
) -> str | None:
    """Whoever changes what a schedule scans, how or when, or resumes it, becomes its creator: its runs are
    scans in the creator's name and under the creator's per-person shares, so an editor who edited an admin's
    schedule made scans run as the admin. Renaming or pausing keeps the creator, and so does editing a
    schedule its creator can no longer run: it stays paused until an admin enables it, taking it over.
    Returns the former creator's id ('' for a deleted account) when taken over, else None."""
    ctx = context()
    resumed = schedule.enabled and not was_enabled
    if schedule.created_by == ctx.user_id or (_what_it_runs(schedule) == runs_before and not resumed):
        return None
    if schedule_owner.creator_problem(db(), schedule) is not None:
        return None
    return _hand_to_caller(schedule, body)


def _hand_to_caller(schedule: Schedule, body: dict) -> str:
    """Make the caller the schedule's creator; the former creator's id ('' for a deleted account).

    The new creator's runs send the saved credentials the request did not name: they are checked again as
    the organization's own, the repository's bound to its host (those it named were checked by ``_apply``)."""
    previous = schedule.created_by or ""
    schedule.created_by = context().user_id
    if schedule.n8n_credential_id and not body.get("n8n_credential_id"):
        credential_or_404(schedule.n8n_credential_id)
    if (
        schedule.repository_credential_id
        and "repository_credential_id" not in body
        and schedule.repository_url
    ):
        credential_for(schedule.repository_credential_id, schedule.repository_url, "repository_credential_id")
    return previous


@blp.route("/<schedule_id>", methods=["DELETE"])
@blp.alt_response(204, description="No Content", success=True)
@access("admin")
def delete_schedule(schedule_id):
    schedule = scoped_get_or_404(Schedule, schedule_id, "Schedule")
    db().delete(schedule)
    db().commit()
    audit("schedule.delete", "schedule", schedule_id)
    return "", 204
