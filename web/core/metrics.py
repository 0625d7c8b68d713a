"""Prometheus metrics: this process's HTTP traffic, plus scan, queue and task figures read at scrape time."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from datetime import timedelta

import redis
from flask import Flask, Response, g, request
from kombu import Connection
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from common.config import get_settings
from common.db import session_scope
from common.jobs import JobStatus, job_models
from common.models import Scan
from common.models.base import utcnow
from common.redis_client import get_redis
from common.tasks import (
    QUEUES,
    SENT_AT_HEADER,
    TASK_DURATION_BUCKETS,
    TASK_DURATIONS_KEY,
    TASK_OUTCOMES,
    TASK_OUTCOMES_KEY,
    TaskOutcome,
)
from web.core.cached_reading import CachedReading

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


def _is_redis(broker_url: str) -> bool:
    return broker_url.startswith(("redis://", "rediss://", "unix://"))


def queue_depths() -> dict[str, int]:
    """Messages waiting per Celery queue, read from the broker, so a queue no worker consumes shows too."""
    broker_url = get_settings().broker_url
    if _is_redis(broker_url):
        pipe = _broker_redis_client(broker_url).pipeline()
        for queue in QUEUES:
            for key in _redis_list_keys(queue):
                pipe.llen(key)
        lengths = iter(pipe.execute())
        return {queue: sum(int(next(lengths)) for _ in REDIS_PRIORITY_STEPS) for queue in QUEUES}
    return _declared_queue_depths(broker_url)


def oldest_message_ages(queues: tuple[str, ...] = QUEUES, now: float | None = None) -> dict[str, float]:
    """Seconds the oldest waiting message of each queue has waited (0 when empty), Redis brokers only.

    Kombu's Redis transport pushes at the head of a list and pops from its tail, so the tail of each
    priority list is its oldest message; every publish carries the ``trusera_sent_at`` header.
    AMQP cannot show a message without taking it, so there the depth alone is reported.
    """
    broker_url = get_settings().broker_url
    if not _is_redis(broker_url):
        return {}
    now = time.time() if now is None else now
    pipe = _broker_redis_client(broker_url).pipeline()
    for queue in queues:
        for key in _redis_list_keys(queue):
            pipe.lindex(key, -1)
    tails = iter(pipe.execute())
    ages = {}
    for queue in queues:
        sent = [_sent_at(next(tails)) for _ in REDIS_PRIORITY_STEPS]
        known = [value for value in sent if value is not None]
        ages[queue] = max(0.0, now - min(known)) if known else 0.0
    return ages


def _sent_at(raw: bytes | None) -> float | None:
    if not raw:
        return None
    try:
        value = json.loads(raw).get("headers", {}).get(SENT_AT_HEADER)
    except (ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, int | float) else None


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
    """Reads shared state at scrape time so every API process reports the same numbers, at most once per
    ``METRICS_CACHE_SECONDS`` in each process (``CachedReading``): scrapes in between get the last reading."""

    def __init__(self) -> None:
        self.reading = CachedReading(
            lambda: [*self._jobs(), *self._queues(), *self._tasks()],
            lambda: get_settings().metrics_cache_seconds,
        )

    def collect(self):
        return iter(self.reading.get())

    def _jobs(self):
        scans = GaugeMetricFamily("trusera_scans", "Scans by status", labels=["status"])
        stale = GaugeMetricFamily(
            "trusera_stale_jobs",
            "Running jobs whose worker has been silent longer than SCAN_STALE_MINUTES",
            labels=["kind"],
        )
        cutoff = utcnow() - timedelta(minutes=get_settings().scan_stale_minutes)
        try:
            with session_scope() as session:
                for status, count in session.execute(select(Scan.status, func.count()).group_by(Scan.status)):
                    scans.add_metric([status], count)
                for model in job_models():
                    silent = session.scalar(
                        select(func.count()).where(
                            model.status == JobStatus.RUNNING,
                            func.coalesce(model.heartbeat_at, model.started_at) < cutoff,
                        )
                    )
                    stale.add_metric([model.event_prefix], silent or 0)
        except SQLAlchemyError:
            pass
        yield scans
        yield stale

    def _queues(self):
        depth = GaugeMetricFamily(
            "trusera_queue_depth", "Messages waiting per Celery queue", labels=["queue"]
        )
        age = GaugeMetricFamily(
            "trusera_queue_oldest_message_age_seconds",
            "How long the oldest waiting message of each queue has waited (Redis broker)",
            labels=["queue"],
        )
        try:
            for queue, value in queue_depths().items():
                depth.add_metric([queue], value)
            for queue, value in oldest_message_ages().items():
                age.add_metric([queue], value)
        except Exception as exc:  # each transport raises its own errors; a scrape must still answer
            log.warning("queue figures unavailable: %s", exc)
        yield depth
        yield age

    def _tasks(self):
        durations = HistogramMetricFamily(
            "trusera_task_duration_seconds", "Task run time by task", labels=["task"]
        )
        outcomes = {
            outcome: CounterMetricFamily(
                f"trusera_task_{OUTCOME_METRICS[outcome]}",
                f"Tasks {outcome.replace('_', '-')}",
                labels=["task"],
            )
            for outcome in TASK_OUTCOMES
        }
        try:
            pipe = get_redis().pipeline()
            pipe.hgetall(TASK_DURATIONS_KEY)
            pipe.hgetall(TASK_OUTCOMES_KEY)
            raw_durations, raw_outcomes = pipe.execute()
        except redis.RedisError:
            raw_durations, raw_outcomes = {}, {}
        for name in sorted({key.split(":", 1)[0] for key in raw_durations}):
            count = int(raw_durations.get(f"{name}:count", 0))
            buckets = [
                (str(bound), int(raw_durations.get(f"{name}:le:{bound}", 0)))
                for bound in TASK_DURATION_BUCKETS
            ]
            durations.add_metric(
                [name], [*buckets, ("+Inf", count)], float(raw_durations.get(f"{name}:sum", 0.0))
            )
        for key, value in sorted(raw_outcomes.items()):
            name, _, outcome = key.rpartition(":")
            if outcome in outcomes:
                outcomes[outcome].add_metric([name], int(value))
        yield durations
        yield from outcomes.values()


OUTCOME_METRICS = {
    TaskOutcome.RETRIED: "retries",
    TaskOutcome.FAILED: "failures",
    TaskOutcome.DEAD_LETTERED: "dead_letters",
}


platform_collector = PlatformCollector()
registry.register(platform_collector)


def _start_timer() -> None:
    g.request_started = time.perf_counter()


# Each (method, route, status)'s counter and (method, route)'s histogram, as ``labels()`` returns them:
# ``labels()`` checks and converts its values and takes a lock on every call, for the same few children.
_request_counters: dict[tuple[str, str, int], Counter] = {}
_latency_histograms: dict[tuple[str, str], Histogram] = {}
# The method is the client's word: any other than these is counted as ``OTHER``, or every made-up method
# (``FOOBAR``, answered 405 before any authentication) would add a child to each metric, kept forever.
COUNTED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _observe(response: Response) -> Response:
    method, rule = request.method, request.url_rule
    if method not in COUNTED_METHODS:
        method = "OTHER"
    route = rule.rule if rule else "unmatched"
    status = response.status_code
    counter = _request_counters.get((method, route, status))
    if counter is None:
        counter = _request_counters[method, route, status] = http_requests.labels(method, route, str(status))
    counter.inc()
    started = g.get("request_started")
    if started is not None:
        histogram = _latency_histograms.get((method, route))
        if histogram is None:
            histogram = _latency_histograms[method, route] = http_latency.labels(method, route)
        histogram.observe(time.perf_counter() - started)
    return response


def render() -> Response:
    return Response(generate_latest(registry), mimetype=None, content_type=CONTENT_TYPE)


def init_app(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_observe)
