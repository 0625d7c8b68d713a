"""Housekeeping on the ``maintenance`` queue."""

from __future__ import annotations

from datetime import datetime, timedelta

import redis
from sqlalchemy import delete, func, or_, select

from common import events, jobs
from common.celery_client import enqueue, jobs_with_waiting_messages
from common.config import get_settings
from common.db import session_scope
from common.jobs import TERMINAL_STATUSES, JobMixin, JobStatus
from common.models import AuditLog, AuthSession, Organization
from common.models.base import utcnow
from common.models.exports import Export
from common.models.identity import MemberInvitation
from common.models.maintenance import DEFAULT_AUDIT_RETENTION_DAYS, MaintenanceJob
from common.models.webhooks import (
    FINAL_DELIVERY_STATUSES,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEvent,
)
from common.redis_client import get_redis
from common.tasks import AUDIT_CLEANUP, PRUNE_HISTORY, RECONCILE_JOBS, WEBHOOK_DELIVER
from common.webhooks import RetryPolicy
from workers.app import app
from workers.base import PlatformTask
from workers.webhooks import claim_lapses_after

VANISHED_WORKER_ERROR = "the worker running this job stopped responding"
PRUNE_BATCH = 1000  # rows deleted per transaction by ``prune_spent``


@app.task(bind=True, base=PlatformTask, name=RECONCILE_JOBS)
def reconcile_jobs(self: PlatformTask) -> dict:
    """Re-send every kind of job (``jobs.job_models``) whose worker vanished or whose message was lost.

    A running job's heartbeat is refreshed every second, so one silent for the configured bound
    has no worker (a broker blip cancels running tasks, a killed worker loses them): it goes back
    to the queue and is sent again, unless it already used up ``jobs.MAX_ATTEMPTS``, then it
    fails. A queued job that old lost its broker message (a Redis restart without persistence, or
    a broker that refused it), and every job's task is idempotent, unless its message is still in the
    broker (a long backlog: ``jobs_with_waiting_messages``), when it is left to wait. A job is re-sent at
    most once per bound, every extra copy being a whole extra run. One re-sent ``jobs.MAX_RESENDS`` times
    that no worker started, with no message of it left in the broker, fails.
    """
    stale = timedelta(minutes=get_settings().scan_stale_minutes)
    failed: list[str] = []
    requeued: list[str] = []
    for model in jobs.job_models():
        failed_now, requeued_now = _reconcile(model, stale)
        failed += failed_now
        requeued += requeued_now
    return {
        JobStatus.FAILED.value: failed,
        "requeued": requeued,
        "webhook_deliveries_resent": _resend_stuck_deliveries(stale),
    }


def _resend_stuck_deliveries(stale: timedelta) -> list[str]:
    """Send a ``deliver`` message again for each webhook delivery left waiting with none coming.

    A delivery is not a job (it has no heartbeat), but its messages get lost the same ways: the broker
    refused the first one, a retry, or the "claim still live, look again later" one, or the worker
    sending it died. One still waiting ``stale`` after it was due (created, or its retry time), whose
    claim (if any) has lapsed, gets its next attempt sent again, at most once per bound. Sending the
    same attempt twice is what the claim in ``workers.webhooks`` already refuses: the message only
    claims the attempt if no live claim holds it and it was not recorded.
    """
    now = utcnow()
    bound = now - stale
    lapsed = now - claim_lapses_after(RetryPolicy.from_env())
    with session_scope() as session:
        waiting = session.execute(
            select(WebhookDelivery.id, WebhookDelivery.attempts).where(
                WebhookDelivery.status.not_in(FINAL_DELIVERY_STATUSES),
                func.coalesce(WebhookDelivery.next_retry_at, WebhookDelivery.created_at) < bound,
                or_(WebhookDelivery.sending_since.is_(None), WebhookDelivery.sending_since < lapsed),
            )
        ).all()
    resent = [
        (delivery_id, attempts)
        for delivery_id, attempts in waiting
        if _claim_resend(f"webhook-delivery:{delivery_id}", stale)
    ]
    for delivery_id, attempts in resent:
        enqueue(WEBHOOK_DELIVER, delivery_id, attempts + 1)
    return [delivery_id for delivery_id, _attempts in resent]


