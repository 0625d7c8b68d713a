"""Enqueueing by task name, shared by the API and the workers.

The web process never imports worker modules: it sends tasks by name through a
lightweight Celery client configured from the same ``celeryconfig``.

Sending is the API's most frequent broker work (every ``POST /scans``), so on Redis the client
publishes through ``PublishingTransport``: one redis-py client per channel instead of one per
message, and each task goes out with its ``task-sent`` event (``task_send_sent_event``, which
Flower shows) in one pipeline. A caller may put Redis commands of its own at the head of that
pipeline (``Leading``): ``POST /scans`` publishes its ``scan.queued`` event there, when the broker is
the application's Redis, so the event and the task cost one round trip instead of two. After the first
send of a task in a process, the next ones reuse the two messages Celery made for it (``PreparedTask``).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

import redis
from celery import Celery
from celery.backends.base import DisabledBackend
from celery.signals import after_task_publish, before_task_publish, task_sent
from celery.utils.saferepr import saferepr
from celery.utils.time import utcoffset
from kombu.common import maybe_declare
from kombu.exceptions import BatchPublishError
from kombu.transport import redis as kombu_redis
from kombu.utils.json import dumps, loads
from kombu.utils.uuid import uuid

from common.config import DB_POOL_OVERFLOW, DB_POOL_SIZE
from common.redis_client import packed
from common.tasks import EVENT_FOLLOW_UPS, SENT_AT_HEADER, queue_for

log = logging.getLogger(__name__)

# Producers (each with its broker connection) one process may hold at once. A request's greenlet holds
# one across its pipeline's round trip, and a CPU-bound gevent process runs every other ready request
# before it resumes: with Celery's 10, the eleventh concurrent ``POST /scans`` waited for a producer
# (a measured 200 ms at 32 connections). As many as the database pool's connections, created on demand.
PRODUCER_POOL_LIMIT = DB_POOL_SIZE + DB_POOL_OVERFLOW

# Plain ``redis://`` only: kombu derives a ``rediss://`` URL's TLS defaults from the scheme's name.
PUBLISHING_TRANSPORT_SCHEME = "redis"


@before_task_publish.connect
def stamp_sent_at(headers=None, **_kwargs) -> None:
    """Every message, from the API or a worker's retry, says when it was sent (oldest-message age)."""
    if headers is not None:
        headers.setdefault(SENT_AT_HEADER, time.time())


@dataclass
class Leading:
    """Redis commands (``(method, *args)`` of a redis-py pipeline) to run before a task in its pipeline.

    ``replies`` is None until they ran; they run alone before the task when the task's batch cannot
    take them (a transport without batches, a failed batch resent on its own). A batch whose reply was
    lost after Redis ran it fails like one that never arrived, and they run again: commands that must
    take effect once are idempotent themselves (``events.PUBLISH_NUMBERED_ONCE``).
    """

    commands: list[tuple]
    replies: list | None = field(default=None)

    def run_alone(self, client: redis.Redis) -> None:
        with client.pipeline(transaction=False) as pipeline:
            for name, *args in self.commands:
                getattr(pipeline, name)(*args)
            self.replies = pipeline.execute()


class LeadingBatch(kombu_redis.PublishBatch):
    """kombu's publish batch with the ``Leading`` commands at its head, whose replies it keeps."""

    def __init__(self, channel, max_size, leading: Leading | None):
        super().__init__(channel, max_size)
        self.leading = leading
        if leading is not None:
            for name, *args in leading.commands:
                getattr(self.pipeline, name)(*args)
            self._buffered += len(leading.commands)

    def flush(self):
        leading, self.leading = self.leading, None
        self.channel.sent_commands = [args for args, _options in self.pipeline.command_stack]
        if leading is None or not self._buffered:
            return super().flush()
        self._check_usable()
        try:
            replies = self.pipeline.execute()
        except BaseException as exc:
            self._failed = exc
            self._buffered = 0
            self.pipeline.reset()
            if isinstance(exc, Exception):
                raise BatchPublishError("Redis publish batch failed; delivery is uncertain") from exc
            raise
        self._buffered = 0
        leading.replies = replies[: len(leading.commands)]
        return None


