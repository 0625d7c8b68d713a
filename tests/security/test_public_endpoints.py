"""``/metrics`` and ``/health``, which answer without a user's sign-in, played as an anonymous flood.

Before, ``/metrics`` answered anyone: every organization's scan counts by status, the queues' backlog
and the tasks' failures, and each request ran a ``GROUP BY`` over every tenant's scans; ``/health``
opened a new AMQP connection per request when the broker is RabbitMQ, a cheap way to exhaust the
broker's connections. Now ``/metrics`` answers the scraper's ``METRICS_TOKEN`` only (nobody while it is
unset), and both read the expensive figures at most once per interval in each process.
"""

from __future__ import annotations

import dataclasses

import pytest

import common.config as config
from common.config import get_settings
from tests.helpers import counted_statements, metrics_headers
from web.api import health
from web.core.metrics import platform_collector


@pytest.fixture
def settings(monkeypatch):
    def apply(**changes):
        monkeypatch.setattr(config, "_settings", dataclasses.replace(get_settings(), **changes))

    return apply


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(platform_collector.reading, "clock", clock)
    monkeypatch.setattr(health.broker_reading, "clock", clock)
    monkeypatch.setattr(platform_collector.reading, "_fresh_until", None)
    monkeypatch.setattr(health.broker_reading, "_fresh_until", None)
    return clock


def test_metrics_answer_the_scrapers_token_only(client):
    assert client.get("/api/v1/metrics").status_code == 401
    wrong = client.get("/api/v1/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401 and wrong.json["message"] and b"trusera_scans" not in wrong.data
    assert client.get("/api/v1/metrics", headers={"Authorization": "Basic eDp5"}).status_code == 401
    answered = client.get("/api/v1/metrics", headers=metrics_headers())
    assert answered.status_code == 200 and b"trusera_scans" in answered.data


def test_metrics_are_open_as_the_contract_says_while_no_token_is_set(client, settings):
    settings(metrics_token="")
    opened = client.get("/api/v1/metrics")
    assert opened.status_code == 200 and "trusera_scans" in opened.get_data(as_text=True)


def test_a_scrape_flood_counts_the_scans_once_per_interval(client, settings, clock):
    settings(metrics_cache_seconds=15)

    def scans_counted() -> int:
        with counted_statements() as statements:
            for _ in range(20):
                assert client.get("/api/v1/metrics", headers=metrics_headers()).status_code == 200
        return sum("GROUP BY" in statement for statement in statements)

    assert scans_counted() == 1
    clock.now += 14
    assert scans_counted() == 0
    clock.now += 1
    assert scans_counted() == 1


def test_a_health_flood_opens_one_broker_connection_per_interval(client, settings, clock, monkeypatch):
    settings(broker_url="amqp://guest:guest@127.0.0.1:5672/health-probe", health_cache_seconds=5)
    opened = []

    class Connection:
        def __init__(self, url, **_options):
            opened.append(url)

        def __enter__(self):
            return self

        def __exit__(self, *_exc):
            return False

        def ensure_connection(self, **_options):
            return self

    monkeypatch.setattr(health, "Connection", Connection)
    answers = [client.get("/api/v1/health") for _ in range(30)]
    assert {answer.json["checks"]["broker"] for answer in answers} == {"ok"}
    assert len(opened) == 1
    clock.now += 5
    client.get("/api/v1/health")
    assert len(opened) == 2
