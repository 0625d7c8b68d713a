"""The dashboard's counting, shared by the view (``web/api/dashboard.py``) and ``dashboard.roll_up``.

An organization's current state is a function of one set: the latest completed scan of each target
(``Scan.target_key``), whose rollups never change once written. PostgreSQL keeps that state per
organization (``dashboard_summaries``) with the key of the set it was computed from; the view uses the
row only while that key is still the key of the set as it is now, and otherwise counts it live in the
same statement, so a completed, deleted or re-scanned target shows on the very next view. ``roll_up``
rewrites the row after each completion; deleting a completed scan deletes the row, and
``dashboard.reconcile`` writes it again (and makes good a lost ``roll_up``): recomputed, never
incremented, so running either twice leaves the same row.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from itertools import chain

from sqlalchemy import (
    CTE,
    Connection,
    Date,
    DateTime,
    Integer,
    Select,
    Text,
    bindparam,
    cast,
    delete,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import aggregate_order_by

from common.dashboard_cache import WRITES_ORGANIZATION
from common.jobs import JobStatus
from common.models import Organization, Scan
from common.models.scans import DashboardSummary, ScanRollup
from common.rollups import TOTAL, has_rollups, rollup_rows
from common.scanner.model import SEVERITIES

TOP_N = 10
TOP_KINDS = {"top_providers": "provider", "top_models": "model"}

# Every statement is built once, with these bound at execution.
ORGANIZATION = bindparam("organization_id")
FIRST_DAY = bindparam("first_day", type_=Date)
PER_REQUEST = {ORGANIZATION.key, FIRST_DAY.key}


def utc_day(column, dialect: str):
    if dialect == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


@dataclass(frozen=True)
class Counted:
    """What the dashboard counts, for one dialect: the latest completed scan of each target and their
    rollup rows; the completed scans of the trend's days and their totals. A scan not rolled up yet is
    counted from its components (``rollup_rows``), with the same numbers."""

    latest: CTE  # scan_id
    current_rollups: CTE  # ROLLUP_COLUMNS of the latest scans
    trend_totals: CTE  # day, components, highest_risk_score: one row per completed scan of the trend


def _latest() -> CTE:
    """Ranked in the order of ``ix_scans_completed_by_target``: a large organization's completed scans are
    read off it already sorted (PostgreSQL sorts a few hundred rows itself)."""
    position = func.row_number().over(
        partition_by=Scan.target_key, order_by=(Scan.finished_at.desc(), Scan.id.desc())
    )
    ranked = (
        select(Scan.id.label("scan_id"), position.label("position"))
        .where(Scan.organization_id == ORGANIZATION, Scan.status == JobStatus.COMPLETED)
        .subquery("ranked_scans")
    )
    return select(ranked.c.scan_id).where(ranked.c.position == 1).cte("latest_scans")


def _trend_scans(dialect: str) -> CTE:
    """The completed scans that finished on the trend's days. On PostgreSQL the first day's midnight UTC is
    compared with ``finished_at`` itself, so ``ix_scans_completed_by_finish`` can bound the range."""
    if dialect == "postgresql":
        since = Scan.finished_at >= func.timezone("UTC", cast(FIRST_DAY, DateTime))
    else:
        since = utc_day(Scan.finished_at, dialect) >= FIRST_DAY
    return (
        select(Scan.id.label("scan_id"), utc_day(Scan.finished_at, dialect).label("day"))
        .where(Scan.organization_id == ORGANIZATION, Scan.status == JobStatus.COMPLETED, since)
        .cte("trend_scans")
    )


def _written_or_counted(scans: CTE, name: str, *, totals_only: bool) -> CTE:
    """The rollup rows of ``scans`` (only their totals, if asked): those written, and those of a scan not
    rolled up yet counted from its components."""
    not_rolled_up = select(scans.c.scan_id).where(~has_rollups(scans.c.scan_id)).cte(f"{name}_not_rolled_up")
    written = select(
        ScanRollup.scan_id,
        ScanRollup.kind,
        ScanRollup.name,
        ScanRollup.components,
        ScanRollup.highest_risk_score,
    ).join(scans, ScanRollup.scan_id == scans.c.scan_id)
    counted_rows = rollup_rows(not_rolled_up)
    if totals_only:
        written, counted_rows = written.where(ScanRollup.kind == TOTAL), counted_rows[:1]  # totals come first
    return union_all(written, *counted_rows).cte(name)


@functools.cache
def counted(dialect: str) -> Counted:
    latest = _latest()
    trend_scans = _trend_scans(dialect)
    totals = _written_or_counted(trend_scans, "trend_rollups", totals_only=True)
    trend_totals = (
        select(trend_scans.c.day, totals.c.components, totals.c.highest_risk_score)
        .join(totals, totals.c.scan_id == trend_scans.c.scan_id)
        .cte("trend_totals")
    )
    return Counted(
        latest=latest,
        current_rollups=_written_or_counted(latest, "current_rollups", totals_only=False),
        trend_totals=trend_totals,
    )


@functools.cache
def current_state(dialect: str) -> Select:
    """Per kind and name, the latest scans' components and how many of those scans (targets) have them:
    every total and severity, and the first ``TOP_N`` providers and models.

    Names are grouped and ranked by their bytes (PostgreSQL's "C" collation, SQLite's default), so both
    dialects break ties alike, and PostgreSQL sorts the hundreds of model names of a large scan with
    plain comparisons instead of the locale's."""
    rollups = counted(dialect).current_rollups
    name = rollups.c.name.collate("C") if dialect == "postgresql" else rollups.c.name
    summed = (
        select(
            rollups.c.kind,
            name.label("name"),
            cast(func.sum(rollups.c.components), Integer).label("components"),
            func.count().label("targets"),
        )
        .group_by(rollups.c.kind, name)
        .subquery("summed")
    )
    rank = func.row_number().over(
        partition_by=summed.c.kind, order_by=(summed.c.components.desc(), summed.c.name)
    )
    ranked = select(summed, rank.label("rank")).subquery("ranked")
    return (
        select(ranked.c.kind, ranked.c.name, ranked.c.components, ranked.c.targets, ranked.c.rank)
        .where(or_(ranked.c.kind == TOTAL, ranked.c.kind == "severity", ranked.c.rank <= TOP_N))
        .order_by(ranked.c.kind, ranked.c.rank)
    )


