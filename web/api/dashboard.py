"""``/dashboard/overview``: the organization at a glance, every number a SQL aggregate.

"Current state" means the latest completed scan of each target (``Scan.target_key``: a path, an n8n
instance, a repository at a ref, an upload by the repository and branch it names): the severity
distribution and the top providers and models are computed over those scans only, so re-scanning a
target does not double-count it (``common.dashboard``).

The counts come from each scan's rollups (``common.rollups``), written after the scan completes by a
follow-up task; a completed scan without them yet is counted from its components in the same statement,
with the same numbers. A view only reads, and nothing it shows lags: on PostgreSQL the current state
comes from the organization's summary row only while that row was counted from the latest scans as they
are now.

On PostgreSQL the whole document is built by one statement (``json_build_object``) and its text is the
response body: no row, dict or JSON encoder in Python. Elsewhere (SQLite, ``make run``) the same selects
run one by one and Python assembles the same document.

The document's text is kept in Redis per organization until a write it could show commits
(``common.dashboard_cache``): repeated views of an unchanged organization read no database at all.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import Response, current_app
from flask_smorest import Blueprint
from sqlalchemy import (
    Connection,
    Numeric,
    Select,
    Text,
    case,
    cast,
    func,
    literal_column,
    null,
    select,
)

from common import dashboard_cache
from common.dashboard import (
    FIRST_DAY,
    ORGANIZATION,
    TOP_KINDS,
    compiled_sql,
    counted,
    current_json,
    current_state,
    json_field,
    json_list,
    json_object,
    trend,
)
from common.db import PLAIN_READ
from common.models import Base, Scan
from common.models.base import utcnow
from common.rollups import TOTAL
from common.scanner.model import SEVERITIES
from web.api.scans import SCAN_WIRE_COLUMNS, scan_row_json, scan_wire_json
from web.core.access import access, context
from web.core.database import db, dialect, plain_read
from web.core.openapi import DashboardSchema

blp = Blueprint("dashboard", __name__, url_prefix="/api/v1/dashboard", description="Dashboard")

RECENT_SCANS = 10
TREND_DAYS = 30


def _model(name: str):
    """A model another part of the platform may provide (alerts, policy evaluations), if it is there."""
    return next((m.class_ for m in Base.registry.mappers if m.class_.__name__ == name), None)


@dataclass(frozen=True)
class Selects:
    """The dashboard's selects for one dialect; each answers one part of the document."""

    recent_scans: Select
    scans_by_status: Select
    current_state: Select  # kind, name, components, targets, rank: totals, severities, top providers/models
    trend: Select  # day, scans, components, highest_risk_score: the trend's days that had completed scans
    open_alerts: Select | None  # None where the model is not installed
    policy_pass_rate: Select | None  # evaluations, passed


def _policy_pass_rate(dialect: str) -> Select | None:
    evaluation = _model("PolicyEvaluation")
    if evaluation is None or not hasattr(evaluation, "passed") or not hasattr(evaluation, "scan_id"):
        return None
    passed = func.coalesce(func.sum(case((evaluation.passed.is_(True), 1), else_=0)), 0)
    latest = select(counted(dialect).latest.c.scan_id)
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
    return Selects(
        recent_scans=select(*SCAN_WIRE_COLUMNS)
        .where(Scan.organization_id == ORGANIZATION)
        .order_by(Scan.created_at.desc(), Scan.id)
        .limit(RECENT_SCANS),
        scans_by_status=select(Scan.status, func.count().label("scans"))
        .where(Scan.organization_id == ORGANIZATION)
        .group_by(Scan.status),
        current_state=current_state(dialect),
        trend=trend(dialect),
        open_alerts=_open_alerts(),
        policy_pass_rate=_policy_pass_rate(dialect),
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


def _document_select() -> Select:
    statements = selects("postgresql")
    # The ten newest scans are chosen from their keys alone, and only those ten are turned into JSON: a
    # plan that cannot read them off ``ix_scans_org_created`` (``scans`` not analyzed since a burst of
    # queued scans, or the average organization's estimate applied to one with thousands) sorts narrow
    # rows, instead of building the JSON of every scan of the organization before its top-N sort.
    newest = statements.recent_scans.with_only_columns(Scan.id).subquery("newest")
    recent = (
        select(scan_wire_json().label("scan"), Scan.created_at, Scan.id)
        .join(newest, newest.c.id == Scan.id)
        .subquery("recent")
    )
    by_status = statements.scans_by_status.subquery("by_status")
    current = select(current_json().label("current")).cte("current")
    trend = statements.trend.subquery("trend")
    days = func.generate_series(0, TREND_DAYS - 1).table_valued("day_offset").render_derived(name="days")
    day = FIRST_DAY + days.c.day_offset
    trend_days = (
        select(
            json_list(
                json_object(
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
            json_object(
                {
                    "evaluations": rates.c.evaluations,
                    "passed": rates.c.passed,
                    "rate": case((rates.c.evaluations > 0, rate), else_=null()),
                }
            )
        ).scalar_subquery()
    open_alerts = null() if statements.open_alerts is None else statements.open_alerts.scalar_subquery()
    overview = json_object(
        {
            "recent_scans": select(json_list(recent.c.scan, recent.c.created_at.desc(), recent.c.id))
            .select_from(recent)
            .scalar_subquery(),
            "scans_by_status": select(
                func.coalesce(
                    func.json_object_agg(by_status.c.status, by_status.c.scans), literal_column("'{}'::json")
                )
            ).scalar_subquery(),
            **{
                key: select(json_field(current.c.current, key)).scalar_subquery()
                for key in ("targets", "severity_distribution", *TOP_KINDS)
            },
            "trend": trend_days.scalar_subquery(),
            "open_alerts": open_alerts,
            "policy_pass_rate": policy,
        }
    )
    return select(cast(overview, Text))


@functools.cache
def _document_sql(dialect) -> str:
    """The statement's SQL for the driver, compiled once and executed as is: no SQLAlchemy compilation or
    cache-key walk per request."""
    return compiled_sql(dialect, _document_select())


def document_json(connection: Connection, organization_id: str, today: date) -> str:
    """The overview as JSON text, in one statement (PostgreSQL): a plain read, so a GET runs it outside a
    transaction like its other reads. In a transaction its session's end would be a ``ROLLBACK``, and on
    ``ROLLBACK`` psycopg forgets every statement it prepared on that connection (this one included, whose
    planning costs PostgreSQL more than its execution)."""
    sql = _document_sql(connection.dialect)
    parameters = _parameters(organization_id, today)
    return connection.exec_driver_sql(sql, parameters, execution_options={PLAIN_READ: True}).scalar()


@blp.route("/overview", methods=["GET"])
@blp.alt_response(200, schema=DashboardSchema, success=True)
@access("viewer")
def overview():
    """From the organization's cached overview while no write it could show has committed since
    (``common.dashboard_cache``), else counted and kept."""
    organization_id, today = context().organization_id, utcnow().date()
    cached = dashboard_cache.lookup(organization_id, today)  # before the database is read
    if cached.body is not None:
        return Response(cached.body, mimetype="application/json")
    if dialect().name == "postgresql":
        [(body,)] = plain_read(_document_sql(dialect()), _parameters(organization_id, today))
    else:
        body = current_app.json.dumps(document(db().connection(), organization_id, today))
    cached.store(body)
    return Response(body, mimetype="application/json")
