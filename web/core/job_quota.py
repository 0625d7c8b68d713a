"""How many jobs of one kind an organization may have queued or running at once.

Any member may queue some jobs (an export, an evaluation), each a worker job on a queue every
organization shares; the request rate limit counts per principal, and a user may hold many API keys, so
it alone does not bound how much one organization puts ahead of everyone else's work.
"""

from __future__ import annotations

from flask_smorest import abort
from sqlalchemy import func, select

from common.accounts import lock_organization
from common.jobs import ACTIVE_STATUSES
from web.core.database import db

RETRY_AFTER_SECONDS = 10  # these jobs finish in seconds; a slot is free again by then


def admit_job(model, organization_id: str, limit: int, setting: str, what: str, *conditions) -> None:
    """Abort 429 when the organization already has ``limit`` such jobs queued or running.

    The organization's row is locked until the commit, so concurrent requests are counted one after
    the other and cannot all pass the limit together (``FOR NO KEY UPDATE``: the rows that merely
    reference the organization are not held up)."""
    lock_organization(db(), organization_id)
    in_flight = db().scalar(
        select(func.count())
        .select_from(model)
        .where(model.organization_id == organization_id, model.status.in_(ACTIVE_STATUSES), *conditions)
    )
    if in_flight >= limit:
        db().rollback()
        abort(
            429,
            message=(
                f"This organization already has {in_flight} {what} queued or running, the limit "
                f"({setting}); ask again once one of them has finished."
            ),
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
