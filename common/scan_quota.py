"""How many scans an organization may have queued or running at once (``SCANS_IN_FLIGHT_PER_ORG``).

Every organization's scans share the ``scans`` queue. The creation rate limit counts per principal,
and a user may hold many API keys and an organization many users, so without this bound one
organization could fill the queue and every other organization's scans would wait behind it.

``POST /scans`` is a hot path, so its check takes no lock: the count is a condition of the scan's
``INSERT`` (``admitting_insert``), in the statement the request makes anyway. Two statements of one
organization running at the same moment do not see each other's row, so the limit may be passed by at
most the number of such statements running at once, itself bounded by the database connections of the
API processes (``DB_POOL_SIZE`` + ``DB_POOL_OVERFLOW`` per process). A lock on the organization's row
would make the bound exact but would serialize every scan creation of one organization (the benchmark's
32 connections are one organization's).
"""

from __future__ import annotations

from sqlalchemy import Insert, Table, bindparam, exists, func, literal_column, select
from sqlalchemy.orm import Session

from common.config import get_settings
from common.db import typed_bindparams
from common.jobs import ACTIVE_STATUSES, JobStatus
from common.models import Scan
from common.org_slots import Share

SETTING = "SCANS_IN_FLIGHT_PER_ORG"
RETRY_AFTER_SECONDS = 30  # a small scan ends in seconds; a slot is likely free again by then
LIMIT_PARAMETER = "scans_in_flight_limit"


# Written out, not bound: a prepared statement's generic plan can use the partial index
# ``ix_scans_org_in_flight`` only when its condition is this very one.
IS_IN_FLIGHT = Scan.status.in_([literal_column(f"'{status}'") for status in ACTIVE_STATUSES])


def _in_flight(organization_id, limit):
    """The organization's active scans, counted up to ``limit`` (the count stops there: an organization
    with a long backlog costs no more than one at its limit). Uses ``ix_scans_org_in_flight``."""
    active = (
        select(literal_column("1"))
        .where(Scan.organization_id == organization_id, IS_IN_FLIGHT)
        .limit(limit)
        .subquery()
    )
    return select(func.count()).select_from(active)


def scans_in_flight(session: Session, organization_id: str, limit: int) -> int:
    """How many scans the organization has queued or running, counted up to ``limit``."""
    return session.scalar(_in_flight(organization_id, limit))


def admits_another(session: Session, organization_id: str, limit: int) -> bool:
    return scans_in_flight(session, organization_id, limit) < limit


def admitting_insert(table: Table, columns: tuple[str, ...], prefix: str) -> Insert:
    """``INSERT INTO table (columns) SELECT :prefix<column>… WHERE`` the organization named by
    ``:<prefix>organization_id`` has fewer than ``:scans_in_flight_limit`` scans in flight: no row
    (rowcount 0) once it has that many."""
    values = typed_bindparams(table, columns, prefix)
    limit = bindparam(LIMIT_PARAMETER)
    below_limit = _in_flight(bindparam(prefix + "organization_id"), limit).scalar_subquery() < limit
    insert = table.insert().from_select(list(columns), select(*values).where(below_limit))
    return insert.execution_options(preserve_rowcount=True)  # an INSERT's rowcount is not kept otherwise


def refusal_message(limit: int) -> str:
    return (
        f"This organization already has {limit} scans queued or running, the limit ({SETTING}); "
        "ask again once one of them has finished."
    )


def others_want_a_turn(session: Session, organization_id: str, creator_id: str | None) -> bool:
    """Whether someone else has a scan queued (its own turn awaited included) or running: a scan of another
    organization, made by another creator (one person's scans in their several organizations are theirs,
    not someone else's). One EXISTS, answered from ``scans.status``'s index, which reads the in-flight
    scans only."""
    someone_else = Scan.organization_id != organization_id
    if creator_id is not None:
        someone_else &= Scan.created_by.is_distinct_from(creator_id)
    in_flight = exists().where(someone_else, Scan.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)))
    return bool(session.scalar(select(in_flight)))


def take_a_turn(
    session: Session, share: Share, organization_id: str, person_id: str | None, lease_seconds: float
) -> bool:
    """Whether the work may run now: within its share (``SCANS_RUNNING_PER_ORG`` per organization and
    per person), or past it while nobody else's scan waits or runs, so a lone tenant uses every worker."""
    cap = get_settings().scans_running_per_org
    if share.take(organization_id, person_id, cap, lease_seconds):
        return True
    return not others_want_a_turn(session, organization_id, person_id) and share.take(
        organization_id, person_id, None, lease_seconds
    )
