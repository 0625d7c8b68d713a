"""``/api/v1/ws``: relays an organization's events from Redis pub/sub to its WebSocket clients.

One pattern subscription per process feeds a bounded send queue per socket, and a Redis
reconnect is handled once for every socket.

Limits (``common.config``):

- concurrent sockets per person (``WS_MAX_SOCKETS_PER_PRINCIPAL``: a user's sessions and API keys
  together, in every organization) and per organization (``WS_MAX_SOCKETS_PER_ORG``), counted in Redis
  so every process shares the count; a socket over a cap is closed at once with 1013 (try again later)
  and a reason. Each open socket holds a lease it renews, so a process that dies without closing frees
  its slots. Counted per API key, one viewer's 25 keys (of ``API_KEYS_PER_USER``) filled their
  organization's 500 sockets, and a user's keys in a few organizations of their own every connection of
  the WebSocket service;
- a client that does not read its events: its send queue holds ``WS_SEND_QUEUE_SIZE`` events; when
  it overflows the socket is dropped (closed with 1008 if the close frame can still be written,
  else shut down), so a stalled client never grows the server's memory. It may reconnect and get
  the snapshot.

Credentials: the token comes in a first message ``{"type": "auth", "token": ...}`` (kept out of
URLs and so out of access logs) or, for older clients, ``?token=``. An open socket re-checks that its
credential still stands (session not signed out, API key not revoked, deleted or expired, user still
a member) every ``WS_RECHECK_SECONDS`` and at once on a revocation notice (``common.revocation``),
and is closed with 1008 when it does not. A failure of the server itself after the handshake closes
with 1011, so a client can tell it from a network fault and reconnect.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import socket
import struct
import threading
import time
import uuid

import redis
from flask import request
from simple_websocket import ConnectionClosed
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from common import revocation
from common.config import get_settings
from common.events import CHANNEL_PATTERN, CHANNEL_PREFIX, build_event
from common.jobs import ACTIVE_STATUSES
from common.models import ApiKey, AuthSession, Membership, Scan, User
from common.models.base import as_utc, utcnow
from common.redis_client import get_redis
from web.core.access import acting_organization
from web.core.database import close_session, db
from web.core.extensions import sock
from web.core.principal import AuthenticationError, Principal, ServiceUnavailable, credential_of, is_revoked
from web.core.tokens import sso_session_over

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
INTERNAL_ERROR = 1011
RECONNECT_DELAY_SECONDS = 1.0
LEASE_SECONDS = 60  # a socket's slot outlives a dead process by at most this long
RENEW_EVERY_SECONDS = 20
CLOSE_TIMEOUT_SECONDS = 2.0
AUTH_MESSAGE_TIMEOUT_SECONDS = 5.0
SLOTS_PREFIX = "trusera:ws:sockets:"

# KEYS: the slot sets (principal, organization); ARGV: now, lease expiry, socket id, then one cap per key.
_ACQUIRE = """
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if redis.call('ZCARD', key) >= tonumber(ARGV[3 + i]) then return i end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, ARGV[2], ARGV[3])
  redis.call('EXPIRE', key, math.ceil(tonumber(ARGV[2]) - now) + 1)
