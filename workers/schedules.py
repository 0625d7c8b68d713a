"""``schedules.dispatch_due``: start the scans of every schedule whose next run has come.

Beat sends this task every minute; the database is the source of truth. Due rows
are claimed with ``FOR UPDATE SKIP LOCKED`` and advanced in the same transaction
that creates their scans, so two dispatchers running at once never start the same
run twice, and a schedule written over the API is seen on the next tick. A schedule
has at most one scan in flight: a run due while the last one is queued or running is skipped, as is
one due while its organization has ``SCANS_IN_FLIGHT_PER_ORG`` scans queued or running. A schedule whose
creator can no longer run it (``common.schedule_owner``) is paused instead of run.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from common import events, scan_quota, schedule_owner
from common.celery_client import enqueue
from common.config import get_settings
from common.cron import CronError, next_run_after
from common.db import session_scope
from common.jobs import ACTIVE_STATUSES
from common.models import Organization, Scan
from common.models.base import as_utc, utcnow
from common.models.connectors import N8nCredential, RepositoryCredential
from common.models.schedules import Schedule
from common.targets import TargetError, organization_roots, resolve_target
from common.tasks import SCAN_RUN, SCHEDULES_DISPATCH_DUE
from workers.app import app
from workers.base import PlatformTask

log = logging.getLogger(__name__)

CLAIM_BATCH_SIZE = 100
# A run is skipped while the schedule's previous scan is still queued or running: a schedule due every
# minute otherwise added a scan a minute to a backlog (the scans queue every organization shares), and any
# number of schedules bypassed the scan-creation rate limit that way.
SKIPPED_WHILE_IN_FLIGHT = "A run was skipped: the schedule's previous scan was still queued or running."
# Schedules are bounded by the organization's scans in flight as ``POST /scans`` is (``common.scan_quota``):
# one schedule each, any number of schedules would otherwise fill the queue past the limit.
SKIPPED_AT_ORGANIZATION_LIMIT = (
    f"A run was skipped: the organization already had its limit of scans queued or running "
    f"({scan_quota.SETTING})."
)


class NothingToScan(ValueError):
    """The schedule's source cannot be scanned at this run; recorded on the schedule."""


def _scan_for(session: Session, schedule: Schedule) -> Scan:
    """The queued scan of this run, with the target confined again (roots may have changed)."""
    scan = Scan(
        organization_id=schedule.organization_id,
        created_by=schedule.created_by,
        deep=schedule.deep,
    )
    if schedule.target:
        try:
            organization = session.get(Organization, schedule.organization_id)
            narrowed = organization.scan_roots if organization else []
            roots = organization_roots(schedule.organization_id, narrowed)
            scan.target = resolve_target(schedule.target, roots)
        except TargetError as exc:
            raise NothingToScan(str(exc)) from exc
    elif schedule.n8n_credential_id:
        credential = session.get(N8nCredential, schedule.n8n_credential_id)
        if credential is None or credential.organization_id != schedule.organization_id:
            raise NothingToScan("The schedule's n8n credential no longer exists.")
        scan.n8n_url = credential.url
        scan.n8n_api_key_encrypted = credential.api_key_encrypted
        scan.n8n_from_credential = True
    elif schedule.repository_url:
        scan.repository_url = schedule.repository_url
        scan.repository_ref = schedule.repository_ref or "HEAD"
        if schedule.repository_credential_id:
            credential = session.get(RepositoryCredential, schedule.repository_credential_id)
            if credential is None or credential.organization_id != schedule.organization_id:
                raise NothingToScan("The schedule's repository credential no longer exists.")
        scan.repository_credential_id = schedule.repository_credential_id
    else:
        raise NothingToScan("The schedule has no target, repository or n8n credential.")
    return scan


def _scans_in_flight(session: Session, scan_ids: list[str]) -> set[str]:
    """Which of these scans are still queued or running."""
    if not scan_ids:
        return set()
    return set(
        session.scalars(select(Scan.id).where(Scan.id.in_(scan_ids), Scan.status.in_(ACTIVE_STATUSES)))
    )


def _claim_batch(now: datetime) -> tuple[list[tuple[str, str, str]], int]:
    """Claim one batch of due schedules: the (scan, organization, schedule) ids started, and how many."""
    started = []
    limit = get_settings().scans_in_flight_per_org
    is_due = (Schedule.enabled.is_(True), Schedule.next_run_at <= now)
    with session_scope() as session:
        due = session.scalars(
            select(Schedule)
            .where(*is_due, Schedule.organization_id.in_(_hold_organizations(session, is_due)))
            .order_by(Schedule.next_run_at, Schedule.id)
            .limit(CLAIM_BATCH_SIZE)
            .with_for_update(skip_locked=True)
        ).all()
        in_flight = _scans_in_flight(session, [s.last_scan_id for s in due if s.last_scan_id])
        for schedule in due:
            if schedule_owner.pause_for_creator(session, schedule):
                continue
            try:
                schedule.next_run_at = next_run_after(schedule.cron, schedule.timezone, now)
            except CronError as exc:  # e.g. a timezone removed from the tz database
                schedule.enabled, schedule.next_run_at, schedule.last_error = False, None, str(exc)
                continue
            if schedule.last_scan_id in in_flight:
                schedule.last_error = SKIPPED_WHILE_IN_FLIGHT
                continue
            if not scan_quota.admits_another(session, schedule.organization_id, limit):
                schedule.last_error = SKIPPED_AT_ORGANIZATION_LIMIT
                continue
            schedule.last_run_at = now
            try:
                scan = _scan_for(session, schedule)
            except NothingToScan as exc:
                schedule.last_error = str(exc)
                continue
            session.add(scan)
            session.flush()
            schedule.last_scan_id, schedule.last_error = scan.id, None
            started.append((scan.id, schedule.organization_id, schedule.id))
    return started, len(due)


def _hold_organizations(session: Session, is_due) -> list[str]:
    """The organizations of the due schedules, held before any schedule is locked, in their deletion's
    order (``hold_organization``): a claimed schedule's scan references its organization, and locking the
    schedules first deadlocked with the deletion of one of their organizations (answered 503). One being
    deleted is skipped, its schedules with it."""
    return session.scalars(
        select(Organization.id)
        .where(Organization.id.in_(select(Schedule.organization_id).where(*is_due)))
        .order_by(Organization.id)
        .with_for_update(read=True, key_share=True, skip_locked=True)
    ).all()


def dispatch_due(now: datetime | None = None) -> list[str]:
    """Start every due schedule's scan; ``now`` is injectable so tests freeze time. Returns scan ids."""
    now = as_utc(now) if now is not None else utcnow()
    scan_ids: list[str] = []
    while True:
        started, claimed = _claim_batch(now)
        for scan_id, organization_id, schedule_id in started:
            try:
                enqueue(SCAN_RUN, scan_id)
            except Exception as exc:  # the reconciler re-sends queued scans whose message was lost
                log.error("scheduled scan %s saved but not enqueued yet: %s", scan_id, exc)
            events.publish(organization_id, "scan.queued", scan_id=scan_id, schedule_id=schedule_id)
            scan_ids.append(scan_id)
        if claimed < CLAIM_BATCH_SIZE:
            return scan_ids


@app.task(bind=True, base=PlatformTask, name=SCHEDULES_DISPATCH_DUE)
def dispatch_due_task(self: PlatformTask, now: str | None = None) -> list[str]:
    """Beat's entry point; ``now`` (ISO 8601) lets a test run a tick at a chosen instant."""
    return dispatch_due(datetime.fromisoformat(now) if now else None)
