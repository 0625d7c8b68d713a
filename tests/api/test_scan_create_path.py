"""What ``POST /scans`` writes and sends, now that it does so in fewer round trips.

The scan, its audit row and its ``scan.queued`` event share one transaction (on PostgreSQL one
statement, committed alone after the principal was read outside a transaction); the audit row is still
written exactly once whatever the answer; ``scan.queued`` is published before the task is sent, at the
head of the task's Redis pipeline, which also carries the ``task-sent`` event (which Flower shows); a
failed pipeline is sent again through Celery's retrying publish, the event first, and once even when Redis
had run the failed one.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlsplit

import kombu.pools
import psycopg
import pytest
import redis
from kombu.common import maybe_declare
from sqlalchemy import event, select
from sqlalchemy.orm import Session

import common.celery_client
import web.api.scans as scans_api
from common import dashboard_cache, events
from common.celery_client import Leading, celery_client, enqueue
from common.db import POOL_SIZE, get_engine, session_scope
from common.models import AuditLog, Scan
from common.redis_client import get_redis
from common.tasks import SCAN_RUN, queue_for
from tests.helpers import redis_round_trips
from tests.services import BINDING, PERMANENT_BINDING


def _audit_rows(organization_id: str) -> list[AuditLog]:
    with session_scope() as session:
        return session.scalars(select(AuditLog).where(AuditLog.organization_id == organization_id)).all()


def _scan_rows(user) -> list[AuditLog]:
    """The audit rows of the user's requests to ``POST /scans``."""
    return [row for row in _audit_rows(user.org_id) if row.details.get("path") == "/api/v1/scans"]


@contextmanager
def _request_statements() -> Iterator[list[tuple]]:
    """``(transaction status after it, first word)`` of each statement the test client's request runs:
    those of this thread only, since a thread of an earlier test (a job's heartbeat, a background
    refresh) may still use the engine on a loaded machine."""
    executed: list[tuple] = []
    test_thread = threading.current_thread()

    def record(conn, _cursor, statement, *_args):
        if threading.current_thread() is test_thread:
            status = conn.connection.driver_connection.info.transaction_status
            executed.append((status, statement.split()[0]))

    event.listen(get_engine(), "after_cursor_execute", record)
    try:
        yield executed
    finally:
        event.remove(get_engine(), "after_cursor_execute", record)


@pytest.fixture
def sent_tasks(monkeypatch):
    """Tasks ``web.core.enqueueing`` sends, recorded instead of sent (no worker runs here)."""
    sent: list[tuple] = []
    monkeypatch.setattr(
        "web.core.enqueueing.enqueue", lambda task, *args, **_options: sent.append((task, *args))
    )
    return sent


def test_a_created_scan_is_audited_once_in_its_own_transaction(client, make_user, scan_root, sent_tasks):
    user = make_user()
    (scan_root / "app.py").write_text("import openai\n")
    commits = []

    def count(_session):
        commits.append(1)

    event.listen(Session, "after_commit", count)
    try:
        response = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers())
    finally:
        event.remove(Session, "after_commit", count)
    assert response.status_code == 202, response.json
    assert len(commits) == 1  # scan, audit row and event: one transaction
    [row] = _scan_rows(user)
    assert (row.action, row.target_id, row.status_code) == ("scan.create", response.json["id"], 202)
    assert row.actor_user_id == user.id and row.details["target"] == str(scan_root)
    assert sent_tasks == [(SCAN_RUN, response.json["id"])]


def test_a_created_scan_costs_one_round_trip_to_postgresql(client, make_user, scan_root, sent_tasks):
    """The principal comes from Redis (cached by the first request), then the scan with its audit row is
    one statement that commits alone: no ``BEGIN``, no ``COMMIT`` (the connection stays idle)."""
    user = make_user()
    (scan_root / "app.py").write_text("import openai\n")
    client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers())
    with _request_statements() as executed:
        response = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers())
    assert response.status_code == 202, response.json
    idle = psycopg.pq.TransactionStatus.IDLE
    assert executed == [(idle, "WITH")], executed
    assert len(_scan_rows(user)) == 2


