"""Housekeeping on the ``maintenance`` queue."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from common import events
from common.config import get_settings
from common.db import session_scope
from common.models import Scan
from common.models.base import utcnow
from common.pipeline import enqueue
from common.tasks import RECONCILE_SCANS, SCAN_RUN
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