def _reconcile(model: type[JobMixin], stale: timedelta) -> tuple[list[str], list[str]]:
    bound = utcnow() - stale
    failed: list[str] = []
    with session_scope() as session:
        silent = _lock_stale(session, model, model.status == JobStatus.RUNNING, model.heartbeat_at < bound)
        for row in silent:
            if jobs.out_of_attempts(row):
                events.record_job_event(session, jobs.fail(row, VANISHED_WORKER_ERROR))
                row.discard_inputs(session)
                failed.append(row.id)
            else:
                events.record_job_event(session, jobs.requeue(row))
        queued = _lock_stale(session, model, model.status == JobStatus.QUEUED, model.queued_since() < bound)
        calls = []
        due = {row.id: row.task_call(session) for row in queued}
        waiting = _waiting_in_broker(due)
        for row in queued:
            if row.id in waiting:  # behind a backlog, not lost: its message will start it
                continue
            if jobs.out_of_resends(row):  # its task never starts: give its slot back, say why
                events.record_job_event(session, jobs.fail(row, jobs.NEVER_STARTED_ERROR))
                row.discard_inputs(session)
                failed.append(row.id)
            elif _claim_resend(row.id, stale):
                row.resends = (row.resends or 0) + 1
                calls.append((row.id, due[row.id]))
    for _row_id, (task_name, args) in calls:
        enqueue(task_name, *args)
    return failed, [row_id for row_id, _call in calls]


def _lock_stale(session, model: type[JobMixin], *conditions) -> list[JobMixin]:
    """The matching jobs, each locked (``SKIP LOCKED``: one a worker holds is left to it) after its
    organization is held, in its deletion's order (``hold_organization``): their events reference it.

    Locking the jobs first deadlocked with the deletion of one of their organizations, which locks the
    organization and then its jobs, and so was answered 503. An organization being deleted is skipped
    (``SKIP LOCKED`` again), its jobs with it: they go with it."""
    held = session.scalars(
        select(Organization.id)
        .where(Organization.id.in_(select(model.organization_id).where(*conditions)))
        .order_by(Organization.id)
        .with_for_update(read=True, key_share=True, skip_locked=True)
    ).all()
    if not held:
        return []
    return session.scalars(
        select(model).where(*conditions, model.organization_id.in_(held)).with_for_update(skip_locked=True)
    ).all()


def _waiting_in_broker(due: dict[str, tuple[str, tuple]]) -> set[str]:
    """The ids of the jobs (each with the task call that would start it) whose message is still in the
    broker (``jobs_with_waiting_messages``)."""
    by_task: dict[str, list[str]] = {}
    for row_id, (task_name, _args) in due.items():
        by_task.setdefault(task_name, []).append(row_id)
    return set().union(*(jobs_with_waiting_messages(name, ids) for name, ids in by_task.items()))


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
    with self.job(MaintenanceJob, job_id) as job:
        if job is None:
            return outcome
        with session_scope() as session:
            # Locked: a delivery running beside this one waits, then reports this run, not its own empty one.
            row = session.get(MaintenanceJob, job_id, with_for_update=True)
            if row.result is None:
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
    """Drop delivery history and export files older than ``HISTORY_RETENTION_DAYS``, and the rows that
    can no longer be used (``prune_spent``).

    Webhook events are kept while any of their deliveries may still be retried; children are
    deleted before parents so SQLite (no enforced cascades) and PostgreSQL end the same.
    """
    return {**_prune_settled_history(), **prune_spent(utcnow())}


def prune_spent(now: datetime) -> dict:
    """Delete what can never be used again, ``PRUNE_BATCH`` rows per transaction: invitations that lapsed
    (sent ``INVITATION_DAYS`` ago and not renewed since; or sent by an account since deleted), which
    stood for ever before (an admin can invite as many addresses as the rate limit lets through, none
    of them withdrawn), and login sessions revoked more than ``REFRESH_TOKEN_DAYS`` ago (a refresh token
    of a missing session is refused as one of a revoked session is; access tokens are revoked in Redis).
    A second run finds nothing more to delete."""
    settings = get_settings()
    lapsed = or_(
        MemberInvitation.created_at <= now - timedelta(days=settings.invitation_days),
        MemberInvitation.invited_by.is_(None),
    )
    ended = AuthSession.revoked_at < now - timedelta(days=settings.refresh_token_days)
    return {
        "lapsed_invitations": _delete_in_batches(MemberInvitation, lapsed),
        "ended_sessions": _delete_in_batches(AuthSession, ended),
    }


def _delete_in_batches(model: type, condition) -> int:
    """Delete ``model``'s rows matching ``condition`` in transactions of ``PRUNE_BATCH``: the rows are
    locked (``SKIP LOCKED``: one an admin renews at this moment is left to them, and looked at again the
    next day) and deleted in the same transaction, so no long lock is held on the table."""
    deleted = 0
    while True:
        with session_scope() as session:
            ids = list(
                session.scalars(
                    select(model.id).where(condition).limit(PRUNE_BATCH).with_for_update(skip_locked=True)
                )
            )
            if ids:
                deleted += _delete(session, model, model.id.in_(ids))
        if len(ids) < PRUNE_BATCH:
            return deleted


def _prune_settled_history() -> dict:
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
                session, Export, Export.status.in_(TERMINAL_STATUSES), Export.finished_at < cutoff
            ),
        }


def _delete(session, model: type, *conditions) -> int:
    """Bulk-delete the matching rows; the number deleted."""
    return session.execute(
        delete(model).where(*conditions).execution_options(synchronize_session=False)
    ).rowcount