def test_a_created_scan_reads_back_as_it_was_answered(client, make_user, scan_root, sent_tasks):
    user = make_user()
    (scan_root / "app.py").write_text("import openai\n")
    created = client.post(
        "/api/v1/scans", json={"target": str(scan_root), "deep": True}, headers=user.headers()
    )
    assert created.status_code == 202, created.json
    read = client.get(created.headers["Location"], headers=user.headers())
    assert read.json == created.json
    assert (created.json["status"], created.json["progress"], created.json["stage"]) == (
        "queued",
        0,
        "queued",
    )
    assert created.json["deep"] is True and created.json["created_by"] == user.id
    with session_scope() as session:
        scan = session.get(Scan, created.json["id"])
        assert (scan.attempts, scan.idempotency_key, scan.organization_id) == (0, None, user.org_id)


def test_a_refused_scan_is_audited_once_with_its_status(client, make_user, scan_root, sent_tasks):
    user = make_user()
    outside = client.post("/api/v1/scans", json={"target": "/etc"}, headers=user.headers())
    assert outside.status_code == 400
    [row] = _scan_rows(user)
    assert row.status_code == 400 and row.action == "scans:create_scan"
    assert sent_tasks == []


def test_an_answer_that_fails_after_the_commit_corrects_the_audited_status(
    client, make_user, scan_root, sent_tasks, monkeypatch
):
    user = make_user()
    (scan_root / "app.py").write_text("import openai\n")

    def broken_answer(_scan):
        raise RuntimeError("answer failed after the commit")

    monkeypatch.setattr("web.api.scans._queued_response", broken_answer)
    response = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers())
    assert response.status_code == 500
    [row] = _scan_rows(user)
    assert (row.action, row.status_code) == ("scan.create", 500)


def test_an_idempotent_replay_is_audited_once_without_naming_a_lost_scan(client, make_user, scan_root):
    """A concurrent request with the same key won the insert: the replay's own scan was rolled back, so
    its audit row (staged in that transaction) is gone and the request is recorded after the answer."""
    user = make_user()
    (scan_root / "app.py").write_text("import openai\n")
    headers = {**user.headers(), "Idempotency-Key": "same-key"}
    first = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=headers).json["id"]
    # as if the second request had looked for the key before the first one committed
    original, calls = scans_api._existing_for_key, []

    def not_yet_committed(organization_id, key):
        calls.append(key)
        return None if len(calls) == 1 else original(organization_id, key)

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(scans_api, "_existing_for_key", not_yet_committed)
        replay = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=headers)
    assert replay.status_code == 202 and replay.json["id"] == first
    rows = sorted(_scan_rows(user), key=lambda row: row.created_at)
    assert [(row.action, row.target_id) for row in rows] == [
        ("scan.create", first),
        ("scans:create_scan", None),
    ]
    with session_scope() as session:
        assert session.scalars(select(Scan.id).where(Scan.organization_id == user.org_id)).all() == [first]


def test_an_expired_key_names_a_new_scan_in_the_same_transaction(client, make_user, scan_root, sent_tasks):
    """Clearing the expired key opens the transaction, and the new scan's statement joins it."""
    user = make_user()
    (scan_root / "app.py").write_text("import openai\n")
    headers = {**user.headers(), "Idempotency-Key": "nightly"}
    first = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=headers).json["id"]
    with session_scope() as session:
        session.get(Scan, first).created_at -= scans_api.IDEMPOTENCY_WINDOW + timedelta(minutes=1)
    with _request_statements() as executed:
        second = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=headers)
    assert second.status_code == 202 and second.json["id"] != first
    intrans = psycopg.pq.TransactionStatus.INTRANS
    assert [statement for state, statement in executed if state == intrans] == ["UPDATE", "WITH"], executed
    with session_scope() as session:
        statement = select(Scan.id, Scan.idempotency_key).where(Scan.organization_id == user.org_id)
        keys = {scan_id: key for scan_id, key in session.execute(statement)}
    assert keys == {first: None, second.json["id"]: "nightly"}
    assert [row.target_id for row in _scan_rows(user) if row.action == "scan.create"].count(
        second.json["id"]
    ) == 1


# kombu declares a queue the first time a connection of the pool sends to it, in round trips of its own (the
# binding, then the queue's length): whether the producer a test gets has done so already depends on what
# ran before (the session's worker sends follow-ups through the same pool), and it is no part of what
# sending a task costs.


