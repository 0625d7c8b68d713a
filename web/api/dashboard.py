"""``/dashboard/overview``: the organization at a glance, every number a SQL aggregate.

"Current state" means the latest completed scan of each target (a path, or an n8n
instance URL): the severity distribution and the top providers and models are
computed over those scans only, so re-scanning a target does not double-count it.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta

from flask_smorest import Blueprint
from sqlalchemy import (
    CompoundSelect,
    Date,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from common.jobs import JobStatus
from common.models import Base, Component, Scan
from common.models.base import utcnow
from common.models.scans import ScanRollup
from common.scanner.model import SEVERITIES
from web.api.scans import SCAN_WIRE_COLUMNS, scan_row_json
from web.core.access import access, context
from web.core.database import db
from web.core.openapi import DashboardSchema

blp = Blueprint("dashboard", __name__, url_prefix="/api/v1/dashboard", description="Dashboard")

RECENT_SCANS = 10
TREND_DAYS = 30
TOP_N = 10


ORGANIZATION = bindparam("organization_id")  # every statement below is built once, bound at execution


def _model(name: str):
    """A model another part of the platform may provide (alerts, policy evaluations), if it is there."""
    return next((m.class_ for m in Base.registry.mappers if m.class_.__name__ == name), None)


def _dialect() -> str:
    return db().get_bind().dialect.name


def _utc_day(column, dialect: str):
    if dialect == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def _latest_scan_per_target() -> Select:
    """Ids of the newest completed scan of every target."""
    target_key = func.coalesce(Scan.target, Scan.n8n_url)
    ranked = (
        select(
            Scan.id.label("scan_id"),
            func.row_number()
            .over(partition_by=target_key, order_by=(Scan.finished_at.desc(), Scan.id.desc()))
            .label("position"),
        )
        .where(Scan.organization_id == ORGANIZATION, Scan.status == JobStatus.COMPLETED)
        .subquery()
    )
    return select(ranked.c.scan_id).where(ranked.c.position == 1)


LATEST = _latest_scan_per_target()
RECENT_SCANS_STATEMENT = (
    select(*SCAN_WIRE_COLUMNS)
    .where(Scan.organization_id == ORGANIZATION)
    .order_by(Scan.created_at.desc(), Scan.id)
    .limit(RECENT_SCANS)
)
SCANS_BY_STATUS = (
    select(Scan.status, func.count()).where(Scan.organization_id == ORGANIZATION).group_by(Scan.status)
)


def _execute(statement, **params):
    return db().connection().execute(statement, {"organization_id": context().organization_id, **params})


def _recent_scans() -> list[dict]:
    return [scan_row_json(row) for row in _execute(RECENT_SCANS_STATEMENT)]


def _scans_by_status() -> dict:
    return dict(_execute(SCANS_BY_STATUS).all())


def _roll_up_new_scans() -> None:
    """Write the rollups of the organization's completed scans that have none yet (once per scan)."""
    try:
        if _execute(_roll_up_statement(_dialect())).rowcount:
            db().commit()
    except IntegrityError:  # a scan deleted meanwhile: this view goes on, the next one rolls up the rest
        db().rollback()


@functools.cache
def _roll_up_statement(dialect: str):
    pending = (
        select(Scan.id)
        .where(
            Scan.organization_id == ORGANIZATION,
            Scan.status == JobStatus.COMPLETED,
            ~select(ScanRollup.scan_id)
            .where(ScanRollup.scan_id == Scan.id, ScanRollup.kind == "total")
            .exists(),
        )
        .cte("pending")
    )
    columns = ("scan_id", "kind", "name", "components", "highest_risk_score")
    # Two dashboards rolling up the same new scan at once: the second one's rows are already there.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(ScanRollup.__table__).from_select(columns, _rollup_rows(pending)).on_conflict_do_nothing()


def _rollup_rows(pending) -> CompoundSelect:
    def counted(kind: str, key, *conditions) -> Select:
        return (
            select(Component.scan_id, literal(kind), key, func.count(), func.max(Component.risk_score))
            .where(Component.scan_id.in_(select(pending.c.id)), key.is_not(None), *conditions)
            .group_by(Component.scan_id, key)
        )

    totals = (
        select(
            pending.c.id,
            literal("total"),
            literal(""),
            func.count(Component.id),
            func.max(Component.risk_score),
        )
        .select_from(pending)
        .outerjoin(Component, Component.scan_id == pending.c.id)
        .group_by(pending.c.id)
    )
    return union_all(
        totals,
        counted("severity", Component.severity),
        counted("provider", Component.provider),
        counted("model", Component.name, Component.type == "model"),
    )