@functools.cache
def trend(dialect: str) -> Select:
    """Day, scans, components, highest risk score: the trend's days that had completed scans."""
    totals = counted(dialect).trend_totals
    return select(
        totals.c.day,
        func.count().label("scans"),
        cast(func.coalesce(func.sum(totals.c.components), 0), Integer).label("components"),
        func.max(totals.c.highest_risk_score).label("highest_risk_score"),
    ).group_by(totals.c.day)


# PostgreSQL: the current state as JSON, kept per organization and read back as it was written.

EMPTY_LIST = literal_column("'[]'::json")


def _key(name: str):
    """A JSON key, as a constant of the statement (the names are ours, never input)."""
    return literal_column(f"'{name}'")


def json_object(fields: dict):
    return func.json_build_object(*chain.from_iterable((_key(name), value) for name, value in fields.items()))


def json_list(element, *order_by):
    return func.coalesce(func.json_agg(aggregate_order_by(element, *order_by)), EMPTY_LIST)


def json_field(document, name: str):
    return document.op("->")(_key(name))


def _current_json():
    """``targets``, ``severity_distribution``, ``top_providers`` and ``top_models`` as one JSON object,
    counted from the latest scans' rollups."""
    current = current_state("postgresql").cte("current_state")
    severities = json_object(
        {
            severity: func.coalesce(func.sum(current.c.components).filter(current.c.name == severity), 0)
            for severity in SEVERITIES
        }
    )
    tops = {
        key: select(
            json_list(
                json_object(
                    {"name": current.c.name, "components": current.c.components, "targets": current.c.targets}
                ),
                current.c.rank,
            )
        ).where(current.c.kind == kind)
        for key, kind in TOP_KINDS.items()
    }
    return json_object(
        {
            "targets": select(func.coalesce(func.max(current.c.targets), 0))
            .where(current.c.kind == TOTAL)
            .scalar_subquery(),
            "severity_distribution": select(severities).where(current.c.kind == "severity").scalar_subquery(),
            **{key: top.scalar_subquery() for key, top in tops.items()},
        }
    )


def _latest_key():
    """The key of the set of latest scans: the digest of their sorted ids (NULL for none)."""
    latest = counted("postgresql").latest
    ids = func.string_agg(latest.c.scan_id, aggregate_order_by(literal_column("','"), latest.c.scan_id))
    return select(func.md5(ids)).scalar_subquery()


def current_json():
    """The organization's current state as JSON: its summary row while that row's key is the key of the
    latest scans as they are now, else counted live. PostgreSQL evaluates a ``coalesce`` argument, and
    the sub-selects in it, only when the ones before it were NULL: a view with a valid summary never
    reads a rollup."""
    summary = select(cast(DashboardSummary.current, postgresql.JSON)).where(
        DashboardSummary.organization_id == ORGANIZATION, DashboardSummary.latest_scans == _latest_key()
    )
    return func.coalesce(summary.scalar_subquery(), _current_json())


def compiled_sql(dialect, statement, per_request: frozenset[str] | set[str] = PER_REQUEST) -> str:
    """The statement's SQL for the driver with its constants written in: only ``per_request`` values are
    bound, so nothing is compiled per execution.

    Each bound value is read through a sub-select, which the planner does not look into: every
    organization's plan is estimated alike, so PostgreSQL settles on the one generic plan of the
    prepared statement instead of planning it again for each view of a small organization (about three
    times the statement's execution)."""

    class Compiler(dialect.statement_compiler):
        def visit_bindparam(self, bindparam, literal_binds=False, **kwargs):
            if bindparam.key not in per_request:
                return super().visit_bindparam(bindparam, literal_binds=True, **kwargs)
            return f"(SELECT {super().visit_bindparam(bindparam, **kwargs)})"

    return Compiler(dialect, statement, compile_kwargs={"literal_binds": True}).string


