"""The task base class's progress contract, against the real database and Redis (no worker needed)."""

from __future__ import annotations

import json
import time

from common.db import session_scope
from common.events import channel_for
from common.models import Scan
from common.redis_client import get_redis
from tests.factories import make_scan
from workers.base import PROGRESS_INTERVAL_SECONDS, Job


def _published(pubsub, quiet_seconds: float = 1.0) -> list[dict]:
    """Every event until the channel stays quiet (subscribe confirmations are skipped)."""
    events = []
    deadline = time.monotonic() + quiet_seconds
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message and message["type"] == "message":
            events.append(json.loads(message["data"]))
            deadline = time.monotonic() + quiet_seconds
    return events


def test_progress_is_saved_and_published_only_while_the_row_runs(make_user):
    organization_id = make_user().org_id
    running = make_scan(organization_id, status="running")
    finished = make_scan(organization_id, status="completed", progress=0)
    pubsub = get_redis().pubsub()
    pubsub.subscribe(channel_for(organization_id))
    try:
        for scan_id in (running, finished):
            Job(model=Scan, row_id=scan_id, organization_id=organization_id).progress(
                40, "detecting", files_scanned=7
            )
        events = _published(pubsub)
    finally:
        pubsub.close()
    assert [(e["type"], e["scan_id"], e["progress"], e["stage"]) for e in events] == [
        ("scan.progress", running, 40, "detecting")
    ]
    with session_scope() as session:
        saved = session.get(Scan, running)
        assert (saved.progress, saved.stage, saved.files_scanned) == (40, "detecting", 7)
        assert saved.heartbeat_at is not None
        untouched = session.get(Scan, finished)
        assert (untouched.progress, untouched.heartbeat_at) == (0, None)


def test_every_stage_is_published_but_the_row_is_written_at_most_twice_a_second(make_user):
    organization_id = make_user().org_id
    scan_id = make_scan(organization_id, status="running")
    job = Job(model=Scan, row_id=scan_id, organization_id=organization_id)
    pubsub = get_redis().pubsub()
    pubsub.subscribe(channel_for(organization_id))
    try:
        for progress, stage in ((5, "walking"), (20, "detecting"), (60, "resolving"), (80, "scoring")):
            job.progress(progress, stage, files_scanned=progress)
        with session_scope() as session:
            assert session.get(Scan, scan_id).stage == "walking"  # the burst wrote the row once
        time.sleep(PROGRESS_INTERVAL_SECONDS / 2)
        job.flush()  # as the heartbeat does
        events = _published(pubsub)
    finally:
        pubsub.close()
    assert [e["stage"] for e in events] == ["walking", "detecting", "resolving", "scoring", "scoring"]
    assert [e["seq"] for e in events] == sorted({e["seq"] for e in events})
    with session_scope() as session:
        saved = session.get(Scan, scan_id)
        assert (saved.progress, saved.stage, saved.files_scanned) == (80, "scoring", 80)