def _current_state_statement() -> Select:
    """Per kind and name, the latest scans' components and how many of those scans (targets) have them:
    every total and severity, and the first ``TOP_N`` providers and models."""
    components = func.sum(ScanRollup.components)
    summed = (
        select(
            ScanRollup.kind, ScanRollup.name, components.label("components"), func.count().label("targets")
        )
        .where(ScanRollup.scan_id.in_(LATEST))
        .group_by(ScanRollup.kind, ScanRollup.name)
        .subquery()
    )
    rank = func.row_number().over(
        partition_by=summed.c.kind, order_by=(summed.c.components.desc(), summed.c.name)
    )
    ranked = select(summed, rank.label("rank")).subquery()
    return (
        select(ranked.c.kind, ranked.c.name, ranked.c.components, ranked.c.targets)
        .where(or_(ranked.c.kind.in_(("total", "severity")), ranked.c.rank <= TOP_N))
        .order_by(ranked.c.kind, ranked.c.rank)
    )


CURRENT_STATE = _current_state_statement()


def _current_state() -> dict:
    """Targets, severity distribution and top providers and models of the latest scans, from their rollups."""
    rows = _execute(CURRENT_STATE).all()
    severities = {name: count for kind, name, count, _targets in rows if kind == "severity"}
    return {
        "targets": next((targets for kind, _name, _count, targets in rows if kind == "total"), 0),
        "severity_distribution": {severity: severities.get(severity, 0) for severity in SEVERITIES},
        "top_providers": _top(rows, "provider"),
        "top_models": _top(rows, "model"),
    }


def _top(rows: list, kind: str) -> list[dict]:
    return [
        {"name": name, "components": count, "targets": targets}
        for row_kind, name, count, targets in rows
        if row_kind == kind
    ]


@functools.cache
def _trend_statement(dialect: str) -> Select:
    day = _utc_day(Scan.finished_at, dialect)
    return (
        select(
            day.label("day"),
            func.count(Scan.id),
            func.coalesce(func.sum(ScanRollup.components), 0),
            func.max(ScanRollup.highest_risk_score),
        )
        .select_from(Scan)
        .join(ScanRollup, and_(ScanRollup.scan_id == Scan.id, ScanRollup.kind == "total"))
        .where(
            Scan.organization_id == ORGANIZATION,
            Scan.status == JobStatus.COMPLETED,
            day >= bindparam("first_day"),
        )
        .group_by(day)
    )


def _trend(today: date) -> list[dict]:
    """Per UTC day: completed scans, the components they found, and the highest risk among them."""
    first_day = today - timedelta(days=TREND_DAYS - 1)
    rows = _execute(_trend_statement(_dialect()), first_day=first_day)
    by_day = {str(row[0]): row[1:] for row in rows}
    trend = []
    for offset in range(TREND_DAYS):
        key = (first_day + timedelta(days=offset)).isoformat()
        scans, components, highest = by_day.get(key, (0, 0, None))
        trend.append({"date": key, "scans": scans, "components": components, "highest_risk_score": highest})
    return trend


@functools.cache
def _open_alerts_statement() -> Select | None:
    alert = _model("Alert")
    if alert is None:
        return None
    return select(func.count()).where(alert.organization_id == ORGANIZATION, alert.status == "open")


def _open_alerts() -> int | None:
    statement = _open_alerts_statement()
    return None if statement is None else _execute(statement).scalar()


@functools.cache
def _policy_pass_rate_statement() -> Select | None:
    evaluation = _model("PolicyEvaluation")
    if evaluation is None or not hasattr(evaluation, "passed") or not hasattr(evaluation, "scan_id"):
        return None
    passed = func.coalesce(func.sum(case((evaluation.passed.is_(True), 1), else_=0)), 0)
    return select(func.count(), passed).where(evaluation.scan_id.in_(LATEST))


def _policy_pass_rate() -> dict | None:
    """Share of passed policy evaluations over the latest scan of each target."""
    statement = _policy_pass_rate_statement()
    if statement is None:
        return None
    total, passed = _execute(statement).one()
    return {"evaluations": total, "passed": passed, "rate": round(passed / total, 4) if total else None}


@blp.route("/overview", methods=["GET"])
@blp.alt_response(200, schema=DashboardSchema, success=True)
@access("viewer")
def overview():
    _roll_up_new_scans()
    return {
        "recent_scans": _recent_scans(),
        "scans_by_status": _scans_by_status(),
        **_current_state(),
        "trend": _trend(utcnow().date()),
        "open_alerts": _open_alerts(),
        "policy_pass_rate": _policy_pass_rate(),
    }