def _has_completed_scans():
    return (
        select(Scan.id)
        .where(Scan.organization_id == ORGANIZATION, Scan.status == JobStatus.COMPLETED)
        .exists()
    )


@functools.cache
def _refresh_sql(dialect) -> str:
    """One statement: the row counted again, stamped with the transaction's time (``counted_at``), or
    deleted when no completed scan is left to count."""
    forgotten = (
        delete(DashboardSummary)
        .where(DashboardSummary.organization_id == ORGANIZATION, ~_has_completed_scans())
        .cte("forgotten")
    )
    insert = postgresql.insert(DashboardSummary.__table__).from_select(
        ["organization_id", "latest_scans", "current", "counted_at"],
        select(ORGANIZATION, _latest_key(), cast(_current_json(), Text), func.now()).where(
            _has_completed_scans()
        ),
    )
    upsert = insert.on_conflict_do_update(
        index_elements=["organization_id"],
        set_={
            "latest_scans": insert.excluded.latest_scans,
            "current": insert.excluded.current,
            "counted_at": insert.excluded.counted_at,
        },
    )
    return compiled_sql(dialect, upsert.add_cte(forgotten))


# Held by a refresh and by the deletion of completed scans (migration 0018's trigger), which so take turns:
# a refresh whose reads began before a deletion committed would write back the deleted scans' counts.
# ``NO KEY UPDATE`` leaves the organization's new rows (their foreign keys take ``KEY SHARE``) unblocked.
_LOCK_ORGANIZATION = (
    select(Organization.id)
    .where(Organization.id == bindparam("organization_id"))
    .with_for_update(key_share=True)
)


def refresh_summary(connection: Connection, organization_id: str) -> None:
    """Recompute the organization's summary row from its latest scans, or delete it when it has none left
    (PostgreSQL, whose one statement is the only reader; SQLite counts each view live)."""
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK_ORGANIZATION, {"organization_id": organization_id})
        connection.exec_driver_sql(
            _refresh_sql(connection.dialect),
            {"organization_id": organization_id},
            execution_options={WRITES_ORGANIZATION: organization_id},
        )


# A completion's ``finished_at`` is its worker's clock before its transaction commits, so a scan committed
# just after a summary was counted (and so not counted in it) can carry an earlier time. This margin covers
# that gap, and the hosts' clocks, many times over.
RECOUNT_MARGIN = timedelta(minutes=10)


def organizations_to_reconcile(connection: Connection) -> list[str]:
    """The organizations whose rollups or summary may be stale: with a completed scan and no summary row
    (never counted, or a completed scan deleted since: ``dashboard_summaries`` loses the row then), or with
    a scan completed since their row was counted (less ``RECOUNT_MARGIN``).

    Each organization's last completion is read off the end of ``ix_scans_completed_by_finish`` (one
    index entry): what ``dashboard.reconcile`` reads to find them grows with the organizations, not with
    their scans. SQLite keeps no summary rows: every organization with a completed scan."""
    last_completion = (
        select(func.max(Scan.finished_at))
        .where(Scan.organization_id == Organization.id, Scan.status == JobStatus.COMPLETED)
        .scalar_subquery()
    )
    if connection.dialect.name != "postgresql":
        return list(connection.scalars(select(Organization.id).where(last_completion.is_not(None))))
    since = func.coalesce(
        DashboardSummary.counted_at - RECOUNT_MARGIN, literal_column("'-infinity'::timestamptz")
    )
    statement = (
        select(Organization.id)
        .outerjoin(DashboardSummary, DashboardSummary.organization_id == Organization.id)
        .where(last_completion >= since)  # one sub-plan per organization, NULL (never) without a completion
    )
    return list(connection.scalars(statement))


def stale_summaries(connection: Connection, organization_ids: Collection[str]) -> list[str]:
    """Of these organizations, those with completed scans whose summary row is missing or was computed
    from another set of latest scans (one deleted, or completed since without its follow-up): PostgreSQL
    only."""
    if connection.dialect.name != "postgresql" or not organization_ids:
        return []
    position = func.row_number().over(
        partition_by=(Scan.organization_id, Scan.target_key),
        order_by=(Scan.finished_at.desc(), Scan.id.desc()),
    )
    ranked = (
        select(Scan.organization_id, Scan.id, position.label("position"))
        .where(Scan.status == JobStatus.COMPLETED, Scan.organization_id.in_(organization_ids))
        .subquery("ranked")
    )
    keys = (
        select(
            ranked.c.organization_id,
            func.md5(
                func.string_agg(ranked.c.id, aggregate_order_by(literal_column("','"), ranked.c.id))
            ).label("latest_scans"),
        )
        .where(ranked.c.position == 1)
        .group_by(ranked.c.organization_id)
        .subquery("keys")
    )
    stale = (
        select(keys.c.organization_id)
        .outerjoin(DashboardSummary, DashboardSummary.organization_id == keys.c.organization_id)
        .where(
            or_(
                DashboardSummary.organization_id.is_(None),
                DashboardSummary.latest_scans.is_distinct_from(keys.c.latest_scans),
            )
        )
    )
    return list(connection.scalars(stale))
