"""``/dashboard/overview``: the organization at a glance, every number a SQL aggregate.

"Current state" means the latest completed scan of each target (a path, or an n8n instance URL): the
severity distribution and the top providers and models are computed over those scans only, so
re-scanning a target does not double-count it.

The counts come from each scan's rollups (``common.rollups``), written after the scan completes by a
follow-up task; a completed scan without them yet is counted from its components in the same statement,
with the same numbers. A view only reads, and nothing is cached: each view sees the rows as they are.

On PostgreSQL the whole document is built by one statement (``json_build_object``) and its text is the
response body: no row, dict or JSON encoder in Python. Elsewhere (SQLite, ``make run``) the same selects
run one by one and Python assembles the same document.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import chain

from flask import Response
from flask_smorest import Blueprint
from sqlalchemy import (
    CTE,
    Connection,
    Date,
    DateTime,
    Integer,
    Numeric,
    Select,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from common.jobs import JobStatus
from common.models import Base, Scan
from common.models.base import utcnow
from common.models.scans import ScanRollup
from common.rollups import TOTAL, has_rollups, rollup_rows
from common.scanner.model import SEVERITIES
from web.api.scans import SCAN_WIRE_COLUMNS, SCAN_WIRE_FIELDS, scan_row_json
from web.core.access import access, context
from web.core.database import db
from web.core.openapi import DashboardSchema

blp = Blueprint("dashboard", __name__, url_prefix="/api/v1/dashboard", description="Dashboard")

RECENT_SCANS = 10
TREND_DAYS = 30
TOP_N = 10
TOP_KINDS = {"top_providers": "provider", "top_models": "model"}

# Every statement below is built once, with these bound at execution.
ORGANIZATION = bindparam("organization_id")
FIRST_DAY = bindparam("first_day", type_=Date)
PER_REQUEST = {ORGANIZATION.key, FIRST_DAY.key}


def _model(name: str):
    """A model another part of the platform may provide (alerts, policy evaluations), if it is there."""
    return next((m.class_ for m in Base.registry.mappers if m.class_.__name__ == name), None)


def _utc_day(column, dialect: str):
    if dialect == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


@dataclass(frozen=True)
class Selects:
    """The dashboard's selects for one dialect; each answers one part of the document."""

    recent_scans: Select
    scans_by_status: Select
    current_state: Select  # kind, name, components, targets, rank: totals, severities, top providers/models
    trend: Select  # day, scans, components, highest_risk_score: the trend's days that had completed scans
    open_alerts: Select | None  # None where the model is not installed
    policy_pass_rate: Select | None  # evaluations, passed


def _counted_scans(dialect: str) -> CTE:
    """The completed scans the dashboard counts, with their UTC day: the latest of each target
    (``position`` 1), and every one that finished within the trend's days."""
    target_key = func.coalesce(Scan.target, Scan.n8n_url)
    day = _utc_day(Scan.finished_at, dialect)
    completed = (
        select(
            Scan.id.label("scan_id"),
            day.label("day"),
            func.row_number()
            .over(partition_by=target_key, order_by=(Scan.finished_at.desc(), Scan.id.desc()))
            .label("position"),
        )
        .where(Scan.organization_id == ORGANIZATION, Scan.status == JobStatus.COMPLETED)
        .subquery("completed")
    )
    return (
        select(completed)
        .where(or_(completed.c.position == 1, completed.c.day >= FIRST_DAY))
        .cte("counted_scans")
    )


def _rollups_of(counted: CTE) -> CTE:
    """The rollup rows of the counted scans: those written, and those of a scan not rolled up yet
    counted from its components."""
    not_rolled_up = select(counted.c.scan_id).where(~has_rollups(counted.c.scan_id)).cte("not_rolled_up")
    written = select(
        ScanRollup.scan_id,
        ScanRollup.kind,
        ScanRollup.name,
        ScanRollup.components,
        ScanRollup.highest_risk_score,
    ).where(ScanRollup.scan_id.in_(select(counted.c.scan_id)))
    return union_all(written, *rollup_rows(not_rolled_up)).cte("rollups")


