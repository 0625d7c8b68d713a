"""One organization's slow remotes do not hold every scan worker.

The attacker is an analyst of any organization. They create scans of an n8n instance of their own that
answers each page just inside the timeout with a fresh ``nextCursor``: each such scan held a scans worker
for the whole-scan budget (30 min). Compose runs 2 scan processes, and ``SCANS_IN_FLIGHT_PER_ORG`` (20)
bounds scans queued or running, not running: two such scans held every worker, and every other
organization's scans waited. An organization now runs at most ``SCANS_RUNNING_PER_ORG`` scans at once
(its further scans stay queued, no attempt counted) while another organization's scan waits or runs,
and an n8n instance's whole scan has a deadline.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from common import org_slots
from common.config import InsecureConfiguration, load_settings, reset_settings
from common.db import session_scope
from common.models import Scan
from common.models.base import utcnow
from common.org_slots import Slot
from common.redis_client import get_redis
from common.tasks import SCAN_RUN
from tests.helpers import register_user, wait_for, wait_for_scan
from tests.n8n_server import FakeN8n, agent_workflow
from workers import scans as scan_tasks
from workers.maintenance import reconcile_jobs

pytestmark = pytest.mark.usefixtures("celery_worker")

API_KEY = "n8n_api_tarpit_key_0123456789"


@pytest.fixture
def settings_env(monkeypatch):
    """Set environment settings for the test (the session's worker reads them too)."""

    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        reset_settings()

    yield apply
    monkeypatch.undo()
    reset_settings()


@pytest.fixture
def tarpit():
    hold = threading.Event()
    fake = FakeN8n(
        api_key=API_KEY, workflows=[agent_workflow("w0", "Bot")], hold=hold, page_delay=0.1
    ).start()
    yield fake
    hold.set()
    fake.stop()


def _n8n_scan(client, user, n8n: FakeN8n) -> str:
    response = client.post(
        "/api/v1/scans", json={"n8n_url": n8n.url, "n8n_api_key": API_KEY}, headers=user.headers()
    )
    assert response.status_code == 202, response.json
    return response.json["id"]


def _row(scan_id: str) -> Scan:
    with session_scope() as session:
        scan = session.get(Scan, scan_id)
        session.expunge(scan)
        return scan


def _end_other_organizations_scans(organization_id: str) -> None:
    """Earlier tests of the session leave scans queued (their messages held back or on queues no worker
    reads): an organization is alone on the queue only once they are ended."""
    with session_scope() as session:
        session.execute(
            update(Scan)
            .where(Scan.organization_id != organization_id, Scan.status.in_(("queued", "running")))
            .values(status="failed", error="left over by an earlier test")
        )


def test_an_organization_alone_runs_scans_on_every_worker(client, make_user, tarpit, settings_env):
    """The cap binds only while another organization waits: alone, an organization's scans run side by
    side (a self-hosted install has one organization, and its scans workers are all its own)."""
    settings_env(SCANS_RUNNING_PER_ORG="1")
    user = make_user()
    _end_other_organizations_scans(user.org_id)
    scans = [_n8n_scan(client, user, tarpit), _n8n_scan(client, user, tarpit)]
    try:
        wait_for(lambda: all(_row(scan_id).status == "running" for scan_id in scans), timeout=30)
    finally:
        tarpit.hold.set()
    for scan_id in scans:
        assert wait_for_scan(client, user, scan_id)["status"] == "completed"


def test_an_organizations_slow_scans_leave_workers_for_the_others(client, make_user, tarpit, settings_env):
    settings_env(SCANS_RUNNING_PER_ORG="1")
    attacker, victim = make_user(), make_user()
    slow = FakeN8n(
        api_key=API_KEY,
        workflows=[agent_workflow("w1", "Support bot")],
        hold=threading.Event(),
        page_delay=0.1,
    ).start()
    try:
        first = _n8n_scan(client, attacker, tarpit)
        wait_for(lambda: _row(first).status == "running" and len(tarpit.requests) >= 2, timeout=30)
        victims = _n8n_scan(client, victim, slow)
        wait_for(lambda: _row(victims).status == "running", timeout=30)
        second = _n8n_scan(client, attacker, tarpit)
        wait_for(lambda: _row(second).next_look_at is not None, timeout=30)  # it looked: not its turn
        waiting = _row(second)
        assert (waiting.status, waiting.attempts, waiting.started_at) == ("queued", 0, None)
        slow.hold.set()
        assert wait_for_scan(client, victim, victims)["status"] == "completed"
        assert _row(first).status == "running"
    finally:
        tarpit.hold.set()
        slow.hold.set()
        slow.stop()
    assert wait_for_scan(client, attacker, first)["status"] == "completed"
    scan = wait_for_scan(client, attacker, second, timeout=90)
    assert scan["status"] == "completed", scan
    assert _row(second).attempts == 1  # waiting was no attempt
    assert _row(second).started_at >= _row(victims).finished_at  # it waited while the victim's scan ran


def test_a_scan_waiting_its_turn_is_left_to_its_message(client, settings_env, monkeypatch):
    """Waiting is no attempt and no lost message: the scan stays queued, says when it looks again, and the
    reconciler neither re-sends it nor counts it towards failing it as never started."""
    settings_env(SCANS_RUNNING_PER_ORG="1")
    user, other = register_user(client), register_user(client)
    with session_scope() as session:
        scan = Scan(organization_id=user.org_id, n8n_url="http://127.0.0.1:9", resends=2)
        scan.created_at = utcnow() - timedelta(hours=2)
        others = Scan(organization_id=other.org_id, n8n_url="http://127.0.0.1:9", status="running")
        session.add_all([scan, others])
        session.flush()
        scan_id, others_id = scan.id, others.id
    queued: list[tuple] = []
    monkeypatch.setattr(scan_tasks, "enqueue", lambda *args, **kwargs: queued.append((args, kwargs)))
    running = Slot("scans-running", token="another-scan")  # a scan of the organization running elsewhere
    assert running.take(user.org_id, 1, 60)
    try:
        scan_tasks.run_scan(scan_id, 3)
        [(args, kwargs)] = queued
        assert args == (SCAN_RUN, scan_id, 4) and 8 <= kwargs["countdown"] <= 10
        waiting = _row(scan_id)
        assert (waiting.status, waiting.attempts, waiting.resends) == ("queued", 0, 0)
        assert waiting.next_look_at > utcnow()
        assert scan_id not in reconcile_jobs()["requeued"] + reconcile_jobs()["failed"]
        assert _row(scan_id).status == "queued"
    finally:
        running.release()
        with session_scope() as session:
            session.execute(update(Scan).where(Scan.id.in_((scan_id, others_id))).values(status="failed"))


def test_a_borrowed_turn_counts_against_the_cap(client):
    """A turn taken over the cap (no other organization waiting) is a lease like any: the organization's
    next scan waits until it is back under its cap."""
    user = register_user(client)
    held, borrowed, next_one = (Slot("scans-running", token=f"b{n}") for n in range(3))
    try:
        assert held.take(user.org_id, 1, 60)
        assert borrowed.take(user.org_id, None, 60)
        held.release()
        assert not next_one.take(user.org_id, 1, 60)
    finally:
        borrowed.release()
    assert next_one.take(user.org_id, 1, 60)
    next_one.release()


def test_a_redelivered_scan_takes_the_turn_its_lost_worker_still_holds(client, monkeypatch):
    """A scan's message redelivered (its worker lost) finds its own lease, not another scan's: it runs. The
    lost worker's lease counts until it lapses, as the worker may still be running."""
    user = register_user(client)
    lost, redelivered, other = (
        Slot("scans-running", token="s1"),
        Slot("scans-running", token="s1"),
        Slot("scans-running", token="s2"),
    )
    assert lost.take(user.org_id, 1, 60)
    assert redelivered.take(user.org_id, 1, 60)
    assert not other.take(user.org_id, 1, 60)
    redelivered.release()
    assert not other.take(user.org_id, 1, 60)
    started = time.time()
    monkeypatch.setattr(org_slots, "wall_clock", lambda: started + 61)  # the lost worker's lease lapsed
    assert other.take(user.org_id, 1, 60)
    other.release()


def test_a_duplicate_delivery_ending_first_leaves_the_running_scans_turn(client):
    """Two deliveries of one scan run at once (a redelivery while the first still runs): the one that ends
    first gave the organization's turn back while the other still ran, and another of its scans started
    past the cap."""
    user = register_user(client)
    first, duplicate, next_scan = (
        Slot("scans-running", token="dup"),
        Slot("scans-running", token="dup"),
        Slot("scans-running", token="next"),
    )
    try:
        assert first.take(user.org_id, 1, 60)
        assert duplicate.take(user.org_id, 1, 60)
        duplicate.release()
        first.renew(60)  # its heartbeat goes on
        assert not next_scan.take(user.org_id, 1, 60)
    finally:
        first.release()
    assert next_scan.take(user.org_id, 1, 60)
    next_scan.release()


def test_a_renewed_turn_lives_as_long_as_its_lease(client):
    """A running scan renews its lease every beat, but the keys holding it kept the expiry of the first
    take: 61 seconds into any scan Redis dropped them, and the organization's next scan ran past its cap."""
    user = register_user(client)
    running = Slot("scans-running", token="long")
    key = f"trusera:slots:scans-running:{user.org_id}"
    try:
        assert running.take(user.org_id, 1, 60)
        running.renew(600)  # the first take's expiry (61 s) must no longer end it
        assert get_redis().ttl(key) > 500
        assert get_redis().ttl(f"{key}:holders:long") > 500
    finally:
        running.release()
    assert not get_redis().exists(key, f"{key}:holders:long")


def test_an_n8n_tarpit_scan_fails_at_its_deadline(client, make_user, tarpit, settings_env):
    settings_env(N8N_SCAN_DEADLINE_SECONDS="2")
    user = make_user()
    scan = wait_for_scan(client, user, _n8n_scan(client, user, tarpit), timeout=30)
    assert scan["status"] == "failed"
    assert "deadline of 2 s (N8N_SCAN_DEADLINE_SECONDS)" in scan["error"]
    assert len(tarpit.requests) > 3  # it followed the tarpit's pages until the deadline


@pytest.mark.parametrize("value", ["0", "-1"])
def test_a_running_cap_that_would_run_no_scan_is_refused_at_start(monkeypatch, value):
    """``SCANS_RUNNING_PER_ORG=0`` would leave every scan queued, looking again every minute, for ever."""
    monkeypatch.setenv("SCANS_RUNNING_PER_ORG", value)
    with pytest.raises(InsecureConfiguration, match="SCANS_RUNNING_PER_ORG"):
        load_settings()
