"""``/api/v1/ws``: relays an organization's events from Redis pub/sub to its WebSocket clients.

One pattern subscription per process feeds a bounded queue per socket, so a
slow client drops its oldest events instead of growing memory, and a Redis
reconnect is handled once for every socket.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time

import redis
from flask import request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from common.config import get_settings
from common.events import CHANNEL_PATTERN, CHANNEL_PREFIX, build_event
from common.models import Scan
from web.access import resolve_organization
from web.database import close_session, db
from web.extensions import sock
from web.principal import AuthenticationError, ServiceUnavailable, authenticate

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
CLIENT_QUEUE_SIZE = 1000
RECONNECT_DELAY_SECONDS = 1.0


class Relay:
    def __init__(self) -> None:
        self._queues: dict[str, set[queue.Queue]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()

    def subscribe(self, organization_id: str) -> queue.Queue:
        self._ensure_running()
        client_queue: queue.Queue = queue.Queue(maxsize=CLIENT_QUEUE_SIZE)
        with self._lock:
            self._queues.setdefault(organization_id, set()).add(client_queue)
        return client_queue

    def unsubscribe(self, organization_id: str, client_queue: queue.Queue) -> None:
        with self._lock:
            queues = self._queues.get(organization_id, set())
            queues.discard(client_queue)
            if not queues:
                self._queues.pop(organization_id, None)

    def dispatch(self, organization_id: str, message: str) -> None:
        with self._lock:
            targets = list(self._queues.get(organization_id, ()))
        for client_queue in targets:
            try:
                client_queue.put_nowait(message)
            except queue.Full:
                try:
                    client_queue.get_nowait()
                    client_queue.put_nowait(message)
                except (queue.Empty, queue.Full):
                    pass

    def _ensure_running(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ws-relay", daemon=True)
                self._thread.start()
        self.connected.wait(timeout=2)

    def _run(self) -> None:
        while True:
            pubsub = None
            try:
                client = redis.Redis.from_url(
                    get_settings().redis_url, decode_responses=True, socket_connect_timeout=2
                )
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(CHANNEL_PATTERN)
                self.connected.set()
                while True:
                    message = pubsub.get_message(timeout=1.0)
                    if message and message["type"] == "pmessage":
                        self.dispatch(message["channel"][len(CHANNEL_PREFIX) :], message["data"])
            except redis.RedisError as exc:
                self.connected.clear()
                log.warning("ws relay lost Redis (%s); reconnecting", exc)
                time.sleep(RECONNECT_DELAY_SECONDS)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(redis.RedisError):
                        pubsub.close()


relay = Relay()


def _snapshot(organization_id: str) -> list[str]:
    scans = db().scalars(
        select(Scan).where(Scan.organization_id == organization_id, Scan.status.in_(("queued", "running")))
    )
    return [
        json.dumps(
            build_event(
                organization_id,
                "scan.progress",
                0,
                scan_id=scan.id,
                status=scan.status,
                progress=scan.progress,
                stage=scan.stage,
                files_scanned=scan.files_scanned,
            )
        )
        for scan in scans
    ]


def _authorize() -> str:
    principal = authenticate(request.args.get("token"))
    organization, _role = resolve_organization(principal, request.args.get("organization_id"))
    return organization.id


@sock.route("/api/v1/ws", endpoint="ws")
def events_socket(ws):
    try:
        organization_id = _authorize()
    except (AuthenticationError, ServiceUnavailable, HTTPException) as exc:
        close_session()
        ws.close(reason=POLICY_VIOLATION, message=str(getattr(exc, "description", exc))[:120])
        return
    client_queue = relay.subscribe(organization_id)
    try:
        ws.send(json.dumps({"type": "hello", "organization_id": organization_id}))
        for message in _snapshot(organization_id):
            ws.send(message)
        close_session()
        while ws.connected:
            try:
                ws.send(client_queue.get(timeout=1.0))
            except queue.Empty:
                continue
    finally:
        relay.unsubscribe(organization_id, client_queue)