def _declares_a_queue(commands: list[tuple]) -> bool:
    def declaring(args: tuple) -> bool:
        return args[0] == "LLEN" or (
            args[0] == "SADD" and str(args[1]).startswith((BINDING, PERMANENT_BINDING))
        )

    # As written to the connection, kombu's declaration is in a transaction of its own.
    declared = [args for args in commands if args[0] not in ("MULTI", "EXEC")]
    return bool(declared) and all(declaring(args) for args in declared)


def _declaring_packet(packet: bytes) -> bool:
    return BINDING.encode() in packet or b"\r\nLLEN\r\n" in packet


def _commands_in(packet: bytes) -> list[tuple]:
    """The commands of what a connection wrote (Redis's protocol: arrays of bulk strings), as text."""
    commands, at = [], 0
    while at < len(packet):
        end = packet.index(b"\r\n", at)
        count, at, command = int(packet[at + 1 : end]), end + 2, []
        for _ in range(count):
            end = packet.index(b"\r\n", at)
            length, at = int(packet[at + 1 : end]), end + 2
            command.append(packet[at : at + length].decode())
            at += length + 2
        commands.append(tuple(command))
    return commands


def _packet(packed) -> bytes:
    return b"".join(bytes(part) for part in packed) if isinstance(packed, list) else bytes(packed)


def _on_pipelines(monkeypatch, handle) -> None:
    """``handle(commands, send)`` instead of every write of this thread that carries more than one command
    but a queue's declaration (a pipeline: the session's worker runs in threads of its own); ``send()``
    writes it. Whether redis-py's pipeline or ``PreparedTask`` wrote it, Redis sees the same."""
    original, test_thread = (
        redis.connection.AbstractConnection.send_packed_command,
        threading.current_thread(),
    )

    def send_packed_command(connection, packed, *args, **kwargs):
        commands = _commands_in(_packet(packed))
        if threading.current_thread() is not test_thread or len(commands) < 2 or _declares_a_queue(commands):
            return original(connection, packed, *args, **kwargs)
        return handle(commands, lambda: original(connection, packed, *args, **kwargs))

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", send_packed_command)


def _sent_pipelines(monkeypatch) -> list[list[tuple]]:
    """The commands of every pipeline this thread sends from now on, but a queue's declaration."""
    sent: list[list[tuple]] = []

    def record(commands, send):
        sent.append(commands)
        return send()

    _on_pipelines(monkeypatch, record)
    return sent


def _lost_once(monkeypatch, first_command: str, *, after_running: bool = False) -> list[list[str]]:
    """The first pipeline that starts with ``first_command`` is lost: before Redis got it, or after Redis
    ran it (its reply lost). The commands of what was lost, by name."""
    lost: list[list[str]] = []

    def lose(commands, send):
        if lost or commands[0][0] != first_command:
            return send()
        lost.append([command[0] for command in commands])
        if after_running:
            send()
            time.sleep(0.05)  # Redis runs it before the connection is dropped
        raise redis.ConnectionError("broker connection lost")

    _on_pipelines(monkeypatch, lose)
    return lost


def _decoded_body(payload: bytes) -> object:
    return json.loads(base64.b64decode(json.loads(payload)["body"]))


@pytest.fixture(params=["celery", "prepared"])
def send_path(request, monkeypatch, scan_queue) -> str:
    """``scans.run`` sent through Celery's ``send_task``, or as the ``PreparedTask`` of an earlier send."""
    if request.param == "celery":
        monkeypatch.setattr(common.celery_client, "_prepared_tasks", dict)
    else:
        assert _drop_task(scan_queue, enqueue(SCAN_RUN, "no-such-scan-warm-up")) == 1
        assert (SCAN_RUN, scan_queue) in common.celery_client._prepared_tasks()
    return request.param


def test_a_task_and_its_task_sent_event_go_out_in_one_pipeline(monkeypatch, scan_queue, send_path):
    assert celery_client().conf.task_send_sent_event  # Flower lists tasks from their task-sent events
    pipelines = _sent_pipelines(monkeypatch)
    task_id = enqueue(SCAN_RUN, "no-such-scan-pipeline")
    [commands] = pipelines
    [(push, queue, message), (publish, topic, sent_event)] = commands
    assert (push, queue, publish) == ("LPUSH", scan_queue, "PUBLISH") and topic.endswith("celeryev/task.sent")
    assert json.loads(message)["headers"]["id"] == task_id
    assert _decoded_body(message)[0] == ["no-such-scan-pipeline"]
    event = _decoded_body(sent_event)
    assert (event["type"], event["uuid"], event["name"]) == ("task-sent", task_id, SCAN_RUN)
    assert _drop_task(scan_queue, task_id) == 1


