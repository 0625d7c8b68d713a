"""Scheduled scans through the real path: API → schedules row → dispatch_due → Redis → real worker → scan.

Time is injected into ``dispatch_due`` (never slept), and the concurrency proofs use
separate database connections against the real PostgreSQL.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update

from common.celery_client import enqueue
from common.db import new_session, session_scope
from common.models import Scan
from common.models.schedules import Schedule
from common.tasks import SCHEDULES_DISPATCH_DUE
from tests.helpers import wait_for, wait_for_scan
from workers.schedules import dispatch_due

pytestmark = pytest.mark.usefixtures("celery_worker")

SCHEDULES = "/api/v1/schedules"


@pytest.fixture(autouse=True)
def only_this_tests_schedules():
    """dispatch_due serves every organization: pause the schedules earlier tests left behind."""
    with session_scope() as session:
        session.execute(update(Schedule).values(enabled=False, next_run_at=None))


def _project(root):
    (root / "app.py").write_text("import openai\nclient = openai.OpenAI()\n")
    return root


def _schedule(client, user, target, **fields) -> dict:
    body = {
        "name": "nightly",
        "target": str(target),
        "cron": "0 9 * * *",
        "timezone": "Europe/Berlin",
        **fields,
    }
    response = client.post(SCHEDULES, json=body, headers=user.headers())
    assert response.status_code == 201, response.json
    return response.json


def _set_next_run(schedule_id: str, when: datetime) -> None:
    with session_scope() as session:
        session.get(Schedule, schedule_id).next_run_at = when


def _scan_count(organization_id: str) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).where(Scan.organization_id == organization_id))


def _row(schedule_id: str) -> Schedule:
    with session_scope() as session:
        return session.get(Schedule, schedule_id)


def test_a_due_schedule_runs_exactly_once_under_concurrent_dispatchers(client, make_user, scan_root):
    user = make_user()
    _project(scan_root)
    due_at = datetime(2030, 1, 15, 8, 0, tzinfo=UTC)
    schedules = [_schedule(client, user, scan_root, name=f"s{i}")["id"] for i in range(12)]
    for schedule_id in schedules:
        _set_next_run(schedule_id, due_at)
    start = threading.Barrier(4)
    results: list[list[str]] = []

    def dispatcher():
        start.wait()
        results.append(dispatch_due(now=due_at))

    threads = [threading.Thread(target=dispatcher) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    started = [scan_id for batch in results for scan_id in batch]
    assert len(results) == 4 and len(started) == len(set(started)) == 12
    assert _scan_count(user.org_id) == 12
    rows = [_row(schedule_id) for schedule_id in schedules]
    assert {row.last_scan_id for row in rows} == set(started)
    assert all(row.next_run_at > due_at and row.last_run_at == due_at for row in rows)
    assert dispatch_due(now=due_at) == []
    for scan_id in started:
        assert wait_for_scan(client, user, scan_id)["status"] == "completed"


def test_a_schedule_locked_by_another_dispatcher_is_skipped_not_doubled(client, make_user, scan_root):
    user = make_user()
    _project(scan_root)
    due_at = datetime(2030, 2, 1, 8, 0, tzinfo=UTC)
    schedule_id = _schedule(client, user, scan_root)["id"]
    _set_next_run(schedule_id, due_at)
    other = new_session()
    try:
        other.execute(text("SELECT id FROM schedules WHERE id = :id FOR UPDATE"), {"id": schedule_id})
        assert dispatch_due(now=due_at) == []  # skipped at once, not blocked
    finally:
        other.rollback()
        other.close()
    (scan_id,) = dispatch_due(now=due_at)
    assert dispatch_due(now=due_at) == [] and _scan_count(user.org_id) == 1
    assert wait_for_scan(client, user, scan_id)["status"] == "completed"


def test_berlin_schedule_fires_at_the_right_utc_instant_across_dst(client, make_user, scan_root):
    user = make_user()
    _project(scan_root)
    schedule_id = _schedule(client, user, scan_root, cron="0 9 * * *", timezone="Europe/Berlin")["id"]
    _set_next_run(schedule_id, datetime(2026, 3, 28, 8, 0, tzinfo=UTC))  # Saturday 09:00 CET
    fired = []
    # Clocks go forward on Sunday 2026-03-29: 09:00 CEST is 07:00 UTC from then on.
    for instant, expect_scan, expected_next in [
        (datetime(2026, 3, 28, 7, 59, 59, tzinfo=UTC), False, datetime(2026, 3, 28, 8, 0, tzinfo=UTC)),
        (datetime(2026, 3, 28, 8, 0, tzinfo=UTC), True, datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),
        (datetime(2026, 3, 29, 6, 59, 59, tzinfo=UTC), False, datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),
        (datetime(2026, 3, 29, 7, 0, 30, tzinfo=UTC), True, datetime(2026, 3, 30, 7, 0, tzinfo=UTC)),
    ]:
        started = dispatch_due(now=instant)
        assert bool(started) is expect_scan, instant
        fired += started
        assert _row(schedule_id).next_run_at == expected_next, instant
        for scan_id in started:  # a schedule starts no run while its last scan is in flight
            wait_for_scan(client, user, scan_id)
    # ...and back on Sunday 2026-10-25: 09:00 CET is 08:00 UTC again.
    _set_next_run(schedule_id, datetime(2026, 10, 24, 7, 0, tzinfo=UTC))
    fired += dispatch_due(now=datetime(2026, 10, 24, 7, 0, tzinfo=UTC))
    assert _row(schedule_id).next_run_at == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
    for scan_id in fired:
        wait_for_scan(client, user, scan_id)
    assert len(fired) == 3


def test_a_time_repeated_by_the_autumn_change_runs_once(client, make_user, scan_root):
    user = make_user()
    _project(scan_root)
    schedule_id = _schedule(client, user, scan_root, cron="30 2 * * *", timezone="Europe/Berlin")["id"]
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST; 02:30 CET would be 01:30 UTC
    _set_next_run(schedule_id, first)
    (scan_id,) = dispatch_due(now=first)
    assert dispatch_due(now=datetime(2026, 10, 25, 1, 30, tzinfo=UTC)) == []
    assert _row(schedule_id).next_run_at == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)
    wait_for_scan(client, user, scan_id)


def test_a_schedule_created_over_the_api_is_picked_up_by_the_running_worker(client, make_user, scan_root):
    user = make_user()
    _project(scan_root)
    created = _schedule(client, user, scan_root, cron="*/5 * * * *", timezone="UTC", deep=True)
    tick = created["next_run_at"]
    enqueue(SCHEDULES_DISPATCH_DUE, tick)  # what beat sends each minute, at the run's instant
    fetched = wait_for(
        lambda: (
            (s := client.get(f"{SCHEDULES}/{created['id']}", headers=user.headers()).json)["last_scan_id"]
            and s
        )
    )
    assert fetched["last_run_at"] == tick and fetched["last_error"] is None
    tick_at = datetime.fromisoformat(tick)
    assert datetime.fromisoformat(fetched["next_run_at"]) == tick_at + timedelta(minutes=5)
    scan = wait_for_scan(client, user, fetched["last_scan_id"])
    assert scan["status"] == "completed" and scan["deep"] is True and scan["target"] == str(scan_root)
    assert scan["created_by"] == user.id and scan["summary"]["total_components"] >= 1


def test_disabled_and_unscannable_schedules_start_nothing(client, make_user, scan_root):
    user = make_user()
    target = scan_root / "moved"
    target.mkdir()
    _project(target)
    due_at = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)
    paused = _schedule(client, user, scan_root, name="paused", enabled=False)["id"]
    gone = _schedule(client, user, target, name="gone")["id"]
    _set_next_run(paused, due_at)
    _set_next_run(gone, due_at)
    for path in sorted(target.rglob("*"), reverse=True):
        path.unlink()
    target.rmdir()
    assert dispatch_due(now=due_at) == []
    missing = _row(gone)
    assert "does not exist" in missing.last_error and missing.next_run_at > due_at
    assert missing.last_run_at == due_at and missing.last_scan_id is None
    assert _row(paused).last_run_at is None and _scan_count(user.org_id) == 0