class PublishingChannel(kombu_redis.Channel):
    """kombu's Redis channel, publishing through one client of its connection pool.

    kombu builds a new ``redis.Redis`` for every message it puts; redis-py copies some 170 response
    callbacks into each, which was a fifth of the CPU of sending a task. A client is only a handle on
    the pool (safe to share between threads and greenlets), so one per pool does; a new pool (after a
    reconnect) gets a new client. Consuming (a control command's reply queue) has a client of its own.
    """

    _publishing_client: redis.Redis | None = None
    _consuming_client: redis.Redis | None = None
    _opening = False
    # What the next batch puts first. Set by ``enqueue`` while it holds the producer (and so the channel).
    leading: Leading | None = None
    # The commands (redis-py argument tuples) of the last batch this channel flushed, leading ones first.
    sent_commands: list[tuple] | None = None

    @contextmanager
    def conn_or_acquire(self, client=None) -> Iterator[redis.Redis]:
        yield client or self._publisher()

    def __init__(self, *args, **kwargs):
        self._opening = True
        try:
            super().__init__(*args, **kwargs)
        finally:
            self._opening = False

    @property
    def client(self) -> redis.Redis:
        """While the channel opens: the publishing client, which answers its ``PING``. kombu's own is a
        client of a second pool, for consuming: every new producer opened two connections, each with a
        handshake of six round trips (``HELLO``, ``CLIENT SETINFO``, ``SELECT``…), a burst of requests
        past the pool's warm producers waiting through all of them.

        After that, kombu's consuming client, made on first use (a control command's reply queue): kombu
        pins a connection on it for ``BRPOP`` (``client.connection``), and a client with a pinned
        connection sends every command over it, so the shared publishing client must never be that one
        (publishes from other threads read the ``BRPOP``'s reply: "Bad response from PING")."""
        if self._opening:
            return self._publisher()
        if self._consuming_client is None:
            self._consuming_client = self._create_client(asynchronous=True)
        return self._consuming_client

    def _publisher(self) -> redis.Redis:
        if self.connection is None:
            # Closed under a publish that still holds it: kombu's ``Producer._publish`` keeps the channel it
            # began with while a queue's declaration reconnects (closing that channel) and revives only the
            # queue. A connection error has kombu's retrying publish revive the producer and send again on
            # a fresh channel; without it, kombu failed on the closed channel (AttributeError, task lost).
            raise redis.ConnectionError("the broker channel was closed by a reconnect")
        shared = self._publishing_client
        if shared is None or shared.connection_pool is not self.pool:
            shared = self._publishing_client = self._create_client()
        return shared

    def create_publish_batch(self, max_size):
        batch = LeadingBatch(self, max_size, self.leading)
        self.leading = None  # taken only by a batch made: ``enqueue`` tells a send moved to a fresh channel
        return batch


class PublishingTransport(kombu_redis.Transport):
    Channel = PublishingChannel


@lru_cache(maxsize=1)
def celery_client() -> Celery:
    client = Celery("trusera-client")
    client.config_from_object("celeryconfig")
    client.conf.broker_pool_limit = max(client.conf.broker_pool_limit or 0, PRODUCER_POOL_LIMIT)
    if urlsplit(client.conf.broker_url or "").scheme == PUBLISHING_TRANSPORT_SCHEME:
        client.conf.broker_transport = PublishingTransport
    return client


def broker_is_redis_at(url: str) -> bool:
    """Whether tasks go to the Redis at ``url`` through ``PublishingTransport`` (so ``Leading`` applies)."""
    return _publishing_broker_url() == url


@lru_cache(maxsize=1)
def _publishing_broker_url() -> str | None:
    """Read once: every ``POST /scans`` asks, and Celery's configuration is a chain of mappings."""
    conf = celery_client().conf
    return conf.broker_url if conf.broker_transport is PublishingTransport else None


