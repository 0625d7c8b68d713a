"""Deleting an organization while a worker writes for one of its scans (its completion or failure, a
follow-up of the completion): the deletion locks the organization's row, then its scans; a worker
transaction that locked the scan first and then wrote a row referencing the organization (a result, a
run, a webhook event) deadlocked with it, and the deletion was answered 503. So did the reconciler and
the schedules dispatcher, and API requests that held a row the deletion cascades to (an invitation, an
SSO session) before writing one that references the organization (a membership, an API key).
Each such transaction is paused after its first locks until the deletion waits for a lock, then let
go: the deletion must wait for it (or it for the deletion), never both."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from common import jobs, schedule_owner
from common.db import session_scope
from common.models import Organization, Scan, ScanResultPayload, User
from common.models.base import utcnow
from common.models.compliance import EvaluationRun
from common.models.schedules import Schedule
from common.models.webhooks import Webhook
from tests.helpers import PAUSE_SECONDS, in_thread, paused_once, running_scan, wait_for, waits_for_a_lock
from web.api import auth, invitations
from web.core.database import db
from web.core.tokens import start_session
from workers import compliance, ingest, maintenance, schedules
from workers.base import Job, settle

API = "/api/v1"
NOTHING_EVALUATED = {"frameworks": [], "custom_rules": []}
EMPTY_RESULT = {"components": [], "relationships": [], "warnings": [], "files_scanned": 0}


def _team_with_running_scan(client, admin) -> tuple[str, str]:
    team = client.post(
        f"{API}/organizations",
        json={"name": "Doomed", "slug": f"doomed-{uuid.uuid4().hex[:8]}"},
        headers=admin.headers(),
    )
    assert team.status_code == 201, team.json
    return team.json["id"], running_scan(team.json["id"])


def _complete(scan_id: str) -> None:
    with session_scope() as session:
        jobs.complete(session.get(Scan, scan_id), summary={})


def _add_webhook(organization_id: str, event_type: str) -> None:
    with session_scope() as session:
        session.add(
            Webhook(
                organization_id=organization_id,
                url="https://hooks.example/scans",
                events=[event_type],
                secret_encrypted="unused",
            )
        )


def _store_paused_with_the_scan_locked(monkeypatch, scan_id, organization_id, reached, resume):
    """The evaluation's results stored: paused once it holds the scan, before it writes them."""
    _complete(scan_id)
    run_id, _ = compliance._start_automatic_run(scan_id)
    monkeypatch.setattr(compliance, "_live", paused_once(compliance._live, reached, resume))
    return lambda: compliance._store(run_id, scan_id, organization_id, NOTHING_EVALUATED, [])


def _run_started_paused_with_the_scan_locked(monkeypatch, scan_id, organization_id, reached, resume):
    """The scan's evaluation run created: paused once it holds the scan, before it writes the run."""
    _complete(scan_id)
    monkeypatch.setattr(compliance, "new_id", paused_once(compliance.new_id, reached, resume))
    return lambda: compliance._start_automatic_run(scan_id)


def _result_ingested_paused_with_the_scan_locked(monkeypatch, scan_id, organization_id, reached, resume):
    """The scan's result ingested while a webhook listens (the completion's event then references the
    organization): paused once it holds the scan, before it stores the result."""
    _add_webhook(organization_id, "scan.completed")
    with session_scope() as session:
        session.add(ScanResultPayload(scan_id=scan_id, payload=EMPTY_RESULT, components_checked=True))
    monkeypatch.setattr(ingest, "store_result", paused_once(ingest.store_result, reached, resume))
    return lambda: ingest.ingest_stored_result(scan_id)


def _scan_failed_paused_with_the_scan_locked(monkeypatch, scan_id, organization_id, reached, resume):
    """The scan failed while a webhook listens (its ``scan.failed`` event references the organization):
    paused once it holds the scan, before it writes the failure."""
    _add_webhook(organization_id, "scan.failed")
    fail = paused_once(lambda scan: jobs.fail(scan, "lost"), reached, resume)
    return lambda: settle(Scan, scan_id, fail)


def _silent_scan_failed_paused_with_the_scan_locked(monkeypatch, scan_id, organization_id, reached, resume):
    """The reconciler failing a scan whose worker went silent on its last attempt while a webhook listens
    (its ``scan.failed`` event references the organization): paused once it holds the scan, before it
    fails it."""
    _add_webhook(organization_id, "scan.failed")
    with session_scope() as session:
        scan = session.get(Scan, scan_id)
        scan.heartbeat_at = utcnow() - timedelta(hours=1)
        scan.attempts = jobs.MAX_ATTEMPTS
    monkeypatch.setattr(jobs, "fail", paused_once(jobs.fail, reached, resume))
    return lambda: maintenance._reconcile(Scan, timedelta(minutes=30))


@pytest.mark.parametrize(
    "worker_transaction",
    [
        _store_paused_with_the_scan_locked,
        _run_started_paused_with_the_scan_locked,
        _result_ingested_paused_with_the_scan_locked,
        _scan_failed_paused_with_the_scan_locked,
        _silent_scan_failed_paused_with_the_scan_locked,
    ],
)
def test_an_organization_is_deleted_while_a_worker_writes_for_its_scan(
    client, make_user, monkeypatch, worker_transaction
):
    admin = make_user()
    organization_id, scan_id = _team_with_running_scan(client, admin)
    reached, resume = threading.Event(), threading.Event()
    writer, written = in_thread(worker_transaction(monkeypatch, scan_id, organization_id, reached, resume))
    _delete_while_held(client, admin, organization_id, writer, reached, resume)
    assert "error" not in written, written
    with session_scope() as session:
        assert session.get(Organization, organization_id) is None
        assert session.get(Scan, scan_id) is None


