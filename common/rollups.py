"""A completed scan's components counted once, per severity, provider and model name, plus its total
(``scan_rollups``, read by ``GET /dashboard/overview``).

The rows are written after the scan completes, by the ``dashboard.roll_up`` follow-up of
``scan.completed`` (``workers/dashboard.py``), never by a dashboard view. The same row definitions
serve the dashboard's fallback: a completed scan without rollups yet (the follow-up not run, or lost)
is counted from its components in the dashboard's statement itself, with the same result.
"""

from __future__ import annotations

import functools
from collections.abc import Collection

from sqlalchemy import Connection, Select, bindparam, func, literal, select, union_all
from sqlalchemy.dialects import postgresql, sqlite

from common.dashboard_cache import WRITES_ORGANIZATION
from common.jobs import JobStatus
from common.models import Component, Scan
from common.models.scans import ScanRollup

ROLLUP_COLUMNS = ("scan_id", "kind", "name", "components", "highest_risk_score")
TOTAL = "total"  # the kind of a scan's one row of all its components (name ``""``)


def rollup_rows(scan_ids) -> list[Select]:
    """The rollup rows, in ``ROLLUP_COLUMNS`` order, of the scans a one-column ``scan_id`` selectable
    holds: their ``total`` (a scan without components included), severities, providers and models."""

    def counted(kind: str, key, *conditions) -> Select:
        return (
            select(Component.scan_id, literal(kind), key, func.count(), func.max(Component.risk_score))
            .where(Component.scan_id.in_(select(scan_ids.c.scan_id)), key.is_not(None), *conditions)
            .group_by(Component.scan_id, key)
        )

    totals = (
        select(
            scan_ids.c.scan_id,
            literal(TOTAL),
            literal(""),
            func.count(Component.id),
            func.max(Component.risk_score),
        )
        .select_from(scan_ids)
        .outerjoin(Component, Component.scan_id == scan_ids.c.scan_id)
        .group_by(scan_ids.c.scan_id)
    )
    return [
        totals,
        counted("severity", Component.severity),
        counted("provider", Component.provider),
        counted("model", Component.name, Component.type == "model"),
    ]


def has_rollups(scan_id_column):
    """Whether the scan of that column was rolled up: its rows are written in one statement, so its
    ``total`` row stands for all of them."""
    return (
        select(ScanRollup.scan_id)
        .where(ScanRollup.scan_id == scan_id_column, ScanRollup.kind == TOTAL)
        .exists()
    )


@functools.cache
def _roll_up_statement(dialect: str):
    pending = (
        select(Scan.id.label("scan_id"))
        .where(
            Scan.organization_id == bindparam("organization_id"),
            Scan.status == JobStatus.COMPLETED,
            ~has_rollups(Scan.id),
        )
        .subquery("pending")  # not a CTE: SQLite's driver counts the rows of no statement opening with WITH
    )
    # Two roll-ups of the same new scan at once (two scans of the organization completing together):
    # the second one's rows are already there.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = union_all(*rollup_rows(pending))
    statement = insert(ScanRollup.__table__).from_select(ROLLUP_COLUMNS, rows).on_conflict_do_nothing()
    return statement.execution_options(preserve_rowcount=True)  # an INSERT's count is not kept otherwise


def organizations_missing_rollups(connection: Connection, organization_ids: Collection[str]) -> list[str]:
    """Of these organizations, those with a completed scan that has no rollups (its follow-up lost, or not
    run yet)."""
    if not organization_ids:
        return []
    missing = select(Scan.organization_id).where(
        Scan.organization_id.in_(organization_ids), Scan.status == JobStatus.COMPLETED, ~has_rollups(Scan.id)
    )
    return list(connection.scalars(missing.distinct()))


def roll_up_organization(connection: Connection, organization_id: str) -> int:
    """Write the rollups of the organization's completed scans that have none yet; the rows written.

    Every scan of the organization, not only the one that just completed: a follow-up that was lost
    is made good by the next one."""
    statement = _roll_up_statement(connection.dialect.name)
    options = {WRITES_ORGANIZATION: organization_id}
    return connection.execute(
        statement, {"organization_id": organization_id}, execution_options=options
    ).rowcount
