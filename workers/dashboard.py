"""``dashboard.roll_up``: count a completed scan's components once for the dashboard (``common.rollups``).

A follow-up of ``scan.completed`` (``EVENT_FOLLOW_UPS``), so a dashboard view only reads. Until it has
run, the dashboard counts the scan from its components, with the same numbers.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from common.db import session_scope
from common.models import Scan
from common.rollups import roll_up_organization
from common.tasks import DASHBOARD_ROLL_UP
from workers.app import app
from workers.base import TRANSIENT_ERRORS, PlatformTask


@app.task(bind=True, base=PlatformTask, name=DASHBOARD_ROLL_UP)
def roll_up(self: PlatformTask, scan_id: str) -> int:
    """Roll up the completed scans of the scan's organization that have no rollups yet; the rows written."""
    try:
        with session_scope() as session:
            organization_id = session.scalar(select(Scan.organization_id).where(Scan.id == scan_id))
            if organization_id is None:
                return 0
            return roll_up_organization(session.connection(), organization_id)
    except IntegrityError as exc:  # a scan deleted while it was counted: count the others again
        raise self.retry_later(exc) from exc
    except TRANSIENT_ERRORS as exc:
        raise self.retry_later(exc) from exc
