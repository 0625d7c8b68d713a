"""Enqueueing by task name, shared by the API and the workers.

The web process never imports worker modules: it sends tasks by name through a
lightweight Celery client configured from the same ``celeryconfig``.
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache

from celery import Celery
from celery.signals import before_task_publish

from common.tasks import EVENT_FOLLOW_UPS, SENT_AT_HEADER, queue_for

log = logging.getLogger(__name__)


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


def enqueue_follow_ups(event_type: str, fields: dict) -> list[str]:
    """Send the tasks ``EVENT_FOLLOW_UPS`` declares for the event; the names of those sent.

    Each is best effort on its own: the event's state change is committed and must not fail here.
    """
    sent = []
    for follow_up in EVENT_FOLLOW_UPS.get(event_type, ()):
        if fields.get(follow_up.argument) is None:
            continue
        try:
            enqueue(follow_up.task, fields[follow_up.argument])
            sent.append(follow_up.task)
        except Exception as exc:
            log.warning("%s after %s not enqueued: %s", follow_up.task, event_type, exc)
    return sent


def reset_client() -> None:
    celery_client.cache_clear()
