"""Enqueueing by task name, shared by the API and the workers.

The web process never imports worker modules: it sends tasks by name through a
lightweight Celery client configured from the same ``celeryconfig``.
"""

from __future__ import annotations

import time
from functools import lru_cache

from celery import Celery
from celery.signals import before_task_publish

from common.tasks import AFTER_SCAN_TASKS, SENT_AT_HEADER, queue_for


@before_task_publish.connect
def stamp_sent_at(headers=None, **_kwargs) -> None:
    """Every message, from the API or a worker's retry, says when it was sent (oldest-message age)."""
    if headers is not None:
        headers.setdefault(SENT_AT_HEADER, time.time())


@lru_cache(maxsize=1)
def celery_client() -> Celery:
    client = Celery("trusera-client")
    client.config_from_object("celeryconfig")
    return client


def enqueue(task_name: str, *args, countdown: float | None = None) -> str:
    result = celery_client().send_task(
        task_name, args=list(args), queue=queue_for(task_name), countdown=countdown
    )
    return result.id


def enqueue_after_scan(scan_id: str) -> None:
    """Follow-up work every completed scan gets (compliance, alerts, webhooks)."""
    for task_name in AFTER_SCAN_TASKS:
        enqueue(task_name, scan_id)


def reset_client() -> None:
    celery_client.cache_clear()