def test_an_evaluation_whose_organization_was_deleted_meanwhile_ends_quietly(client, make_user, caplog):
    """Its run went with the scan: nothing to store, nothing to fail, no error logged for it."""
    admin = make_user()
    organization_id, scan_id = _team_with_running_scan(client, admin)
    _complete(scan_id)
    run_id, _ = compliance._start_automatic_run(scan_id)
    assert client.delete(f"{API}/organizations/{organization_id}", headers=admin.headers()).status_code == 204
    job = Job(model=EvaluationRun, row_id=run_id, organization_id=organization_id)
    compliance._run(job, run_id, scan_id)
    compliance._store(run_id, scan_id, organization_id, NOTHING_EVALUATED, [])
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


def test_an_organization_is_deleted_while_its_invitation_is_accepted(client, make_user, monkeypatch):
    """Accepting holds the invitation, then writes a membership that references the organization, whose
    deletion locks the organization and then its invitations."""
    admin, invitee = make_user(), make_user()
    organization_id, _scan_id = _team_with_running_scan(client, admin)
    invited = client.post(
        f"{API}/organizations/{organization_id}/members",
        json={"email": invitee.email, "role": "analyst"},
        headers=admin.headers(),
    )
    assert invited.status_code == 202, invited.json
    invitation_id = client.get(f"{API}/auth/invitations", headers=invitee.headers()).json["items"][0]["id"]
    reached, resume = threading.Event(), threading.Event()
    monkeypatch.setattr(
        invitations, "constant_time_equals", paused_once(invitations.constant_time_equals, reached, resume)
    )
    accepter, accepted = in_thread(
        lambda: client.post(
            f"{API}/auth/invitations/{invitation_id}/accept",
            json={"code": invited.json["invitation_code"]},
            headers=invitee.headers(),
        )
    )
    _delete_while_held(client, admin, organization_id, accepter, reached, resume)
    assert accepted["result"].status_code == 200, accepted["result"].json


def test_an_organization_is_deleted_while_its_sso_session_creates_an_api_key(
    app, client, make_user, monkeypatch
):
    """Creating a key holds the SSO session's row (deleted with its organization), then writes a key that
    references the organization."""
    admin = make_user()
    organization_id, _scan_id = _team_with_running_scan(client, admin)
    with app.app_context():
        tokens = start_session(
            db().get(User, admin.id), organization_id=organization_id, sso_signed_in_at=utcnow()
        )
        db().commit()
    reached, resume = threading.Event(), threading.Event()
    monkeypatch.setattr(auth, "_hold_live_session", _after(auth._hold_live_session, reached, resume))
    creator, created = in_thread(
        lambda: client.post(
            f"{API}/auth/api-key",
            json={"name": "ci"},
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
    )
    _delete_while_held(client, admin, organization_id, creator, reached, resume)
    assert created["result"].status_code in (201, 404), created["result"].json


def _delete_while_held(client, admin, organization_id, holder, reached, resume) -> None:
    """Delete the organization while ``holder``, a thread paused holding its row (``reached``), waits on
    ``resume``; let it go once the deletion waits for a lock, and expect the deletion to have succeeded."""
    assert reached.wait(PAUSE_SECONDS)
    deleter, deleted = in_thread(
        lambda: client.delete(f"{API}/organizations/{organization_id}", headers=admin.headers())
    )
    try:
        wait_for(lambda: waits_for_a_lock("DELETE FROM organizations"), timeout=PAUSE_SECONDS, interval=0.02)
    finally:
        resume.set()
    for thread in (holder, deleter):
        thread.join(PAUSE_SECONDS * 2)
    assert deleted["result"].status_code == 204, deleted["result"].json


def _after(function, reached: threading.Event, resume: threading.Event):
    """``function``, whose call signals ``reached`` and waits for ``resume`` once it returned."""

    def paused(*args, **kwargs):
        returned = function(*args, **kwargs)
        reached.set()
        assert resume.wait(PAUSE_SECONDS)
        return returned

    return paused


def test_an_organization_is_deleted_while_its_schedule_is_dispatched(
    client, make_user, monkeypatch, scan_root
):
    """The dispatcher holds the due schedules (deleted with their organization), then writes their scans,
    which reference it."""
    admin = make_user()
    organization_id, _scan_id = _team_with_running_scan(client, admin)
    (scan_root / "app.py").write_text("import openai\n")
    created = client.post(
        f"{API}/schedules",
        json={"name": "nightly", "target": str(scan_root), "cron": "0 9 * * *", "timezone": "UTC"},
        headers=admin.headers(organization_id),
    )
    assert created.status_code == 201, created.json
    due_at = utcnow() + timedelta(days=2)
    with session_scope() as session:  # only this schedule is due: the dispatcher serves every organization
        session.execute(update(Schedule).where(Schedule.id != created.json["id"]).values(enabled=False))
    reached, resume = threading.Event(), threading.Event()
    monkeypatch.setattr(
        schedule_owner, "pause_for_creator", paused_once(schedule_owner.pause_for_creator, reached, resume)
    )
    dispatcher, dispatched = in_thread(lambda: schedules.dispatch_due(now=due_at))
    _delete_while_held(client, admin, organization_id, dispatcher, reached, resume)
    assert "error" not in dispatched, dispatched