def test_a_failed_pipeline_is_sent_again_on_its_own(monkeypatch, scan_queue, send_path):
    """A blip that loses the batch: the task still arrives, once, under the id ``enqueue`` returned."""
    failures = _lost_once(monkeypatch, "LPUSH")
    task_id = enqueue(SCAN_RUN, "no-such-scan-fallback")
    assert failures == [["LPUSH", "PUBLISH"]]
    assert _drop_task(scan_queue, task_id) == 1


def test_a_prepared_batch_without_a_connection_is_sent_again_on_its_own(monkeypatch, scan_queue):
    """The pool cannot hand a ``PreparedTask``'s batch a connection (Redis restarting): the task goes through
    Celery's retrying publish, once, under the id ``enqueue`` returned, as a failed pipeline's does."""
    assert _drop_task(scan_queue, enqueue(SCAN_RUN, "no-such-scan-warm-up")) == 1  # the task prepared
    original, refused, test_thread = redis.ConnectionPool.get_connection, [], threading.current_thread()

    def get_connection(pool, *args, **kwargs):
        if not refused and threading.current_thread() is test_thread:
            refused.append(pool)
            raise redis.ConnectionError("Redis is restarting")
        return original(pool, *args, **kwargs)

    monkeypatch.setattr(redis.ConnectionPool, "get_connection", get_connection)
    task_id = enqueue(SCAN_RUN, "no-such-scan-no-connection")
    assert refused
    assert _drop_task(scan_queue, task_id) == 1


def _drop_task(queue: str, task_id: str) -> int:
    """Remove the task's messages from the queue (``scan_queue``: no worker consumes it); how many."""
    broker = redis.Redis.from_url(celery_client().conf.broker_url)
    deadline, removed = time.monotonic() + 2, 0
    while not removed and time.monotonic() < deadline:
        for message in broker.lrange(queue, 0, -1):
            if json.loads(message)["headers"]["id"] == task_id:
                removed += broker.lrem(queue, 0, message)
    return removed


@contextmanager
def _subscribed(organization_id: str) -> Iterator[redis.client.PubSub]:
    pubsub = get_redis().pubsub()
    pubsub.subscribe(events.channel_for(organization_id))
    pubsub.get_message(timeout=1)  # the subscription's confirmation
    try:
        yield pubsub
    finally:
        pubsub.close()


def test_scan_queued_leads_its_task_in_one_pipeline(
    client, make_user, scan_root, monkeypatch, scan_queue, send_path
):
    """The event first, then the task and its ``task-sent`` event: one round trip, in that order, so
    a quick worker's ``scan.started`` cannot overtake ``scan.queued``; the dashboard's version is bumped
    in it too."""
    user = make_user()
    (scan_root / "app.py").write_text("import openai\n")
    pipelines = _sent_pipelines(monkeypatch)
    with _subscribed(user.org_id) as pubsub:
        response = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers())
        message = pubsub.get_message(timeout=2)
    assert response.status_code == 202, response.json
    [commands] = pipelines
    [
        (evaluate, script, _keys, seq_key, channel, _once, *_args),
        (bump, version, _by),
        (expire, expiring, _seconds),
        (push, queue, task),
        (publish, topic, _),
    ] = commands
    # The dashboard's cache is ended in the same round trip, after the commit (``dashboard_cache``).
    assert (bump, expire) == ("INCRBY", "EXPIRE")
    assert version == expiring == dashboard_cache.version_key(user.org_id)
    assert (evaluate, script, seq_key, channel) == (
        "EVAL",
        events.PUBLISH_NUMBERED_ONCE,
        f"trusera:seq:{user.org_id}",
        events.channel_for(user.org_id),
    )
    assert (push, queue, publish) == ("LPUSH", scan_queue, "PUBLISH") and topic.endswith("celeryev/task.sent")
    assert _decoded_body(task)[0] == [response.json["id"]]
    event = json.loads(message["data"])
    assert (event["type"], event["scan_id"], event["organization_id"]) == (
        "scan.queued",
        response.json["id"],
        user.org_id,
    )
    assert event["seq"] == int(get_redis().get(seq_key))
    assert _drop_task(scan_queue, json.loads(task)["headers"]["id"]) == 1


