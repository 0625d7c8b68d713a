"""Events: recorded with the state change they announce, published once it commits.

``record`` writes an event's webhook outbox row in the caller's transaction, so an event exists
exactly when its state change does; when that transaction commits, the event goes to the
organization's Redis channel (relayed by the WebSocket) and the tasks ``common.tasks.EVENT_FOLLOW_UPS``
declares for it are sent. A rolled-back transaction publishes nothing.

Every event carries a per-organization ``seq`` (a Redis counter) so clients can
order events and notice gaps after a reconnect.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis
from redis.commands.core import Script
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.orm import Session

from common import webhooks
from common.celery_client import Leading, broker_is_redis_at, enqueue_follow_ups
from common.config import get_settings
from common.db import session_scope
from common.jobs import JobEvent
from common.redis_client import get_redis
from common.tasks import OUTBOX_ID

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "trusera:events:"
CHANNEL_PATTERN = CHANNEL_PREFIX + "*"
PENDING_KEY = "trusera_pending_events"  # in ``Session.info``: events recorded, waiting for the commit

EVENT_TYPES = (
    "scan.queued",
    "scan.started",
    "scan.progress",
    "scan.completed",
    "scan.failed",
    "policy.violated",
    "export.completed",
    "alert.triggered",
)


@dataclass
class RecordedEvent:
    organization_id: str
    type: str
    payload: dict
    outbox_id: str | None
    published: dict | None = field(default=None)
    # Published with the task the caller sends after the commit (``leading_for``), not by the commit.
    with_task: bool = field(default=False)


def channel_for(organization_id: str) -> str:
    return CHANNEL_PREFIX + organization_id


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def build_event(organization_id: str, event_type: str, seq: int, **payload) -> dict:
    return {"type": event_type, "organization_id": organization_id, "seq": seq, "ts": now_iso(), **payload}


def record(session: Session, organization_id: str, event_type: str, **payload) -> RecordedEvent:
    """The event of a change made in ``session``: its outbox row is written there, the rest after commit."""
    recorded = RecordedEvent(
        organization_id,
        event_type,
        payload,
        webhooks.record_event(session, organization_id, event_type, payload),
    )
    session.info.setdefault(PENDING_KEY, []).append(recorded)
    return recorded


def record_for_task(session: Session, organization_id: str, event_type: str, **payload) -> RecordedEvent:
    """``record`` for an event that announces the task the caller sends once ``session`` commits: the
    caller passes it to ``leading_for`` and then to ``enqueue``, so it is published first, in the task's
    Redis pipeline (one round trip for both), and a quick worker's next event cannot overtake it."""
    recorded = record(session, organization_id, event_type, **payload)
    recorded.with_task = True
    return recorded


def leading_for(recorded: RecordedEvent) -> Leading | None:
    """The commands publishing ``recorded`` at the head of its task's pipeline (``enqueue(leading=...)``).

    None when the broker is not the application's Redis: then it is published here, on its own, before
    the caller sends the task.
    """
    event = build_event(recorded.organization_id, recorded.type, 0, **recorded.payload)
    if not broker_is_redis_at(get_settings().redis_url):
        recorded.published = broadcast(recorded.organization_id, recorded.type, **recorded.payload)
        return None
    keys = (
        f"trusera:seq:{recorded.organization_id}",
        channel_for(recorded.organization_id),
        f"trusera:published:{uuid.uuid4().hex}",
    )
    recorded.published = event  # its ``seq`` once the pipeline ran (``published_with``)
    args = (*split_at_seq(event), PUBLISHED_ONCE_SECONDS)
    return Leading([("eval", PUBLISH_NUMBERED_ONCE, len(keys), *keys, *args)])


def published_with(recorded: RecordedEvent, leading: Leading | None) -> dict | None:
    """The event as sent to the channel, once ``enqueue`` ran ``leading``; None when Redis refused it."""
    if leading is not None:
        replies = leading.replies or [None]
        if isinstance(replies[0], int):
            recorded.published["seq"] = replies[0]
        else:
            log.warning(
                "event %s for %s not published: %s", recorded.type, recorded.organization_id, replies[0]
            )
            recorded.published = None
    return recorded.published


def record_job_event(session: Session, job_event: JobEvent | None) -> None:
    """Record what a ``common.jobs`` transition returned (None: the transition changed nothing)."""
    if job_event is not None:
        record(session, job_event.organization_id, job_event.type, **job_event.payload)


# Numbering and publishing in one round trip: the event's JSON text goes to Redis in two halves, and the
# counter's new value is put between them.
PUBLISH_NUMBERED = """
local seq = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', KEYS[2], ARGV[1] .. seq .. ARGV[2])
return seq
"""
_script: Script | None = None  # PUBLISH_NUMBERED, registered with the client of ``get_redis()``

# ``PUBLISH_NUMBERED`` at the head of a task's pipeline (``leading_for``), run again if that pipeline
# fails. A pipeline whose reply was lost after Redis ran it fails too, so the script remembers, under a
# key of its own, the ``seq`` it published, and a second run answers with it instead of publishing the
# event again under another number. The key only has to outlive the resend, which follows at once.
PUBLISH_NUMBERED_ONCE = """
local published = redis.call('GET', KEYS[3])
if published then return tonumber(published) end
local seq = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', KEYS[2], ARGV[1] .. seq .. ARGV[2])
redis.call('SET', KEYS[3], seq, 'EX', ARGV[3])
return seq
"""
PUBLISHED_ONCE_SECONDS = 60


def split_at_seq(event: dict) -> tuple[str, str]:
    """``json.dumps(event)`` as the text before and after the value of its ``seq`` (the third key)."""
    head = json.dumps({"type": event["type"], "organization_id": event["organization_id"]})
    rest = {key: value for key, value in event.items() if key not in ("type", "organization_id", "seq")}
    return head[:-1] + ', "seq": ', ", " + json.dumps(rest)[1:]


def publish(organization_id: str, event_type: str, **payload) -> dict | None:
    """An event that is no part of a caller's transaction: recorded (outbox) in a transaction of its own.

    Returns the event as sent to the channel; None when Redis could not take it.
    """
    with session_scope() as session:
        recorded = record(session, organization_id, event_type, **payload)
    return recorded.published


def _publish_numbered() -> Script:
    """The script bound to this process's client, registered once (a new client after a fork, a new one)."""
    global _script
    client = get_redis()
    if _script is None or _script.registered_client is not client:
        _script = client.register_script(PUBLISH_NUMBERED)
    return _script


def broadcast(organization_id: str, event_type: str, **payload) -> dict | None:
    """Live only, nothing to keep or follow (progress): a Redis outage loses it but never fails the caller."""
    try:
        event = build_event(organization_id, event_type, 0, **payload)
        event["seq"] = _publish_numbered()(
            keys=[f"trusera:seq:{organization_id}", channel_for(organization_id)], args=split_at_seq(event)
        )
        return event
    except redis.RedisError as exc:
        log.warning("event %s for %s not published: %s", event_type, organization_id, exc)
        return None


@sqlalchemy_event.listens_for(Session, "after_commit")
def _publish_committed(session: Session) -> None:
    for recorded in session.info.pop(PENDING_KEY, ()):
        if not recorded.with_task:
            recorded.published = broadcast(recorded.organization_id, recorded.type, **recorded.payload)
        enqueue_follow_ups(recorded.type, {**recorded.payload, OUTBOX_ID: recorded.outbox_id})


@sqlalchemy_event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
