"""Real-time events: workers publish to an organization's Redis channel, the WebSocket relays it.

Every event carries a per-organization ``seq`` (a Redis counter) so clients can
order events and notice gaps after a reconnect. Events webhooks may subscribe to are
also handed to the webhook outbox, and a failed scan to the alert rules.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import redis

from common import webhooks
from common.db import session_scope
from common.pipeline import enqueue
from common.redis_client import get_redis
from common.tasks import ALERTS_EVALUATE_SCAN, WEBHOOK_DISPATCH
from common.webhooks import OUTBOX_EVENT_TYPES

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "trusera:events:"
CHANNEL_PATTERN = CHANNEL_PREFIX + "*"

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


def channel_for(organization_id: str) -> str:
    return CHANNEL_PREFIX + organization_id


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def build_event(organization_id: str, event_type: str, seq: int, **payload) -> dict:
    return {"type": event_type, "organization_id": organization_id, "seq": seq, "ts": now_iso(), **payload}


# Numbering and publishing in one round trip: the event's JSON text goes to Redis in two halves, and the
# counter's new value is put between them.
PUBLISH_NUMBERED = """
local seq = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', KEYS[2], ARGV[1] .. seq .. ARGV[2])
return seq
"""


def split_at_seq(event: dict) -> tuple[str, str]:
    """``json.dumps(event)`` as the text before and after the value of its ``seq`` (the third key)."""
    head = json.dumps({"type": event["type"], "organization_id": event["organization_id"]})
    rest = {key: value for key, value in event.items() if key not in ("type", "organization_id", "seq")}
    return head[:-1] + ', "seq": ', ", " + json.dumps(rest)[1:]


def publish(organization_id: str, event_type: str, **payload) -> dict | None:
    """Publish an event; a Redis outage loses the live event but never fails the caller's work."""
    event = None
    try:
        client = get_redis()
        event = build_event(organization_id, event_type, 0, **payload)
        event["seq"] = client.register_script(PUBLISH_NUMBERED)(
            keys=[f"trusera:seq:{organization_id}", channel_for(organization_id)], args=split_at_seq(event)
        )
    except redis.RedisError as exc:
        log.warning("event %s for %s not published: %s", event_type, organization_id, exc)
    if event_type in OUTBOX_EVENT_TYPES:
        _hand_off(organization_id, event_type, payload)
    return event


def _hand_off(organization_id: str, event_type: str, payload: dict) -> None:
    """Work that follows an event: the webhook outbox, and alert rules for a failed scan.

    Each part is best effort on its own: the publisher's work is already done and must not fail here.
    """
    try:
        with session_scope() as session:
            event_id = webhooks.record_event(session, organization_id, event_type, payload)
        if event_id is not None:
            enqueue(WEBHOOK_DISPATCH, event_id)
    except Exception as exc:
        log.warning("webhooks for %s of %s not dispatched: %s", event_type, organization_id, exc)
    if event_type == "scan.failed" and payload.get("scan_id"):
        try:
            enqueue(ALERTS_EVALUATE_SCAN, payload["scan_id"])
        except Exception as exc:
            log.warning("alert rules for failed scan %s not evaluated: %s", payload["scan_id"], exc)
