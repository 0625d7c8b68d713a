"""A cron expression naming a date that never comes (30 February) is refused, not a 500.

croniter accepts ``0 0 30 2 *`` as valid syntax, then raises its own ``ValueError`` looking for the next
run: ``POST /schedules`` answered 500 for it (with ``enabled: false`` it was stored, and enabling it later
was a 500 again), and the dispatcher, which plans every due schedule of every organization in one batch
and caught only ``CronError``, would have ended the whole batch on such a row.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from common.db import session_scope
from common.models.schedules import Schedule
from workers.schedules import dispatch_due

SCHEDULES = "/api/v1/schedules"
NEVER = ("0 0 30 2 *", "0 0 31 4 *", "0 0 31 2 1#1")


def _create(client, user, scan_root, **fields):
    body = {"name": "nightly", "target": str(scan_root), "cron": "0 9 * * *", "timezone": "UTC", **fields}
    return client.post(SCHEDULES, json=body, headers=user.headers())


@pytest.mark.parametrize("cron", NEVER)
def test_a_cron_that_never_runs_is_a_422_on_cron_whether_enabled_or_not(client, make_user, scan_root, cron):
    user = make_user()
    for enabled in (True, False):
        response = _create(client, user, scan_root, cron=cron, enabled=enabled)
        assert response.status_code == 422, response.json
        assert "never runs" in response.json["errors"]["cron"][0]
    schedule = _create(client, user, scan_root).json
    changed = client.put(f"{SCHEDULES}/{schedule['id']}", json={"cron": cron}, headers=user.headers())
    assert changed.status_code == 422, changed.json
    assert client.get(f"{SCHEDULES}/{schedule['id']}", headers=user.headers()).json["cron"] == "0 9 * * *"


def test_a_stored_never_running_schedule_is_refused_when_enabled_and_paused_by_the_dispatcher(
    client, make_user, scan_root, monkeypatch
):
    """A row saved before the check (it was stored disabled) cannot be enabled, and one found due is paused
    while another organization's due schedule still runs in the same tick."""
    monkeypatch.setattr("workers.schedules.enqueue", lambda *_args, **_kwargs: None)
    attacker, other = make_user(), make_user()
    (scan_root / "app.py").write_text("import openai\n")
    hostile = _create(client, attacker, scan_root, enabled=False).json["id"]
    honest = _create(client, other, scan_root).json["id"]
    with session_scope() as session:
        session.execute(update(Schedule).values(enabled=False, next_run_at=None))
        session.get(Schedule, hostile).cron = NEVER[0]
    enabling = client.put(f"{SCHEDULES}/{hostile}", json={"enabled": True}, headers=attacker.headers())
    assert enabling.status_code == 422 and "cron" in enabling.json["errors"], enabling.json

    tick = datetime(2030, 5, 1, 8, 0, tzinfo=UTC)
    with session_scope() as session:
        for schedule_id, due in ((hostile, tick - timedelta(minutes=1)), (honest, tick)):
            schedule = session.get(Schedule, schedule_id)
            schedule.enabled, schedule.next_run_at = True, due
    started = dispatch_due(now=tick)
    assert len(started) == 1
    shown = client.get(f"{SCHEDULES}/{honest}", headers=other.headers()).json
    assert shown["last_scan_id"] == started[0]
    paused = client.get(f"{SCHEDULES}/{hostile}", headers=attacker.headers()).json
    assert paused["enabled"] is False and paused["next_run_at"] is None
    assert "never runs" in paused["last_error"]
