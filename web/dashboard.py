"""``/dashboard/overview``: the organization at a glance, every number a SQL aggregate.

"Current state" means the latest completed scan of each target (a path, or an n8n
instance URL): the severity distribution and the top providers and models are
computed over those scans only, so re-scanning a target does not double-count it.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask_smorest import Blueprint
from sqlalchemy import Date, Select, case, cast, func, select

from common.jobs import JobStatus
from common.models import Base, Component, Scan
from common.models.base import utcnow
from common.scanner.model import SEVERITIES
from web.access import access, context
from web.database import db
from web.openapi import DashboardSchema
from web.scans import scan_json

blp = Blueprint("dashboard", __name__, url_prefix="/api/v1/dashboard", description="Dashboard")

RECENT_SCANS = 10
TREND_DAYS = 30
TOP_N = 10


def _model(name: str):
    """A model another part of the platform may provide (alerts, policy evaluations), if it is there."""
    return next((m.class_ for m in Base.registry.mappers if m.class_.__name__ == name), None)


def _utc_day(column):
    if db().get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def _latest_scan_per_target(organization_id: str) -> Select:
    """Ids of the newest completed scan of every target."""
    target_key = func.coalesce(Scan.target, Scan.n8n_url)
    ranked = (
        select(
            Scan.id.label("scan_id"),
            func.row_number()
            .over(partition_by=target_key, order_by=(Scan.finished_at.desc(), Scan.id.desc()))
            .label("position"),
        )
        .where(Scan.organization_id == organization_id, Scan.status == JobStatus.COMPLETED)
        .subquery()
    )
    return select(ranked.c.scan_id).where(ranked.c.position == 1)


def _recent_scans(organization_id: str) -> list[dict]:
    rows = db().scalars(
        select(Scan)
        .where(Scan.organization_id == organization_id)
        .order_by(Scan.created_at.desc(), Scan.id)
        .limit(RECENT_SCANS)
    )
    return [scan_json(scan) for scan in rows]


def _scans_by_status(organization_id: str) -> dict:
    rows = db().execute(
        select(Scan.status, func.count()).where(Scan.organization_id == organization_id).group_by(Scan.status)
    )
    return dict(rows.all())


def _severity_distribution(latest: Select) -> dict:
    counts = dict(
        db()
        .execute(
            select(Component.severity, func.count())
            .where(Component.scan_id.in_(latest))
            .group_by(Component.severity)
        )
        .all()
    )
    return {severity: counts.get(severity, 0) for severity in SEVERITIES}


def _top(latest: Select, key, *conditions) -> list[dict]:
    components = func.count(Component.id)
    rows = db().execute(
        select(key, components, func.count(func.distinct(Component.scan_id)))
        .where(Component.scan_id.in_(latest), key.is_not(None), *conditions)
        .group_by(key)
        .order_by(components.desc(), key)
        .limit(TOP_N)
    )
    return [{"name": name, "components": count, "targets": targets} for name, count, targets in rows]


def _trend(organization_id: str, today: date) -> list[dict]:
    """Per UTC day: completed scans, the components they found, and the highest risk among them."""
    first_day = today - timedelta(days=TREND_DAYS - 1)
    day = _utc_day(Scan.finished_at)
    rows = db().execute(
        select(
            day.label("day"),
            func.count(func.distinct(Scan.id)),
            func.count(Component.id),
            func.max(Component.risk_score),
        )
        .select_from(Scan)
        .outerjoin(Component, Component.scan_id == Scan.id)
        .where(
            Scan.organization_id == organization_id,
            Scan.status == JobStatus.COMPLETED,
            day >= first_day,
        )
        .group_by(day)
    )
    by_day = {str(row[0]): row[1:] for row in rows}
    trend = []
    for offset in range(TREND_DAYS):
        key = (first_day + timedelta(days=offset)).isoformat()
        scans, components, highest = by_day.get(key, (0, 0, None))
        trend.append({"date": key, "scans": scans, "components": components, "highest_risk_score": highest})
    return trend


def _open_alerts(organization_id: str) -> int | None:
    alert = _model("Alert")
    if alert is None:
        return None
    return db().scalar(
        select(func.count()).where(alert.organization_id == organization_id, alert.status == "open")
    )


def _policy_pass_rate(latest: Select) -> dict | None:
    """Share of passed policy evaluations over the latest scan of each target."""
    evaluation = _model("PolicyEvaluation")
    if evaluation is None or not hasattr(evaluation, "passed") or not hasattr(evaluation, "scan_id"):
        return None
    total, passed = (
        db()
        .execute(
            select(
                func.count(), func.coalesce(func.sum(case((evaluation.passed.is_(True), 1), else_=0)), 0)
            ).where(evaluation.scan_id.in_(latest))
        )
        .one()
    )
    return {"evaluations": total, "passed": passed, "rate": round(passed / total, 4) if total else None}


@blp.route("/overview", methods=["GET"])
@blp.alt_response(200, schema=DashboardSchema, success=True)
@access("viewer")
def overview():
    organization_id = context().organization_id
    latest = _latest_scan_per_target(organization_id)
    return {
        "recent_scans": _recent_scans(organization_id),
        "scans_by_status": _scans_by_status(organization_id),
        "targets": db().scalar(select(func.count()).select_from(latest.subquery())),
        "severity_distribution": _severity_distribution(latest),
        "trend": _trend(organization_id, utcnow().date()),
        "top_providers": _top(latest, Component.provider),
        "top_models": _top(latest, Component.name, Component.type == "model"),
        "open_alerts": _open_alerts(organization_id),
        "policy_pass_rate": _policy_pass_rate(latest),
    }