def test_a_created_scan_costs_three_redis_round_trips(client, make_user, scan_root, scan_queue):
    """Measured: the rate limits and the principal's revocation, then ``scan.queued`` with its task in
    one pipeline. Each further round trip is a regression (it was four before they shared one)."""
    user = make_user()
    (scan_root / "app.py").write_text("import openai\n")
    created = [client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers())]
    with redis_round_trips() as round_trips:
        created.append(client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers()))
    assert [response.status_code for response in created] == [202, 202]
    sent = [packet for packet in round_trips if not _declaring_packet(packet)]
    assert len(sent) == 3, sent
    assert sum(b"EVAL\r\n" in command and b"LPUSH" in command for command in sent) == 1, sent
    for response in created:
        with session_scope() as session:
            assert session.get(Scan, response.json["id"]).status == "queued"
    assert sum(_drop_scan_tasks(scan_queue, {response.json["id"] for response in created}).values()) == 2


def test_a_failed_pipeline_still_publishes_the_event_before_the_task(
    client, make_user, scan_root, monkeypatch, scan_queue, send_path
):
    """A blip that loses the whole batch: the event goes out on its own, then the task, once."""
    user = make_user()
    (scan_root / "app.py").write_text("import openai\n")
    failures = _lost_once(monkeypatch, "EVAL")
    with _subscribed(user.org_id) as pubsub:
        response = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers())
        message = pubsub.get_message(timeout=2)
        again = pubsub.get_message(timeout=0.2)
    assert response.status_code == 202, response.json
    assert failures == [["EVAL", "INCRBY", "EXPIRE", "LPUSH", "PUBLISH"]]
    event = json.loads(message["data"])
    assert (event["type"], event["scan_id"]) == ("scan.queued", response.json["id"]) and again is None
    assert _drop_scan_tasks(scan_queue, {response.json["id"]}) == {response.json["id"]: 1}


def test_a_pipeline_whose_reply_was_lost_publishes_the_event_once(
    client, make_user, scan_root, monkeypatch, scan_queue, send_path
):
    """Redis ran the event and the task, then the connection dropped before its reply arrived: the batch
    fails as if nothing had been sent, and the event and the task are sent again. The event must still
    reach subscribers once, under one ``seq``; the task comes again under its one id (a duplicate
    delivery, as a retried single publish could make)."""
    user = make_user()
    (scan_root / "app.py").write_text("import openai\n")
    lost = _lost_once(monkeypatch, "EVAL", after_running=True)
    seq_key = f"trusera:seq:{user.org_id}"
    with _subscribed(user.org_id) as pubsub:
        response = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers())
        messages = [pubsub.get_message(timeout=2)]
        messages.append(pubsub.get_message(timeout=0.3))
    assert response.status_code == 202, response.json
    assert lost, "the pipeline's reply was never lost"
    published = [json.loads(message["data"]) for message in messages if message is not None]
    assert [(event["type"], event["scan_id"]) for event in published] == [
        ("scan.queued", response.json["id"])
    ]
    assert int(get_redis().get(seq_key)) == published[0]["seq"]
    broker = redis.Redis.from_url(celery_client().conf.broker_url)
    ids = {
        json.loads(message)["headers"]["id"]
        for message in broker.lrange(scan_queue, 0, -1)
        if _decoded_body(message)[0] == [response.json["id"]]
    }
    assert len(ids) == 1, ids
    _drop_scan_tasks(scan_queue, {response.json["id"]})


def test_a_broker_that_is_not_the_application_redis_gets_the_task_alone(
    client, make_user, scan_root, monkeypatch
):
    """Another broker (RabbitMQ, another Redis): the event is published on its own, before the task."""
    user = make_user()
    (scan_root / "app.py").write_text("import openai\n")
    monkeypatch.setattr(events, "broker_is_redis_at", lambda _url: False)
    seen_when_sent = []
    with _subscribed(user.org_id) as pubsub:

        def send(task_name, *args, **options):
            message = pubsub.get_message(timeout=1)
            seen_when_sent.append((options, json.loads(message["data"]) if message else None))

        monkeypatch.setattr("web.core.enqueueing.enqueue", send)
        response = client.post("/api/v1/scans", json={"target": str(scan_root)}, headers=user.headers())
    assert response.status_code == 202
    [(options, event)] = seen_when_sent
    assert options == {} and (event["type"], event["scan_id"]) == ("scan.queued", response.json["id"])


