"""``/health`` and ``/metrics``: for load balancers and Prometheus, without a user's sign-in.

``/health`` answers anyone (a load balancer has no credential); its broker check is the one that opens a
connection, so its answer is reused for ``HEALTH_CACHE_SECONDS``. ``/metrics`` counts every organization's
scans and reads the queues: open as the API contract says while ``METRICS_TOKEN`` is unset, and only for
that bearer token once the operator sets it.
"""

from __future__ import annotations

import hmac

import redis
from flask import request
from flask_smorest import Blueprint, abort
from kombu import Connection
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from common.config import get_settings
from common.db import session_scope
from common.redis_client import get_redis
from web.core import metrics
from web.core.access import PUBLIC, access
from web.core.cached_reading import CachedReading
from web.core.openapi import PROMETHEUS_TEXT, HealthSchema

blp = Blueprint("health", __name__, url_prefix="/api/v1", description="Health and metrics")


def _check_database() -> str:
    try:
        with session_scope() as session:
            session.execute(text("SELECT 1"))
        return "ok"
    except SQLAlchemyError as exc:
        return f"error: {type(exc).__name__}"


def _check_redis() -> str:
    try:
        get_redis().ping()
        return "ok"
    except redis.RedisError as exc:
        return f"error: {type(exc).__name__}"


def _check_broker(redis_status: str) -> str:
    settings = get_settings()
    if settings.broker_url == settings.redis_url:
        return redis_status
    return broker_reading.get()


def _connect_to_broker() -> str:
    try:
        with Connection(get_settings().broker_url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
        return "ok"
    except Exception as exc:  # kombu surfaces many transport-specific errors
        return f"error: {type(exc).__name__}"


broker_reading = CachedReading(_connect_to_broker, lambda: get_settings().health_cache_seconds)


@blp.route("/health", methods=["GET"])
@blp.alt_response(200, schema=HealthSchema, success=True)
@blp.alt_response(503, schema=HealthSchema, description="A check failed")
@access(PUBLIC)
def health():
    redis_status = _check_redis()
    checks = {"database": _check_database(), "redis": redis_status, "broker": _check_broker(redis_status)}
    healthy = all(value == "ok" for value in checks.values())
    return {"status": "ok" if healthy else "error", "checks": checks}, 200 if healthy else 503


@blp.route("/metrics", methods=["GET"])
@blp.alt_response(200, schema=PROMETHEUS_TEXT, content_type="text/plain", success=True)
@blp.alt_response(401, response="UNAUTHORIZED")
@access(PUBLIC)
def metrics_endpoint():
    """Open, as the API contract says, until the operator sets ``METRICS_TOKEN``: the figures span every
    organization, so a deployment reachable by tenants should set it (docs/operations.md)."""
    token = get_settings().metrics_token
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if token and (
        scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), token.encode())
    ):
        abort(
            401,
            message="The metrics bearer token is missing or wrong.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return metrics.render()
