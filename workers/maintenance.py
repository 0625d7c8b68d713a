"""Housekeeping on the ``maintenance`` queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from sqlalchemy import delete, or_, select

from common import events
from common.config import get_settings
from common.db import session_scope
from common.models import AuditLog, Organization, Scan
from common.models.base import utcnow
from common.models.exports import Export
from common.models.maintenance import DEFAULT_AUDIT_RETENTION_DAYS, MaintenanceJob
from common.models.webhooks import (
    FINAL_DELIVERY_STATUSES,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEvent,
)
from common.pipeline import enqueue
from common.redis_client import get_redis
from common.tasks import AUDIT_CLEANUP, EXPORT_RENDER, PRUNE_HISTORY, RECONCILE_JOBS, SCAN_RUN
from workers.app import app
from workers.base import PlatformTask

VANISHED_WORKER_ERROR = "the worker running this job stopped responding"


@dataclass(frozen=True)
class TrackedJob:
    """A kind of row that a task runs by id through ``PlatformTask.job`` (heartbeat, status)."""

    model: type
    task: str
    event_prefix: str


TRACKED_JOBS = (
    TrackedJob(Scan, SCAN_RUN, "scan"),
    TrackedJob(Export, EXPORT_RENDER, "export"),
    TrackedJob(MaintenanceJob, AUDIT_CLEANUP, "maintenance"),
)


@app.task(bind=True, base=PlatformTask, name=RECONCILE_JOBS)
def reconcile_jobs(self: PlatformTask) -> dict:
    """Fail jobs (scans, exports, cleanups) whose worker vanished and re-send queued ones whose
    message was lost.

    A running job's heartbeat is refreshed every second, so one silent for the configured bound
    has no worker; a queued job that old lost its broker message (e.g. a Redis restart without
    persistence), and every tracked task is idempotent. A queued job is re-sent at most once per
    bound: in a long backlog its first message is still waiting, and every extra copy would be a
    whole extra run.
    """
    stale = timedelta(minutes=get_settings().scan_stale_minutes)
    outcome: dict = {"failed": [], "requeued": []}
    for tracked in TRACKED_JOBS:
        failed, requeued = _reconcile(tracked, stale)
        outcome["failed"] += failed
        outcome["requeued"] += requeued
    return outcome


def _reconcile(tracked: TrackedJob, stale: timedelta) -> tuple[list[str], list[str]]:
    model, bound = tracked.model, utcnow() - stale
    failed = []
    with session_scope() as session:
        stale_running = session.scalars(
            select(model)
            .where(model.status == "running", model.heartbeat_at < bound)
            .with_for_update(skip_locked=True)
        ).all()
        for row in stale_running:
            row.status = "failed"
            row.error = VANISHED_WORKER_ERROR
            row.finished_at = utcnow()
            failed.append((row.id, row.organization_id))
        queued = list(
            session.scalars(select(model.id).where(model.status == "queued", model.created_at < bound))
        )
    for row_id, organization_id in failed:
        events.publish(
            organization_id,
            f"{tracked.event_prefix}.failed",
            **{f"{tracked.event_prefix}_id": row_id},
            error=VANISHED_WORKER_ERROR,
        )
    requeued = [row_id for row_id in queued if _claim_resend(row_id, stale)]
    for row_id in requeued:
        enqueue(tracked.task, row_id)
    return [row_id for row_id, _ in failed], requeued


def _claim_resend(row_id: str, stale: timedelta) -> bool:
    """One re-send per job per bound, across every maintenance worker (Redis ``SET NX``).

    If Redis cannot say, re-send anyway: a duplicate costs a scan, a lost one costs the result.
    """
    try:
        return bool(
            get_redis().set(
                f"trusera:job-resent:{row_id}", "1", nx=True, px=max(1, int(stale.total_seconds() * 1000))
            )
        )
    except redis.RedisError:
        return True


@app.task(bind=True, base=PlatformTask, name=AUDIT_CLEANUP)
def audit_cleanup(self: PlatformTask, job_id: str | None = None) -> dict:
    """With a job id: the cleanup an admin queued for one organization. Without: beat's daily run for all."""
    if job_id is None:
        return cleanup_every_organization(utcnow())
    outcome: dict = {}
    with self.job(MaintenanceJob, job_id, event_prefix="maintenance") as job:
        if job is None:
            return outcome
        with session_scope() as session:
            row = session.get(MaintenanceJob, job_id)
            if row.result is None:  # a redelivered message must not report a second, empty run
                cutoff = datetime.fromisoformat(row.params["cutoff"])
                row.result = {
                    "deleted": _delete_entries(
                        session, AuditLog.organization_id == row.organization_id, cutoff
                    )
                }
            outcome = dict(row.result)
    return outcome


def cleanup_every_organization(now: datetime) -> dict:
    """Each organization keeps its own retention; entries of no live organization keep the default."""
    deleted: dict[str, int] = {}
    with session_scope() as session:
        retention = session.execute(select(Organization.id, Organization.audit_retention_days)).all()
    for organization_id, days in retention:
        with session_scope() as session:
            count = _delete_entries(
                session, AuditLog.organization_id == organization_id, now - timedelta(days=days)
            )
        if count:
            deleted[organization_id] = count
    orphaned = or_(
        AuditLog.organization_id.is_(None), AuditLog.organization_id.not_in(select(Organization.id))
    )
    with session_scope() as session:
        deleted["orphaned"] = _delete_entries(
            session, orphaned, now - timedelta(days=DEFAULT_AUDIT_RETENTION_DAYS)
        )
    return deleted


def _delete_entries(session, scope, cutoff: datetime) -> int:
    return _delete(session, AuditLog, scope, AuditLog.created_at < cutoff)


@app.task(bind=True, base=PlatformTask, name=PRUNE_HISTORY)
def prune_history(self: PlatformTask) -> dict:
    """Drop delivery history and export files older than ``HISTORY_RETENTION_DAYS``.

    Webhook events are kept while any of their deliveries may still be retried; children are
    deleted before parents so SQLite (no enforced cascades) and PostgreSQL end the same.
    """
    cutoff = utcnow() - timedelta(days=get_settings().history_retention_days)
    with session_scope() as session:
        settled_events = select(WebhookEvent.id).where(
            WebhookEvent.created_at < cutoff,
            ~WebhookEvent.id.in_(
                select(WebhookDelivery.event_id).where(WebhookDelivery.status.not_in(FINAL_DELIVERY_STATUSES))
            ),
        )
        event_ids = list(session.scalars(settled_events))
        delivery_ids = select(WebhookDelivery.id).where(WebhookDelivery.event_id.in_(event_ids))
        return {
            "webhook_attempts": _delete(
                session, WebhookDeliveryAttempt, WebhookDeliveryAttempt.delivery_id.in_(delivery_ids)
            ),
            "webhook_deliveries": _delete(session, WebhookDelivery, WebhookDelivery.event_id.in_(event_ids)),
            "webhook_events": _delete(session, WebhookEvent, WebhookEvent.id.in_(event_ids)),
            "exports": _delete(
                session, Export, Export.status.in_(("completed", "failed")), Export.finished_at < cutoff
            ),
        }


def _delete(session, model: type, *conditions) -> int:
    """Bulk-delete the matching rows; the number deleted."""
    return session.execute(
        delete(model).where(*conditions).execution_options(synchronize_session=False)
    ).rowcount