end
return 0
"""


class Slots:
    """Concurrent sockets per principal and per organization, shared by every process through Redis."""

    def __init__(self, principal_key: str, organization_id: str) -> None:
        self.keys = [f"{SLOTS_PREFIX}principal:{principal_key}", f"{SLOTS_PREFIX}org:{organization_id}"]
        self.socket_id = uuid.uuid4().hex
        self.renewed_at = 0.0

    def acquire(self) -> str | None:
        """None when the socket may open, else which limit it is over. Fails open when Redis is down."""
        settings = get_settings()
        caps = [settings.ws_max_sockets_per_principal, settings.ws_max_sockets_per_org]
        now = time.time()
        try:
            over = get_redis().eval(_ACQUIRE, 2, *self.keys, now, now + LEASE_SECONDS, self.socket_id, *caps)
        except redis.RedisError as exc:
            log.warning("WebSocket slots not counted (Redis: %s); the socket is let in", exc)
            return None
        self.renewed_at = time.monotonic()
        if over == 1:
            return (
                f"Too many open WebSockets for this user and their API keys (limit {caps[0]}); retry later."
            )
        if over == 2:
            return f"Too many open WebSockets for this organization (limit {caps[1]}); retry later."
        return None

    def renew(self) -> None:
        if time.monotonic() - self.renewed_at < RENEW_EVERY_SECONDS:
            return
        self.renewed_at = time.monotonic()
        expiry = time.time() + LEASE_SECONDS
        with contextlib.suppress(redis.RedisError):
            pipe = get_redis().pipeline()
            for key in self.keys:
                pipe.zadd(key, {self.socket_id: expiry}, xx=True)
                pipe.expire(key, LEASE_SECONDS + 1)
            pipe.execute()

    def release(self) -> None:
        with contextlib.suppress(redis.RedisError):
            pipe = get_redis().pipeline()
            for key in self.keys:
                pipe.zrem(key, self.socket_id)
            pipe.execute()


class Subscriber:
    """One socket's bounded send queue. Overflowing it drops the subscriber (and so the socket)."""

    def __init__(self, raw_socket: socket.socket | None, size: int, user_id: str) -> None:
        self.queue: queue.Queue = queue.Queue(maxsize=size)
        self.dropped = threading.Event()
        self.user_id = user_id
        self.recheck = threading.Event()  # a revocation notice named this socket's user
        self._raw_socket = raw_socket
        self._lock = threading.Lock()
        self._sending = False

    def offer(self, message: str) -> bool:
        try:
            self.queue.put_nowait(message)
            return True
        except queue.Full:
            self.drop()
            return False

    def drop(self) -> None:
        with self._lock:
            self.dropped.set()
            stuck = self._sending
        if stuck:
            _abort(self._raw_socket)  # the sender is blocked on a client that does not read: unblock it

    def send(self, ws, message: str) -> bool:
        with self._lock:
            if self.dropped.is_set():
                return False
            self._sending = True
        try:
            ws.send(message)
        finally:
            with self._lock:
                self._sending = False
        return True


class Relay:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()

    def subscribe(self, organization_id: str, subscriber: Subscriber) -> Subscriber:
        self._ensure_running()
        with self._lock:
            self._subscribers.setdefault(organization_id, set()).add(subscriber)
        return subscriber

    def unsubscribe(self, organization_id: str, subscriber: Subscriber) -> None:
        with self._lock:
            subscribers = self._subscribers.get(organization_id, set())
            subscribers.discard(subscriber)
            if not subscribers:
                self._subscribers.pop(organization_id, None)

    def subscribers(self, organization_id: str) -> int:
        with self._lock:
            return len(self._subscribers.get(organization_id, ()))

    def dispatch(self, organization_id: str, message: str) -> None:
        with self._lock:
            targets = list(self._subscribers.get(organization_id, ()))
        for subscriber in targets:
            if not subscriber.offer(message):
                self.unsubscribe(organization_id, subscriber)
                log.warning(
                    "dropped a WebSocket of %s: %d events unread", organization_id, subscriber.queue.maxsize
                )

    def recheck_user(self, user_id: str) -> None:
        with self._lock:
            targets = [s for subscribers in self._subscribers.values() for s in subscribers]
        for subscriber in targets:
            if subscriber.user_id == user_id:
                subscriber.recheck.set()

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
                pubsub.subscribe(revocation.CHANNEL)
                self.connected.set()
                while True:
                    message = pubsub.get_message(timeout=1.0)
                    if message and message["type"] == "pmessage":
                        self.dispatch(message["channel"][len(CHANNEL_PREFIX) :], message["data"])
                    elif message and message["type"] == "message":
                        self.recheck_user(message["data"])
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
        select(Scan).where(Scan.organization_id == organization_id, Scan.status.in_(ACTIVE_STATUSES))
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


def _token(ws) -> str | None:
    """``?token=``, else the first message ``{"type": "auth", "token": "..."}``."""
    if request.args.get("token"):
        return request.args["token"]
    try:
        first = json.loads(ws.receive(timeout=AUTH_MESSAGE_TIMEOUT_SECONDS) or "null")
    except (ValueError, TypeError):
        return None
    if isinstance(first, dict) and first.get("type") == "auth" and isinstance(first.get("token"), str):
        return first["token"]
    return None


def _authorize(token: str | None) -> tuple[Principal, str]:
    principal, membership = acting_organization(credential_of(token), request.args.get("organization_id"))
    return principal, membership.organization_id


