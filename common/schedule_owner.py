"""Whether a schedule's creator may still answer for its runs.

A scheduled scan runs under its creator's name (``Scan.created_by``) and with the credentials they chose.
A creator who left the organization, was removed, lost the role creating a schedule needs, or whose
account was deleted no longer may: the schedule is paused (``workers.schedules``) with the reason in
``last_error``, and an admin who enables it again takes it over (``web.api.schedules``), so every run has
a current member who is accountable for it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.models import ROLE_RANK, Membership
from common.models.schedules import Schedule

# The role ``POST /schedules`` requires, and so the one its runs need.
SCHEDULE_ROLE = "editor"
TAKE_OVER_ROLE = "admin"
PAUSED = "The schedule was paused: "
TAKE_OVER = " An admin takes it over by enabling it again."


def creator_problem(session: Session, schedule: Schedule) -> str | None:
    """Why the schedule's creator can no longer run it (a sentence for ``last_error``), or None."""
    if schedule.created_by is None:
        return f"{PAUSED}the account that created it was deleted.{TAKE_OVER}"
    role = session.scalar(
        select(Membership.role).where(
            Membership.organization_id == schedule.organization_id,
            Membership.user_id == schedule.created_by,
        )
    )
    if role is None:
        return f"{PAUSED}its creator is no longer a member of the organization.{TAKE_OVER}"
    if ROLE_RANK[role] < ROLE_RANK[SCHEDULE_ROLE]:
        return (
            f"{PAUSED}its creator's role is now '{role}', below the '{SCHEDULE_ROLE}' role a schedule "
            f"needs.{TAKE_OVER}"
        )
    return None


def pause_for_creator(session: Session, schedule: Schedule) -> bool:
    """Pause the schedule when its creator can no longer run it; whether it was paused."""
    problem = creator_problem(session, schedule)
    if problem is None:
        return False
    schedule.enabled, schedule.next_run_at, schedule.last_error = False, None, problem
    return True