def enqueue(task_name: str, *args, countdown: float | None = None, leading: Leading | None = None) -> str:
    """Send the task; its id.

    The task and its ``task-sent`` event go out in one batch (one Redis pipeline). A batch is never
    retried by kombu, so a failed one is sent again, under the same task id, through Celery's
    retrying publish, as every message was before: a connection lost after Redis took the message
    may deliver it twice, exactly as a retried single publish could, always under that one id.
    ``leading`` (only with ``broker_is_redis_at``) goes at the head of the batch; run alone first when
    the batch fails, so possibly a second time (see ``Leading``).
    """
    client = celery_client()
    options = {"args": list(args), "queue": queue_for(task_name), "countdown": countdown, "task_id": uuid()}
    try:
        with client.producer_or_acquire() as producer:
            channel = producer.channel
            prepared = _prepared_tasks().get((task_name, options["queue"])) if countdown is None else None
            if prepared is not None and prepared.fits(client, channel):
                prepared.send(client, channel, options["task_id"], options["args"], leading)
                return options["task_id"]
            with producer.batch():
                if leading is not None:
                    if not channel.supports_batch_publish:
                        with channel.conn_or_acquire() as redis_client:
                            leading.run_alone(redis_client)
                    else:
                        channel.leading = leading
                try:
                    client.send_task(task_name, producer=producer, **options)
                    if leading is not None and channel.leading is leading:
                        # kombu reconnected mid-send and batched the task on a fresh channel without
                        # ``leading``: that batch is dropped; the fallback sends them first, then the task.
                        raise BatchPublishError(
                            "the send moved to a fresh broker channel without its leading"
                        )
                finally:
                    if leading is not None:
                        channel.leading = None
            _remember_prepared(client, channel, task_name, options, leading)
    except BatchPublishError as exc:
        log.warning("%s: batched send failed (%s), sending it on its own", task_name, exc)
        if leading is not None and leading.replies is None:
            _run_leading_alone(client, leading)
        client.send_task(task_name, **options)
    return options["task_id"]


def _plain_publishing(client: Celery) -> bool:
    """Whether Celery's send adds nothing a prepared task would leave out: not inside a task (whose ids
    a follow-up inherits), and no receiver of the publish signals but ``stamp_sent_at``."""
    return (
        client.current_worker_task is None
        and len(before_task_publish.receivers) == 1
        and not after_task_publish.receivers
        and not task_sent.receivers
    )


@dataclass(frozen=True)
class PreparedTask:
    """The two messages Celery sent for a task, kept to send the task's next ones without Celery.

    Building them took Celery and kombu a fifth of a ``POST /scans``'s CPU (routing through chains of
    configuration mappings, the message and its ``task-sent`` event, a copy of the queue and of the event
    exchange bound per publish to check their declaration; bench/README.md), for messages that differ only
    in the task's id and arguments, the times, the event's clock, ``reply_to`` and the delivery tags.
    ``send`` fills those into copies of what Celery sent the first time in this process and sends them in
    the same pipeline, with the same commands, and leaves anything else (a countdown, a send from inside a
    task, a connection that has not declared the queue yet, another receiver of the publish signals, a body
    compressed or not JSON) to Celery (``tests/api/test_scan_create_path.py`` compares the two).
    """

    queue: object  # the kombu ``Queue``, whose declaration the connection must have made
    push: tuple  # ("LPUSH", the queue's list)
    message: dict  # the task's envelope, without the per-message fields
    embed: dict  # the third part of the task's body (callbacks, errbacks, chain, chord)
    publish: tuple  # ("PUBLISH", the channel of ``task-sent`` events)
    event_message: dict
    event: dict  # the ``task-sent`` event's fields
    argsrepr_maxsize: int
    repr_maxlevels: int

    def fits(self, client: Celery, channel) -> bool:
        return (
            isinstance(channel, PublishingChannel)
            and hash(self.queue) in channel.connection.client.declared_entities
            and _plain_publishing(client)
        )

    def send(self, client: Celery, channel, task_id: str, args: list, leading: Leading | None) -> None:
        # Celery describes no arguments as ``()`` whatever empty sequence it was given (``as_task_v2``).
        argsrepr = saferepr(args or (), self.argsrepr_maxsize, maxlevels=self.repr_maxlevels)
        headers = {**self.message["headers"], "id": task_id, "root_id": task_id, "argsrepr": argsrepr}
        stamp_sent_at(headers=headers)
        properties = {
            **self.message["properties"],
            "correlation_id": task_id,
            "reply_to": client.thread_oid,
            "delivery_tag": uuid(),
        }
        message = {**self.message, "body": _encoded([args, {}, self.embed]), "headers": headers}
        message["properties"] = properties
        event = {
            **self.event,
            "utcoffset": utcoffset(),
            "clock": client.clock.forward(),
            "uuid": task_id,
            "root_id": task_id,
            "args": argsrepr,
            "timestamp": time.time(),
        }
        event_message = {**self.event_message, "body": _encoded(event)}
        event_message["properties"] = {**self.event_message["properties"], "delivery_tag": uuid()}
        with channel.conn_or_acquire() as redis_client:
            commands = _commands_of(redis_client, leading.commands if leading is not None else ())
            commands += [(*self.push, dumps(message)), (*self.publish, dumps(event_message))]
            replies = _sent_in_one_round_trip(redis_client.connection_pool, commands)
        if leading is not None:
            leading.replies = replies[: len(leading.commands)]