def _drop_scan_tasks(queue: str, scan_ids: set[str]) -> dict[str, int]:
    """Remove the ``scans.run`` messages of these scans from the queue; how many there were of each."""
    broker = redis.Redis.from_url(celery_client().conf.broker_url)
    found = dict.fromkeys(scan_ids, 0)
    deadline = time.monotonic() + 2
    while not all(found.values()) and time.monotonic() < deadline:
        for message in broker.lrange(queue, 0, -1):
            args = _decoded_body(message)[0]
            if args and args[0] in found:
                found[args[0]] += broker.lrem(queue, 0, message)
    return found


def test_every_concurrent_request_of_a_process_gets_a_producer_without_waiting():
    """A greenlet holds its producer across the pipeline's round trip while the others run: with Celery's
    pool of 10, the eleventh of 32 concurrent ``POST /scans`` waited for one. A client of its own, built as
    the process's is: the shared one's producers may be in use by a live worker's threads meanwhile."""
    client = celery_client.__wrapped__()
    pool = client.producer_pool
    held = []
    try:
        for _ in range(POOL_SIZE):
            held.append(pool.acquire(block=False))  # raises LimitExceeded when the pool is spent
    finally:
        for producer in held:
            producer.release()
        client.close()
    assert len(held) == POOL_SIZE


def test_a_new_producer_opens_one_connection_to_the_broker(monkeypatch, scan_queue):
    """A burst of requests past the warm producers creates one producer each, and each new broker
    connection costs its handshake's six round trips (``HELLO``, ``CLIENT SETINFO``, ``SELECT``…), all
    waited through by the request: the channel's opening ``PING`` goes through its publishing client,
    not through a second pool of its own (kombu's, for consuming, which this channel never does)."""
    opened = []
    original = redis.connection.AbstractConnection.connect

    def connect(self, *args, **kwargs):
        if self._sock is None:
            opened.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "connect", connect)
    client = celery_client()
    with (
        client.connection_for_write() as connection,
        client.amqp.Producer(connection) as producer,
        producer.batch(),
    ):
        task_id = client.send_task(
            SCAN_RUN, args=["no-such-scan-new-producer"], producer=producer, queue=scan_queue
        ).id
    assert len(opened) == 1, opened
    assert _drop_task(scan_queue, task_id) == 1


def test_a_channel_consumes_on_a_client_other_than_its_publishing_one():
    """kombu pins a connection on ``channel.client`` for a ``BRPOP`` (a control command's reply queue), and
    a client with a pinned connection sends every command over it: when that client was the shared
    publishing one, publishes from other threads read the ``BRPOP``'s reply ("Bad response from PING
    health check", then a disconnected socket mid-publish)."""
    with celery_client().connection_for_write() as connection:
        channel = connection.default_channel
        with channel.conn_or_acquire() as publishing:
            consuming = channel.client
            consuming.connection = consuming.connection_pool.get_connection()  # as kombu's poller does
            try:
                assert consuming is not publishing and publishing.connection is None
            finally:
                consuming.connection_pool.release(consuming.connection)
                consuming.connection = None


def _first_sends_on_pooled_connections(client, count: int) -> list[bytes]:
    """What ``count`` concurrent sends say to Redis before their task: each holds its own producer (so its
    own pooled connection), opens its channel and declares the task's queue, as Celery's publish does."""
    queue = client.amqp.queues[queue_for(SCAN_RUN)]
    producers = [client.producer_pool.acquire(block=True) for _ in range(count)]
    try:
        with redis_round_trips() as sent:
            for producer in producers:
                maybe_declare(queue, producer.channel)
    finally:
        for producer in producers:
            producer.release()
    return sent


def _new_celery_client() -> None:
    """The next ``celery_client()`` is a new client, with a broker connection pool nothing has opened (kombu
    keeps its pools per broker address for the whole process, whichever client asks)."""
    kombu.pools.reset()
    celery_client.cache_clear()
    common.celery_client._publishing_broker_url.cache_clear()


@pytest.fixture
def fresh_celery_client() -> Iterator[None]:
    _new_celery_client()
    yield
    _new_celery_client()