def revocation_reason(principal: Principal, organization_id: str) -> str | None:
    """Why the socket's credential no longer stands, or None. An access token outliving its expiry
    is not a reason: the socket was authorized once, like a session, until someone ends it."""
    if principal.api_key_id:
        key = db().get(ApiKey, principal.api_key_id)
        if key is None or key.revoked_at is not None:
            return "The API key was revoked."
        if key.expires_at is not None and as_utc(key.expires_at) <= utcnow():
            return "The API key has expired."
    else:
        session = db().get(AuthSession, principal.session_id) if principal.session_id else None
        if (session is not None and session.revoked_at is not None) or is_revoked(
            principal.token_jti, principal.session_id
        ):
            return "The session was signed out."
        if session is not None and sso_session_over(session):
            return "The single sign-on session has ended; sign in through the identity provider again."
    if db().get(User, principal.user_id) is None:
        return "The account no longer exists."
    member = db().scalar(
        select(Membership.id).where(
            Membership.organization_id == organization_id, Membership.user_id == principal.user_id
        )
    )
    return None if member else "You are no longer a member of this organization."


def _still_authorized(ws, principal: Principal, organization_id: str) -> bool:
    try:
        reason = revocation_reason(principal, organization_id)
    except ServiceUnavailable:
        return True  # Redis is down: no events flow either; the next check decides
    finally:
        close_session()
    if reason is not None:
        _close(ws, POLICY_VIOLATION, reason)
        return False
    return True


def _abort(raw_socket: socket.socket | None) -> None:
    """Reset the connection: a stalled client's unsent data is discarded, not kept by the kernel."""
    if raw_socket is None:
        return
    with contextlib.suppress(OSError):
        raw_socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raw_socket.shutdown(socket.SHUT_RDWR)


def _close(ws, code: int, message: str) -> None:
    """Send the close frame; a client that takes longer than CLOSE_TIMEOUT_SECONDS to accept it is reset."""
    try:
        ws.sock.settimeout(CLOSE_TIMEOUT_SECONDS)
        ws.close(reason=code, message=message[:120])
        ws.sock.shutdown(socket.SHUT_WR)
    except (ConnectionClosed, OSError):
        _abort(ws.sock)


def _fail(ws, doing: str) -> None:
    """Close with 1011: without a close frame the client sees a dropped connection, not a server fault."""
    log.exception("WebSocket failed while %s", doing)
    close_session()
    _close(ws, INTERNAL_ERROR, "The server failed; reconnect.")


@sock.route("/api/v1/ws", endpoint="ws")
def events_socket(ws):
    try:
        principal, organization_id = _authorize(_token(ws))
    except (AuthenticationError, ServiceUnavailable, HTTPException) as exc:
        close_session()
        ws.close(reason=POLICY_VIOLATION, message=str(getattr(exc, "description", exc))[:120])
        return
    except (ConnectionClosed, OSError):
        close_session()
        return  # the client left before its first message
    except Exception:
        _fail(ws, "authorizing a WebSocket")
        return
    slots = Slots(f"user:{principal.user_id}", organization_id)
    over = slots.acquire()
    if over is not None:
        close_session()
        _close(ws, TRY_AGAIN_LATER, over)
        return
    settings = get_settings()
    subscriber = relay.subscribe(
        organization_id, Subscriber(ws.sock, settings.ws_send_queue_size, principal.user_id)
    )
    next_check = time.monotonic() + settings.ws_recheck_seconds
    try:
        ws.send(json.dumps({"type": "hello", "organization_id": organization_id}))
        for message in _snapshot(organization_id):
            ws.send(message)
        close_session()
        while ws.connected and not subscriber.dropped.is_set():
            slots.renew()  # throttled to every RENEW_EVERY_SECONDS; a busy socket must renew too
            if subscriber.recheck.is_set() or time.monotonic() >= next_check:
                subscriber.recheck.clear()
                next_check = time.monotonic() + settings.ws_recheck_seconds
                if not _still_authorized(ws, principal, organization_id):
                    break
            try:
                message = subscriber.queue.get(timeout=1.0)
            except queue.Empty:
                continue
            if not subscriber.send(ws, message):
                break
        if subscriber.dropped.is_set():
            _close(ws, POLICY_VIOLATION, "Events were not read fast enough; reconnect for a fresh snapshot.")
    except (ConnectionClosed, OSError):
        pass  # the client went away, or its stalled socket was shut down by the relay
    except Exception:
        _fail(ws, f"relaying events of organization {organization_id}")
    finally:
        close_session()
        relay.unsubscribe(organization_id, subscriber)
        slots.release()
