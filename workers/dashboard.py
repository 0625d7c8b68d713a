"""``dashboard.roll_up``: count a completed scan's components once for the dashboard (``common.rollups``).

A follow-up of ``scan.completed`` (``EVENT_FOLLOW_UPS``), so a dashboard view only reads. Until it has
run, the dashboard counts the scan from its components, with the same numbers; after rolling up it
counts the organization's summary row again (``common.dashboard``). ``dashboard.reconcile`` (beat, every
five minutes) does both for what a lost follow-up or a deleted scan left, so no view counts live for
longer than that.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from common.accounts import hold_organization
from common.dashboard import organizations_to_reconcile, refresh_summary, stale_summaries
from common.db import session_scope
from common.models import Scan
from common.rollups import organizations_missing_rollups, roll_up_organization
from common.tasks import DASHBOARD_RECONCILE, DASHBOARD_ROLL_UP
from workers.app import app
from workers.base import TRANSIENT_ERRORS, PlatformTask


def _roll_up(organization_id: str) -> int:
    """The organization's missing rollups, then its summary row counted again from them, in two
    transactions: the rollups hold a key-share lock on each scan they count, and waiting for the
    organization's row (``refresh_summary``) while holding them deadlocked with the organization's
    deletion, which locks that row, then deletes its scans. Rolled up and not yet counted, the summary is
    what a lost follow-up leaves, which ``reconcile`` counts again. The rollups' transaction holds the
    organization before it locks any scan, in the deletion's order (``hold_organization``)."""
    with session_scope() as session:
        if not hold_organization(session, organization_id):
            return 0
        written = roll_up_organization(session.connection(), organization_id)
    with session_scope() as session:
        refresh_summary(session.connection(), organization_id)
    return written


@app.task(bind=True, base=PlatformTask, name=DASHBOARD_ROLL_UP)
def roll_up(self: PlatformTask, scan_id: str) -> int:
    """Roll up the completed scans of the scan's organization that have no rollups yet; the rows written."""
    try:
        with session_scope() as session:
            organization_id = session.scalar(select(Scan.organization_id).where(Scan.id == scan_id))
        return 0 if organization_id is None else _roll_up(organization_id)
    except IntegrityError as exc:  # a scan deleted while it was counted: count the others again
        raise self.retry_later(exc) from exc
    except TRANSIENT_ERRORS as exc:
        raise self.retry_later(exc) from exc


@app.task(bind=True, base=PlatformTask, name=DASHBOARD_RECONCILE)
def reconcile(self: PlatformTask) -> dict[str, int]:
    """Roll up every organization that has a completed scan without rollups, or whose summary row is
    missing or was counted from other latest scans; the rollup rows written for each.

    Only the organizations whose state may have changed since their row was counted are looked at
    (``organizations_to_reconcile``): a run reads a few rows per organization, not every scan. Each
    organization on its own, as its follow-up would: a rerun finds nothing left."""
    try:
        with session_scope() as session:
            connection = session.connection()
            candidates = organizations_to_reconcile(connection)
            organizations = sorted(
                {
                    *organizations_missing_rollups(connection, candidates),
                    *stale_summaries(connection, candidates),
                }
            )
        written = {}
        for organization_id in organizations:
            written[organization_id] = _roll_up(organization_id)
        return written
    except IntegrityError as exc:  # a scan deleted while it was counted: count the others again
        raise self.retry_later(exc) from exc
    except TRANSIENT_ERRORS as exc:
        raise self.retry_later(exc) from exc
