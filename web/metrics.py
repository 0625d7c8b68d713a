"""Prometheus metrics: this process's HTTP traffic, plus scan, queue and task figures read at scrape time."""

from __future__ import annotations

import contextlib
import logging
import time

import redis
from flask import Flask, Response, g, request
from kombu import Connection
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, SummaryMetricFamily
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from common.config import get_settings
from common.db import session_scope
from common.models import Scan
from common.redis_client import get_redis
from common.tasks import QUEUES, TASK_DURATIONS_KEY

log = logging.getLogger(__name__)

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


REDIS_PRIORITY_STEPS = (0, 3, 6, 9)  # kombu's Redis transport keeps one list per priority step
REDIS_PRIORITY_SEPARATOR = "\x06\x16"

_broker_clients: dict[str, redis.Redis] = {}


def _redis_list_keys(queue: str) -> list[str]:
    return [
        queue if step == 0 else f"{queue}{REDIS_PRIORITY_SEPARATOR}{step}" for step in REDIS_PRIORITY_STEPS
    ]


def _broker_redis_client(broker_url: str) -> redis.Redis:
    """The broker may be another Redis (or database number) than the one for pub/sub and counters."""
    if broker_url == get_settings().redis_url:
        return get_redis()
    if broker_url not in _broker_clients:
        _broker_clients[broker_url] = redis.Redis.from_url(
            broker_url, socket_connect_timeout=2, socket_timeout=5
        )
    return _broker_clients[broker_url]


def queue_depths() -> dict[str, int]:
    """Messages waiting per Celery queue, read from the broker, so a queue no worker consumes shows too."""
    broker_url = get_settings().broker_url
    if broker_url.startswith(("redis://", "rediss://", "unix://")):
        pipe = _broker_redis_client(broker_url).pipeline()
        for queue in QUEUES:
            for key in _redis_list_keys(queue):
                pipe.llen(key)
        lengths = iter(pipe.execute())
        return {queue: sum(int(next(lengths)) for _ in REDIS_PRIORITY_STEPS) for queue in QUEUES}
    return _declared_queue_depths(broker_url)


def _declared_queue_depths(broker_url: str) -> dict[str, int]:
    """AMQP: a passive declare reports the message count without creating anything."""
    depths = {}
    with Connection(broker_url, connect_timeout=2) as connection:
        connection.ensure_connection(max_retries=1)
        for queue in QUEUES:
            channel = connection.channel()
            try:
                depths[queue] = int(channel.queue_declare(queue=queue, passive=True).message_count)
            except connection.channel_errors:  # NOT_FOUND: nothing was ever routed to it
                depths[queue] = 0
            finally:
                with contextlib.suppress(*connection.connection_errors, *connection.channel_errors):
                    channel.close()
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
            for queue, value in queue_depths().items():
                depth.add_metric([queue], value)
        except Exception as exc:  # each transport raises its own errors; a scrape must still answer
            log.warning("queue depths unavailable: %s", exc)
        try:
            raw = get_redis().hgetall(TASK_DURATIONS_KEY)
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
