"""Enqueueing by task name, shared by the API and the workers.

The web process never imports worker modules: it sends tasks by name through a
lightweight Celery client configured from the same ``celeryconfig``.

Sending is the API's most frequent broker work (every ``POST /scans``), so on Redis the client
publishes through ``PublishingTransport``: one redis-py client per channel instead of one per
message, and each task goes out with its ``task-sent`` event (``task_send_sent_event``, which
Flower shows) in one pipeline.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from urllib.parse import urlsplit

import redis
from celery import Celery
from celery.signals import before_task_publish
from kombu.exceptions import BatchPublishError
from kombu.transport import redis as kombu_redis
from kombu.utils.uuid import uuid

from common.tasks import EVENT_FOLLOW_UPS, SENT_AT_HEADER, queue_for

log = logging.getLogger(__name__)

# Plain ``redis://`` only: kombu derives a ``rediss://`` URL's TLS defaults from the scheme's name.
PUBLISHING_TRANSPORT_SCHEME = "redis"


@before_task_publish.connect
def stamp_sent_at(headers=None, **_kwargs) -> None:
    """Every message, from the API or a worker's retry, says when it was sent (oldest-message age)."""
    if headers is not None:
        headers.setdefault(SENT_AT_HEADER, time.time())


class PublishingChannel(kombu_redis.Channel):
    """kombu's Redis channel, publishing through one client of its connection pool.

    kombu builds a new ``redis.Redis`` for every message it puts; redis-py copies some 170 response
    callbacks into each, which was a fifth of the CPU of sending a task. A client is only a handle on
    the pool (safe to share between threads and greenlets), so one per pool does; a new pool (after a
    reconnect) gets a new client.
    """

    _publishing_client: redis.Redis | None = None

    @contextmanager
    def conn_or_acquire(self, client=None) -> Iterator[redis.Redis]:
        if client:
            yield client
            return
        shared = self._publishing_client
        if shared is None or shared.connection_pool is not self.pool:
            shared = self._publishing_client = self._create_client()
        yield shared


class PublishingTransport(kombu_redis.Transport):
    Channel = PublishingChannel


@lru_cache(maxsize=1)
def celery_client() -> Celery:
    client = Celery("trusera-client")
    client.config_from_object("celeryconfig")
    if urlsplit(client.conf.broker_url or "").scheme == PUBLISHING_TRANSPORT_SCHEME:
        client.conf.broker_transport = PublishingTransport
    return client


def enqueue(task_name: str, *args, countdown: float | None = None) -> str:
    """Send the task; its id.

    The task and its ``task-sent`` event go out in one batch (one Redis pipeline). A batch is never
    retried by kombu, so a failed one is sent again, under the same task id, through Celery's
    retrying publish, as every message was before: a connection lost after Redis took the message
    may deliver it twice, exactly as a retried single publish could.
    """
    client = celery_client()
    options = {"args": list(args), "queue": queue_for(task_name), "countdown": countdown, "task_id": uuid()}
    try:
        with client.producer_or_acquire() as producer, producer.batch():
            client.send_task(task_name, producer=producer, **options)
    except BatchPublishError as exc:
        log.warning("%s: batched send failed (%s), sending it on its own", task_name, exc)
        client.send_task(task_name, **options)
    return options["task_id"]


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