def test_warmed_broker_connections_spare_a_burst_of_sends_their_handshakes(fresh_celery_client):
    """A burst of sends on a cold pool opens a connection per send (``SELECT``, ``PING``) and declares the
    queue on each; after ``warm_broker_connections`` the same burst says nothing to Redis before its task."""
    cold = _first_sends_on_pooled_connections(celery_client(), 4)
    assert sum(b"\r\nPING\r\n" in packet for packet in cold) >= 4, cold
    assert sum(_declaring_packet(packet) for packet in cold) >= 4, cold

    _new_celery_client()
    assert common.celery_client.warm_broker_connections(4) == 4
    assert _first_sends_on_pooled_connections(celery_client(), 4) == []


def test_warming_takes_no_more_connections_than_the_pool_allows(fresh_celery_client):
    """Warming past the pool's limit opens what the limit allows and gives every connection back."""
    client = celery_client()
    assert common.celery_client.warm_broker_connections(client.pool.limit + 5) == client.pool.limit
    held = [client.pool.acquire(block=False) for _ in range(client.pool.limit)]
    assert all(connection.connected for connection in held)
    for connection in held:
        connection.release()


@pytest.fixture
def sent_by_celery(monkeypatch) -> list[str]:
    """The names of the tasks that went through Celery's ``send_task`` (not a ``PreparedTask``)."""
    names: list[str] = []
    original = celery_client().send_task

    def send_task(name, *args, **kwargs):
        names.append(name)
        return original(name, *args, **kwargs)

    monkeypatch.setattr(celery_client(), "send_task", send_task)
    return names


def _comparable(commands: list[tuple], task_id: str) -> tuple[list, list[float]]:
    """The task's and its event's messages, decoded, with what differs per message (its id, the delivery
    tags, the times) named instead; and the event's clock."""
    [(push, queue, message), (publish, topic, sent_event)] = commands
    decoded = []
    for text in (message, sent_event):
        envelope = json.loads(text)
        envelope["body"] = _decoded_body(text)
        envelope["properties"]["delivery_tag"] = "<tag>"
        decoded.append(json.loads(json.dumps(envelope).replace(task_id, "<id>")))
    task, event = decoded
    task["headers"]["trusera_sent_at"] = "<time>"
    clock, event["body"]["clock"], event["body"]["timestamp"] = event["body"]["clock"], "<clock>", "<time>"
    return [push, queue, task, publish, topic, event], clock


def test_a_task_sent_again_reuses_the_messages_celery_made_for_it(monkeypatch, scan_queue, sent_by_celery):
    """The first send of a task goes through Celery; the next ones are the same two messages with their
    own id, arguments, times, tags and clock, in the same pipeline, without Celery's ``send_task``."""
    pipelines = _sent_pipelines(monkeypatch)
    first = enqueue(SCAN_RUN, "no-such-scan-prepared")
    second = enqueue(SCAN_RUN, "no-such-scan-prepared")
    assert sent_by_celery == [SCAN_RUN]
    [by_celery, prepared] = pipelines
    celery_sent, celery_clock = _comparable(by_celery, first)
    prepared_sent, prepared_clock = _comparable(prepared, second)
    assert prepared_sent == celery_sent
    assert prepared_clock > celery_clock
    assert _drop_task(scan_queue, first) == 1 and _drop_task(scan_queue, second) == 1


def test_a_task_with_a_countdown_still_goes_through_celery(monkeypatch, scan_queue, sent_by_celery):
    pipelines = _sent_pipelines(monkeypatch)
    now = enqueue(SCAN_RUN, "no-such-scan-countdown")
    later = enqueue(SCAN_RUN, "no-such-scan-countdown", countdown=60)
    assert sent_by_celery == [SCAN_RUN, SCAN_RUN]
    [(_push, _queue, message), _event] = pipelines[-1]
    assert json.loads(message)["headers"]["eta"] is not None
    assert _drop_task(scan_queue, now) == 1 and _drop_task(scan_queue, later) == 1


