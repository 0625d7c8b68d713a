"""Real-time events: workers publish to an organization's Redis channel, the WebSocket relays it.

Every event carries a per-organization ``seq`` (a Redis counter) so clients can
order events and notice gaps after a reconnect.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import redis

from common.redis_client import get_redis

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "trusera:events:"
CHANNEL_PATTERN = CHANNEL_PREFIX + "*"

EVENT_TYPES = (
    "scan.queued",
    "scan.started",
    "scan.progress",
    "scan.completed",
    "scan.failed",
    "export.completed",
    "alert.triggered",
)


def channel_for(organization_id: str) -> str:
    return CHANNEL_PREFIX + organization_id


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def build_event(organization_id: str, event_type: str, seq: int, **payload) -> dict:
    return {"type": event_type, "organization_id": organization_id, "seq": seq, "ts": now_iso(), **payload}


def publish(organization_id: str, event_type: str, **payload) -> dict | None:
    """Publish an event; a Redis outage loses the live event but never fails the caller's work."""
    try:
        client = get_redis()
        seq = client.incr(f"trusera:seq:{organization_id}")
        event = build_event(organization_id, event_type, seq, **payload)
        client.publish(channel_for(organization_id), json.dumps(event))
        return event
    except redis.RedisError as exc:
        log.warning("event %s for %s not published: %s", event_type, organization_id, exc)
        return None
