"""A schedule keeps at most one scan in flight.

Before, a schedule due every minute started a scan every minute whatever became of the last one, and an
editor may create any number of schedules (each under the general 200-a-minute limit, not the 10-a-minute
scan limit): an organization could add thousands of scans an hour to the ``scans`` queue every
organization shares. Here no worker drains the queue (a backlog), so every scan stays queued.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from common.db import session_scope
from common.models import Scan
from common.models.schedules import Schedule
from workers.schedules import SKIPPED_WHILE_IN_FLIGHT, dispatch_due


@pytest.fixture(autouse=True)
def backlog(monkeypatch):
    """Only this test's schedules are due, and what is enqueued is never run."""
    with session_scope() as session:
        session.execute(update(Schedule).values(enabled=False, next_run_at=None))
    monkeypatch.setattr("workers.schedules.enqueue", lambda *_args, **_kwargs: None)


def _scans(organization_id: str) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).where(Scan.organization_id == organization_id))


def test_a_schedule_starts_no_run_while_its_last_scan_is_queued(client, make_user, scan_root):
    (scan_root / "app.py").write_text("import openai\n")
    user = make_user()
    body = {"name": "flood", "target": str(scan_root), "cron": "* * * * *", "timezone": "UTC"}
    schedule_id = client.post("/api/v1/schedules", json=body, headers=user.headers()).json["id"]
    first_tick = datetime(2030, 5, 1, 8, 0, tzinfo=UTC)
    with session_scope() as session:
        session.get(Schedule, schedule_id).next_run_at = first_tick
    (first,) = dispatch_due(now=first_tick)
    for minute in range(1, 4):
        assert dispatch_due(now=first_tick + timedelta(minutes=minute)) == []
    assert _scans(user.org_id) == 1
    shown = client.get(f"/api/v1/schedules/{schedule_id}", headers=user.headers()).json
    assert shown["last_error"] == SKIPPED_WHILE_IN_FLIGHT and shown["last_scan_id"] == first
    assert datetime.fromisoformat(shown["next_run_at"]) == first_tick + timedelta(minutes=4)
    with session_scope() as session:
        session.get(Scan, first).status = "completed"
    (second,) = dispatch_due(now=first_tick + timedelta(minutes=4))
    assert second != first and _scans(user.org_id) == 2
    assert client.get(f"/api/v1/schedules/{schedule_id}", headers=user.headers()).json["last_error"] is None