def _commands_of(redis_client: redis.Redis, calls) -> list[tuple]:
    """The Redis commands of redis-py method calls (``Leading``'s ``(method, *args)``), as a pipeline queues
    them (``incr`` is ``INCRBY key 1``)."""
    pipeline = redis_client.pipeline(transaction=False)
    for name, *args in calls:
        getattr(pipeline, name)(*args)
    return [args for args, _options in pipeline.command_stack]


def _sent_in_one_round_trip(pool: redis.ConnectionPool, commands: list[tuple]) -> list:
    """What a redis-py pipeline without a transaction does, on a connection of its pool, without its
    command machinery (as ``run_script`` does for one command): the commands in one write, their replies
    in order. A reply that is an error, or a connection that cannot be had, is lost or times out (it is
    dropped), fails the batch as a pipeline's ``execute`` does: ``BatchPublishError``, delivery uncertain,
    and ``enqueue`` sends the task again through Celery's retrying publish."""
    connection = None
    try:
        connection = pool.get_connection()
        connection.send_packed_command([packed(*command) for command in commands])
        replies = [_reply(connection) for _command in commands]
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        if connection is not None:
            connection.disconnect()
        raise BatchPublishError("Redis publish batch failed; delivery is uncertain") from exc
    finally:
        if connection is not None:
            pool.release(connection)
    failed = next((reply for reply in replies if isinstance(reply, redis.ResponseError)), None)
    if failed is not None:
        raise BatchPublishError("Redis publish batch failed; delivery is uncertain") from failed
    return replies


def _reply(connection) -> object:
    try:
        return connection.read_response()
    except redis.ResponseError as error:
        return error


def _encoded(body) -> str:
    """A message body as kombu's Redis channel writes it: JSON, then base64."""
    return base64.b64encode(dumps(body).encode()).decode()


_prepared: dict[tuple[str, str], PreparedTask] = {}  # by task name and queue
_prepared_pid: int | None = None


def _prepared_tasks() -> dict[tuple[str, str], PreparedTask]:
    """This process's prepared tasks (a forked child has another pid, hostname and clock: its own)."""
    global _prepared_pid
    if _prepared_pid != os.getpid():
        _prepared.clear()
        _prepared_pid = os.getpid()
    return _prepared


def _remember_prepared(
    client: Celery, channel, task_name: str, options: dict, leading: Leading | None
) -> None:
    """Keep what Celery just sent for ``task_name`` (``PreparedTask``), if it was a plain send through a
    publishing channel: its batch's two commands, the task and its ``task-sent`` event, as expected."""
    prepared, key = _prepared_tasks(), (task_name, options["queue"])
    if key in prepared or options["countdown"] is not None:
        return
    if not isinstance(channel, PublishingChannel) or not _plain_publishing(client):
        return
    if not isinstance(client.backend, DisabledBackend):  # a result backend has its say in every send
        return
    sent = (channel.sent_commands or [])[len(leading.commands) if leading is not None else 0 :]
    if len(sent) != 2 or sent[0][0] != "LPUSH" or sent[1][0] != "PUBLISH":
        return
    message, event_message = loads(sent[0][2]), loads(sent[1][2])
    if not (_rewritable(message) and _rewritable(event_message)):
        return
    body, event = _decoded(message), _decoded(event_message)
    headers = message["headers"]
    if (
        headers.get("id") != options["task_id"]
        or body[:2] != [options["args"], {}]
        or event.get("uuid") != options["task_id"]
    ):
        return
    headers.pop(SENT_AT_HEADER, None)
    prepared[key] = PreparedTask(
        queue=client.amqp.queues[options["queue"]],
        push=tuple(sent[0][:2]),
        message=message,
        embed=body[2],
        publish=tuple(sent[1][:2]),
        event_message=event_message,
        event=event,
        argsrepr_maxsize=client.amqp.argsrepr_maxsize,
        repr_maxlevels=client.conf.task_repr_maxlevels,
    )


def _rewritable(message: dict) -> bool:
    """Whether ``_encoded`` writes the message's body as Celery did: JSON, uncompressed, base64 (not so
    with ``task_compression``, another serializer, or another ``body_encoding`` of the transport)."""
    return (
        message.get("content-type") == "application/json"
        and "compression" not in message.get("headers", {})
        and message.get("properties", {}).get("body_encoding") == "base64"
    )


