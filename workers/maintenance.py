"""Housekeeping on the ``maintenance`` queue."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select

from common import events
from common.config import get_settings
from common.db import session_scope
from common.models import AuditLog, Organization, Scan
from common.models.base import utcnow
from common.models.maintenance import DEFAULT_AUDIT_RETENTION_DAYS, MaintenanceJob
from common.pipeline import enqueue
from common.tasks import AUDIT_CLEANUP, RECONCILE_SCANS, SCAN_RUN
from workers.app import app
from workers.base import PlatformTask

VANISHED_WORKER_ERROR = "the worker running this scan stopped responding"


@app.task(bind=True, base=PlatformTask, name=RECONCILE_SCANS)
def reconcile_scans(self: PlatformTask) -> dict:
    """Fail scans whose worker vanished and re-send queued scans whose message was lost.

    A running scan publishes a heartbeat every second, so one silent for the
    configured bound has no worker; a queued scan that old lost its broker message
    (e.g. a Redis restart without persistence), and ``scans.run`` is idempotent.
    """
    bound = utcnow() - timedelta(minutes=get_settings().scan_stale_minutes)
    failed, requeued = [], []
    with session_scope() as session:
        stale_running = session.scalars(
            select(Scan)
            .where(Scan.status == "running", Scan.heartbeat_at < bound)
            .with_for_update(skip_locked=True)
        ).all()
        for scan in stale_running:
            scan.status = "failed"
            scan.error = VANISHED_WORKER_ERROR
            scan.finished_at = utcnow()
            failed.append((scan.id, scan.organization_id))
        requeued = list(
            session.scalars(select(Scan.id).where(Scan.status == "queued", Scan.created_at < bound))
        )
    for scan_id, organization_id in failed:
        events.publish(organization_id, "scan.failed", scan_id=scan_id, error=VANISHED_WORKER_ERROR)
    for scan_id in requeued:
        enqueue(SCAN_RUN, scan_id)
    return {"failed": [scan_id for scan_id, _ in failed], "requeued": requeued}


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
    return session.execute(
        delete(AuditLog)
        .where(scope, AuditLog.created_at < cutoff)
        .execution_options(synchronize_session=False)
    ).rowcount