def _current_state(counted: CTE, rollups: CTE, dialect: str) -> Select:
    """Per kind and name, the latest scans' components and how many of those scans (targets) have them:
    every total and severity, and the first ``TOP_N`` providers and models.

    Names are grouped and ranked by their bytes (PostgreSQL's "C" collation, SQLite's default), so both
    dialects break ties alike, and PostgreSQL sorts the hundreds of model names of a large scan with
    plain comparisons instead of the locale's."""
    latest = select(counted.c.scan_id).where(counted.c.position == 1)
    name = rollups.c.name.collate("C") if dialect == "postgresql" else rollups.c.name
    summed = (
        select(
            rollups.c.kind,
            name.label("name"),
            cast(func.sum(rollups.c.components), Integer).label("components"),
            func.count().label("targets"),
        )
        .where(rollups.c.scan_id.in_(latest))
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


def _trend(counted: CTE, rollups: CTE) -> Select:
    return (
        select(
            counted.c.day,
            func.count().label("scans"),
            cast(func.coalesce(func.sum(rollups.c.components), 0), Integer).label("components"),
            func.max(rollups.c.highest_risk_score).label("highest_risk_score"),
        )
        .select_from(counted)
        .join(rollups, and_(rollups.c.scan_id == counted.c.scan_id, rollups.c.kind == TOTAL))
        .where(counted.c.day >= FIRST_DAY)
        .group_by(counted.c.day)
    )


def _policy_pass_rate(counted: CTE) -> Select | None:
    evaluation = _model("PolicyEvaluation")
    if evaluation is None or not hasattr(evaluation, "passed") or not hasattr(evaluation, "scan_id"):
        return None
    passed = func.coalesce(func.sum(case((evaluation.passed.is_(True), 1), else_=0)), 0)
    latest = select(counted.c.scan_id).where(counted.c.position == 1)
    return select(func.count().label("evaluations"), passed.label("passed")).where(
        evaluation.scan_id.in_(latest)
    )


def _open_alerts() -> Select | None:
    alert = _model("Alert")
    if alert is None:
        return None
    return select(func.count()).where(alert.organization_id == ORGANIZATION, alert.status == "open")


@functools.cache
def selects(dialect: str) -> Selects:
    counted = _counted_scans(dialect)
    rollups = _rollups_of(counted)
    return Selects(
        recent_scans=select(*SCAN_WIRE_COLUMNS)
        .where(Scan.organization_id == ORGANIZATION)
        .order_by(Scan.created_at.desc(), Scan.id)
        .limit(RECENT_SCANS),
        scans_by_status=select(Scan.status, func.count().label("scans"))
        .where(Scan.organization_id == ORGANIZATION)
        .group_by(Scan.status),
        current_state=_current_state(counted, rollups, dialect),
        trend=_trend(counted, rollups),
        open_alerts=_open_alerts(),
        policy_pass_rate=_policy_pass_rate(counted),
    )


def _parameters(organization_id: str, today: date) -> dict:
    return {"organization_id": organization_id, "first_day": today - timedelta(days=TREND_DAYS - 1)}


def _trend_days(first_day: date) -> list[date]:
    return [first_day + timedelta(days=offset) for offset in range(TREND_DAYS)]


def _rate(passed: int, evaluations: int) -> float | None:
    """``passed / evaluations`` to four places, halves rounded up, as PostgreSQL's ``round`` does."""
    if not evaluations:
        return None
    return float((Decimal(passed) / Decimal(evaluations)).quantize(Decimal("0.0001"), ROUND_HALF_UP))


def document(connection: Connection, organization_id: str, today: date) -> dict:
    """The overview, statement by statement (any dialect)."""
    statements = selects(connection.dialect.name)
    parameters = _parameters(organization_id, today)

    def run(statement):
        return connection.execute(statement, parameters)

    rows = run(statements.current_state).all()
    severities = {row.name: row.components for row in rows if row.kind == "severity"}
    by_day = {str(row.day): row for row in run(statements.trend)}
    trend = []
    for day in _trend_days(parameters["first_day"]):
        counted = by_day.get(day.isoformat())
        trend.append(
            {
                "date": day.isoformat(),
                "scans": counted.scans if counted else 0,
                "components": counted.components if counted else 0,
                "highest_risk_score": counted.highest_risk_score if counted else None,
            }
        )
    policy_pass_rate = None
    if statements.policy_pass_rate is not None:
        evaluations, passed = run(statements.policy_pass_rate).one()
        policy_pass_rate = {"evaluations": evaluations, "passed": passed, "rate": _rate(passed, evaluations)}
    return {
        "recent_scans": [scan_row_json(row) for row in run(statements.recent_scans)],
        "scans_by_status": dict(run(statements.scans_by_status).all()),
        "targets": next((row.targets for row in rows if row.kind == TOTAL), 0),
        "severity_distribution": {severity: severities.get(severity, 0) for severity in SEVERITIES},
        **{
            key: [
                {"name": row.name, "components": row.components, "targets": row.targets}
                for row in rows
                if row.kind == kind
            ]
            for key, kind in TOP_KINDS.items()
        },
        "trend": trend,
        "open_alerts": None if statements.open_alerts is None else run(statements.open_alerts).scalar(),
        "policy_pass_rate": policy_pass_rate,
    }


# PostgreSQL: the document as JSON text, in one statement over the same selects.

ISO_UTC_MILLISECONDS = literal_column("""'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'""")  # models.base.isoformat
EMPTY_LIST = literal_column("'[]'::json")


def _key(name: str):
    """A JSON key, as a constant of the statement (the names are ours, never input)."""
    return literal_column(f"'{name}'")


def _json_object(fields: dict):
    return func.json_build_object(*chain.from_iterable((_key(name), value) for name, value in fields.items()))


def _json_list(element, *order_by):
    return func.coalesce(func.json_agg(aggregate_order_by(element, *order_by)), EMPTY_LIST)


def _scan_json():
    """``scan_row_json`` in SQL: the wire fields, timestamps in ``isoformat``'s form, no warnings as []."""

    def wire(name: str, column):
        if isinstance(column.type, DateTime):
            return func.to_char(func.timezone("UTC", column), ISO_UTC_MILLISECONDS)
        if name == "warnings":
            return func.coalesce(column, literal_column("'[]'::jsonb"))
        return column

    return _json_object({name: wire(name, getattr(Scan, field)) for name, field in SCAN_WIRE_FIELDS.items()})


def _document_select() -> Select:
    statements = selects("postgresql")
    recent = statements.recent_scans.with_only_columns(
        _scan_json().label("scan"), Scan.created_at, Scan.id
    ).subquery("recent")
    by_status = statements.scans_by_status.subquery("by_status")
    current = statements.current_state.cte("current_state")
    trend = statements.trend.subquery("trend")
    days = func.generate_series(0, TREND_DAYS - 1).table_valued("day_offset").render_derived(name="days")
    day = FIRST_DAY + days.c.day_offset
    severities = _json_object(
        {
            severity: func.coalesce(func.sum(current.c.components).filter(current.c.name == severity), 0)
            for severity in SEVERITIES
        }
    )
    tops = {
        key: select(
            _json_list(
                _json_object(
                    {"name": current.c.name, "components": current.c.components, "targets": current.c.targets}
                ),
                current.c.rank,
            )
        ).where(current.c.kind == kind)
        for key, kind in TOP_KINDS.items()
    }
    trend_days = (
        select(
            _json_list(
                _json_object(
                    {
                        "date": func.to_char(day, literal_column("'YYYY-MM-DD'")),
                        "scans": func.coalesce(trend.c.scans, 0),
                        "components": func.coalesce(trend.c.components, 0),
                        "highest_risk_score": trend.c.highest_risk_score,
                    }
                ),
                days.c.day_offset,
            )
        )
        .select_from(days)
        .outerjoin(trend, trend.c.day == day)
    )
    policy = null()
    if statements.policy_pass_rate is not None:
        rates = statements.policy_pass_rate.subquery("rates")
        rate = func.round(cast(rates.c.passed, Numeric) / rates.c.evaluations, 4)
        policy = select(
            _json_object(
                {
                    "evaluations": rates.c.evaluations,
                    "passed": rates.c.passed,
                    "rate": case((rates.c.evaluations > 0, rate), else_=null()),
                }
            )
        ).scalar_subquery()
    open_alerts = null() if statements.open_alerts is None else statements.open_alerts.scalar_subquery()
    overview = _json_object(
        {
            "recent_scans": select(_json_list(recent.c.scan, recent.c.created_at.desc(), recent.c.id))
            .select_from(recent)
            .scalar_subquery(),
            "scans_by_status": select(
                func.coalesce(
                    func.json_object_agg(by_status.c.status, by_status.c.scans), literal_column("'{}'::json")
                )
            ).scalar_subquery(),
            "targets": select(func.coalesce(func.max(current.c.targets), 0))
            .where(current.c.kind == TOTAL)
            .scalar_subquery(),
            "severity_distribution": select(severities).where(current.c.kind == "severity").scalar_subquery(),
            **{key: top.scalar_subquery() for key, top in tops.items()},
            "trend": trend_days.scalar_subquery(),
            "open_alerts": open_alerts,
            "policy_pass_rate": policy,
        }
    )
    return select(cast(overview, Text))


@functools.cache
def _document_sql(dialect) -> str:
    """The statement's SQL for the driver, compiled once and executed as is: no SQLAlchemy compilation or
    cache-key walk per request. Its constants are written into it, so the two parameters bound per
    request are all the driver sends and all PostgreSQL's cached plan leaves open."""

    class Compiler(dialect.statement_compiler):
        def visit_bindparam(self, bindparam, literal_binds=False, **kwargs):
            constant = bindparam.key not in PER_REQUEST
            return super().visit_bindparam(bindparam, literal_binds=constant, **kwargs)

    return Compiler(dialect, _document_select(), compile_kwargs={"literal_binds": True}).string


def document_json(connection: Connection, organization_id: str, today: date) -> str:
    """The overview as JSON text, in one statement (PostgreSQL)."""
    sql = _document_sql(connection.dialect)
    return connection.exec_driver_sql(sql, _parameters(organization_id, today)).scalar()


@blp.route("/overview", methods=["GET"])
@blp.alt_response(200, schema=DashboardSchema, success=True)
@access("viewer")
def overview():
    connection = db().connection()
    organization_id, today = context().organization_id, utcnow().date()
    if connection.dialect.name == "postgresql":
        return Response(document_json(connection, organization_id, today), mimetype="application/json")
    return document(connection, organization_id, today)
