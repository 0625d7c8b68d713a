"""Whether a schedule's creator may still answer for its runs.

A scheduled scan runs under its creator's name (``Scan.created_by``) and with the credentials they chose.
A creator who left the organization, was removed, lost the role creating a schedule needs, or whose
account was deleted no longer may: the schedule is paused (at the membership change, and again by
``workers.schedules`` at each due run) with the reason in ``last_error``, and an admin who enables it
again takes it over (``web.api.schedules``), so every run has a current member who is accountable for it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.models import ROLE_RANK, Membership, Scan
from common.models.schedules import Schedule

# The role ``POST /schedules`` requires, and so the one its runs need.
SCHEDULE_ROLE = "editor"
TAKE_OVER_ROLE = "admin"
PAUSED = "The schedule was paused: "
TAKE_OVER = " An admin takes it over by enabling it again."


def creator_problem(session: Session, schedule: Schedule) -> str | None:
    """Why the schedule's creator can no longer run it (a sentence for ``last_error``), or None."""
    problem = _standing_problem(session, schedule.organization_id, schedule.created_by)
    return None if problem is None else f"{PAUSED}{problem}.{TAKE_OVER}"


def queued_run_problem(session: Session, scan: Scan) -> str | None:
    """Why a schedule's queued scan may no longer run, or None: the creator may have left between the dispatch
    and the run, and the scan carries their name and their choices (a target, a saved credential), which
    the dispatcher would no longer have run a moment later."""
    made_by_schedule = session.scalar(select(Schedule.id).where(Schedule.last_scan_id == scan.id).limit(1))
    if made_by_schedule is None:
        return None
    problem = _standing_problem(session, scan.organization_id, scan.created_by)
    return None if problem is None else f"The scheduled scan was not run: {problem}."


def pause_schedules_of(session: Session, organization_id: str, user_id: str) -> int:
    """Pause, at the membership change itself, the schedules ``user_id`` created in the organization that
    they can no longer run; how many. Call after the change is in ``session``: until their next due run
    the dispatcher would still show them enabled."""
    schedules = session.scalars(
        select(Schedule)
        .where(
            Schedule.organization_id == organization_id,
            Schedule.created_by == user_id,
            Schedule.enabled.is_(True),
        )
        .with_for_update()
    ).all()
    return sum(pause_for_creator(session, schedule) for schedule in schedules)


def pause_schedules_of_deleted_account(session: Session, user_id: str) -> int:
    """Pause every schedule a deleted account created (its ``created_by`` becomes NULL with it)."""
    schedules = session.scalars(
        select(Schedule).where(Schedule.created_by == user_id, Schedule.enabled.is_(True)).with_for_update()
    ).all()
    for schedule in schedules:
        schedule.created_by = None
        pause_for_creator(session, schedule)
    return len(schedules)


def _standing_problem(session: Session, organization_id: str, user_id: str | None) -> str | None:
    if user_id is None:
        return "the account that created it was deleted"
    role = session.scalar(
        select(Membership.role).where(
            Membership.organization_id == organization_id, Membership.user_id == user_id
        )
    )
    if role is None:
        return "its creator is no longer a member of the organization"
    if ROLE_RANK[role] < ROLE_RANK[SCHEDULE_ROLE]:
        return f"its creator's role is now '{role}', below the '{SCHEDULE_ROLE}' role a schedule needs"
    return None


def pause_for_creator(session: Session, schedule: Schedule) -> bool:
    """Pause the schedule when its creator can no longer run it; whether it was paused."""
    problem = creator_problem(session, schedule)
    if problem is None:
        return False
    schedule.enabled, schedule.next_run_at, schedule.last_error = False, None, problem
    return True
