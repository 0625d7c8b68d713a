"""``events.publish`` numbers and publishes an event in one Redis round trip: subscribers receive exactly
the JSON of the returned event, numbered one after the other."""

from __future__ import annotations

import json
import time

from common import events
from common.redis_client import get_redis


def test_published_text_is_the_returned_event_numbered_in_order(make_user):
    organization_id = make_user().org_id
    pubsub = get_redis().pubsub()
    pubsub.subscribe(events.channel_for(organization_id))
    try:
        sent = [
            events.publish(organization_id, "scan.progress", scan_id="s1", progress=5, stage='say "hi"'),
            events.publish(
                organization_id, "scan.completed", scan_id="s1", summary={"seq": 0, "by_type": {}}
            ),
        ]
        received, deadline = [], time.monotonic() + 5
        while len(received) < 2 and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.2)
            if message and message["type"] == "message":
                received.append(message["data"])
    finally:
        pubsub.close()
    assert received == [json.dumps(event) for event in sent]
    assert sent[1]["seq"] == sent[0]["seq"] + 1 and sent[1]["summary"]["seq"] == 0