def _decoded(message: dict):
    return loads(base64.b64decode(message["body"]))


def warm_broker_connections(count: int) -> int:
    """Open up to ``count`` of the client's pooled broker connections, each with every task queue declared,
    before requests need them; returns how many are ready.

    A connection the pool opens inside a request costs that request its handshake (connect, ``SELECT``,
    ``PING``) and its first publish the queue's declaration (two more round trips): five round trips, each a
    full turn of a busy gevent worker's event loop. The first burst of ``POST /scans`` after a start opened
    one per concurrent request, and those requests, 2.5 times slower than the rest, were the p99
    (bench/README.md). The connections are warmed side by side (threads: greenlets in a gevent worker) and
    all go back to the pool together, so each is a distinct one. Best effort: one that fails goes back
    unopened, and the pool opens it when a request needs it, as before."""
    client = celery_client()
    queues = list(client.amqp.queues.values())
    taken = []
    with contextlib.suppress(client.pool.LimitExceeded):
        for _ in range(count):
            taken.append(client.pool.acquire(block=False))
    ready = []

    def warm(connection) -> None:
        try:
            connection.ensure_connection(max_retries=1)
            channel = connection.default_channel
            for queue in queues:
                maybe_declare(queue, channel)
            ready.append(connection)
        except Exception as exc:
            log.warning("broker connection not warmed: %s", exc)

    warming = [threading.Thread(target=warm, args=(connection,), daemon=True) for connection in taken]
    try:
        for thread in warming:
            thread.start()
        for thread in warming:
            thread.join()
    finally:
        for connection in taken:
            connection.release()
    return len(ready)


def _run_leading_alone(client: Celery, leading: Leading) -> None:
    """Best effort: the task is sent whether or not its leading commands could be."""
    try:
        with (
            client.connection_for_write() as connection,
            connection.default_channel.conn_or_acquire() as redis_client,
        ):
            leading.run_alone(redis_client)
    except Exception as exc:
        log.warning("commands before a resent task not run: %s", exc)


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


BROKER_PEEK_CHUNK = 500  # messages read per LRANGE while looking for a job's message


def jobs_with_waiting_messages(task_name: str, job_ids: list[str]) -> set[str]:
    """Which of ``job_ids`` still have a message of ``task_name`` in the broker: in its queue, or taken by a
    worker that has not started it yet (prefetched behind a running task, kept in kombu's ``unacked``).

    The reconciler cannot otherwise tell a job waiting behind a long backlog from one whose message was lost,
    and re-sending or failing the first is wrong (a duplicate run, or a scan failed as "never started" while
    its message was next in line). Only a Redis broker can be read this way: with any other, or when Redis
    cannot say, nothing is known to be waiting and the reconciler does what it did before.
    """
    broker_url = _publishing_broker_url()
    if not job_ids or broker_url is None:
        return set()
    wanted = {job_id: job_id.encode() for job_id in job_ids}
    found: set[str] = set()

    def look(raw_messages) -> None:
        for raw in raw_messages:
            named = [job_id for job_id, needle in wanted.items() if needle in raw]  # cheap test first
            if named:
                found.update(job_id for job_id in named if job_id in _arguments_if_task(raw, task_name))

    try:
        with redis.Redis.from_url(broker_url, socket_connect_timeout=2, socket_timeout=5) as broker:
            queue, start = queue_for(task_name), 0
            while len(found) < len(wanted):
                chunk = broker.lrange(queue, start, start + BROKER_PEEK_CHUNK - 1)
                look(chunk)
                if len(chunk) < BROKER_PEEK_CHUNK:
                    break
                start += BROKER_PEEK_CHUNK
            if len(found) < len(wanted):
                look(raw for _tag, raw in broker.hscan_iter(kombu_redis.Channel.unacked_key))
    except redis.RedisError as exc:
        log.warning("could not read the broker's waiting messages (%s): none is taken to be waiting", exc)
        return set()
    return found


def _arguments_if_task(raw: bytes, task_name: str) -> list:
    """The positional arguments of a raw kombu Redis message (or ``unacked`` entry: the message, its exchange
    and routing key) if it sends ``task_name``; none otherwise, or if it cannot be read."""
    try:
        message = loads(raw)
        if isinstance(message, list):
            message = message[0]
        if message["headers"]["task"] != task_name:
            return []
        arguments = _decoded(message)[0]
    except (ValueError, KeyError, TypeError, IndexError):
        return []
    return arguments if isinstance(arguments, list) else []
