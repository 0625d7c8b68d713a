"""``dashboard.reconcile`` through the real worker: beat sends it to the ``maintenance`` queue, and it rolls
up a completed scan whose ``dashboard.roll_up`` follow-up was lost, and counts its summary row again."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

import celeryconfig
from common.celery_client import enqueue
from common.db import session_scope
from common.models.scans import DashboardSummary, ScanRollup
from common.tasks import DASHBOARD_RECONCILE, queue_for
from tests.factories import component, make_scan
from tests.helpers import wait_for

pytestmark = pytest.mark.usefixtures("celery_worker")

OVERVIEW = "/api/v1/dashboard/overview"


def test_beat_sends_the_reconcile_to_the_maintenance_queue():
    schedules = [
        entry for entry in celeryconfig.beat_schedule.values() if entry["task"] == DASHBOARD_RECONCILE
    ]
    assert [entry["schedule"] for entry in schedules] == [300.0]
    assert queue_for(DASHBOARD_RECONCILE) == "maintenance"


def test_the_worker_rolls_up_a_scan_whose_follow_up_was_lost(client, make_user):
    user = make_user()
    lost = make_scan(
        user.org_id, components=[component("model", "gpt-4o", provider="openai", severity="high", risk=80)]
    )
    live = client.get(OVERVIEW, headers=user.headers()).json

    def rolled_up() -> set[tuple] | None:
        with session_scope() as session:
            rows = session.execute(
                select(ScanRollup.kind, ScanRollup.name, ScanRollup.components).where(
                    ScanRollup.scan_id == lost
                )
            ).all()
            summary = session.get(DashboardSummary, user.org_id)
            return summary is not None and {tuple(row) for row in rows}

    enqueue(DASHBOARD_RECONCILE)
    assert wait_for(rolled_up) == {
        ("total", "", 1),
        ("severity", "high", 1),
        ("provider", "openai", 1),
        ("model", "gpt-4o", 1),
    }
    with session_scope() as session:
        current = json.loads(session.get(DashboardSummary, user.org_id).current)
    assert current == {key: live[key] for key in current} and current["targets"] == 1
    assert client.get(OVERVIEW, headers=user.headers()).json == live