@pytest.mark.parametrize("args", [(), (None, 2**70, "ünïcødé ☃"), ({"nested": [1, {"deep": (2, 3)}]},)])
def test_a_prepared_task_is_the_message_celery_makes_for_the_same_arguments(monkeypatch, scan_queue, args):
    """Celery describes a task without arguments as ``()`` (``argsrepr``, the event's ``args``), whatever
    sequence it was given; a prepared task must too, and reproduce any other arguments as Celery does."""
    assert _drop_task(scan_queue, enqueue(SCAN_RUN, "no-such-scan-warm-up")) == 1  # the task prepared
    prepared_tasks = common.celery_client._prepared_tasks
    pipelines = _sent_pipelines(monkeypatch)
    monkeypatch.setattr(common.celery_client, "_prepared_tasks", dict)
    by_celery = enqueue(SCAN_RUN, *args)
    monkeypatch.setattr(common.celery_client, "_prepared_tasks", prepared_tasks)
    prepared = enqueue(SCAN_RUN, *args)
    assert _comparable(pipelines[1], prepared)[0] == _comparable(pipelines[0], by_celery)[0]
    assert _drop_task(scan_queue, by_celery) == 1 and _drop_task(scan_queue, prepared) == 1


def test_a_compressed_task_is_left_to_celery(fresh_celery_client, monkeypatch, scan_queue, sent_by_celery):
    """``PreparedTask`` writes plain JSON bodies: with ``task_compression`` set, every send goes through
    Celery, and none fails after its task went out."""
    celery_client().conf.task_compression = "gzip"  # before the client's first send, which reads it
    pipelines = _sent_pipelines(monkeypatch)
    first = enqueue(SCAN_RUN, "no-such-scan-compressed")
    second = enqueue(SCAN_RUN, "no-such-scan-compressed")
    assert sent_by_celery == [SCAN_RUN, SCAN_RUN]
    assert all(
        json.loads(message)["headers"]["compression"] for [(_push, _queue, message), _event] in pipelines
    )
    assert _drop_task(scan_queue, first) == 1 and _drop_task(scan_queue, second) == 1


class CuttingProxy:
    """A TCP proxy in front of the broker's Redis that drops a client's connection, as a broker restart or a
    network blip does, on the first write that carries each of ``cut_at``'s commands in turn (before Redis
    gets it); ``cut`` lists those it dropped."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.pending: list[bytes] = []
        self.cut: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_at(self, *commands: str) -> None:
        self.pending = [f"\r\n{command}\r\n".encode() for command in commands]

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _address = self._listener.accept()
                server = socket.create_connection(self.upstream)
                threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
                threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, to_redis: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if to_redis and self.pending and self.pending[0] in data:
                    self.cut.append(self.pending.pop(0).strip())
                    break
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()


@pytest.fixture
def broker_behind_proxy(scan_queue) -> Iterator[CuttingProxy]:
    """``celery_client()`` sends through a ``CuttingProxy`` to the session's broker (``scan_queue`` first: its
    teardown reads the broker directly)."""
    import celeryconfig

    broker = urlsplit(celeryconfig.broker_url)
    proxy = CuttingProxy((broker.hostname, broker.port or 6379))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(celeryconfig, "broker_url", broker._replace(netloc=f"127.0.0.1:{proxy.port}").geturl())
        _new_celery_client()
        try:
            yield proxy
        finally:
            proxy.close()
    _new_celery_client()


def test_a_refused_batch_is_sent_again_on_a_fresh_channel(broker_behind_proxy, scan_queue):
    """The broker drops the batch, then the declaration of the queue that Celery's retrying publish makes
    first: kombu reconnects inside the declaration, closing the channel the publish still held, and the
    resend failed on it (AttributeError: the channel had no connection) with the task lost. Now kombu
    sends it again on a fresh channel."""
    broker_behind_proxy.cut_at("LPUSH", "SADD")
    task_id = enqueue(SCAN_RUN, "no-such-scan-refused-batch")
    assert broker_behind_proxy.cut == [b"LPUSH", b"SADD"]
    assert _drop_task(scan_queue, task_id) == 1


def test_a_batch_moved_to_a_fresh_channel_still_sends_its_leading_commands_first(
    broker_behind_proxy, scan_queue
):
    """The queue's declaration is dropped before a batch with ``Leading`` commands is made: kombu reconnects
    and the task would be batched on a fresh channel without them. They go first, once, then the task."""
    counter = f"test:leading:{secrets.token_hex(4)}"
    leading = Leading([("incr", counter)])
    broker_behind_proxy.cut_at("SADD")
    task_id = enqueue(SCAN_RUN, "no-such-scan-moved-batch", leading=leading)
    assert broker_behind_proxy.cut == [b"SADD"]
    assert leading.replies == [1]
    broker = redis.Redis.from_url(celery_client().conf.broker_url)
    assert broker.get(counter) == b"1"
    broker.delete(counter)
    assert _drop_task(scan_queue, task_id) == 1
