"""Prometheus metrics: this process's HTTP traffic, plus scan, queue and task figures read at scrape time."""

from __future__ import annotations

import time

import redis
from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, SummaryMetricFamily
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from common.db import session_scope
from common.models import Scan
from common.redis_client import get_redis
from common.tasks import QUEUES, TASK_DURATIONS_KEY

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

registry = CollectorRegistry()
http_requests = Counter(
    "trusera_http_requests_total",
    "HTTP requests by route and status",
    ["method", "route", "status"],
    registry=registry,
)
http_latency = Histogram(
    "trusera_http_request_duration_seconds",
    "HTTP request latency by route",
    ["method", "route"],
    registry=registry,
)


def queue_depths(client: redis.Redis) -> dict[str, int]:
    """Messages waiting per Celery queue (Redis transport keeps each queue as a list, one per priority)."""
    depths = {}
    pipe = client.pipeline()
    for queue in QUEUES:
        pipe.llen(queue)
    for queue, depth in zip(QUEUES, pipe.execute(), strict=True):
        depths[queue] = int(depth)
    return depths


class PlatformCollector:
    """Reads shared state at scrape time so every API process reports the same numbers."""

    def collect(self):
        scans = GaugeMetricFamily("trusera_scans", "Scans by status", labels=["status"])
        try:
            with session_scope() as session:
                for status, count in session.execute(select(Scan.status, func.count()).group_by(Scan.status)):
                    scans.add_metric([status], count)
        except SQLAlchemyError:
            pass
        yield scans
        depth = GaugeMetricFamily(
            "trusera_queue_depth", "Messages waiting per Celery queue", labels=["queue"]
        )
        durations = SummaryMetricFamily(
            "trusera_task_duration_seconds", "Task run time by task", labels=["task"]
        )
        try:
            client = get_redis()
            for queue, value in queue_depths(client).items():
                depth.add_metric([queue], value)
            raw = client.hgetall(TASK_DURATIONS_KEY)
            for name in sorted({key.rsplit(":", 1)[0] for key in raw}):
                durations.add_metric(
                    [name], int(raw.get(f"{name}:count", 0)), float(raw.get(f"{name}:sum", 0.0))
                )
        except redis.RedisError:
            pass
        yield depth
        yield durations


registry.register(PlatformCollector())


def _start_timer() -> None:
    g.request_started = time.perf_counter()


def _observe(response: Response) -> Response:
    route = request.url_rule.rule if request.url_rule else "unmatched"
    http_requests.labels(request.method, route, str(response.status_code)).inc()
    if "request_started" in g:
        http_latency.labels(request.method, route).observe(time.perf_counter() - g.request_started)
    return response


def render() -> Response:
    return Response(generate_latest(registry), mimetype=None, content_type=CONTENT_TYPE)


def init_app(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_observe)
