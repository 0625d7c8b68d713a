"""How many jobs of one kind an organization, and one person, may have queued or running at once.

Any member may queue some jobs (an export, an evaluation), each a worker job on a queue every
organization shares; the request rate limit counts per principal, and a user may hold many API keys, so
it alone does not bound how much one organization puts ahead of everyone else's work. Nor does the
organization's limit alone bound one person: a user may be admin of up to ``ORGANIZATIONS_PER_USER`` team
organizations besides their workspace, each with its own limit, so the person who asks (an API key's
owner) is held to the same limit across all of them.
"""

from __future__ import annotations

from flask_smorest import abort
from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute

from common.accounts import lock_organization
from common.jobs import ACTIVE_STATUSES
from web.core.database import db

RETRY_AFTER_SECONDS = 10  # these jobs finish in seconds; a slot is free again by then


def admit_job(
    model,
    organization_id: str,
    limit: int,
    setting: str,
    what: str,
    *conditions,
    requester: tuple[InstrumentedAttribute, str | None] | None = None,
) -> None:
    """Abort 429 when the organization already has ``limit`` such jobs queued or running, or the
    ``requester`` (the job's column naming who asked, and the caller's user id) has, in any organization.

    The organization's row is locked until the commit, so concurrent requests are counted one after
    the other and cannot all pass the limit together (``FOR NO KEY UPDATE``: the rows that merely
    reference the organization are not held up). The requester's count takes no lock of its own: one
    person's requests to different organizations at the same instant may pass it by as many as run at
    once, which the API's database connections bound."""
    lock_organization(db(), organization_id)
    in_flight = _active(model, model.organization_id == organization_id, *conditions)
    if in_flight >= limit:
        _refuse(f"This organization already has {in_flight} {what} queued or running", setting)
    column, user_id = requester or (None, None)
    if user_id is None:
        return
    asked = _active(model, column == user_id, *conditions)
    if asked >= limit:
        _refuse(f"You already have {asked} {what} queued or running across your organizations", setting)


def _active(model, *conditions) -> int:
    """How many of ``model``'s jobs matching ``conditions`` are queued or running."""
    return db().scalar(
        select(func.count()).select_from(model).where(model.status.in_(ACTIVE_STATUSES), *conditions)
    )


def _refuse(what_is_in_flight: str, setting: str) -> None:
    db().rollback()
    abort(
        429,
        message=f"{what_is_in_flight}, the limit ({setting}); ask again once one of them has finished.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
